# SPDX-License-Identifier: BSD-2-Clause
"""flowgen_decode.py - an independent decoder for flowgen's output (smoke test helper).

Reads IPFIX (a file, a UDP listener or a TCP listener) or NetFlow v9 (UDP) with
nothing but the standard library, checks the wire rules flowgen promises
(sequence numbers, export time not before any record's end, datagrams of at
most 1400 bytes, templates before data), looks every source up in the same
TSV table flowgen drew it from, and prints the aggregates in the collector's
jsonl shape, so the caller can sort + diff them against flowgen --expect.
Written apart from flowgen on purpose: sharing code would share its bugs.
"""
import argparse
import ipaddress
import json
import socket
import struct
import sys
import time

IPFIX_FIELDS = {8: "src4", 12: "dst4", 27: "src6", 28: "dst6", 7: "sport", 11: "dport",
                4: "proto", 6: "flags", 2: "packets", 1: "bytes", 152: "start_ms",
                153: "end_ms", 150: "start_s", 151: "end_s", 22: "start_up", 21: "end_up",
                32: "icmp4", 139: "icmp6", 149: "domain", 305: "interval", 306: "space",
                160: "sysinit", 34: "sampling_interval", 1 << 16: "system"}


class Decoder:
    def __init__(self, args):
        self.args = args
        self.templates = {}
        self.sampling = 1
        self.sysinit = None
        self.records = []
        self.seq = {}
        self.errors = []
        self.messages = 0

    def fail(self, msg):
        self.errors.append(msg)

    @staticmethod
    def value(raw):
        if len(raw) in (1, 2, 4, 8):
            return int.from_bytes(raw, "big")
        return raw

    def record(self, fields, data, off):
        rec = {}
        for ie, length in fields:
            rec[IPFIX_FIELDS.get(ie, ie)] = self.value(data[off:off + length])
            off += length
        return rec, off

    def options(self, rec):
        if "interval" in rec:
            self.sampling = (rec["interval"] + rec["space"]) // rec["interval"]
        if "sampling_interval" in rec:
            self.sampling = rec["sampling_interval"]
        if "sysinit" in rec:
            self.sysinit = rec["sysinit"]

    def ipfix_message(self, msg, udp):
        version, length, extime, seq, domain = struct.unpack_from(">HHIII", msg)
        if version != 10 or length != len(msg):
            return self.fail("bad IPFIX header")
        if udp and length > 1400:
            self.fail("datagram of %d bytes" % length)
        expected = self.seq.get(domain, 0)
        if seq != expected:
            self.fail("sequence %d, expected %d" % (seq, expected))
        self.messages += 1
        off, data_records = 16, 0
        while off < length:
            set_id, set_len = struct.unpack_from(">HH", msg, off)
            end, off = off + set_len, off + 4
            if set_id in (2, 3):
                while end - off >= 4:
                    tid, count = struct.unpack_from(">HH", msg, off)
                    off += 4
                    scope = 0
                    if set_id == 3:
                        scope = struct.unpack_from(">H", msg, off)[0]
                        off += 2
                    fields = []
                    for _ in range(count):
                        ie, flen = struct.unpack_from(">HH", msg, off)
                        off += 4
                        fields.append((ie, flen))
                    self.templates[(domain, tid)] = (fields, scope)
            else:
                if (domain, set_id) not in self.templates:
                    self.fail("data set %d before its template" % set_id)
                    off = end
                    continue
                fields, scope = self.templates[(domain, set_id)]
                size = sum(f[1] for f in fields)
                while end - off >= size:
                    rec, off = self.record(fields, msg, off)
                    data_records += 1
                    if scope:
                        self.options(rec)
                    else:
                        self.flow(rec, extime * 1000)
            off = end
        self.seq[domain] = expected + data_records

    def v9_packet(self, msg):
        version, count, uptime, secs, seq, source = struct.unpack_from(">HHIIII", msg)
        if version != 9 or len(msg) > 1400:
            return self.fail("bad v9 packet")
        if seq != self.seq.get(source, 0):
            self.fail("v9 sequence %d, expected %d" % (seq, self.seq.get(source, 0)))
        self.seq[source] = seq + 1
        boot = secs * 1000 - uptime
        off, n = 20, 0
        while off + 4 <= len(msg):
            set_id, set_len = struct.unpack_from(">HH", msg, off)
            end, off = off + set_len, off + 4
            if set_id == 0:
                while end - off >= 4:
                    tid, fcount = struct.unpack_from(">HH", msg, off)
                    off += 4
                    fields = [struct.unpack_from(">HH", msg, off + 4 * i) for i in range(fcount)]
                    off += 4 * fcount
                    self.templates[(source, tid)] = (fields, 0)
                    n += 1
            elif set_id == 1:
                tid, scope_len, opt_len = struct.unpack_from(">HHH", msg, off)
                off += 6
                fields = []
                for i in range((scope_len + opt_len) // 4):
                    ie, flen = struct.unpack_from(">HH", msg, off + 4 * i)
                    fields.append((ie | (1 << 16) if i < scope_len // 4 else ie, flen))
                self.templates[(source, tid)] = (fields, scope_len // 4)
                n += 1
            elif (source, set_id) in self.templates:
                fields, scope = self.templates[(source, set_id)]
                size = sum(f[1] for f in fields)
                while end - off >= size:
                    rec, off = self.record(fields, msg, off)
                    n += 1
                    if scope:
                        self.options(rec)
                    else:
                        rec["start_ms"] = boot + rec.pop("start_up")
                        rec["end_ms"] = boot + rec.pop("end_up")
                        self.flow(rec, secs * 1000)
            else:
                self.fail("v9 data flowset %d before its template" % set_id)
            off = end
        if n != count:
            self.fail("v9 count %d, decoded %d" % (count, n))

    def flow(self, rec, export_ms):
        if "start_s" in rec:
            rec["start_ms"], rec["end_ms"] = rec["start_s"] * 1000, rec["end_s"] * 1000
        elif "start_up" in rec:
            if self.sysinit is None:
                return self.fail("sysUpTime record before systemInitTimeMilliseconds")
            rec["start_ms"] = self.sysinit + rec["start_up"]
            rec["end_ms"] = self.sysinit + rec["end_up"]
        if rec["end_ms"] > export_ms:
            self.fail("record ends at %d, after its message's export time %d"
                      % (rec["end_ms"], export_ms))
        rec["sampling"] = self.sampling
        self.records.append(rec)


def load_table(path):
    nets = []
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            net, cc = line.split("\t")[:2]
            nets.append((ipaddress.ip_network(net), cc.strip()))
    return nets


def lookup(nets, addr):
    best, cc = -1, "ZZ"
    for net, c in nets:
        if addr.version == net.version and addr in net and net.prefixlen > best:
            best, cc = net.prefixlen, c
    return cc


def dark_source(r, dark):
    """The source address of decoded record r, or None when its destination lies in none of
    the networks of dark (a leak: the collector does not observe it)."""
    if "src4" in r:
        src, dst = ipaddress.IPv4Address(r["src4"]), ipaddress.IPv4Address(r["dst4"])
    else:
        src, dst = ipaddress.IPv6Address(r["src6"]), ipaddress.IPv6Address(r["dst6"])
    if not any(dst.version == d.version and dst in d for d in dark):
        return None
    return src


def aggregate(dec, args):
    nets = load_table(args.table) if args.table else []
    dark = [ipaddress.ip_network(args.dark)] + ([ipaddress.ip_network(args.dark6)]
                                                if args.dark6 else [])
    counts, cache = {}, {}
    for r in dec.records:
        src = dark_source(r, dark)
        if src is None:
            continue
        if src not in cache:
            cache[src] = lookup(nets, src)
        proto = r["proto"]
        if proto in (1, 58):
            port = "icmp" if proto == 1 else "icmp6"
            icmp = r.get("icmp4" if proto == 1 else "icmp6")
            if icmp is not None and icmp != r["dport"]:
                dec.fail("ICMP type/code %d differs from dport %d" % (icmp, r["dport"]))
        else:
            port = "%d/%s" % (r["dport"], "tcp" if proto == 6 else "udp")
        bucket = r["start_ms"] // 1000 // args.step * args.step
        for dim, key in (("total", "all"), ("port", port), ("country", cache[src])):
            c = counts.setdefault((bucket, dim, key), [0, 0, 0])
            c[0] += 1
            c[1] += r["packets"] * r["sampling"]
            c[2] += r["bytes"] * r["sampling"]
    for (bucket, dim, key), (f, p, b) in counts.items():
        print(json.dumps({"start": bucket, "end": bucket + args.step, "sensor": args.sensor,
                          "dim": dim, "key": key, "flows": f, "packets": p, "bytes": b},
                         separators=(",", ":")))


def listen(args, dec):
    family = socket.AF_INET6 if ":" in args.listen else socket.AF_INET
    kind = socket.SOCK_DGRAM if args.mode != "tcp" else socket.SOCK_STREAM
    sock = socket.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((args.listen, 0))
    if kind == socket.SOCK_STREAM:
        sock.listen(1)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(sock.getsockname()[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    sock.settimeout(args.timeout)
    if kind == socket.SOCK_STREAM:
        conn, _ = sock.accept()
        conn.settimeout(args.timeout)
        buf = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        while buf:
            length = struct.unpack_from(">H", buf, 2)[0]
            dec.ipfix_message(buf[:length], False)
            buf = buf[length:]
        return
    deadline = time.time() + args.timeout
    while len(dec.records) < args.records and time.time() < deadline:
        try:
            msg, peer = sock.recvfrom(65536)
        except socket.timeout:
            break
        if args.peer and peer[0] != args.peer:
            dec.fail("datagram from %s, expected %s" % (peer[0], args.peer))
        if args.mode == "v9":
            dec.v9_packet(msg)
        else:
            dec.ipfix_message(msg, True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["file", "udp", "tcp", "v9"])
    ap.add_argument("--file")
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port-file")
    ap.add_argument("--peer")
    ap.add_argument("--records", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--table")
    ap.add_argument("--dark", default="203.0.113.0/24")
    ap.add_argument("--dark6")
    ap.add_argument("--step", type=int, default=300)
    ap.add_argument("--sensor", default="s1")
    args = ap.parse_args()
    dec = Decoder(args)
    if args.mode == "file":
        data = open(args.file, "rb").read()
        off = 0
        while off < len(data):
            length = struct.unpack_from(">H", data, off + 2)[0]
            dec.ipfix_message(data[off:off + length], False)
            off += length
    else:
        listen(args, dec)
    if args.records and len(dec.records) != args.records:
        dec.fail("decoded %d records, expected %d" % (len(dec.records), args.records))
    aggregate(dec, args)
    for e in dec.errors[:10]:
        print("decode: " + e, file=sys.stderr)
    sys.exit(1 if dec.errors else 0)


if __name__ == "__main__":
    main()
