#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Failures reach the ledger (issue 12): in the middle of `teitend --read
# big.ipfix tail.ipfix` the rollup database becomes read-only and the total
# plugin's rrd/total.rrd is locked by another process. Root ignores file modes,
# so the database fault is `chattr +i` on rollup.sqlite and its WAL (writes
# through the open descriptors fail with EPERM: SQLite's "disk I/O error");
# skipped, saying so, where the file system or the user cannot set it. The RRD
# fault is a POSIX lock held on total.rrd (as `rrdtool tune` or a second
# daemon would: librrd's "could not lock RRD"); `chattr +i` on an RRD file
# librrd has mapped at that moment ends the process with SIGBUS instead.
#  - the run goes on, every commit and RRD step from then on fails and is reported
#    (tt_host.job_failed): exit 4, both files named on stderr, the ledger
#    keeps them `reading`, stats.json counts store_failures
#  - once the fault is gone, the same run again (replay mode) skips exactly
#    the buckets committed before the fault, commits the others, and the
#    database equals flowgen's truth, every bucket committed once (ledger_check.py)
#    and `teiten rank`'s total equals the truth's; total.rrd's daily sums equal
#    the truth's (the steps refused in the first run are stored, none twice);
#    the ledger says done
#  - a third read is refused as already read whole
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rank_lib.sh"
tt_tmpdir
cd "$TT_TMP"
command -v chattr >/dev/null || tt_skip "chattr (e2fsprogs) is not installed"
touch probe
chattr +i probe 2>/dev/null || tt_skip "chattr +i does not work here (not root, or the file system of $TT_TMP has no immutable flag)"
chattr -i probe
# never leave an immutable file behind: rm -rf would fail on it
trap 'chattr -i "$TT_TMP"/x/rollup.sqlite* 2>/dev/null
      if [ -z "${TT_KEEP:-}" ]; then tt_cleanup; else tt_cleanup_keep; fi' EXIT
rank_geoip
CHECK="$TT_SRC/tests/integration/ledger_check.py"
# ~1440 buckets: a few seconds, long enough to stop it in the middle; tail follows in time
rank_flowgen big 9 2019-02-01T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 20000 432000
rank_flowgen tail 10 2019-02-06T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 2000 86400
committed() { tt_buckets x/rollup.sqlite; }
state() { # FILE: the ledger's state of FILE (by path)
    "$PY" - x/ingest-ledger.ini "$(readlink -f "$1")" <<'PYEOF'
import configparser, sys
c = configparser.RawConfigParser(); c.read(sys.argv[1])
print(' '.join(c[g]['state'] + ':' + c[g].get('reads', '?') for g in c.sections() if c[g]['path'] == sys.argv[2]) or 'none')
PYEOF
}
buckets() { "$PY" -c 'import json,sys; print(len({json.loads(l)["start"] for l in open(sys.argv[1])}))' "$1"; }
total=$(( $(buckets big.jsonl) + $(buckets tail.jsonl) ))

