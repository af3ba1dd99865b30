#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# UDP overload: teitend with a 64 KiB receive buffer is stopped (SIGSTOP) while
# flowgen blasts ~10,000 datagrams at it, so the kernel drops most of them,
# the last ones included. The kernel's own drop counter for teitend's socket is
# read independently (/proc/net/udp's drops column, found by the socket's
# inode, and `ss -m`'s d field when ss exists) before teitend runs again. After
# SIGCONT and a clean stop, stats.json's kernel_drops must equal it exactly
# (and so for an sFlow listener, whose socket libfixbuf binds, blasted by a
# python sender meanwhile),
# datagrams read + kernel drops must equal datagrams sent, and `teiten rank`
# for the day must print a completeness line naming that number of drops.
# Records: every record decoded is stored, and what was sent but not stored is
# what the dropped datagrams held (26 a datagram, less the template-only
# datagrams among the drops: between 26 x (drops - templates sent) and
# 26 x drops).
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
port=$(tt_port udp)
sport=$(tt_port udp)
cat >t.conf <<CONF
[collector]
listen = ipfix+udp://127.0.0.1:$port; sflow+udp://127.0.0.1:$sport
data-dir = $TT_TMP/data
plugin-dir = $TT_PLUGIN_DIR
rcvbuf = 65536
timezone = UTC

[sensor:s1]
exporters = 127.0.0.0/8
darknet = 203.0.113.0/24

[plugin:rollup]
CONF
tt_start t.conf d.log
pid=$TT_DAEMON_PID

