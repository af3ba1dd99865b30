# SPDX-License-Identifier: BSD-2-Clause
"""Cases for malformed.py about hostile times, vendor layouts and counts (issue 12).

Hostile times: a message stamped 2100 (ahead of the host clock beyond
export-ahead-max: dropped, clock_ahead), records stamped 2100 in a 2019
message (beyond clamp-max: future_records), flowStartMilliseconds of 2^63 + 1
and 2^64 - 1 and a forged systemInitTimeMilliseconds (time_impossible), an end
two days before the start (time_impossible; an hour before reads as the start),
a start an hour after the export time (kept at the export time, time_clamped).
Spoofs: 100 of those from the exporter's own address and port, then honest
traffic from it and from another address of the same sensor; 100 plausible
datagrams stamped with the host clock from another port while a 2019 stream
runs (held back, sensors[].unconfirmed).
Vendor layouts rebuilt from their descriptions: Cisco NBAR's 4-byte
FLOW_SAMPLER_ID, Cisco WLC's 2 bytes of non-zero options padding before a data
template in the same datagram, FortiOS 5.2.1's FIRST_SWITCHED 7 days past the
header's uptime.
Counts: 2^62 packets at 1 in 1000 and at 2^32 - 1 (absurd_counts), 2^40 at
2^32 - 1 (saturated at 2^53, sensors[].saturated).
Every expectation follows collector/timepolicy.c, decode.c (normalise,
read_fields) and wire.c (wire_v9_options), as docs/security.md states them.
"""
import struct
import time

from malformed_wire import (EXPORT, T0, VALID, Flows, Udp, bump, data, ip4, ipfix, iset, trec,
                            v9, valid_record)

Y2100 = 4102444800
DAY = 86400
# VALID with millisecond times (152/153) instead of seconds
MS = VALID[:8] + [(152, 8), (153, 8)]
# VALID with SysUpTime-relative times (FIRST_SWITCHED 22, LAST_SWITCHED 21), as v9 sends them
UPTIME = VALID[:8] + [(22, 4), (21, 4)]


def ms_record(f, start_ms, end_ms):
    return valid_record(f)[:30] + struct.pack("!QQ", start_ms, end_ms)


def junk(n, start=None):
    """Flows no sensor must count (refused, or sent from a spoofer)."""
    fl = Flows().make(n)
    for f in fl:
        if start is not None:
            f["start"] = start
    return fl


def add_flow(c, packets, nbytes, raw_packets):
    """One flow with explicit corrected counts in the case's jsonl totals."""
    f = c.flows.make(1)[0]
    for key in (("total", "all"), ("port", "%d/tcp" % f["dport"]), ("country", "ZZ")):
        t = c.flows.totals[key]
        t[1] += packets - f["packets"] * c.flows.rate
        t[2] += nbytes - f["bytes"] * c.flows.rate
    c.flows.raw_packets += raw_packets - f["packets"]
    return f


def hostile_time_message(k, c):
    """The k-th of the hostile-time messages, and the counters it moves on the case."""
    kind = k % 6
    if kind == 0:  # export time 2100: the whole message is dropped before decoding
        return ipfix([data(256, junk(2, Y2100))], export=Y2100), dict(clock_ahead=1)
    if kind == 1:  # records in 2100, message in 2019
        return ipfix([data(256, junk(2, Y2100))]), dict(messages=1, records=2, future_records=2)
    if kind == 2:  # 2^63 + 1 ms
        fl = junk(2)
        return (ipfix([iset(258, b"".join(ms_record(f, (1 << 63) + 1, (1 << 63) + 1)
                                          for f in fl))]),
                dict(messages=1, records=2, time_impossible=2))
    if kind == 3:  # 2^64 - 1 ms
        fl = junk(2)
        return (ipfix([iset(258, b"".join(ms_record(f, (1 << 64) - 1, (1 << 64) - 1)
                                          for f in fl))]),
                dict(messages=1, records=2, time_impossible=2))
    if kind == 4:  # ends two days before it starts
        fl = junk(2)
        s = (T0 + 30) * 1000
        return (ipfix([iset(258, b"".join(ms_record(f, s, s - 2 * DAY * 1000) for f in fl))]),
                dict(messages=1, records=2, time_impossible=2))
    # starts 9 days after its message: beyond clamp-max
    return ipfix([data(256, junk(2, EXPORT + 9 * DAY))]), dict(messages=1, records=2,
                                                               future_records=2)


