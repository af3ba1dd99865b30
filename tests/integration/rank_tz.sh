#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Quarters are cut at local midnight of the collector's zone. The same flows
# at 2019-03-31 15:30 UTC (2019-04-01 00:30 in Tokyo) count in 2019Q2 for a
# collector configured with timezone = Asia/Tokyo and in 2019Q1 for one in
# UTC; flows at 14:50 UTC (23:50 in Tokyo) stay in 2019Q1 for both. Totals are
# checked against rank_check.py's local-day sums of flowgen's truth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rank_lib.sh"
tt_tmpdir
cd "$TT_TMP"
rank_geoip
rank_flowgen late 1 2019-03-31T15:30:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 3000 600
rank_flowgen early 2 2019-03-31T14:50:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 2000 300
for tz in Asia/Tokyo UTC; do
    d=$(echo $tz | tr / _)
    rank_conf $d.conf "$TT_TMP/$d" $tz s1
    "$TEITEND" -c $d.conf --read early.ipfix late.ipfix 2>$d.log || { cat $d.log >&2; tt_fail "teitend ($tz)"; }
done
total() { "$TEITEN" rank --data "$1" --quarter "$2" --format json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
truth() { # zone from to
    "$PY" "$TT_SRC/tests/integration/rank_check.py" table --tz "$1" --from "$2" --to "$3" \
        --prev-from 1970-01-01 --prev-to 1970-01-01 --by port early.jsonl late.jsonl |
        "$PY" -c 'import json,sys; print(sum(json.loads(l)["packets"] for l in sys.stdin))'
}
late=$("$PY" -c 'import json; print(sum(json.loads(l)["packets"] for l in open("late.jsonl") if json.loads(l)["dim"]=="total"))')
early=$("$PY" -c 'import json; print(sum(json.loads(l)["packets"] for l in open("early.jsonl") if json.loads(l)["dim"]=="total"))')
[ "$late" -gt 0 ] && [ "$early" -gt 0 ] || tt_fail "empty scenario"
check() { # data quarter zone from to want
    local got want
    got=$(total "$1" "$2"); want=$(truth "$3" "$4" "$5")
    [ "$got" = "$want" ] || tt_fail "$1 $2: teiten $got packets, truth $want"
    [ "$got" = "$6" ] || tt_fail "$1 $2: $got packets, expected $6"
    tt_note "$1 $2: $got packets"
}
check Asia_Tokyo 2019Q1 Asia/Tokyo 2019-01-01 2019-03-31 "$early"
check Asia_Tokyo 2019Q2 Asia/Tokyo 2019-04-01 2019-06-30 "$late"
check UTC 2019Q1 UTC 2019-01-01 2019-03-31 $((early + late))
check UTC 2019Q2 UTC 2019-04-01 2019-06-30 0
"$TEITEN" rank --data Asia_Tokyo --quarter 2019Q2 --format json | grep -q '"tz":"Asia/Tokyo"' ||
    tt_fail "the report does not state the database's zone"
# a collector restarted with another zone must refuse the old database
rank_conf moved.conf "$TT_TMP/UTC" Asia/Tokyo s1
if "$TEITEND" -c moved.conf --read early.ipfix 2>moved.log; then
    tt_fail "a UTC rollup database was reopened in Asia/Tokyo"
fi
grep -q "time zone" moved.log || { cat moved.log >&2; tt_fail "no clear time-zone error"; }
tt_note "Asia/Tokyo puts 15:30 UTC on 2019-03-31 in 2019Q2, UTC in 2019Q1"
# teiten graph --quarter cuts the quarter as rank does: the seconds from local midnight of
# rank's first day to local midnight after its last, in the database's zone (it used UTC,
# 9 h off in Tokyo). A --tz other than the database's is refused, as by rank.
command -v rrdtool >/dev/null || tt_skip "no rrdtool to make the graph's file"
for tz in Asia/Tokyo UTC; do
    d=$(echo $tz | tr / _)
    mkdir -p $d/rrd
    rrdtool create $d/rrd/total.rrd --start 1540000000 --step 300 DS:packets:ABSOLUTE:600:0:U \
        DS:flows:ABSOLUTE:600:0:U RRA:AVERAGE:0.5:1:10
    want=$("$TEITEN" rank --data $d --quarter 2019Q1 --format json | "$PY" -c '
import datetime, json, sys, zoneinfo
r = json.load(sys.stdin)
z = zoneinfo.ZoneInfo(r["tz"])
day = lambda s: datetime.datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=z)
print("--start=%d --end=%d" % (day(r["from"]).timestamp(),
                               (day(r["to"]) + datetime.timedelta(days=1)).timestamp()))')
    got=$("$TEITEN" graph -d $d --quarter 2019Q1 --print-command -o $d.png total |
          grep -o -- "--start=[0-9]*' '--end=[0-9]*" | tr -d "'")
    [ "$got" = "$want" ] || tt_fail "graph $tz 2019Q1: $got, rank's range $want"
    tt_note "graph $tz 2019Q1: $got, as rank"
done
[ "$want" = "--start=1546300800 --end=1554076800" ] || tt_fail "UTC 2019Q1: $want"
if "$TEITEN" graph -d Asia_Tokyo --quarter 2019Q1 --tz UTC -o x.png total 2>tz.err; then
    tt_fail "graph --tz UTC accepted on a Tokyo database"
fi
grep -q "Asia/Tokyo" tz.err || { cat tz.err >&2; tt_fail "graph --tz: no clear error"; }
# "flows" says which count it is: the rank metric is records x sampling ("flows (est.)"),
# the RRD data source `flows` holds records as received ("flow records")
"$TEITEN" rank --data Asia_Tokyo --quarter 2019Q2 --metric flows | head -1 | grep -q "flows (est.)" ||
    tt_fail "rank --metric flows: no 'flows (est.)' heading"
"$TEITEN" rank --data Asia_Tokyo --quarter 2019Q2 --metric flows --format md | grep -q "| flows (est.) |" ||
    tt_fail "rank --metric flows --format md: no 'flows (est.)' heading"
"$TEITEN" rank --data Asia_Tokyo --quarter 2019Q2 --metric flows --lang ja | head -1 | grep -q "推定フロー数" ||
    tt_fail "rank --metric flows --lang ja: no 推定フロー数 heading"
"$TEITEN" graph -d Asia_Tokyo --quarter 2019Q1 --ds flows --print-command -o f.png total >f.txt
grep -qE "'--vertical-label=flow records per (hour|day)'" f.txt && grep -qF 'total %.0lf flow records' f.txt ||
    { cat f.txt >&2; tt_fail "graph --ds flows: not labelled 'flow records'"; }
tt_note "rank says flows (est.), graph says flow records"
