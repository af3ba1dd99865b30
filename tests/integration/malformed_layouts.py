# SPDX-License-Identifier: BSD-2-Clause
"""IPFIX/UDP cases for malformed.py about templates and record layouts.

Enterprise field specifiers, options templates and announced sampling rates,
repeated fields, one template ID in several layouts (domains, addresses,
source ports, redefinition), records that no message can hold, sets shorter
than a record, partial records and variable-length fields that run past their
set, and unknown data sets among known ones. Each case sends from its own
exporter and bumps the counters the rules of collector/wire.c and
collector/decode.c (data_sets_trim, options_record, normalise) give; each
names the one counter its verdict moves. RFC 7011 sections are cited where a
verdict follows the RFC rather than the code.
"""
import struct

from malformed_wire import (LAYOUT_B, VALID, Expect, Flows, Udp, b_record, bump, data, ip4,
                            ipfix, iset, trec, valid_record)


def ipfix_layout_cases(add):
    """IPFIX/UDP: field specifiers, options, template IDs and record layouts (RFC 7011 3, 8)."""

    def enterprise_truncated(c, u):  # E bit on the last specifier, the set ends before its PEN
        u.send(ipfix([iset(2, trec(300, VALID[:2] + [(0x8000 | 100, 4)]))]))
        c.exp.malformed("template_truncated")

    def enterprise_field(c, u):
        # a 4-byte enterprise field (PEN 32473, RFC 5612) between addresses and ports: not
        # ours, skipped by its length; a misread PEN would shift every field after it
        fields = VALID[:2] + [(0x8000 | 1, 4, 32473)] + VALID[2:]
        recs = b"".join(valid_record(f)[:8] + b"\xee" * 4 + valid_record(f)[8:]
                        for f in c.flows.make(4))
        u.send(ipfix([iset(2, trec(257, fields))]))
        u.send(ipfix([iset(257, recs)]))
        bump(c, messages=2, templates=1, records=4)

    def options_scope_over(c, u):  # 3 scope fields announced, 2 fields in all
        u.send(ipfix([iset(3, struct.pack("!HHH", 301, 2, 3) +
                           struct.pack("!HHHH", 149, 4, 34, 4))]))
        c.exp.malformed("options_scope")

    def sampling(sel_ie, sel_len, ie, value, rate):
        # decode.c options_record(): a rate of 0 or above MAX_SANE_RATE (1e9) is not
        # announced at all, so the flows stay unsampled (rate 1); a sane one scales
        # packets and bytes of this flow template (which names the sampler) and of the
        # tail's (which does not: the domain's latest rate)
        def run(c, u):
            sel = (5).to_bytes(sel_len, "big")
            u.send(ipfix([iset(3, struct.pack("!HHH", 300, 2, 1) +
                               struct.pack("!HHHH", sel_ie, sel_len, ie, 4)),
                          iset(300, sel + struct.pack("!I", value))]))
            c.flows.rate = c.sampling = rate
            u.send(ipfix([iset(2, trec(257, VALID + [(sel_ie, sel_len)]))]))
            u.send(ipfix([iset(257, b"".join(valid_record(f) + sel for f in c.flows.make(5)))]))
            bump(c, messages=3, templates=2, options_records=1, records=5)
        return run

    def duplicate_fields(c, u):
        # destination address and port twice (RFC 7011 8 allows repeated IEs): the first
        # occurrence is the one read; the second names lit space and port 9, so reading it
        # would make leaks and a 9/tcp key
        fields = VALID[:2] + [(12, 4)] + VALID[2:4] + [(11, 2)] + VALID[4:]
        recs = b"".join(ip4(f["src"]) + ip4(f["dst"]) + ip4("198.51.100.7") +
                        struct.pack("!HHH", f["sport"], f["dport"], 9) + valid_record(f)[12:]
                        for f in c.flows.make(6))
        u.send(ipfix([iset(2, trec(257, fields))]))
        u.send(ipfix([iset(257, recs)]))
        bump(c, messages=2, templates=1, records=6)

    def tid_two_domains(c, u):  # template 256 in domain 1 (VALID) and domain 2 (LAYOUT_B)
        u.send(ipfix([iset(2, trec(256, VALID))], domain=1))
        u.send(ipfix([iset(2, trec(256, LAYOUT_B))], domain=2))
        u.send(ipfix([data(256, c.flows.make(3))], domain=1))
        u.send(ipfix([data(256, c.flows.make(4), b_record)], domain=2))
        bump(c, messages=4, templates=2, records=7)

    def tid_two_sources(second):
        # template 256 in VALID from the case's socket, in LAYOUT_B from a second one
        # (another address of the same sensor, or another source port): two exporters
        def run(c, u):
            u2 = Udp(c.alt_addr if second == "addr" else c.addr, u.dst[1])
            other = Expect()
            c.extra.append((u2.s.getsockname()[0], u2.sport, other))
            u.send(ipfix([iset(2, trec(256, VALID))]))
            u2.send(ipfix([iset(2, trec(256, LAYOUT_B))]))
            u.send(ipfix([data(256, c.flows.make(3))]))
            u2.send(ipfix([data(256, c.flows.make(5), b_record)]))
            bump(c, messages=2, templates=1, records=3)
            bump(c, other, messages=2, templates=1, records=5)
        return run

    def template_redefined(c, u):  # 257 redefined: data after it (same message too) uses it
        u.send(ipfix([iset(2, trec(257, VALID))]))
        u.send(ipfix([data(257, c.flows.make(3))]))
        u.send(ipfix([iset(2, trec(257, LAYOUT_B)), data(257, c.flows.make(4), b_record)]))
        u.send(ipfix([data(257, c.flows.make(2), b_record)]))
        bump(c, messages=4, templates=2, records=9)

    def record_over_64k(c, u):
        # a record of 65,548 bytes (12 when summed in 16 bits) fits no message: its data
        # sets, from the session or from the same message, are padding; nothing decodes
        big = [(8, 4), (12, 4), (210, 4), (210, 65000), (210, 536)]
        u.send(ipfix([iset(2, trec(258, big))]))
        u.send(ipfix([iset(258, b"\x07" * 36)]))
        u.send(ipfix([iset(2, trec(259, big)), iset(259, b"\x07" * 24)]))
        bump(c, messages=3, templates=2)

    def set_below_record(c, u):  # data sets shorter than one record: padding, nothing decoded
        u.send(ipfix([iset(2, trec(257, VALID))]))
        u.send(ipfix([iset(257, b"\x07" * 20)]))
        u.send(ipfix([iset(2, trec(258, VALID)), iset(258, b"\x07" * 37),
                      data(258, c.flows.make(2))]))
        bump(c, messages=3, templates=2, records=2)

    def partial_record(c, u):  # 2 whole records and 30 bytes of a third: padding (3.3.1)
        whole = b"".join(valid_record(f) for f in c.flows.make(2))
        u.send(ipfix([iset(2, trec(257, VALID))]))
        u.send(ipfix([iset(257, whole + valid_record(Flows().make(1)[0])[:30]),
                      data(257, c.flows.make(1))]))
        bump(c, messages=2, templates=1, records=3)

    def varlen_past_set(c, u):
        # interfaceName (82, variable length, not read) after VALID's fields: one record
        # with a 3-byte name, then one whose name claims 200 bytes with 5 left in its set,
        # then a valid set. A message that lies about one length is dropped whole (as the
        # wire walk's overruns are; libfixbuf alone would end it there without a count)
        u.send(ipfix([iset(2, trec(260, VALID + [(82, 65535)]))]))
        junk = Flows().make(4)
        good = valid_record(junk[0]) + b"\x03eth"
        bad = valid_record(junk[1]) + b"\xc8" + b"eth0\x00"
        u.send(ipfix([iset(260, good + bad), iset(260, valid_record(junk[2]) + b"\x00")]))
        # the 255 escape: a 3-byte length (255, 0, 9) whose 9 bytes are not there
        u.send(ipfix([iset(260, valid_record(junk[3]) + b"\xff\x00\x09eth")]))
        # records that fit, in both length forms, decode
        u.send(ipfix([iset(260, valid_record(c.flows.make(1)[0]) + b"\x00" +
                           valid_record(c.flows.make(1)[0]) + b"\xff\x00\x02e0")]))
        c.exp.malformed("record_overrun")
        c.exp.malformed("record_overrun")
        bump(c, messages=2, templates=1, records=2)

    def unknown_mixed(c, u):  # known and unknown data sets in one message
        u.send(ipfix([iset(2, trec(257, VALID)), data(257, c.flows.make(2)),
                      iset(999, b"\x05" * 20), data(257, c.flows.make(1)),
                      iset(998, b"\x05" * 8)]))
        bump(c, messages=1, templates=1, records=3, unknown_template_sets=2)

    add("ipfix_enterprise_truncated", enterprise_truncated)
    add("ipfix_enterprise_field", enterprise_field)
    add("ipfix_options_scope_over", options_scope_over)
    add("ipfix_sampling_0", sampling(48, 1, 34, 0, 1))
    add("ipfix_sampling_max", sampling(302, 8, 305, 0xFFFFFFFF, 1))
    add("ipfix_sampling_100", sampling(48, 1, 34, 100, 100))
    add("ipfix_duplicate_fields", duplicate_fields)
    add("ipfix_tid_two_domains", tid_two_domains)
    add("ipfix_tid_two_addrs", tid_two_sources("addr"), alt=True)
    add("ipfix_tid_two_ports", tid_two_sources("port"))
    add("ipfix_template_redefined", template_redefined)
    add("ipfix_record_over_64k", record_over_64k)
    add("ipfix_set_below_record", set_below_record)
    add("ipfix_partial_record", partial_record)
    add("ipfix_varlen_past_set", varlen_past_set)
    add("ipfix_unknown_mixed", unknown_mixed)
