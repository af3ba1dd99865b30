#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `teitend --read` on a terminal shows one progress line rewritten in place (files,
# records, rate, percentage, ETA; docs/operations.md), at most a few times a second,
# ending with every record; with stderr not a terminal it prints no such line.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
"$FLOWGEN" --seed 9 --flows 150000 --duration 86400 --out file:a.ipfix >/dev/null
"$FLOWGEN" --seed 10 --flows 50000 --start 2019-05-02T00:00:00Z --duration 86400 --out file:b.ipfix >/dev/null
tt_conf t.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:1"
# on a pseudo-terminal: Python's pty.fork gives the daemon one as stdin, stdout and
# stderr, with or without a controlling terminal here (script(1) gives none to a
# command when it has none itself, as under CI or setsid)
"$PY" - "$TEITEND" -c t.conf --read a.ipfix b.ipfix --sensor s1 <<'PYEOF' ||
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:  # EIO: the child closed its side
        break
    if not d:
        break
    out += d
_, status = os.waitpid(pid, 0)
open("tty.out", "wb").write(out)
sys.exit(os.waitstatus_to_exitcode(status))
PYEOF
    { cat tty.out >&2; tt_fail "--read on a terminal failed"; }
{ tr '\r' '\n' <tty.out | grep -a '^.*reading: file' || true; } | sed 's/^.*reading:/reading:/' >lines
[ -s lines ] || { cat tty.out >&2; tt_fail "no progress line on a terminal"; }
grep -q $'\r' tty.out || tt_fail "the progress line is not rewritten in place"
tail -1 lines | grep -Eq '^reading: file 2/2, 200000 records, [0-9]+ records/s, 100 %, ETA 0:00' ||
    { tail -3 lines >&2; tt_fail "the last progress line does not show every record"; }
grep -Eq '^reading: file [12]/2, [0-9]+ records, [0-9]+ records/s, [0-9]+ %, ETA ([0-9]+:[0-9][0-9]|--:--)$' lines ||
    { head -3 lines >&2; tt_fail "progress lines do not have the documented form"; }
tt_note "terminal: $(wc -l <lines) progress lines, last: $(tail -1 lines)"
# not a terminal: nothing of the kind
rm -rf data
"$TEITEND" -c t.conf --read a.ipfix b.ipfix --sensor s1 2>plain.err >/dev/null ||
    { cat plain.err >&2; tt_fail "--read failed"; }
if grep -q "reading: file" plain.err; then tt_fail "a progress line although stderr is not a terminal"; fi
tt_note "not a terminal: no progress line"
