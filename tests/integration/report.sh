#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# teiten report, end to end. flowgen writes two quarters for two sensors
# (tokyo-1 unsampled; osaka-1 sampled 1-in-4 and silent for most of 2019Q1);
# teitend --read collects them with the rollup, port, country and total
# plugins; then:
#  1. the report's CSV, JSON and Markdown tables are byte for byte what
#     `teiten rank` prints for the same quarter,
#  2. the page's two tables hold the ranks, keys, values and previous ranks
#     rank_check.py computes from flowgen's --expect lines (independent),
#  3. every <img> is a PNG beside the page, drawn over the quarter (its size
#     and rrdtool's totals legend are checked), the annotation is shown,
#     osaka-1's outage days are listed, the sampling rates and GeoIP type named,
#  4. headless Chromium (no network) renders the page with both tables and
#     every image loaded (naturalWidth > 0), no script, and a non-blank
#     screenshot (> 20 % of pixels not the background),
#  5. the English page and --lang ja equal the golden pages (tests/golden/report/en and
#     ja; TT_UPDATE_GOLDEN=1 rewrites them), ja's ranks equal `teiten rank --lang ja`,
#  6. the graphs are drawn per hour or per day with no SI prefix (never "120 m"), the axis
#     says which, and on the Japanese page their titles, legends and axis are Japanese
#     (--print-command prints the rrdtool command of each),
#  7. the Notes name the GeoIP database, its build date, warn that it postdates the
#     traffic, and list every outage of every sensor; DATA/services.tsv and --services
#     rename ports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rank_lib.sh"
command -v chromium >/dev/null || tt_skip "chromium is not installed (apt-get install chromium)"
command -v file >/dev/null || tt_skip "file is not installed"
tt_tmpdir
cd "$TT_TMP"
GOLDEN="$TT_SRC/tests/golden/report"
rank_geoip
rank_flowgen q4 2018 2018-10-02T00:00:00Z "$RANK_Q4_PORTS" "$RANK_Q4_COUNTRIES" 12000
rank_flowgen q1 2019 2019-01-02T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 12000
rank_flowgen o4 2020 2018-11-10T00:00:00Z "$RANK_Q4_PORTS" "$RANK_Q4_COUNTRIES" 4000 86400 \
    --sampling 4 --sensor osaka-1
rank_flowgen o1 2021 2019-02-01T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 4000 86400 \
    --sampling 4 --sensor osaka-1
rank_conf a.conf "$TT_TMP/a" UTC tokyo-1
cat >>a.conf <<CONF
[plugin:port]
[plugin:country]
[plugin:total]

[sensor:osaka-1]
exporters = 10.0.0.1
darknet = 203.0.113.0/24
CONF
"$TEITEND" -c a.conf --read q4.ipfix q1.ipfix --sensor tokyo-1 2>read.log || { cat read.log >&2; tt_fail "teitend --read"; }
"$TEITEND" -c a.conf --read o4.ipfix o1.ipfix --sensor osaka-1 2>>read.log ||
    { cat read.log >&2; tt_fail "teitend --read osaka-1"; }
printf '# port: note\n52869/TCP: Realtek SDK UPnP, CVE-2014-8361, Mirai variants\n' >notes.txt
"$TEITEN" report --data a --quarter 2019Q1 -o out --annotations notes.txt --print-command \
    >report.out || tt_fail "teiten report"
[ "$(tail -1 report.out)" = "out/index.html" ] || tt_fail "last line is not index.html: $(cat report.out)"

# 1. the tables beside the page are teiten rank's
for by in port country; do
    name=$([ $by = port ] && echo ports || echo countries)
    for fmt in csv json md; do
        "$TEITEN" rank --data a --quarter 2019Q1 --by $by --top 10 --format $fmt >rank.$by.$fmt
        cmp -s rank.$by.$fmt out/$name.$fmt || { diff rank.$by.$fmt out/$name.$fmt >&2; tt_fail "$name.$fmt differs from teiten rank"; }
    done
done
tt_note "ports/countries .csv .json .md equal teiten rank"

# 2 + 3. the page against the truth, the images, the notes
for by in port country; do
    "$PY" "$TT_SRC/tests/integration/rank_check.py" table --tz UTC --from 2019-01-01 \
        --to 2019-03-31 --prev-from 2018-10-01 --prev-to 2018-12-31 --by $by \
        q4.jsonl q1.jsonl o4.jsonl o1.jsonl >truth.$by
