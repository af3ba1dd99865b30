#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make_corpus.py - seed corpora for the fuzz targets, built at test time.

Reads the shared flow captures (../shared/flowdata: classic pcaps, pcapng,
the pcaps inside its extra/*.tar.gz bundles and its IPFIX files) where they
lie, never copying them into the repository, and writes one corpus directory
per fuzz target into the build tree:

  ipfix/ v9/ v5/  the UDP payloads of each capture, in capture order, in the
                  harness's record format (fuzz_common.h: selector byte, 16-bit
                  length, payload), each source address of a capture mapped to
                  an exporter the fuzz configuration accepts; at most 16 KiB a
                  seed, so the template datagrams open the first seed of a
                  capture and the long-lived collector state carries them over
  sflow/          the same for sFlow v5 payloads (the fuzz_sflow target sends
                  them through real loopback sockets)
  file/           IPFIX files cut at message boundaries (<= 16 KiB)
  config/         the ini examples of docs/configuration.md

plus flowgen's own output (an IPFIX file, split into messages too, and a
NetFlow v9 run caught on a loopback socket) and a few hand-built sFlow v5
datagrams, so the corpora are not empty when the flowdata folder is absent
(then only those seeds are written, and this says so). Stdlib only.
"""
import argparse
import io
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile

# One UDP-in-a-frame parser and one version sniffer for every test script.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
from flowdata_pcap import payload_kind, udp_payload  # noqa: E402

SEED_MAX = 16384
# selectors whose fake exporter the fuzz configuration maps to a sensor
# (127.0.L.1-3 and 127.0.0.7 on either source port; see fuzz_common.c)
ACCEPTED = [0, 1, 2, 6, 8, 9, 10, 14, 16, 17, 18, 24, 25, 26]


def pcap_frames(blob):
    """(linktype, [frame bytes]) of a classic pcap or a pcapng, or None."""
    magic = blob[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        end = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
        linktype = struct.unpack(end + 'I', blob[20:24])[0]
        frames, off = [], 24
        while off + 16 <= len(blob):
            incl = struct.unpack(end + 'I', blob[off + 8:off + 12])[0]
            frames.append(blob[off + 16:off + 16 + incl])
            off += 16 + incl
        return linktype, frames
    if magic == b'\x0a\x0d\x0d\x0a':
        end = '<' if blob[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
        linktypes, frames, off, linktype = [], [], 0, None
        while off + 12 <= len(blob):
            btype, blen = struct.unpack(end + 'II', blob[off:off + 8])
            if blen < 12:
                break
            body = blob[off + 8:off + blen - 4]
            if btype == 1:  # interface description
                linktypes.append(struct.unpack(end + 'H', body[:2])[0])
            elif btype == 6:  # enhanced packet
                ifid, _th, _tl, caplen = struct.unpack(end + 'IIII', body[:16])[:4]
                linktype = linktypes[ifid] if ifid < len(linktypes) else linktype
                frames.append(body[20:20 + caplen])
            elif btype == 3:  # simple packet
                frames.append(body[4:])
            off += blen
        return (linktypes[0] if linktypes else 1), frames
    return None


class Corpus:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def write(self, target, name, blob):
        d = os.path.join(self.out, target)
        os.makedirs(d, exist_ok=True)
        safe = re.sub(r'[^A-Za-z0-9._-]', '_', name)
        with open(os.path.join(d, safe), 'wb') as f:
            f.write(blob)
        self.count[target] = self.count.get(target, 0) + 1

    def datagrams(self, target, name, items):
        """items: [(source key, payload)] in order; written as <= SEED_MAX seeds."""
        sel_of, seed, n = {}, b'', 0
        for src, p in items:
            if src not in sel_of:
                sel_of[src] = ACCEPTED[len(sel_of) % len(ACCEPTED)]
            rec = struct.pack('!BH', sel_of[src], len(p)) + p
            if seed and len(seed) + len(rec) > SEED_MAX:
                self.write(target, f'{name}.{n}', seed)
                seed, n = b'', n + 1
            seed += rec[:SEED_MAX]
        if seed:
            self.write(target, f'{name}.{n}', seed)

    def ipfix_file(self, name, blob):
        """An IPFIX stream: file seeds cut at message boundaries, and its messages as datagrams."""
        msgs, off = [], 0
        while off + 16 <= len(blob):
            ver, mlen = struct.unpack('!HH', blob[off:off + 4])
            if ver != 10 or mlen < 16 or off + mlen > len(blob):
                break
            msgs.append(blob[off:off + mlen])
            off += mlen
        chunk, n = b'', 0
        for m in msgs:
            if chunk and len(chunk) + len(m) > SEED_MAX:
                self.write('file', f'{name}.{n}', chunk)
                chunk, n = b'', n + 1
            chunk += m
        if chunk:
            self.write('file', f'{name}.{n}', chunk)
        self.datagrams('ipfix', name + '-msgs', [('file', m) for m in msgs])


def add_capture(corpus, name, blob):
    parsed = pcap_frames(blob)
    if parsed is None:
        return
    linktype, frames = parsed
    by_kind = {}
    for fr in frames:
        r = udp_payload(linktype, fr)
        if r is None:
            continue
        src, _dport, payload = r
        kind = payload_kind(payload)
        if kind in ('ipfix', 'v9', 'v5', 'sflow'):
            by_kind.setdefault(kind, []).append((src, payload))
    for kind, items in by_kind.items():
        corpus.datagrams(kind, name, items)


def add_flowdata(corpus, root):
    for dirpath, _dirs, files in sorted(os.walk(root)):
        if os.path.basename(dirpath) == 'tools':
            continue
        for fn in sorted(files):
            path = os.path.join(dirpath, fn)
            name = os.path.relpath(path, root)
            if fn.endswith(('.pcap', '.pcapng')):
                with open(path, 'rb') as f:
                    add_capture(corpus, name, f.read())
            elif fn.endswith('.ipfix'):
                with open(path, 'rb') as f:
                    corpus.ipfix_file(name, f.read())
            elif fn.endswith('.tar.gz'):
                with tarfile.open(path) as tar:
                    for m in tar.getmembers():
                        if m.isfile() and m.name.endswith(('.pcap', '.pcapng')):
                            add_capture(corpus, name + '/' + m.name, tar.extractfile(m).read())


def add_flowgen(corpus, flowgen):
    with tempfile.TemporaryDirectory() as tmp:
        for seed, extra in ((1, []), (2, ['--time-field=sysuptime', '--sampling=100']),
                            (3, ['--time-field=sec', '--dark6=2001:db8:7::/48'])):
            path = os.path.join(tmp, f'fg{seed}.ipfix')
            subprocess.run([flowgen, f'--seed={seed}', '--flows=300', f'--out=file:{path}'] + extra,
                           check=True, stdout=subprocess.DEVNULL)
            with open(path, 'rb') as f:
                corpus.ipfix_file(f'flowgen-{seed}', f.read())
    # NetFlow v9 goes out over UDP only: catch it on a loopback socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    port = s.getsockname()[1]
    subprocess.run([flowgen, '--seed=4', '--flows=300', '--format=v9', '--rate=0',
                    f'--out=udp://127.0.0.1:{port}'], check=True, stdout=subprocess.DEVNULL)
    s.settimeout(0.5)
    items = []
    try:
        while True:
            items.append(('flowgen', s.recv(65535)))
    except socket.timeout:
        pass
    s.close()
    if items:
        corpus.datagrams('v9', 'flowgen-v9', items)


def add_v5(corpus):
    """Two synthetic NetFlow v5 datagrams (sampled; a record stamped in the future)."""
    def rec(src, dst, dport, first, last, proto=6):
        return struct.pack('!4s4s4sHHIIIIHHBBBBHHBBH', socket.inet_aton(src),
                           socket.inet_aton(dst), b'\0' * 4, 1, 2, 3, 180, first, last,
                           40000, dport, 0, 0x02, proto, 0, 0, 0, 24, 24, 0)
    hdr = struct.pack('!HHIIIIBBH', 5, 2, 100000, 1546300800, 0, 7, 0, 1, 0x4000 | 100)
    a = hdr + rec('192.0.2.1', '203.0.113.5', 23, 90000, 99000) + \
        rec('192.0.2.2', '203.0.113.6', 0x0800, 95000, 96000, proto=1)
    hdr = struct.pack('!HHIIIIBBH', 5, 1, 100000, 1546300900, 0, 9, 0, 1, 0)
    b = hdr + rec('192.0.2.3', '203.0.113.7', 445, 99000 + 3600 * 1000, 99000 + 3601 * 1000)
    corpus.datagrams('v5', 'synthetic', [('a', a), ('b', b)])


def sflow_datagram(seq, samples, agent='192.0.2.77', sub_agent=0):
    """An sFlow v5 datagram: header (IPv4 agent), then (format, body) samples."""
    body = b''.join(struct.pack('!II', fmt, len(b)) + b for fmt, b in samples)
    return struct.pack('!II4sIIII', 5, 1, socket.inet_aton(agent), sub_agent, seq,
                       3600000 + seq * 1000, len(samples)) + body


def sflow_raw_tcp(src, dst, sport, dport, flags=0x02):
    """Flow record 1 (raw packet header): Ethernet + IPv4 + TCP, padded to 4 bytes."""
    eth = b'\x00\x11\x22\x33\x44\x55' + b'\x66\x77\x88\x99\xaa\xbb' + b'\x08\x00'
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 1, 0, 64, 6, 0, socket.inet_aton(src),
                     socket.inet_aton(dst))
    tcp = struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 0x50, flags, 1024, 0, 0)
    hdr = eth + ip + tcp
    rec = struct.pack('!IIII', 1, len(hdr) + 4, 4, len(hdr)) + hdr + b'\0' * (-len(hdr) % 4)
    return struct.pack('!II', 1, len(rec)) + rec


def sflow_sampled_v4(src, dst, sport, dport, proto=17):
    """Flow record 3 (sampled IPv4): the addresses without a packet header."""
    rec = struct.pack('!II4s4sIIII', 64, proto, socket.inet_aton(src), socket.inet_aton(dst),
                      sport, dport, 0, 0)
    return struct.pack('!II', 3, len(rec)) + rec


def add_sflow(corpus):
    """Hand-built sFlow v5: flow sample (raw IPv4/TCP header), counter sample, expanded flow
    sample. libfixbuf's translator answers an agent's first datagram with templates only, so
    each seed opens with a datagram that only primes the agent."""
    def flow_sample(seq, records, rate=1024):
        return 1, struct.pack('!IIIIIIII', seq, 3, rate, seq * rate, 0, 3, 0, len(records)) + \
            b''.join(records)

    def expanded_flow_sample(seq, records, rate=512):
        return 3, struct.pack('!IIIIIIIIIII', seq, 0, 3, rate, seq * rate, 0, 0, 3, 0, 0,
                              len(records)) + b''.join(records)

    def counter_sample(seq):
        generic = struct.pack('!IIQIIQIIIIIIQIIIIII', 3, 6, 10**9, 1, 3, 10**6, 1000, 0, 0, 0, 0,
                              0, 2 * 10**6, 2000, 0, 0, 0, 0, 0)
        return 2, struct.pack('!III', seq, 3, 1) + struct.pack('!II', 1, len(generic)) + generic

    syn = sflow_raw_tcp('198.51.100.9', '203.0.113.5', 40001, 23)
    synack = sflow_raw_tcp('192.0.2.200', '203.0.113.6', 80, 51234, flags=0x12)
    udp = sflow_sampled_v4('198.51.100.10', '203.0.113.7', 5353, 161)
    flow = [sflow_datagram(1, [flow_sample(1, [syn])]),
            sflow_datagram(2, [flow_sample(2, [syn]), flow_sample(3, [synack])]),
            sflow_datagram(3, [counter_sample(1)]),
            sflow_datagram(4, [expanded_flow_sample(4, [syn, udp])]),
            sflow_datagram(5, [counter_sample(2), flow_sample(5, [udp]),
                               expanded_flow_sample(6, [synack])])]
    # a second agent (another sub-agent) from a second exporter, then noise on the port
    other = [sflow_datagram(1, [flow_sample(1, [synack])], agent='192.0.2.78', sub_agent=1),
             sflow_datagram(2, [expanded_flow_sample(2, [syn])], agent='192.0.2.78', sub_agent=1),
             struct.pack('!H', 10) + b'\0' * 14]
    corpus.datagrams('sflow', 'synthetic', [('a', d) for d in flow] + [('b', d) for d in other])


def add_configs(corpus, src):
    with open(os.path.join(src, 'docs', 'configuration.md')) as f:
        text = f.read()
    blocks = re.findall(r'```ini\n(.*?)```', text, re.S)
    for i, b in enumerate(blocks):
        if '[collector]' not in b:
            b = '[collector]\n\n' + b
        corpus.write('config', f'docs-{i}', b.encode())
    with open(os.path.join(src, 'tests', 'fuzz', 'fuzz_common.c')) as f:
        c = f.read()
    body = re.search(r'fuzz_config_text\[\] =\n(.*?);\n', c, re.S).group(1)
    lines = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    corpus.write('config', 'harness', ''.join(lines).encode().decode('unicode_escape').encode())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--flowdata', required=True)
    ap.add_argument('--flowgen', required=True)
    ap.add_argument('--src', required=True)
    args = ap.parse_args()
    corpus = Corpus(args.out)
    # start from the seeds every time: what earlier runs added would make each run longer
    for t in ('ipfix', 'v9', 'v5', 'sflow', 'file', 'config'):
        shutil.rmtree(os.path.join(args.out, t), ignore_errors=True)
        os.makedirs(os.path.join(args.out, t))
    if os.path.isdir(args.flowdata):
        add_flowdata(corpus, args.flowdata)
    else:
        print(f'make_corpus: {args.flowdata} absent: seeds from flowgen and the docs only')
    add_flowgen(corpus, args.flowgen)
    add_v5(corpus)
    add_sflow(corpus)
    add_configs(corpus, args.src)
    print('make_corpus: ' + ', '.join(f'{t}: {n} seeds' for t, n in sorted(corpus.count.items())))
    for t in ('ipfix', 'v9', 'v5', 'sflow', 'file', 'config'):
        if corpus.count.get(t, 0) == 0:
            print(f'make_corpus: no seeds for {t}', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
