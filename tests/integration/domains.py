#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A sender cycling observation domain IDs, and what the daemon must keep.

One UDP socket (one exporter: address and source port) sends @count IPFIX
messages, message i in observation domain i, each carrying a template and one
flow. decode.c keeps state for the first `max-domains` domains of an exporter
and drops every message of a further domain whole, counting it as
dropped.domain_cap; so the expectation is: messages = records = templates =
cap, domain_cap = count - cap, and the jsonl output holds exactly the flows of
the first cap messages. Then one more message in each admitted domain: still
decoded (the state kept is the state that was there first).

  send  --addr A --port P --count N --cap C --expect F
  check --stats S --jsonl J --expect F --sensor NAME
Encoders come from malformed.py (same folder).
"""
import argparse
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import malformed as m  # noqa: E402


def cmd_send(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.addr, 0))
    flows = m.Flows()
    kept = 0
    for i in range(args.count):
        f = flows.make(1)[0] if i < args.cap else m.Flows().make(1)[0]
        s.sendto(m.ipfix([m.iset(2, m.trec(256, m.VALID)), m.iset(256, m.valid_record(f))],
                         domain=i), ("127.0.0.1", args.port))
        kept += i < args.cap
        if i % 100 == 99:
            time.sleep(0.002)  # keep the socket queue short: a kernel drop would blur the count
    for i in range(args.cap):  # the admitted domains still work
        f = flows.make(1)[0]
        s.sendto(m.ipfix([m.iset(256, m.valid_record(f))], domain=i), ("127.0.0.1", args.port))
    exp = dict(label="%s:%d" % (args.addr, s.getsockname()[1]), messages=2 * args.cap,
               records=2 * args.cap, templates=args.cap, domain_cap=args.count - args.cap,
               lines=flows.lines())
    json.dump(exp, open(args.expect, "w"))
    print("sent %d messages in %d domains from %s" % (args.count + args.cap, args.count,
                                                       exp["label"]))


def cmd_check(args):
    exp = json.load(open(args.expect))
    st = json.load(open(args.stats))
    fails = []
    kernel = sum(l.get("kernel_drops", 0) for l in st["listeners"])
    if kernel:
        fails.append("%d kernel drops: the count is not exact" % kernel)
    e = next((x for x in st["exporters"] if x["exporter"].endswith(exp["label"])), None)
    if e is None:
        fails.append("exporter %s missing from stats.json" % exp["label"])
    else:
        got = dict(messages=e["messages"], records=e["records"], templates=e["templates"],
                   domain_cap=e["dropped"].get("domain_cap"))
        want = {k: exp[k] for k in got}
        if got != want:
            fails.append("exporter counters %s, want %s" % (got, want))
        others = {k: v for k, v in e["dropped"].items() if k != "domain_cap" and v}
        if others:
            fails.append("other drops moved: %s" % others)
    lines = m.jsonl_totals(args.jsonl).get(args.sensor, [])
    if lines != exp["lines"]:
        fails.append("jsonl totals %s, want %s" % (lines, exp["lines"]))
    for f in fails:
        print("FAIL:", f, file=sys.stderr)
    if not fails:
        print("domain flood: %d domains dropped as domain_cap, %d kept and decoded"
              % (exp["domain_cap"], exp["templates"]))
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("send")
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--cap", type=int, required=True)
    p.add_argument("--expect", required=True)
    p = sub.add_parser("check")
    for a in ("--stats", "--jsonl", "--expect", "--sensor"):
        p.add_argument(a, required=True)
    args = ap.parse_args()
    return cmd_send(args) or 0 if args.cmd == "send" else cmd_check(args)


if __name__ == "__main__":
    sys.exit(main())