done
"$PY" - out truth.port truth.country <<'PYEOF' || tt_fail "the page does not say what the truth says"
import html.parser, json, os, re, subprocess, sys
out = sys.argv[1]
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.tables = {}; self.cur = None; self.imgs = []; self.scripts = 0
        self.row = None; self.text = []
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == 'table' and a.get('id'): self.cur = a['id']; self.tables[self.cur] = []
        if tag == 'tr' and self.cur and 'data-key' in a:
            self.row = [a['data-key'], int(a['data-value'])]; self.tables[self.cur].append(self.row)
        if tag == 'td' and self.row is not None: self.row.append('')
        if tag == 'img': self.imgs.append(a['src'])
        if tag == 'script': self.scripts += 1
    def handle_endtag(self, tag):
        if tag == 'table': self.cur = None
        if tag == 'tr': self.row = None
    def handle_data(self, d):
        self.text.append(d)
        if self.row is not None and len(self.row) > 2: self.row[-1] += d
p = P(); p.feed(open(os.path.join(out, 'index.html'), encoding='utf-8').read())
text = ''.join(p.text)
assert p.scripts == 0, 'the page has a script'
assert set(p.tables) == {'ports-table', 'countries-table'}, p.tables.keys()
for tid, truth in (('ports-table', sys.argv[2]), ('countries-table', sys.argv[3])):
    want = [json.loads(l) for l in open(truth)][:10]
    got = p.tables[tid]
    assert len(got) == len(want), (tid, len(got), len(want))
    for g, w in zip(got, want):
        # cells: rank, label, value, share, bar, previous rank, change[, note]
        rank, value, prev = int(g[2]), int(g[4].replace(',', '')), g[7].strip()
        assert (g[0], g[1], rank) == (w['key'], w['packets'], w['rank']), (tid, g, w)
        assert value == w['packets'], (tid, g, w)
        assert prev == (str(w['prev_rank']) if w['prev_rank'] else '–'), (tid, g, w)
        change = g[8]
        exp = 'new' if not w['prev_rank'] else 'up' if w['prev_rank'] > w['rank'] else 'down' if w['prev_rank'] < w['rank'] else 'same'
        assert exp in change, (tid, g, exp)
note = [r for r in p.tables['ports-table'] if r[0] == '52869/tcp']
assert note and 'CVE-2014-8361' in note[0][-1], note
assert len(p.imgs) >= 4 and {'ports.png', 'countries.png', 'total.png', 'sensor-osaka-1.png'} <= set(p.imgs), p.imgs
for img in p.imgs:
    f = os.path.join(out, img)
    kind = subprocess.run(['file', '-b', f], capture_output=True, text=True).stdout
    m = re.match(r'PNG image data, (\d+) x (\d+)', kind)
    assert m and int(m.group(1)) > 800 and int(m.group(2)) > 200, (img, kind)
# osaka-1 sent on 2019-02-01 only: every other day of the quarter is an outage
assert '2019-01-01 – 2019-01-31' in text and '2019-02-02 – 2019-03-31' in text, 'outages'
assert '1-in-4' in text and '1-in-1' in text, 'sampling rates'
assert 'teiten-test-country' in text or 'GeoIP' in text, 'GeoIP'
print('page ok:', len(p.imgs), 'images')
PYEOF
# the ports graph covers the quarter: rrdtool's legend total of 23/TCP equals the table's
"$PY" - out/ports.json a <<'PYEOF' || tt_fail "the ports graph does not span the quarter"
import json, subprocess, sys, calendar, datetime
t = json.load(open(sys.argv[1]))
row = t['rows'][0]
start = calendar.timegm(datetime.date(2019, 1, 1).timetuple())
end = calendar.timegm(datetime.date(2019, 4, 1).timetuple())
f = f"{sys.argv[2]}/rrd/port/{row['key'].split('/')[1]}/{row['key'].split('/')[0]}.rrd"
out = subprocess.run(['rrdtool', 'graph', '/dev/null', f'--start={start}', f'--end={end}',
                      f'DEF:a={f}:packets:AVERAGE', 'VDEF:t=a,TOTAL', 'PRINT:t:%.0lf'],
                     capture_output=True, text=True, check=True).stdout.split()
got = float(out[-1])
# the hourly archive averages the steps: its total is exact to rounding
assert abs(got - row['packets']) <= 0.01 * row['packets'], (got, row['packets'])
print('graph total', got, 'table', row['packets'])
PYEOF

# 4. what a browser shows
"$PY" "$TT_SRC/tests/integration/report_browser.py" "file://$TT_TMP/out/index.html" shot.png \
    >browser.json || tt_fail "chromium could not render the page"
"$PY" - browser.json <<'PYEOF' || tt_fail "the rendered page is wrong: $(cat browser.json)"
import json, sys
b = json.load(open(sys.argv[1]))
assert b['tables'] == ['ports-table', 'countries-table'], b['tables']
assert len(b['images']) >= 4 and all(c and w > 0 for _, c, w in b['images']), b['images']
assert b['scripts'] == 0 and b['nonblank'] > 0.2, b
PYEOF
tt_note "chromium: $(cat browser.json)"

# 5. Japanese: golden, and the same ranks as teiten rank --lang ja
"$TEITEN" report --data a --quarter 2019Q1 -o ja --lang ja --annotations notes.txt --print-command \
    >report.ja.out || tt_fail "teiten report --lang ja"
