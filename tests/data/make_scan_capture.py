#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make_scan_capture.py - a seeded darknet scan capture and its exact truth.

    make_scan_capture.py TABLE.tsv OUT.pcap TRUTH.json [--packets N] [--seed S]

Writes a classic little-endian pcap (Ethernet, IPv4 only, so that NetFlow v5
exporters see the same traffic as v9/IPFIX ones) of what a /24 telescope
(203.0.113.0/24) receives: TCP SYN scans on Mirai-ish ports (some retransmitted,
so flows hold 1-3 packets), UDP probes, ICMP echo requests, SYN+ACK and RST
backscatter, and a few packets to lit space (198.51.100.0/24: leaks). Sources
are drawn from TABLE.tsv (network<TAB>country, written by make_geoip.pl
--table) plus a range the table does not cover (country ZZ). Packet times start
at a fixed historic instant (2019-03-01 00:00 UTC) and span about 16 minutes,
so a replay exercises "time is the stream's" across several 300 s buckets.

The pcap is written with struct, not scapy: it is fast and the frame bytes are
fully under our control (no Ethernet padding; IP total length = captured IP
bytes, which is what flow exporters count as octets).

TRUTH.json, computed from the packets as written (never from an exporter):
  port     {"23/tcp": [packets, bytes], "icmp": [...], ...}  dark destinations only
  country  {"RU": [packets, bytes], ...}                     dark destinations only
  total    [packets, bytes]                                 dark destinations only
  leaks    [packets, bytes]                                 lit destinations
  tuples   number of distinct (src, dst, sport, dport, proto) among dark packets
"""
import ipaddress
import json
import random
import struct
import sys

T0 = 1551398400  # 2019-03-01 00:00:00 UTC
DARK = ipaddress.ip_network('203.0.113.0/24')
LIT = ipaddress.ip_network('198.51.100.0/24')
UNKNOWN_SRC = ipaddress.ip_network('192.0.2.0/24')  # in no table network: ZZ
TCP_PORTS = [23, 2323, 445, 22, 80, 8080, 37215, 52869, 3389, 5555, 81, 7547]
TCP_WEIGHTS = [30, 10, 12, 10, 8, 6, 5, 4, 4, 3, 2, 2]
UDP_PORTS = [53, 123, 1900, 5060, 161]
BACKSCATTER_SPORTS = [80, 443, 53, 25]
ETHER = b'\x00\x00\x5e\x00\x53\xbb\x00\x00\x5e\x00\x53\xaa\x08\x00'  # documentation MACs, IPv4


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ttl):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), random.getrandbits(16), 0,
                      ttl, proto, 0, src.packed, dst.packed)
    hdr = hdr[:10] + struct.pack('!H', checksum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(sport, dport, flags, seq, ack=0):
    return struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 1024, 0, 0)


def udp(sport, dport, body):
    return struct.pack('!HHHH', sport, dport, 8 + len(body), 0) + body


def icmp(typ, code, ident, seq, body):
    msg = struct.pack('!BBHHH', typ, code, 0, ident, seq) + body
    return msg[:2] + struct.pack('!H', checksum(msg)) + msg[4:]


def read_sources(table_path):
    """The IPv4 (network, country) pairs of TABLE.tsv, then UNKNOWN_SRC as ZZ."""
    sources = []
    for line in open(table_path):
        net, cc = line.split()
        net = ipaddress.ip_network(net)
        if net.version == 4:
            sources.append((net, cc))
    sources.append((UNKNOWN_SRC, 'ZZ'))
    return sources


def write_pcap(path, frames):
    """A classic little-endian pcap (Ethernet) of FRAMES: (microseconds, bytes) pairs."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for us, frame in frames:
            f.write(struct.pack('<IIII', us // 1_000_000, us % 1_000_000, len(frame), len(frame)))
            f.write(frame)


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    table_path, pcap_path, truth_path = argv[1:4]
    opts = dict(zip(argv[4::2], argv[5::2]))
    n = int(opts.get('--packets', 3000))
    random.seed(int(opts.get('--seed', 20190301)))

    sources = read_sources(table_path)

    def draw_src():
        net, cc = random.choice(sources)
        return net[random.randrange(1, net.num_addresses - 1)], cc

    port, country = {}, {}
    total, leaks = [0, 0], [0, 0]
    tuples = set()
    frames = []
    t = T0 * 1_000_000

    def emit(src, cc, dst, proto, l4, key, tup):
        nonlocal t
        t += random.randint(50_000, 600_000)  # 0.05 .. 0.6 s: ~16 min for 3000 packets
        pkt = ipv4(src, dst, proto, l4, random.randint(30, 250))
        frames.append((t, ETHER + pkt))
        if dst in DARK:
            for d, k in ((port, key), (country, cc)):
                v = d.setdefault(k, [0, 0])
                v[0] += 1
                v[1] += len(pkt)
            total[0] += 1
            total[1] += len(pkt)
            tuples.add(tup)
        else:
            leaks[0] += 1
            leaks[1] += len(pkt)

    while len(frames) < n:
        src, cc = draw_src()
        dst = DARK[random.randrange(256)] if random.random() > 0.04 else LIT[random.randrange(1, 255)]
        r = random.random()
        if r < 0.70:  # SYN scan, sometimes retransmitted (same 5-tuple)
            dp = random.choices(TCP_PORTS, TCP_WEIGHTS)[0]
            sp = random.randint(1024, 65535)
            seq = int(dst) if dp in (23, 2323) else random.getrandbits(32)  # Mirai: seq = dst
            for _ in range(random.choice([1, 1, 1, 2, 3])):
                emit(src, cc, dst, 6, tcp(sp, dp, 0x02, seq), '%d/tcp' % dp, (src, dst, sp, dp, 6))
        elif r < 0.82:  # UDP probe
            dp = random.choice(UDP_PORTS)
            sp = random.randint(1024, 65535)
            body = bytes(random.randint(0, 48))
            emit(src, cc, dst, 17, udp(sp, dp, body), '%d/udp' % dp, (src, dst, sp, dp, 17))
        elif r < 0.92:  # ICMP echo request
            ident = random.getrandbits(16)
            emit(src, cc, dst, 1, icmp(8, 0, ident, 1, b'x' * 32), 'icmp', (src, dst, 0, 0x800, 1))
        else:  # backscatter: SYN+ACK or RST from a victim's service port
            sp = random.choice(BACKSCATTER_SPORTS)
            dp = random.randint(1024, 65535)
            flags = 0x12 if random.random() < 0.7 else 0x14
            emit(src, cc, dst, 6, tcp(sp, dp, flags, random.getrandbits(32), 1), '%d/tcp' % dp,
                 (src, dst, sp, dp, 6))

    write_pcap(pcap_path, frames)
    with open(truth_path, 'w') as f:
        json.dump({'port': port, 'country': country, 'total': total, 'leaks': leaks,
                   'tuples': len(tuples), 'packets_written': len(frames),
                   'first': T0, 'last_us': t}, f, indent=1, sort_keys=True)


if __name__ == '__main__':
    main(sys.argv)
