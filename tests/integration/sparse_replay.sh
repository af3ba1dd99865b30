#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A sparse two-quarter replay (issue 11): half a year of a quiet /24 telescope
# (tests/data/make_sparse_capture.py: 182 days, 0 to 3 flows per 300 s step, ~18,900
# flows, seeded) replayed by real exporters into teitend with every built-in plugin
# (jsonl, port, country, total, rollup) writing through a real rrdcached:
#   sf-ipfix   softflowd -r CAPTURE -v 10 -A milli     (IPFIX over UDP)
#   sf-v9      softflowd -r CAPTURE -v 9 -A milli      (NetFlow v9)
#   pm-ipfix   pmacctd + nfprobe, IPFIX
#   (four sensors at once: bench/sparse only, see below)
# Each case: 2 s after the exporter has ended, SIGTERM; teitend must exit within 10 s,
# with status 0 and nothing journaled (DATA/rrd/.journal absent). Then
# scripts/demo_check.py (the demo's own check) compares the capture's truth, per
# sensor, with the jsonl plugin bucket by bucket, `teiten rank` per quarter
# (Asia/Tokyo) and key, the RRD totals day by day (read through rrdcached), the days
# heard, and stats.json (records and leaks received, every loss counter zero).
# grace = 3900: both exporters keep a SYN-only TCP flow for their 3600 s tcp timeout,
# so records arrive up to an hour out of order (docs/operations.md); the grace covers
# it, so no record is late and the RRD files are exact too.
. "$(dirname "$0")/lib.sh"

tt_need softflowd softflowctl pmacctd rrdcached rrdtool
tt_tmpdir
cd "$TT_TMP"
tt_geoip
"$PY" "$TT_SRC/tests/data/make_sparse_capture.py" geo.tsv sparse.pcap sparse.jsonl
tt_note "capture: $(cat sparse.jsonl.summary.json)"
SOCK="$TT_TMP/rrdcached.sock"
tt_rrdcached "$SOCK"

# conf NAME SENSOR=ADDR...: every plugin, rrdcached, IPFIX and v9 listeners on $PI / $P9
# Four sensors at once (four pmacctd from 127.0.0.2-5) are bench/sparse's (pm-4), not
# this test's: on a loaded machine a pmacctd sometimes never sends the last flows it
# expires at its shutdown (17-37 records; bench/sparse counts the records on the wire
# with dumpcap and tshark, and teitend's count equals the wire's, docs/benchmarks.md).
# The same can hit pm-ipfix here under heavy load: the shortfall is then in the last
# hours of the capture and stats.json shows no loss.
STOP_MS=$((10000 * TT_SCALE))
conf() {
    local name=$1
    shift
    PI=$(tt_port udp)
    P9=$(tt_port udp)
    tt_conf "$name.conf" "$TT_TMP/$name" "ipfix+udp://127.0.0.1:$PI; netflow9+udp://127.0.0.1:$P9" \
        "geoip = $TT_TMP/geo.mmdb" "rrdcached = unix:$SOCK" "grace = 3900" "timezone = Asia/Tokyo" \
        "stop-timeout = $((STOP_MS / 1000))"
    for s in "$@"; do
        printf '[sensor:%s]\nexporters = %s\ndarknet = 203.0.113.0/24\n\n' "${s%%=*}" "${s#*=}"
    done | tt_conf_sensors "$name.conf"
    printf '[plugin:port]\n[plugin:country]\n[plugin:total]\n[plugin:rollup]\n' >>"$name.conf"
    # the capture's truth, once per sensor
    mkdir -p "$name.expect"
    for s in "$@"; do
        sed "s/\"sensor\":\"s1\"/\"sensor\":\"${s%%=*}\"/" sparse.jsonl >"$name.expect/${s%%=*}.jsonl"
        cp sparse.jsonl.summary.json "$name.expect/${s%%=*}.jsonl.summary.json"
    done
}

sf() { # ARGS...
    tt_softflowd sparse.pcap "$@"
    tt_note "softflowd: $(grep '^Flows exported' sf.log | tail -1)"
}

# pm NAME VERSION PORT [SOURCE]: pmacctd reads the capture once and exits, its nfprobe
# plugin exporting every flow on the way out.
pm() {
    cat >"pm-$1.conf" <<EOF
daemonize: false
pcap_savefile: $PWD/sparse.pcap
pcap_savefile_wait: false
plugins: nfprobe[np]
aggregate[np]: src_host, dst_host, src_port, dst_port, proto, tos
nfprobe_receiver[np]: 127.0.0.1:$3
nfprobe_version[np]: $2
logfile: $PWD/pm-$1.log
EOF
    [ -n "${4:-}" ] && echo "nfprobe_source_ip[np]: $4" >>"pm-$1.conf"
    timeout 60 pmacctd -f "pm-$1.conf" >"pm-$1.out" 2>&1 ||
        { cat "pm-$1.out" "pm-$1.log" >&2; tt_fail "pmacctd $1 failed"; }
}

