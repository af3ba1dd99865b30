#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A spoofed exporter cycling 100,000 observation domain IDs from one socket
# (domains.py): per-exporter domain state stays at `max-domains` (default
# 64), every further domain's message is dropped and counted as domain_cap,
# the admitted domains keep decoding, a legitimate exporter is unaffected,
# and the daemon stays under 256 MiB resident.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
GEN="$TT_SRC/tests/integration/domains.py"
MAL="$TT_SRC/tests/integration/malformed.py"
COUNT=100000 CAP=64

pu=$(tt_port udp)
tt_conf d.conf "$TT_TMP/d" "ipfix+udp://127.0.0.1:$pu"
tt_conf_legit_and d.conf spoofed 127.0.0.6
tt_start d.conf d.log
"$PY" "$MAL" valid --addr 127.0.0.2 --port "$pu" --flows 7 --expect legit.json
"$PY" "$GEN" send --addr 127.0.0.6 --port "$pu" --count $COUNT --cap $CAP --expect spoof.json >&2
"$PY" "$MAL" valid --addr 127.0.0.2 --port "$pu" --flows 9 --expect legit.json
tt_wait_stat d "sum(e['messages'] + e['dropped']['domain_cap'] for e in s['exporters']) >= $((COUNT + CAP + 4))" ||
    tt_note "stats.json did not reach the message count within 10 s (checked below)"
kill -0 "$TT_DAEMON_PID" 2>/dev/null || { tail -20 d.log >&2; tt_fail "teitend died"; }
peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$TT_DAEMON_PID/status")
tt_stop
tt_note "domain flood: peak RSS $((peak / 1024)) MiB"
[ "$peak" -lt $((256 * 1024)) ] || tt_fail "domain flood: peak RSS ${peak} kB >= 256 MiB"
"$PY" "$GEN" check --stats d/stats.json --jsonl d/flows.jsonl --expect spoof.json --sensor spoofed >&2 ||
    tt_fail "domain flood"
"$PY" "$MAL" check-flood --stats d/stats.json --jsonl d/flows.jsonl --sensor legit=legit.json >&2 ||
    tt_fail "legitimate exporter"
tt_note "domain cap held"
