#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Hostile datagrams for teitend, and what the daemon must make of them.

Every case sends its hostile input from its own loopback address 127.0.0.N (so
its counters land on an exporter of its own in stats.json, and its flows on a
sensor of its own in the jsonl output), then a valid template and N valid
flows from the same address. The expectations are computed here, from what is
sent and from the wire rules of collector/wire.h (set and template walk) and
collector/decode.c (template_inspect: field lengths, varlen, zero-length
records; the per-session template cap; template_withdraw; data_sets_trim:
sets shorter than a record, variable-length records past their set;
options_record and normalise: sampling rates; unknown-template data sets);
nothing is copied from a daemon run. Besides every exporter's counters, each
sensor's records, observed, leaks, packets (sampling-corrected) and
raw_packets are checked against the flows sent.

Subcommands (see main()):
  sensors                 the [sensor:NAME] groups for every case
  cases ...  --expect F   send every case; write the expectation to F
  check  ...              compare stats.json and the jsonl file with F
  flood-templates ...     20,000 template IDs from one exporter (+ a legitimate one)
  flood-exporters ...     one datagram from each of 10,000 source ports
  valid ...               a legitimate exporter: a template and N flows (totals kept)
  check-flood ...         exporter counters, sensor totals and exporter-cap invariants
Only the standard library: struct + socket. The encoders and the expectation
model are in malformed_wire.py, the template and layout cases in
malformed_layouts.py.
"""
import argparse
import collections
import json
import os
import socket
import struct
import sys
import time

from malformed_layouts import ipfix_layout_cases
from malformed_time import count_cases, time_cases, vendor_cases
# the encoders, also for faults.py and domains.py (which import them from here)
from malformed_wire import (DARK, EXPORT, LAYOUT_B, T0, VALID, Case, Expect, Flows, Udp,
                            b_record, bump, data, ip4, ipfix, iset, trec, v5, v5_record, v9,
                            valid_record)


def ipfix_tail(case, u, n, tid=256, seq=0, dark=None):
    """A valid template and @n flows, as an exporter would send them."""
    u.send(ipfix([iset(2, trec(tid, VALID))], seq=seq))
    u.send(ipfix([iset(tid, b"".join(valid_record(f) for f in case.flows.make(n, dark)))],
                 seq=seq))
    case.exp.c["messages"] += 2
    case.exp.c["templates"] += 1
    case.exp.c["records"] += n


def v9_tail(case, u, n, tid=256):
    u.send(v9([iset(0, trec(tid, VALID))]))
    u.send(v9([iset(tid, b"".join(valid_record(f) for f in case.flows.make(n)))], count=n))
    case.exp.c["messages"] += 2
    case.exp.c["templates"] += 1
    case.exp.c["records"] += n


def ipfix_cases(add, port):
    """Hostile IPFIX/UDP. Each case: (name, function(case, udp))."""

    def short_header(c, u):
        u.send(b"\x00\x0a" + b"\x00" * 8)
        c.exp.malformed("short_header")

    def bad_length(c, u):  # a datagram cut short: the header promises more
        full = ipfix([iset(2, trec(256, VALID)),
                      iset(256, b"".join(valid_record(f) for f in Flows().make(5)))])
        u.send(full[:len(full) * 2 // 3])
        c.exp.malformed("bad_length")

    def truncated_set(c, u):  # cut short and the header length patched to match
        full = ipfix([iset(2, trec(256, VALID)),
                      iset(256, b"".join(valid_record(f) for f in Flows().make(5)))])
        cut = full[:len(full) - 20]
        u.send(cut[:2] + struct.pack("!H", len(cut)) + cut[4:])
        c.exp.malformed("set_overrun")

    def set_len0(c, u):
        u.send(ipfix([iset(256, b"\x01" * 12, length=0)]))
        c.exp.malformed("set_short")

    def set_len3(c, u):
        u.send(ipfix([iset(256, b"\x01" * 12, length=3)]))
        c.exp.malformed("set_short")

    def set_past(c, u):
        u.send(ipfix([iset(256, b"\x01" * 12, length=400)]))
        c.exp.malformed("set_overrun")

    def reserved_set(c, u):
        u.send(ipfix([iset(1, b"\x01" * 8)]))
        c.exp.malformed("reserved_set")

    def template_truncated(c, u):  # 20 fields announced, 3 present
        u.send(ipfix([iset(2, trec(300, VALID[:3], count=20))]))
        c.exp.malformed("template_truncated")

    def template_reserved_id(c, u):
        u.send(ipfix([iset(2, trec(100, VALID))]))
        c.exp.malformed("template_reserved_id")

    def options_scope0(c, u):
        u.send(ipfix([iset(3, struct.pack("!HHH", 301, 2, 0) + struct.pack("!HHHH", 149, 4, 34, 4))]))
        c.exp.malformed("options_scope")

    def overrun_after_valid(c, u):  # valid sets, then one that overruns: all of it is dropped
        u.send(ipfix([iset(2, trec(256, VALID)),
                      iset(256, b"".join(valid_record(f) for f in Flows().make(4))),
                      iset(257, b"\x02" * 8, length=100)]))
        c.exp.malformed("set_overrun")

    def template_zero_fields(c, u):
        # a template, its data, a withdrawal (0 fields), data for the withdrawn ID,
        # and a withdrawal of an ID never defined. Over UDP a withdrawal is ignored
        # (RFC 7011 8.4): the template stays, its later data decodes, both count.
        u.send(ipfix([iset(2, trec(256, VALID))]))
        u.send(ipfix([iset(256, b"".join(valid_record(f) for f in c.flows.make(3)))]))
        u.send(ipfix([iset(2, trec(256, [], count=0))]))
        u.send(ipfix([iset(256, b"".join(valid_record(f) for f in c.flows.make(2)))]))
        u.send(ipfix([iset(2, trec(400, [], count=0))]))
        c.exp.c["messages"] += 5
        c.exp.c["templates"] += 1
        c.exp.c["records"] += 5
        c.exp.c["withdrawals_ignored"] += 2

    def zero_length_record(c, u):  # every field 0 bytes long: records of no length
        u.send(ipfix([iset(2, trec(400, [(210, 0), (210, 0)]))]))
        u.send(ipfix([iset(400, b"\x00" * 8)]))
        c.exp.c["messages"] += 2
        c.exp.refused["zero_length_record"] += 1
        c.exp.c["unknown_template_sets"] += 1  # the template never reached libfixbuf

    def lying(fields, reason, reclen, value_range=False, resend=False):
        def run(c, u):
            u.send(ipfix([iset(2, trec(257, fields))]))
            if resend:  # exporters resend templates: refused (and counted) again, logged once
                u.send(ipfix([iset(2, trec(257, fields))]))
                c.exp.c["messages"] += 1
                c.exp.refused[reason] += 1
            if reclen:  # three whole records of the refused layout
                u.send(ipfix([iset(257, b"\x07" * (reclen * 3))]))
            else:
                # three records whose varlen address is 4 bytes long: libfixbuf cannot
                # transcode a varlen value into our fixed-size field, so it fails the
                # message halfway (decode_error); the next messages must not inherit that
                u.send(ipfix([iset(257, (b"\x07" * 4 + b"\x04" + b"\x07" * 4) * 3)]))
                c.exp.dropped["decode_error"] += 1
            c.exp.c["messages"] += 2
            if value_range:
                # a counter or identifier of 1..8 bytes is accepted (RFC 7011 6.2 and
                # widened fields); 0x0707... does not fit a port or protocol: each record
                # is read and refused
                c.exp.c["templates"] += 1
                c.exp.c["records"] += 3
                c.exp.c["value_range"] += 3
            else:
                c.exp.refused[reason] += 1
        return run

    def unknown_template(c, u):  # three data sets for a template never sent
        u.send(ipfix([iset(999, b"\x05" * 20), iset(999, b"\x05" * 20), iset(998, b"\x05" * 8)]))
        c.exp.c["messages"] += 1
        c.exp.c["unknown_template_sets"] += 3

    def future(c, u):
        # stamped 9 days after the export time of their message: beyond clamp-max (8 days)
        fl = Flows().make(4)
        for f in fl:
            f["start"] = EXPORT + 9 * 86400
        u.send(ipfix([iset(2, trec(256, VALID))]))
        u.send(ipfix([iset(256, b"".join(valid_record(f) for f in fl))]))
        c.exp.c["messages"] += 2
        c.exp.c["templates"] += 1
        c.exp.c["records"] += 4
        c.exp.c["future_records"] += 4

    def noise(c, u):  # not IPFIX at all: the listener's, no exporter is created
        for d in (b"", b"\x01", b"\xde\xad\xbe\xef" * 10, v5([]), v9([iset(0, trec(256, VALID))]),
                  b"\xff" + os.urandom(300)):
            u.send(d)
            c.noise += 1

    add("ipfix_short_header", short_header)
    add("ipfix_bad_length", bad_length)
    add("ipfix_truncated_set", truncated_set)
    add("ipfix_set_len0", set_len0)
    add("ipfix_set_len3", set_len3)
    add("ipfix_set_past", set_past)
    add("ipfix_reserved_set", reserved_set)
    add("ipfix_template_truncated", template_truncated)
    add("ipfix_template_reserved_id", template_reserved_id)
    add("ipfix_options_scope0", options_scope0)
    add("ipfix_overrun_after_valid", overrun_after_valid)
    add("ipfix_template_zero_fields", template_zero_fields)
    add("ipfix_zero_length_record", zero_length_record)
    # a 50-byte IPv4 address (record 50+4+2+1), an 8-byte port (4+4+8+2+1), a varlen address
    add("ipfix_ipv4_50", lying([(8, 50), (12, 4), (11, 2), (4, 1)], "field_length", 57))
    add("ipfix_port_8", lying([(8, 4), (12, 4), (7, 8), (11, 2), (4, 1)], None, 19, True))
    add("ipfix_proto_2", lying([(8, 4), (12, 4), (4, 2)], None, 10, True))
    add("ipfix_port_9", lying([(8, 4), (12, 4), (7, 9), (11, 2), (4, 1)], "field_length", 20,
                              resend=True))
    add("ipfix_varlen_addr", lying([(8, 4), (12, 65535)], "varlen_field", 0))
    add("ipfix_unknown_template", unknown_template)
    add("ipfix_future", future)
    add("ipfix_noise", noise)


def v9_cases(add):
    def short_header(c, u):
        u.send(b"\x00\x09" + b"\x01" * 10)
        c.exp.malformed("short_header")

    def set_len0(c, u):
        u.send(v9([iset(256, b"\x01" * 12, length=0)]))
        c.exp.malformed("set_short")

    def set_past(c, u):
        u.send(v9([iset(256, b"\x01" * 12, length=300)]))
        c.exp.malformed("set_overrun")

    def reserved(c, u):
        u.send(v9([iset(5, b"\x01" * 8)]))
        c.exp.malformed("reserved_set")

    def template_truncated(c, u):
        u.send(v9([iset(0, trec(300, VALID[:3], count=20))]))
        c.exp.malformed("template_truncated")

    def ipv4_50(c, u):
        u.send(v9([iset(0, trec(257, [(8, 50), (12, 4), (11, 2), (4, 1)]))]))
        u.send(v9([iset(257, b"\x07" * 57 * 2)]))
        c.exp.c["messages"] += 2
        c.exp.refused["field_length"] += 1

    def unknown_template(c, u):
        u.send(v9([iset(999, b"\x05" * 20)]))
        c.exp.c["messages"] += 1
        c.exp.c["unknown_template_sets"] += 1

    def template_zero_fields(c, u):  # v9 has no withdrawal: 0 fields is ignored, as over UDP
        u.send(v9([iset(0, trec(256, VALID))]))
        u.send(v9([iset(256, b"".join(valid_record(f) for f in c.flows.make(2)))]))
        u.send(v9([iset(0, trec(256, [], count=0))]))
        u.send(v9([iset(256, b"".join(valid_record(f) for f in c.flows.make(2)))], count=2))
        c.exp.c["messages"] += 4
        c.exp.c["templates"] += 1
        c.exp.c["records"] += 4
        c.exp.c["withdrawals_ignored"] += 1

    def options_scope0(c, u):  # an options template whose scope is 0 bytes long
        u.send(v9([iset(1, struct.pack("!HHH", 300, 0, 4) + struct.pack("!HH", 34, 4) +
                        b"\x00\x00")]))
        c.exp.malformed("options_scope")

    def unknown_mixed(c, u):  # flowsets of a known and of an unknown template in one packet
        u.send(v9([iset(0, trec(257, VALID))]))
        u.send(v9([data(257, c.flows.make(2)), iset(999, b"\x05" * 20),
                   data(257, c.flows.make(3))], count=6))
        bump(c, messages=2, templates=1, records=5, unknown_template_sets=1)

    def noise(c, u):
        for d in (ipfix([iset(2, trec(256, VALID))]), b"\x00", b"junk" * 50):
            u.send(d)
            c.noise += 1

    add("v9_short_header", short_header)
    add("v9_set_len0", set_len0)
    add("v9_set_past", set_past)
    add("v9_reserved_flowset", reserved)
    add("v9_template_truncated", template_truncated)
    add("v9_ipv4_50", ipv4_50)
    add("v9_unknown_template", unknown_template)
    add("v9_template_zero_fields", template_zero_fields)
    add("v9_options_scope0", options_scope0)
    add("v9_unknown_mixed", unknown_mixed)
    add("v9_noise", noise)


def v5_cases(add):
    uptime = 3600000

    def bad(builder):
        def run(c, u):
            u.send(builder())
            c.exp.dropped["netflow5_malformed"] += 1
        return run

    recs = lambda n: [v5_record(f, uptime) for f in Flows().make(n)]
    add("v5_short", bad(lambda: v5([])[:20]))
    add("v5_count0", bad(lambda: v5([], count=0) + b"\x00" * 48))
    add("v5_count31", bad(lambda: v5(recs(31))))
    add("v5_truncated", bad(lambda: v5(recs(2), count=5)))

    def count30(c, u):  # 30 records: the most a v5 datagram may carry, all decoded
        u.send(v5([v5_record(f, uptime) for f in c.flows.make(30)]))
        bump(c, messages=1, records=30)
    add("v5_count30", count30)

    def noise(c, u):
        for d in (ipfix([]), b"\x00\x05"[:1], b"nope" * 20):
            u.send(d)
            c.noise += 1
    add("v5_noise", noise)


def v5_tail(case, u, n):
    u.send(v5([v5_record(f, 3600000) for f in case.flows.make(n)]))
    case.exp.c["messages"] += 1
    case.exp.c["records"] += n


# ---- TCP -----------------------------------------------------------------------


def tcp_send(addr, port, chunks, expect_close=False):
    """One connection: send @chunks (with a pause between them), then close."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((addr, 0))
    s.connect(("127.0.0.1", port))
    closed = False
    try:
        for ch in chunks:
            s.sendall(ch)
            time.sleep(0.02)
        if expect_close:
            s.settimeout(5)
            closed = s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    finally:
        s.close()
    return closed


