# SPDX-License-Identifier: BSD-2-Clause
"""sdk_check.py - the SDK example plugin's CSV (examples/prefix16) against the truth.

    sdk_check.py SCENARIO.ipfix CSV TOP [--also MORE.ipfix]... [--dark PREFIX]... [--step S]
                 [--sensor NAME] [--need-v6-only] [--need-late]

The truth is computed from the IPFIX file(s) flowgen wrote, decoded by flowgen_decode.py's
Decoder (standard library only, written apart from flowgen and from the collector):
every record whose destination lies in a dark prefix and whose source is IPv4 counts
one flow for (bucket of its start, the source's /16). For every bucket with at least
one such flow the CSV must hold, in rank order, exactly the TOP prefixes with the most
flows (ties by prefix, ascending; TOP 0: all of them) with their exact counts, and
nothing else: no bucket twice, no row for a bucket without IPv4 sources. Rows for late
records ("late" rank) are added to their bucket's counts when TOP is 0 and refused
otherwise (the comparison of a truncated ranking would not be exact).
"""
import argparse
import collections
import csv
import ipaddress
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flowgen_decode  # noqa: E402


def decode(path):
    class Args:
        pass
    dec = flowgen_decode.Decoder(Args())
    data = open(path, "rb").read()
    off = 0
    while off < len(data):
        length = struct.unpack_from(">H", data, off + 2)[0]
        dec.ipfix_message(data[off:off + length], False)
        off += length
    if dec.errors:
        sys.exit("decoding %s: %s" % (path, dec.errors[:3]))
    return dec.records


def truth(paths, darks, step):
    counts = collections.defaultdict(collections.Counter)
    v6 = collections.Counter()  # bucket -> IPv6 flows
    for r in (rec for path in paths for rec in decode(path)):
        src = flowgen_decode.dark_source(r, darks)
        if src is None:
            continue
        bucket = r["start_ms"] // 1000 // step * step
        if src.version == 6:
            v6[bucket] += 1
            continue
        counts[bucket][int(src) >> 16] += 1
    return counts, v6


def prefix_key(text):
    net = ipaddress.ip_network(text)
    if net.version != 4 or net.prefixlen != 16:
        raise ValueError("not an IPv4 /16: %s" % text)
    return int(net.network_address) >> 16


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("csv")
    ap.add_argument("top", type=int)
    ap.add_argument("--also", action="append", default=[],
                    help="a further IPFIX file the daemon read or received after SCENARIO")
    ap.add_argument("--dark", action="append", default=[])
    ap.add_argument("--step", type=int, default=300)
    ap.add_argument("--sensor", default="s1")
    ap.add_argument("--need-v6-only", action="store_true",
                    help="fail unless some bucket had IPv6 sources only (and so no row)")
    ap.add_argument("--need-late", action="store_true",
                    help="fail unless the CSV has rows for late records")
    args = ap.parse_args()
    darks = [ipaddress.ip_network(d) for d in (args.dark or ["203.0.113.0/24"])]
    want, v6 = truth([args.scenario] + args.also, darks, args.step)

    errors = []
    rows = list(csv.reader(open(args.csv, newline="")))
    if not rows or rows[0] != ["start", "end", "sensor", "rank", "prefix", "flows"]:
        sys.exit("no header line, or a wrong one: %r" % (rows[:1],))
    got = collections.OrderedDict()  # bucket -> [(rank, prefix, flows)]
    late = collections.defaultdict(collections.Counter)
    last_bucket = None
    for n, row in enumerate(rows[1:], 2):
        if len(row) != 6:
            errors.append("line %d: %d columns" % (n, len(row)))
            continue
        start, end, sensor, rank, prefix, flows = row
        start, end, flows = int(start), int(end), int(flows)
        if end != start + args.step or start % args.step != 0 or sensor != args.sensor:
            errors.append("line %d: bucket [%d, %d) of sensor %s" % (n, start, end, sensor))
        key = prefix_key(prefix)
        if rank == "late":
            late[start][key] += flows
            continue
        if start != last_bucket and start in got:
            errors.append("line %d: bucket %d written twice" % (n, start))
        last_bucket = start
        got.setdefault(start, []).append((int(rank), key, flows))

    if late and args.top != 0:
        errors.append("late rows with top %d: %r" % (args.top, dict(late)))
    for bucket in sorted(set(want) | set(got) | set(late)):
        expect = sorted(want.get(bucket, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        if args.top:
            expect = expect[:args.top]
        rows_b = got.get(bucket, [])
        if [r for r, _, _ in rows_b] != list(range(1, len(rows_b) + 1)):
            errors.append("bucket %d: ranks %r" % (bucket, [r for r, _, _ in rows_b]))
        have = [(k, f) for _, k, f in rows_b]
        if len({k for k, _ in have}) != len(have):
            errors.append("bucket %d: a prefix written twice" % bucket)
        if args.top == 0:
            merged = collections.Counter(dict(have)) + late[bucket]
            have = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
        if have != expect:
            errors.append("bucket %d: got %r, expected %r" % (bucket, have[:8], expect[:8]))
    rows_total = sum(len(v) for v in got.values())
    flows_total = sum(sum(c.values()) for c in want.values())
    v6_only = len(set(v6) - set(want))
    print("# %d buckets, %d rows (%d late), %d IPv4 flows to dark space, %d IPv6 skipped, "
          "%d buckets of IPv6 sources only, top %d"
          % (len(got), rows_total, sum(sum(c.values()) for c in late.values()), flows_total,
             sum(v6.values()), v6_only, args.top),
          file=sys.stderr)
    if args.need_late and not late:
        errors.append("no row for a late record")
    if args.need_v6_only and v6_only == 0:
        errors.append("the scenario has no bucket of IPv6 sources only")
    if not want:
        errors.append("the scenario has no IPv4 flow to dark space: nothing was checked")
    for e in errors[:10]:
        print("FAIL: " + e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
