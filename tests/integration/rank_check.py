#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# rank_check.py - the independent side of the rank tests: rank tables computed
# from flowgen's own --expect lines (the scenario's truth), without teiten.
#
#   rank_check.py table --tz ZONE --from DAY --to DAY --prev-from DAY --prev-to DAY
#                 --by port|country [--metric packets] EXPECT.jsonl...
#       prints the full ranked table as JSON lines {rank,key,packets,flows,bytes,prev_rank}
#   rank_check.py compare TRUTH.jsonl TEITEN.json
#       exits 1 (with the first differences) unless teiten's rows equal the truth
#
# Days are local days in ZONE (zoneinfo, stdlib); order: metric descending,
# then key in byte order; ranks ordinal. Written from docs/rank.md, not from
# teiten's code.
import argparse, collections, datetime, json, sys
from zoneinfo import ZoneInfo


def load(files, zone, lo, hi, dim):
    tz = ZoneInfo(zone)
    t = collections.defaultdict(lambda: [0, 0, 0])
    for f in files:
        for line in open(f):
            o = json.loads(line)
            if o['dim'] != dim:
                continue
            day = datetime.datetime.fromtimestamp(o['start'], tz).strftime('%Y-%m-%d')
            if lo <= day <= hi:
                v = t[o['key']]
                v[0] += o['packets']; v[1] += o['flows']; v[2] += o['bytes']
    return t


def ranked(t, metric):
    i = {'packets': 0, 'flows': 1, 'bytes': 2}[metric]
    keys = sorted(t, key=lambda k: (-t[k][i], k.encode()))
    return {k: n + 1 for n, k in enumerate(keys)}, keys


def table(a):
    cur = load(a.files, a.tz, a.from_, a.to, a.by)
    prev = load(a.files, a.tz, a.prev_from, a.prev_to, a.by)
    ranks, keys = ranked(cur, a.metric)
    pranks, _ = ranked(prev, a.metric)
    for k in keys:
        p, fl, b = cur[k]
        print(json.dumps({'rank': ranks[k], 'key': k, 'packets': p, 'flows': fl, 'bytes': b,
                          'prev_rank': pranks.get(k)}))


def compare(a):
    truth = [json.loads(l) for l in open(a.truth)]
    got = json.load(open(a.teiten))
    rows = got['rows']
    bad = 0
    if len(rows) != len(truth):
        print(f'rows: teiten {len(rows)}, truth {len(truth)}', file=sys.stderr)
        bad += 1
    for want, have in zip(truth, rows):
        for f in ('rank', 'key', 'packets', 'flows', 'bytes', 'prev_rank'):
            if want[f] != have.get(f):
                print(f'rank {want["rank"]} {f}: truth {want[f]!r}, teiten {have.get(f)!r}',
                      file=sys.stderr)
                bad += 1
        if bad > 10:
            break
    total = sum(r['packets'] for r in truth)
    if got['metric'] == 'packets' and got['total'] != total:
        print(f'total: truth {total}, teiten {got["total"]}', file=sys.stderr)
        bad += 1
    sys.exit(1 if bad else 0)


p = argparse.ArgumentParser()
sub = p.add_subparsers(dest='cmd', required=True)
t = sub.add_parser('table')
t.add_argument('--tz', default='UTC')
t.add_argument('--from', dest='from_', required=True)
t.add_argument('--to', required=True)
t.add_argument('--prev-from', required=True)
t.add_argument('--prev-to', required=True)
t.add_argument('--by', required=True)
t.add_argument('--metric', default='packets')
t.add_argument('files', nargs='+')
c = sub.add_parser('compare')
c.add_argument('truth')
c.add_argument('teiten')
a = p.parse_args()
table(a) if a.cmd == 'table' else compare(a)