def tcp_cases(add):
    def msgs(case, n):
        return [ipfix([iset(2, trec(256, VALID))]),
                ipfix([iset(256, b"".join(valid_record(f) for f in case.flows.make(n)))])]

    def counted(c, n):
        c.exp.c["messages"] += 2
        c.exp.c["templates"] += 1
        c.exp.c["records"] += n

    def bad_version(c, port):  # valid messages, then garbage: that connection is closed
        ok = tcp_send(c.addr, port, [b"".join(msgs(c, 3)), b"\xde\xad" + b"\x00" * 30],
                      expect_close=True)
        counted(c, 3)
        c.stream_errors += 1
        c.connections += 1
        return ok

    def bad_length(c, port):
        ok = tcp_send(c.addr, port, [struct.pack("!HH", 10, 8) + b"\x00" * 12], expect_close=True)
        c.stream_errors += 1
        c.connections += 1
        return ok

    def framed_malformed(c, port):  # a bad message inside intact framing: only it is dropped
        m = msgs(c, 4)
        bad = ipfix([iset(256, b"\x01" * 8, length=200)])
        tcp_send(c.addr, port, [m[0], bad, m[1]])
        counted(c, 4)
        c.exp.malformed("set_overrun")
        c.connections += 1
        return True

    def split(c, port):  # messages cut across reads at every awkward place
        data = b"".join(msgs(c, 5))
        tcp_send(c.addr, port, [data[:1], data[1:3], data[3:17], data[17:60], data[60:]])
        counted(c, 5)
        c.connections += 1
        return True

    add("tcp_bad_version", bad_version)
    add("tcp_bad_length", bad_length)
    add("tcp_framed_malformed", framed_malformed)
    add("tcp_split", split)

    def withdrawal(c, port):  # RFC 7011 8.1: over TCP a withdrawal is honoured
        tcp_send(c.addr, port, [ipfix([iset(2, trec(257, VALID))]),
                                ipfix([data(257, c.flows.make(3))]),
                                ipfix([iset(2, trec(257, [], count=0))]),
                                ipfix([data(257, Flows().make(2))])])
        bump(c, messages=4, templates=1, records=3, unknown_template_sets=1)
        c.connections += 1
        return True

    def withdraw_all(c, port):
        # template ID 2 with no fields withdraws every template of the domain; a template
        # defined after it works
        tcp_send(c.addr, port, [ipfix([iset(2, trec(257, VALID) + trec(258, LAYOUT_B))]),
                                ipfix([data(257, c.flows.make(2)),
                                       data(258, c.flows.make(3), b_record)]),
                                ipfix([iset(2, trec(2, [], count=0))]),
                                ipfix([data(257, Flows().make(2)),
                                       data(258, Flows().make(2), b_record)]),
                                ipfix([iset(2, trec(259, LAYOUT_B)),
                                       data(259, c.flows.make(4), b_record)])])
        bump(c, messages=5, templates=3, records=9, unknown_template_sets=2)
        c.connections += 1
        return True

    add("tcp_withdrawal", withdrawal)
    add("tcp_withdraw_all", withdraw_all)


