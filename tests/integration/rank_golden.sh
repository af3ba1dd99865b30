#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The TSUBAME table from flows. flowgen writes 2018Q4 and 2019Q1 shaped like
# JPCERT/CC's 2019Q1 report; teitend --read rolls them up (UTC); then:
#  1. teiten rank reproduces the published ranks and previous ranks,
#  2. every rank, key, count and previous rank of the full table equals what
#     rank_check.py computes from flowgen's --expect lines (independent),
#  3. text, CSV, JSON, Markdown and Japanese output equal the golden files
#     (TT_UPDATE_GOLDEN=1 rewrites them),
#  4. two collectors' databases given as two --data are summed,
#  5. the distinct-source estimate is within 5 % of flowgen's exact count,
#  6. a --tz other than the database's zone is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rank_lib.sh"
tt_tmpdir
cd "$TT_TMP"
GOLDEN="$TT_SRC/tests/golden/rank"
rank_geoip
rank_flowgen q4 2018 2018-10-02T00:00:00Z "$RANK_Q4_PORTS" "$RANK_Q4_COUNTRIES"
rank_flowgen q1 2019 2019-01-02T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES"
rank_conf a.conf "$TT_TMP/a" UTC tokyo-1
"$TEITEND" -c a.conf --read q4.ipfix q1.ipfix 2>read.log || { cat read.log >&2; tt_fail "teitend --read"; }

# 1. the published table
"$TEITEN" rank --data a --quarter 2019Q1 --format json >port.json
"$TEITEN" rank --data a --quarter 2019Q1 --by country --format json >country.json
"$PY" - port.json country.json <<'PYEOF' || tt_fail "the published 2019Q1 table is not reproduced"
import json, sys
want = {'port': [('23/tcp', 1), ('445/tcp', 2), ('52869/tcp', 6), ('1433/tcp', 3), ('22/tcp', 5)],
        'country': [('RU', 1), ('US', 2), ('CN', 3), ('NL', 5), ('UA', 4)]}
for f in sys.argv[1:]:
    o = json.load(open(f))
    got = [(r['key'], r['prev_rank']) for r in o['rows']]
    if got != want[o['by']] or [r['rank'] for r in o['rows']] != [1, 2, 3, 4, 5]:
        sys.exit(f"{o['by']}: {got}")
    if o['period'] != '2019Q1' or o['previous'] != '2018Q4' or o['tz'] != 'UTC':
        sys.exit(f"header {o}")
PYEOF
tt_note "published 2019Q1 ranks reproduced (ports and countries)"

# 2. independent check, full depth, both dimensions and all three metrics
for by in port country; do
    for metric in packets flows bytes; do
        "$PY" "$TT_SRC/tests/integration/rank_check.py" table --tz UTC --from 2019-01-01 \
            --to 2019-03-31 --prev-from 2018-10-01 --prev-to 2018-12-31 --by $by --metric $metric \
            q4.jsonl q1.jsonl >truth.$by.$metric
        "$TEITEN" rank --data a --quarter 2019Q1 --by $by --metric $metric --top 1000000 \
            --format json >full.$by.$metric.json
        [ "$metric" = packets ] || sed -i 's/"metric":"[a-z]*"/"metric":"packets"/; s/"total":[0-9]*/"total":-1/' full.$by.$metric.json
        if [ "$metric" = packets ]; then
            "$PY" "$TT_SRC/tests/integration/rank_check.py" compare truth.$by.$metric full.$by.$metric.json ||
                tt_fail "$by/$metric: teiten's ranks differ from the truth"
        else
            "$PY" - truth.$by.$metric full.$by.$metric.json <<'PYEOF' || tt_fail "$by: ranks by another metric differ"
import json, sys
t = [json.loads(l) for l in open(sys.argv[1])]
g = json.load(open(sys.argv[2]))['rows']
k = lambda r: (r['rank'], r['key'], r['packets'], r['flows'], r['bytes'], r['prev_rank'])
sys.exit(0 if list(map(k, t)) == list(map(k, g)) else 1)
PYEOF
        fi
    done
    tt_note "$by: $(wc -l <truth.$by.packets) ranked keys equal the truth (packets, flows, bytes)"