def time_cases(add):
    def export_2100(c, u):  # the template and the data of messages stamped 2100: both dropped
        u.send(ipfix([iset(2, trec(256, VALID)), data(256, junk(3, Y2100))], export=Y2100))
        u.send(ipfix([data(256, junk(2, Y2100))], export=Y2100))
        bump(c, clock_ahead=2)

    def record_2100(c, u):
        u.send(ipfix([iset(2, trec(256, VALID)), data(256, junk(3, Y2100))]))
        bump(c, messages=1, templates=1, records=3, future_records=3)

    def ms_times(values, kept_end=None):
        def run(c, u):
            fl = junk(len(values))
            u.send(ipfix([iset(2, trec(258, MS)),
                          iset(258, b"".join(ms_record(f, s, e) for f, (s, e) in zip(fl, values)))]))
            bump(c, messages=1, templates=1, records=len(values), time_impossible=len(values))
            if kept_end is not None:  # ends an hour before the start: read as the start
                good = c.flows.make(3)
                u.send(ipfix([iset(258, b"".join(
                    ms_record(f, f["start"] * 1000, f["start"] * 1000 - kept_end) for f in good))]))
                bump(c, messages=1, records=3)
        return run

    def sysinit_forged(c, u):  # boot time 2^64 - 1 ms plus an uptime: refused, no overflow
        fields = VALID[:8] + [(160, 8), (22, 4), (21, 4)]
        fl = junk(2)
        u.send(ipfix([iset(2, trec(259, fields)),
                      iset(259, b"".join(valid_record(f)[:30] + struct.pack("!QII", (1 << 64) - 1,
                                                                             1000, 2000)
                                         for f in fl))]))
        bump(c, messages=1, templates=1, records=2, time_impossible=2)

    def start_after_export(c, u):
        # an hour after the export time (tolerance 600 s, clamp-max 8 days): kept, timed at the
        # export time, which lies in the same 300 s bucket as every other flow of the case
        fl = c.flows.make(4)
        for f in fl:
            f["start"] = EXPORT + 3600
        u.send(ipfix([iset(2, trec(256, VALID)), data(256, fl)]))
        bump(c, messages=1, templates=1, records=4, time_clamped=4)

    def spoof_100(c, u):
        # 100 hostile-time messages from the exporter's own address and port (the tail
        # follows from there), then honest flows from another address of the same sensor
        u.send(ipfix([iset(2, trec(256, VALID) + trec(258, MS))]))
        bump(c, messages=1, templates=2)
        for k in range(100):
            msg, moved = hostile_time_message(k, c)
            u.send(msg)
            bump(c, **moved)
        u2 = Udp(c.alt_addr, u.dst[1])
        exp2 = type(c.exp)()
        c.extra.append((c.alt_addr, u2.sport, exp2))
        u2.send(ipfix([iset(2, trec(256, VALID)), data(256, c.flows.make(6))]))
        bump(c, exp2, messages=1, templates=1, records=6)

    def spoof_now(c, u):
        # an honest 2019 stream from the case's port; 100 datagrams stamped with the host
        # clock (export and records "now", consistent with their message and the host) from
        # another port of the same address, between its messages: a jump of the sensor's
        # clock no stream corroborates, held back and counted as unconfirmed
        u.send(ipfix([iset(2, trec(256, VALID)), data(256, c.flows.make(3))]))
        bump(c, messages=1, templates=1, records=3)
        u2 = Udp(c.addr, u.dst[1])
        exp2 = type(c.exp)()
        c.extra.append((c.addr, u2.sport, exp2))
        now = int(time.time())
        u2.send(ipfix([iset(2, trec(256, VALID))], export=now))
        bump(c, exp2, messages=1, templates=1)
        for k in range(100):
            u2.send(ipfix([data(256, junk(2, now - 5))], export=now, seq=2 * k))
            bump(c, exp2, messages=1, records=2)
            c.held += 2
            if k % 10 == 9:
                u.send(ipfix([data(256, c.flows.make(2))]))
                bump(c, messages=1, records=2)

    add("time_export_2100", export_2100)
    add("time_record_2100", record_2100)
    add("time_ms_2p63", ms_times([((1 << 63) + 1, (1 << 63) + 1), ((1 << 63) + 1, 0)]))
    add("time_ms_2p64", ms_times([((1 << 64) - 1, (1 << 64) - 1), (0, (1 << 64) - 1)]))
    add("time_end_before_start",
        ms_times([((T0 + 30) * 1000, (T0 + 30 - 2 * DAY) * 1000)], kept_end=3600 * 1000))
    add("time_sysinit_forged", sysinit_forged)
    add("time_start_after_export", start_after_export)
    add("time_spoof_100", spoof_100, alt=True)
    add("time_spoof_now", spoof_now)


