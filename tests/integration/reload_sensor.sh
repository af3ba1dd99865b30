#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A SIGHUP that removes a sensor: its open buckets close later (here at the
# stop) under the sensor's own name, in the jsonl and the rollups, never as
# "sensor-N" (they did before).
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
GEN="$TT_SRC/tests/integration/faults.py"
T0=1546300800 # 2019-01-01T00:00:00Z
pu=$(tt_port udp)
tt_conf rs.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$pu" "clock-corroborate = 0"
printf '[sensor:stay]\nexporters = 127.0.0.9\ndarknet = 203.0.113.0/24\n\n[sensor:x-gone]\nexporters = 127.0.0.5\ndarknet = 203.0.113.0/24\n' |
    tt_conf_sensors rs.conf
printf '\n[plugin:rollup]\n' >>rs.conf
tt_start rs.conf rs.log
"$PY" "$GEN" send --addr 127.0.0.5 --port "$pu" --export $((T0 + 60)) \
    tmpl:256:a data:256:a:10:$((T0 + 30)):23
tt_wait_stat data "[x for x in s['sensors'] if x['sensor'] == 'x-gone'][0]['records'] == 10" ||
    tt_fail "the 10 flows of x-gone did not arrive"
[ ! -s data/flows.jsonl ] || tt_fail "the bucket closed before the reload: nothing to test"
# x-gone leaves the configuration; its bucket (2019-01-01 00:00) is still open
sed -i '/^\[sensor:x-gone\]/,/^darknet/d' rs.conf
grep -q x-gone rs.conf && tt_fail "sed left x-gone in the configuration"
kill -HUP "$TT_DAEMON_PID"
for _ in $(seq 1 100); do grep -q reloaded rs.log && break; sleep 0.1; done
grep -q reloaded rs.log || tt_fail "no reload"
tt_stop
tt_jsonl_totals data/flows.jsonl >all.txt
tt_jsonl_totals data/flows.jsonl x-gone >gone.txt
grep -q '^total all 10 ' gone.txt || { cat all.txt >&2; tt_fail "x-gone's 10 flows are not under x-gone in the jsonl"; }
if grep -q '"sensor-' data/flows.jsonl; then
    grep '"sensor-' data/flows.jsonl | head -3 >&2
    tt_fail "jsonl lines under a sensor-N name"
fi
got=$("$PY" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(",".join(sorted(r[0] for r in c.execute("SELECT DISTINCT sensor FROM counts"))))' data/rollup.sqlite)
case ",$got," in
*,x-gone,*) ;;
*) tt_fail "rollup sensors: $got (no x-gone)" ;;
esac
case "$got" in
*sensor-*) tt_fail "rollup sensors: $got (a sensor-N name)" ;;
esac
tt_note "sensor removed by SIGHUP: its open bucket closed under x-gone (jsonl, rollup: $got)"
