/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_v5.c - NetFlow v5 decoder.
 *
 * A hand-built datagram checks every header and record field and the
 * sysUpTime -> UTC arithmetic (including a flow that starts at uptime 0 and
 * one whose Last precedes its First); the two real v5 captures must give the
 * record counts tshark reports and the first record tshark prints; malformed
 * headers must be refused with the exact status before any flow is written.
 */
#include <string.h>

#include <glib.h>

#include "pcap_reader.h"
#include "v5.h"

#define EXPORT_SECS 1700000000u
#define EXPORT_NSECS 123456789u
#define UPTIME 100000u
/* unix_secs*1000 + unix_nsecs/1e6, truncated */
#define EXPORT_MS ((int64_t)EXPORT_SECS * 1000 + 123)

typedef struct v5_rec {
    uint32_t src, dst, nexthop;
    uint16_t input, output;
    uint32_t pkts, octets, first, last;
    uint16_t sport, dport;
    uint8_t flags, proto, tos;
    uint16_t src_as, dst_as;
    uint8_t src_mask, dst_mask;
} v5_rec;

static const v5_rec recs[] = {
    {0x0a000001, 0xc0000207, 0x0a0000fe, 3, 4, 5, 300, 90000, 99000, 40000, 23, 0x02, 6, 0, 64500,
     64501, 24, 32},
    {0xcb007101, 0xc0000208, 0, 1, 2, 1, 84, 0, UPTIME, 1234, 0x0800, 0, 1, 0, 0, 0, 0, 0},
    {0xc6336402, 0xc0000209, 0, 1, 2, 7, 700, 100500, 100200, 53, 5353, 0, 17, 0, 0, 0, 0, 0},
};

static void put8(GByteArray *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    g_byte_array_append(b, &x, 1);
}