# ---- the case table ----------------------------------------------------------


def all_cases(run=None):
    """Every case in a fixed order, each with its own address 127.0.0.(10+i)."""
    cases = []

    def adder(transport):
        def add(name, fn, alt=False, sampling=None):
            c = Case(name, "127.0.0.%d" % (10 + len(cases)), transport)
            c.sensor_sampling = sampling
            if alt:
                c.alt_addr = "127.0.2.%d" % (10 + len(cases))
            cases.append((c, fn))
        return add

    ipfix_cases(adder("ipfix+udp"), None)
    ipfix_layout_cases(adder("ipfix+udp"))
    time_cases(adder("ipfix+udp"))
    count_cases(adder("ipfix+udp"))
    v9_cases(adder("netflow9+udp"))
    vendor_cases(adder("netflow9+udp"))
    v5_cases(adder("netflow5+udp"))
    tcp_cases(adder("ipfix+tcp"))
    # valid data from an address that matches no sensor: refused, counted
    cases.append((Case("ipfix_unknown_exporter", "127.0.1.1", "ipfix+udp"), None))
    cases[-1][0].sensor = False
    return cases


def cmd_sensors(args):
    for c, _ in all_cases():
        if c.sensor:
            addrs = c.addr + ("; " + c.alt_addr if c.alt_addr else "")
            print("[sensor:%s]\nexporters = %s\ndarknet = %s0/24\n%s" % (
                c.name, addrs, DARK,
                "sampling = %d\n" % c.sensor_sampling if c.sensor_sampling else ""))


