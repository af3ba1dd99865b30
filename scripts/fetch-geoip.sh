#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fetch a real country database that needs no account, cache it, and print its
# path. Source: the npm package @ip-location-db/geo-whois-asn-country-mmdb
# (sapics/ip-location-db: GeoFeed + RIR whois + ASN data, CC0 / CC BY 4.0 by NRO),
# in the flat `country_code` schema that teitend detects by itself. The version
# is pinned so a demo run is reproducible; TT_GEOIP_VERSION=latest takes the
# newest. The cache is $XDG_CACHE_HOME/teiten/geoip (default ~/.cache/teiten/geoip).
# For MaxMind GeoLite2-Country or DB-IP, see docs/quickstart.md: point `geoip =`
# at that file instead; nothing else changes.
set -euo pipefail
pkg="@ip-location-db/geo-whois-asn-country-mmdb"
version=${TT_GEOIP_VERSION:-2.3.2026061719}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/teiten/geoip
db="$cache/geo-whois-asn-country.mmdb"

if [ -s "$db" ] && [ -s "$cache/SOURCE" ] && { [ "$version" = latest ] ||
    grep -q "version $version\$" "$cache/SOURCE"; }; then
    echo "$db"
    exit 0
fi
command -v npm >/dev/null || { echo "fetch-geoip: npm is needed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
spec="$pkg@$version"
[ "$version" = latest ] && spec="$pkg"
echo "fetch-geoip: npm pack $spec" >&2
(cd "$work" && npm pack --silent "$spec" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/geo-whois-asn-country.mmdb package/package.json
got=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$work/package/package.json" | head -1)
mv "$work/package/geo-whois-asn-country.mmdb" "$db.tmp"
mv "$db.tmp" "$db"
cat >"$cache/SOURCE" <<SRC
database: $db
package: $pkg
version $got
fetched: $(date -u +%Y-%m-%dT%H:%M:%SZ)
licence: CC0-1.0 (package); data CC BY 4.0 by NRO (https://www.nro.net/)
schema: flat country_code (detected by teitend)
SRC
echo "$db"