"$TEITEN" rank --data a --quarter 2019Q1 --top 10 --format csv --lang ja >rank.ja.csv
cmp -s rank.ja.csv ja/ports.csv || tt_fail "ja/ports.csv differs from teiten rank --lang ja"
grep -q '<html lang="ja">' ja/index.html && grep -q 'ダークネット観測レポート' ja/index.html &&
    grep -q 'ロシア' ja/index.html || tt_fail "the Japanese page is not Japanese"
if [ -n "${TT_UPDATE_GOLDEN:-}" ]; then
    mkdir -p "$GOLDEN/ja" "$GOLDEN/en"
    cp ja/index.html ja/ports.md ja/countries.csv "$GOLDEN/ja/"
    cp out/index.html out/ports.md out/countries.csv "$GOLDEN/en/"
    tt_note "golden files rewritten"
fi
for f in index.html ports.md countries.csv; do
    diff -u "$GOLDEN/ja/$f" "ja/$f" >&2 || tt_fail "ja/$f differs from the golden file"
    diff -u "$GOLDEN/en/$f" "out/$f" >&2 || tt_fail "out/$f (en) differs from the golden file"
done
tt_note "en and ja pages equal tests/golden/report/en and ja"

# 6. the graphs' units and words
"$PY" - report.out report.ja.out <<'PYEOF' || tt_fail "the graphs' units or words are wrong"
import shlex, sys
def graphs(path):
    out = []
    for line in open(path, encoding='utf-8'):
        if line.startswith('rrdtool '):
            a = shlex.split(line)
            opts = dict(x[2:].split('=', 1) for x in a if x.startswith('--') and '=' in x)
            legends = [x.split(':', 2)[2] for x in a if x.startswith(('LINE1:', 'AREA:'))]
            totals = [x.split(':', 2)[2] for x in a if x.startswith('GPRINT:')]
            out.append((a[2], opts, legends, totals, a))
    return out
en, ja = graphs(sys.argv[1]), graphs(sys.argv[2])
assert len(en) >= 4 and len(en) == len(ja), (len(en), len(ja))
for path, opts, legends, totals, a in en:
    assert '--units-exponent=0' in a, (path, 'SI prefixes allowed')
    assert opts['vertical-label'] in ('packets per hour', 'packets per day'), opts
    per = 3600 if opts['vertical-label'].endswith('hour') else 86400
    assert any(x.startswith('CDEF:') and x.endswith(f',{per},*') for x in a), (path, a)
def cjk(s): return any(ord(c) > 0x3000 for c in s)
for path, opts, legends, totals, a in ja:
    assert '--units-exponent=0' in a, path
    assert opts['vertical-label'] in ('パケット数 / 時', 'パケット数 / 日'), opts
    assert cjk(opts['title']), (path, opts['title'])
    assert all(cjk(t) for t in totals), (path, totals)
    if 'countries' in path or 'total' in path:
        assert all(cjk(l) for l in legends), (path, legends)
print('graphs: per', sorted({o['vertical-label'] for _, o, _, _, _ in en}), '; ja titles',
      [o['title'] for _, o, _, _, _ in ja][:2])
PYEOF

# 7. the notes
"$PY" - out/index.html ja/index.html <<'PYEOF' || tt_fail "the notes are incomplete"
import re, sys
for f in sys.argv[1:]:
    page = open(f, encoding='utf-8').read()
    notes = page[page.index('<section id="notes">'):]
    geo = re.findall(r'<li class="geoip">.*?</li>', notes)
    assert geo and all('teiten-test-country' in g or 'GeoIP' in g for g in geo), geo
    assert all(re.search(r'\d{4}-\d\d-\d\d \d\d:\d\d UTC', g) for g in geo), geo
    # the test database is built today; the traffic is of 2019: it postdates the period
    assert all('geoip-later' in g for g in geo), geo
    osaka = [l for l in re.findall(r'<li>.*?</li>', notes) if 'osaka-1' in l]
    assert osaka and '2019-01-01 – 2019-01-31' in osaka[0] and '2019-02-02 – 2019-03-31' in osaka[0], osaka
print('notes: GeoIP named and dated with the warning, every outage listed')
PYEOF
printf '# local names\n23/tcp\ttelnet (honeypot bait)\n' >a/services.tsv
"$TEITEN" rank --data a --quarter 2019Q1 --format csv >renamed.csv
grep -q "telnet (honeypot bait)" renamed.csv || tt_fail "DATA/services.tsv did not rename 23/tcp"
printf '445/tcp: SMB (EternalBlue)\n' >more.tsv
"$TEITEN" rank --data a --quarter 2019Q1 --format csv --services more.tsv >renamed2.csv
grep -q "SMB (EternalBlue)" renamed2.csv || tt_fail "--services did not rename 445/tcp"
rm a/services.tsv
tt_note "services: DATA/services.tsv and --services rename ports"
