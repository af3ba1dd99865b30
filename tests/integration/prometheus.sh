#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The Prometheus text file teitend writes beside stats.json (prometheus-file, for
# node_exporter's textfile collector), from a real teitend receiving real traffic:
#  1. `prometheus-file` values: a name without .prom is refused naming the file, the
#     group and the key, so is a start whose file's directory cannot be written;
#     `none` writes no file; the default is DATA/teiten.prom;
#  2. a live teitend with the test GeoIP database, two sensors, an IPFIX/UDP and an
#     IPFIX/TCP listener: flowgen over TCP; flowgen's messages replayed over UDP
#     with one data message left out (a sequence gap) and one whose export time is
#     set 10 days back (its records are future_records); the file, at an absolute
#     path in a "textfile directory", parses with the Prometheus client's parser
#     while teitend runs, and no temporary file is left there;
#  3. after the stop, every sample equals the value stats.json holds, and every
#     number of stats.json has its sample (prometheus_check.py);
#  4. `promtool check metrics` passes it, when Debian's prometheus is installed.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
    tt_skip "python3-prometheus-client is not installed (Debian: apt-get install python3-prometheus-client)"
CHECK="$TT_SRC/tests/integration/prometheus_check.py"
VERSION=$("$TEITEND" --version | awk '{print $2}')

# ---- 1. the key ----------------------------------------------------------------
tt_conf k.conf "$TT_TMP/k" "ipfix+udp://127.0.0.1:$(tt_port udp)"
sed 's/^data-dir = .*/&\nprometheus-file = teiten.txt/' k.conf >bad.conf
if "$TEITEND" -c "$TT_TMP/bad.conf" --check-config >bad.out 2>&1; then
    tt_fail "prometheus-file = teiten.txt accepted"
fi
grep -q "bad.conf" bad.out && grep -qF "[collector]" bad.out && grep -qF "prometheus-file" bad.out &&
    grep -qF ".prom" bad.out || { cat bad.out >&2; tt_fail "the error does not name file, group and key"; }
# a directory that cannot be made: refused at the start, before any flow is accepted
tt_conf nodir.conf "$TT_TMP/nodir" "ipfix+udp://127.0.0.1:$(tt_port udp)" \
    "prometheus-file = $TT_TMP/no/such/dir/teiten.prom"
if "$TEITEND" -c "$TT_TMP/nodir.conf" -f >nodir.out 2>&1; then tt_fail "a start with no prometheus-file directory"; fi
grep -qF "nodir.conf: [collector] prometheus-file: $TT_TMP/no/such/ is not writable" nodir.out ||
    { cat nodir.out >&2; tt_fail "the refusal does not name file, group, key and directory"; }
port=$(tt_port udp)
tt_conf none.conf "$TT_TMP/none" "ipfix+udp://127.0.0.1:$port" "prometheus-file = none"
tt_start none.conf none.log
"$FLOWGEN" --seed 3 --flows 200 --duration 60 --start $(($(date +%s) - 120)) \
    --out "udp://127.0.0.1:$port" >/dev/null || tt_fail "flowgen"
tt_wait_stat none "s['records_in'] >= 200" || tt_fail "teitend did not count 200 records"
tt_stop
[ -z "$(ls "$TT_TMP/none" | grep prom)" ] || tt_fail "prometheus-file = none wrote $(ls "$TT_TMP/none")"
port=$(tt_port udp)
tt_conf default.conf "$TT_TMP/default" "ipfix+udp://127.0.0.1:$port"
tt_start default.conf default.log
tt_stop
[ -s default/teiten.prom ] || tt_fail "no DATA/teiten.prom by default"
"$PY" "$CHECK" default/stats.json default/teiten.prom "$VERSION" --final >&2 ||
    tt_fail "the default file differs from its stats.json"

# ---- 2. live ---------------------------------------------------------------------
tt_geoip
UDP=$(tt_port udp)
TCP=$(tt_port tcp)
mkdir textfile
tt_conf run.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$UDP; ipfix+tcp://127.0.0.1:$TCP" \
    "geoip = $TT_TMP/geo.mmdb" "prometheus-file = $TT_TMP/textfile/teiten.prom"
