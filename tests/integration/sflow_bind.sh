#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The sFlow listener's socket is bound with the others, before the privilege
# drop (it was bound by libfixbuf after it, and a failed bind was a warning):
# 1. an sFlow port already taken: teitend exits non-zero at the start, naming
#    the listener;
# 2. as root with `user = nobody` and rcvbuf above net.core.rmem_max, the sFlow
#    socket gets its buffer (SO_RCVBUFFORCE as root: no "receive buffer is"
#    warning for it), and it still receives: sFlow datagrams are counted.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"

# ---- 1. a taken port ------------------------------------------------------------
ps=$(tt_port udp)
"$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open("held", "w").close()
time.sleep(30)' "$ps" &
HOLDER=$!
TT_PIDS+=("$HOLDER")
for _ in $(seq 1 100); do [ -e held ] && break; sleep 0.05; done
[ -e held ] || tt_fail "the test could not take the port"
pu=$(tt_port udp)
tt_conf taken.conf "$TT_TMP/taken" "ipfix+udp://127.0.0.1:$pu; sflow+udp://127.0.0.1:$ps"
rc=0
timeout $((20 * TT_SCALE)) "$TEITEND" -c taken.conf -f >taken.log 2>&1 || rc=$?
kill "$HOLDER" 2>/dev/null || true
wait "$HOLDER" 2>/dev/null || true
[ "$rc" -ne 0 ] || { cat taken.log >&2; tt_fail "teitend started with its sFlow port taken"; }
[ "$rc" -ne 124 ] || { cat taken.log >&2; tt_fail "teitend kept running with its sFlow port taken"; }
grep -q "sflow+udp://127.0.0.1:$ps.*Address already in use" taken.log ||
    { cat taken.log >&2; tt_fail "the error does not name the sFlow listener"; }
grep -q receiving taken.log && tt_fail "teitend said it was receiving"
tt_note "sFlow port taken: exit $rc, listener named"

# ---- 2. bound before the privilege drop -----------------------------------------
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
    tt_note "buffer before the privilege drop not tested: not root or no user nobody"
    exit 0
fi
max=$(cat /proc/sys/net/core/rmem_max)
want=$((max * 2))
chmod 755 "$TT_TMP"
ps=$(tt_port udp)
tt_conf priv.conf "$TT_TMP/priv" "sflow+udp://127.0.0.1:$ps" "user = nobody" "rcvbuf = $want"
tt_start priv.conf priv.log
uid=$(awk '/^Uid:/ {print $3}' "/proc/$TT_DAEMON_PID/status")
[ "$uid" = "65534" ] || tt_fail "uid after start: $uid, want nobody"
if grep -q "sflow+udp.*receive buffer is" priv.log; then
    cat priv.log >&2
    tt_fail "the sFlow socket did not get its buffer (sized after the privilege drop?)"
fi
# an sFlow v5 datagram with no samples: read through libfixbuf's listener, counted
"$PY" -c '
import socket, struct, sys
d = struct.pack("!II4sIIII", 5, 1, socket.inet_aton("127.0.0.1"), 0, 1, 1000, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(d, ("127.0.0.1", int(sys.argv[1])))' "$ps"
tt_wait_stat priv "[l for l in s['listeners'] if l['listen'].startswith('sflow')][0]['datagrams'] >= 3" ||
    { cat priv.log >&2; tt_fail "the sFlow listener counted no datagram"; }
tt_stop
tt_note "sFlow socket sized as root before the drop ($want bytes > rmem_max $max), receives as nobody"
