#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# flowgen_smoke.sh - flowgen is deterministic, its expectation is consistent,
# and what it sends decodes to exactly that expectation.
#
# The decoder (flowgen_decode.py, standard library only) is independent of
# flowgen and of the collector: it reads the IPFIX file, or listens on
# loopback for IPFIX/UDP, IPFIX/TCP and NetFlow v9/UDP, checks sequence
# numbers, export times and datagram sizes, looks every source up in the same
# GeoIP table, and prints jsonl lines that must equal flowgen --expect after
# sort. The collector end-to-end comparison lives in the collector's tests.
set -euo pipefail

FLOWGEN="${TT_BUILD:?TT_BUILD not set}/tools/flowgen"
PY=/usr/bin/python3
DECODE="${TT_SRC:?TT_SRC not set}/tests/integration/flowgen_decode.py"
if [ ! -x "$FLOWGEN" ]; then
    echo "flowgen not built at $FLOWGEN" >&2
    exit 1
fi
if [ ! -x "$PY" ]; then
    echo "SKIP: $PY not installed" >&2
    exit 77
fi

WORK=$(mktemp -d)
LISTENER=
cleanup() {
    if [ -n "$LISTENER" ]; then kill "$LISTENER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Public ranges only: a GeoIP writer drops reserved networks. 5.1.2.0/24 (RU)
# inside 5.0.0.0/8 (US) checks that sources respect the most specific network.
printf '5.0.0.0/8\tUS\n5.1.2.0/24\tRU\n31.0.0.0/12\tRU\n36.0.0.0/10\tCN\n' >geo.tsv
printf '77.160.0.0/12\tNL\n91.192.0.0/14\tUA\n2a00:1000::/24\tRU\n2a01:100::/32\tNL\n' >>geo.tsv
printf '2001:200::/32\tCN\n2600::/16\tUS\n' >>geo.tsv

DARK6=2001:db8:dead::/48
COMMON=(--geoip-table geo.tsv --countries RU:30,US:20,CN:20,NL:10,UA:10,ZZ:10
    --ports "23/tcp:40,445/tcp:20,1433/tcp:5,53/udp:5,icmp:5,icmp6:1,tail:24"
    --dark6 "$DARK6" --leak-fraction 0.05 --sources 50)

echo "# determinism"
"$FLOWGEN" "${COMMON[@]}" --seed 42 --flows 4000 --out file:a.ipfix --expect a.jsonl
"$FLOWGEN" "${COMMON[@]}" --seed 42 --flows 4000 --out file:b.ipfix --expect b.jsonl
"$FLOWGEN" "${COMMON[@]}" --seed 43 --flows 4000 --out file:c.ipfix --expect c.jsonl
cmp a.ipfix b.ipfix || fail "same seed, different IPFIX files"
cmp a.jsonl b.jsonl || fail "same seed, different expectations"
cmp a.jsonl.summary.json b.jsonl.summary.json || fail "same seed, different summaries"
if cmp -s a.ipfix c.ipfix || cmp -s a.jsonl c.jsonl; then fail "different seeds, same output"; fi

echo "# expectation is consistent"
"$PY" - a.jsonl <<'EOF' || fail "inconsistent expectation"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
summary = json.load(open(sys.argv[1] + ".summary.json"))
sums = {}
for d in lines:
    assert d["end"] - d["start"] == 300 and d["start"] % 300 == 0, d
    assert d["flows"] > 0, d
    s = sums.setdefault((d["start"], d["dim"]), [0, 0, 0])
    for i, k in enumerate(("flows", "packets", "bytes")):
        s[i] += d[k]
for (start, dim), s in sums.items():
    assert s == sums[(start, "total")], (start, dim, s, sums[(start, "total")])
assert sorted(lines, key=lambda d: (d["start"], ["total", "port", "country"].index(d["dim"]),
                                    d["key"])) == lines, "not sorted"
total = sum(d["flows"] for d in lines if d["dim"] == "total")
assert total == summary["observed"], (total, summary)
assert summary["records"] == summary["observed"] + summary["leaks"] == 4000, summary
assert summary["leaks"] > 0 and summary["first"] <= summary["last"] <= summary["last_end"]
assert {d["key"] for d in lines if d["dim"] == "country"} == {"RU", "US", "CN", "NL", "UA", "ZZ"}
assert {"icmp", "icmp6", "23/tcp"} <= {d["key"] for d in lines if d["dim"] == "port"}
assert sum(summary["per_country_sources"].values()) == summary["distinct_sources"]
EOF

# same EXPECT WHAT: decoded.jsonl must equal the expectation EXPECT, in any order
same() {
    sort decoded.jsonl >decoded.sorted
    sort "$1" >expect.sorted
    diff -u expect.sorted decoded.sorted >diff.txt || {
        head -20 diff.txt >&2
        fail "decoded aggregates differ from $1$2"
    }
}

# decode MODE ARGS... : decoded aggregates must equal the expectation FILE ($1)
check() {
    local expect=$1
    shift
    "$PY" "$DECODE" "$@" --table geo.tsv --dark6 "$DARK6" >decoded.jsonl ||
        fail "decoder errors ($*)"
    same "$expect" " ($*)"
}

echo "# IPFIX file, three kinds of time fields, sampling"
check a.jsonl file --file a.ipfix
"$FLOWGEN" "${COMMON[@]}" --flows 3000 --time-field sec --out file:s.ipfix --expect s.jsonl
check s.jsonl file --file s.ipfix
"$FLOWGEN" "${COMMON[@]}" --flows 3000 --time-field sysuptime --sampling 8 --domain 7 \
    --out file:u.ipfix --expect u.jsonl
check u.jsonl file --file u.ipfix
grep -q '"sampling":8' u.jsonl.summary.json || fail "summary lacks the sampling"

# listen MODE EXPECT FLOWGEN-ARGS... : run the decoder as a listener, then flowgen at it
listen() {
    local mode=$1 expect=$2 host=$3
    shift 3
    local records
    records=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' \
        "$expect.summary.json")
    rm -f port
    "$PY" "$DECODE" "$mode" --listen "$host" --port-file port --records "$records" \
        --timeout 20 --table geo.tsv --dark6 "$DARK6" "$@" >decoded.jsonl &
    LISTENER=$!
    for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
    [ -s port ] || fail "listener did not start"
}

finish() {
    local expect=$1
    wait "$LISTENER" || fail "listener decode errors ($expect)"
    LISTENER=
    same "$expect" ""
}

echo "# IPFIX over UDP from 127.0.0.2 (datagrams <= 1400 bytes, template resend)"
"$FLOWGEN" "${COMMON[@]}" --flows 3000 --out file:/dev/null --expect udp.jsonl --sampling 4
listen udp udp.jsonl 127.0.0.1 --peer 127.0.0.2
"$FLOWGEN" "${COMMON[@]}" --flows 3000 --sampling 4 --bind 127.0.0.2 \
    --out "udp://127.0.0.1:$(cat port)"
finish udp.jsonl

echo "# IPFIX over TCP to [::1]"
if "$PY" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    listen tcp a.jsonl ::1
    "$FLOWGEN" "${COMMON[@]}" --seed 42 --flows 4000 --out "tcp://[::1]:$(cat port)"
    finish a.jsonl
else
    echo "no IPv6 loopback here: TCP checked over 127.0.0.1"
    listen tcp a.jsonl 127.0.0.1
    "$FLOWGEN" "${COMMON[@]}" --seed 42 --flows 4000 --out "tcp://127.0.0.1:$(cat port)"
    finish a.jsonl
fi

echo "# NetFlow v9 over UDP with sampling"
"$FLOWGEN" "${COMMON[@]}" --flows 3000 --sampling 16 --out file:/dev/null --expect v9.jsonl
listen v9 v9.jsonl 127.0.0.1
"$FLOWGEN" "${COMMON[@]}" --flows 3000 --sampling 16 --format v9 \
    --out "udp://127.0.0.1:$(cat port)"
finish v9.jsonl

echo "# refusals"
for bad in udp://192.0.2.1:4739 tcp://10.0.0.1:4739 "udp://[2001:db8::1]:4739" udp://example.org:1; do
    if "$FLOWGEN" --flows 10 --out "$bad" 2>err.txt; then fail "sent to $bad"; fi
    grep -q loopback err.txt || fail "no loopback message for $bad"
done
if "$FLOWGEN" --flows 10 --bind 192.0.2.1 --out udp://127.0.0.1:9 2>/dev/null; then
    fail "bound a non-loopback source"
fi
if "$FLOWGEN" --flows 10 --format v9 --out file:x 2>/dev/null; then fail "v9 into a file"; fi
if "$FLOWGEN" --flows 10 --ports icmp6:1 --out file:x 2>/dev/null; then
    fail "icmp6 without --dark6"
fi
if "$FLOWGEN" --geoip-table geo.tsv --countries DE:1 --out file:x 2>/dev/null; then
    fail "a country missing from the table"
fi

echo "ok"

# The built-in telescope scenario: month 0 and month 5 rank 23/tcp first, and
# 52869/tcp climbs between them (its weight drifts from 3 to 9).
/usr/bin/perl "$TT_SRC/tests/data/make_geoip.pl" --schema iso --table "$WORK/tel.tsv" \
    "$WORK/tel.mmdb" >/dev/null 2>&1 || fail "make_geoip.pl could not write the test database"
for m in 0 5; do
    "$FLOWGEN" --scenario telescope:$m --flows 20000 --geoip-table "$WORK/tel.tsv" \
        --countries RU:1,US:1 --out file:"$WORK/tel$m.ipfix" --expect "$WORK/tel$m.jsonl" >/dev/null
done
"$PY" - "$WORK/tel0.jsonl" "$WORK/tel5.jsonl" <<'PY'
import json, sys, collections
def ranks(path):
    t = collections.Counter()
    for line in open(path):
        o = json.loads(line)
        if o['dim'] == 'port':
            t[o['key']] += o['flows']
    return [k for k, _ in t.most_common()]
r0, r5 = ranks(sys.argv[1]), ranks(sys.argv[2])
assert r0[0] == '23/tcp' and r5[0] == '23/tcp', (r0[:3], r5[:3])
assert r5.index('52869/tcp') < r0.index('52869/tcp'), (r0.index('52869/tcp'), r5.index('52869/tcp'))
assert len(r0) > 1000, 'the tail covers many ports'
PY
echo "# telescope scenario: 23/tcp leads, 52869/tcp climbs from month 0 to month 5" >&2
