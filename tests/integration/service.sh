#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The shipped systemd unit (dist/teitend.service, docs/quickstart.md), run as systemd
# would run it: `systemd-analyze verify` accepts it, then its Exec lines run in order
# as root: ExecStartPre (--check-config), then ExecStart (the daemon, which drops to
# `user =`, a system user this test creates). Flows are sent, the daemon is stopped
# with SIGTERM, and what the rollup and jsonl stores hold must equal flowgen's
# expectation. Before the fix, --check-config as root created rollup.sqlite and rrd/
# owned by root, and the daemon, once it had dropped to its user, lost every flow.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || tt_skip "needs root: the unit's daemon starts as root and drops to a user the test creates"
command -v systemd-analyze >/dev/null || tt_skip "systemd-analyze not installed (scripts/install-deps.sh --tests)"
command -v useradd >/dev/null || tt_skip "useradd not installed"
UNIT="$TT_SRC/dist/teitend.service"
[ -f "$UNIT" ] || tt_fail "no $UNIT"
tt_tmpdir
cd "$TT_TMP"
chmod 755 "$TT_TMP" # the service's user must reach its data directory below it

SVC_USER="ttsvc$$"
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SVC_USER" ||
    tt_fail "useradd $SVC_USER failed"
trap 'tt_cleanup; userdel "$SVC_USER" 2>/dev/null || true' EXIT

port=$(tt_port udp)
tt_conf teiten.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$port" "user = $SVC_USER" "rcvbuf = 16M"
printf '\n[plugin:rollup]\n[plugin:total]\n' >>teiten.conf
chmod 644 teiten.conf

# the unit as installed, with this build's teitend and this test's configuration
sed "s|/usr/local/bin/teitend|$TEITEND|g; s|/etc/teiten/teiten.conf|$TT_TMP/teiten.conf|g" \
    "$UNIT" >teitend.service
systemd-analyze verify "$TT_TMP/teitend.service" >verify.out 2>&1 ||
    { cat verify.out >&2; tt_fail "systemd-analyze verify refuses the unit"; }
tt_note "systemd-analyze verify: OK"

exec_line() { # KEY: the command of the unit's KEY= line (one line each)
    sed -n "s/^$1=//p" teitend.service
}
PRE=$(exec_line ExecStartPre)
START=$(exec_line ExecStart)
[ -n "$PRE" ] && [ -n "$START" ] || tt_fail "the unit has no ExecStartPre/ExecStart"

"$FLOWGEN" --seed 5 --flows 3000 --start 2019-05-01T00:00:00Z --duration 7200 \
    --out file:s.ipfix --expect expect.jsonl >/dev/null

# ExecStartPre as root: validates, writes nothing
# shellcheck disable=SC2086 # the unit's command line, split as systemd splits it here
$PRE >pre.out 2>&1 || { cat pre.out >&2; tt_fail "ExecStartPre failed"; }
[ ! -e data ] || { find data >&2; tt_fail "--check-config (ExecStartPre) created files"; }

# ExecStart as root: binds, drops to the service user
# shellcheck disable=SC2086
$START >daemon.log 2>&1 &
TT_DAEMON_PID=$!
TT_PIDS+=("$TT_DAEMON_PID")
for _ in $(seq 1 100); do
    grep -q "receiving" daemon.log && break
    kill -0 "$TT_DAEMON_PID" 2>/dev/null || { cat daemon.log >&2; tt_fail "the daemon exited at start"; }
    sleep 0.05
done
grep -q "receiving" daemon.log || { cat daemon.log >&2; tt_fail "the daemon did not start"; }
grep -q "running as $SVC_USER" daemon.log || { cat daemon.log >&2; tt_fail "the daemon did not drop to $SVC_USER"; }

"$FLOWGEN" --seed 5 --flows 3000 --start 2019-05-01T00:00:00Z --duration 7200 \
    --out "udp://127.0.0.1:$port" --rate 20000 >/dev/null
tt_wait_stat data 'sum(x["observed"] for x in s["sensors"]) == 3000' ||
    { cat data/stats.json >&2; tt_fail "not every flow arrived"; }
kill -TERM "$TT_DAEMON_PID"
wait "$TT_DAEMON_PID" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || { cat daemon.log >&2; tt_fail "the daemon exited $rc after SIGTERM"; }
if grep -qi "readonly\|refused\|not writable" daemon.log; then
    cat daemon.log >&2; tt_fail "the daemon reported a write it could not do"
fi

# jsonl: every line of the truth
sort expect.jsonl >expect.sorted
sort data/flows.jsonl >got.sorted
diff -q expect.sorted got.sorted >/dev/null ||
    { diff expect.sorted got.sorted | head >&2; tt_fail "jsonl differs from flowgen's expectation"; }
# rollup: the quarter's rank total equals the truth's packets
tt_rank_total expect.jsonl data 2019Q2
owner=$(stat -c %U data/rollup.sqlite data/rrd | sort -u)
[ "$owner" = "$SVC_USER" ] || tt_fail "data files owned by '$owner', not $SVC_USER"
tt_note "unit verified; ExecStartPre as root, daemon as $SVC_USER: every flow stored"

# a file the service user cannot write: the daemon refuses to start and names it
for f in stats.json rollup.sqlite rrd/total.rrd rrd/self/collector.rrd flows.jsonl; do
    [ -e "data/$f" ] || tt_fail "no data/$f after the run"
    chown root:root "data/$f"
    chmod 644 "data/$f"
    # shellcheck disable=SC2086
    if $START >refuse.log 2>&1; then tt_fail "the daemon started although data/$f is root's"; fi
    grep -q "data/$f" refuse.log || { cat refuse.log >&2; tt_fail "the refusal does not name data/$f"; }
    if grep -q "receiving" refuse.log; then tt_fail "the daemon said receiving before refusing data/$f"; fi
    chown "$SVC_USER:" "data/$f"
done
tt_note "a file the service user cannot write is refused at start, by name"
