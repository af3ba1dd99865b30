#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# IPFIX/TCP connections are bounded (docs/security.md, "TCP connections"):
# 1. max-tcp-connections = 3: 3 connections work; 2 more are accepted and closed
#    at once and counted (listeners[].tcp_refused); the 3 first keep working;
# 2. tcp-idle-timeout = 3: of 2 connections, the silent one is closed
#    (tcp_idle_closed) while the one that keeps sending stays open and counted;
# 3. a TCP connection takes one of max-exporters' places: with max-exporters = 2,
#    the third connection is refused.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
LIM="$TT_SRC/tests/integration/tcp_limits.py"

pt=$(tt_port tcp)
tt_conf cap.conf "$TT_TMP/cap" "ipfix+tcp://127.0.0.1:$pt" "clock-corroborate = 0" \
    "max-tcp-connections = 3"
tt_start cap.conf cap.log
"$PY" "$LIM" --port "$pt" --data cap --open 3 --extra 2 || { cat cap.log >&2; tt_fail "connection cap"; }
grep -q "connection refused: 3 TCP connections open (max-tcp-connections 3)" cap.log ||
    { cat cap.log >&2; tt_fail "the refusal is not logged"; }
tt_stop

pt=$(tt_port tcp)
tt_conf idle.conf "$TT_TMP/idle" "ipfix+tcp://127.0.0.1:$pt" "clock-corroborate = 0" \
    "tcp-idle-timeout = 3"
tt_start idle.conf idle.log
"$PY" "$LIM" --port "$pt" --data idle --open 2 --extra 0 --idle 3 || { cat idle.log >&2; tt_fail "idle timeout"; }
grep -q "tcp-idle-timeout), connection closed" idle.log || tt_fail "the idle close is not logged"
tt_stop

pt=$(tt_port tcp)
tt_conf exp.conf "$TT_TMP/exp" "ipfix+tcp://127.0.0.1:$pt" "clock-corroborate = 0" \
    "max-exporters = 2"
tt_start exp.conf exp.log
"$PY" "$LIM" --port "$pt" --data exp --open 2 --extra 1 || { cat exp.log >&2; tt_fail "max-exporters"; }
tt_stop
tt_note "TCP: cap 3 held, 2 refused; idle connections closed; max-exporters counts connections"
