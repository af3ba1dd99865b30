#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A jump of the host clock neither rushes nor stalls bucket closing: teitend runs
# under libfaketime (wall clock only; FAKETIME_DONT_FAKE_MONOTONIC), whose offset
# file is rewritten mid-run.
# 1. forward by two days, silent-after = 60: the sensor must not be declared
#    silent (its bucket stays open, no jsonl line) - a wall-clock "now minus last
#    heard" would close it at the next tick;
# 2. backward by two days, silent-after = 3: the sensor must go silent within
#    a few seconds and its bucket be written - a wall-clock difference would stay
#    negative for two days.
. "$(dirname "$0")/lib.sh"
FT=""
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 /usr/lib/*/faketime/libfaketime.so.1; do
    [ -e "$f" ] && { FT=$f; break; }
done
[ -n "$FT" ] || tt_skip "libfaketime not installed (Debian: faketime)"
tt_tmpdir
cd "$TT_TMP"
GEN="$TT_SRC/tests/integration/faults.py"
T0=1546300800

# teitend through a wrapper that preloads libfaketime (exec: same pid)
cat >teitend-ft <<EOF
#!/bin/sh
unset FAKETIME
export LD_PRELOAD="$FT" FAKETIME_TIMESTAMP_FILE="$TT_TMP/offset" FAKETIME_NO_CACHE=1 \
    FAKETIME_DONT_FAKE_MONOTONIC=1
exec "$TEITEND" "\$@"
EOF
chmod +x teitend-ft
TEITEND="$TT_TMP/teitend-ft"

run() { # NAME SILENT_AFTER OFFSET
    local name=$1 pu
    pu=$(tt_port udp)
    echo "+0" >offset
    tt_conf "$name.conf" "$TT_TMP/$name" "ipfix+udp://127.0.0.1:$pu" "silent-after = $2"
    tt_start "$name.conf" "$name.log"
    "$PY" "$GEN" send --port "$pu" --export $((T0 + 60)) tmpl:256:a data:256:a:7:$((T0 + 30)):23
    tt_wait_stat "$name" "s['sensors'][0].get('watermark') == $((T0 + 30))" ||
        tt_fail "$name: flows did not arrive"
    echo "$3" >offset
}

run forward 60 "+2d"
sleep 4
tt_wait_stat forward "s['sensors'][0]['silent'] is False" || tt_fail "forward: stats unreadable"
"$PY" - forward/stats.json <<'EOF' || tt_fail "forward: the clock jump made the sensor silent"
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s['sensors'][0]['silent'] is False else 1)
EOF
[ ! -s forward/flows.jsonl ] || tt_fail "forward: a wall-clock jump closed the open bucket"
grep -q "silent for" forward.log && tt_fail "forward: 'silent' logged after a clock jump"
tt_stop

run backward 3 "-2d"
tt_wait_stat backward "s['sensors'][0]['silent'] is True" ||
    tt_fail "backward: a clock set back stalled silence detection"
for _ in $(seq 1 50); do [ -s backward/flows.jsonl ] && break; sleep 0.1; done
grep -q '"23/tcp"' backward/flows.jsonl || tt_fail "backward: the silent sensor's bucket was not written"
tt_stop
tt_note "forward +2d: still open after 4 s; backward -2d: silent after 3 s"
