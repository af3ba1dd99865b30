#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Compare a rollup database with flowgen's truth (--expect JSON lines).

ledger_check.py DB TRUTH.jsonl...   exit 0 when, for every (dim, key), the
sums of flows, packets and bytes over all days equal the truth's; every
bucket of the truth is committed exactly once (buckets.commits == 1, no
bucket the truth lacks); sensor_day's records equal the truth's flows.
Prints "buckets N packets P" on success, the differences otherwise.
"""
import collections
import json
import sqlite3
import sys


def main():
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    truth = collections.defaultdict(lambda: [0, 0, 0])
    starts = set()
    for path in sys.argv[2:]:
        for line in open(path):
            o = json.loads(line)
            t = truth[(o["dim"], o["key"])]
            t[0] += o["flows"]
            t[1] += o["packets"]
            t[2] += o["bytes"]
            starts.add((o["sensor"], o["start"]))
    got = {(d, k): [f, p, b] for d, k, f, p, b in db.execute(
        "select dim, key, sum(flows), sum(packets), sum(bytes) from counts group by dim, key")}
    errors = []
    for key in sorted(set(truth) | set(got)):
        if truth.get(key) != got.get(key):
            errors.append(f"{key}: database {got.get(key)}, truth {truth.get(key)}")
    buckets = {(s, st): c for s, st, c in db.execute("select sensor, start, commits from buckets")}
    twice = [k for k, c in buckets.items() if c != 1]
    if twice:
        errors.append(f"{len(twice)} buckets committed more than once, e.g. {twice[:3]}")
    if set(buckets) != starts:
        errors.append(f"buckets: {len(set(buckets) - starts)} the truth lacks, "
                      f"{len(starts - set(buckets))} missing")
    records = db.execute("select sum(records) from sensor_day").fetchone()[0]
    if records != truth[("total", "all")][0]:
        errors.append(f"sensor_day records {records}, truth {truth[('total', 'all')][0]}")
    if errors:
        print("\n".join(errors[:20]), file=sys.stderr)
        return 1
    print(f"buckets {len(buckets)} packets {truth[('total', 'all')][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
