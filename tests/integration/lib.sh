# SPDX-License-Identifier: BSD-2-Clause
# Shared helpers for the integration scripts (sourced, not run).
# Environment from CTest: TT_BUILD, TT_SRC, TT_FLOWDATA, TT_PLUGIN_DIR.
# Conventions: exit 77 = skipped (with a reason on stderr), any other non-zero = failed.
set -euo pipefail

TEITEND="$TT_BUILD/collector/teitend"
TEITEN="$TT_BUILD/cli/teiten"
FLOWGEN="$TT_BUILD/tools/flowgen"
PY=/usr/bin/python3

tt_skip() { echo "SKIP: $*" >&2; exit 77; }
tt_fail() { echo "FAIL: $*" >&2; exit 1; }
tt_note() { echo "# $*" >&2; }
# tt_need TOOL...: skip unless every TOOL is on the PATH.
tt_need() {
    local t
    for t in "$@"; do command -v "$t" >/dev/null || tt_skip "$t is not installed"; done
}
# Waits for the daemon (start, stop, stats) are multiplied by TT_TIME_SCALE: the
# sanitizer run of the suite sets it, its binaries being several times slower.
TT_SCALE=${TT_TIME_SCALE:-1}

# A private temp dir, removed on exit unless TT_KEEP is set.
tt_tmpdir() {
    TT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/teiten-test.XXXXXX")
    if [ -z "${TT_KEEP:-}" ]; then trap 'tt_cleanup' EXIT; else trap 'tt_cleanup_keep' EXIT; fi
}
tt_cleanup() { tt_stop_all || true; rm -rf "$TT_TMP"; }
tt_cleanup_keep() { tt_stop_all || true; echo "# kept $TT_TMP" >&2; }