# replay NAME COMMAND...: start teitend ($NAME.conf), run the exporter, SIGTERM 2 s
# after it ended, check the stop, then the counts.
# With WIRE=1 (root, dumpcap and tshark there) the exporter's datagrams are captured on lo,
# and when the counts differ while teitend decoded exactly the records on the wire, fewer
# than the capture holds, the exporter lost them: replay returns 3 instead of failing.
replay() {
    local name=$1 cap=""
    shift
    if [ -n "${WIRE:-}" ] && [ "$(id -u)" -eq 0 ] && command -v dumpcap >/dev/null &&
        command -v tshark >/dev/null; then
        dumpcap -q -i lo -B 64 -f "udp and (dst port $PI or dst port $P9)" -w "$TT_TMP/$name.pcapng" \
            >"$name.dumpcap" 2>&1 &
        cap=$!
        TT_PIDS+=("$cap")
        for _ in $(seq 1 100); do grep -q 'Capturing on' "$name.dumpcap" 2>/dev/null && break; sleep 0.05; done
    fi
    tt_start "$name.conf" "$name.log"
    local pid=$TT_DAEMON_PID
    "$@"
    sleep 2
    local t0=${EPOCHREALTIME/./} status=0
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    local ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    if kill -0 "$pid" 2>/dev/null; then
        tail -5 "$name.log" >&2
        kill -KILL "$pid"
        tt_fail "$name: teitend still running 30 s after SIGTERM"
    fi
    wait "$pid" || status=$?
    tt_note "$name: teitend stopped $((ms / 1000)).$(printf %03d $((ms % 1000))) s after SIGTERM, status $status"
    [ "$ms" -le "$STOP_MS" ] ||
        { tail -5 "$name.log" >&2; tt_fail "$name: the stop took $ms ms (> $((STOP_MS / 1000)) s)"; }
    [ "$status" -eq 0 ] || { tail -5 "$name.log" >&2; tt_fail "$name: teitend exited with status $status"; }
    [ ! -e "$name/rrd/.journal" ] || tt_fail "$name: $(wc -l <"$name/rrd/.journal") RRD update lines journaled"
    [ -z "$cap" ] || { kill -INT "$cap" 2>/dev/null || true; wait "$cap" 2>/dev/null || true; }
    if ! RRDCACHED_ADDRESS="unix:$SOCK" "$PY" "$TT_SRC/scripts/demo_check.py" --teiten "$TEITEN" \
        --data "$name" --expect "$name.expect" --tz Asia/Tokyo --jsonl "$name/flows.jsonl" \
        --rrd "$name/rrd" >"$name.check"; then
        if [ -n "$cap" ]; then
            local wire decoded total
            wire=$(tshark -r "$TT_TMP/$name.pcapng" -d "udp.port==$PI,cflow" -d "udp.port==$P9,cflow" \
                -T fields -e cflow.srcaddr 2>/dev/null | tr ',' '\n' | grep -c . || true)
            decoded=$("$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['records_in'])" \
                "$name/stats.json")
            total=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['records'])" \
                sparse.jsonl.summary.json)
            if [ "$wire" = "$decoded" ] && [ "$wire" -lt "$total" ]; then
                tt_note "$name: the exporter sent $wire of the capture's $total records (dumpcap + tshark), teitend decoded all $decoded: the exporter's loss, not teitend's"
                return 3
            fi
            tt_note "$name: on the wire $wire records, teitend decoded $decoded, the capture holds $total"
        fi
        cat "$name.check" >&2
        tt_fail "$name: teitend's counts differ from the capture"
    fi
    tt_note "$name: $(tail -1 "$name.check")"
}

conf sf-ipfix s1=127.0.0.1
replay sf-ipfix sf -n "127.0.0.1:$PI" -v 10 -A milli
conf sf-v9 s1=127.0.0.1
replay sf-v9 sf -n "127.0.0.1:$P9" -v 9 -A milli
# pmacctd sometimes never sends the last flows it expires at its shutdown (above): such a
# run, proven by the wire, is run again, at most twice; teitend must be exact in one of them
for try in 1 2 3; do
    rm -rf "$TT_TMP/pm-ipfix"
    conf pm-ipfix s1=127.0.0.1
    WIRE=1 replay pm-ipfix pm ipfix 10 "$PI" && break
    [ "$try" -lt 3 ] || tt_fail "pm-ipfix: pmacctd lost records at its shutdown in three runs"
done

tt_note "softflowd IPFIX and v9, pmacct IPFIX: exact, stopped within 10 s"
