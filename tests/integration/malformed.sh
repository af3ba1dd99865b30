#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Hostile input against the running daemon (malformed.py makes it and knows
# what each datagram must do).
# 1. Every malformed case from its own 127.0.0.N over IPFIX/UDP, NetFlow v9,
#    NetFlow v5 and IPFIX/TCP, each followed by valid flows: the specific
#    counter moved, nothing else did, the valid flows are in the jsonl output
#    exactly, broken TCP framing closed only that connection.
# 2. 20,000 template IDs from one exporter: the template cap holds, RSS stays
#    bounded, the flooding exporter's admitted templates still decode and a
#    legitimate exporter on another address is unaffected.
# 3. 10,000 source ports: the exporter cap evicts, every flow is still counted
#    exactly, RSS stays bounded.
# 4. A 2019 replay while every hostile-time case and 100s of datagrams stamped with
#    the host clock arrive from the sensor's other address, another port and the
#    replay's own socket: the replay counted exactly, the clock stays in 2019.
# 5. An exporter back from a ten-day outage, the next month from a new source port and
#    a spoofer's year-ahead datagrams between them: every honest flow stored, the
#    spoofer's refused, the clock at the next month.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
GEN="$TT_SRC/tests/integration/malformed.py"
# ASan's shadow memory and quarantine multiply a process's footprint: the sanitizer
# run (TT_TIME_SCALE set by scripts/test.sh) allows 4x, the plain run holds 256 MiB.
RSS_LIMIT_KB=$((256 * 1024 * TT_SCALE))

# kB of the daemon's peak resident set (VmHWM)
peak_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$TT_DAEMON_PID/status"; }
alive() { kill -0 "$TT_DAEMON_PID" 2>/dev/null || { tail -20 "$1" >&2; tt_fail "teitend died"; }; }
# the daemon must still answer: SIGUSR1 is handled on the main loop
responsive() {
    local before
    before=$(grep -c 'stats: ' "$1" || true)
    kill -USR1 "$TT_DAEMON_PID"
    for _ in $(seq 1 $((50 * TT_SCALE))); do
        [ "$(grep -c 'stats: ' "$1" || true)" -gt "$before" ] && return 0
        sleep 0.1
    done
    tt_fail "teitend does not answer SIGUSR1 within $((5 * TT_SCALE)) s (stuck?)"
}

# ---- 1. every case ---------------------------------------------------------
pu=$(tt_port udp); p9=$(tt_port udp); p5=$(tt_port udp); pt=$(tt_port tcp)
tt_conf cases.conf "$TT_TMP/cases" \
    "ipfix+udp://127.0.0.1:$pu; netflow9+udp://127.0.0.1:$p9; netflow5+udp://127.0.0.1:$p5; ipfix+tcp://127.0.0.1:$pt"
"$PY" "$GEN" sensors | tt_conf_sensors cases.conf
tt_start cases.conf cases.log
"$PY" "$GEN" cases --ipfix-udp "$pu" --v9-udp "$p9" --v5-udp "$p5" --ipfix-tcp "$pt" \
    --expect cases.json >&2
alive cases.log
responsive cases.log
tt_stop
"$PY" "$GEN" check --stats cases/stats.json --jsonl cases/flows.jsonl --expect cases.json >&2
# a refused template is logged once per exporter and template, with the field (ipfix_port_9
# sends its template twice)
n=$(grep -c 'template 257 refused (field_length: IE 7 is 9 bytes long' cases.log || true)
[ "$n" = 1 ] || tt_fail "the refused template of ipfix_port_9 logged $n times, want once"

# ---- 2. 20,000 template IDs from one exporter -------------------------------
pu=$(tt_port udp)
tt_conf tmpl.conf "$TT_TMP/tmpl" "ipfix+udp://127.0.0.1:$pu"
tt_conf_legit_and tmpl.conf flood 127.0.0.3
tt_start tmpl.conf tmpl.log
"$PY" "$GEN" valid --addr 127.0.0.2 --port "$pu" --flows 11 --expect legit.json
"$PY" "$GEN" flood-templates --addr 127.0.0.3 --port "$pu" --count 20000 --per-msg 50 \
    --cap 4096 --flows 9 --expect tmpl.json >&2