def cmd_cases(args):
    ports = {"ipfix+udp": args.ipfix_udp, "netflow9+udp": args.v9_udp,
             "netflow5+udp": args.v5_udp, "ipfix+tcp": args.ipfix_tcp}
    out = {"cases": [], "listeners": collections.defaultdict(lambda: collections.Counter())}
    for i, (c, fn) in enumerate(all_cases()):
        port = ports[c.transport]
        n = 7 + i  # a different number of valid flows per case
        if c.transport == "netflow5+udp":
            n = 3 + i % 20  # one v5 datagram holds at most 30
        if c.transport == "ipfix+tcp":
            closed = fn(c, port)
            if not closed:
                sys.exit("FAIL: %s: the daemon did not close the broken connection" % c.name)
            # the next connection from the same exporter works
            tcp_send(c.addr, port, [ipfix([iset(2, trec(256, VALID))]),
                                    ipfix([iset(256, b"".join(valid_record(f)
                                                              for f in c.flows.make(n)))])])
            c.exp.c["messages"] += 2
            c.exp.c["templates"] += 1
            c.exp.c["records"] += n
            c.connections += 1
        else:
            u = Udp(c.addr, port)
            c.ports.append(u.sport)
            if fn is not None:
                fn(c, u)
            if c.transport == "netflow9+udp":
                v9_tail(c, u, n)
            elif c.transport == "netflow5+udp":
                v5_tail(c, u, n)
            else:
                ipfix_tail(c, u, n)
            if not c.sensor:  # every message is refused before decoding
                c.exp.dropped["unknown_exporter"] = c.exp.c["messages"]
                c.exp.c.update(messages=0, records=0, templates=0)
                c.flows = Flows()
        lst = out["listeners"][c.transport]
        lst["noise"] += c.noise
        lst["stream_errors"] += c.stream_errors
        lst["connections"] += c.connections
        total = c.flows.totals.get(("total", "all"), [0, 0, 0])
        out["cases"].append(dict(name=c.name, addr=c.addr, transport=c.transport, ports=c.ports,
                                 sensor=c.name if c.sensor else None, counters=c.exp.doc(),
                                 jsonl=c.flows.lines(), sampling=c.sampling,
                                 extra=[dict(label="%s:%d" % (a, p), counters=e.doc())
                                        for a, p, e in c.extra],
                                 # every flow is dark: observed = records, no leaks; flows
                                 # held back by the sensor's clock reach it, not the plugins
                                 sensor_stats=dict(records=total[0] + c.held, observed=total[0],
                                                   leaks=0, packets=total[1],
                                                   raw_packets=c.flows.raw_packets,
                                                   unconfirmed=c.held, too_old=0, late=0,
                                                   saturated=c.saturated,
                                                   clock_reanchored=0, clock_jumps=0)))
    json.dump(out, open(args.expect, "w"), indent=1)
    print("sent %d cases" % len(out["cases"]))


