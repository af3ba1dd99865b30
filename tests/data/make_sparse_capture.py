#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make_sparse_capture.py - a seeded, sparse, two-quarter darknet capture and its truth.

    make_sparse_capture.py TABLE.tsv OUT.pcap EXPECT.jsonl [--days N] [--seed S]
                           [--start EPOCH] [--sensor NAME] [--max-per-step K]

What a quiet /24 telescope (203.0.113.0/24) sees over half a year: most 300 s
steps hold nothing, a few hold one to K (default 3) flows, about 18,000 flows
in all over the default 182 days (2018-10-01 .. 2019-03-31 in Asia/Tokyo, two
whole quarters). It is the shape that made every closed bucket walk the whole
port space (issue 11): tens of thousands of buckets, each nearly empty.

Flows are TCP SYN scans (1 to 3 packets: retransmissions), UDP probes, ICMP echo
requests and SYN+ACK backscatter, a few to lit space (198.51.100.0/24: leaks);
sources from TABLE.tsv (network<TAB>country, make_geoip.pl --table) or from a
range it does not cover (ZZ). Every flow has its own flow key, never reused in
the capture (the 5-tuple; for ICMP the address pair, as softflowd and pmacct key
echo requests on type and code, not on their identifier), and its packets lie
within 3 s, so an exporter exports exactly one record per flow whatever its
timeouts: the number of flows is part of the truth, not only packets and bytes.
Packets, sources and the pcap are make_scan_capture.py's (one frame writer).

EXPECT.jsonl is in flowgen's --expect shape (and teitend's jsonl shape): one
line per 300 s step, dimension (total, port, country) and key with at least one
observed flow, bucket = the flow's first packet; EXPECT.jsonl.summary.json
holds records, observed, leaks, sampling (1), first and last (ms), the steps
and how many of them hold an observed flow (observed_steps) or any record
(record_steps), so
scripts/demo_check.py compares a replay with it exactly as it compares the
demo with flowgen.
"""
import collections
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_scan_capture import (DARK, ETHER, LIT, TCP_PORTS, TCP_WEIGHTS,  # noqa: E402
                               UDP_PORTS, BACKSCATTER_SPORTS, ipv4, tcp, udp, icmp,
                               read_sources, write_pcap)

STEP = 300
T0 = 1538319600  # 2018-09-30T15:00:00Z = 2018-10-01 00:00 Asia/Tokyo


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    table_path, pcap_path, expect_path = argv[1:4]
    opts = dict(zip(argv[4::2], argv[5::2]))
    days = int(opts.get('--days', 182))
    start = int(opts.get('--start', T0))
    sensor = opts.get('--sensor', 's1')
    kmax = int(opts.get('--max-per-step', 3))
    random.seed(int(opts.get('--seed', 20181001)))

    sources = read_sources(table_path)

    frames = []
    lines = collections.defaultdict(lambda: [0, 0, 0])
    used = set()
    records = leaks = 0
    record_steps = set()
    steps = days * 86400 // STEP
    # flows per step: 0 (75 %), 1 (17 %), 2 (5 %), 3 (3 %) -> ~0.36 per step
    weights = [75, 17, 5, 3][:kmax + 1]
    for s in range(steps):
        bucket = start - start % STEP + s * STEP
        n = random.choices(range(len(weights)), weights)[0]
        for _ in range(n):
            while True:
                net, cc = random.choice(sources)
                src = net[random.randrange(1, net.num_addresses - 1)]
                lit = random.random() < 0.04
                dst = LIT[random.randrange(1, 255)] if lit else DARK[random.randrange(256)]
                r = random.random()
                sp = random.randint(1024, 65535)
                if r < 0.70:
                    proto, dp = 6, random.choices(TCP_PORTS, TCP_WEIGHTS)[0]
                    key, count = '%d/tcp' % dp, random.choice([1, 1, 1, 2, 3])
                elif r < 0.82:
                    proto, dp = 17, random.choice(UDP_PORTS)
                    key, count = '%d/udp' % dp, 1
                elif r < 0.92:
                    proto, sp, dp = 1, random.getrandbits(16), 0x800
                    key, count = 'icmp', random.choice([1, 2])
                else:
                    proto, sp, dp = 6, random.choice(BACKSCATTER_SPORTS), random.randint(1024, 65535)
                    key, count = '%d/tcp' % dp, 1
                # exporters key ICMP on addresses and type/code, not the echo id
                tup = (src, dst, proto) if proto == 1 else (src, dst, sp, dp, proto)
                if tup not in used:
                    used.add(tup)
                    break
            # the flow starts inside its step, at least 3 s before its end, whole ms
            t = (bucket + random.randrange(0, STEP - 3)) * 1_000_000 + random.randrange(1000) * 1000
            seq = random.getrandbits(32)
            size = 0
            for i in range(count):
                if proto == 17:
                    l4 = udp(sp, dp, bytes(random.randint(0, 48)))
                elif proto == 1:
                    l4 = icmp(8, 0, sp, i + 1, b'x' * 32)
                elif r >= 0.92:
                    l4 = tcp(sp, dp, 0x12, seq, 1)
                else:
                    l4 = tcp(sp, dp, 0x02, seq)
                pkt = ipv4(src, dst, proto, l4, random.randint(30, 250))
                frames.append((t + i * 1_000_000, ETHER + pkt))
                size += len(pkt)
            records += 1
            record_steps.add(bucket)
            if lit:
                leaks += 1
                continue
            for dim, k in (('total', 'all'), ('port', key), ('country', cc)):
                v = lines[(bucket, dim, k)]
                v[0] += 1
                v[1] += count
                v[2] += size

    frames.sort(key=lambda f: f[0])
    write_pcap(pcap_path, frames)
    order = {'total': 0, 'port': 1, 'country': 2}
    with open(expect_path, 'w') as f:
        for (b, dim, k), (fl, pk, by) in sorted(lines.items(),
                                                key=lambda i: (i[0][0], order[i[0][1]], i[0][2])):
            f.write(json.dumps({'start': b, 'end': b + STEP, 'sensor': sensor, 'dim': dim,
                                'key': k, 'flows': fl, 'packets': pk, 'bytes': by},
                               separators=(',', ':')) + '\n')
    with open(expect_path + '.summary.json', 'w') as f:
        json.dump({'records': records, 'observed': records - leaks, 'leaks': leaks, 'sampling': 1,
                   'packets': len(frames), 'first': frames[0][0] // 1000,
                   'last': frames[-1][0] // 1000, 'steps': steps,
                   'observed_steps': len({b for (b, _, _) in lines}),
                   'record_steps': len(record_steps)}, f)


if __name__ == '__main__':
    main(sys.argv)
