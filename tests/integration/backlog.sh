#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Reception never waits on the writer (docs/operations.md): with rrdcached SIGSTOPped the
# writer sits in a 30 s wait, and with `writer-backlog = 1M` its queue fills within the
# first minutes of flow time. Every record must still be received and dispatched (the
# sockets keep being read), the jobs past the bound refused and counted (jobs and bytes,
# in stats.json and in losses[]), the backlog's peak held near the bound, and a warning
# logged; after SIGCONT the daemon stops cleanly.
. "$(dirname "$0")/lib.sh"
command -v rrdcached >/dev/null || tt_skip "rrdcached not installed"
tt_tmpdir
cd "$TT_TMP"
SOCK="$TT_TMP/rrdcached.sock"
tt_rrdcached "$SOCK"
port=$(tt_port udp)
tt_rrd_conf b.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$port" "rrdcached = unix:$SOCK" \
    "writer-backlog = 1M" "rcvbuf = 16M"
printf '\n[plugin:rollup]\n' >>b.conf
tt_start b.conf run.log
kill -STOP "$CACHED_PID"
"$FLOWGEN" --seed 7 --flows 20000 --start 2019-05-01T00:00:00Z --duration 43200 \
    --out "udp://127.0.0.1:$port" --rate 20000 >/dev/null
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
assert s["writer_refused_bytes"] >= s["writer_refused_jobs"] * 1024, w
# the bound holds, give or take the core's own never-refused jobs (stats, self RRD)
assert s["writer_peak_bytes"] <= (1 << 20) + 256 * 1024, w
assert s["writer_stalls"] == 0, w
loss = [l for l in s.get("losses", []) if (l["scope"], l["name"], l["reason"]) == ("store", "writer", "refused")]
assert loss and loss[0]["count"] == s["writer_refused_jobs"], s.get("losses")
PYEOF
grep -q "writer backlog full" run.log || { kill -CONT "$CACHED_PID"; cat run.log >&2; tt_fail "no warning about refused jobs"; }
kill -CONT "$CACHED_PID"
tt_stop
tt_note "writer stuck, writer-backlog = 1M: every record received, refusals counted and logged"
