#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Faults against the running daemon; one scenario per ctest entry (faults.cmake):
#   exporter   an exporter restarts (sequence reset: seq_lost stays 0, while a real
#              gap of 100 on another exporter is counted), redefines its template ID
#              with another field order mid-stream (records decode with the new
#              layout), and withdraws a template over TCP (honoured there; over UDP
#              withdrawals are ignored, see malformed.sh)
#   corrupt    an RRD file truncated while teitend runs, and another found corrupt
#              at the next start: reported, set aside (NAME.corrupt-TIME), created
#              anew, the writer never stops, the new file holds the later steps
#   geoip      the GeoIP file replaced in place (cp) and by rename (mv), each
#              followed by SIGHUP: lookups follow the new data, nothing crashes
#   rrdcached  rrdcached SIGKILLed and restarted mid-run: steps closed while it was
#              down are kept, sent when it returns, and every RRD total is exact
#   diskfull   data-dir on a 3 MiB tmpfs filled up (root only, else skipped):
#              reported, reception goes on, files are created and written again
#              once space returns
# Flows are 2019 records (T0 = 2019-01-01) with grace 0, so a flow in the next
# step closes the previous one; expectations are the counts the script sends.
. "$(dirname "$0")/lib.sh"
SCEN=${1:?scenario}
tt_tmpdir
cd "$TT_TMP"
GEN="$TT_SRC/tests/integration/faults.py"
T0=1546300800
pu=$(tt_port udp)
send() { "$PY" "$GEN" send --port "$pu" "$@"; }
rrdsum() { "$PY" "$GEN" rrdsum "$@"; }
alive() { kill -0 "$TT_DAEMON_PID" 2>/dev/null || { tail -20 "$1" >&2; tt_fail "teitend died"; }; }
conf() { # FILE DATA [collector lines...]: port and total RRD plugins + jsonl
    local f=$1 d=$2
    shift 2
    tt_conf "$f" "$d" "ipfix+udp://127.0.0.1:$pu" "grace = 0" "$@"
    printf '\n[plugin:port]\n[plugin:total]\n' >>"$f"
}
st() { echo "s['sensors'][0]"; }

case $SCEN in
exporter)
    pt=$(tt_port tcp)
    tt_conf ex.conf "$TT_TMP/ex" "ipfix+udp://127.0.0.1:$pu; ipfix+tcp://127.0.0.1:$pt"
    printf '\n[plugin:rollup]\n' >>ex.conf
    tt_start ex.conf ex.log
    # a datagram no domain can be read from (version 10, length 4): an exporter of no sensor
    "$PY" -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'\x00\x0a\x00\x04', ('127.0.0.1', $pu))"
    a=(--sport 47101 --export $((T0 + 60)))
    send "${a[@]}" --seq 1000 tmpl:256:a data:256:a:10:$((T0 + 30)):23 data:256:a:10:$((T0 + 31)):23
    # the exporter restarts: its sequence starts again at 0, on the same session
    send "${a[@]}" --seq 0 tmpl:256:a data:256:a:5:$((T0 + 40)):23
    # ... and redefines template 256: ports first
    send "${a[@]}" --seq 5 tmpl:256:b data:256:b:6:$((T0 + 50)):3389
    # a real gap of 100 records on another exporter: the counter can move
    send --sport 47102 --export $((T0 + 60)) --seq 0 tmpl:256:a data:256:a:5:$((T0 + 30)):80
    send --sport 47102 --export $((T0 + 60)) --seq 105 data:256:a:5:$((T0 + 30)):80
    # TCP: template, 4 flows, withdrawal, 3 flows for the withdrawn template
    "$PY" "$GEN" send --tcp --port "$pt" --export $((T0 + 60)) tmpl:300:a \
        data:300:a:4:$((T0 + 30)):22 withdraw:300 data:300:a:3:$((T0 + 30)):22
    tt_wait_stat ex "s['sensors'][0]['records'] == 45" || tt_fail "not every flow arrived"
    tt_stop
    "$PY" - ex/stats.json <<'EOF' || tt_fail "exporter counters"
import json, sys
s = json.load(open(sys.argv[1]))
ex = {e["exporter"].rsplit(":", 1)[-1]: e for e in s["exporters"]}
bad = []
if ex["47101"]["seq_lost"] != 0:
    bad.append("restart: seq_lost %d, want 0" % ex["47101"]["seq_lost"])
if ex["47102"]["seq_lost"] != 100:
    bad.append("gap: seq_lost %d, want 100" % ex["47102"]["seq_lost"])
