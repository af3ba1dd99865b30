#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Time policy on the stream's clock, against the running daemon (2019 flows into
# a live listener, so the host clock is years away from every record):
# 1. records stamped an hour after the export time of their message (tolerance
#    600 s, clamp-max 8 days) are kept, timed at the export time and counted
#    (time_clamped); records 9 days after it are refused (future_records),
#    never written, and leave the watermark where it was; each of the two is
#    logged once for the exporter (the refusal with its likely cause), also
#    after the clamp's line and on a second refused message;
# 2. once the sensor's clock is corroborated (3 messages; clock-corroborate = 0
#    here, so no host time is needed), records older than the longest RRD
#    archive (1096 days) behind the watermark are refused and counted (sensor
#    too_old), neither late nor written;
# 3. records six hours later, consistent with their message, are a legitimate
#    jump: the watermark moves and the earlier bucket closes at once (its jsonl
#    lines appear while the daemon still runs);
# and at the stop the jsonl totals hold exactly the accepted flows.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
GEN="$TT_SRC/tests/integration/faults.py"
T0=1546300800 # 2019-01-01T00:00:00Z
OLD=$((T0 - 4 * 365 * 86400))
JUMP=$((T0 + 6 * 3600))

pu=$(tt_port udp)
tt_conf tp.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$pu" "step = 300" "grace = 120" \
    "clock-corroborate = 0"
tt_start tp.conf tp.log
send() { "$PY" "$GEN" send --port "$pu" --sport 47001 "$@"; }
sensor() { echo "[x for x in s['sensors'] if x['sensor'] == 's1'][0]"; }
exporter() { echo "s['exporters'][0]"; }

send --export $((T0 + 60)) tmpl:256:a data:256:a:10:$((T0 + 30)):23
tt_wait_stat data "$(sensor)['records'] == 10 and $(sensor)['watermark'] == $((T0 + 30))" ||
    tt_fail "the first 10 flows did not arrive (watermark T0+30)"

# 1. beyond the export time: an hour (clamped to it), 9 days (refused)
send --export $((T0 + 100)) --seq 10 data:256:a:4:$((T0 + 100 + 3600)):445
tt_wait_stat data "$(exporter)['time_clamped'] == 4 and $(sensor)['records'] == 14" ||
    tt_fail "records an hour past their export time not kept as time_clamped"
tt_wait_stat data "$(sensor)['watermark'] == $((T0 + 100))" ||
    tt_fail "clamped records not timed at their message's export time"
send --export $((T0 + 100)) --seq 14 data:256:a:4:$((T0 + 100 + 9 * 86400)):8443
tt_wait_stat data "$(exporter)['future_records'] == 4" || tt_fail "future records not counted"
send --export $((T0 + 100)) --seq 18 data:256:a:2:$((T0 + 100 + 9 * 86400)):8443
tt_wait_stat data "$(exporter)['future_records'] == 6" || tt_fail "a second future message not counted"
[ "$(grep -c 'counted as time_clamped' tp.log)" = 1 ] || tt_fail "the clamp not logged exactly once"
[ "$(grep -c 'refused as future_records' tp.log)" = 1 ] ||
    tt_fail "the refusal as future_records not logged exactly once (after the clamp's line)"
grep 'refused as future_records' tp.log | grep -q 'softflowd -r without -A milli' ||
    tt_fail "the refusal's line does not name the likely cause"
tt_wait_stat data "$(sensor)['watermark'] == $((T0 + 100)) and $(sensor)['records'] == 14" ||
    tt_fail "future records moved the watermark or reached the sensor"
send --export $((T0 + 110)) --seq 20 data:256:a:2:$((T0 + 40)):23
tt_wait_stat data "$(sensor)['records'] == 16" || tt_fail "the third message did not arrive"

# 2. older than the longest archive behind the watermark
send --export $((T0 + 120)) --seq 22 data:256:a:3:$OLD:8080
tt_wait_stat data "$(sensor)['too_old'] == 3 and $(sensor)['late'] == 0" ||
    tt_fail "records 4 years behind the watermark not refused as too_old"
tt_wait_stat data "$(sensor)['watermark'] == $((T0 + 100)) and $(sensor)['clock_reanchored'] == 0" ||
    tt_fail "too_old moved the watermark"
[ ! -s data/flows.jsonl ] || tt_fail "a bucket closed before the jump"

# 3. a legitimate jump
send --export $((JUMP + 60)) --seq 25 data:256:a:5:$((JUMP + 30)):3389
tt_wait_stat data "$(sensor)['watermark'] == $((JUMP + 30)) and $(sensor)['closed_until'] >= $((JUMP - 120 - 300))" ||
    tt_fail "a jump consistent with its message did not move the watermark"
for _ in $(seq 1 50); do grep -q '"23/tcp"' data/flows.jsonl 2>/dev/null && break; sleep 0.1; done
grep -q '"23/tcp"' data/flows.jsonl || tt_fail "the bucket before the jump was not written"
tt_stop

tt_jsonl_totals data/flows.jsonl s1 >got.txt
printf '%s\n' "country ZZ 21 21 2100" "port 23/tcp 12 12 1200" "port 3389/tcp 5 5 500" \
    "port 445/tcp 4 4 400" "total all 21 21 2100" >want.txt
diff -u want.txt got.txt >&2 || tt_fail "jsonl totals differ from the accepted flows"
tt_note "clamped 4 kept; future 6 (logged once), too_old 3 refused; jump moved the watermark; totals exact"
