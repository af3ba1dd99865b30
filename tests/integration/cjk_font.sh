#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The Japanese report needs a font with every glyph it prints: the font fontconfig
# matches for :lang=ja (what chromium and rrdtool's pango fall back to; Debian's
# fonts-ipafont-gothic, installed by scripts/install-deps.sh) must cover every
# character of every Japanese string the page and the graphs can print: the string
# literals with a Japanese character in cli/report_html.c, report.c, graph.c,
# rank_table.c, completeness.c and countries.c (country names, legends), and the text
# of the golden Japanese page. Skips (77) without fontconfig.
. "$(dirname "$0")/lib.sh"
tt_need fc-match fc-query
font=$(fc-match -f '%{file}' ':lang=ja')
[ -n "$font" ] && [ -f "$font" ] || tt_fail "fontconfig matches no font file for :lang=ja"
fc-match -f '%{lang}\n' ':lang=ja' | tr '|' '\n' | grep -qx ja ||
    tt_fail "fontconfig's best match for :lang=ja ($font) does not support Japanese: apt-get install fonts-ipafont-gothic (scripts/install-deps.sh)"
charset=$(fc-query -f '%{charset}\n' "$font" | head -1)
"$PY" - "$font" "$charset" "$TT_SRC" <<'PYEOF' || tt_fail "the Japanese font lacks glyphs the report prints"
import html, os, re, sys
font, charset, src = sys.argv[1], sys.argv[2], sys.argv[3]
cover = []
for r in charset.split():
    a, _, b = r.partition('-')
    cover.append((int(a, 16), int(b or a, 16)))
def covered(c):
    return any(a <= ord(c) <= b for a, b in cover)
def japanese(s):
    return any(0x3000 <= ord(c) <= 0x9fff or 0xff00 <= ord(c) <= 0xffef for c in s)
strings = []
for f in ('report_html.c', 'report.c', 'graph.c', 'rank_table.c', 'completeness.c', 'countries.c'):
    text = open(os.path.join(src, 'cli', f), encoding='utf-8').read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    strings += [s for s in re.findall(r'"((?:[^"\\\n]|\\.)*)"', text) if japanese(s)]
page = open(os.path.join(src, 'tests/golden/report/ja/index.html'), encoding='utf-8').read()
page = re.sub(r'<style>.*?</style>', '', page, flags=re.S)
strings += [html.unescape(t) for t in re.findall(r'>([^<]+)<', page) if japanese(t)]
chars = sorted({c for s in strings for c in s if not c.isspace() and ord(c) > 0x7e})
missing = [c for c in chars if not covered(c)]
print(f'# {font}: {len(strings)} Japanese strings, {len(chars)} distinct non-ASCII characters',
      file=sys.stderr)
if missing:
    print('missing:', ' '.join(f'{c} U+{ord(c):04X}' for c in missing), file=sys.stderr)
    sys.exit(1)
assert len(strings) > 100 and len(chars) > 200, (len(strings), len(chars))
PYEOF
tt_note "$font covers every character of the Japanese page and graphs"
