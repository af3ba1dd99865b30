#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# RRD archives end to end: a flowgen scenario spanning two UTC days (file
# mode, 2019 timestamps) goes through teitend --read with the port, country
# and total plugins; rrd_check.py then reads every file with plain
# `rrdtool fetch` and compares each step x step and each day x 86400 with the
# scenario's truth (idle steps must read 0, distinct sources must be exact).
# Runs: librrd directly; through a real rrdcached on a unix socket; through
# rrdcached again after teitend was SIGKILLed mid-file and the file read
# again from the start (no corruption, no double counting); the same kill in
# direct mode. Finally late records: a day read after the next day is counted
# as late in stats.json and leaves the files exact.
. "$(dirname "$0")/lib.sh"
tt_need rrdtool rrdcached
tt_tmpdir
cd "$TT_TMP"
CHECK="$TT_SRC/tests/integration/rrd_check.py"
PORTS="23/tcp:40,445/tcp:15,22/tcp:10,80/tcp:5,3389/tcp:5,8080/tcp:3,53/udp:5,123/udp:5,161/udp:2,icmp:5,icmp6:2"

"$FLOWGEN" --seed 21 --flows 20000 --start 2019-01-01T05:00:00Z --duration 151200 \
    --ports "$PORTS" --backscatter-fraction 0.01 --dark6 2001:db8:dead::/48 --out file:scenario.ipfix --expect expect.jsonl >/dev/null
[ -s expect.jsonl ] || tt_fail "flowgen wrote no expectation"

no_illegal() { # LOG...
    if grep -qi "illegal attempt" "$@"; then grep -i "illegal attempt" "$@" | head -3 >&2; tt_fail "illegal attempt to update logged"; fi
}

check() { # NAME DATA [--tolerate-librrd-shift]
    "$PY" "$CHECK" "$2/rrd" expect.jsonl scenario.ipfix 300 ${3:-} >"$1.check" 2>"$1.check.err" ||
        { head -20 "$1.check" >&2; cat "$1.check.err" >&2; tt_fail "$1: RRD files differ from the scenario's truth"; }
    if grep -q "KNOWN LIMITATION" "$1.check.err"; then
        tt_note "$1: $(grep "KNOWN LIMITATION" "$1.check.err" | sed 's/^# //')"
    else
        tt_note "$1: every step and every day equals the truth"
    fi
}

# 1. librrd directly
tt_rrd_conf direct.conf "$TT_TMP/direct" "ipfix+udp://127.0.0.1:1"
"$TEITEND" -c direct.conf --read scenario.ipfix 2>direct.log || { cat direct.log >&2; tt_fail "teitend --read failed"; }
no_illegal direct.log
check direct "$TT_TMP/direct"
nfiles=$(find direct/rrd -name '*.rrd' | wc -l)
[ "$nfiles" -gt 10 ] || tt_fail "only $nfiles RRD files written"
[ -f direct/rrd/sensor/s1/total.rrd ] || tt_fail "no per-sensor total"

# teiten graph: a valid PNG of the expected size, and the printed rrdtool command draws the same
"$TEITEN" graph -d direct --start 2019-01-01T00:00:00Z --end 2019-01-03T00:00:00Z --stacked \
    --width 600 --height 200 -o g.png --print-command port:23/tcp port:53/udp port:icmp country:ZZ \
    total >graph.out || tt_fail "teiten graph failed"
"$PY" - g.png <<'PYEOF' || tt_fail "teiten graph: not a PNG of the expected size"
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR", "not a PNG"
w, h = struct.unpack(">II", d[16:24])
# plot area 600x200 plus rrdtool's axes and a 5-line legend
assert 600 < w < 800 and 200 < h < 400, (w, h)
PYEOF
grep -q "23/TCP (telnet/Mirai)" graph.out || tt_fail "legend does not name 23/TCP (telnet/Mirai)"
eval "$(head -1 graph.out | sed 's| .g.png. | g2.png |')" >/dev/null
[ "$(file -b g2.png | cut -d, -f2)" = "$(file -b g.png | cut -d, -f2)" ] || tt_fail "rrdtool graph command draws another size"
"$TEITEN" graph -d direct --quarter 2019Q1 --format svg --ds sources -o g.svg total >/dev/null
grep -q "<svg" g.svg || tt_fail "no SVG"

# A second --read of the same file (--force: the ingest ledger refuses it otherwise) changes
# nothing in the RRD files (every step already stored).
cp direct/rrd/total.rrd total.before
"$TEITEND" -c direct.conf --read scenario.ipfix --force 2>direct2.log || { cat direct2.log >&2; tt_fail "teitend --read --force failed"; }
no_illegal direct2.log
cmp -s total.before direct/rrd/total.rrd || tt_fail "re-reading the same file changed total.rrd"
check direct-replay "$TT_TMP/direct"

