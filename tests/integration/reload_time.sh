#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# SIGHUP applies the time policy's keys (they were read only at the start):
# - clamp-max: records an hour past their message's export time are kept as
#   time_clamped under the default (8 days), refused as future_records once a
#   reload sets clamp-max = 60;
# - export-ahead-max: a message stamped an hour ahead of the host clock is
#   taken under the default (15 h), refused as clock_ahead after a reload to 600;
# and a reload that changes keys it cannot apply (grace, a plugin group) names
# them in the log and keeps the running values.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
GEN="$TT_SRC/tests/integration/faults.py"
T0=1546300800 # 2019-01-01T00:00:00Z
pu=$(tt_port udp)
tt_conf rt.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$pu" "clock-corroborate = 0"
tt_start rt.conf rt.log
send() { "$PY" "$GEN" send --port "$pu" --sport 47011 "$@"; }
sensor() { echo "[x for x in s['sensors'] if x['sensor'] == 's1'][0]"; }
exporter() { echo "s['exporters'][0]"; }
ahead=$(($(date +%s) + 3600))

send --export $((T0 + 60)) tmpl:256:a data:256:a:10:$((T0 + 30)):23
tt_wait_stat data "$(sensor)['records'] == 10" || tt_fail "the first 10 flows did not arrive"
send --export $((T0 + 100)) --seq 10 data:256:a:4:$((T0 + 100 + 3600)):445
tt_wait_stat data "$(exporter)['time_clamped'] == 4 and $(sensor)['records'] == 14" ||
    tt_fail "before the reload: records an hour past export not kept as time_clamped"
send --export $ahead --seq 14 data:256:a:2:$((T0 + 110)):80
tt_wait_stat data "$(sensor)['records'] == 16 and $(exporter)['clock_ahead'] == 0" ||
    tt_fail "before the reload: a message an hour ahead of the host clock was not taken"

sed -i '/^\[collector\]/a clamp-max = 60\nexport-ahead-max = 600\ngrace = 60' rt.conf
sed -i 's/^path = flows.jsonl/path = other.jsonl/' rt.conf
grep -q '^clamp-max = 60' rt.conf || tt_fail "sed did not set clamp-max"
kill -HUP "$TT_DAEMON_PID"
for _ in $(seq 1 100); do grep -q reloaded rt.log && break; sleep 0.1; done
grep -q reloaded rt.log || { cat rt.log >&2; tt_fail "no reload"; }
grep -q "reload: grace, \[plugin:jsonl\] changed: a restart is needed" rt.log ||
    { cat rt.log >&2; tt_fail "the keys a reload cannot apply are not named"; }

send --export $((T0 + 120)) --seq 16 data:256:a:4:$((T0 + 120 + 3600)):8443
tt_wait_stat data "$(exporter)['future_records'] == 4" ||
    tt_fail "after clamp-max = 60: records an hour past export not refused (future_records)"
tt_wait_stat data "$(exporter)['time_clamped'] == 4 and $(sensor)['records'] == 16" ||
    tt_fail "after clamp-max = 60: records an hour past export still clamped"
send --export $ahead --seq 20 data:256:a:2:$((T0 + 130)):80
tt_wait_stat data "$(exporter)['clock_ahead'] == 1 and $(sensor)['records'] == 16" ||
    tt_fail "after export-ahead-max = 600: a message an hour ahead not refused (clock_ahead)"
tt_stop
tt_note "SIGHUP applied clamp-max and export-ahead-max; grace and [plugin:jsonl] named as restart-only"