# ---- checking ----------------------------------------------------------------


def counters_of(e):
    return dict({k: e[k] for k in ("messages", "records", "options_records", "templates",
                                   "unknown_template_sets", "future_records",
                                   "withdrawals_ignored", "clock_ahead", "time_clamped",
                                   "time_impossible", "value_range", "absurd_counts")},
                templates_refused=e["templates_refused"], dropped=e["dropped"],
                malformed=e["malformed"])


def add_counters(a, b):
    out = {}
    for k, v in a.items():
        out[k] = add_counters(v, b[k]) if isinstance(v, dict) else v + b[k]
    return out


def diff(want, got, path=""):
    bad = []
    for k, v in want.items():
        if isinstance(v, dict):
            bad += diff(v, got.get(k, {}), path + k + ".")
        elif got.get(k) != v:
            bad.append("%s%s: want %s, got %s" % (path, k, v, got.get(k)))
    return bad


def jsonl_totals(path):
    per = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0, 0]))
    for line in open(path):
        o = json.loads(line)
        t = per[o["sensor"]][(o["dim"], o["key"])]
        t[0] += o["flows"]
        t[1] += o["packets"]
        t[2] += o["bytes"]
    return {s: sorted("%s %s %d %d %d" % (d, k, *v) for (d, k), v in t.items())
            for s, t in per.items()}


def cmd_check(args):
    exp = json.load(open(args.expect))
    st = json.load(open(args.stats))
    got_jsonl = jsonl_totals(args.jsonl) if os.path.exists(args.jsonl) else {}
    failures = []
    by_label = {e["exporter"]: e for e in st["exporters"]}
    retired_want = None
    for c in exp["cases"]:
        if c["transport"] == "ipfix+tcp":
            # connections are gone: their counters live on in retired_exporters
            retired_want = c["counters"] if retired_want is None else \
                add_counters(retired_want, c["counters"])
        else:
            for port in c["ports"]:
                label = "%s:%d" % (c["addr"], port)
                e = by_label.get(label)
                if e is None:
                    failures.append("%s: no exporter %s in stats.json" % (c["name"], label))
                    continue
                if e["transport"] != c["transport"]:
                    failures.append("%s: transport %s" % (c["name"], e["transport"]))
                failures += ["%s: %s" % (c["name"], m)
                             for m in diff(c["counters"], counters_of(e))]
                if e["sampling"] != c["sampling"]:
                    failures.append("%s: sampling %d, want %d" % (c["name"], e["sampling"],
                                                                   c["sampling"]))
            for x in c["extra"]:
                e = by_label.get(x["label"])
                if e is None:
                    failures.append("%s: no exporter %s in stats.json" % (c["name"], x["label"]))
                else:
                    failures += ["%s (%s): %s" % (c["name"], x["label"], m)
                                 for m in diff(x["counters"], counters_of(e))]
        if c["sensor"] is not None:
            got = got_jsonl.get(c["sensor"], [])
            if got != c["jsonl"]:
                failures.append("%s: jsonl %s, want %s" % (c["name"], got, c["jsonl"]))
    if retired_want is not None:
        failures += ["retired (tcp): %s" % m
                     for m in diff(retired_want, counters_of(st["retired_exporters"]))]
    for lst in st["listeners"]:
        scheme = lst["listen"].split("://")[0]
        want = exp["listeners"].get(scheme)
        if want is None:
            continue
        for k, v in want.items():
            if lst[k] != v:
                failures.append("listener %s: %s want %d, got %d" % (lst["listen"], k, v, lst[k]))
        if lst["kernel_drops"] != 0:
            failures.append("listener %s: %d kernel drops" % (lst["listen"], lst["kernel_drops"]))
    for s in st["sensors"]:
        c = next((c for c in exp["cases"] if c["sensor"] == s["sensor"]), None)
        # future records, refused templates and dropped messages never reach a sensor;
        # packets are the sampling-corrected sum, raw_packets the sum as sent
        for k, want in (c["sensor_stats"].items() if c else ()):
            if s[k] != want:
                failures.append("sensor %s: %s %d, want %d" % (s["sensor"], k, s[k], want))
    if failures:
        print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
        sys.exit(1)
    print("%d cases: every counter and every jsonl total as expected" % len(exp["cases"]))


