#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `teitend --read` is exactly-once (collector/ledger.c, the rollup plugin's
# replay skip). Truth: flowgen's --expect lines, compared with rollup.sqlite
# by ledger_check.py (every dim/key sum, every bucket committed once) and
# with `teiten rank`'s period total.
#  a. a file read twice is refused the second time (exit 3, a message naming
#     it and when it was read), also under another name; the others of the
#     same run are read; totals equal the truth once
#  b. --force reads it again and the store skips every bucket it holds
#  c. new files and files read again cannot share a run (exit 2, nothing read)
#  d. SIGKILL in the middle of a two-file run: the ledger says `reading`; a
#     resume with only one of the two is refused (exit 2, the batch named);
#     the same run again gives exactly the truth, skipping the buckets
#     committed before the kill and committing the rest; the ledger says done
#  e. a second --read on the same data-dir while one runs is refused (lock);
#     an unparsable ledger stops the run (exit 1, nothing counted)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rank_lib.sh"
tt_tmpdir
cd "$TT_TMP"
rank_geoip
rank_flowgen small 5 2019-01-02T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 3000 86400
rank_flowgen other 6 2019-01-05T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 2000 86400
# ~1440 buckets: long enough to be killed in the middle (a few seconds: every
# close writes stats.json); tail follows it in time
rank_flowgen big 9 2019-02-01T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 20000 432000
rank_flowgen tail 10 2019-02-06T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 2000 86400

state() { # DATA FILE: the ledger's state of FILE (by path)
    "$PY" - "$1/ingest-ledger.ini" "$(readlink -f "$2")" <<'PYEOF'
import configparser, sys
c = configparser.RawConfigParser(); c.read(sys.argv[1])
print(' '.join(c[g]['state'] + ':' + c[g].get('reads', '?') for g in c.sections() if c[g]['path'] == sys.argv[2]) or 'none')
PYEOF
}
buckets() { "$PY" -c 'import json,sys; print(len({json.loads(l)["start"] for l in open(sys.argv[1])}))' "$1"; }

# a. twice, then under another name, then with a new file
rank_conf a.conf "$TT_TMP/a" UTC s1
"$TEITEND" -c a.conf --read small.ipfix 2>a1.log || { cat a1.log >&2; tt_fail "first --read"; }
[ "$(state a small.ipfix)" = "done:1" ] || tt_fail "ledger after the first read: $(state a small.ipfix)"
rank_check a1 a small.jsonl
rc=0; "$TEITEND" -c a.conf --read small.ipfix 2>a2.log || rc=$?
[ $rc -eq 3 ] || { cat a2.log >&2; tt_fail "second --read of the same file: exit $rc, expected 3"; }
grep -q "$TT_TMP/small.ipfix: not read: already read whole (finished 20" a2.log ||
    { cat a2.log >&2; tt_fail "no clear refusal naming the file and when it was read"; }
rank_check a2 a small.jsonl
cp small.ipfix renamed.ipfix
rc=0; "$TEITEND" -c a.conf --read renamed.ipfix other.ipfix 2>a3.log || rc=$?
[ $rc -eq 3 ] || { cat a3.log >&2; tt_fail "renamed copy with a new file: exit $rc, expected 3"; }
grep -q "renamed.ipfix: not read: already read whole" a3.log || { cat a3.log >&2; tt_fail "renamed copy not refused"; }
[ "$(state a other.ipfix)" = "done:1" ] || tt_fail "the new file beside a refused one was not read"
rank_check a3 a small.jsonl other.jsonl

# b. --force: read again, every bucket skipped, still counted once
rc=0; "$TEITEND" -c a.conf --force --read small.ipfix 2>b.log || rc=$?
[ $rc -eq 0 ] || { cat b.log >&2; tt_fail "--force: exit $rc"; }
n=$(buckets small.jsonl)
grep -q "replay: skipped $n buckets already stored, committed 0 it lacked" b.log ||
    { cat b.log >&2; tt_fail "--force did not skip the $n buckets of the file"; }
[ "$(state a small.ipfix)" = "done:2" ] || tt_fail "ledger after --force: $(state a small.ipfix)"
rank_check b a small.jsonl other.jsonl