done

# 3. golden files
for by in port country; do
    for fmt in text csv json md; do
        for lang in en ja; do
            [ $fmt = json ] && [ $lang = ja ] && continue
            out="$by.$fmt.$lang"
            "$TEITEN" rank --data a --quarter 2019Q1 --by $by --format $fmt --lang $lang >"$out"
            if [ -n "${TT_UPDATE_GOLDEN:-}" ]; then
                cp "$out" "$GOLDEN/$out"
            elif ! diff -u "$GOLDEN/$out" "$out" >&2; then
                tt_fail "$out differs from tests/golden/rank/$out"
            fi
        done
    done
done
tt_note "text, CSV, JSON, Markdown and Japanese equal the golden files"

# 4. two collectors summed: b reads another 2019Q1 scenario as another sensor
rank_flowgen q1b 77 2019-02-01T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 8000 86400
rank_conf b.conf "$TT_TMP/b" UTC osaka-1
"$TEITEND" -c b.conf --read q1b.ipfix 2>>read.log || tt_fail "teitend --read (b)"
for by in port country; do
    "$PY" "$TT_SRC/tests/integration/rank_check.py" table --tz UTC --from 2019-01-01 \
        --to 2019-03-31 --prev-from 2018-10-01 --prev-to 2018-12-31 --by $by \
        q4.jsonl q1.jsonl q1b.jsonl >truth.sum.$by
    "$TEITEN" rank --data a --data b --quarter 2019Q1 --by $by --top 1000000 --format json >sum.$by.json
    "$PY" "$TT_SRC/tests/integration/rank_check.py" compare truth.sum.$by sum.$by.json ||
        tt_fail "$by: --data a --data b is not the sum"
    # and --db FILE is the same as --data DIR
    "$TEITEN" rank --db a/rollup.sqlite --db b/rollup.sqlite --quarter 2019Q1 --by $by --top 1000000 \
        --format json | cmp -s - sum.$by.json || tt_fail "--db differs from --data"
done
"$TEITEN" rank --data a --data b --quarter 2019Q1 --sensor osaka-1 --top 1000000 --format json >osaka.json
"$PY" "$TT_SRC/tests/integration/rank_check.py" table --tz UTC --from 2019-01-01 --to 2019-03-31 \
    --prev-from 2018-10-01 --prev-to 2018-12-31 --by port q1b.jsonl >truth.osaka
"$PY" "$TT_SRC/tests/integration/rank_check.py" compare truth.osaka osaka.json ||
    tt_fail "--sensor osaka-1 is not that sensor's table"
tt_note "two --data (and --db) give the sum; --sensor selects one"

# 5. distinct sources: HLL estimate vs flowgen's exact count
"$PY" - country.json q1.jsonl.summary.json <<'PYEOF' || tt_fail "distinct-source estimate off by more than 5 %"
import json, sys
o = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
exact = s['distinct_sources']
assert abs(o['sources'] - exact) <= 0.05 * exact, (o['sources'], exact)
for r in o['rows']:
    e = s['per_country_sources'][r['key']]
    assert abs(r['sources'] - e) <= 0.05 * e + 2, (r['key'], r['sources'], e)
print(f"# sources: estimate {o['sources']}, exact {exact}", file=sys.stderr)
PYEOF

# 6. another zone is an error, never a shifted quarter
if "$TEITEN" rank --data a --quarter 2019Q1 --tz Asia/Tokyo >tz.out 2>tz.err; then
    tt_fail "--tz Asia/Tokyo on a UTC database was accepted"
fi
grep -q "UTC" tz.err || tt_fail "the --tz error does not name the database's zone"
"$TEITEN" rank --data a --quarter 2019Q1 --tz UTC >/dev/null || tt_fail "--tz UTC refused"
tt_note "--tz: the database's zone accepted, another refused"
