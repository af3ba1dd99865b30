#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# teitend's start-up errors, as an operator reads them on stderr (C locale):
#  1. a mistyped [plugin:NAME] (totals): one line naming the configuration file, the
#     group, the nearest installed plugin and the installed ones, with --check-config
#     and at a real start, not dlopen's "cannot open shared object file";
#  2. a missing configuration file: one line with the path as given, not GLib's
#     "Failed to open file ?/path?" (U+201C/D in a C locale);
#  3. a failure after the configuration (a data-dir it cannot create) in the
#     foreground: printed once, not a plain line and then a WARNING;
#  4. a mistyped key: the file, the group, the key and the nearest valid key (or the
#     group's keys when none is near), in [collector] and in a plugin's group;
#  5. `--read --sensor` naming no sensor: the nearest and the list, nothing created.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
export LC_ALL=C

# expect NAME STATUS LINE: NAME.err is exactly LINE, the run exited with STATUS
expect() {
    local got
    got=$(cat "$1.err")
    [ "$got" = "$3" ] || { printf 'got:\n%s\nexpected:\n%s\n' "$got" "$3" >&2; tt_fail "$1: stderr"; }
    [ "$(cat "$1.rc")" = "$2" ] || tt_fail "$1: exit status $(cat "$1.rc"), expected $2"
}
run() { # NAME ARGS...: teitend ARGS, stderr in NAME.err, status in NAME.rc
    local name=$1
    shift
    set +e
    "$TEITEND" "$@" >"$name.out" 2>"$name.err"
    echo $? >"$name.rc"
    set -e
}

port=$(tt_port udp)
tt_conf good.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:$port"
plugins=$(cd "$TT_PLUGIN_DIR" && ls -- *.so | sed 's/\.so$//' | paste -sd, - | sed 's/,/, /g')

# 1. [plugin:totals]
sed 's/^\[plugin:jsonl\]/[plugin:jsonl]\n\n[plugin:totals]/' good.conf >typo.conf
line="teitend: $TT_TMP/typo.conf: [plugin:totals]: no plugin \"totals\" in $TT_PLUGIN_DIR; did you mean [plugin:total]? (installed: $plugins)"
run typo_check -c "$TT_TMP/typo.conf" --check-config
expect typo_check 2 "$line"
run typo_start -c "$TT_TMP/typo.conf" -f
expect typo_start 2 "$line"
[ ! -e "$TT_TMP/data" ] || tt_fail "a refused start created the data directory"
# a name nothing is near: no suggestion, the list still
sed 's/^\[plugin:jsonl\]/[plugin:jsonl]\n\n[plugin:zzzzzzzz]/' good.conf >far.conf
run far -c "$TT_TMP/far.conf" --check-config
expect far 2 "teitend: $TT_TMP/far.conf: [plugin:zzzzzzzz]: no plugin \"zzzzzzzz\" in $TT_PLUGIN_DIR (installed: $plugins)"

# 2. no such configuration file, relative and absolute
run missing -c "$TT_TMP/nowhere/teiten.conf" --check-config
expect missing 2 "teitend: $TT_TMP/nowhere/teiten.conf: cannot read the configuration file: No such file or directory"
run missing_start -c "$TT_TMP/nowhere/teiten.conf" -f
expect missing_start 2 "teitend: $TT_TMP/nowhere/teiten.conf: cannot read the configuration file: No such file or directory"
run is_dir -c "$TT_TMP" --check-config
expect is_dir 2 "teitend: $TT_TMP: cannot read the configuration file: Is a directory"

# 3. a data-dir below a regular file: refused once
: >"$TT_TMP/afile"
sed "s#^data-dir = .*#data-dir = $TT_TMP/afile/data#" good.conf >nodir.conf
run nodir -c "$TT_TMP/nodir.conf" -f
expect nodir 1 "teitend: data-dir $TT_TMP/afile/data: Not a directory"

# 4. mistyped keys
sed 's/^data-dir = /stop-timout = 5\ndata-dir = /' good.conf >key.conf
run key -c "$TT_TMP/key.conf" --check-config
expect key 2 "teitend: $TT_TMP/key.conf: [collector] stop-timout: unknown key; did you mean stop-timeout?"
sed 's/^path = /pth = /' good.conf >pkey.conf
run pkey -c "$TT_TMP/pkey.conf" --check-config
expect pkey 2 "teitend: $TT_TMP/pkey.conf: plugin jsonl: [plugin:jsonl] pth: unknown key (keys: path)"

# 5. --read --sensor with a mistyped sensor: refused before anything is created
rm -rf "$TT_TMP/data"
: >empty.ipfix
run sensor -c "$TT_TMP/good.conf" --read empty.ipfix --sensor s2
expect sensor 2 "teitend: --sensor s2: no [sensor:s2] in $TT_TMP/good.conf; did you mean s1? (sensors: s1)"
[ ! -e "$TT_TMP/data" ] || tt_fail "a refused --read created the data directory"

tt_note "start-up errors: plugin typo (check and start), missing file, directory, data-dir, key typos: one line each"
