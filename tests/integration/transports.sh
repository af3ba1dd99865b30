#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# One flowgen scenario, four ways in: IPFIX file (--read), IPFIX/UDP, IPFIX/TCP
# and NetFlow v9/UDP. Each run's jsonl must equal flowgen's exact expectation,
# bucket by bucket, so all four are identical to each other.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"

"$FLOWGEN" --seed 11 --flows 20000 --duration 7200 --leak-fraction 0.05 --dark6 2001:db8:dead::/48 \
    --sampling 1 --out file:scenario.ipfix --expect expect.jsonl >/dev/null
sort expect.jsonl >expect.sorted
[ -s expect.sorted ] || tt_fail "flowgen wrote no expectation"

check() { # name data-dir
    sort "$2/flows.jsonl" >"$1.sorted"
    if ! diff -q expect.sorted "$1.sorted" >/dev/null; then
        diff expect.sorted "$1.sorted" | head -20 >&2
        tt_fail "$1: jsonl differs from the scenario's truth"
    fi
    tt_note "$1: $(wc -l <"$1.sorted") lines equal the truth"
}

# --read
tt_conf read.conf "$TT_TMP/read" "ipfix+udp://127.0.0.1:1"
"$TEITEND" -c read.conf --read scenario.ipfix
check read read

for t in udp tcp v9; do
    case $t in
        udp) port=$(tt_port udp); listen="ipfix+udp://127.0.0.1:$port"; out="udp://127.0.0.1:$port"; fmt=ipfix ;;
        tcp) port=$(tt_port tcp); listen="ipfix+tcp://127.0.0.1:$port"; out="tcp://127.0.0.1:$port"; fmt=ipfix ;;
        v9) port=$(tt_port udp); listen="netflow9+udp://127.0.0.1:$port"; out="udp://127.0.0.1:$port"; fmt=v9 ;;
    esac
    tt_conf $t.conf "$TT_TMP/$t" "$listen"
    tt_start $t.conf $t.log
    "$FLOWGEN" --seed 11 --flows 20000 --duration 7200 --leak-fraction 0.05 \
        --dark6 2001:db8:dead::/48 --format $fmt --out "$out" --rate 100000 >/dev/null
    tt_wait_stat "$TT_TMP/$t" "sum(x['records'] for x in s['sensors']) >= 20000" ||
        tt_note "$t: stats did not reach 20000 records before stop"
    tt_stop
    check $t $t
done
tt_note "file, IPFIX/UDP, IPFIX/TCP and NetFlow v9 agree with the truth"
