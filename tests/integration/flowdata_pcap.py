# SPDX-License-Identifier: BSD-2-Clause
"""flowdata_pcap.py - pcap plumbing and tshark counting for the flowdata test.

Everything the flowdata replay test needs below the collector: read classic
pcaps (pcapng is converted with editcap first), pull out the UDP payloads
with the exporter they came from, write classic pcaps back (to join akvorado's
template/data pairs, to wrap softflowd's export and the messages of an IPFIX
file so tshark can count them), run softflowd over a raw packet capture, and
count with tshark what a capture holds: NetFlow/IPFIX data records
(options data records included, "Flow N" in tshark's tree), NetFlow v5 PDUs
and sFlow flow samples.
tshark is the independent source of every expected count: nothing here
decodes a flow record. Stdlib only (Debian's /usr/bin/python3).
"""
import os
import re
import socket
import struct
import subprocess
import tempfile
import time

PCAP_MAGIC = (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d')


def classic_pcap(path, tmpdir):
    """PATH itself when it is a classic pcap, else a classic copy made by editcap."""
    with open(path, 'rb') as f:
        if f.read(4) in PCAP_MAGIC:
            return path
    out = os.path.join(tmpdir, 'classic-' + os.path.basename(path))
    subprocess.run(['editcap', '-F', 'pcap', path, out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def read_pcap(path):
    """(linktype, [(ts_sec, ts_usec, frame bytes)]) of a classic pcap."""
    with open(path, 'rb') as f:
        gh = f.read(24)
        if gh[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
            end = '<'
        elif gh[:4] in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
            end = '>'
        else:
            raise ValueError(f'{path}: not a classic pcap')
        linktype = struct.unpack(end + 'I', gh[20:24])[0]
        frames = []
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            ts, tus, incl, _orig = struct.unpack(end + 'IIII', rh)
            frames.append((ts, tus, f.read(incl)))
    return linktype, frames


def write_pcap(path, linktype, frames):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype))
        for ts, tus, data in frames:
            f.write(struct.pack('<IIII', ts, tus, len(data), len(data)))
            f.write(data)


def udp_frame(payload, sport, dport, src=b'\x7f\x00\x00\x01', dst=b'\x7f\x00\x00\x01'):
    """An Ethernet/IPv4/UDP frame around PAYLOAD (checksums zero: tshark does not verify)."""
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    return b'\x00\x00\x00\x00\x00\x02' + b'\x00\x00\x00\x00\x00\x01' + b'\x08\x00' + ip + udp


def udp_payload(linktype, pkt):
    """(exporter 'addr:port', dst port, payload) of a UDP frame, or None (IP fragments too)."""
    try:
        if linktype == 1:
            et, off = struct.unpack('!H', pkt[12:14])[0], 14
            while et in (0x8100, 0x88a8, 0x9100):
                et = struct.unpack('!H', pkt[off + 2:off + 4])[0]
                off += 4
        elif linktype == 113:
            et, off = struct.unpack('!H', pkt[14:16])[0], 16
        elif linktype == 0:
            et, off = (0x0800 if struct.unpack('<I', pkt[:4])[0] == 2 else 0x86dd), 4
        elif linktype in (101, 228, 229, 12, 14):
            et, off = (0x0800 if pkt[0] >> 4 == 4 else 0x86dd), 0
        else:
            return None
        if et == 0x0800:
            if pkt[off + 9] != 17 or struct.unpack('!H', pkt[off + 6:off + 8])[0] & 0x3fff:
                return None
            src = socket.inet_ntop(socket.AF_INET, pkt[off + 12:off + 16])
            u = off + (pkt[off] & 0x0f) * 4
        elif et == 0x86dd:
            if pkt[off + 6] != 17:
                return None
            src = '[' + socket.inet_ntop(socket.AF_INET6, pkt[off + 8:off + 24]) + ']'
            u = off + 40
        else:
            return None
        sport, dport, ulen = struct.unpack('!HHH', pkt[u:u + 6])
        return f'{src}:{sport}', dport, pkt[u + 8:u + ulen]
    except (IndexError, struct.error):
        return None


def payload_kind(p):
    """Which listener a datagram belongs to, from its version field."""
    if len(p) >= 4 and p[:4] == b'\x00\x00\x00\x05':
        return 'sflow'
    if len(p) >= 2:
        return {5: 'v5', 9: 'v9', 10: 'ipfix'}.get(struct.unpack('!H', p[:2])[0], 'other')
    return 'other'


FLOW_RE = re.compile(r'^\s+Flow \d+$')
PDU_RE = re.compile(r'^\s+pdu \d+/\d+$')
SFLOW_RE = re.compile(r'^    (Flow sample|Expanded flow sample), seq \d+$')


def tshark_count(path, ports):
    """tshark's count of data records in a classic pcap.

    ports: {udp port: 'cflow' | 'sflow'}, forced with -d so odd ports decode.
    Counted: every NetFlow v9/IPFIX data record tshark could decode with a
    template it had already seen ("Flow N", options data records included,
    sets without a template excluded), every NetFlow v5 PDU ("pdu i/n"), and
    every sFlow flow sample (plain or expanded; counter samples excluded).
    Also counted: data records that carry no IP address of their own, only
    a sampled frame (dataLinkFrameSection, IE 315: 'l2_only'). Returns the
    counts and {frame number: sFlow flow samples}.
    """
    cmd = ['tshark', '-n', '-r', path, '-V']
    for port, proto in sorted(ports.items()):
        cmd += ['-d', f'udp.port=={port},{proto}']
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    n = {'flows': 0, 'v5': 0, 'sflow': 0, 'no_template': 0, 'l2_only': 0}
    per_frame = {}  # frame number -> sFlow flow samples in it
    frame, rec_depth, rec_fields = 0, None, set()

    def close_record():
        # a data record whose only addresses are inside a sampled frame (IE 315)
        if rec_depth is not None and 'Data Link Frame Section' in rec_fields \
                and not rec_fields & {'SrcAddr', 'DstAddr'}:
            n['l2_only'] += 1
    for line in out.splitlines():
        m = re.match(r'^Frame (\d+):', line)
        if m:
            close_record()
            frame, rec_depth = int(m.group(1)), None
            continue
        depth = len(line) - len(line.lstrip(' '))
        if rec_depth is not None and line.strip() and depth <= rec_depth:
            close_record()
            rec_depth = None
        if FLOW_RE.match(line):
            n['flows'] += 1
            rec_depth, rec_fields = depth, set()
        elif rec_depth is not None and depth == rec_depth + 4:
            rec_fields.add(line.strip().split(':')[0])
        elif PDU_RE.match(line):
            n['v5'] += 1
        elif SFLOW_RE.match(line):
            n['sflow'] += 1
            per_frame[frame] = per_frame.get(frame, 0) + 1
        elif 'no template found' in line and line.lstrip().startswith('Data ('):
            n['no_template'] += 1
    close_record()
    return n, per_frame


def softflowd_export(raw, out, version='10'):
    """Run softflowd over a raw packet capture and keep its export as a classic pcap.

    softflowd 1.1.0 blocks on its control socket after reading a file (-r), so
    it is poked with softflowctl until it exits. Returns the datagram count.
    """
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sink.bind(('127.0.0.1', 0))
    port = sink.getsockname()[1]
    with tempfile.TemporaryDirectory() as d:
        ctl = os.path.join(d, 'ctl')
        # -a: flow times from the pcap's clock; without it softflowd 1.1.0 stamps the
        # records weeks after the export time of their own messages
        p = subprocess.Popen(['softflowd', '-r', raw, '-a', '-v', version, '-n', f'127.0.0.1:{port}',
                              '-d', '-c', ctl, '-p', os.path.join(d, 'pid')],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while p.poll() is None and time.time() < deadline:
            if os.path.exists(ctl):
                subprocess.run(['softflowctl', '-c', ctl, 'statistics'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.05)
        if p.poll() is None:
            p.kill()
            p.wait()
            raise RuntimeError(f'softflowd did not finish {raw} within 30 s')
    frames = []
    sink.settimeout(0.5)
    try:
        while True:
            data, peer = sink.recvfrom(65535)
            now = time.time()
            frames.append((int(now), int(now % 1 * 1e6), udp_frame(data, peer[1], 4739)))
    except socket.timeout:
        pass
    sink.close()
    write_pcap(out, 1, frames)
    return len(frames)


def ipfix_file_to_pcap(path, out):
    """Wrap every message of an IPFIX file (RFC 5655) into a UDP frame to port 4739."""
    frames = []
    with open(path, 'rb') as f:
        data = f.read()
    off = 0
    while off + 16 <= len(data):
        version, length = struct.unpack('!HH', data[off:off + 4])
        if version != 10 or length < 16 or off + length > len(data):
            raise ValueError(f'{path}: bad IPFIX message at offset {off}')
        export = struct.unpack('!I', data[off + 4:off + 8])[0]
        frames.append((export, 0, udp_frame(data[off:off + length], 4739, 4739)))
        off += length
    write_pcap(out, 1, frames)
    return len(frames)