if ex["47101"]["templates"] != 3:
    bad.append("templates %d, want 3" % ex["47101"]["templates"])
r = s["retired_exporters"]
if r["unknown_template_sets"] != 1 or r["withdrawals_ignored"] != 0 or r["records"] != 4:
    bad.append("TCP withdrawal not honoured: %s" % {k: r[k] for k in
               ("records", "unknown_template_sets", "withdrawals_ignored")})
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
    tt_jsonl_totals ex/flows.jsonl s1 >got.txt
    printf '%s\n' "country ZZ 45 45 4500" "port 22/tcp 4 4 400" "port 23/tcp 25 25 2500" \
        "port 3389/tcp 6 6 600" "port 80/tcp 10 10 1000" "total all 45 45 4500" >want.txt
    diff -u want.txt got.txt >&2 || tt_fail "jsonl totals (template change or restart)"
    # the exporters' losses are their sensor's: rank's completeness names s1, and the
    # datagram of no sensor as unattributed
    "$TEITEN" rank --data ex --quarter 2019Q1 --format json >rank.json
    "$TEITEN" rank --data ex --quarter 2019Q1 >rank.txt
    "$PY" - rank.json <<'EOF' || { cat rank.json >&2; tt_fail "rank's completeness does not carry the exporters' losses per sensor"; }
import json, sys
got = {(l["scope"], l["name"], l["reason"]): l["count"]
       for l in json.load(open(sys.argv[1]))["completeness"]["losses"]}
want = {("exporters", "s1", "seq_lost"): 100, ("exporters", "s1", "no_template"): 1,
        ("exporters", "unattributed", "malformed"): 1}
bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
sys.exit("got, want: %s" % bad if bad else 0)
EOF
    grep -q "100 sequence gaps from s1" rank.txt || { cat rank.txt >&2; tt_fail "no 'sequence gaps from s1' in rank"; }
    grep -q "1 messages refused from unattributed exporters (malformed)" rank.txt ||
        { cat rank.txt >&2; tt_fail "the unattributed datagram is not in rank's completeness line"; }
    tt_note "sequence reset: seq_lost 0 (gap of 100 counted elsewhere); template redefined; TCP withdrawal honoured"
    tt_note "rank: $(grep INCOMPLETE rank.txt)"
    ;;

corrupt)
    tt_need rrdtool
    conf c.conf "$TT_TMP/c"
    tt_start c.conf c.log
    F=c/rrd/port/tcp/23.rrd
    send --sport 47201 --export $((T0 + 400)) tmpl:256:a data:256:a:5:$((T0 + 30)):23 \
        data:256:a:3:$((T0 + 330)):23
    for _ in $(seq 1 100); do [ -s "$F" ] && break; sleep 0.1; done
    [ -s "$F" ] || tt_fail "$F not created"
    tt_wait_stat c "s['rrd']['updates'] >= 2 and s['rrd']['pending_lines'] == 0" || tt_fail "no update"
    truncate -s 300 "$F"
    send --sport 47201 --export $((T0 + 700)) --seq 8 data:256:a:2:$((T0 + 630)):23
    tt_wait_stat c "s['rrd']['set_aside'] == 1" || { tail c.log >&2; tt_fail "corrupt file not set aside"; }
    alive c.log
    grep -q "is corrupt" c.log || tt_fail "the corrupt file was not reported"
    tt_stop
    ls c/rrd/port/tcp/23.rrd.corrupt-* >/dev/null || tt_fail "no 23.rrd.corrupt-* kept"
    got=$(rrdsum "$F" $((T0 + 300)) $((T0 + 900)))
    [ "$got" = 5 ] || tt_fail "recreated 23.rrd holds $got flows after the set-aside, want 3 + 2"
    # corrupt at the next start: found at first touch
    truncate -s 100 "$F"
    tt_start c.conf c2.log
    send --sport 47202 --export $((T0 + 1000)) tmpl:256:a data:256:a:4:$((T0 + 930)):23
    tt_wait_stat c "s['sensors'][0]['records'] == 4" || tt_fail "restart: flows lost"
    tt_stop
    grep -q "is corrupt" c2.log || tt_fail "restart: the corrupt file was not reported"
    [ "$(ls c/rrd/port/tcp/23.rrd.corrupt-* | wc -l)" = 2 ] || tt_fail "restart: not set aside"
    got=$(rrdsum "$F" $((T0 + 900)) $((T0 + 1200)))
    [ "$got" = 4 ] || tt_fail "restart: new 23.rrd holds $got flows, want 4"
    tt_note "truncated while running and at start: set aside twice, recreated, later steps exact"
    ;;

