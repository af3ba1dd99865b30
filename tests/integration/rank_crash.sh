#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# SIGKILL while the rollup plugin commits: the database must open clean
# (integrity_check), and its totals must equal the truth of exactly the
# buckets it lists as committed, which must be a prefix of the stream's
# buckets (one transaction per closed bucket, committed in order): what a
# crash loses is only the buckets not yet committed, never part of one.
# While the collector writes, teiten rank reads the same database (exit 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rank_lib.sh"
tt_tmpdir
cd "$TT_TMP"
rank_geoip
# ~2900 buckets: long enough to be killed in the middle
rank_flowgen big 9 2019-01-02T00:00:00Z "$RANK_Q1_PORTS" "$RANK_Q1_COUNTRIES" 40000 864000
rank_conf c.conf "$TT_TMP/c" UTC s1
"$TEITEND" -c c.conf --read big.ipfix 2>c.log &
pid=$!
TT_PIDS+=("$pid")
n=$(tt_wait_buckets c/rollup.sqlite 200 $pid)
kill -0 $pid 2>/dev/null || tt_skip "teitend finished before it could be killed ($n buckets)"
# teiten rank reads the live database safely (WAL snapshot, no lock fight)
for _ in 1 2 3; do
    "$TEITEN" rank --data c --quarter 2019Q1 --format json >live.json ||
        tt_fail "teiten rank failed on a database being written"
done
kill -KILL $pid
wait $pid 2>/dev/null || true
"$PY" - c/rollup.sqlite big.jsonl <<'PYEOF' || tt_fail "the database after SIGKILL is not the truth of its committed buckets"
import json, sqlite3, sys, collections
db = sqlite3.connect(sys.argv[1])
assert db.execute('pragma integrity_check').fetchone()[0] == 'ok'
committed = {s for (s,) in db.execute('select start from buckets')}
truth = collections.defaultdict(lambda: [0, 0, 0])
for line in open(sys.argv[2]):
    o = json.loads(line)
    if o['dim'] == 'total':
        t = truth[o['start']]; t[0] += o['packets']; t[1] += o['flows']; t[2] += o['bytes']
starts = sorted(truth)
last = max(committed)
missing = [s for s in starts if s <= last and s not in committed]
assert not missing, f'buckets missing inside the committed range: {missing[:5]}'
assert committed <= set(starts), 'committed buckets the truth does not have'
want = [sum(truth[s][i] for s in committed) for i in range(3)]
got = list(db.execute("select sum(packets), sum(flows), sum(bytes) from counts where dim='total'").fetchone())
assert got == want, (got, want)
for dim in ('port', 'country'):
    g = list(db.execute(f"select sum(packets), sum(flows), sum(bytes) from counts where dim='{dim}'").fetchone())
    assert g == want, (dim, g, want)
print(f'# killed after {len(committed)} of {len(starts)} buckets; '
      f'{got[0]} of {sum(t[0] for t in truth.values())} packets committed, exact', file=sys.stderr)
PYEOF
