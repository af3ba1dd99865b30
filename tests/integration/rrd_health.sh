#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The collector's own health (collector/health.c, docs/storage.md):
# 1. late records: day 2 of a flowgen scenario, then day 1 (teitend --read); every
#    observed record of day 1 is late. stats.json's late must equal flowgen's count of
#    day 1's observed records, and the self RRD (rrd/self/collector.rrd, summed with
#    plain `rrdtool fetch`) must hold the same late, records, observed and leaks.
# 2. writer lag, live over UDP through a real rrdcached that is SIGSTOPped: the writer
#    blocks on its first batch while a half-day scenario closes ~140 steps; the log must
#    warn (writer-lag-warn = 3), stats.json must count the warning; after SIGCONT the lag
#    must drain to 0 and every count must land (rrd_check.py against flowgen's truth).
. "$(dirname "$0")/lib.sh"
tt_need rrdtool rrdcached
tt_tmpdir
cd "$TT_TMP"
CHECK="$TT_SRC/tests/integration/rrd_check.py"
SELFSUM="$TT_SRC/tests/integration/rrd_selfsum.py"
PORTS="23/tcp:40,445/tcp:15,22/tcp:10,53/udp:5,icmp:5"

# 1. late records in stats.json and in the self RRD
"$FLOWGEN" --seed 31 --flows 3000 --start 2019-01-02T00:00:00Z --duration 86400 --ports "$PORTS" --backscatter-fraction 0 \
    --out file:day2.ipfix --expect day2.jsonl >/dev/null
"$FLOWGEN" --seed 32 --flows 2000 --start 2019-01-01T00:00:00Z --duration 86400 --ports "$PORTS" --backscatter-fraction 0 \
    --leak-fraction 0.1 --out file:day1.ipfix --expect day1.jsonl >/dev/null
tt_rrd_conf late.conf "$TT_TMP/late" "ipfix+udp://127.0.0.1:1" "writer-lag-warn = 3"
"$TEITEND" -c late.conf --read day2.ipfix day1.ipfix 2>late.log || { cat late.log >&2; tt_fail "late run failed"; }
[ -f late/rrd/self/collector.rrd ] || tt_fail "no self RRD"
"$PY" "$SELFSUM" late/rrd/self/collector.rrd 300 >late.self || tt_fail "self RRD unreadable"
"$PY" - late/stats.json late.self day1.jsonl.summary.json day2.jsonl.summary.json <<'PYEOF' || tt_fail "late records: stats.json, self RRD and flowgen disagree"
import json, sys
s = json.load(open(sys.argv[1]))
rrd = json.load(open(sys.argv[2]))
d1, d2 = json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
sens = s["sensors"][0]
want = {"records": d1["records"] + d2["records"], "observed": d1["observed"] + d2["observed"],
        "leaks": d1["leaks"] + d2["leaks"], "late": d1["observed"]}
got_stats = {"records": s["records_in"], "observed": sens["observed"], "leaks": sens["leaks"],
             "late": sens["late"]}
got_rrd = {k: rrd[k] for k in want}
assert got_stats == want, ("stats.json", got_stats, "flowgen", want)
assert got_rrd == want, ("self RRD", got_rrd, "flowgen", want)
assert s["rrd"]["created"] > 0 and s["rrd"]["updates"] > 0 and s["rrd"]["refused"] == 0, s["rrd"]
print("# late %d in stats.json and the self RRD; records %d, observed %d, leaks %d"
      % (want["late"], want["records"], want["observed"], want["leaks"]), file=sys.stderr)
PYEOF
"$PY" "$CHECK" late/rrd day2.jsonl day2.ipfix 300 >late.check ||
    { head -20 late.check >&2; tt_fail "late records broke the day-2 files"; }

# 2. writer lag: rrdcached stopped with SIGSTOP while buckets close
SOCK="$TT_TMP/rrdcached.sock"
tt_rrdcached "$SOCK"

"$FLOWGEN" --seed 33 --flows 20000 --start 2019-03-01T00:00:00Z --duration 43200 --ports "$PORTS" --backscatter-fraction 0 \
    --out file:lag.ipfix --expect lag.jsonl >/dev/null
PORT=$(tt_port udp)
tt_rrd_conf lag.conf "$TT_TMP/lag" "ipfix+udp://127.0.0.1:$PORT" "writer-lag-warn = 3" "rrdcached = unix:$SOCK"
tt_start lag.conf lag.log
kill -STOP "$CACHED_PID"
"$FLOWGEN" --seed 33 --flows 20000 --start 2019-03-01T00:00:00Z --duration 43200 --ports "$PORTS" --backscatter-fraction 0 \
    --out "udp://127.0.0.1:$PORT" --rate 20000 >/dev/null
for _ in $(seq 1 100); do grep -q "writer is .* steps behind" lag.log && break; sleep 0.1; done
grep -q "WARNING.*writer is .* steps behind" lag.log || { kill -CONT "$CACHED_PID"; cat lag.log >&2; tt_fail "no writer-lag warning while rrdcached was stopped"; }
tt_note "warned: $(grep -m1 'steps behind' lag.log | sed 's/.*WARNING[^:]*: //')"
sleep 1
kill -CONT "$CACHED_PID"
tt_wait_stat lag 's["writer_lag_warnings"] >= 1 and s["writer_lag_max"] > 3 and s["writer_lag_buckets"] == 0 and s["rrd"]["pending_lines"] == 0' ||
    { cat lag/stats.json >&2; tt_fail "writer lag: warning not counted, or the lag did not drain after SIGCONT"; }
tt_wait_stat lag 'sum(x["observed"] for x in s["sensors"]) == 20000' || tt_fail "not every record arrived"
tt_stop
tt_rrdcached_stop
"$PY" - lag/stats.json <<'PYEOF' || tt_fail "writer lag stats"
import json, sys
s = json.load(open(sys.argv[1]))
late = sum(x["late"] for x in s["sensors"])
assert late == 0, "late = %d: the test's stream must be in order" % late
assert s["rrd"]["daemon_errors"] == 0 and s["rrd"]["refused"] == 0, s["rrd"]
print("# writer lag max %d steps, %d warning(s); drained to 0"
      % (s["writer_lag_max"], s["writer_lag_warnings"]), file=sys.stderr)
PYEOF
"$PY" "$CHECK" lag/rrd lag.jsonl lag.ipfix 300 >lag.check ||
    { head -20 lag.check >&2; tt_fail "counts lost while the writer lagged"; }
tt_note "lag: every step of every file equals the truth after SIGCONT"