sed -i 's/^exporters = .*/exporters = 127.0.0.1/' run.conf
printf '\n[sensor:s2]\nexporters = 127.0.0.2\ndarknet = 203.0.113.0/24\n' >>run.conf
printf '\n[plugin:total]\n' >>run.conf
tt_start run.conf run.log
now=$(date +%s)
"$FLOWGEN" --seed 5 --flows 2000 --duration 600 --start $((now - 900)) --geoip-table geo.tsv \
    --out "tcp://127.0.0.1:$TCP" >/dev/null || tt_fail "flowgen over TCP"
"$FLOWGEN" --seed 7 --flows 3000 --duration 600 --start $((now - 900)) --leak-fraction 0.1 \
    --geoip-table geo.tsv --out "file:$TT_TMP/udp.ipfix" >/dev/null || tt_fail "flowgen to a file"
# the file's messages over UDP from 127.0.0.2 (sensor s2): message 100 left out, message 200
# exported "10 days before" its records
"$PY" - udp.ipfix "$UDP" <<'PYEOF' || tt_fail "the UDP replay"
import socket, struct, sys, time
data = open(sys.argv[1], 'rb').read()
msgs, off = [], 0
while off < len(data):
    length = struct.unpack('>H', data[off + 2:off + 4])[0]
    msgs.append(bytearray(data[off:off + length]))
    off += length
assert len(msgs) > 200, len(msgs)
t = struct.unpack('>I', msgs[200][4:8])[0]
msgs[200][4:8] = struct.pack('>I', t - 10 * 86400)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.2', 0))
for i, m in enumerate(msgs):
    if i != 100:
        s.sendto(m, ('127.0.0.1', int(sys.argv[2])))
    if i % 50 == 0:
        time.sleep(0.01)
PYEOF
tt_wait_stat data "sum(e['future_records'] for e in s['exporters']) > 0 and s['records_in'] >= 4500" ||
    { cat data/stats.json >&2; tt_fail "teitend did not count the replay's records"; }
for _ in 1 2 3; do
    "$PY" "$CHECK" data/stats.json textfile/teiten.prom "$VERSION" >&2 ||
        tt_fail "the file does not parse while teitend runs"
    sleep 0.3
done
tt_stop
[ "$(ls textfile)" = "teiten.prom" ] || tt_fail "the textfile directory holds $(ls textfile)"
[ ! -e data/teiten.prom ] || tt_fail "a DATA/teiten.prom too, beside the configured file"

# ---- 3. equal to stats.json ------------------------------------------------------------
"$PY" "$CHECK" data/stats.json textfile/teiten.prom "$VERSION" --final >&2 ||
    { cat textfile/teiten.prom >&2; tt_fail "the file differs from stats.json"; }
"$PY" - data/stats.json textfile/teiten.prom <<'PYEOF' || tt_fail "the losses are not in the file"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
s = json.load(open(sys.argv[1]))
f = {(x.name, tuple(sorted(x.labels.items()))): x.value
     for fam in text_string_to_metric_families(open(sys.argv[2]).read()) for x in fam.samples}
seq = f[('teiten_exporters_sequence_lost_total', ())]
fut = f[('teiten_exporters_future_records_total', ())]
assert seq > 0 and fut > 0, (seq, fut)
assert f[('teiten_records_total', (('sensor', 's1'),))] == 2000
assert f[('teiten_records_total', (('sensor', 's2'),))] > 0
drops = {dict(k[1])['listener'] for k in f if k[0] == 'teiten_kernel_drops_total'}
assert drops == {l['listen'] for l in s['listeners']} and len(drops) == 2, drops
assert any(k[0] == 'teiten_geoip_build_time_seconds' for k in f)
assert any(k[0] == 'teiten_loss_total' and ('reason', 'seq_lost') in k[1] for k in f)
print(f'# sequence lost {seq:.0f}, future records {fut:.0f}, {len(f)} samples', file=sys.stderr)
PYEOF

# ---- 4. promtool ----------------------------------------------------------------------
if command -v promtool >/dev/null; then
    promtool check metrics <textfile/teiten.prom >&2 || tt_fail "promtool check metrics"
    tt_note "promtool check metrics: OK"
fi
tt_note "prometheus: key checked, none and default, live parse, final file equals stats.json"
