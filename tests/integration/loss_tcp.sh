#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A TCP stream cut inside a message is a loss, counted and shown: flowgen sends
# 1,000 records over IPFIX/TCP, then an exporter connects, sends the first half
# of a message (its header announces 200 bytes, 100 arrive) and goes away.
# After a clean stop: stats.json's listener counts streams_cut 1 and lists it in
# losses[], the 1,000 records are stored, and `teiten rank` for the day says
# "INCOMPLETE: 1 TCP streams cut on ipfix+tcp://..." (and in Japanese).
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
port=$(tt_port tcp)
cat >t.conf <<CONF
[collector]
listen = ipfix+tcp://127.0.0.1:$port
data-dir = $TT_TMP/data
plugin-dir = $TT_PLUGIN_DIR
timezone = UTC

[sensor:s1]
exporters = 127.0.0.0/8
darknet = 203.0.113.0/24

[plugin:rollup]
CONF
tt_start t.conf d.log
"$FLOWGEN" --flows 1000 --duration 600 --out "tcp://127.0.0.1:$port" >fg.log 2>&1 ||
    { cat fg.log >&2; tt_fail "flowgen failed"; }
"$PY" - "$port" <<'PY'
import socket, struct, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
# IPFIX header: version 10, length 200, export time, sequence, domain 1; then 84 bytes of a set
s.sendall(struct.pack('!HHIII', 10, 200, int(time.time()), 0, 1) + b'\0' * 84)
time.sleep(0.2)
s.close()
PY
tt_wait_stat data "s['listeners'][0]['streams_cut'] >= 1 and s['sensors'][0]['observed'] >= 1000" ||
    tt_fail "teitend did not count the cut stream"
tt_stop
"$PY" - data/stats.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
l = s['listeners'][0]
cut = [x for x in s['losses'] if x['reason'] == 'streams_cut']
if l['streams_cut'] != 1 or l['stream_errors'] != 0 or len(cut) != 1 or cut[0]['count'] != 1 \
        or cut[0]['name'] != l['listen']:
    sys.exit(f"FAIL: listener {l}, losses {s['losses']}")
PY
"$TEITEN" rank --data data --from 2019-01-01 --to 2019-01-01 >rank.txt
"$TEITEN" rank --data data --from 2019-01-01 --to 2019-01-01 --lang ja >rank.ja
grep -qx "INCOMPLETE: 1 TCP streams cut on ipfix+tcp://127.0.0.1:$port; 1000 records stored" rank.txt ||
    { cat rank.txt >&2; tt_fail "rank does not say the stream was cut"; }
grep -qx "不完全: ipfix+tcp://127.0.0.1:$port で途中切断の TCP ストリーム 1。保存 1000 レコード" rank.ja ||
    { cat rank.ja >&2; tt_fail "rank --lang ja does not say the stream was cut"; }
tt_note "cut stream counted: $(grep INCOMPLETE rank.txt)"