# A free loopback port for PROTO (udp|tcp), chosen below the kernel's ephemeral
# range: a port the kernel just handed out (port 0) is soon handed out again to
# some sender's socket in a parallel test, and the daemon then cannot bind it.
tt_port() {
    "$PY" - "$1" <<'PYEOF'
import random, socket, sys
t = socket.SOCK_DGRAM if sys.argv[1] == 'udp' else socket.SOCK_STREAM
lo = 32768
try:
    lo = int(open('/proc/sys/net/ipv4/ip_local_port_range').read().split()[0])
except OSError:
    pass
rng = random.SystemRandom()
for _ in range(1000):
    port = rng.randrange(10000, max(lo, 10001))
    s = socket.socket(socket.AF_INET, t)
    try:
        s.bind(('127.0.0.1', port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port")
PYEOF
}

TT_PIDS=()
# tt_rrdcached SOCKET: start a real rrdcached on a unix socket, base dir $TT_TMP,
# journal in $TT_TMP/rrdcached.journal, log appended to ./rrdcached.log; sets
# CACHED_PID and returns once the socket exists.
tt_rrdcached() {
    mkdir -p "$TT_TMP/rrdcached.journal"
    rrdcached -g -l "unix:$1" -p "$TT_TMP/rrdcached.pid" -j "$TT_TMP/rrdcached.journal" -F \
        -w 3600 -z 1 -b "$TT_TMP" >>rrdcached.log 2>&1 &
    CACHED_PID=$!
    TT_PIDS+=("$CACHED_PID")
    for _ in $(seq 1 $((100 * TT_SCALE))); do [ -S "$1" ] && return 0; sleep 0.05; done
    cat rrdcached.log >&2
    tt_fail "rrdcached did not start"
}
# tt_rrdcached_stop: SIGTERM tt_rrdcached's daemon (it writes every file it caches at TERM) and
# wait for it; its pid file goes too, so that tt_rrdcached may start another.
tt_rrdcached_stop() {
    kill -TERM "$CACHED_PID"
    wait "$CACHED_PID" 2>/dev/null || true
    rm -f "$TT_TMP/rrdcached.pid"
}
# tt_start_stuck_writer CONF [extra [collector] lines...]: teitend with the RRD plugins and
# rollup (data in $TT_TMP/data, log run.log) listening on a fresh UDP port ($PORT), writing
# through a real rrdcached ($SOCK, $CACHED_PID) that is then SIGSTOPped: the writer sits in
# a 30 s wait on it while reception goes on. SIGCONT it before any failure that needs it.
tt_start_stuck_writer() {
    local conf=$1
    shift
    SOCK="$TT_TMP/rrdcached.sock"
    tt_rrdcached "$SOCK"
    PORT=$(tt_port udp)
    tt_rrd_conf "$conf" "$TT_TMP/data" "ipfix+udp://127.0.0.1:$PORT" "rrdcached = unix:$SOCK" "$@"
    printf '\n[plugin:rollup]\n' >>"$conf"
    tt_start "$conf" run.log
    kill -STOP "$CACHED_PID"
}
# tt_replay_journal CONF LOG DATA LINES: a new start on CONF (no traffic) must replay the
# LINES update lines of DATA/rrd/.journal, show them in stats.json, and leave no journal
# after its stop.
tt_replay_journal() {
    local conf=$1 log=$2 data=$3 lines=$4
    tt_start "$conf" "$log"
    grep -q "replaying $lines update lines" "$log" ||
        { cat "$log" >&2; tt_fail "the journal was not replayed at the next start"; }
    tt_wait_stat "$data" "s[\"rrd\"][\"journal_replayed\"] == $lines and s[\"rrd\"][\"pending_lines\"] == 0" ||
        { cat "$data/stats.json" >&2; tt_fail "stats.json does not show the replayed journal"; }
    tt_stop
    [ ! -e "$data/rrd/.journal" ] || tt_fail "the journal is still there after its replay"
}
# tt_start CONF LOG: run teitend in the foreground, wait until it receives.
tt_start() {
    local conf=$1 log=$2
    "$TEITEND" -c "$conf" -f >"$log" 2>&1 &
    TT_DAEMON_PID=$!
    TT_PIDS+=("$TT_DAEMON_PID")
    for _ in $(seq 1 $((100 * TT_SCALE))); do
        grep -q "receiving" "$log" 2>/dev/null && return 0
        kill -0 "$TT_DAEMON_PID" 2>/dev/null || { cat "$log" >&2; tt_fail "teitend exited at start"; }
        sleep 0.05
    done
    cat "$log" >&2
    tt_fail "teitend did not start"
}

# tt_stop [PID]: SIGTERM and wait; fails if it does not stop within 60 s, if it exits
# non-zero (a sanitizer report aborts with non-zero too) or if it was already gone.
tt_stop() {
    local pid=${1:-$TT_DAEMON_PID} rc=0
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; tt_fail "teitend (pid $pid) had already exited (status $rc) before the stop"; }
    for _ in $(seq 1 $((600 * TT_SCALE))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || rc=$?
            [ "$rc" -eq 0 ] || tt_fail "teitend (pid $pid) exited with status $rc at the stop"
            return 0
        fi
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    tt_fail "teitend did not stop within 60 s"
}
# tt_udp_read PORT: wait until the UDP socket bound to PORT holds nothing unread (its
# rx_queue in /proc/net/udp is 0), at most 30 s (x TT_SCALE): a sender's burst is read
# before a stop whose 2 s socket drain could not finish it on a slow (sanitizer) run.
tt_udp_read() {
    local hex q
    hex=$(printf '%04X' "$1")
    for _ in $(seq 1 $((300 * TT_SCALE))); do
        q=$(awk -v p="$hex" 'NR > 1 { split($2, a, ":"); split($5, b, ":"); if (a[2] == p) print b[2] }' /proc/net/udp /proc/net/udp6 | sort -u | tr -d '\n')
        [ -n "$q" ] || tt_fail "no UDP socket on port $1"
        [[ $q =~ ^0+$ ]] && return 0
        sleep 0.1
    done
    tt_fail "port $1: datagrams still unread after $((30 * TT_SCALE)) s"
}
tt_stop_all() { for p in "${TT_PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done; }

# tt_wait_stat DATA EXPR: wait (10 s) until the python EXPR over stats.json `s` is true.
tt_wait_stat() {
    local data=$1 expr=$2
    for _ in $(seq 1 $((100 * TT_SCALE))); do
        if "$PY" - "$data/stats.json" "$expr" 2>/dev/null <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PYEOF
        then return 0; fi
        sleep 0.1
    done
    return 1
}

# tt_softflowd PCAP ARGS...: softflowd reads PCAP (-r) with ARGS (destination, version...)
# to its end, its log in sf.log. softflowd 1.1.0 reading a file waits in poll() on its
# control socket between batches and after the last packet: a control command each 50 ms
# keeps it going until it exits (30 s at the most, then it is killed and the test fails).
tt_softflowd() {
    local pcap=$1 pid
    shift
    softflowd -r "$pcap" -d -c "$PWD/sf.ctl" -p "$PWD/sf.pid" "$@" >sf.log 2>&1 &
    pid=$!
    for _ in $(seq 1 $((600 * TT_SCALE))); do
        kill -0 $pid 2>/dev/null || break
        [ -S sf.ctl ] && softflowctl -c "$PWD/sf.ctl" statistics >/dev/null 2>&1
        sleep 0.05
    done
    kill -0 $pid 2>/dev/null && { kill $pid; tt_fail "softflowd did not exit after the file"; }
    wait $pid || true
    rm -f sf.ctl sf.pid
}

# tt_geoip [DIR]: the tiny test GeoIP database DIR/geo.mmdb and its table DIR/geo.tsv
# (DIR: the current one); skips without Debian's libmaxmind-db-writer-perl.
tt_geoip() {
    local dir=${1:-.} rc=0
    /usr/bin/perl "$TT_SRC/tests/data/make_geoip.pl" --table "$dir/geo.tsv" "$dir/geo.mmdb" \
        >/dev/null || rc=$?
    [ $rc -eq 77 ] && tt_skip "libmaxmind-db-writer-perl is not installed"
    [ $rc -eq 0 ] || tt_fail "make_geoip.pl failed ($rc)"
}

# tt_rank_total EXPECT DATA QUARTER: `teiten rank` over DATA's rollups for QUARTER (written
# to rank.json) must total the packets of flowgen's expectation EXPECT.
tt_rank_total() {
    "$TEITEN" rank --data "$2" --quarter "$3" --format json >rank.json || tt_fail "teiten rank failed"
    "$PY" - "$1" rank.json <<'PYEOF' || tt_fail "rank total differs from flowgen's expectation"
import json, sys
want = sum(json.loads(l)['packets'] for l in open(sys.argv[1]) if json.loads(l)['dim'] == 'total')
got = json.load(open(sys.argv[2]))['total']
print(f"# rank total {got}, expected {want}", file=sys.stderr)
sys.exit(0 if got == want and want > 0 else 1)
PYEOF
}

# tt_buckets DB: the buckets the rollup database DB holds, read-only (0 while it cannot be read).
tt_buckets() {
    "$PY" -c 'import sqlite3, sys
try:
    print(sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True).execute("select count(*) from buckets").fetchone()[0])
except Exception:
    print(0)' "$1" 2>/dev/null
}
# tt_wait_buckets DB N PID: wait (30 s) until the rollup database DB holds N buckets or PID
# has exited; prints the count last read.
tt_wait_buckets() {
    local n=0
    for _ in $(seq 1 $((600 * TT_SCALE))); do
        n=$(tt_buckets "$1")
        [ "$n" -ge "$2" ] && break
        kill -0 "$3" 2>/dev/null || break
        sleep 0.05
    done
    echo "$n"
}

# tt_jsonl_totals FILE [SENSOR]: "dim key flows packets bytes" per (dim,key), summed
# over buckets (late lines included), sorted. SENSOR filters when given.
tt_jsonl_totals() {
    "$PY" - "$@" <<'PYEOF'
import json, sys, collections
t = collections.defaultdict(lambda: [0, 0, 0])
for line in open(sys.argv[1]):
    o = json.loads(line)
    if len(sys.argv) > 2 and o['sensor'] != sys.argv[2]:
        continue
    v = t[(o['dim'], o['key'])]
    v[0] += o['flows']; v[1] += o['packets']; v[2] += o['bytes']
for (d, k), v in sorted(t.items()):
    print(d, k, *v)
PYEOF
}

# tt_conf FILE DATA LISTEN [extra [collector] lines...]: a one-sensor config
# (exporters 127.0.0.0/8 and ::1, darknet 203.0.113.0/24 and 2001:db8:dead::/48) with jsonl.
tt_conf() {
    local file=$1 data=$2 listen=$3; shift 3
    {
        echo "[collector]"
        echo "listen = $listen"
        echo "data-dir = $data"
        echo "plugin-dir = $TT_PLUGIN_DIR"
        for l in "$@"; do echo "$l"; done
        echo
        echo "[sensor:s1]"
        echo "exporters = 127.0.0.0/8; ::1"
        echo "darknet = 203.0.113.0/24; 2001:db8:dead::/48"
        echo
        echo "[plugin:jsonl]"
        echo "path = flows.jsonl"
    } >"$file"
}

# tt_rrd_conf FILE DATA LISTEN [extra [collector] lines...]: tt_conf's config with the
# RRD plugins (port, country, total) in place of jsonl.
tt_rrd_conf() {
    tt_conf "$@"
    sed -i '/^\[plugin:jsonl\]/,$d' "$1"
    printf '[plugin:port]\n[plugin:country]\n[plugin:total]\n' >>"$1"
}

# tt_conf_sensors CONF: replace tt_conf's one sensor (s1) by the groups on stdin.
tt_conf_sensors() {
    sed -i '/^\[sensor:s1\]/,/^darknet/d' "$1"
    cat >>"$1"
}

# tt_conf_legit_and CONF NAME ADDR: sensors "legit" (exporter 127.0.0.2) and NAME (exporter
# ADDR), one dark /24: a hostile sender and a legitimate one, counted apart.
tt_conf_legit_and() {
    printf '[sensor:legit]\nexporters = 127.0.0.2\ndarknet = 203.0.113.0/24\n\n[sensor:%s]\nexporters = %s\ndarknet = 203.0.113.0/24\n' \
        "$2" "$3" | tt_conf_sensors "$1"
}
