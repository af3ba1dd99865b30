#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Operating the daemon, as docs/operations.md describes it:
# 1. --check-config: exit 0 on a good file; on bad ones a non-zero exit and a
#    message naming the file, the group and the key.
# 2. pidfile written and removed; SIGUSR1 logs the stats; SIGHUP reload: a
#    changed darknet classifies the next flows, counts from before the reload
#    stay; a broken file on SIGHUP keeps the running configuration.
# 3. As root with `user = nobody`: the uid after start, the data files owned
#    by nobody and not world-writable, sockets only on the configured addresses.
# 4. Daemon mode (no -f): detaches, writes the pidfile, stops on SIGTERM.
# Flows come from malformed.py (valid mode), which also knows their totals.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
GEN="$TT_SRC/tests/integration/malformed.py"

# jsonl flows of sensor $2 in file $1 (total dimension, late lines included)
flows_of() { tt_jsonl_totals "$1" "$2" | awk '$1 == "total" {n += $3} END {print n + 0}'; }
stat_of() { "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
wait_log() { # file pattern: wait 10 s for a log line
    for _ in $(seq 1 100); do grep -q "$2" "$1" && return 0; sleep 0.1; done
    cat "$1" >&2
    tt_fail "no \"$2\" in $1"
}

# ---- 1. --check-config --------------------------------------------------------
port=$(tt_port udp)
tt_conf good.conf "$TT_TMP/good" "ipfix+udp://127.0.0.1:$port"
"$TEITEND" -c "$TT_TMP/good.conf" --check-config >check.out 2>&1 || { cat check.out >&2; tt_fail "good config refused"; }
grep -q "configuration OK" check.out || tt_fail "--check-config printed no OK"
bad() { # name, sed expression, expected group, expected key
    sed "$2" good.conf >"$1.conf"
    if "$TEITEND" -c "$TT_TMP/$1.conf" --check-config >"$1.out" 2>&1; then
        tt_fail "$1: --check-config accepted a bad file"
    fi
    grep -q "$1.conf" "$1.out" && grep -qF "$3" "$1.out" && grep -qF "$4" "$1.out" ||
        { cat "$1.out" >&2; tt_fail "$1: message does not name file, $3 and $4"; }
}
bad unknown_key '/^\[collector\]/a frobnicate = 1' '[collector]' frobnicate
bad bad_step 's/^data-dir/step = 7\ndata-dir/' '[collector]' step
bad bad_darknet 's#^darknet = .*#darknet = 300.1.2.3/24#' '[sensor:s1]' darknet
bad plugin_key '/^\[plugin:jsonl\]/a frob = 2' '[plugin:jsonl]' frob
bad trailing_comment 's/^data-dir = \(.*\)/data-dir = \1\ngrace = 60 # one minute/' '[collector]' grace
tt_note "--check-config: good accepted, 5 bad files refused with file, group and key"

# ---- 2. pidfile, SIGUSR1, SIGHUP --------------------------------------------------
port=$(tt_port udp)
tt_conf run.conf "$TT_TMP/run" "ipfix+udp://127.0.0.1:$port" "pidfile = $TT_TMP/run.pid"
tt_start "$TT_TMP/run.conf" run.log
[ "$(cat run.pid)" = "$TT_DAEMON_PID" ] || tt_fail "pidfile holds '$(cat run.pid)', not $TT_DAEMON_PID"
kill -USR1 "$TT_DAEMON_PID"
wait_log run.log 'stats: {'

# before: 203.0.113.0/24 is dark
"$PY" "$GEN" valid --addr 127.0.0.5 --port "$port" --flows 17 --expect a.json
"$PY" "$GEN" valid --addr 127.0.0.5 --port "$port" --flows 4 --dark 198.51.100. --expect b.json
sed -i 's#^darknet = .*#darknet = 198.51.100.0/24#' run.conf
kill -HUP "$TT_DAEMON_PID"
wait_log run.log 'reloaded'
# after: 198.51.100.0/24 is dark, 203.0.113.0/24 is lit
"$PY" "$GEN" valid --addr 127.0.0.5 --port "$port" --flows 6 --expect c.json
"$PY" "$GEN" valid --addr 127.0.0.5 --port "$port" --flows 8 --dark 198.51.100. --expect d.json
# a broken file on SIGHUP: refused, the running configuration stays
sed -i '/^\[collector\]/a bogus-key = 1' run.conf
sed -i 's#^darknet = .*#darknet = 203.0.113.0/24#' run.conf
kill -HUP "$TT_DAEMON_PID"
wait_log run.log 'reload refused'
"$PY" "$GEN" valid --addr 127.0.0.5 --port "$port" --flows 3 --dark 198.51.100. --expect e.json
"$PY" "$GEN" valid --addr 127.0.0.5 --port "$port" --flows 5 --expect f.json
kill -0 "$TT_DAEMON_PID" || tt_fail "teitend died on a broken reload"
tt_stop
[ ! -e run.pid ] || tt_fail "pidfile left behind after SIGTERM"
# observed: a (17, before) + d (8) + e (3); leaks: b (4) + c (6) + f (5)
got=$(flows_of run/flows.jsonl s1)
[ "$got" -eq $((17 + 8 + 3)) ] || tt_fail "jsonl has $got flows, want 28 (17 before the reload + 11 after)"
leaks=$(stat_of run/stats.json "s['sensors'][0]['leaks']")
[ "$leaks" -eq $((4 + 6 + 5)) ] || tt_fail "$leaks leaks, want 15"
# the port lines of the 17 flows sent before the reload are all still there
"$PY" - run/flows.jsonl a.json d.json e.json <<'PYEOF' || tt_fail "per-key totals after reload"
import json, sys, collections
got = collections.Counter()
for line in open(sys.argv[1]):
    o = json.loads(line)
    got[(o["dim"], o["key"])] += o["flows"]
want = collections.Counter()
for path in sys.argv[2:]:  # each file holds its own flows only (a fresh sequence)
    for line in json.load(open(path))["lines"]:
        d, k, f, _, _ = line.split()
        want[(d, k)] += int(f)
if got != want:
    sys.exit("jsonl %s != %s" % (dict(got), dict(want)))
PYEOF
tt_note "SIGHUP: new darknet applied, 17 flows from before kept, broken reload refused"

# ---- 3. privilege drop ---------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    tt_note "privilege drop not tested: not root"
    PRIV=skipped
elif ! id nobody >/dev/null 2>&1; then
    tt_note "privilege drop not tested: no user nobody"
    PRIV=skipped
else
    PRIV=tested
    chmod 755 "$TT_TMP"
    mkdir -m 755 "$TT_TMP/piddir" && chown nobody "$TT_TMP/piddir"
    pu=$(tt_port udp); pt=$(tt_port tcp)
    tt_conf priv.conf "$TT_TMP/priv" "ipfix+udp://127.0.0.1:$pu; ipfix+tcp://127.0.0.1:$pt" \
        "user = nobody" "pidfile = $TT_TMP/piddir/teitend.pid"
    tt_start "$TT_TMP/priv.conf" priv.log
    uid=$(awk '/^Uid:/ {print $2 " " $3 " " $4 " " $5}' "/proc/$TT_DAEMON_PID/status")
    [ "$uid" = "65534 65534 65534 65534" ] || tt_fail "uid after start: $uid, want nobody (65534)"
    gid=$(awk '/^Gid:/ {print $2}' "/proc/$TT_DAEMON_PID/status")
    [ "$gid" = "$(id -g nobody)" ] || tt_fail "gid after start: $gid"
    # listening sockets of this pid: exactly the configured ones
    socks=$( (ss -Hlunp; ss -Hltnp) | grep "pid=$TT_DAEMON_PID," | awk '{print $4}' | sort)
    want=$(printf '127.0.0.1:%s\n127.0.0.1:%s\n' "$pu" "$pt" | sort)
    [ "$socks" = "$want" ] || tt_fail "listening: $(echo $socks), want $(echo $want)"
    "$PY" "$GEN" valid --addr 127.0.0.6 --port "$pu" --flows 9 --expect p.json
    tt_stop
    [ "$(flows_of priv/flows.jsonl s1)" -eq 9 ] || tt_fail "privilege drop: flows not counted"
    for f in priv priv/flows.jsonl priv/stats.json; do
        [ "$(stat -c %U "$f")" = nobody ] || tt_fail "$f is owned by $(stat -c %U "$f"), not nobody"
    done
    ww=$(find priv -perm -o+w | head -3)
    [ -z "$ww" ] || tt_fail "world-writable: $ww"
    [ ! -e piddir/teitend.pid ] || tt_fail "pidfile left behind in a directory nobody may write"
    tt_note "privilege drop: uid 65534, files owned by nobody, sockets $(echo $socks)"
fi

# ---- 4. daemon mode -------------------------------------------------------------
port=$(tt_port udp)
tt_conf bg.conf "$TT_TMP/bg" "ipfix+udp://127.0.0.1:$port" "pidfile = $TT_TMP/bg.pid"
timeout 10 "$TEITEND" -c "$TT_TMP/bg.conf" || tt_fail "teitend (daemon mode) exited $?"
for _ in $(seq 1 100); do [ -s bg.pid ] && break; sleep 0.1; done
[ -s bg.pid ] || tt_fail "daemon mode: no pidfile"
bgpid=$(cat bg.pid)
TT_PIDS+=("$bgpid")
kill -0 "$bgpid" || tt_fail "daemon mode: pid $bgpid not running"
[ "$(awk '/^PPid:/ {print $2}' "/proc/$bgpid/status")" != "$$" ] || tt_fail "daemon mode: did not detach"
# double fork: a session of its own, and not its leader (it can never get a terminal back)
sid=$(ps -o sid= -p "$bgpid" | tr -d ' ')
[ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] && [ "$sid" != "$bgpid" ] ||
    tt_fail "daemon mode: session $sid, not a session of its own"
"$PY" "$GEN" valid --addr 127.0.0.7 --port "$port" --flows 4 --expect bg.json
kill -TERM "$bgpid"
for _ in $(seq 1 100); do kill -0 "$bgpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$bgpid" 2>/dev/null && tt_fail "daemon mode: still running 10 s after SIGTERM"
[ ! -e bg.pid ] || tt_fail "daemon mode: pidfile left behind"
[ "$(flows_of bg/flows.jsonl s1)" -eq 4 ] || tt_fail "daemon mode: flows not counted"

# ---- 5. one teitend per data directory and per UDP port -------------------------
port=$(tt_port udp); port2=$(tt_port udp)
tt_conf one.conf "$TT_TMP/one" "ipfix+udp://127.0.0.1:$port"
tt_conf two.conf "$TT_TMP/one" "ipfix+udp://127.0.0.1:$port2"
tt_conf three.conf "$TT_TMP/three" "ipfix+udp://127.0.0.1:$port"
tt_start one.conf one.log
first=$TT_DAEMON_PID
"$TEITEND" -c two.conf -f >two.log 2>&1 && tt_fail "a second teitend ran on a data-dir in use"
grep -q "data-dir $TT_TMP/one is in use by another teitend (pid $first" two.log ||
    { cat two.log >&2; tt_fail "second teitend: no clear data-dir message"; }
"$TEITEND" -c two.conf --read /dev/null >read.log 2>&1 && tt_fail "--read ran on a data-dir in use"
grep -q "is in use by another teitend" read.log || { cat read.log >&2; tt_fail "--read: no data-dir message"; }
"$TEITEND" -c three.conf -f >three.log 2>&1 && tt_fail "a second teitend bound a UDP port in use"
grep -q "127.0.0.1:$port" three.log || { cat three.log >&2; tt_fail "port in use: the message does not name it"; }
"$PY" "$GEN" valid --addr 127.0.0.8 --port "$port" --flows 3 --expect one.json
tt_stop "$first"
[ "$(flows_of one/flows.jsonl s1)" -eq 3 ] || tt_fail "the first teitend lost flows to the second"
tt_note "a second teitend on the same data-dir or UDP port refuses to start, naming it"

if [ -S /dev/log ]; then
    tt_note "daemon mode: logs went to syslog (/dev/log), not checked here"
else
    tt_note "daemon mode: no syslog socket on this host; log content not checked"
fi
tt_note "operations: check-config, pidfile, SIGUSR1, SIGHUP, privilege drop ($PRIV), daemon mode"
