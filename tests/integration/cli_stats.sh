#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `teiten stats` on the stats.json a live teitend wrote: flowgen sends 3000 records
# (10 % to lit space) over IPFIX/UDP to sensor tokyo-1, teitend stops, then
#  1. `--format json` prints the file byte for byte,
#  2. the tables hold the file's values (listener kernel drops and datagrams, the
#     exporter's messages and records, the sensor's records, observed, leaks and late,
#     the writer's and the RRD store's counters), with thousands separators,
#  3. the sensor names of the data suggest themselves: `rank --sensor tokyo1` and
#     `graph sensor:toky-1` name tokyo-1,
#  4. `teiten graph` draws it per hour with no SI prefix, in Japanese with --lang ja.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
PORT=$(tt_port udp)
cat >s.conf <<CONF
[collector]
listen = ipfix+udp://127.0.0.1:$PORT
data-dir = $TT_TMP/data
plugin-dir = $TT_PLUGIN_DIR

[sensor:tokyo-1]
exporters = 127.0.0.0/8
darknet = 203.0.113.0/24

[plugin:rollup]
[plugin:total]
CONF
tt_start s.conf d.log
"$FLOWGEN" --seed 7 --flows 3000 --duration 600 --start $(($(date +%s) - 900)) --leak-fraction 0.1 \
    --out "udp://127.0.0.1:$PORT" >/dev/null || tt_fail "flowgen"
tt_wait_stat data "s['records_in'] >= 3000" || tt_fail "teitend did not count 3000 records"
tt_stop

"$TEITEN" stats --data data --format json >stats.out || tt_fail "stats --format json"
cmp -s stats.out data/stats.json || tt_fail "--format json is not the file"
"$TEITEN" stats --data data >stats.txt || tt_fail "teiten stats"
cat stats.txt >&2
"$PY" - data/stats.json stats.txt <<'PYEOF' || tt_fail "the tables do not say what stats.json says"
import json, re, sys
s = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
sections = {}
cur = None
for line in text.splitlines():
    if line and not line.startswith(' '):
        cur = re.sub(r' \(.*', '', line); sections[cur] = []
    elif cur and line.strip():
        sections[cur].append(line.strip())
def n(v): return f'{v:,}'
def row(section, first):
    for l in sections[section]:
        cells = re.split(r'\s{2,}', l)
        if cells[0] == first:
            return cells
    raise AssertionError((section, first, sections[section]))
assert n(s['records_in']) in text.splitlines()[1], text.splitlines()[1]
head = re.split(r'\s{2,}', sections['Listeners'][0])
l = s['listeners'][0]
r = dict(zip(head, row('Listeners', l['listen'])))
assert r['kernel drops'] == n(l['kernel_drops']) and r['datagrams'] == n(l['datagrams']), r
head = re.split(r'\s{2,}', sections['Exporters'][0])
e = s['exporters'][0]
r = dict(zip(head, row('Exporters', e['exporter'])))
assert r['messages'] == n(e['messages']) and r['records'] == n(e['records']), r
assert r['seq lost'] == n(e['seq_lost']) and r['transport'] == e['transport'], r
head = re.split(r'\s{2,}', sections['Sensors'][0])
x = s['sensors'][0]
r = dict(zip(head, row('Sensors', 'tokyo-1')))
for k in ('records', 'observed', 'leaks', 'late'):
    assert r[k] == n(x[k]), (k, r, x)
assert x['records'] == 3000 and x['leaks'] > 0 and x['observed'] + x['leaks'] == 3000, x
assert row('Writer', 'peak jobs')[1] == n(s['writer_peak_jobs'])
assert row('RRD store', 'updates')[1] == n(s['rrd']['updates']) and s['rrd']['updates'] > 0
assert row('RRD store', 'files created')[1] == n(s['rrd']['created'])
assert 'Losses' in sections
print('stats tables agree with stats.json')
PYEOF

# 3. sensor names from the data
rc=0; "$TEITEN" rank --data data --year $(date -u +%Y) --sensor tokyo1 2>err.txt || rc=$?
[ $rc -eq 2 ] && grep -qF -- "--sensor tokyo1: no such sensor in the rollup database; did you mean tokyo-1?" err.txt ||
    { cat err.txt >&2; tt_fail "rank --sensor tokyo1: $rc"; }
rc=0; "$TEITEN" graph --data data --start 0 --end 10 -o g.png sensor:toky-1 2>err.txt || rc=$?
[ $rc -eq 2 ] && grep -qF "did you mean sensor:tokyo-1?" err.txt || { cat err.txt >&2; tt_fail "graph sensor:toky-1: $rc"; }
tt_note "sensor names suggested from the data"

# 4. teiten graph on the same data: per hour (3000 records in 10 minutes), no SI prefix,
# numeric dates, and --lang ja's axis and legends
now=$(date +%s)
"$TEITEN" graph --data data --start $((now - 7200)) --end $now --print-command -o en.png total \
    sensor:tokyo-1 >en.txt || tt_fail "teiten graph"
grep -qF "'--vertical-label=packets per hour'" en.txt && grep -qF "'--units-exponent=0'" en.txt &&
    grep -qF "'LINE1:s1#ff7f0e:sensor tokyo-1'" en.txt || { cat en.txt >&2; tt_fail "graph: units or legends"; }
"$TEITEN" graph --data data --start $((now - 7200)) --end $now --print-command --lang ja -o ja.png \
    total sensor:tokyo-1 >ja.txt || tt_fail "teiten graph --lang ja"
grep -qF "'--vertical-label=パケット数 / 時'" ja.txt && grep -qF "'LINE1:s0#1f77b4:全体'" ja.txt &&
    grep -qF "'LINE1:s1#ff7f0e:センサー tokyo-1'" ja.txt && grep -qF "合計 %.0lf パケット" ja.txt ||
    { cat ja.txt >&2; tt_fail "graph --lang ja: not Japanese"; }
"$TEITEN" graph --data data --start $((now - 7200)) --end $now --per day --print-command -o d.png total |
    grep -qF "'--vertical-label=packets per day'" || tt_fail "graph --per day"
tt_note "graph: per hour, no SI prefix, Japanese with --lang ja"
