# SPDX-License-Identifier: BSD-2-Clause
# Shared by the rank*.sh tests (sourced after lib.sh): the TSUBAME-shaped
# scenario and a collector configuration with the rollup plugin.
#
# The weights make JPCERT/CC's 2019Q1 table come out with wide margins
# (published: 23/TCP 1 (1), 445/TCP 2 (2), 52869/TCP 3 (6), 1433/TCP 4 (3),
# 22/TCP 5 (5); Russia 1 (1), United States 2 (2), China 3 (3), Netherlands
# 4 (5), Ukraine 5 (4)): neighbours differ by >= 30 % of a rank's flows, so
# the order never depends on the seed's luck. The expected ranks are still
# computed from flowgen's --expect lines by rank_check.py, not from these.
RANK_Q4_PORTS=23/tcp:30,445/tcp:20,1433/tcp:14,80/tcp:10,22/tcp:7,52869/tcp:4,8080/tcp:3,53/udp:2,icmp:2,tail:2
RANK_Q4_COUNTRIES=RU:30,US:22,CN:16,UA:11,NL:8,DE:5,JP:3,ZZ:3
RANK_Q1_PORTS=23/tcp:30,445/tcp:20,52869/tcp:14,1433/tcp:10,22/tcp:7,80/tcp:4,8080/tcp:3,53/udp:2,icmp:2,tail:2
RANK_Q1_COUNTRIES=RU:30,US:22,CN:16,NL:11,UA:8,DE:5,JP:3,ZZ:3

# rank_geoip: tiny GeoIP database + table in $TT_TMP (skips without the Perl module).
rank_geoip() { tt_geoip "$TT_TMP"; }

# rank_flowgen NAME SEED START PORTS COUNTRIES [FLOWS] [DURATION] [extra flowgen args...]
# writes $TT_TMP/NAME.ipfix and NAME.jsonl (the truth)
rank_flowgen() {
    local name=$1 seed=$2 start=$3 ports=$4 countries=$5 flows=${6:-30000} duration=${7:-172800}
    shift 7 2>/dev/null || shift $#
    "$FLOWGEN" --seed "$seed" --flows "$flows" --start "$start" --duration "$duration" \
        --geoip-table "$TT_TMP/geo.tsv" --backscatter-fraction 0.05 --ports "$ports" \
        --countries "$countries" --out "file:$TT_TMP/$name.ipfix" --expect "$TT_TMP/$name.jsonl" \
        "$@" >/dev/null || tt_fail "flowgen $name failed"
}

# rank_conf FILE DATA TZ SENSOR: --read configuration with the rollup plugin.
rank_conf() {
    cat >"$1" <<CONF
[collector]
listen = ipfix+udp://127.0.0.1:1
data-dir = $2
plugin-dir = $TT_PLUGIN_DIR
timezone = $3
geoip = $TT_TMP/geo.mmdb

[sensor:$4]
exporters = 127.0.0.0/8
darknet = 203.0.113.0/24

[plugin:rollup]
CONF
}

# rank_check NAME DATA TRUTH.jsonl...: DATA's rollup.sqlite equals the flowgen truths
# (ledger_check.py), and `teiten rank`'s 2019 total equals their packets
rank_check() {
    local name=$1 data=$2 want got; shift 2
    "$PY" "$TT_SRC/tests/integration/ledger_check.py" "$data/rollup.sqlite" "$@" >"$name.check" ||
        tt_fail "$name: rollup.sqlite differs from the truth"
    want=$("$PY" -c 'import json,sys; print(sum(json.loads(l)["packets"] for f in sys.argv[1:] for l in open(f) if json.loads(l)["dim"]=="total"))' "$@")
    got=$("$TEITEN" rank --data "$data" --year 2019 --format json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    [ "$got" = "$want" ] || tt_fail "$name: teiten rank total $got, truth $want"
    tt_note "$name: $(cat "$name.check"), rank total $got = truth"
}
