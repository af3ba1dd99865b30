#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A journal full of file creations (what a stop leaves when its deadline falls while a
# whole port space is being created: TT-CREATE lines, docs/storage.md) must not hold the
# next start's reception: the journal is replayed on the writer thread.
#   - the daemon logs "receiving" before the replay ends, and counts the flows sent while
#     it runs;
#   - the replay ends with every file created and no journal left;
#   - a SIGTERM in the middle of a second such replay (stop-timeout = 1) leaves, between
#     the files created and the TT-CREATE lines journaled again, every file exactly once,
#     also the files that flows reached while their creation was still queued (no line
#     journaled twice); the next start finishes the job: every file created once over the
#     two starts, and those flows stored exactly (rrd_check.py against flowgen's truth).
# No timing is asserted but the order of the log lines and the stop's own deadline.
. "$(dirname "$0")/lib.sh"
tt_need rrdtool rrdcached
tt_tmpdir
cd "$TT_TMP"
export N=${TT_JOURNAL_CREATES:-3000}
# the replay the stop interrupts must outlast the start, the flows and the stop's 0.5 s
N2=${TT_JOURNAL_CREATES2:-8000}
SOCK="$TT_TMP/rrdcached.sock"
tt_rrdcached "$SOCK"
PORT=$(tt_port udp)
# the stops that must leave no journal have the default stop-timeout (10 s: a loaded machine
# needs it); the one that must fall mid-replay has 1 s
tt_rrd_conf t.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$PORT" "rrdcached = unix:$SOCK"
sed 's/^\[collector\]$/[collector]\nstop-timeout = 1/' t.conf >quick.conf
DAY=1556668800 # 2019-05-01, midnight UTC
# journal_of FIRST: N TT-CREATE lines for udp ports FIRST..FIRST+N-1 (kind 0: a port file)
journal_of() {
    mkdir -p data/rrd
    "$PY" -c "import sys
for p in range($1, $1 + ${2:-$N}): print('TT-CREATE 0 $DAY port/udp/%d.rrd' % p)" >data/rrd/.journal
}
created() { ls data/rrd/port/udp 2>/dev/null | grep -c '\.rrd$' || true; }

journal_of 1000
tt_start t.conf run1.log
grep -q "replaying $N update lines journaled at the last stop ($N file creations" run1.log ||
    { cat run1.log >&2; tt_fail "the journal's creations were not announced"; }
"$FLOWGEN" --seed 5 --flows 500 --start 2019-05-01T00:00:00Z --duration 600 \
    --out "udp://127.0.0.1:$PORT" >/dev/null
tt_wait_stat data 'sum(x["observed"] for x in s["sensors"]) == 500' ||
    { cat data/stats.json >&2; tt_fail "flows sent while the journal was replayed were not received"; }
for _ in $(seq 1 $((1200 * TT_SCALE))); do
    grep -q "the journal is replayed" run1.log && break
    sleep 0.1
done
grep -q "the journal is replayed" run1.log || { tail run1.log >&2; tt_fail "the replay did not end"; }
# the order is the point: reception started before the creations ended
"$PY" - run1.log <<'PYEOF' || tt_fail "reception waited for the journal's file creations"
import sys
log = open(sys.argv[1]).read()
r, j = log.find("receiving"), log.find("the journal is replayed")
sys.exit(0 if 0 <= r < j else 1)
PYEOF
[ "$(created)" -ge "$N" ] || tt_fail "$(created) of $N journaled files created"
tt_stop
[ ! -e data/rrd/.journal ] || tt_fail "the journal is still there after its replay"
tt_note "$N journaled creations replayed behind reception"

