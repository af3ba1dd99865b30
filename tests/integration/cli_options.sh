#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# teiten's options, the same words in every subcommand:
#  1. `teiten --help` and each subcommand's --help equal tests/golden/cli/*.help
#     (TT_UPDATE_GOLDEN=1 rewrites them); --data, --metric, --tz, --lang, --services,
#     --format, --output and the period options are spelled alike wherever they exist;
#     the old spellings (graph --data-dir, --ds, -s) are absent from --help and still work,
#  2. an error is one line on stderr, names what is wrong and, for a mistyped name
#     (command, option, --format/--metric/--lang value, graph series), the nearest
#     valid one.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
GOLDEN="$TT_SRC/tests/golden/cli"
export LC_ALL=C

# 1. help
"$TEITEN" --help >teiten.help
for c in graph rank report stats; do "$TEITEN" $c --help >$c.help || tt_fail "$c --help"; done
if [ -n "${TT_UPDATE_GOLDEN:-}" ]; then
    cp teiten.help graph.help rank.help report.help stats.help "$GOLDEN/"
    tt_note "golden files rewritten"
fi
for f in teiten graph rank report stats; do
    diff -u "$GOLDEN/$f.help" $f.help >&2 || tt_fail "teiten $f --help differs from the golden file"
done
"$PY" - graph.help rank.help report.help stats.help <<'PYEOF' || tt_fail "the subcommands disagree"
import re, sys
opts = {}
for f in sys.argv[1:]:
    cmd = f.split('.')[0]
    for line in open(f):
        m = re.match(r'\s+(?:-(\w), )?--([\w-]+)(?:=(\S+))?', line)
        if m and m.group(2) != 'help':
            opts.setdefault(m.group(2), {})[cmd] = (m.group(1), m.group(3))
# every subcommand has --data (-d); old spellings are hidden
for cmd in ('graph', 'rank', 'report', 'stats'):
    assert opts['data'].get(cmd) == ('d', 'DIR'), (cmd, opts['data'])
for old in ('data-dir', 'ds', 'begin'):
    assert old not in opts, old
# an option that exists in several subcommands has the same short letter everywhere
for name, by in opts.items():
    shorts = {s for s, _ in by.values()}
    assert len(shorts) == 1, (name, by)
# and a short letter means one option everywhere
letters = {}
for name, by in opts.items():
    for s, _ in by.values():
        if s:
            letters.setdefault(s, set()).add(name)
assert all(len(v) == 1 for v in letters.values()), letters
for o in ('quarter', 'month', 'year', 'from', 'to', 'tz', 'metric', 'lang', 'services', 'output'):
    assert {'graph', 'rank', 'report'} <= set(opts[o]) or o == 'output', (o, opts[o])
print('options agree:', len(opts))
PYEOF

# the hidden spellings still parse (the error that follows is about the missing data, not the option)
mkdir -p data/rrd
"$TEITEN" graph --data-dir data --ds packets -s 0 -e 10 -o g.png total 2>old.err && tt_fail "graph on no data"
grep -q "no file data/rrd/total.rrd" old.err || { cat old.err >&2; tt_fail "graph --data-dir/--ds/-s not accepted"; }

# 2. errors: exit 2, one line, what is wrong and the nearest valid name
err() { # want cmd... : the command fails with status 2 and one stderr line containing want
    local want=$1 rc=0
    shift
    "$@" >out.txt 2>err.txt || rc=$?
    [ "$rc" -eq 2 ] || { cat err.txt >&2; tt_fail "$*: exit $rc, not 2"; }
    [ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt >&2; tt_fail "$*: not one line of error"; }
    grep -qF -- "$want" err.txt || { cat err.txt >&2; tt_fail "$*: no '$want' in the error"; }
    tt_note "$(cat err.txt)"
}
err "unknown command stat; did you mean stats?" "$TEITEN" stat
err "unknown command grahp; did you mean graph?" "$TEITEN" grahp
err "unknown option --data-dri; did you mean --data?" "$TEITEN" graph --data-dri x
err "unknown option --dat; did you mean --data?" "$TEITEN" stats --dat x
err "unknown option --quater; did you mean --quarter?" "$TEITEN" rank --data data --quater 2019Q1
err "unknown option --anotations; did you mean --annotations?" "$TEITEN" report --anotations x
err "--format jsno: unknown; did you mean json? (valid: text, csv, json or md)" \
    "$TEITEN" rank --data data --quarter 2019Q1 --format jsno
err "--format jsn: unknown; did you mean json?" "$TEITEN" stats --data data --format jsn
err "--metric packet: unknown; did you mean packets?" "$TEITEN" report --data data -o o --quarter 2019Q1 --metric packet
err "--lang jp: unknown; did you mean ja?" "$TEITEN" graph --data data -o g.png --quarter 2019Q1 --lang jp total
err "--by contry: unknown; did you mean country?" "$TEITEN" rank --data data --quarter 2019Q1 --by contry
err "--quarter 2019-Q1: expected YYYYQn, e.g. 2019Q1; did you mean 2019Q1?" \
    "$TEITEN" rank --data data --quarter 2019-Q1
err "--quarter 2019q1: expected YYYYQn, e.g. 2019Q1; did you mean 2019Q1?" \
    "$TEITEN" report --data data -o o --quarter 2019q1
err "--month 2019-3: expected YYYY-MM, e.g. 2019-03; did you mean 2019-03?" \
    "$TEITEN" rank --data data --month 2019-3
err "prot:23/tcp: unknown series \"prot\"; did you mean port:...?" \
    "$TEITEN" graph --data data -o g.png --start 0 --end 10 prot:23/tcp
err "port:23/tpc: expected port:N/tcp" "$TEITEN" graph --data data -o g.png --start 0 --end 10 port:23/tpc
err "need --data DIR" "$TEITEN" stats
err "need --output DIR" "$TEITEN" report --data data --quarter 2019Q1
printf '5555/tcp Android ADB\n99999/tcp nothing\n' >bad.tsv
err "bad.tsv:2: expected PORT/PROTO NAME" "$TEITEN" rank --data data --quarter 2019Q1 --services bad.tsv
# a missing file: named, plainly (no GLib quoting)
rc=0; "$TEITEN" stats --data nowhere 2>err.txt || rc=$?
[ $rc -eq 1 ] && [ "$(cat err.txt)" = "teiten stats: nowhere/stats.json: no such file (teitend writes it at every bucket close)" ] ||
    { cat err.txt >&2; tt_fail "stats on a missing file: $rc"; }
tt_note "errors: one line each, with the nearest valid name"
