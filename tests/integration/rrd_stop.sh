#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A clean stop of a collector holding a few thousand RRD files (docs/storage.md):
# live over UDP, a half-day flowgen scenario whose backscatter hits thousands of
# destination ports, then SIGTERM.
# 1. librrd directly: the stop must end within 60 s (the time is printed), every file's
#    last update must be the UTC midnight after the data (`rrdtool last`, all files), and
#    total, countries and the busiest ports must equal flowgen's truth step by step and
#    day by day (rrd_check.py on that subset: checking every file takes minutes).
# 2. through a real rrdcached that is SIGSTOPped just before SIGTERM: the stop must still
#    end within 60 s and leave its unsent update lines in rrd/.journal; after SIGCONT a
#    new start (no traffic) replays the journal and the files end exactly as in case 1.
. "$(dirname "$0")/lib.sh"
tt_need rrdtool rrdcached
tt_tmpdir
cd "$TT_TMP"
CHECK="$TT_SRC/tests/integration/rrd_check.py"
PORTS="23/tcp:40,445/tcp:15,22/tcp:10,53/udp:5,icmp:5"
GEN=(--seed 41 --flows 20000 --start 2019-05-01T00:00:00Z --duration 43200 --ports "$PORTS" --backscatter-fraction 0.5)
MIDNIGHT=1556755200 # 2019-05-02T00:00:00Z, the UTC midnight after the scenario
"$FLOWGEN" "${GEN[@]}" --out file:stop.ipfix --expect stop.jsonl >/dev/null
# the subset checked step by step: total, every country, the five named ports
grep -E '"dim": ?"(total|country)"|"key": ?"(23/tcp|445/tcp|22/tcp|53/udp|icmp)"' stop.jsonl >subset.jsonl
[ -s subset.jsonl ] || tt_fail "could not select the subset of the expectation"

# thousands of file creations share 2 CPUs with reception: a 64 MiB receive buffer; the
# fill of thousands of files to midnight through librrd takes longer than the default
# stop-timeout (10 s) on a loaded machine: this test gives the stop its own 60 s
# (stop_timeout.sh tests the deadline and its journal)
stop_conf() { # FILE DATA PORT [extra [collector] line]
    tt_rrd_conf "$1" "$2" "ipfix+udp://127.0.0.1:$3" "rcvbuf = 64M" "stop-timeout = 60" ${4:+"$4"}
}

feed() { # CONF LOG DATA PORT: start, send the scenario, wait until all of it arrived
    # and the writer has done with it (stats.json is written by the core thread, so it
    # shows every record before the writer has created the files they go to)
    tt_start "$1" "$2"
    "$FLOWGEN" "${GEN[@]}" --out "udp://127.0.0.1:$4" --rate 10000 >/dev/null
    tt_wait_stat "$3" 'sum(x["observed"] for x in s["sensors"]) == 20000' ||
        { grep -o '"[a-z_]*drops":[0-9]*\|"records_in":[0-9]*\|"seq_lost":[0-9]*' "$3/stats.json" >&2; tt_fail "not every record arrived"; }
    for _ in $(seq 1 12); do
        tt_wait_stat "$3" 's["writer_pending"] == 0 and s["rrd"]["pending_lines"] == 0' && return 0
    done
    tt_fail "the writer did not catch up within 2 minutes"
}

timed_stop() { # NAME: SIGTERM the daemon, print and check the time the stop took
    local t0 t1
    t0=$(date +%s.%N)
    tt_stop
    t1=$(date +%s.%N)
    STOP_S=$("$PY" -c "print('%.1f' % ($t1 - $t0))")
    tt_note "$1: stop took $STOP_S s"
    "$PY" -c "import sys; sys.exit(0 if $t1 - $t0 < 60 else 1)" || tt_fail "$1: stop took $STOP_S s"
}

all_at_midnight() { # NAME DATA [--daemon ADDR]: every file's last update is MIDNIGHT
    local name=$1 data=$2
    shift 2
    find "$data/rrd" -name '*.rrd' | sort >"$name.files"
    local n
    n=$(wc -l <"$name.files")
    [ "$n" -gt 2000 ] || tt_fail "$name: only $n RRD files (the scenario must make thousands)"
    sed "s|^|last |; s|\$| $*|" "$name.files" | rrdtool - >"$name.last"
    local bad
    bad=$(grep -v '^OK' "$name.last" | grep -vc "^$MIDNIGHT\$" || true)
    [ "$bad" -eq 0 ] || { grep -v '^OK' "$name.last" | sort | uniq -c | head >&2; tt_fail "$name: $bad of $n files do not end at the midnight after the data"; }
    tt_note "$name: all $n files end at $MIDNIGHT"
}

# 1. librrd directly
P1=$(tt_port udp)
stop_conf direct.conf "$TT_TMP/direct" "$P1"
feed direct.conf direct.log direct "$P1"
timed_stop direct
all_at_midnight direct direct
"$PY" "$CHECK" direct/rrd subset.jsonl stop.ipfix 300 >direct.check ||
    { head -20 direct.check >&2; tt_fail "direct: files differ from the truth"; }

# 2. through rrdcached, SIGSTOPped at the stop
SOCK="$TT_TMP/rrdcached.sock"
tt_rrdcached "$SOCK"
P2=$(tt_port udp)
stop_conf cached.conf "$TT_TMP/cached" "$P2" "rrdcached = unix:$SOCK"
feed cached.conf cached.log cached "$P2"
kill -STOP "$CACHED_PID"
timed_stop rrdcached-stopped
kill -CONT "$CACHED_PID"
[ -s cached/rrd/.journal ] || { tail -5 cached.log >&2; tt_fail "no journal after a stop with rrdcached stopped"; }
JOURNALED=$(wc -l <cached/rrd/.journal)
tt_note "journal: $JOURNALED update lines"
# the next start replays the journal before anything else
tt_replay_journal cached.conf cached2.log cached "$JOURNALED"
tt_rrdcached_stop # flushes every file
if grep -qi "illegal attempt" cached.log cached2.log; then tt_fail "illegal attempt to update logged"; fi
all_at_midnight rrdcached-journal cached
"$PY" "$CHECK" cached/rrd subset.jsonl stop.ipfix 300 >cached.check ||
    { head -20 cached.check >&2; tt_fail "rrdcached: files differ from the truth after the journal replay"; }
tt_note "rrdcached: journal replayed, files complete and exact"
