#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The Debian packages (debian/, docs/operations.md "Debian packages"), built and
# installed for real: dpkg-buildpackage in a copy of the tree (the source tree and
# the build tree are not touched), `apt-get install ./teiten_*.deb ./teiten-dev_*.deb`,
# the installed teitend checks the installed configuration, `teiten --help` runs,
# `systemd-analyze verify` accepts the installed unit, the user teiten owns
# /var/lib/teiten, the SDK is found by pkg-config and CMake; `apt-get remove` keeps
# the configuration and the data, `apt-get purge` deletes the configuration and the
# user and keeps a data directory that holds data. lintian: errors and warnings fail
# (the warnings kept are overridden in debian/*.lintian-overrides, each with its reason).
#
# This installs into the real system, so: root only; skipped when teiten is already
# installed (or its user, /etc/teiten or /var/lib/teiten exist: they are not ours to
# purge); one run at a time on the machine (a lock); purged on any exit (trap). ctest
# runs it alone (RUN_SERIAL) and in the plain tree only (label "package").
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || tt_skip "needs root: installs the packages into this system"
for tool in dpkg-buildpackage dh lintian fakeroot apt-get systemd-analyze; do
    command -v "$tool" >/dev/null ||
        tt_skip "$tool not installed (scripts/install-deps.sh --tests: dpkg-dev debhelper lintian fakeroot)"
done
command -v git >/dev/null || tt_skip "git not installed (the tree's files are listed with git ls-files)"

# one package test at a time on this machine (other trees' suites may run beside this one)
exec 9>/run/lock/teiten-package-test.lock
flock -w 1200 9 || tt_fail "another package test holds /run/lock/teiten-package-test.lock"

for p in teiten teiten-dev; do
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$st" in "" | "un "*) ;; *) tt_skip "package $p is present ($st): not purging an installation this test did not make" ;; esac
done
getent passwd teiten >/dev/null && tt_skip "a user teiten exists: not deleting a user this test did not create"
getent group teiten >/dev/null && tt_skip "a group teiten exists: not deleting a group this test did not create"
for d in /etc/teiten /var/lib/teiten; do
    [ ! -e "$d" ] || tt_skip "$d exists: not deleting what this test did not create"
done

tt_tmpdir
installed=0
cleanup() {
    if [ "$installed" = 1 ]; then
        DEBIAN_FRONTEND=noninteractive dpkg --purge teiten-dev teiten >/dev/null 2>&1 || true
        rm -rf /var/lib/teiten /etc/teiten
        getent passwd teiten >/dev/null && userdel teiten 2>/dev/null
        getent group teiten >/dev/null && groupdel teiten 2>/dev/null
    fi
    if [ -n "${TT_KEEP:-}" ]; then tt_cleanup_keep; else tt_cleanup; fi
}
trap cleanup EXIT

# a copy of the tree's files (tracked, and new ones not ignored: no build trees)
src="$TT_TMP/teiten"
mkdir -p "$src"
(cd "$TT_SRC" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -I{} sh -c '[ -e "$1" ] && printf "%s\0" "$1"' _ {} |
    tar --null -T - -cf -) | tar -xf - -C "$src" || tt_fail "cannot copy the tree"
[ -f "$src/debian/control" ] || tt_fail "no debian/control in the tree"

tt_note "dpkg-buildpackage -us -uc -b (a minute or two)"
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b \
    >"$TT_TMP/build.log" 2>&1) || { tail -60 "$TT_TMP/build.log" >&2; tt_fail "dpkg-buildpackage failed"; }