# c. a re-read and a new file in one run: refused as a whole
cp a/rollup.sqlite c.before
rc=0; "$TEITEND" -c a.conf --force --read small.ipfix tail.ipfix 2>c.log || rc=$?
[ $rc -eq 2 ] || { cat c.log >&2; tt_fail "--force with a new file: exit $rc, expected 2"; }
grep -q "tail.ipfix is new and .*small.ipfix is read again" c.log || { cat c.log >&2; tt_fail "no clear message"; }
[ "$(state a tail.ipfix)" = "none" ] || tt_fail "the refused run touched the ledger"
rank_check c a small.jsonl other.jsonl

# a ledger that cannot be parsed stops the run: starting over would count every file again
rank_conf f.conf "$TT_TMP/f" UTC s1
mkdir f
printf 'state=done\n[broken\n' >f/ingest-ledger.ini
rc=0; "$TEITEND" -c f.conf --read small.ipfix 2>f.log || rc=$?
[ $rc -eq 1 ] && grep -q "ingest-ledger.ini: .*repair it or move it away" f.log ||
    { cat f.log >&2; tt_fail "an unreadable ledger: exit $rc"; }
[ "$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from buckets").fetchone()[0])' f/rollup.sqlite)" = 0 ] ||
    tt_fail "a run with an unreadable ledger counted something"

# d. SIGKILL in the middle of `--read big.ipfix tail.ipfix`
rank_conf d.conf "$TT_TMP/d" UTC s1
"$TEITEND" -c d.conf --read big.ipfix tail.ipfix 2>d1.log &
pid=$!
TT_PIDS+=("$pid")
n=$(tt_wait_buckets d/rollup.sqlite 100 $pid)
kill -0 $pid 2>/dev/null || tt_skip "teitend finished before it could be killed ($n buckets)"
# e. the data-dir is taken while that run goes on
rc=0; "$TEITEND" -c d.conf --read small.ipfix 2>e.log || rc=$?
[ $rc -eq 1 ] && grep -q "data-dir .* is in use by another teitend (pid $pid;" e.log ||
    { cat e.log >&2; tt_fail "a second --read on a busy data-dir: exit $rc"; }
kill -KILL $pid
wait $pid 2>/dev/null || true
[ "$(state d big.ipfix)" = "reading:1" ] && [ "$(state d tail.ipfix)" = "reading:1" ] ||
    tt_fail "ledger after the kill: big $(state d big.ipfix), tail $(state d tail.ipfix)"
[ "$(state d small.ipfix)" = "none" ] || tt_fail "the locked-out run touched the ledger"
killed=$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from buckets").fetchone()[0])' d/rollup.sqlite)
total=$(( $(buckets big.jsonl) + $(buckets tail.jsonl) ))
[ "$killed" -gt 0 ] && [ "$killed" -lt "$total" ] || tt_fail "killed after $killed of $total buckets"
rc=0; "$TEITEND" -c d.conf --read big.ipfix 2>d2.log || rc=$?
[ $rc -eq 2 ] || { cat d2.log >&2; tt_fail "resume without the rest of the batch: exit $rc, expected 2"; }
grep -q "stopped while reading it with: .*big.ipfix .*tail.ipfix" d2.log || { cat d2.log >&2; tt_fail "the batch is not named"; }
"$TEITEND" -c d.conf --read big.ipfix tail.ipfix 2>d3.log || { cat d3.log >&2; tt_fail "resume failed"; }
grep -q "replay: skipped $killed buckets already stored, committed $((total - killed)) it lacked" d3.log ||
    { cat d3.log >&2; tt_fail "resume: expected $killed buckets skipped and $((total - killed)) committed"; }
[ "$(state d big.ipfix)" = "done:2" ] && [ "$(state d tail.ipfix)" = "done:2" ] ||
    tt_fail "ledger after the resume: big $(state d big.ipfix), tail $(state d tail.ipfix)"
rank_check d d big.jsonl tail.jsonl
tt_note "killed after $killed of $total buckets; the resume committed the other $((total - killed))"
