#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The plugin SDK, end to end: sdk.sh MODE
#   find_package  install the build into a temp prefix, build examples/prefix16 (copied out
#                 of the tree) against that prefix alone with find_package(teiten-plugin),
#                 install it into the SDK's plugindir; the installed teitend, with no
#                 plugin-dir, loads it and receives flowgen's flows over IPFIX/UDP
#   pkg-config    the same with teiten-plugin.pc, the .so in a plugin-dir of its own,
#                 flows read from an IPFIX file (--read), top 3; then a file of mostly
#                 IPv6 sources, where buckets without an IPv4 source must write no row;
#                 then late records (rows "late"), and the configuration's errors
#   abi-1.2       the fixture build of the example against the ABI 1.2 headers
#                 (tests/fixtures/abi-1.2) loads into this tree's teitend and counts
# Every time the CSV must equal, bucket by bucket and /16 by /16, what sdk_check.py
# computes from the IPFIX file on its own.
. "$(dirname "$0")/lib.sh"
mode=${1:?usage: sdk.sh find_package|pkg-config|abi-1.2}
tt_tmpdir
cd "$TT_TMP"

# Sources from a few public ranges of unequal size (4 to 256 /16s): some /16s hold many
# sources, so a bucket has prefixes of many counts, and ties for the tie rule.
printf '5.0.0.0/8\tUS\n5.1.2.0/24\tRU\n31.0.0.0/12\tRU\n36.0.0.0/10\tCN\n77.160.0.0/12\tNL\n' >geo.tsv
printf '91.192.0.0/14\tUA\n2a00:1000::/24\tRU\n2001:200::/32\tCN\n' >>geo.tsv
DARK6=2001:db8:dead::/48
SCENARIO=(--seed 16 --flows 6000 --duration 1800 --dark6 "$DARK6" --leak-fraction 0.05
    --geoip-table geo.tsv --countries RU:30,US:20,CN:20,NL:10,UA:20 --sources 40)
"$FLOWGEN" "${SCENARIO[@]}" --out file:scenario.ipfix >/dev/null

# conf FILE DATA LISTEN PLUGIN_DIR|- TOP: one sensor, the prefix16 plugin only.
conf() {
    {
        echo "[collector]"
        echo "listen = $3"
        echo "data-dir = $2"
        [ "$4" = - ] || echo "plugin-dir = $4"
        echo
        echo "[sensor:s1]"
        echo "exporters = 127.0.0.0/8; ::1"
        echo "darknet = 203.0.113.0/24; $DARK6"
        echo
        echo "[plugin:prefix16]"
        echo "dir = top16"
        echo "top = $5"
    } >"$1"
}
check() { # DATA TOP
    "$PY" "$TT_SRC/tests/integration/sdk_check.py" scenario.ipfix "$1/top16/prefix16.csv" "$2" \
        --dark 203.0.113.0/24 --dark "$DARK6" || tt_fail "$mode: the CSV differs from the truth"
}
# live DAEMON CONF LOG DATA: start DAEMON, send the scenario over IPFIX/UDP, stop.
live() {
    local port
    port=$(tt_port udp)
    sed -i "s|^listen = .*|listen = ipfix+udp://127.0.0.1:$port|" "$2"
    TEITEND=$1 tt_start "$2" "$3"
    "$FLOWGEN" "${SCENARIO[@]}" --out "udp://127.0.0.1:$port" >/dev/null
    tt_wait_stat "$4" "sum(x['records'] for x in s['sensors']) >= 6000" ||
        tt_note "stats did not reach 6000 records before the stop"
    tt_stop
}