cd "$TT_TMP" || tt_fail "no $TT_TMP"
deb=$(ls teiten_*.deb 2>/dev/null | head -1)
dev=$(ls teiten-dev_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && [ -n "$dev" ] || tt_fail "no teiten_*.deb and teiten-dev_*.deb: $(ls)"
tt_note "built $deb $dev"

# what each package holds
dpkg-deb -c "$deb" >deb.list
for f in ./usr/sbin/teitend ./usr/bin/teiten ./usr/lib/teiten/plugins/jsonl.so \
    ./usr/lib/teiten/plugins/rollup.so ./usr/lib/teiten/plugins/port.so \
    ./lib/systemd/system/teitend.service ./etc/teiten/teiten.conf ./etc/logrotate.d/teiten; do
    grep -q " $f\$" deb.list || tt_fail "$deb lacks $f"
done
! grep -q "flowgen\|/usr/local\|/include/" deb.list || tt_fail "$deb holds what it should not: $(grep 'flowgen\|/usr/local\|/include/' deb.list)"
dpkg-deb -c "$dev" >dev.list
for f in ./usr/include/teiten/plugin.h teiten-plugin.pc teiten-pluginConfig.cmake; do
    grep -q "$f\$" dev.list || tt_fail "$dev lacks $f"
done
dpkg-deb -f "$deb" Depends | grep -q "libfixbuf" || tt_fail "Depends has no shlibs: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -I "$deb" conffiles | grep -qx /etc/teiten/teiten.conf || tt_fail "/etc/teiten/teiten.conf is not a conffile"

# lintian: every error and warning fails (overrides carry their reasons)
lintian --fail-on error,warning --tag-display-limit 0 "$deb" "$dev" >lintian.out 2>&1 ||
    { cat lintian.out >&2; tt_fail "lintian reports errors or warnings"; }
tt_note "lintian: clean ($(grep -c . lintian.out) info/pedantic lines)"

installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "./$deb" "./$dev" >install.log 2>&1 || { cat install.log >&2; tt_fail "apt-get install failed"; }
tt_note "apt-get install ./$deb ./$dev: OK"

/usr/sbin/teitend -c /etc/teiten/teiten.conf --check-config >check.out 2>&1 ||
    { cat check.out >&2; tt_fail "the installed teitend refuses the installed configuration"; }
grep -q "configuration OK" check.out || tt_fail "no OK from --check-config: $(cat check.out)"
! grep -q "CRITICAL\|WARNING" check.out || tt_fail "--check-config warns: $(cat check.out)"
# every plugin group of the example loaded from /usr/lib/teiten/plugins, nothing written
[ -z "$(ls -A /var/lib/teiten)" ] || tt_fail "--check-config wrote into /var/lib/teiten: $(ls -A /var/lib/teiten)"
teiten --help >help.out 2>&1 || { cat help.out >&2; tt_fail "teiten --help failed"; }
grep -q "rank" help.out || tt_fail "teiten --help does not list rank: $(cat help.out)"

systemd-analyze verify /lib/systemd/system/teitend.service >verify.out 2>&1 ||
    { cat verify.out >&2; tt_fail "systemd-analyze verify refuses the installed unit"; }
grep -q "^ExecStartPre=/usr/sbin/teitend -c /etc/teiten/teiten.conf --check-config" \
    /lib/systemd/system/teitend.service || tt_fail "the installed unit does not check the configuration first"
if command -v systemctl >/dev/null && systemctl is-enabled teitend >/dev/null 2>&1; then
    tt_fail "teitend.service is enabled at install (it should wait for the site's sensors)"
fi

# the user and its directory
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd teiten) || tt_fail "no user teiten"
[ "$uid" -lt 1000 ] || tt_fail "teiten is not a system user (uid $uid)"
[ "$home" = /var/lib/teiten ] || tt_fail "teiten's home is $home"
[ "$shell" = /usr/sbin/nologin ] || tt_fail "teiten's shell is $shell"
[ "$(stat -c %U:%G:%a /var/lib/teiten)" = teiten:teiten:750 ] ||
    tt_fail "/var/lib/teiten is $(stat -c %U:%G:%a /var/lib/teiten), not teiten:teiten:750"
grep -q "^user = teiten" /etc/teiten/teiten.conf || tt_fail "the configuration does not drop to teiten"

