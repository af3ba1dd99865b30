#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""IPFIX messages for the time-policy and fault tests (timepolicy.sh, faults.sh).

  faults.py send --port P [--tcp] [--addr A] [--sport S] [--export E] [--seq Q] ACTION...

ACTION is one of
  tmpl:TID:LAYOUT                   a template (LAYOUT a: malformed.py's VALID field
                                    order; b: the same fields, ports first)
  data:TID:LAYOUT:N:START:DPORT     N flows to 203.0.113.x:DPORT, each 1 packet and
                                    100 bytes, starting at START (unix seconds), from
                                    --src (default 5.8.0.1; one address for every
                                    flow, so a GeoIP test knows its country)
  withdraw:TID                      a template withdrawal (0 fields)
  export:E                          the export time of the following messages

  faults.py rrdsum FILE START END   flows in FILE's 1-step archive over [START, END)
                                    (rrdtool fetch; ABSOLUTE rate x step), unknown as 0
Each action is one message; the sequence number counts data records (RFC 7011)
from --seq. Over UDP every message is one datagram from (A, S): a fixed S keeps
the collector's exporter session; over TCP all go on one connection. The
expectations live in the calling scripts, which know what they asked for.
Only the standard library.
"""
import argparse
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from malformed import VALID, iset, ip4, ipfix, trec  # noqa: E402 (the shared encoders)

LAYOUTS = {
    "a": VALID,
    "b": [(7, 2), (11, 2), (4, 1), (6, 1), (8, 4), (12, 4), (2, 8), (1, 8), (150, 4),
          (151, 4)],
}


def record(layout, i, start, dport, src="5.8.0.1"):
    v = {8: ip4(src), 12: ip4("203.0.113.%d" % (i % 250 + 1)),
         7: struct.pack("!H", 40000 + i % 20000), 11: struct.pack("!H", dport),
         4: bytes([6]), 6: bytes([2]), 2: struct.pack("!Q", 1), 1: struct.pack("!Q", 100),
         150: struct.pack("!I", start), 151: struct.pack("!I", start + 1)}
    return b"".join(v[ie] for ie, _ in LAYOUTS[layout])


def messages(actions, export, seq, src="5.8.0.1"):
    out = []
    for a in actions:
        p = a.split(":")
        if p[0] == "export":
            export = int(p[1])
        elif p[0] == "tmpl":
            out.append(ipfix([iset(2, trec(int(p[1]), LAYOUTS[p[2]]))], seq=seq, export=export))
        elif p[0] == "withdraw":
            out.append(ipfix([iset(2, trec(int(p[1]), [], count=0))], seq=seq, export=export))
        elif p[0] == "data":
            tid, layout, n, start, dport = int(p[1]), p[2], int(p[3]), int(p[4]), int(p[5])
            recs = b"".join(record(layout, i, start, dport, src) for i in range(n))
            out.append(ipfix([iset(tid, recs)], seq=seq, export=export))
            seq = (seq + n) & 0xffffffff
        else:
            sys.exit("unknown action " + a)
    return out


def rrdsum(path, start, end):
    out = subprocess.run(["rrdtool", "fetch", path, "AVERAGE", "-r", "300", "-s", str(start),
                          "-e", str(end - 1)], check=True, capture_output=True, text=True).stdout
    names = out.split("\n")[0].split()
    total = 0.0
    for line in out.split("\n")[1:]:
        if ":" not in line:
            continue
        t, vals = line.split(":", 1)
        v = vals.split()[names.index("flows")]
        if start < int(t) <= end and v.lower() not in ("nan", "-nan"):
            total += float(v) * 300
    print(round(total))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "rrdsum":
        rrdsum(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["send"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--sport", type=int, default=0)
    ap.add_argument("--export", type=int, default=1546300860)
    ap.add_argument("--seq", type=int, default=0)
    ap.add_argument("--src", default="5.8.0.1", help="source address of every flow")
    ap.add_argument("actions", nargs="+")
    args = ap.parse_args()
    msgs = messages(args.actions, args.export, args.seq, args.src)
    if args.tcp:
        s = socket.create_connection(("127.0.0.1", args.port), source_address=(args.addr, 0))
        for m in msgs:
            s.sendall(m)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        while s.recv(4096):  # the daemon closes once it has read everything
            pass
        s.close()
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.addr, args.sport))
    for m in msgs:
        s.sendto(m, ("127.0.0.1", args.port))
        time.sleep(0.002)
    s.close()


if __name__ == "__main__":
    main()
