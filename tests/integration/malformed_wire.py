# SPDX-License-Identifier: BSD-2-Clause
"""Encoders and expectations shared by malformed.py and its case modules.

Builds IPFIX messages, NetFlow v9 and v5 datagrams byte by byte (struct, no
library), valid flows with their exact jsonl totals (Flows), and the counters
one exporter must show (Expect). Nothing here knows a case: the cases live in
malformed.py and malformed_layouts.py, the expectations they compute follow
collector/wire.c and collector/decode.c. Kept apart so that the case modules
and other tests (faults.py, domains.py) share one encoder; the names are
re-exported by malformed.py for them.
"""
import collections
import socket
import struct
import time

T0 = 1546300800  # 2019-01-01T00:00:00Z: every flow lies in one 300 s bucket
EXPORT = T0 + 60
DARK = "203.0.113."
PORTS = (23, 445, 8080)
# The valid template: src/dst IPv4, ports, proto, flags, packets, bytes, start/end seconds
VALID = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 8), (1, 8), (150, 4), (151, 4)]

# ---- encoders ----------------------------------------------------------------


def ipfix(sets, domain=1, seq=0, export=EXPORT):
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), export, seq, domain) + body


def iset(set_id, body, length=None):
    return struct.pack("!HH", set_id, 4 + len(body) if length is None else length) + body


def trec(tid, fields, count=None):
    """A template record; a field (IE, length, PEN) carries an enterprise number."""
    return struct.pack("!HH", tid, len(fields) if count is None else count) + b"".join(
        struct.pack("!HH", f[0], f[1]) + (struct.pack("!I", f[2]) if len(f) > 2 else b"")
        for f in fields)


def v9(flowsets, count=1, domain=1, seq=0, uptime=100000):
    return struct.pack("!HHIIII", 9, count, uptime, EXPORT, seq, domain) + b"".join(flowsets)


def ip4(s):
    return socket.inet_aton(s)


class Flows:
    """Valid flows for one sensor, and their exact jsonl totals."""

    def __init__(self):
        self.n = 0
        self.totals = collections.defaultdict(lambda: [0, 0, 0])
        self.rate = 1         # the sampling rate the daemon must apply to later flows
        self.raw_packets = 0  # packets as sent (stats.json sensors[].raw_packets)

    def make(self, count, dark=None):
        out = []
        for _ in range(count):
            i = self.n
            self.n += 1
            f = dict(src="198.18.%d.%d" % (i // 200, i % 200 + 1),
                     dst=(dark or DARK) + str(i % 250 + 1),
                     sport=40000 + i, dport=PORTS[i % 3], proto=6, flags=0x02,
                     packets=1 + i % 4, bytes=40 * (1 + i % 4) + i, start=T0 + 30 + i % 60)
            for key in (("total", "all"), ("port", "%d/tcp" % f["dport"]), ("country", "ZZ")):
                t = self.totals[key]
                t[0] += 1
                t[1] += f["packets"] * self.rate
                t[2] += f["bytes"] * self.rate
            self.raw_packets += f["packets"]
            out.append(f)
        return out

    def lines(self):
        return sorted("%s %s %d %d %d" % (d, k, *v) for (d, k), v in self.totals.items())


def valid_record(f):
    return (ip4(f["src"]) + ip4(f["dst"]) +
            struct.pack("!HHBBQQII", f["sport"], f["dport"], f["proto"], f["flags"],
                        f["packets"], f["bytes"], f["start"], f["start"] + 1))


# The same fields in another layout: destination first, ports swapped, 4-byte counters.
# Read with VALID's layout its records would be leaks on other ports, so a mix-up shows.
LAYOUT_B = [(12, 4), (8, 4), (11, 2), (7, 2), (4, 1), (6, 1), (2, 4), (1, 4), (150, 4), (151, 4)]


def b_record(f):
    return (ip4(f["dst"]) + ip4(f["src"]) +
            struct.pack("!HHBBIIII", f["dport"], f["sport"], f["proto"], f["flags"],
                        f["packets"], f["bytes"], f["start"], f["start"] + 1))


def data(tid, flows, enc=valid_record):
    return iset(tid, b"".join(enc(f) for f in flows))


def v5_record(f, uptime_ms):
    # first/last in sysuptime ms: export (EXPORT s, uptime_ms) minus the flow's age
    first = uptime_ms - (EXPORT - f["start"]) * 1000
    return (ip4(f["src"]) + ip4(f["dst"]) + ip4("0.0.0.0") +
            struct.pack("!HHIIIIHHBBBBHHBBH", 0, 0, f["packets"], f["bytes"], first, first + 1000,
                        f["sport"], f["dport"], 0, f["flags"], f["proto"], 0, 0, 0, 0, 0, 0))


def v5(records, count=None, uptime=3600000):
    n = len(records) if count is None else count
    return struct.pack("!HHIIIIBBH", 5, n, uptime, EXPORT, 0, 0, 0, 0, 0) + b"".join(records)


# ---- expectations ------------------------------------------------------------

REFUSALS = ("field_length", "varlen_field", "zero_length_record", "template_cap")
DROPS = ("malformed", "decode_error", "template_cap", "unknown_exporter", "netflow5_malformed",
         "domain_cap")
WIRE = ("short_header", "bad_version", "bad_length", "set_short", "set_overrun", "reserved_set",
        "template_truncated", "template_reserved_id", "options_scope", "too_big",
        "record_overrun")


class Expect:
    """What one exporter's counters must read once its datagrams are in."""

    def __init__(self):
        self.c = dict(messages=0, records=0, options_records=0, templates=0,
                      unknown_template_sets=0, future_records=0, withdrawals_ignored=0,
                      clock_ahead=0, time_clamped=0, time_impossible=0, value_range=0,
                      absurd_counts=0)
        self.refused = dict.fromkeys(REFUSALS, 0)
        self.dropped = dict.fromkeys(DROPS, 0)
        self.wire = dict.fromkeys(WIRE, 0)

    def malformed(self, reason):
        self.dropped["malformed"] += 1
        self.wire[reason] += 1

    def doc(self):
        return dict(self.c, templates_refused=self.refused, dropped=self.dropped,
                    malformed=self.wire)


class Case:
    def __init__(self, name, addr, transport):
        self.name, self.addr, self.transport = name, addr, transport
        self.exp = Expect()
        self.flows = Flows()
        self.noise = 0          # datagrams the listener must call noise
        self.stream_errors = 0  # TCP connections the daemon must close
        self.connections = 0
        self.sensor = True      # False: the address matches no sensor
        self.ports = []         # source ports used (exporter labels)
        self.alt_addr = None    # a second exporter address of the same sensor
        self.extra = []         # (addr, source port, Expect) of further exporters
        self.sampling = 1       # the exporter's "sampling" once its last flow is in
        self.sensor_sampling = None  # the sensor's fixed `sampling` key
        self.held = 0           # dark flows held back as an uncorroborated clock jump
        self.saturated = 0      # flows whose corrected count was held at 2^53


# ---- senders -----------------------------------------------------------------


class Udp:
    def __init__(self, addr, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((addr, 0))
        self.dst = ("127.0.0.1", port)
        self.sport = self.s.getsockname()[1]

    def send(self, data):
        self.s.sendto(data, self.dst)
        time.sleep(0.0005)  # loopback keeps order; this only keeps the queue short


def bump(c, exp=None, **kw):
    """Add to the counters of @exp (the case's own exporter when None)."""
    for k, v in kw.items():
        (exp or c.exp).c[k] += v