# a stop in the middle of the replay: every file either created or journaled again, once,
# with flows to files whose creation is still queued when their buckets close at the stop
journal_of 20000 "$N2"
ls data/rrd/port/udp >before.txt # the first part's flows made some of these ports already
(cd data/rrd && find . -name '*.rrd' | sort) >files1.txt
# the journal's last 40 ports the first part did not make: created last by the replay
PORTS2=$("$PY" -c "
before = {l.strip() for l in open('before.txt')}
ports = [p for p in range(20000 + $N2 - 1, 20000, -1) if '%d.rrd' % p not in before][:40]
print(','.join('%d/udp:1' % p for p in ports))")
# two days after the first part's: past its fill to midnight in the total and country files
GEN2=(--seed 9 --flows 2000 --start 2019-05-03T00:00:00Z --duration 600 --ports "$PORTS2")
"$FLOWGEN" "${GEN2[@]}" --out file:s2.ipfix --expect expect2.jsonl >/dev/null
grep -E '"dim": ?"port"' expect2.jsonl >ports2.jsonl
tt_start quick.conf run2.log
"$FLOWGEN" "${GEN2[@]}" --out "udp://127.0.0.1:$PORT" >/dev/null
tt_wait_stat data 'sum(x["observed"] for x in s["sensors"]) == 2000' ||
    { cat data/stats.json >&2; tt_fail "the flows sent during the replay were not received"; }
kill -TERM "$TT_DAEMON_PID"
wait "$TT_DAEMON_PID" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || { tail run2.log >&2; tt_fail "teitend exited $rc"; }
CREATED2=$("$PY" -c "import json; print(json.load(open('data/stats.json'))['rrd']['created'])")
export N2 PORTS2
"$PY" - data <<'PYEOF' || tt_fail "a journaled creation was lost or doubled by the stop"
import os, sys
d = sys.argv[1]
n2 = int(os.environ["N2"])
before = {"port/udp/" + l.strip() for l in open("before.txt")}
want = {"port/udp/%d.rrd" % p for p in range(20000, 20000 + n2)}
want -= before
flows = {"port/udp/%s.rrd" % p.split("/")[0] for p in os.environ["PORTS2"].split(",")}
have = {"port/udp/" + f for f in os.listdir(d + "/rrd/port/udp") if f.endswith(".rrd")}
lines = []
if os.path.exists(d + "/rrd/.journal"):
    lines = [l.rstrip("\n") for l in open(d + "/rrd/.journal")]
if len(lines) != len(set(lines)):
    sys.exit("a line journaled twice")
again = [l.split()[3] for l in lines if l.startswith("TT-CREATE ")]
if len(again) != len(set(again)):
    sys.exit("a creation journaled twice")
missing = want - have - set(again)
twice = (want & have) & set(again)
print("# stopped mid-replay: %d created, %d journaled again (%d of the %d files with flows); "
      "%d lines journaled" % (len(want & have), len(again), len(flows & set(again)), len(flows),
                               len(lines)), file=sys.stderr)
if not flows & set(again):
    print("# the replay ended before the flows' buckets closed: the queued-creation case was "
          "not exercised (raise TT_JOURNAL_CREATES2)", file=sys.stderr)
sys.exit("missing %d, both created and journaled %d" % (len(missing), len(twice))
         if missing or twice else 0)
PYEOF
# the creations journaled again of files that do not exist (the first part made a few)
AGAIN=$("$PY" -c "import os
j = 'data/rrd/.journal'
print(sum(1 for l in (open(j) if os.path.exists(j) else []) if l.startswith('TT-CREATE ')
          and not os.path.exists('data/rrd/' + l.split()[3])))")
tt_start t.conf run3.log
for _ in $(seq 1 $((1200 * TT_SCALE))); do
    [ -e data/rrd/.journal ] || break
    sleep 0.1
done
tt_stop
[ ! -e data/rrd/.journal ] || tt_fail "the journal is still there after the third start"
CREATED3=$("$PY" -c "import json; print(json.load(open('data/stats.json'))['rrd']['created'])")
"$PY" -c "
import os, sys
have = {f for f in os.listdir('data/rrd/port/udp')}
sys.exit(0 if all('%d.rrd' % p in have for p in range(20000, 20000 + $N2)) else 1)" ||
    tt_fail "not every journaled file exists after the replay was resumed"
# every file made since the first part (the journal's, and the flows' country files) once
NEW=$(comm -13 files1.txt <(cd data/rrd && find . -name '*.rrd' | sort) | wc -l)
[ "$CREATED3" -eq "$AGAIN" ] && [ $((CREATED2 + CREATED3)) -eq "$NEW" ] ||
    tt_fail "files created: $CREATED2 at the stopped start, $CREATED3 at the next ($AGAIN journaled); $NEW new files"
tt_rrdcached_stop # flushes every file
"$PY" "$TT_SRC/tests/integration/rrd_check.py" data/rrd ports2.jsonl s2.ipfix 300 >check.out ||
    { head -20 check.out >&2; tt_fail "the flows to files whose creation was queued are not stored exactly"; }
tt_note "stopped replay resumed: $NEW files created once ($CREATED2 + $CREATED3), flows stored exactly"