# the logrotate rule rotates the jsonl file as the user teiten and creates the next one
# (logrotate is only recommended: skipped without it)
if command -v logrotate >/dev/null; then
    install -d -o teiten -g teiten -m 0755 /var/lib/teiten/jsonl
    echo '{"start":0}' >/var/lib/teiten/jsonl/counts.jsonl
    chown teiten:teiten /var/lib/teiten/jsonl/counts.jsonl
    logrotate --force --state "$TT_TMP/lr.state" /etc/logrotate.d/teiten >lr.out 2>&1 ||
        { cat lr.out >&2; tt_fail "logrotate refuses /etc/logrotate.d/teiten"; }
    [ -f /var/lib/teiten/jsonl/counts.jsonl.1 ] || tt_fail "logrotate did not rotate: $(ls /var/lib/teiten/jsonl)"
    [ "$(stat -c %U:%G:%a:%s /var/lib/teiten/jsonl/counts.jsonl)" = teiten:teiten:644:0 ] ||
        tt_fail "the new jsonl file is $(stat -c %U:%G:%a:%s /var/lib/teiten/jsonl/counts.jsonl)"
    rm -rf /var/lib/teiten/jsonl
    tt_note "logrotate: rotated and created as teiten"
else
    tt_note "logrotate not installed: its rule not run"
fi

# the SDK from the system's paths
pkg-config --exists teiten-plugin || tt_fail "pkg-config does not find teiten-plugin"
[ "$(pkg-config --variable=plugindir teiten-plugin)" = /usr/lib/teiten/plugins ] ||
    tt_fail "teiten-plugin.pc's plugindir is $(pkg-config --variable=plugindir teiten-plugin)"
printf '#include <teiten/plugin.h>\nint main(void) { return TT_PLUGIN_ABI_MAJOR > 0 ? 0 : 1; }\n' >sdk.c
# shellcheck disable=SC2046 # pkg-config's flags, split
{ cc -Werror -o sdk sdk.c $(pkg-config --cflags teiten-plugin) && ./sdk; } ||
    tt_fail "a program against the installed SDK does not build"

# remove: configuration, data and user stay
echo data >/var/lib/teiten/keep-me
chown teiten:teiten /var/lib/teiten/keep-me
echo "# an operator's edit" >>/etc/teiten/teiten.conf
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq teiten teiten-dev >remove.log 2>&1 ||
    { cat remove.log >&2; tt_fail "apt-get remove failed"; }
[ ! -e /usr/sbin/teitend ] || tt_fail "/usr/sbin/teitend left after remove"
grep -q "an operator's edit" /etc/teiten/teiten.conf || tt_fail "remove did not keep /etc/teiten/teiten.conf"
[ -f /var/lib/teiten/keep-me ] || tt_fail "remove did not keep /var/lib/teiten"
getent passwd teiten >/dev/null || tt_fail "remove deleted the user"

# purge (teiten-dev has no conffiles: removed is purged already): configuration and
# user gone, data that exists kept
[ "$(dpkg-query -W -f='${db:Status-Abbrev}' teiten-dev 2>/dev/null || true)" != "rc " ] ||
    tt_fail "teiten-dev left in state rc by remove"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq teiten >purge.log 2>&1 ||
    { cat purge.log >&2; tt_fail "apt-get purge failed"; }
[ ! -e /etc/teiten ] || tt_fail "purge left /etc/teiten: $(ls -A /etc/teiten)"
[ ! -e /etc/logrotate.d/teiten ] || tt_fail "purge left /etc/logrotate.d/teiten"
! getent passwd teiten >/dev/null || tt_fail "purge did not delete the user teiten"
[ -f /var/lib/teiten/keep-me ] || tt_fail "purge deleted /var/lib/teiten's data"
[ "$(dpkg-query -W -f='${db:Status-Abbrev}' teiten 2>/dev/null || true)" != "rc " ] ||
    tt_fail "teiten still in state rc after purge"
rm -rf /var/lib/teiten
installed=0
tt_note "remove kept config and data; purge deleted config and user, kept the data"
