#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The stop's deadline (`stop-timeout`, docs/operations.md) with the writer stuck: rrdcached
# is SIGSTOPped before any flow arrives, so the writer sits in a 30 s wait on it while the
# whole scenario is received (reception never waits on the writer). Then SIGTERM with
# stop-timeout = 2:
#   - the daemon exits within the timeout (plus a margin for the process to end), having
#     logged its progress and journaled the RRD lines it could not send;
#   - nothing else is lost: writer_lost_jobs and writer_refused_jobs are 0 in the last
#     stats.json, and the rollups (local SQLite) hold the scenario: rank's total equals
#     flowgen's expectation.
# After SIGCONT, a new start (no traffic) replays the journal exactly once: total, every
# country and the busiest ports equal flowgen's truth step by step and day by day.
. "$(dirname "$0")/lib.sh"
tt_need rrdtool rrdcached
tt_tmpdir
cd "$TT_TMP"
CHECK="$TT_SRC/tests/integration/rrd_check.py"
GEN=(--seed 23 --flows 4000 --start 2019-05-01T00:00:00Z --duration 21600
     --ports "23/tcp:40,445/tcp:15,22/tcp:10,53/udp:5,icmp:5")
"$FLOWGEN" "${GEN[@]}" --out file:s.ipfix --expect expect.jsonl >/dev/null
grep -E '"dim": ?"(total|country)"|"key": ?"(23/tcp|445/tcp|22/tcp|53/udp|icmp)"' expect.jsonl >subset.jsonl
[ -s subset.jsonl ] || tt_fail "could not select the subset of the expectation"

tt_start_stuck_writer t.conf "stop-timeout = 2" "rcvbuf = 16M"
"$FLOWGEN" "${GEN[@]}" --out "udp://127.0.0.1:$PORT" --rate 20000 >/dev/null
tt_wait_stat data 'sum(x["observed"] for x in s["sensors"]) == 4000' ||
    { cat data/stats.json >&2; tt_fail "not every record arrived while rrdcached was stopped"; }

t0=$(date +%s.%N)
kill -TERM "$TT_DAEMON_PID"
wait "$TT_DAEMON_PID" && rc=0 || rc=$?
t1=$(date +%s.%N)
STOP_S=$("$PY" -c "print('%.2f' % ($t1 - $t0))")
tt_note "stop with rrdcached stopped and stop-timeout = 2: $STOP_S s"
[ "$rc" -eq 0 ] || { cat run.log >&2; tt_fail "teitend exited $rc"; }
# 2 s, plus what exiting takes on a loaded 2-CPU machine
"$PY" -c "import sys; sys.exit(0 if $t1 - $t0 < 3.5 else 1)" ||
    { tail -20 run.log >&2; tt_fail "the stop took $STOP_S s with stop-timeout = 2"; }
grep -q "stopping: stop-timeout is near" run.log || { cat run.log >&2; tt_fail "no journal warning at the deadline"; }
grep -q "stopping: [0-9]* writer jobs pending" run.log || { cat run.log >&2; tt_fail "no progress line"; }
[ -s data/rrd/.journal ] || { tail -20 run.log >&2; tt_fail "no journal after the deadline"; }
JOURNALED=$(wc -l <data/rrd/.journal)
tt_note "journal: $JOURNALED update lines"
"$PY" - data/stats.json <<'PYEOF' || tt_fail "the last stats.json shows a loss"
import json, sys
s = json.load(open(sys.argv[1]))
bad = {k: s[k] for k in ("writer_lost_jobs", "writer_refused_jobs", "writer_pending") if s[k] != 0}
if bad:
    sys.exit(f"last stats.json: {bad}")
PYEOF
tt_rank_total expect.jsonl data 2019Q2

# the next start replays the journal, once
kill -CONT "$CACHED_PID"
tt_replay_journal t.conf run2.log data "$JOURNALED"
tt_rrdcached_stop # flushes every file
"$PY" "$CHECK" data/rrd subset.jsonl s.ipfix 300 >check.out ||
    { head -20 check.out >&2; tt_fail "RRD files differ from the truth after the journal replay"; }
"$TEITEN" rank --data data --quarter 2019Q2 --format json >rank2.json
cmp -s <("$PY" -c "import json,sys; print(json.load(open('rank.json'))['total'])") \
    <("$PY" -c "import json,sys; print(json.load(open('rank2.json'))['total'])") ||
    tt_fail "the rollup total changed at the restart"
tt_note "journal replayed once: files equal the truth, rollups unchanged"