# ---- floods ------------------------------------------------------------------


def cmd_flood_templates(args):
    """@count template IDs from one exporter, @per_msg per message, then data."""
    u = Udp(args.addr, args.port)
    exp, flows = Expect(), Flows()
    fields = [(8, 4), (12, 4), (11, 2), (4, 1)]
    admitted, known = 0, set()
    ids = list(range(256, 256 + args.count))
    for i in range(0, len(ids), args.per_msg):
        batch = ids[i:i + args.per_msg]
        u.send(ipfix([iset(2, b"".join(trec(t, fields) for t in batch))], domain=7))
        fresh = [t for t in batch if t not in known]
        # decode.c: a message that would take the session past the cap is dropped whole
        if admitted + len(fresh) > args.cap:
            exp.dropped["template_cap"] += 1
            exp.refused["template_cap"] += 1
        else:
            admitted += len(fresh)
            known.update(fresh)
            exp.c["messages"] += 1
            exp.c["templates"] += len(fresh)
        if i % (args.per_msg * 20) == 0:
            time.sleep(0.01)
    # data for a template admitted before the cap: still decoded
    recs = flows.make(args.flows)
    u.send(ipfix([iset(256, b"".join(ip4(f["src"]) + ip4(f["dst"]) +
                                     struct.pack("!HB", f["dport"], 6) for f in recs))],
                 domain=7))
    exp.c["messages"] += 1
    exp.c["records"] += args.flows
    # single new IDs fill the session up to the cap exactly ...
    tid = 60000
    while admitted < args.cap:
        u.send(ipfix([iset(2, trec(tid, fields))], domain=7))
        admitted += 1
        exp.c["messages"] += 1
        exp.c["templates"] += 1
        tid += 1
    # ... and one more is refused with its message, so its data has no template
    u.send(ipfix([iset(2, trec(tid, fields))], domain=7))
    u.send(ipfix([iset(tid, b"\x01" * 11)], domain=7))
    exp.dropped["template_cap"] += 1
    exp.refused["template_cap"] += 1
    exp.c["messages"] += 1
    exp.c["unknown_template_sets"] += 1
    # these flows have no time fields: they are stamped with the export time
    out = dict(label="%s:%d" % (args.addr, u.sport), counters=exp.doc(),
               jsonl=flows_no_time_lines(recs))
    json.dump(out, open(args.expect, "w"), indent=1)
    print("sent %d template IDs, %d admitted" % (args.count, admitted))


def flows_no_time_lines(recs):
    t = collections.defaultdict(lambda: [0, 0, 0])
    for f in recs:
        for key in (("total", "all"), ("port", "%d/tcp" % f["dport"]), ("country", "ZZ")):
            t[key][0] += 1
    return sorted("%s %s %d %d %d" % (d, k, *v) for (d, k), v in t.items())


def cmd_valid(args):
    """A legitimate exporter: template + @flows flows; appends its flows to @expect."""
    c = Case("legit", args.addr, "ipfix+udp")
    prior = json.load(open(args.expect)) if os.path.exists(args.expect) else {"n": 0}
    c.flows.n = prior["n"]  # continue the flow sequence across calls
    if prior["n"]:
        for k, v in prior["totals"].items():
            c.flows.totals[tuple(k.split("|"))] = v
    u = Udp(args.addr, args.port)
    ipfix_tail(c, u, args.flows, dark=args.dark)
    json.dump({"n": c.flows.n, "lines": c.flows.lines(),
               "totals": {"|".join(k): v for k, v in c.flows.totals.items()}},
              open(args.expect, "w"))


