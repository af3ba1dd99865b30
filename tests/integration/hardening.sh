#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The binaries are built hardened (CMakeLists.txt): every executable is PIE, every
# ELF file has full RELRO (GNU_RELRO and BIND_NOW) and calls the stack protector's
# check; the daemon and the CLI use fortified libc calls (__*_chk), except in a
# sanitizer tree, which builds without _FORTIFY_SOURCE. Read with readelf.
. "$(dirname "$0")/lib.sh"
command -v readelf >/dev/null || tt_skip "readelf is not installed (Debian: binutils)"
sanitize=$(sed -n 's/^TT_SANITIZE:BOOL=//p' "$TT_BUILD/CMakeCache.txt")
bad=0
# (readelf's output is read whole first: grep -q ending a pipe early is a SIGPIPE failure)
check() { # FILE KIND(exe|so)
    local f=$1 kind=$2 hdr seg dyn
    hdr=$(readelf -hW "$f") seg=$(readelf -lW "$f") dyn=$(readelf -dW "$f")
    grep -q GNU_RELRO <<<"$seg" || { echo "$f: no GNU_RELRO" >&2; bad=1; }
    grep -q 'BIND_NOW\|Flags:.*NOW' <<<"$dyn" || { echo "$f: not BIND_NOW" >&2; bad=1; }
    if [ "$kind" = exe ]; then
        grep -q 'Type:.*DYN' <<<"$hdr" || { echo "$f: not PIE" >&2; bad=1; }
        grep -q 'FLAGS_1.*PIE' <<<"$dyn" || { echo "$f: no PIE flag" >&2; bad=1; }
    fi
}
n=0
for f in "$TT_BUILD/collector/teitend" "$TT_BUILD/cli/teiten" "$TT_BUILD/tools/flowgen"; do
    [ -x "$f" ] || tt_fail "$f not built"
    check "$f" exe
    n=$((n + 1))
done
for f in "$TT_BUILD"/plugins/*.so; do
    check "$f" so
    n=$((n + 1))
done
for f in "$TT_BUILD/collector/teitend" "$TT_BUILD/cli/teiten"; do
    syms=$(readelf -sW --dyn-syms "$f")
    grep -q '__stack_chk_fail' <<<"$syms" || { echo "$f: no stack protector" >&2; bad=1; }
    if [ "$sanitize" != ON ]; then
        grep -qE '__[a-z0-9_]+_chk@' <<<"$syms" ||
            { echo "$f: no fortified call (_FORTIFY_SOURCE)" >&2; bad=1; }
    fi
done
[ $bad -eq 0 ] || tt_fail "binaries not hardened (see above)"
tt_note "$n ELF files: PIE, full RELRO, stack protector$([ "$sanitize" != ON ] && echo ", fortified")"
