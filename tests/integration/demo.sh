#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The demo's own scenario, a shorter cut, run by the demo's own script and checked
# by the demo's own check (scripts/demo.sh, scripts/demo_check.py): three months
# instead of six, a quarter of the records at the same pace, the same transports
# (tokyo-1: IPFIX over UDP in December 2018, over TCP in January and February 2019;
# osaka-1: 1-in-8 sampled NetFlow v9, silent 2019-02-10..14 JST), rrdcached and
# every RRD and rollup plugin. Passes only when every record sent is stored, per sensor,
# quarter (Asia/Tokyo) and key, the days heard are the days sent (the outage and
# the unsent months, nothing else), and teitend counted no loss of any kind.
# The tiny test GeoIP database (make_geoip.pl) replaces the demo's download, so
# the country mix is limited to its countries.
. "$(dirname "$0")/lib.sh"

tt_need rrdcached
tt_tmpdir
cd "$TT_TMP"
tt_geoip

started=$(date +%s)
rc=0
TT_DEMO_SETUP=0 TT_BUILD_DIR="$TT_BUILD" TT_DEMO_DIR="$TT_TMP/demo" TT_DEMO_GEOIP="$TT_TMP/geo.mmdb" \
    TT_DEMO_COUNTRIES="CN:22,US:18,RU:12,NL:6,BR:6,IN:5,KR:5,TW:4,VN:4,DE:4,FR:3,GB:3,UA:3,JP:2,SG:1" \
    TT_DEMO_PORTS="$(tt_port udp) $(tt_port tcp) $(tt_port udp)" \
    TT_DEMO_MONTHS="2 3 4" TT_DEMO_RECORDS=5000 TT_DEMO_SECONDS=8 \
    bash "$TT_SRC/scripts/demo.sh" >demo.log 2>&1 || rc=$?
cat demo.log >&2
[ $rc -eq 0 ] || tt_fail "the demo's scenario exited $rc: what was sent is not what was stored"
grep -q '^demo check: every record sent is stored' demo.log || tt_fail "the demo did not run its check"
# the check prints the sensor's name on its "sent:" line and the report's days below it
grep -A1 '^ *osaka-1  sent: ' demo.log | grep -q 'report: .*2019-02-10\.\.2019-02-14' ||
    tt_fail "osaka-1's outage is not reported"
tt_note "the demo's scenario (3 months, 2 sensors, UDP, TCP, sampled v9) stored every record in $(($(date +%s) - started)) s"
