#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Reception never waits on the writer (docs/operations.md): with rrdcached SIGSTOPped the
# writer sits in a 30 s wait at its first commit, and with `writer-backlog = 1M` its queue
# fills within the first hours of flow time. Every record must still be received and dispatched (the
# sockets keep being read), the jobs past the bound refused and counted (jobs and bytes,
# in stats.json and in losses[]), the backlog's peak held near the bound, and a warning
# logged. Then, with a sender still blasting, SIGTERM is acted on within a second and the
# daemon is gone within stop-timeout (plus the 2 s the stop may spend reading the sockets).
. "$(dirname "$0")/lib.sh"
tt_need rrdcached
tt_tmpdir
cd "$TT_TMP"
tt_start_stuck_writer b.conf "writer-backlog = 1M" "rcvbuf = 16M"
# four days of flow time: the writer commits its RRD lines only when its queue runs dry
# (then it blocks on the stopped rrdcached), so the jobs that pile up behind it are those
# of the buckets closed after that: 12 hours' worth no longer reached the bound
"$FLOWGEN" --seed 7 --flows 20000 --start 2019-05-01T00:00:00Z --duration 345600 \
    --out "udp://127.0.0.1:$PORT" --rate 20000 >/dev/null
tt_wait_stat data 'sum(x["observed"] for x in s["sensors"]) == 20000' ||
    { kill -CONT "$CACHED_PID"; cat data/stats.json >&2; tt_fail "reception stopped behind a stuck writer"; }
tt_wait_stat data 's["writer_refused_jobs"] > 0' ||
    { kill -CONT "$CACHED_PID"; cat data/stats.json >&2; tt_fail "no job refused past writer-backlog"; }
"$PY" - data/stats.json <<'PYEOF' || { kill -CONT "$CACHED_PID"; tt_fail "backlog counters wrong"; }
import json, sys
s = json.load(open(sys.argv[1]))
w = {k: v for k, v in s.items() if k.startswith("writer_")}
print("# " + ", ".join(f"{k}={v}" for k, v in sorted(w.items())), file=sys.stderr)
assert s["writer_backlog"] == 1 << 20, w
# every refused job counts its declared size: at least its own struct (a sparse bucket's
# snapshot is a few hundred bytes since it carries only what the bucket touched)
assert s["writer_refused_bytes"] >= s["writer_refused_jobs"] * 64, w
# the bound holds, give or take the core's own never-refused jobs (stats, self RRD)
assert s["writer_peak_bytes"] <= (1 << 20) + 256 * 1024, w
assert s["writer_stalls"] == 0, w
loss = [l for l in s.get("losses", []) if (l["scope"], l["name"], l["reason"]) == ("store", "writer", "refused")]
assert loss and loss[0]["count"] == s["writer_refused_jobs"], s.get("losses")
PYEOF
grep -q "writer backlog full" run.log || { kill -CONT "$CACHED_PID"; cat run.log >&2; tt_fail "no warning about refused jobs"; }
kill -CONT "$CACHED_PID"
tt_note "writer stuck, writer-backlog = 1M: every record received, refusals counted and logged"

# SIGTERM while a sender is still blasting: acted on within a second, stopped in stop-timeout
"$FLOWGEN" --seed 8 --flows 400000 --start 2019-05-02T00:00:00Z --duration 43200 \
    --out "udp://127.0.0.1:$PORT" --rate 100000 >/dev/null 2>&1 &
SENDER=$!
TT_PIDS+=("$SENDER")
sleep 1
t0=$(date +%s.%N)
kill -TERM "$TT_DAEMON_PID"
for _ in $(seq 1 200); do grep -q "stopping: closing every open bucket" run.log && break; sleep 0.01; done
t1=$(date +%s.%N)
for _ in $(seq 1 200); do kill -0 "$TT_DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
t2=$(date +%s.%N)
kill -0 "$TT_DAEMON_PID" 2>/dev/null && tt_fail "teitend still running 20 s after SIGTERM"
wait "$TT_DAEMON_PID" || tt_fail "teitend exited non-zero"
wait "$SENDER" 2>/dev/null || true
"$PY" -c "import sys; a, b = $t1 - $t0, $t2 - $t0; print('# SIGTERM under load: stopping after %.2f s, exited after %.2f s' % (a, b), file=sys.stderr); sys.exit(0 if a < 1.0 and b < 10 + 2 + 1 else 1)" ||
    { tail -5 run.log >&2; tt_fail "SIGTERM not acted on within 1 s, or the stop outlasted stop-timeout"; }