# the inode of teitend's UDP socket on PORT: the kernel's row for it, not another process's
socket_inode() {
    local port=$1 fd link ino
    for fd in /proc/$pid/fd/*; do
        link=$(readlink "$fd" 2>/dev/null || true)
        case $link in socket:\[*\])
            ino=${link#socket:[}; ino=${ino%]}
            if awk -v p="$(printf '%04X' "$port")" -v i="$ino" \
                'NR > 1 { split($2, a, ":"); if (a[2] == p && $10 == i) f = 1 } END { exit !f }' \
                /proc/net/udp; then echo "$ino"; return 0; fi ;;
        esac
    done
    tt_fail "no UDP socket of teitend bound to port $port in /proc/net/udp"
}
inode=$(socket_inode "$port")
sinode=$(socket_inode "$sport")
kernel_drops() { awk -v i="${1:-$inode}" 'NR > 1 && $10 == i { print $NF }' /proc/net/udp; }
rx_queue() { awk -v i="${1:-$inode}" 'NR > 1 && $10 == i { split($5, a, ":"); print (a[2] ~ /^0+$/) ? 0 : a[2] }' /proc/net/udp; }

kill -STOP "$pid"
"$FLOWGEN" --blast --records 260000 --rate 0 --out "udp://127.0.0.1:$port" --report send.json \
    >fg.log 2>&1 || { kill -CONT "$pid"; cat fg.log >&2; tt_fail "flowgen failed"; }
# the sFlow socket is libfixbuf's: 3,000 datagrams that are not sFlow (counted as noise)
"$PY" - "$sport" <<'PY' || { kill -CONT "$pid"; tt_fail "the sFlow blast failed"; }
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(b'not sflow ' * 100, ('127.0.0.1', int(sys.argv[1])))
PY
sleep 0.2
kdrops=$(kernel_drops)
sdrops=$(kernel_drops "$sinode")
if command -v ss >/dev/null; then
    ssd=$(ss -u -a -m -n "sport = :$port" | grep -o 'd[0-9]*)' | tr -dc 0-9)
    [ "$ssd" = "$kdrops" ] || { kill -CONT "$pid"; tt_fail "ss says d$ssd, /proc/net/udp $kdrops"; }
fi
kill -CONT "$pid"
[ "${kdrops:-0}" -gt 0 ] && [ "${sdrops:-0}" -gt 0 ] ||
    tt_fail "the kernel dropped nothing ($kdrops, $sdrops): no overload to count"
tt_note "kernel: $kdrops datagrams dropped on the IPFIX socket (inode $inode), $sdrops on the sFlow socket"
# wait until teitend has read what the kernel queued
for _ in $(seq 1 100); do [ "$(rx_queue)" = 0 ] && [ "$(rx_queue "$sinode")" = 0 ] && break; sleep 0.1; done
[ "$(rx_queue)" = 0 ] && [ "$(rx_queue "$sinode")" = 0 ] || tt_fail "teitend did not read its queues"
[ "$(kernel_drops)" = "$kdrops" ] && [ "$(kernel_drops "$sinode")" = "$sdrops" ] ||
    tt_fail "the kernel's count moved after the senders ended"
tt_stop

"$PY" - data/stats.json send.json "$kdrops" "$sdrops" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); sent = json.load(open(sys.argv[2])); kd = int(sys.argv[3])
sd = int(sys.argv[4])
l, sl = s['listeners']
if sl['kernel_drops'] != sd or sl['datagrams'] + sd + sl['unread_at_stop'] != 3000:
    sys.exit(f"FAIL: sFlow listener: kernel_drops {sl['kernel_drops']}, datagrams "
             f"{sl['datagrams']}; the kernel counted {sd} of 3000")
losses = {(x['name'], x['reason']): x['count'] for x in s['losses'] if x['scope'] == 'listener'}
if losses.get((l['listen'], 'kernel_drops')) != kd or losses.get((sl['listen'], 'kernel_drops')) != sd:
    sys.exit(f"FAIL: stats.json losses {s['losses']}")
nsent = sent['datagrams'] + sent['template_datagrams']
print(f"# stats.json: kernel_drops {l['kernel_drops']}, datagrams {l['datagrams']}; "
      f"flowgen sent {nsent} datagrams", file=sys.stderr)
if l['kernel_drops'] != kd:
    sys.exit(f"FAIL: kernel_drops {l['kernel_drops']}, the kernel counted {kd}")
if l['datagrams'] + l['kernel_drops'] != nsent:
    sys.exit(f"FAIL: read {l['datagrams']} + dropped {l['kernel_drops']} != sent {nsent}")
PY
tt_note "kernel_drops = $kdrops, exact"

"$TEITEN" rank --data data --from 2019-01-01 --to 2019-01-01 >rank.txt
"$TEITEN" rank --data data --from 2019-01-01 --to 2019-01-01 --lang ja >rank.ja
"$TEITEN" rank --data data --from 2019-01-01 --to 2019-01-01 --format json >rank.json
line=$(grep -E '^(complete|INCOMPLETE)' rank.txt || true)
tt_note "rank: $line"
case $line in
    "INCOMPLETE: $kdrops kernel drops on ipfix+udp://127.0.0.1:$port, $sdrops kernel drops on sflow+udp://127.0.0.1:$sport"*) ;;
    *) cat rank.txt >&2; tt_fail "rank's completeness line does not show the $kdrops kernel drops" ;;
esac
grep -q "^不完全: .*ipfix+udp://127.0.0.1:$port でカーネル破棄 $kdrops データグラム" rank.ja ||
    { cat rank.ja >&2; tt_fail "the Japanese completeness line does not show the drops"; }
"$PY" - rank.json data/stats.json send.json "$kdrops" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))['completeness']; s = json.load(open(sys.argv[2]))
sent = json.load(open(sys.argv[3])); kd = int(sys.argv[4])
decoded = sum(e['records'] for e in s['exporters']) + s['retired_exporters']['records']
stored, per, tmpl = r['records'], sent['records_per_datagram'], sent['template_datagrams']
drops = [l['count'] for l in r['losses'] if l['reason'] == 'kernel_drops'][:1]
print(f"# sent {sent['records']} records, stored {stored}, decoded {decoded}; "
      f"losses {r['losses']}", file=sys.stderr)
if r['complete'] or drops != [kd]:
    sys.exit(f"FAIL: rank's losses {r['losses']}, want kernel_drops {kd}")
if stored != decoded:
    sys.exit(f"FAIL: {decoded} records decoded, {stored} stored")
lost = sent['records'] - stored
if lost % per != 0 or not (per * (kd - tmpl) <= lost <= per * kd):
    sys.exit(f"FAIL: sent {sent['records']} - stored {stored} = {lost} is not what "
             f"{kd} dropped datagrams ({tmpl} template-only sent) held")
PY
tt_note "rank: INCOMPLETE with $kdrops kernel drops; sent = stored + what the drops held"