# sdk_build HOW PREFIX: configure and build the example copied out of the tree.
sdk_build() {
    local how=$1 prefix=$2 pcdir
    rm -rf ex-src ex-build
    cp -r "$TT_SRC/examples/prefix16" ex-src
    rm -rf ex-src/build
    pcdir=$(dirname "$(find "$prefix" -name teiten-plugin.pc)")
    local args=(-S ex-src -B ex-build -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DPREFIX16_FIND="$how" -DCMAKE_C_FLAGS=-Werror)
    if [ "$how" = cmake ]; then
        env -u PKG_CONFIG_PATH cmake "${args[@]}" -DCMAKE_PREFIX_PATH="$prefix" >configure.log 2>&1
    else
        PKG_CONFIG_PATH=$pcdir cmake "${args[@]}" >configure.log 2>&1
    fi || { cat configure.log >&2; tt_fail "the example does not configure against $prefix"; }
    local by=$how
    [ "$how" = cmake ] && by=find_package
    grep -q "prefix16: teiten plugin SDK [0-9.]* by $by ($prefix/" configure.log ||
        { cat configure.log >&2; tt_fail "the example did not find the SDK by $by in $prefix"; }
    cmake --build ex-build >build.log 2>&1 || { cat build.log >&2; tt_fail "the example does not build"; }
    # nothing of the source or build tree may reach the example's build
    for f in ex-build/compile_commands.json ex-build/CMakeCache.txt; do
        if grep -qF -e "$TT_SRC" -e "$TT_BUILD" "$f"; then
            grep -F -e "$TT_SRC" -e "$TT_BUILD" "$f" | head -5 >&2
            tt_fail "$f names the source or build tree"
        fi
    done
    grep -q -- "-isystem $prefix/include " ex-build/compile_commands.json ||
        tt_fail "the example was not compiled against $prefix/include"
    sh "$TT_SRC/tests/unit/check_symbols.sh" ex-build/prefix16.so >/dev/null ||
        tt_fail "the example exports more than tt_plugin_entry"
}

case $mode in
find_package | pkg-config)
    tt_need pkg-config
    prefix="$TT_TMP/prefix"
    cmake --install "$TT_BUILD" --prefix "$prefix" >install.log 2>&1 ||
        { cat install.log >&2; tt_fail "cmake --install failed"; }
    for f in include/teiten/plugin.h include/teiten/flow.h; do
        cmp -s "$TT_SRC/$f" "$prefix/$f" || tt_fail "$prefix/$f is not the tree's $f"
    done
    pc=$(find "$prefix" -name teiten-plugin.pc)
    [ -n "$pc" ] || tt_fail "no teiten-plugin.pc under $prefix"
    PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags teiten-plugin | grep -q -- "-I$prefix/include" ||
        tt_fail "teiten-plugin.pc: no -I$prefix/include in its Cflags"
    [ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=plugindir teiten-plugin)" = \
        "$prefix/lib/teiten/plugins" ] || tt_fail "teiten-plugin.pc: plugindir is not $prefix/lib/teiten/plugins"
    ;;
esac

case $mode in
find_package)
    sdk_build cmake "$prefix"
    cmake --install ex-build >>install.log 2>&1 || tt_fail "the example does not install"
    [ -f "$prefix/lib/teiten/plugins/prefix16.so" ] ||
        tt_fail "the example did not install into the SDK's plugin dir"
    conf t.conf "$TT_TMP/data" - - 0
    live "$prefix/bin/teitend" t.conf run.log "$TT_TMP/data"
    check "$TT_TMP/data" 0
    ;;