static void put16(GByteArray *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put32(GByteArray *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}

static GByteArray *v5_build(unsigned count, size_t nrecs)
{
    GByteArray *b = g_byte_array_new();
    put16(b, 5);
    put16(b, count);
    put32(b, UPTIME);
    put32(b, EXPORT_SECS);
    put32(b, EXPORT_NSECS);
    put32(b, 777);
    put8(b, 1);
    put8(b, 2);
    put16(b, 0x4000 | 100);
    for (size_t i = 0; i < nrecs; i++) {
        const v5_rec *r = &recs[i % G_N_ELEMENTS(recs)];
        put32(b, r->src), put32(b, r->dst), put32(b, r->nexthop);
        put16(b, r->input), put16(b, r->output);
        put32(b, r->pkts), put32(b, r->octets), put32(b, r->first), put32(b, r->last);
        put16(b, r->sport), put16(b, r->dport);
        put8(b, 0), put8(b, r->flags), put8(b, r->proto), put8(b, r->tos);
        put16(b, r->src_as), put16(b, r->dst_as);
        put8(b, r->src_mask), put8(b, r->dst_mask), put16(b, 0);
    }
    return b;
}

static void assert_v4(const uint8_t addr[16], uint32_t v4)
{
    uint8_t want[16];
    tt_addr_set_v4(want, v4);
    g_assert_cmpmem(addr, 16, want, 16);
    g_assert_true(tt_addr_is_v4(addr));
}

static void test_hand_built(void)
{
    g_autoptr(GByteArray) b = v5_build(3, 3);
    tt_v5_header hdr;
    tt_flow flows[30];
    size_t n = 0;

    memset(flows, 0xa5, sizeof(flows));
    g_assert_cmpint(tt_v5_decode(b->data, b->len, &hdr, flows, G_N_ELEMENTS(flows), &n), ==,
                    TT_V5_OK);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpuint(hdr.count, ==, 3);
    g_assert_cmpuint(hdr.sys_uptime_ms, ==, UPTIME);
    g_assert_cmpuint(hdr.unix_secs, ==, EXPORT_SECS);
    g_assert_cmpuint(hdr.unix_nsecs, ==, EXPORT_NSECS);
    g_assert_cmpuint(hdr.flow_sequence, ==, 777);
    g_assert_cmpuint(hdr.engine_type, ==, 1);
    g_assert_cmpuint(hdr.engine_id, ==, 2);
    g_assert_cmpuint(hdr.sampling_mode, ==, 1);
    g_assert_cmpuint(hdr.sampling_interval, ==, 100);

    for (size_t i = 0; i < n; i++) {
        const tt_flow *f = &flows[i];
        const v5_rec *r = &recs[i];
        assert_v4(f->src, r->src);
        assert_v4(f->dst, r->dst);
        g_assert_cmpuint(f->packets, ==, r->pkts);
        g_assert_cmpuint(f->raw_packets, ==, r->pkts);
        g_assert_cmpuint(f->bytes, ==, r->octets);
        g_assert_cmpuint(f->raw_bytes, ==, r->octets);
        g_assert_cmpuint(f->proto, ==, r->proto);
        g_assert_cmpuint(f->tcp_flags, ==, r->flags);
        g_assert_cmpuint(f->dst_port, ==, r->dport);
        g_assert_cmpuint(f->family, ==, 4);
        g_assert_cmpuint(f->has_dst, ==, 1);
        g_assert_cmpuint(f->sampling, ==, 1);
        g_assert_cmpuint(f->sensor, ==, 0);
        g_assert_cmpuint(f->cls, ==, TT_CLASS_OTHER);
        g_assert_cmpmem(f->country, 2, "ZZ", 2);
        g_assert_cmpint(f->end_ms, >=, f->start_ms);
    }
    /* TCP: ports as sent; 10 s and 1 s before the export */
    g_assert_cmpuint(flows[0].src_port, ==, 40000);
    g_assert_cmpint(flows[0].start_ms, ==, EXPORT_MS - 10000);
    g_assert_cmpint(flows[0].end_ms, ==, EXPORT_MS - 1000);
    /* ICMP echo request: type 8 code 0 stays in dst_port, src_port cleared;
     * a flow started at uptime 0 began exactly one uptime before the export */
    g_assert_cmpuint(flows[1].src_port, ==, 0);
    g_assert_cmpuint(flows[1].dst_port, ==, 8 * 256);
    g_assert_cmpint(flows[1].start_ms, ==, EXPORT_MS - UPTIME);
    g_assert_cmpint(flows[1].end_ms, ==, EXPORT_MS);
    /* First after the header's uptime: signed arithmetic, no wrap to 2^32;
     * Last before First: end pinned to start */
    g_assert_cmpuint(flows[2].src_port, ==, 53);
    g_assert_cmpint(flows[2].start_ms, ==, EXPORT_MS + 500);
    g_assert_cmpint(flows[2].end_ms, ==, EXPORT_MS + 500);
}

static void test_max_and_trailing(void)
{
    g_autoptr(GByteArray) b = v5_build(3, 3);
    tt_v5_header hdr;
    tt_flow flows[3];
    size_t n = 99;

    g_assert_cmpint(tt_v5_decode(b->data, b->len, &hdr, flows, 1, &n), ==, TT_V5_OK);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpuint(hdr.count, ==, 3);

    /* bytes after the last record are padding, not an error */
    put32(b, 0xffffffff);
    g_assert_cmpint(tt_v5_decode(b->data, b->len, &hdr, flows, 3, &n), ==, TT_V5_OK);
    g_assert_cmpuint(n, ==, 3);
}

static void test_short_header(void)
{
    g_autoptr(GByteArray) b = v5_build(1, 1);
    tt_v5_header hdr;
    tt_flow f;
    size_t n = 0;
    g_assert_cmpint(tt_v5_decode(b->data, 23, &hdr, &f, 1, &n), ==, TT_V5_SHORT_HEADER);
}

static tt_v5_status decode(GByteArray *b)
{
    tt_v5_header hdr;
    tt_flow flows[31];
    size_t n = 0;
    tt_v5_status st = tt_v5_decode(b->data, b->len, &hdr, flows, G_N_ELEMENTS(flows), &n);
    if (st != TT_V5_OK)
        g_assert_cmpuint(n, ==, 0);
    g_assert_nonnull(tt_v5_strerror(st));
    return st;
}

static void test_version_9(void)
{
    g_autoptr(GByteArray) b = v5_build(1, 1);
    b->data[1] = 9;
    g_assert_cmpint(decode(b), ==, TT_V5_BAD_VERSION);
}

static void test_count_0(void)
{
    g_autoptr(GByteArray) b = v5_build(0, 1);
    g_assert_cmpint(decode(b), ==, TT_V5_BAD_COUNT);
}

static void test_count_31(void)
{
    g_autoptr(GByteArray) b = v5_build(31, 31);
    g_assert_cmpint(decode(b), ==, TT_V5_BAD_COUNT);
    g_autoptr(GByteArray) ok = v5_build(30, 30);
    g_assert_cmpint(decode(ok), ==, TT_V5_OK);
}

static void test_truncated(void)
{
    g_autoptr(GByteArray) b = v5_build(2, 2);
    g_byte_array_set_size(b, b->len - 1);
    g_assert_cmpint(decode(b), ==, TT_V5_TRUNCATED);
    g_byte_array_set_size(b, 24);
    g_assert_cmpint(decode(b), ==, TT_V5_TRUNCATED);
}

typedef struct capture_case {
    const char *file;
    size_t records;
    int64_t export_s;
    uint32_t src, dst;
    uint64_t pkts, bytes;
    uint16_t sport, dport;
    uint8_t flags;
} capture_case;

static const capture_case captures[] = {
    {"akv_unknown-router_netflow-v5.pcap", 29, 1680626679, 0xa1cad4d4, 0xca984618, 1, 133, 30104,
     11963, 0x18},
    {"ls_mikrotik_netflow-v5.pcap", 30, 1469109117, 0x0a000d01, 0xc0a80062, 2, 104, 5228, 52734,
     0x10},
};

static void test_capture(gconstpointer data)
{
    const capture_case *c = data;
    g_autofree gchar *rel = g_build_filename("vendor", c->file, NULL);
    g_autofree gchar *path = tt_pcap_flowdata_file(rel);
    g_autoptr(GError) error = NULL;

    if (path == NULL)
        return;
    g_autoptr(GPtrArray) dgs = tt_pcap_read_udp(path, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(dgs->len, ==, 1);

    const tt_pcap_datagram *dg = g_ptr_array_index(dgs, 0);
    tt_v5_header hdr;
    tt_flow flows[30];
    size_t n = 0;
    g_assert_cmpint(tt_v5_decode(dg->data, dg->len, &hdr, flows, G_N_ELEMENTS(flows), &n), ==,
                    TT_V5_OK);
    g_assert_cmpuint(n, ==, c->records);
    g_assert_cmpint(hdr.unix_secs, ==, c->export_s);

    assert_v4(flows[0].src, c->src);
    assert_v4(flows[0].dst, c->dst);
    g_assert_cmpuint(flows[0].packets, ==, c->pkts);
    g_assert_cmpuint(flows[0].bytes, ==, c->bytes);
    g_assert_cmpuint(flows[0].src_port, ==, c->sport);
    g_assert_cmpuint(flows[0].dst_port, ==, c->dport);
    g_assert_cmpuint(flows[0].tcp_flags, ==, c->flags);
    g_assert_cmpuint(flows[0].proto, ==, 6);

    int64_t export_ms = (int64_t)hdr.unix_secs * 1000 + hdr.unix_nsecs / 1000000;
    for (size_t i = 0; i < n; i++) {
        /* real flows end no later than the export and are at most a day old */
        g_assert_cmpint(flows[i].end_ms, <=, export_ms);
        g_assert_cmpint(flows[i].start_ms, <=, flows[i].end_ms);
        g_assert_cmpint(flows[i].start_ms, >, export_ms - 86400 * 1000);
        g_assert_cmpuint(flows[i].raw_packets, >, 0);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/v5/hand-built", test_hand_built);
    g_test_add_func("/v5/max-and-trailing-bytes", test_max_and_trailing);
    g_test_add_func("/v5/short-header", test_short_header);
    g_test_add_func("/v5/version-9", test_version_9);
    g_test_add_func("/v5/count-0", test_count_0);
    g_test_add_func("/v5/count-31", test_count_31);
    g_test_add_func("/v5/truncated", test_truncated);
    for (size_t i = 0; i < G_N_ELEMENTS(captures); i++) {
        g_autofree gchar *p = g_strdup_printf("/v5/capture/%s", captures[i].file);
        g_test_add_data_func(p, &captures[i], test_capture);
    }
    return g_test_run();
}