"$PY" "$GEN" valid --addr 127.0.0.2 --port "$pu" --flows 13 --expect legit.json
alive tmpl.log
responsive tmpl.log
peak=$(peak_kb)
tt_stop
tt_note "template flood: peak RSS $((peak / 1024)) MiB"
[ "$peak" -lt "$RSS_LIMIT_KB" ] || tt_fail "template flood: peak RSS ${peak} kB >= $((RSS_LIMIT_KB / 1024)) MiB"
"$PY" "$GEN" check-flood --stats tmpl/stats.json --jsonl tmpl/flows.jsonl --exporter tmpl.json \
    --sensor flood=tmpl.json --sensor legit=legit.json >&2 || tt_fail "template flood"

# ---- 3. 10,000 source ports (exporters) ---------------------------------------
pu=$(tt_port udp)
tt_conf ports.conf "$TT_TMP/ports" "ipfix+udp://127.0.0.1:$pu" "max-exporters = 1024"
tt_conf_legit_and ports.conf spoofed 127.0.0.4
tt_start ports.conf ports.log
"$PY" "$GEN" valid --addr 127.0.0.2 --port "$pu" --flows 5 --expect legit2.json
"$PY" "$GEN" flood-exporters --addr 127.0.0.4 --port "$pu" --count 10000 --first-port 20000 \
    --expect ports.json >&2
"$PY" "$GEN" valid --addr 127.0.0.2 --port "$pu" --flows 6 --expect legit2.json
alive ports.log
responsive ports.log
# every datagram read before the stop (checked below: unread_at_stop 0); a new exporter
# each costs, under ASan on a loaded machine the burst outlasted the stop's 2 s drain
tt_udp_read "$pu"
peak=$(peak_kb)
tt_stop
sent=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' ports.json)
tt_note "exporter flood: $sent source ports, peak RSS $((peak / 1024)) MiB"
[ "$peak" -lt "$RSS_LIMIT_KB" ] || tt_fail "exporter flood: peak RSS ${peak} kB >= $((RSS_LIMIT_KB / 1024)) MiB"
# every datagram carries its template, so eviction loses no flow; legit sent twice
"$PY" "$GEN" check-flood --stats ports/stats.json --jsonl ports/flows.jsonl \
    --sensor spoofed=ports.json --sensor legit=legit2.json --max-exporters 1024 \
    --min-evictions $((sent + 2 - 1024)) --records $((sent + 11)) >&2 || tt_fail "exporter flood"
tt_note "malformed input, template flood and exporter flood handled"

# ---- 4. a 2019 replay between hostile-time and spoofed "now" messages -------------
# One sensor, two exporter addresses: the replay from 127.0.0.5, every hostile-time kind
# and datagrams stamped with the host clock from 127.0.0.6, from another port of
# 127.0.0.5 and from the replay's own socket. The replay must count exactly, the spoofed
# "now" flows be held back (unconfirmed), the clock stay in 2019 (docs/security.md).
pu=$(tt_port udp)
tt_conf replay.conf "$TT_TMP/replay" "ipfix+udp://127.0.0.1:$pu"
printf '[sensor:replay]\nexporters = 127.0.0.5; 127.0.0.6\ndarknet = 203.0.113.0/24\n' |
    tt_conf_sensors replay.conf
tt_start replay.conf replay.log
"$PY" "$GEN" hostile-replay --addr 127.0.0.5 --spoof-addr 127.0.0.6 --port "$pu" \
    --messages 200 --expect replay.json >&2
alive replay.log
responsive replay.log
tt_stop
"$PY" "$GEN" check-replay --stats replay/stats.json --jsonl replay/flows.jsonl --sensor replay \
    --expect replay.json >&2 || tt_fail "hostile replay"
tt_note "a 2019 replay between hostile-time and spoofed messages counted exactly"

# ---- 5. jumps after an outage, from two sources, with a spoofer between them -------
pu=$(tt_port udp)
tt_conf outage.conf "$TT_TMP/outage" "ipfix+udp://127.0.0.1:$pu"
printf '[sensor:outage]\nexporters = 127.0.0.7\ndarknet = 203.0.113.0/24\n' |
    tt_conf_sensors outage.conf
tt_start outage.conf outage.log
"$PY" "$GEN" outage-replay --addr 127.0.0.7 --port "$pu" --expect outage.json >&2
alive outage.log
tt_stop
"$PY" "$GEN" check-replay --stats outage/stats.json --jsonl outage/flows.jsonl --sensor outage \
    --expect outage.json >&2 || { grep -i "clock\|held" outage.log >&2; tt_fail "outage replay"; }
tt_note "jumps after an outage from two sources released, a spoofer's between them refused"
