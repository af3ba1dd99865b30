#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write a classic pcap of N TCP SYN packets, each its own flow (distinct source
address and port), to the darknet 203.0.113.0/24, all within one second.
usage: burst_pcap.py N OUT.pcap"""
import struct, sys

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

n, out = int(sys.argv[1]), sys.argv[2]
t0 = 1551398400  # 2019-03-01T00:00:00Z
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        src = bytes([10 + (i >> 16) % 200, (i >> 8) & 0xff, i & 0xff, 1])
        dst = bytes([203, 0, 113, i % 254 + 1])
        tcp = struct.pack('!HHIIBBHHH', 40000 + i % 20000, 23, i, 0, 5 << 4, 0x02, 1024, 0, 0)
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        frame = b'\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00' + ip + tcp
        us = (i * 997) % 1000000
        f.write(struct.pack('<IIII', t0, us, len(frame), len(frame)) + frame)