def cmd_hostile_replay(args):
    """A 2019 stream replayed from --addr while every hostile-time message and 100 spoofed
    "now" messages arrive from the sensor's other address (--spoof-addr), from another
    port of --addr, and from the stream's own socket; the stream must count exactly."""
    from malformed_time import MS, hostile_time_message, junk
    u = Udp(args.addr, args.port)        # the replay, and 100 spoofs from its own socket
    spoof = Udp(args.spoof_addr, args.port)
    port2 = Udp(args.addr, args.port)
    c = Case("replay", args.addr, "ipfix+udp")
    scratch = Case("spoof", args.spoof_addr, "ipfix+udp")
    now = int(time.time())
    for s in (u, spoof, port2):
        s.send(ipfix([iset(2, trec(256, VALID) + trec(258, MS))]))
    held, k = 0, 0
    for m in range(args.messages):
        fl = c.flows.make(25)
        t = T0 + m * 3000  # a 2019 replay over a week of stream time: buckets close as it runs
        for i, f in enumerate(fl):
            f["start"] = t + i
        u.send(ipfix([data(256, fl)], export=t + 120, seq=25 * m))
        # every hostile-time kind from the other address and from the stream's own socket
        for s in (spoof, u):
            msg, _ = hostile_time_message(k, scratch)
            s.send(msg)
            k += 1
        # plausible datagrams stamped with the host clock: a jump nobody corroborates
        for s in (spoof, port2, u):
            s.send(ipfix([data(256, junk(2, now - 5))], export=now))
            held += 2
        if m % 20 == 0:
            time.sleep(0.01)
    json.dump({"lines": c.flows.lines(), "observed": c.flows.n, "held": held},
              open(args.expect, "w"))
    print("replayed %d flows in %d messages between %d hostile-time and %d spoofed messages"
          % (c.flows.n, args.messages, k, held // 2))


def cmd_outage_replay(args):
    """An exporter back from an outage, then the next month from a new process (another
    source port), with a spoofer's far-future datagrams in between: the three are jumps of
    the sensor's clock, none contradicts another, the last is corroborated at the stop and
    releases what the first held; the spoofer's records lie beyond its window, refused."""
    def burst(sock, t0, msgs, seq0=0):
        sent = []
        for m in range(msgs):
            fl = c.flows.make(10) if sock is not spoof else scratch.flows.make(10)
            t = t0 + m * 60
            for i, f in enumerate(fl):
                f["start"] = t + i
            sock.send(ipfix([data(256, fl)], export=t + 120, seq=seq0 + 10 * m))
            sent += fl
        return len(sent)

    c = Case("outage", args.addr, "ipfix+udp")
    scratch = Case("spoof", args.addr, "ipfix+udp")
    before, back, spoof, month = (Udp(args.addr, args.port) for _ in range(4))
    for s in (before, back, spoof, month):
        s.send(ipfix([iset(2, trec(256, VALID))]))
    n = burst(before, T0, 20)                 # a day's start, then the outage
    n += burst(back, T0 + 10 * 86400, 5)      # ten days later: held, unconfirmed yet
    held = burst(spoof, T0 + 400 * 86400, 3)  # forged, from the sensor's address
    n += burst(month, T0 + 40 * 86400, 5)     # the next month, a new process
    json.dump({"lines": c.flows.lines(), "observed": n, "held": held, "clock_jumps": 1,
               "watermark_min": T0 + 40 * 86400, "watermark_max": T0 + 41 * 86400},
              open(args.expect, "w"))
    print("sent %d flows around an outage and %d spoofed far-future flows" % (n, held))


def cmd_check_replay(args):
    st = json.load(open(args.stats))
    exp = json.load(open(args.expect))
    got = jsonl_totals(args.jsonl).get(args.sensor, [])
    failures = []
    if got != exp["lines"]:
        failures.append("jsonl %s, want %s" % (got, exp["lines"]))
    s = next(x for x in st["sensors"] if x["sensor"] == args.sensor)
    want = dict(observed=exp["observed"], unconfirmed=exp["held"], too_old=0, late=0,
                leaks=0, clock_jumps=exp.get("clock_jumps", 0), clock_reanchored=0,
                records=exp["observed"] + exp["held"], held=0)
    failures += ["sensor %s: %s %s, want %s" % (args.sensor, k, s[k], v)
                 for k, v in want.items() if s[k] != v]
    lo, hi = exp.get("watermark_min", T0), exp.get("watermark_max", T0 + 30 * 86400)
    if not lo <= s["watermark"] < hi:
        failures.append("the sensor's clock is at %d, want %d..%d" % (s["watermark"], lo, hi))
    if failures:
        print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
        sys.exit(1)
    print("replay counted exactly: %d flows, %d spoofed flows refused, clock at %d"
          % (exp["observed"], exp["held"], s["watermark"]))


def cmd_flood_exporters(args):
    """One datagram (template + 1 flow) from each of @count source ports."""
    flows, sent, busy = Flows(), 0, 0
    port = args.first_port
    while sent < args.count and port < 65536:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((args.addr, port))
        except OSError:
            busy += 1
            port += 1
            s.close()
            continue
        f = flows.make(1)[0]
        s.sendto(ipfix([iset(2, trec(256, VALID)), iset(256, valid_record(f))]),
                 ("127.0.0.1", args.port))
        s.close()
        sent += 1
        port += 1
        if sent % 200 == 0:
            time.sleep(0.02)
    json.dump({"sent": sent, "busy_ports": busy, "lines": flows.lines()}, open(args.expect, "w"))
    print("sent from %d source ports (%d busy ones skipped)" % (sent, busy))


def cmd_check_flood(args):
    """Counters of named exporters, jsonl totals of named sensors, exporter-cap invariants."""
    st = json.load(open(args.stats))
    got_jsonl = jsonl_totals(args.jsonl) if os.path.exists(args.jsonl) else {}
    failures = []
    by_label = {e["exporter"]: e for e in st["exporters"]}
    for path in args.exporter or []:
        x = json.load(open(path))
        e = by_label.get(x["label"])
        if e is None:
            failures.append("no exporter %s in stats.json" % x["label"])
        else:
            failures += ["%s: %s" % (x["label"], m) for m in diff(x["counters"], counters_of(e))]
    for spec in args.sensor or []:
        name, path = spec.split("=", 1)
        x = json.load(open(path))
        want = x.get("lines", x.get("jsonl"))
        if got_jsonl.get(name, []) != want:
            failures.append("sensor %s: jsonl %s, want %s" % (name, got_jsonl.get(name), want))
    if args.max_exporters is not None and st["exporters_alive"] > args.max_exporters:
        failures.append("exporters_alive %d > cap %d" % (st["exporters_alive"], args.max_exporters))
    if args.min_evictions is not None and st["exporter_evictions"] < args.min_evictions:
        failures.append("exporter_evictions %d < %d" % (st["exporter_evictions"],
                                                          args.min_evictions))
    if args.records is not None:
        # evicted exporters' counters move to retired_exporters: nothing is lost
        total = sum(e["records"] for e in st["exporters"]) + st["retired_exporters"]["records"]
        if total != args.records:
            failures.append("records over live + retired exporters %d, want %d"
                            % (total, args.records))
    for lst in st["listeners"]:
        for k in ("kernel_drops", "unread_at_stop", "exporter_cap", "noise"):
            if lst[k] != 0:
                failures.append("listener %s: %s = %d" % (lst["listen"], k, lst[k]))
    if failures:
        print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
        sys.exit(1)
    print("exporters_alive %d, exporter_evictions %d, records_in %d: as expected"
          % (st["exporters_alive"], st["exporter_evictions"], st["records_in"]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("sensors")
    c = sub.add_parser("cases")
    for k in ("ipfix-udp", "v9-udp", "v5-udp", "ipfix-tcp"):
        c.add_argument("--" + k, type=int, required=True)
    c.add_argument("--expect", required=True)
    k = sub.add_parser("check")
    k.add_argument("--stats", required=True)
    k.add_argument("--jsonl", required=True)
    k.add_argument("--expect", required=True)
    t = sub.add_parser("flood-templates")
    t.add_argument("--addr", required=True)
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--count", type=int, default=20000)
    t.add_argument("--per-msg", type=int, default=50)
    t.add_argument("--cap", type=int, default=4096)
    t.add_argument("--flows", type=int, default=9)
    t.add_argument("--expect", required=True)
    v = sub.add_parser("valid")
    v.add_argument("--addr", required=True)
    v.add_argument("--port", type=int, required=True)
    v.add_argument("--flows", type=int, required=True)
    v.add_argument("--expect", required=True)
    v.add_argument("--dark", help="first three octets of the destinations, e.g. 198.51.100.")
    e = sub.add_parser("flood-exporters")
    e.add_argument("--addr", required=True)
    e.add_argument("--port", type=int, required=True)
    e.add_argument("--count", type=int, default=10000)
    e.add_argument("--first-port", type=int, default=20000)
    e.add_argument("--expect", required=True)
    h = sub.add_parser("hostile-replay")
    h.add_argument("--addr", required=True)
    h.add_argument("--spoof-addr", required=True)
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--messages", type=int, default=200)
    h.add_argument("--expect", required=True)
    o = sub.add_parser("outage-replay")
    o.add_argument("--addr", required=True)
    o.add_argument("--port", type=int, required=True)
    o.add_argument("--expect", required=True)
    r = sub.add_parser("check-replay")
    r.add_argument("--stats", required=True)
    r.add_argument("--jsonl", required=True)
    r.add_argument("--sensor", required=True)
    r.add_argument("--expect", required=True)
    f = sub.add_parser("check-flood")
    f.add_argument("--stats", required=True)
    f.add_argument("--jsonl", required=True)
    f.add_argument("--exporter", action="append")
    f.add_argument("--sensor", action="append")
    f.add_argument("--max-exporters", type=int)
    f.add_argument("--min-evictions", type=int)
    f.add_argument("--records", type=int)
    args = p.parse_args()
    {"sensors": cmd_sensors, "cases": cmd_cases, "check": cmd_check,
     "flood-templates": cmd_flood_templates, "valid": cmd_valid,
     "flood-exporters": cmd_flood_exporters, "check-flood": cmd_check_flood,
     "hostile-replay": cmd_hostile_replay, "outage-replay": cmd_outage_replay,
     "check-replay": cmd_check_replay}[args.cmd](args)


if __name__ == "__main__":
    main()
