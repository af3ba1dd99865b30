#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Static analysis: cppcheck over the tree's C (collector/ cli/ common/ plugins/ rrd/
# include/ tools/ examples/; the tests are left out: they poke at the code on purpose), or
# over the PATHs named. Checks: warning, style, performance, portability, and the
# errors cppcheck always reports. What it may let pass is in
# scripts/cppcheck/suppressions.txt (whole files, the tree) or at the line itself
# (/* cppcheck-suppress ID ; why */), each with its reason; GLib's macros that it
# must know are in scripts/cppcheck/glib.cfg.
# The sources are read as they are, not through the compile database: the same
# result from any tree, built or not, and in seconds (GLib's own headers are not
# parsed: gtk.cfg and glib.cfg stand for them).
# usage: check-static.sh [PATH...]
# Exit 0 when clean, 1 on a finding (printed as FILE:LINE: severity: id: message),
# 77 (skipped) when cppcheck is not installed (Debian: apt-get install cppcheck).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cc=${TT_CPPCHECK:-cppcheck}
if ! command -v "$cc" >/dev/null; then
    echo "check-static: SKIP: $cc is not installed (Debian: apt-get install cppcheck)" >&2
    exit 77
fi
cd "$top" # the suppressions name files from here
if [ $# -gt 0 ]; then
    paths=("$@")
else
    paths=(collector cli common plugins rrd include tools examples)
fi
jobs=$(nproc 2>/dev/null || echo 2)
# glib.cfg before gtk.cfg: for a macro both define, cppcheck keeps the first.
if "$cc" -q -j "$jobs" --std=c11 --enable=warning,style,performance,portability \
    --library=gnu --library=posix --library="$top/scripts/cppcheck/glib.cfg" --library=gtk \
    --inline-suppr --suppressions-list="$top/scripts/cppcheck/suppressions.txt" \
    --error-exitcode=1 --template='{file}:{line}: {severity}: {id}: {message}' \
    -I include -I collector -I rrd -I cli -I common -I plugins/common -I plugins/rrdplug -I tools \
    "${paths[@]}"; then
    echo "check-static: cppcheck $("$cc" --version | sed 's/^Cppcheck //'): no finding in ${paths[*]}"
else
    echo "check-static: cppcheck findings (above): fix the code, or suppress a false" \
        "positive at its line with the reason (scripts/cppcheck/suppressions.txt)" >&2
    exit 1
fi
