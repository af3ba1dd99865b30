#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench_smoke.sh - `bench/run --smoke` runs and its numbers add up.
#
# The smoke mode blasts 100 k records/s for a second into the bare sink and into
# teitend (jsonl + total, GeoIP on) and fails when either stored fewer records
# than flowgen --blast reports sent. Here we also check the written report: both
# contenders present, sent == stored, no kernel drops, and the JSON agrees with
# the Markdown. Skips without two CPUs, root, or the Perl GeoIP writer.
source "$(dirname "$0")/lib.sh"
tt_tmpdir
[ "$(nproc)" -ge 2 ] || tt_skip "needs 2 CPUs"
[ "$(id -u)" -eq 0 ] || tt_skip "needs root (SO_RCVBUFFORCE, rmem_max)"
perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null || tt_skip "libmaxmind-db-writer-perl missing"
command -v cc >/dev/null || tt_skip "no C compiler for the sink"

rc=0
"$TT_SRC/bench/run" --smoke --build "$TT_BUILD" --out "$TT_TMP/results" >"$TT_TMP/out.md" 2>"$TT_TMP/err" || rc=$?
[ $rc -eq 0 ] || { cat "$TT_TMP/err" >&2; tt_fail "bench/run --smoke exited $rc"; }
[ -s "$TT_TMP/results/udp-smoke-latest.md" ] || tt_fail "no Markdown report"
"$PY" - "$TT_TMP/results/udp-smoke-latest.json" "$TT_TMP/results/udp-smoke-latest.md" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
assert set(r['sweep']) == {'sink', 'teitend'}, r['sweep'].keys()
for who, s in r['sweep'].items():
    run = s['runs'][0]
    assert run['sent'] > 50000, (who, run['sent'])
    assert run['stored'] == run['sent'], (who, run)
    assert run['kernel_drops'] == 0, (who, run)
    assert f"| {who} | {run['rate']:.0f} | {run['achieved']:.0f} | {run['sent']} | {run['stored']} |" in text, who
PYEOF
tt_note "bench/run --smoke: report consistent"