def vendor_cases(add):
    """NetFlow v9 layouts of real exporters, rebuilt from their descriptions (issue 12)."""

    def nbar_sampler_id_4(c, u):
        # Cisco NBAR: FLOW_SAMPLER_ID (48) in 4 bytes, in the options template that
        # announces the rate (SAMPLING_INTERVAL 34) and in the data template
        u.send(v9([iset(1, struct.pack("!HHH", 300, 4, 8) + struct.pack("!HHHHHH", 1, 4, 48, 4,
                                                                          34, 4) + b"\x00\x00"),
                   iset(300, struct.pack("!III", 1, 7, 100) + b"\x00" * 4)], count=2))
        c.flows.rate = c.sampling = 100
        u.send(v9([iset(0, trec(257, VALID + [(48, 4)])),
                   iset(257, b"".join(valid_record(f) + struct.pack("!I", 7)
                                      for f in c.flows.make(5)))], count=6))
        bump(c, messages=2, templates=2, options_records=1, records=5)

    def wlc_options_padding(c, u):
        # Cisco WLC 5520/8510: an options template flowset ending in 2 bytes of non-zero
        # padding (RFC 3954: SHOULD be zero), then a data template and data in the same
        # datagram. The padding is shorter than any record: padding whatever its bytes
        opt = struct.pack("!HHH", 301, 4, 8) + struct.pack("!HHHHHH", 1, 4, 34, 4, 48, 4)
        u.send(v9([iset(1, opt + b"\xab\xcd"),
                   iset(0, trec(258, VALID)),
                   data(258, c.flows.make(3))], count=5))
        bump(c, messages=1, templates=2, records=3)

    def fortios_first_switched(c, u):
        # FortiOS 5.2.1: FIRST_SWITCHED about 7 days after the header's sysUptime: records
        # start 7 days after their message, kept at its export time (clamp-max 8 days)
        uptime = 100000
        u.send(v9([iset(0, trec(259, UPTIME))], uptime=uptime))
        fl = c.flows.make(4)
        first = uptime + 7 * DAY * 1000 - 3600 * 1000
        u.send(v9([iset(259, b"".join(valid_record(f)[:30] + struct.pack("!II", first, first + 500)
                                      for f in fl))], count=4, uptime=uptime))
        bump(c, messages=2, templates=1, records=4, time_clamped=4)

    add("v9_nbar_sampler_id_4", nbar_sampler_id_4)
    add("v9_wlc_options_padding", wlc_options_padding)
    add("v9_fortios_first_switched", fortios_first_switched)


def count_cases(add):
    """Counts that would wrap 64 bits once multiplied by the sampling rate."""

    def at_rate(rate, fixed):
        def run(c, u):
            if not fixed:  # announced in an options record (samplingInterval, samplerId)
                u.send(ipfix([iset(3, struct.pack("!HHH", 300, 2, 1) +
                                   struct.pack("!HHHH", 48, 1, 34, 4)),
                              iset(300, struct.pack("!BI", 5, rate))]))
                bump(c, messages=1, templates=1, options_records=1)
                c.sampling = rate
            c.flows.rate = rate
            u.send(ipfix([iset(2, trec(256, VALID))]))
            bump(c, messages=1, templates=1)
            # 2^62 packets: beyond the per-record cap (2^40), refused whatever the rate
            big = junk(1)[0]
            big["packets"] = 1 << 62
            u.send(ipfix([data(256, [big])]))
            bump(c, messages=1, records=1, absurd_counts=1)
            # 2^40 packets: at the cap; times the rate, held at 2^53 when beyond it
            f = add_flow(c, min((1 << 40) * rate, 1 << 53), min(1000 * rate, 1 << 53), 1 << 40)
            f["packets"], f["bytes"] = 1 << 40, 1000
            u.send(ipfix([data(256, [f])]))
            bump(c, messages=1, records=1)
            if (1 << 40) * rate > (1 << 53):
                c.saturated += 1
        return run

    add("count_2p62_at_1000", at_rate(1000, False))
    add("count_2p62_at_2p32", at_rate(0xFFFFFFFF, True), sampling=0xFFFFFFFF)