# 2. through rrdcached on a unix socket
SOCK="$TT_TMP/rrdcached.sock"
tt_rrdcached "$SOCK"
tt_rrd_conf cached.conf "$TT_TMP/cached" "ipfix+udp://127.0.0.1:1" "rrdcached = unix:$SOCK"
"$TEITEND" -c cached.conf --read scenario.ipfix 2>cached.log || { cat cached.log >&2; tt_fail "teitend --read through rrdcached failed"; }
tt_rrdcached_stop # flushes everything it holds, as a clean stop does
no_illegal cached.log rrdcached.log
check rrdcached "$TT_TMP/cached"

# 3. SIGKILL mid-file, then the whole file again (through rrdcached, then directly)
kill_and_replay() { # NAME CONF DATA
    "$TEITEND" -c "$2" --read scenario.ipfix 2>"$1.kill.log" &
    local pid=$!
    for _ in $(seq 1 400); do
        [ -n "$(find "$3/rrd/port" -name '*.rrd' 2>/dev/null | head -1)" ] && break
        sleep 0.01
    done
    sleep 0.2
    local force=()
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # a kill can land on a run that had already finished (kill succeeds on a process not yet
    # reaped) or after its ledger said done: what decides is the ledger, not the kill
    if grep -q '^state=done' "$3/ingest-ledger.ini" 2>/dev/null; then
        # the ledger holds the file whole: read it again as a resumed replay would
        tt_note "$1: teitend finished before the kill: the second read uses --force"
        force=(--force)
    else
        tt_note "$1: teitend killed mid-file"
    fi
    [ -f "$3/rrd/.clock" ] && tt_note "$1: note: .clock exists (the kill came after the stop)"
    "$TEITEND" -c "$2" "${force[@]}" --read scenario.ipfix 2>"$1.replay.log" ||
        { cat "$1.replay.log" >&2; tt_fail "$1: replay failed"; }
}
tt_rrdcached "$SOCK"
tt_rrd_conf killc.conf "$TT_TMP/killc" "ipfix+udp://127.0.0.1:1" "rrdcached = unix:$SOCK"
kill_and_replay killc killc.conf "$TT_TMP/killc"
tt_rrdcached_stop # flushes everything it holds, as a clean stop does
no_illegal killc.kill.log killc.replay.log rrdcached.log
check rrdcached-sigkill "$TT_TMP/killc"

tt_rrd_conf killd.conf "$TT_TMP/killd" "ipfix+udp://127.0.0.1:1"
kill_and_replay killd killd.conf "$TT_TMP/killd"
no_illegal killd.kill.log killd.replay.log
# librrd's direct update is not atomic under SIGKILL (docs/security.md): a kill inside it
# may leave one file a row early after the replay; that exact signature is reported and
# accepted here, anything else fails (through rrdcached, above, nothing may differ)
check direct-sigkill "$TT_TMP/killd" --tolerate-librrd-shift

# 4. late records: day 2 first, then day 1 in the same run (grace 120 s)
"$FLOWGEN" --seed 22 --flows 3000 --start 2019-01-02T00:00:00Z --duration 86400 --ports "$PORTS" --backscatter-fraction 0 --dark6 2001:db8:dead::/48 \
    --out file:day2.ipfix --expect day2.jsonl >/dev/null
"$FLOWGEN" --seed 23 --flows 2000 --start 2019-01-01T00:00:00Z --duration 86400 --ports "$PORTS" --backscatter-fraction 0 --dark6 2001:db8:dead::/48 \
    --out file:day1.ipfix --expect day1.jsonl >/dev/null
tt_rrd_conf late.conf "$TT_TMP/late" "ipfix+udp://127.0.0.1:1"
"$TEITEND" -c late.conf --read day2.ipfix day1.ipfix 2>late.log || { cat late.log >&2; tt_fail "late run failed"; }
no_illegal late.log
"$PY" - late/stats.json <<'PYEOF' || tt_fail "late records not counted"
import json, sys
s = json.load(open(sys.argv[1]))
late = sum(x["late"] for x in s["sensors"])
if late != 2000:
    sys.exit("late = %d, want 2000 (every record of day 1)" % late)
PYEOF
"$PY" "$CHECK" late/rrd day2.jsonl day2.ipfix 300 >late.check ||
    { head -20 late.check >&2; tt_fail "late records broke the day-2 files"; }
tt_note "late: 2000 late records counted, day-2 files exact"