rank_conf x.conf "$TT_TMP/x" UTC s1
printf '\n[plugin:total]\n' >>x.conf
# flows per UTC day in total.rrd (daily AVERAGE x 86400) against the truth's, Feb 1 to 6
rrd_days() {
    "$PY" - x/rrd/total.rrd big.jsonl tail.jsonl <<'PYEOF'
import collections, json, subprocess, sys
t0 = 1548979200  # 2019-02-01T00:00:00Z
want = collections.Counter()
for f in sys.argv[2:]:
    for l in open(f):
        o = json.loads(l)
        if o["dim"] == "total":
            want[(o["start"] - t0) // 86400] += o["flows"]
out = subprocess.run(["rrdtool", "fetch", sys.argv[1], "AVERAGE", "-r", "86400", "-s", str(t0),
                      "-e", str(t0 + 6 * 86400)], check=True, capture_output=True, text=True).stdout
names = out.split("\n")[0].split()
got = {}
for line in out.split("\n")[1:]:
    if ":" in line:
        t, vals = line.split(":", 1)
        d = (int(t) - 86400 - t0) // 86400  # a row is stamped with its end
        if 0 <= d < 6:
            v = vals.split()[names.index("flows")]
            got[d] = None if "nan" in v.lower() else round(float(v) * 86400)
bad = [(d, got.get(d), want[d]) for d in range(6) if got.get(d) != want[d]]
print("days", dict(sorted(got.items())), "differ (day, rrd, truth):", bad) if bad else print("6 days", sum(want.values()), "flows")
sys.exit(1 if bad else 0)
PYEOF
}
"$TEITEND" -c x.conf --read big.ipfix tail.ipfix 2>x1.log &
pid=$!
TT_PIDS+=("$pid")
n=0
for _ in $(seq 1 600); do
    n=$(committed)
    [ "$n" -ge 50 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
# stopped while the fault is set, so the run cannot end first
kill -STOP $pid 2>/dev/null || tt_skip "teitend finished before the fault could be set ($n buckets)"
chattr +i x/rollup.sqlite x/rollup.sqlite-wal || { kill -CONT $pid; tt_fail "chattr +i on the database"; }
# the lock holder waits for librrd's lock if the writer was stopped inside an update
"$PY" -c 'import fcntl, os, sys, time
f = open(sys.argv[1], "r+b")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.05)' x/rrd/total.rrd locked &
lockpid=$!
TT_PIDS+=("$lockpid")
for _ in $(seq 1 20); do [ -e locked ] && break; sleep 0.05; done
before=$(committed)
kill -CONT $pid
for _ in $(seq 1 200); do [ -e locked ] && break; sleep 0.05; done
[ -e locked ] || tt_fail "total.rrd could not be locked"
rc=0; wait $pid || rc=$?
rm -f locked
wait $lockpid || tt_fail "the lock holder failed"
TT_PIDS=()
[ $rc -eq 4 ] || { tail -30 x1.log >&2; tt_fail "--read with a read-only database: exit $rc, expected 4"; }
for f in big tail; do
    grep -q "teitend: $TT_TMP/$f.ipfix: not marked read in the ingest ledger" x1.log ||
        { tail -30 x1.log >&2; tt_fail "$f.ipfix is not named on stderr"; }
    [ "$(state $f.ipfix)" = "reading:1" ] || tt_fail "ledger after the failed run: $f $(state $f.ipfix)"
done
grep -q "store failure: rollup: .*rollup.sqlite: .*disk I/O error" x1.log ||
    { tail -30 x1.log >&2; tt_fail "the rolled-back commit is not named"; }
# RRD: the first refused line at a commit (when the writer's queue ran dry), then every
# later step of the file at rrd_update; which come among the first 20 depends on the
# writer's pace, so either counts here, and stats.json must count refused steps
grep -Eq "store failure: (rrd: [0-9]+ update line\(s\) refused at the commit|total: [0-9]+ of [0-9]+ RRD steps of bucket .* \(all sensors\) not stored: total.rrd: )" x1.log ||
    { tail -30 x1.log >&2; tt_fail "the refused RRD steps are not reported"; }
"$PY" -c 'import json,sys; n=json.load(open(sys.argv[1]))["rrd"]["refused"]; sys.exit(0 if n > 0 else 1)' x/stats.json ||
    tt_fail "stats.json: rrd.refused is 0"
grep -q "read the same file(s) again, in this order: $TT_TMP/big.ipfix $TT_TMP/tail.ipfix" x1.log ||
    { tail -30 x1.log >&2; tt_fail "no advice to read the same files again"; }
"$PY" -c 'import json,sys; n=json.load(open(sys.argv[1]))["store_failures"]; sys.exit(0 if n > 0 else 1)' x/stats.json ||
    tt_fail "stats.json: store_failures is 0"
chattr -i x/rollup.sqlite x/rollup.sqlite-wal
! rrd_days >x1.rrd || tt_fail "total.rrd already holds every day after the failed run"
kept=$(committed)
[ "$kept" -ge "$before" ] && [ "$kept" -lt "$total" ] ||
    tt_fail "committed before the fault: $kept (at the fault: $before) of $total buckets"
tt_note "fault set after $before of $total buckets; $kept committed in all, $(grep -c 'store failure: ' x1.log) failures named"

# the fault is gone; a part of the run alone is refused, naming the failure and the batch
rc=0; "$TEITEND" -c x.conf --read tail.ipfix 2>x15.log || rc=$?
[ $rc -eq 2 ] && grep -q "tail.ipfix: a run that started .* could not store all of it (.*) with: .*big.ipfix .*tail.ipfix" x15.log ||
    { cat x15.log >&2; tt_fail "a part of the failed run alone: exit $rc, expected 2 naming the failure"; }
# the same run again stores exactly what is missing
"$TEITEND" -c x.conf --read big.ipfix tail.ipfix 2>x2.log || { tail -30 x2.log >&2; tt_fail "second --read failed"; }
grep -q "replay: skipped $kept buckets already stored, committed $((total - kept)) it lacked" x2.log ||
    { tail -30 x2.log >&2; tt_fail "second --read: expected $kept buckets skipped and $((total - kept)) committed"; }
for f in big tail; do
    [ "$(state $f.ipfix)" = "done:2" ] || tt_fail "ledger after the second run: $f $(state $f.ipfix)"
done
"$PY" "$CHECK" x/rollup.sqlite big.jsonl tail.jsonl >x.check || tt_fail "rollup.sqlite differs from the truth"
want=$("$PY" -c 'import json,sys; print(sum(json.loads(l)["packets"] for f in sys.argv[1:] for l in open(f) if json.loads(l)["dim"]=="total"))' big.jsonl tail.jsonl)
got=$("$TEITEN" rank --data x --year 2019 --format json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["total"])')
[ "$got" = "$want" ] || tt_fail "teiten rank total $got, truth $want"
rrd_days >x2.rrd || tt_fail "total.rrd after the second run: $(cat x2.rrd)"
tt_note "second run: $(cat x.check), rank total $got = truth; total.rrd: $(cat x2.rrd)"

rc=0; "$TEITEND" -c x.conf --read big.ipfix 2>x3.log || rc=$?
[ $rc -eq 3 ] || { cat x3.log >&2; tt_fail "a third read: exit $rc, expected 3 (already read whole)"; }
