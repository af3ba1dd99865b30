#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check_symbols.sh FILE - a plugin must export exactly one symbol, tt_plugin_entry.
#
# Lists the dynamic symbols FILE defines (nm -D --defined-only) and fails on any
# defined code or data symbol (types T D B R, weak definitions V W, ifuncs i, small
# data G S) other than tt_plugin_entry, or when tt_plugin_entry itself is missing.
# _init/_fini and the linker's own markers are ignored; undefined (U), weak
# undefined (w, v) and absolute (A) entries are not definitions. Exits 77 (skip)
# when nm is not installed.
set -u
file=${1:?usage: check_symbols.sh PLUGIN.so}

if ! command -v nm >/dev/null 2>&1; then
    echo "nm not found; cannot check exported symbols" >&2
    exit 77
fi
if ! out=$(nm -D --defined-only "$file"); then
    echo "nm failed on $file" >&2
    exit 1
fi

status=0
found=0
# Lines are "ADDRESS TYPE NAME" (or "TYPE NAME" when there is no address); the
# loop reads a here-document, not a pipe, so its variables survive it.
while read -r type name; do
    case $type in
    U | w | v | A) continue ;;
    esac
    case $name in
    _init | _fini | __bss_start | _edata | _end) continue ;;
    tt_plugin_entry)
        case $type in
        T) found=1 ;;
        *) echo "$file: tt_plugin_entry has type $type, expected T (a function)" >&2; status=1 ;;
        esac
        ;;
    *)
        echo "$file: exports $name (type $type); only tt_plugin_entry may be exported" >&2
        status=1
        ;;
    esac
done <<EOF
$(echo "$out" | awk 'NF >= 2 { print $(NF-1), $NF }')
EOF

if [ "$found" -ne 1 ]; then
    echo "$file: does not export tt_plugin_entry" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "$file: exports only tt_plugin_entry"
exit "$status"