pkg-config)
    sdk_build pkg-config "$prefix"
    mkdir plugins
    cp ex-build/prefix16.so plugins/
    conf t.conf "$TT_TMP/data" "ipfix+udp://127.0.0.1:1" "$TT_TMP/plugins" 3
    "$prefix/bin/teitend" -c t.conf --read scenario.ipfix >read.log 2>&1 ||
        { cat read.log >&2; tt_fail "teitend --read failed"; }
    check "$TT_TMP/data" 3
    # mostly IPv6 sources, few flows: some buckets have no IPv4 source and write no row
    "$FLOWGEN" --seed 17 --flows 200 --dark6 "$DARK6" --v6-fraction 1 --out file:v6.ipfix >/dev/null
    conf v6.conf "$TT_TMP/v6" "ipfix+udp://127.0.0.1:1" "$TT_TMP/plugins" 3
    "$prefix/bin/teitend" -c v6.conf --read v6.ipfix >v6.log 2>&1 ||
        { cat v6.log >&2; tt_fail "teitend --read of the IPv6 file failed"; }
    "$PY" "$TT_SRC/tests/integration/sdk_check.py" v6.ipfix v6/top16/prefix16.csv 3 \
        --dark 203.0.113.0/24 --dark "$DARK6" --need-v6-only ||
        tt_fail "$mode: the CSV of the IPv6 scenario differs from the truth"
    # a second file of flows in the scenario's first 10 minutes, read after it: their
    # buckets have closed, so each is a late record, a "late" row of its own
    "$FLOWGEN" --seed 18 --flows 60 --duration 600 --geoip-table geo.tsv \
        --countries RU:30,US:20,CN:20,NL:10,UA:20 --out file:late.ipfix >/dev/null
    conf late.conf "$TT_TMP/late" "ipfix+udp://127.0.0.1:1" "$TT_TMP/plugins" 0
    "$prefix/bin/teitend" -c late.conf --read scenario.ipfix late.ipfix >late.log 2>&1 ||
        { cat late.log >&2; tt_fail "teitend --read of the scenario and late.ipfix failed"; }
    "$PY" "$TT_SRC/tests/integration/sdk_check.py" scenario.ipfix late/top16/prefix16.csv 0 \
        --also late.ipfix --dark 203.0.113.0/24 --dark "$DARK6" --need-late ||
        tt_fail "$mode: the CSV with late records differs from the truth"
    # configuration errors name the group and key; --check-config creates nothing
    conf bad.conf "$TT_TMP/bad" "ipfix+udp://127.0.0.1:1" "$TT_TMP/plugins" 3
    echo "frob = 1" >>bad.conf
    if "$prefix/bin/teitend" -c bad.conf --check-config >bad.log 2>&1; then
        tt_fail "an unknown key was accepted"
    fi
    grep -q "\[plugin:prefix16\] frob: unknown key" bad.log || { cat bad.log >&2; tt_fail "no unknown-key error"; }
    conf bad.conf "$TT_TMP/bad" "ipfix+udp://127.0.0.1:1" "$TT_TMP/plugins" x
    if "$prefix/bin/teitend" -c bad.conf --check-config >bad.log 2>&1; then
        tt_fail "top = x was accepted"
    fi
    grep -q "\[plugin:prefix16\] top: " bad.log || { cat bad.log >&2; tt_fail "no error for top = x"; }
    conf ok.conf "$TT_TMP/ok" "ipfix+udp://127.0.0.1:1" "$TT_TMP/plugins" 3
    "$prefix/bin/teitend" -c ok.conf --check-config >ok.log 2>&1 || { cat ok.log >&2; tt_fail "--check-config failed"; }
    [ ! -e ok/top16 ] || tt_fail "--check-config created the plugin's directory"
    ;;
abi-1.2)
    so="$TT_BUILD/tests/fixtures/abi-1.2/prefix16.so"
    [ -f "$so" ] || tt_fail "no fixture build $so"
    conf t.conf "$TT_TMP/data" - "$(dirname "$so")" 0
    G_MESSAGES_DEBUG=all live "$TEITEND" t.conf run.log "$TT_TMP/data"
    grep -q "plugin prefix16 .* (ABI 1\.2)" run.log ||
        { grep prefix16 run.log >&2; tt_fail "the loader did not report prefix16 as ABI 1.2"; }
    check "$TT_TMP/data" 0
    ;;
*) tt_fail "unknown mode $mode" ;;
esac
tt_note "$mode: prefix16's CSV equals the truth"
