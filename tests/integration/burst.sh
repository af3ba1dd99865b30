#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# softflowd -r replays a capture of 20,000 single-packet flows and, at the end of
# the file, exports all of them in one burst as fast as it can. With teitend's
# default 4 MiB receive buffer every record must arrive: 20,000 records decoded,
# no kernel drop, no sequence gap, and 20,000 packets to 23/tcp in the jsonl.
. "$(dirname "$0")/lib.sh"
tt_need softflowd
tt_tmpdir
cd "$TT_TMP"
N=20000
"$PY" "$(dirname "$0")/burst_pcap.py" $N burst.pcap
port=$(tt_port udp)
tt_conf t.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$port"
tt_start t.conf d.log
softflowd -r burst.pcap -n 127.0.0.1:$port -v 10 -A milli -d >sf.log 2>&1 ||
    { cat sf.log >&2; tt_fail "softflowd failed"; }
tt_wait_stat data "sum(x['records'] for x in s['exporters']) >= $N" || true
sleep 0.5
tt_stop
"$PY" - data/stats.json $N <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); n = int(sys.argv[2])
recs = sum(e['records'] for e in s['exporters']) + s['retired_exporters']['records']
lost = sum(e['seq_lost'] for e in s['exporters'])
drops = sum(l['kernel_drops'] for l in s['listeners'])
print(f"# records {recs}, kernel drops {drops}, sequence loss {lost}", file=sys.stderr)
if recs != n or drops != 0 or lost != 0:
    sys.exit(f"FAIL: expected {n} records with no loss")
PY
got=$(tt_jsonl_totals data/flows.jsonl | awk '$1=="port" && $2=="23/tcp" {print $4}')
[ "$got" = "$N" ] || tt_fail "23/tcp packets: $got, want $N"
tt_note "softflowd burst of $N flows arrived whole"