geoip)
    perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null || tt_skip "libmaxmind-db-writer-perl missing"
    mkdb() { # OUT COUNTRY: 5.8.0.0/16 -> COUNTRY (plus filler, so both files differ in size)
        perl -MMaxMind::DB::Writer::Tree -e '
            my ($out, $cc, $n) = @ARGV;
            my $t = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24,
                database_type => "teiten-test-Country", languages => ["en"],
                description => {en => "faults"}, alias_ipv6_to_ipv4 => 1,
                remove_reserved_networks => 0,
                map_key_type_callback => sub { $_[0] eq "country" ? "map" : "utf8_string" });
            $t->insert_network("5.8.0.0/16", {country => {iso_code => $cc}});
            $t->insert_network(sprintf("10.%d.%d.0/24", $_ >> 8, $_ & 255),
                {country => {iso_code => "X" . chr(65 + $_ % 26)}}) for 1 .. $n;
            open my $fh, ">:raw", $out or die; $t->write_tree($fh); close $fh or die;' "$@"
    }
    mkdb ru.mmdb RU 20000 # about 120 KiB
    mkdb de.mmdb DE 20
    cp ru.mmdb geo.mmdb
    tt_conf g.conf "$TT_TMP/g" "ipfix+udp://127.0.0.1:$pu" "geoip = $TT_TMP/geo.mmdb"
    tt_start g.conf g.log
    hup() { # wait for the N-th "reloaded"
        kill -HUP "$TT_DAEMON_PID"
        for _ in $(seq 1 50); do [ "$(grep -c reloaded g.log)" -ge "$1" ] && return 0; sleep 0.1; done
        tt_fail "no reload after SIGHUP"
    }
    send --sport 47301 --export $((T0 + 60)) tmpl:256:a data:256:a:10:$((T0 + 30)):23
    tt_wait_stat g "$(st)['records'] == 10" || tt_fail "flows lost"
    cp de.mmdb geo.mmdb # in place: same inode, other (smaller) content
    send --sport 47301 --export $((T0 + 60)) --seq 10 data:256:a:3:$((T0 + 30)):23
    # an address never looked up (no cache entry), whose nodes lay past the new end of file
    send --sport 47301 --export $((T0 + 60)) --seq 13 --src 10.70.0.1 \
        data:256:a:1:$((T0 + 30)):23
    alive g.log
    hup 1
    send --sport 47301 --export $((T0 + 60)) --seq 14 data:256:a:7:$((T0 + 30)):23
    cp ru.mmdb geo.new && mv geo.new geo.mmdb # by rename: a new inode
    send --sport 47301 --export $((T0 + 60)) --seq 21 data:256:a:2:$((T0 + 30)):23
    hup 2
    send --sport 47301 --export $((T0 + 60)) --seq 23 data:256:a:6:$((T0 + 30)):23
    tt_wait_stat g "$(st)['records'] == 29" || tt_fail "flows lost around the replacements"
    alive g.log
    tt_stop
    tt_jsonl_totals g/flows.jsonl s1 | awk '$1 == "country"' >got.txt
    # between a replacement and its SIGHUP (3 and 2 flows) the old handle is used
    # (or a private copy of it); either country is acceptable there, nothing else
    "$PY" - got.txt <<'EOF' || { cat got.txt >&2; tt_fail "countries do not follow the reloads"; }
import sys
c = {l.split()[1]: int(l.split()[2]) for l in open(sys.argv[1])}
# the one flow from 10.70.0.1, looked up in a file being rewritten: any answer
other = sum(v for k, v in c.items() if k not in ("RU", "DE"))
ok = sum(c.values()) == 29 and other <= 1 and 16 <= c.get("RU", 0) <= 21 \
    and 7 <= c.get("DE", 0) <= 12
sys.exit(0 if ok else 1)
EOF
    tt_note "geoip: $(tr '\n' ' ' <got.txt)"
    ;;

