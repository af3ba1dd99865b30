#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `cmake --install build --prefix P` gives P/bin/teitend, P/bin/teiten and the
# plugins in P/lib/teiten/plugins, and the installed teitend finds its plugins
# there with no plugin-dir in its configuration.
. "$(dirname "$0")/lib.sh"
tt_tmpdir
prefix="$TT_TMP/prefix"
cmake --install "$TT_BUILD" --prefix "$prefix" >/dev/null
for f in bin/teitend bin/teiten bin/flowgen lib/teiten/plugins/jsonl.so lib/systemd/system/teitend.service; do
    [ -e "$prefix/$f" ] || tt_fail "missing $prefix/$f after install"
done
cat >"$TT_TMP/t.conf" <<CONF
[collector]
listen = ipfix+udp://127.0.0.1:4739
data-dir = $TT_TMP/data

[plugin:jsonl]
path = flows.jsonl
CONF
"$prefix/bin/teitend" -c "$TT_TMP/t.conf" --check-config >"$TT_TMP/out" 2>&1 ||
    { cat "$TT_TMP/out" >&2; tt_fail "installed teitend cannot load its plugins"; }
grep -q "configuration OK" "$TT_TMP/out" || tt_fail "no OK from --check-config"
# the same binary moved elsewhere must not find plugins by accident
mkdir -p "$TT_TMP/elsewhere/bin"
cp "$prefix/bin/teitend" "$TT_TMP/elsewhere/bin/"
if "$TT_TMP/elsewhere/bin/teitend" -c "$TT_TMP/t.conf" --check-config >/dev/null 2>&1 &&
    [ ! -e "$(cmake -L -N "$TT_BUILD" | sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p')/lib/teiten/plugins/jsonl.so" ]; then
    tt_fail "a teitend outside an installed tree found plugins it should not see"
fi
tt_note "installed tree works"
