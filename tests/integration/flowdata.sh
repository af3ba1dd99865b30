#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Every shared flow capture ($TT_FLOWDATA: vendor/, local-exporters/, darknet/,
# the two extra/ bundles unpacked here) replayed through one teitend, and each
# capture's decoded record count compared with tshark's count of the same bytes.
# The raw packet captures go through softflowd (-v 10) first; its export is
# kept as a pcap, so tshark counts exactly what teitend was sent. Each original
# exporter of each capture gets its own 127.0.0.N source (libfixbuf keys
# sessions by address, port and domain: a shared source would mix templates);
# the one sensor covers 127.0.0.0/8 and a darknet of everything, so no record
# is a leak and only decoding is under test. The IPFIX file goes through
# `teitend --read`. Captures libfixbuf cannot carry are asserted as such, with
# the reason (flowdata_replay.py KNOWN, docs/flowdata-coverage.md).
# Finally teitend must still be alive and count a fresh flowgen burst.
. "$(dirname "$0")/lib.sh"
[ -d "${TT_FLOWDATA:-}/vendor" ] || tt_skip "shared flowdata folder absent: ${TT_FLOWDATA:-unset}"
tt_need tshark editcap softflowd softflowctl
HELP="$(cd "$(dirname "$0")" && pwd)/flowdata_replay.py"
tt_tmpdir
cd "$TT_TMP"

mkdir -p extra work
for b in "$TT_FLOWDATA"/extra/*.tar.gz; do tar -xzf "$b" -C extra; done
"$PY" "$HELP" prepare --flowdata "$TT_FLOWDATA" --extra "$TT_TMP/extra" --tmp "$TT_TMP/work" \
    --plan plan.json

p4=$(tt_port udp) p9=$(tt_port udp) p5=$(tt_port udp) ps=$(tt_port udp)
cat >live.conf <<EOF
[collector]
listen = ipfix+udp://127.0.0.1:$p4; netflow9+udp://127.0.0.1:$p9; netflow5+udp://127.0.0.1:$p5; sflow+udp://127.0.0.1:$ps
data-dir = $TT_TMP/live
plugin-dir = $TT_PLUGIN_DIR

[sensor:all]
exporters = 127.0.0.0/8
darknet = 0.0.0.0/0; ::/0

[plugin:jsonl]
path = flows.jsonl
EOF
tt_start live.conf live.log
"$PY" "$HELP" replay --plan plan.json --ports "ipfix=$p4,v9=$p9,v5=$p5,sflow=$ps"
"$PY" "$HELP" wait --plan plan.json --pid "$TT_DAEMON_PID" --log live.log

# still alive and counting: a fresh burst from its own source must be counted in full
"$FLOWGEN" --seed 5 --flows 2000 --start "$(date -u +%s)" --duration 60 --dark 198.18.0.0/24 \
    --format ipfix --out "udp://127.0.0.1:$p4" --bind 127.0.0.250 --rate 50000 >/dev/null
kill -0 "$TT_DAEMON_PID" 2>/dev/null || tt_fail "teitend died during the replay"
for _ in $(seq 1 50); do
    kill -USR1 "$TT_DAEMON_PID"
    sleep 0.2
    grep -q '"exporter":"127.0.0.250:[0-9]*","transport":"ipfix+udp"[^}]*"records":2000,' live.log && break
done
grep -q '"exporter":"127.0.0.250:[0-9]*","transport":"ipfix+udp"[^}]*"records":2000,' live.log ||
    tt_fail "teitend did not count the final 2000-record flowgen burst"
tt_stop
[ -s live/stats.json ] || tt_fail "no stats.json after stop"
# every observed record reached the plugins once all buckets closed at stop
observed=$("$PY" -c 'import json,sys; print(sum(s["observed"] for s in json.load(open(sys.argv[1]))["sensors"]))' live/stats.json)
inplug=$(tt_jsonl_totals live/flows.jsonl | awk '$1 == "total" { print $3 }')
[ "$observed" = "${inplug:-0}" ] || tt_fail "sensor observed $observed records, jsonl totals $inplug"
tt_note "observed $observed records, jsonl agrees"

# the IPFIX file, read directly; tshark counts its messages wrapped into UDP frames
"$PY" - "$TT_FLOWDATA/vendor/ipfixcol2_example_flows.ipfix" ipfixfile.pcap plan-file.json "$HELP" <<'PYEOF'
import json, sys, os
sys.path.insert(0, os.path.dirname(sys.argv[4]))
import flowdata_pcap as fp
n = fp.ipfix_file_to_pcap(sys.argv[1], sys.argv[2])
c = {'name': 'vendor/ipfixcol2_example_flows.ipfix', 'vendor': 'CESNET ipfixcol2 example file',
     'kinds': {'ipfix file': n}, 'datagrams': n, 'tshark': fp.tshark_count(sys.argv[2], {4739: 'cflow'})[0],
     'labels': {'retired': ['file']}}
json.dump([c], open(sys.argv[3], 'w'))
PYEOF
sed -e "s|$TT_TMP/live|$TT_TMP/read|" live.conf >read.conf
"$TEITEND" -c read.conf --read "$TT_FLOWDATA/vendor/ipfixcol2_example_flows.ipfix" >read.log 2>&1 ||
    { cat read.log >&2; tt_fail "teitend --read failed on the IPFIX file"; }

"$PY" "$HELP" check --plan plan.json --stats live/stats.json >table.md || { cat table.md; exit 1; }
"$PY" "$HELP" check --plan plan-file.json --stats read/stats.json >>table.md || { cat table.md; exit 1; }
cat table.md >&2
tt_note "$(grep -c '^| [^c-]' table.md) captures decoded as tshark counts them (or as documented)"
