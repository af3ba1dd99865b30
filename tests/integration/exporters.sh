#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Real exporters into teitend, checked against independent truth.
#
# A seeded scan capture (tests/data/make_scan_capture.py: IPv4 SYN scans, UDP
# probes, ICMP echo, SYN+ACK/RST backscatter and leaks to lit space, sources from
# the GeoIP test table, packet times in March 2019) is replayed by real flow
# exporters: softflowd (NetFlow v5, v9 and IPFIX, with sysUpTime-relative and
# absolute millisecond times) and pmacctd's nfprobe (v9, IPFIX). Each export
# goes to nfcapd, which repeats every datagram unchanged (-R) to teitend, so
# both collectors decode the very same stream. Per destination port key and per
# source country, teitend's jsonl totals (late lines included) must equal
# - the capture's truth for packets and bytes (written by the generator from
#   the packets themselves, and cross-checked here against tshark), and
# - nfdump's decode of the same stream for flows, packets and bytes (its
#   records summed per key, and `nfdump -s dstport` for TCP and UDP),
# and every bucket must lie in March 2019, the capture's time, not the host's.
# softflowd runs with -a (times from the capture) and once without it but with
# -A milli (absolute times survive); without either, its sysUpTime times are
# garbage for an old capture, and teitend must then refuse them as stamped after
# their message rather than let them move the watermark (checked for v5 and v9).
# Rejected: exporting twice, once per collector: a second replay is a second
# stream, and agreement on it would prove nothing about the first.
. "$(dirname "$0")/lib.sh"

tt_need softflowd softflowctl pmacctd nfcapd nfdump
tt_tmpdir
cd "$TT_TMP"

tt_geoip
"$PY" "$TT_SRC/tests/data/make_scan_capture.py" geo.tsv scan.pcap truth.json --packets 3000

# The generator's truth, recomputed from the pcap by tshark's dissectors.
if command -v tshark >/dev/null; then
    tshark -r scan.pcap -T fields -e ip.dst -e ip.proto -e tcp.dstport -e udp.dstport -e ip.len \
        2>/dev/null >tshark.txt
    "$PY" - truth.json tshark.txt <<'PYEOF' || tt_fail "capture truth differs from tshark"
import collections, ipaddress, json, sys
truth = json.load(open(sys.argv[1]))
port = collections.defaultdict(lambda: [0, 0])
for line in open(sys.argv[2]):
    dst, proto, tp, up, length = (line.rstrip('\n').split('\t') + [''] * 5)[:5]
    if ipaddress.ip_address(dst) not in ipaddress.ip_network('203.0.113.0/24'):
        continue
    key = {'1': 'icmp', '6': '%s/tcp' % tp, '17': '%s/udp' % up}[proto]
    port[key][0] += 1
    port[key][1] += int(length)
sys.exit(0 if dict(port) == truth['port'] else 1)
PYEOF
    tt_note "capture truth equals tshark's: $("$PY" -c 'import json; t = json.load(open("truth.json")); print("dark packets/bytes", *t["total"], "leaks", *t["leaks"])')"
fi

run_softflowd() { # DEST ARGS...
    local dest=$1; shift
    tt_softflowd scan.pcap -n "$dest" "$@"
    sent=$(sed -n 's/^Flows exported: [0-9]* (\([0-9]*\) records).*/\1/p' sf.log | tail -1)
    [ -n "$sent" ] || { cat sf.log >&2; tt_fail "softflowd reported no export"; }
}

# pmacctd exits at the end of the file (pcap_savefile_wait false) and its nfprobe
# plugin flushes every cached flow on the way out.
run_pmacctd() { # DEST VERSION
    cat >pm.conf <<EOF
daemonize: false
pcap_savefile: $PWD/scan.pcap
pcap_savefile_wait: false
plugins: nfprobe[np]
aggregate[np]: src_host, dst_host, src_port, dst_port, proto, tos
nfprobe_receiver[np]: $1
nfprobe_version[np]: $2
nfprobe_timeouts[np]: general=60:tcp=60:udp=60:icmp=60:maxlife=600:expint=10
logfile: $PWD/pm.log
EOF
    timeout 30 pmacctd -f pm.conf >pm.out 2>&1 || { cat pm.out pm.log >&2; tt_fail "pmacctd failed"; }
    sent=""
}

# wait_decoded LOG N: until teitend has decoded N records (refused ones included).
# stats.json is refreshed only when counted records move, so refused records are
# read from the stats teitend logs on SIGUSR1.
wait_decoded() {
    for _ in $(seq 1 50); do
        kill -USR1 "$TT_DAEMON_PID" 2>/dev/null || tt_fail "teitend died (see its log)"
        sleep 0.1
        "$PY" - "$1" "$2" <<'PYEOF' && return 0
import json, sys
text = open(sys.argv[1]).read()
at = text.rfind('stats: {')
s = json.JSONDecoder().raw_decode(text, at + 7)[0] if at >= 0 else {'exporters': []}
sys.exit(0 if sum(e['records'] for e in s['exporters']) >= int(sys.argv[2]) else 1)
PYEOF
    done
    return 1
}