rrdcached)
    tt_need rrdcached
    SOCK="$TT_TMP/rrdcached.sock"
    tt_rrdcached "$SOCK"
    conf r.conf "$TT_TMP/r" "rrdcached = unix:$SOCK"
    tt_start r.conf r.log
    send --sport 47401 --export $((T0 + 400)) tmpl:256:a data:256:a:4:$((T0 + 30)):23 \
        data:256:a:1:$((T0 + 330)):23
    tt_wait_stat r "s['rrd']['updates'] >= 2 and s['rrd']['pending_lines'] == 0" || tt_fail "no update"
    # what rrdcached accepted but had not written dies with it (its journal is
    # buffered): written out first, so the truth below is every flow sent
    rrdtool flushcached --daemon "unix:$SOCK" "$TT_TMP/r/rrd/port/tcp/23.rrd" "$TT_TMP/r/rrd/total.rrd"
    kill -KILL "$CACHED_PID"
    wait "$CACHED_PID" 2>/dev/null || true
    rm -f "$SOCK" "$TT_TMP/rrdcached.pid"
    send --sport 47401 --export $((T0 + 700)) --seq 5 data:256:a:6:$((T0 + 630)):23
    tt_wait_stat r "s['rrd']['daemon_errors'] >= 1 and s['rrd']['pending_lines'] > 0" ||
        tt_fail "rrdcached down: no error counted, nothing queued"
    alive r.log
    tt_rrdcached "$SOCK"
    sleep 2 # past the first back-off
    send --sport 47401 --export $((T0 + 1000)) --seq 11 data:256:a:2:$((T0 + 930)):23
    tt_wait_stat r "s['rrd']['reconnects'] >= 1 and s['rrd']['pending_lines'] == 0" ||
        tt_fail "queued lines not sent after rrdcached returned"
    tt_stop
    tt_rrdcached_stop
    for f in port/tcp/23 total; do
        got=$(rrdsum "r/rrd/$f.rrd" "$T0" $((T0 + 1200)))
        [ "$got" = 13 ] || tt_fail "$f.rrd holds $got flows, want 4 + 1 + 6 + 2"
    done
    tt_note "rrdcached killed and restarted: queued steps landed, totals exact (13 flows)"
    ;;

diskfull)
    tt_need rrdtool
    [ "$(id -u)" = 0 ] || tt_skip "diskfull: mounting a tmpfs needs root"
    mkdir full
    mount -t tmpfs -o size=3m tmpfs full 2>/dev/null || tt_skip "diskfull: cannot mount a tmpfs here"
    trap 'tt_stop_all; sleep 0.5; umount "$TT_TMP/full" 2>/dev/null; rm -rf "$TT_TMP"' EXIT
    conf d.conf "$TT_TMP/full/d"
    tt_start d.conf d.log
    send --sport 47501 --export $((T0 + 400)) tmpl:256:a data:256:a:4:$((T0 + 30)):23 \
        data:256:a:1:$((T0 + 330)):80
    tt_wait_stat full/d "s['rrd']['updates'] >= 2" || tt_fail "no update before the disk filled"
    dd if=/dev/zero of=full/filler bs=64k 2>/dev/null || true # until ENOSPC
    # 445 needs a new file (refused: no space); 23 exists (updated in place)
    send --sport 47501 --export $((T0 + 700)) --seq 5 data:256:a:3:$((T0 + 630)):445 \
        data:256:a:2:$((T0 + 630)):23 data:256:a:1:$((T0 + 930)):80
    for _ in $(seq 1 50); do grep -qi "no space" d.log && break; sleep 0.1; done
    grep -qi "no space" d.log || { tail d.log >&2; tt_fail "disk full not reported"; }
    alive d.log
    kill -USR1 "$TT_DAEMON_PID"
    for _ in $(seq 1 50); do grep -q '"records":11' d.log && break; sleep 0.1; done
    grep -q '"records":11' d.log || tt_fail "reception stopped while the disk was full"
    rm full/filler
    sleep 11 # the store tries a file it could not create again after 10 s
    send --sport 47501 --export $((T0 + 1300)) --seq 11 data:256:a:5:$((T0 + 1230)):445 \
        data:256:a:1:$((T0 + 1530)):80
    tt_wait_stat full/d "s['sensors'][0]['records'] == 17" || tt_fail "flows lost after recovery"
    tt_stop
    F=full/d/rrd/port/tcp/445.rrd
    [ -s "$F" ] || tt_fail "445.rrd not created once space returned"
    got=$(rrdsum "$F" $((T0 + 1200)) $((T0 + 1500)))
    [ "$got" = 5 ] || tt_fail "445.rrd holds $got flows in the step after recovery, want 5"
    got=$(rrdsum full/d/rrd/port/tcp/23.rrd "$T0" $((T0 + 1800)))
    [ "$got" = 6 ] || tt_fail "23.rrd (existing, updated in place) holds $got flows, want 6"
    tt_note "disk full: reported, reception went on, 445.rrd created after recovery"
    ;;
*) tt_fail "unknown scenario $SCEN" ;;
esac
