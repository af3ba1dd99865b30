#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Every subcommand that takes a period refuses one outside the years it can
# cut (1970..9999) with an error naming the value and the valid range: no
# GLib-CRITICAL (--quarter 0001Q1 used to end in g_date_get_days_in_month's).
. "$(dirname "$0")/lib.sh"
tt_tmpdir
cd "$TT_TMP"
mkdir data
check() { # what want-in-message cmd...
    local what=$1 want=$2 rc=0
    shift 2
    "$@" >out.txt 2>err.txt || rc=$?
    [ "$rc" -ne 0 ] || tt_fail "$what: exit 0"
    if grep -q CRITICAL err.txt; then cat err.txt >&2; tt_fail "$what: a GLib-CRITICAL"; fi
    grep -qF -- "$want" err.txt || { cat err.txt >&2; tt_fail "$what: no '$want' in the error"; }
}
for q in 0001Q1 1969Q4 0000Q1; do
    msg="--quarter $q: year"
    check "rank $q" "$msg" "$TEITEN" rank --data data --quarter $q
    check "report $q" "$msg" "$TEITEN" report --data data -o out --quarter $q
    check "graph $q" "$msg" "$TEITEN" graph -d data -o g.png --quarter $q total
    grep -qF "valid: 1970Q1 to 9999Q4" err.txt || tt_fail "graph $q: the valid range is not named"
done
check "rank --month" "--month 0001-01: year 1 out of range; valid: 1970-01 to 9999-12" \
    "$TEITEN" rank --data data --month 0001-01
check "rank --year" "--year 0001: year 1 out of range; valid: 1970 to 9999" \
    "$TEITEN" rank --data data --year 0001
check "rank --from" "--from 0001-01-01: year 1 out of range" \
    "$TEITEN" rank --data data --from 0001-01-01 --to 0001-01-02
check "report --from" "--from 0001-01-01: year 1 out of range" \
    "$TEITEN" report --data data -o out --from 0001-01-01 --to 0001-01-02
# still a malformed value's own message
check "rank 2019Q5" "--quarter 2019Q5: expected YYYYQn" "$TEITEN" rank --data data --quarter 2019Q5
tt_note "bad periods refused by rank, report and graph, no GLib-CRITICAL"