# [check=unusable] run NAME SCHEME EXPORTER ARGS...
check=truth
run() {
    local name=$1 scheme=$2 started; shift 2
    started=$(date +%s)
    local nfport tport data="$TT_TMP/$name"
    nfport=$(tt_port udp)
    tport=$(tt_port udp)
    mkdir -p "$name.nf"
    tt_conf "$name.conf" "$data" "$scheme://127.0.0.1:$tport" "geoip = $TT_TMP/geo.mmdb"
    tt_start "$name.conf" "$name.log"
    nfcapd -w "$name.nf" -p "$nfport" -b 127.0.0.1 -R "127.0.0.1/$tport" -B 4194304 \
        >"$name.nfcapd.log" 2>&1 &
    local nfpid=$!
    TT_PIDS+=("$nfpid")
    for _ in $(seq 1 100); do grep -q "Startup" "$name.nfcapd.log" && break; sleep 0.05; done
    kill -0 $nfpid 2>/dev/null || { cat "$name.nfcapd.log" >&2; tt_fail "$name: nfcapd did not start"; }

    "$@" "127.0.0.1:$nfport"
    # loopback delivers at once; give nfcapd a moment to read and repeat its queue
    sleep 0.5
    kill -TERM $nfpid 2>/dev/null || true
    wait $nfpid || true
    local got
    got=$(sed -n "s/^Ident: .* Flows: \([0-9]*\),.*/\1/p" "$name.nfcapd.log" | tail -1)
    [ -n "$got" ] || { cat "$name.nfcapd.log" >&2; tt_fail "$name: nfcapd reported nothing"; }
    [ -z "$sent" ] || [ "$sent" = "$got" ] || tt_fail "$name: exporter sent $sent records, nfcapd got $got"
    wait_decoded "$name.log" "$got" || tt_note "$name: teitend did not reach $got records"
    tt_stop
    tt_jsonl_totals "$data/flows.jsonl" >"$name.totals"
    nfdump -R "$name.nf" -q -N -o 'fmt:%pr %sa %da %dp %pkt %byt' >"$name.nfdump"
    for p in tcp udp; do
        nfdump -R "$name.nf" -q -n 0 -s dstport/packets -o csv "proto $p and dst net 203.0.113.0/24" |
            sed -n "s/^[^,]*,[^,]*,[^,]*,[^,]*,\([0-9]*\),\([0-9]*\),[^,]*,\([0-9]*\),[^,]*,\([0-9]*\),.*/port \1\/$p \2 \3 \4/p"
    done >"$name.nfstat"
    local line
    if [ "$check" = unusable ]; then
        line=$("$PY" "$TT_SRC/tests/integration/exporters_compare.py" --unusable-times "$name" \
            "$data/stats.json" "$got" "$started") || {
            echo "$line" >&2
            tt_fail "$name: records lost, or a record from the future moved the watermark"
        }
        tt_note "$line"
        return 0
    fi
    line=$("$PY" "$TT_SRC/tests/integration/exporters_compare.py" "$name" truth.json geo.tsv \
        "$name.totals" "$name.nfdump" "$data/stats.json" "$name.nfstat" "$data/flows.jsonl") || {
        echo "$line" >&2
        tt_fail "$name: teitend differs from the truth or from nfdump"
    }
    tt_note "$line (exporter sent ${sent:-?}, nfcapd got $got)"
}

sf() { run_softflowd "${*: -1}" -v "${@:1:$#-1}"; }
pm() { run_pmacctd "$2" "$1"; }

run sf-v5 netflow5+udp sf 5 -a
run sf-v9 netflow9+udp sf 9 -a
run sf-v9-milli netflow9+udp sf 9 -a -A milli
run sf-v10 ipfix+udp sf 10 -a
run sf-v10-milli ipfix+udp sf 10 -a -A milli
# Without -a softflowd keeps the capture's times only where it sends them
# absolutely (-A); its sysUpTime-relative times are taken against its own start
# on the host clock, which for a 2019 capture is garbage (nfdump shows dates
# weeks away from both 2019 and now).
run sf-v10-milli-noadjust ipfix+udp sf 10 -A milli
check=unusable run sf-v5-noadjust netflow5+udp sf 5
check=unusable run sf-v9-noadjust netflow9+udp sf 9
run pm-v9 netflow9+udp pm 9
run pm-v10 ipfix+udp pm 10
tt_note "softflowd v5/v9/IPFIX and pmacct nfprobe v9/IPFIX agree with the capture and nfdump"
