/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_wire.c - IPFIX structural checks, the NetFlow v9 -> IPFIX rewrite and the
 * sFlow v5 walk in front of libfixbuf's translator.
 *
 * Two kinds of evidence here: hand-built messages with one defect each (the
 * exact status is asserted) and random mutations of a valid message (must
 * never crash, never accept a set that overruns, and a v9 rewrite that is
 * accepted must itself pass the IPFIX check). Real exporter captures are in
 * test_wire_captures.c. Messages are built with a tiny byte writer rather
 * than hex blobs so each test says which field it breaks.
 */
#include <string.h>

#include <glib.h>

#include "wire.h"

/* --- message builder ---------------------------------------------------- */

static void put16(GByteArray *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    g_byte_array_append(b, x, 2);
}

static void put32(GByteArray *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    g_byte_array_append(b, x, 4);
}

static void set16(GByteArray *b, size_t at, unsigned v)
{
    b->data[at] = (uint8_t)(v >> 8);
    b->data[at + 1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static GByteArray *ipfix_begin(void)
{
    GByteArray *b = g_byte_array_new();
    put16(b, 10);
    put16(b, 0); /* fixed by ipfix_end */
    put32(b, 1700000000);
    put32(b, 42);
    put32(b, 7);
    return b;
}

static size_t set_begin(GByteArray *b, unsigned id)
{
    size_t at = b->len;
    put16(b, id);
    put16(b, 0);
    return at;
}

static void set_end(GByteArray *b, size_t at)
{
    set16(b, at + 2, b->len - at);
}

static void ipfix_end(GByteArray *b)
{
    set16(b, 2, b->len);
}

/* A valid message: template 256 (with one enterprise IE), options template
 * 257, a data set for 256, template set padding of 2 bytes. */
static GByteArray *ipfix_valid(void)
{
    GByteArray *b = ipfix_begin();
    size_t s = set_begin(b, 2);
    put16(b, 256);
    put16(b, 3);
    put16(b, 8), put16(b, 4);          /* sourceIPv4Address */
    put16(b, 11), put16(b, 2);         /* destinationTransportPort */
    put16(b, 0x8000 | 1), put16(b, 4); /* enterprise IE ... */
    put32(b, 29305);                   /* ... and its PEN */
    put16(b, 0);                       /* padding */
    set_end(b, s);
    s = set_begin(b, 3);
    put16(b, 257);
    put16(b, 2);
    put16(b, 1);
    put16(b, 149), put16(b, 4); /* scope observationDomainId */
    put16(b, 34), put16(b, 4);  /* samplingInterval */
    set_end(b, s);
    s = set_begin(b, 256);
    put32(b, 0xc0000201), put16(b, 23), put32(b, 5);
    set_end(b, s);
    ipfix_end(b);
    return b;
}

static tt_wire_status check(GByteArray *b)
{
    tt_wire_info info;
    return tt_ipfix_check(b->data, b->len, &info);
}

/* One template set holding the given specifier words after a record header. */
static GByteArray *ipfix_one_template(unsigned set_id, unsigned tid, const unsigned *words,
                                      size_t n)
{
    GByteArray *b = ipfix_begin();
    size_t s = set_begin(b, set_id);
    put16(b, tid);
    for (size_t i = 0; i < n; i++)
        put16(b, words[i]);
    set_end(b, s);
    ipfix_end(b);
    return b;
}

/* --- IPFIX, hand-made ---------------------------------------------------- */

static void test_ipfix_valid(void)
{
    g_autoptr(GByteArray) b = ipfix_valid();
    tt_wire_info info;

    g_assert_cmpint(tt_ipfix_check(b->data, b->len, &info), ==, TT_WIRE_OK);
    g_assert_cmpuint(info.export_time, ==, 1700000000);
    g_assert_cmpuint(info.sequence, ==, 42);
    g_assert_cmpuint(info.domain, ==, 7);
    g_assert_cmpuint(info.template_sets, ==, 2);
    g_assert_cmpuint(info.data_sets, ==, 1);
    g_assert_cmpuint(info.data_records, ==, 0); /* not computed: no template state */
    g_assert_cmpint(tt_ipfix_check(b->data, b->len, NULL), ==, TT_WIRE_OK);
}

static void test_ipfix_short_header(void)
{
    g_autoptr(GByteArray) b = ipfix_valid();
    g_assert_cmpint(tt_ipfix_check(b->data, 15, NULL), ==, TT_WIRE_SHORT_HEADER);
    g_assert_cmpint(tt_ipfix_check(b->data, 0, NULL), ==, TT_WIRE_SHORT_HEADER);
}

static void test_ipfix_bad_version(void)
{
    g_autoptr(GByteArray) b = ipfix_valid();
    set16(b, 0, 9);
    g_assert_cmpint(check(b), ==, TT_WIRE_BAD_VERSION);
}

static void test_ipfix_length_beyond(void)
{
    g_autoptr(GByteArray) b = ipfix_valid();
    set16(b, 2, b->len + 4);
    g_assert_cmpint(check(b), ==, TT_WIRE_BAD_LENGTH);
}

static void test_ipfix_length_short(void)
{
    g_autoptr(GByteArray) b = ipfix_valid();
    set16(b, 2, b->len - 4);
    g_assert_cmpint(check(b), ==, TT_WIRE_BAD_LENGTH);
    set16(b, 2, 12);
    g_assert_cmpint(check(b), ==, TT_WIRE_BAD_LENGTH);
}

static void test_ipfix_set_length(gconstpointer data)
{
    g_autoptr(GByteArray) b = ipfix_begin();
    put16(b, 256);
    put16(b, GPOINTER_TO_UINT(data));
    put32(b, 0);
    ipfix_end(b);
    g_assert_cmpint(check(b), ==, TT_WIRE_SET_SHORT);
}

static void test_ipfix_set_tail(void)
{
    /* 3 bytes after the last set cannot hold a set header. */
    g_autoptr(GByteArray) b = ipfix_valid();
    put16(b, 0), g_byte_array_append(b, (const guint8 *)"", 1);
    ipfix_end(b);
    g_assert_cmpint(check(b), ==, TT_WIRE_SET_SHORT);
}

static void test_ipfix_set_past_message(void)
{
    g_autoptr(GByteArray) b = ipfix_begin();
    put16(b, 256);
    put16(b, 12);
    put32(b, 0);
    ipfix_end(b);
    g_assert_cmpint(check(b), ==, TT_WIRE_SET_OVERRUN);
}

static void test_ipfix_reserved_set(gconstpointer data)
{
    g_autoptr(GByteArray) b = ipfix_begin();
    size_t s = set_begin(b, GPOINTER_TO_UINT(data));
    put32(b, 0x01000000);
    set_end(b, s);
    ipfix_end(b);
    g_assert_cmpint(check(b), ==, TT_WIRE_RESERVED_SET);
}

static void test_ipfix_template_truncated(void)
{
    /* two fields announced, the second specifier stops after its IE number */
    const unsigned w[] = {2, 8, 4, 12};
    g_autoptr(GByteArray) b = ipfix_one_template(2, 256, w, G_N_ELEMENTS(w));
    g_assert_cmpint(check(b), ==, TT_WIRE_TEMPLATE_TRUNCATED);
}

static void test_ipfix_enterprise_no_pen(void)
{
    const unsigned w[] = {1, 0x8001, 4};
    g_autoptr(GByteArray) b = ipfix_one_template(2, 256, w, G_N_ELEMENTS(w));
    g_assert_cmpint(check(b), ==, TT_WIRE_TEMPLATE_TRUNCATED);
}

static void test_ipfix_template_id_255(void)
{
    const unsigned w[] = {1, 8, 4};
    g_autoptr(GByteArray) b = ipfix_one_template(2, 255, w, G_N_ELEMENTS(w));
    g_assert_cmpint(check(b), ==, TT_WIRE_TEMPLATE_RESERVED_ID);
}

static void test_ipfix_options_scope_0(void)
{
    const unsigned w[] = {1, 0, 34, 4};
    g_autoptr(GByteArray) b = ipfix_one_template(3, 300, w, G_N_ELEMENTS(w));
    g_assert_cmpint(check(b), ==, TT_WIRE_OPTIONS_SCOPE);
}

static void test_ipfix_options_scope_too_big(void)
{
    const unsigned w[] = {1, 2, 149, 4};
    g_autoptr(GByteArray) b = ipfix_one_template(3, 300, w, G_N_ELEMENTS(w));
    g_assert_cmpint(check(b), ==, TT_WIRE_OPTIONS_SCOPE);
}

static void test_ipfix_withdrawal(void)
{
    const unsigned none[] = {0};
    g_autoptr(GByteArray) one = ipfix_one_template(2, 300, none, 1);
    g_autoptr(GByteArray) all = ipfix_one_template(2, 2, none, 1);
    g_autoptr(GByteArray) all_opt = ipfix_one_template(3, 3, none, 1);
    g_autoptr(GByteArray) wrong = ipfix_one_template(2, 3, none, 1);
    g_autoptr(GByteArray) low = ipfix_one_template(3, 100, none, 1);

    g_assert_cmpint(check(one), ==, TT_WIRE_OK);
    g_assert_cmpint(check(all), ==, TT_WIRE_OK);
    g_assert_cmpint(check(all_opt), ==, TT_WIRE_OK);
    g_assert_cmpint(check(wrong), ==, TT_WIRE_TEMPLATE_RESERVED_ID);
    g_assert_cmpint(check(low), ==, TT_WIRE_TEMPLATE_RESERVED_ID);
}

/* The set and template cursors, and cutting a template record and a set out. */
static void test_ipfix_cursors(void)
{
    g_autoptr(GByteArray) b = ipfix_valid();
    size_t len0 = b->len;
    tt_wire_sets sets;
    tt_wire_templates tmpls;
    tt_wire_status st;

    tt_wire_sets_init(&sets, b->data, b->len);
    g_assert_true(tt_wire_sets_next(&sets, &st));
    g_assert_cmpuint(sets.set.id, ==, 2);
    g_assert_cmpuint(sets.set.off, ==, 16);
    g_assert_cmpuint(sets.set.len, ==, 4 + 4 + 3 * 4 + 4 + 2);
    tt_wire_templates_init(&tmpls, &sets);
    g_assert_true(tt_wire_templates_next(&tmpls, &st));
    g_assert_cmpuint(tmpls.t.tid, ==, 256);
    g_assert_cmpuint(tmpls.t.nfields, ==, 3);
    g_assert_cmpuint(tmpls.t.off, ==, 20);
    g_assert_cmpuint(tmpls.t.spec, ==, 24);
    g_assert_cmpuint(tmpls.t.len, ==, 4 + 3 * 4 + 4);
    g_assert_cmpuint(tmpls.t.min_record, ==, 10);
    g_assert_false(tmpls.t.varlen);
    /* cut it: the 2 bytes of padding are all that is left of the set */
    size_t len = tt_wire_cut_template(&sets, &tmpls, b->data);
    g_assert_cmpuint(len, ==, len0 - 20);
    g_assert_cmpuint(get16(b->data + 2), ==, len);
    g_assert_cmpuint(get16(b->data + 16 + 2), ==, 6);
    g_assert_false(tt_wire_templates_next(&tmpls, &st));
    g_assert_cmpint(st, ==, TT_WIRE_OK);

    g_assert_true(tt_wire_sets_next(&sets, &st));
    g_assert_cmpuint(sets.set.id, ==, 3);
    tt_wire_templates_init(&tmpls, &sets);
    g_assert_true(tt_wire_templates_next(&tmpls, &st));
    g_assert_cmpuint(tmpls.t.tid, ==, 257);
    g_assert_cmpuint(tmpls.t.spec, ==, tmpls.t.off + 6); /* after the scope count */
    g_assert_cmpuint(tmpls.t.min_record, ==, 8);
    g_assert_false(tt_wire_templates_next(&tmpls, &st));

    g_assert_true(tt_wire_sets_next(&sets, &st));
    g_assert_cmpuint(sets.set.id, ==, 256);
    len = tt_wire_cut_set(&sets, b->data);
    g_assert_cmpuint(len, ==, len0 - 20 - 4 - 10);
    g_assert_false(tt_wire_sets_next(&sets, &st));
    g_assert_cmpint(st, ==, TT_WIRE_OK);
    /* what is left is still a well-formed message */
    g_assert_cmpint(tt_ipfix_check(b->data, len, NULL), ==, TT_WIRE_OK);

    /* a set running past the message stops the cursor with the reason */
    g_autoptr(GByteArray) bad = ipfix_valid();
    set16(bad, 16 + 2, bad->len);
    tt_wire_sets_init(&sets, bad->data, bad->len);
    g_assert_false(tt_wire_sets_next(&sets, &st));
    g_assert_cmpint(st, ==, TT_WIRE_SET_OVERRUN);
}

static void test_ipfix_stream_frame(void)
{
    g_autoptr(GByteArray) b = ipfix_valid();
    size_t msglen = 0;

    g_assert_cmpint(tt_ipfix_stream_frame(b->data, 0, &msglen), ==, TT_WIRE_SHORT_HEADER);
    g_assert_cmpint(tt_ipfix_stream_frame(b->data, 15, &msglen), ==, TT_WIRE_SHORT_HEADER);
    g_assert_cmpuint(msglen, ==, 0);
    g_assert_cmpint(tt_ipfix_stream_frame(b->data, 16, &msglen), ==, TT_WIRE_OK);
    g_assert_cmpuint(msglen, ==, b->len);
    g_assert_cmpint(tt_ipfix_stream_frame(b->data, b->len, &msglen), ==, TT_WIRE_OK);
    g_assert_cmpuint(msglen, ==, b->len);

    set16(b, 2, 15);
    g_assert_cmpint(tt_ipfix_stream_frame(b->data, 16, &msglen), ==, TT_WIRE_BAD_LENGTH);
    g_assert_cmpint(tt_ipfix_stream_frame(b->data, 4, &msglen), ==, TT_WIRE_BAD_LENGTH);
    set16(b, 0, 0x4854); /* "HT"TP */
    g_assert_cmpint(tt_ipfix_stream_frame(b->data, 2, &msglen), ==, TT_WIRE_BAD_VERSION);
    g_assert_cmpint(tt_ipfix_stream_frame(b->data, 16, &msglen), ==, TT_WIRE_BAD_VERSION);
}

static void test_reason_keys(void)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (int s = 0; s < TT_WIRE_REASON_COUNT; s++) {
        const char *key = tt_wire_reason_key((tt_wire_status)s);
        g_assert_nonnull(key);
        g_assert_cmpstr(key, !=, "unknown");
        g_assert_true(g_regex_match_simple("^[a-z_]+$", key, 0, 0));
        g_assert_false(g_hash_table_contains(seen, key));
        g_hash_table_add(seen, (gpointer)key);
        g_assert_cmpstr(tt_wire_strerror((tt_wire_status)s), !=, "unknown wire status");
    }
    g_assert_cmpstr(tt_wire_reason_key(TT_WIRE_SET_OVERRUN), ==, "set_overrun");
    g_assert_cmpstr(tt_wire_reason_key(TT_WIRE_REASON_COUNT), ==, "unknown");
}

/* --- NetFlow v9, hand-made ----------------------------------------------- */

static GByteArray *v9_begin(void)
{
    GByteArray *b = g_byte_array_new();
    put16(b, 9);
    put16(b, 4);
    put32(b, 123456); /* sysUptime */
    put32(b, 1600000000);
    put32(b, 99);
    put32(b, 0x01020304);
    return b;
}

/* Template 300 with a type-0 field and two vendor types; options template 301
 * with a System scope and one option; padding after it; a data flowset for
 * 300 with 3 bytes of padding. */
static GByteArray *v9_valid(void)
{
    GByteArray *b = v9_begin();
    size_t s = set_begin(b, 0);
    put16(b, 300);
    put16(b, 5);
    put16(b, 8), put16(b, 4);
    put16(b, 0), put16(b, 1);
    put16(b, 400), put16(b, 2);
    put16(b, 40000), put16(b, 2);
    put16(b, 346), put16(b, 4);
    set_end(b, s);
    s = set_begin(b, 1);
    put16(b, 301);
    put16(b, 4);               /* scope length, bytes */
    put16(b, 4);               /* option length, bytes */
    put16(b, 1), put16(b, 4);  /* scope: System */
    put16(b, 34), put16(b, 4); /* samplingInterval */
    put16(b, 0);               /* padding */
    set_end(b, s);
    s = set_begin(b, 300);
    put32(b, 0x0a000001), put16(b, 0x0100), put16(b, 1), put16(b, 2), put32(b, 9);
    put16(b, 0), g_byte_array_append(b, (const guint8 *)"", 1);
    set_end(b, s);
    return b;
}

static tt_wire_status v9(GByteArray *b)
{
    uint8_t out[65535];
    size_t outlen = 0;
    tt_wire_info info;
    return tt_v9_to_ipfix(b->data, b->len, out, sizeof(out), &outlen, &info);
}

static void test_v9_rewrite(void)
{
    g_autoptr(GByteArray) b = v9_valid();
    uint8_t out[65535];
    size_t outlen = 0;
    tt_wire_info info, check_info;

    g_assert_cmpint(tt_v9_to_ipfix(b->data, b->len, out, sizeof(out), &outlen, &info), ==,
                    TT_WIRE_OK);
    g_assert_cmpuint(info.v9_count, ==, 4);
    g_assert_cmpuint(info.sys_uptime_ms, ==, 123456);
    g_assert_cmpuint(info.export_time, ==, 1600000000);
    g_assert_cmpuint(info.sequence, ==, 99);
    g_assert_cmpuint(info.domain, ==, 0x01020304);
    g_assert_cmpuint(info.template_sets, ==, 2);
    g_assert_cmpuint(info.data_sets, ==, 1);

    /* header */
    g_assert_cmpuint(get16(out), ==, 10);
    g_assert_cmpuint(get16(out + 2), ==, outlen);
    g_assert_cmpuint(get32(out + 4), ==, 1600000000);
    g_assert_cmpuint(get32(out + 8), ==, 99);
    g_assert_cmpuint(get32(out + 12), ==, 0x01020304);
    /* template set: type 0, 400 and 40000 -> paddingOctets, lengths kept */
    const uint8_t *t = out + 16;
    g_assert_cmpuint(get16(t), ==, 2);
    g_assert_cmpuint(get16(t + 2), ==, 4 + 4 + 5 * 4);
    g_assert_cmpuint(get16(t + 4), ==, 300);
    g_assert_cmpuint(get16(t + 6), ==, 5);
    const unsigned want_t[] = {8, 4, 210, 1, 210, 2, 210, 2, 346, 4};
    for (size_t i = 0; i < G_N_ELEMENTS(want_t); i++)
        g_assert_cmpuint(get16(t + 8 + 2 * i), ==, want_t[i]);
    /* options template set: counts in fields, scope -> paddingOctets, no padding */
    const uint8_t *o = t + get16(t + 2);
    g_assert_cmpuint(get16(o), ==, 3);
    g_assert_cmpuint(get16(o + 2), ==, 4 + 6 + 2 * 4);
    const unsigned want_o[] = {301, 2, 1, 210, 4, 34, 4};
    for (size_t i = 0; i < G_N_ELEMENTS(want_o); i++)
        g_assert_cmpuint(get16(o + 4 + 2 * i), ==, want_o[i]);
    /* data set copied byte for byte, padding included */
    const uint8_t *d = o + get16(o + 2);
    const uint8_t *din = b->data + b->len - (4 + 14 + 3);
    g_assert_cmpuint(get16(d), ==, 300);
    g_assert_cmpuint(get16(d + 2), ==, 21);
    g_assert_cmpmem(d, 21, din, 21);
    g_assert_cmpuint((size_t)(d + 21 - out), ==, outlen);

    g_assert_cmpint(tt_ipfix_check(out, outlen, &check_info), ==, TT_WIRE_OK);
    g_assert_cmpuint(check_info.template_sets, ==, 2);
    g_assert_cmpuint(check_info.data_sets, ==, 1);
}

static void test_v9_short_header(void)
{
    g_autoptr(GByteArray) b = v9_valid();
    uint8_t out[64];
    size_t outlen;
    g_assert_cmpint(tt_v9_to_ipfix(b->data, 19, out, sizeof(out), &outlen, NULL), ==,
                    TT_WIRE_SHORT_HEADER);
}

static void test_v9_bad_version(void)
{
    g_autoptr(GByteArray) b = v9_valid();
    set16(b, 0, 10);
    g_assert_cmpint(v9(b), ==, TT_WIRE_BAD_VERSION);
}

static void test_v9_header_only(void)
{
    g_autoptr(GByteArray) b = v9_begin();
    uint8_t out[16];
    size_t outlen = 0;
    g_assert_cmpint(tt_v9_to_ipfix(b->data, b->len, out, sizeof(out), &outlen, NULL), ==,
                    TT_WIRE_OK);
    g_assert_cmpuint(outlen, ==, 16);
    g_assert_cmpint(tt_ipfix_check(out, outlen, NULL), ==, TT_WIRE_OK);
}

static void test_v9_flowset_length_0(void)
{
    g_autoptr(GByteArray) b = v9_begin();
    put16(b, 300);
    put16(b, 0);
    put32(b, 0xdeadbeef);
    g_assert_cmpint(v9(b), ==, TT_WIRE_SET_SHORT);
}

static void test_v9_options_scope_0(void)
{
    g_autoptr(GByteArray) b = v9_begin();
    size_t s = set_begin(b, 1);
    put16(b, 301);
    put16(b, 0);
    put16(b, 4);
    put16(b, 34), put16(b, 4);
    put16(b, 0);
    set_end(b, s);
    g_assert_cmpint(v9(b), ==, TT_WIRE_OPTIONS_SCOPE);
}

static void test_v9_options_lengths(void)
{
    g_autoptr(GByteArray) b = v9_begin();
    size_t s = set_begin(b, 1);
    put16(b, 301);
    put16(b, 4);
    put16(b, 6); /* not a multiple of 4 */
    put16(b, 1), put16(b, 4);
    put16(b, 34), put16(b, 4), put16(b, 0);
    set_end(b, s);
    g_assert_cmpint(v9(b), ==, TT_WIRE_TEMPLATE_TRUNCATED);
    set16(b, 20 + 4 + 4, 40); /* past the flowset */
    g_assert_cmpint(v9(b), ==, TT_WIRE_TEMPLATE_TRUNCATED);
}

/* Cisco WLC 5520/8510 end options template flowsets in 2 bytes of non-zero padding;
 * RFC 3954 says SHOULD be zero. Bytes shorter than any record are padding. */
static void test_v9_options_nonzero_padding(void)
{
    g_autoptr(GByteArray) b = v9_begin();
    size_t s = set_begin(b, 1);
    put16(b, 301), put16(b, 4), put16(b, 8);
    put16(b, 1), put16(b, 4);  /* scope: System */
    put16(b, 34), put16(b, 4); /* samplingInterval */
    put16(b, 48), put16(b, 4); /* FLOW_SAMPLER_ID, 4 bytes (Cisco NBAR) */
    put16(b, 0xabcd);          /* padding, not zero */
    set_end(b, s);
    s = set_begin(b, 0);
    put16(b, 300), put16(b, 1), put16(b, 8), put16(b, 4);
    put16(b, 0x0102); /* 2 non-zero bytes: no template record is that short */
    set_end(b, s);
    uint8_t out[65535];
    size_t outlen = 0;
    tt_wire_info info;
    g_assert_cmpint(tt_v9_to_ipfix(b->data, b->len, out, sizeof(out), &outlen, &info), ==,
                    TT_WIRE_OK);
    g_assert_cmpuint(info.template_sets, ==, 2);
    g_assert_cmpint(tt_ipfix_check(out, outlen, NULL), ==, TT_WIRE_OK);
    /* 10 bytes can hold an options record: read as one, and this one does not fit */
    g_autoptr(GByteArray) cut = v9_begin();
    s = set_begin(cut, 1);
    put16(cut, 301), put16(cut, 4), put16(cut, 4);
    put16(cut, 1), put16(cut, 4), put16(cut, 34), put16(cut, 4);
    put16(cut, 302), put16(cut, 4), put16(cut, 8), put16(cut, 1), put16(cut, 4);
    set_end(cut, s);
    g_assert_cmpint(v9(cut), ==, TT_WIRE_TEMPLATE_TRUNCATED);
}

static void test_v9_template_checks(void)
{
    g_autoptr(GByteArray) low = v9_begin();
    size_t s = set_begin(low, 0);
    put16(low, 255), put16(low, 1), put16(low, 8), put16(low, 4);
    set_end(low, s);
    g_assert_cmpint(v9(low), ==, TT_WIRE_TEMPLATE_RESERVED_ID);

    g_autoptr(GByteArray) cut = v9_begin();
    s = set_begin(cut, 0);
    put16(cut, 256), put16(cut, 2), put16(cut, 8), put16(cut, 4), put16(cut, 12);
    set_end(cut, s);
    g_assert_cmpint(v9(cut), ==, TT_WIRE_TEMPLATE_TRUNCATED);
}

static void test_v9_flowset_past_datagram(void)
{
    g_autoptr(GByteArray) b = v9_valid();
    g_byte_array_set_size(b, b->len - 8);
    g_assert_cmpint(v9(b), ==, TT_WIRE_SET_OVERRUN);
}

static void test_v9_reserved_flowset(void)
{
    g_autoptr(GByteArray) b = v9_begin();
    size_t s = set_begin(b, 5);
    put32(b, 0x01000000);
    set_end(b, s);
    g_assert_cmpint(v9(b), ==, TT_WIRE_RESERVED_SET);
}

static void test_v9_zero_tail(void)
{
    /* PAN-OS pads datagrams with zeros after the last flowset. */
    g_autoptr(GByteArray) b = v9_valid();
    uint8_t zeros[300] = {0};
    uint8_t out[65535];
    size_t outlen = 0, plain_len = 0;
    tt_wire_info info;

    g_assert_cmpint(tt_v9_to_ipfix(b->data, b->len, out, sizeof(out), &plain_len, NULL), ==,
                    TT_WIRE_OK);
    g_byte_array_append(b, zeros, sizeof(zeros));
    g_assert_cmpint(tt_v9_to_ipfix(b->data, b->len, out, sizeof(out), &outlen, &info), ==,
                    TT_WIRE_OK);
    g_assert_cmpuint(outlen, ==, plain_len);
    g_assert_cmpuint(info.data_sets, ==, 1);
    g_assert_cmpint(tt_ipfix_check(out, outlen, NULL), ==, TT_WIRE_OK);

    /* ... but a tail with anything in it is read as flowsets */
    b->data[b->len - 1] = 1;
    g_assert_cmpint(v9(b), ==, TT_WIRE_SET_SHORT);
}

static void test_v9_too_big(void)
{
    g_autoptr(GByteArray) b = v9_valid();
    uint8_t out[40];
    size_t outlen = 0;
    g_assert_cmpint(tt_v9_to_ipfix(b->data, b->len, out, sizeof(out), &outlen, NULL), ==,
                    TT_WIRE_TOO_BIG);
    g_assert_cmpint(tt_v9_to_ipfix(b->data, b->len, out, 15, &outlen, NULL), ==, TT_WIRE_TOO_BIG);
}

/* --- random mutations ---------------------------------------------------- */

/* Independent bounds walk: does every set of an accepted message fit? */
static gboolean sets_fit(const uint8_t *m, size_t len)
{
    size_t off = 16;
    if (len < 16 || get16(m + 2) != len)
        return FALSE;
    while (off < len) {
        if (len - off < 4)
            return FALSE;
        size_t sl = get16(m + off + 2);
        if (sl < 4 || sl > len - off)
            return FALSE;
        off += sl;
    }
    return off == len;
}

static void mutate(GByteArray *b)
{
    int kind = g_test_rand_int_range(0, 4);
    int edits = g_test_rand_int_range(1, 4);

    for (int e = 0; e < edits && b->len > 0; e++) {
        guint at = (guint)g_test_rand_int_range(0, (gint32)b->len);
        switch (kind) {
        case 0: /* random byte */
            b->data[at] = (uint8_t)g_test_rand_int_range(0, 256);
            break;
        case 1: /* interesting 16-bit value */ {
            static const unsigned v[] = {0, 1, 2, 3, 4, 255, 256, 0x7fff, 0x8000, 0xffff};
            if (at + 1 < b->len)
                set16(b, at, v[g_test_rand_int_range(0, G_N_ELEMENTS(v))]);
            break;
        }
        case 2: /* truncate */
            g_byte_array_set_size(b, at);
            break;
        default: /* bit flip */
            b->data[at] ^= (uint8_t)(1u << g_test_rand_int_range(0, 8));
            break;
        }
    }
}

static void test_fuzz_ipfix(void)
{
    g_autoptr(GByteArray) base = ipfix_valid();
    unsigned accepted = 0;

    for (int i = 0; i < 10000; i++) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_byte_array_append(b, base->data, base->len);
        mutate(b);
        /* Keep a stale length field in half the cases, fix it in the others
         * so the set walk, not only the header check, is exercised. */
        if (b->len >= 4 && g_test_rand_bit())
            set16(b, 2, b->len);
        size_t msglen = 0;
        tt_wire_status fs = tt_ipfix_stream_frame(b->data, b->len, &msglen);
        g_assert_cmpint(fs, <, TT_WIRE_REASON_COUNT);
        tt_wire_status st = check(b);
        g_assert_cmpint(st, <, TT_WIRE_REASON_COUNT);
        if (st == TT_WIRE_OK) {
            g_assert_true(sets_fit(b->data, b->len));
            g_assert_cmpint(fs, ==, TT_WIRE_OK);
            g_assert_cmpuint(msglen, ==, b->len);
            accepted++;
        }
    }
    /* the mutations must not all be trivially fatal */
    g_assert_cmpuint(accepted, >, 100);
}

static void test_fuzz_v9(void)
{
    g_autoptr(GByteArray) base = v9_valid();
    uint8_t out[65535];
    unsigned accepted = 0;

    for (int i = 0; i < 10000; i++) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_byte_array_append(b, base->data, base->len);
        mutate(b);
        size_t outlen = 0;
        tt_wire_info info;
        tt_wire_status st = tt_v9_to_ipfix(b->data, b->len, out, sizeof(out), &outlen, &info);
        g_assert_cmpint(st, <, TT_WIRE_REASON_COUNT);
        if (st == TT_WIRE_OK) {
            g_assert_cmpuint(outlen, <=, b->len);
            g_assert_true(sets_fit(out, outlen));
            g_assert_cmpint(tt_ipfix_check(out, outlen, NULL), ==, TT_WIRE_OK);
            accepted++;
        }
    }
    g_assert_cmpuint(accepted, >, 100);
}

/* --- sFlow v5 (tt_sflow_check, in front of libfixbuf's translator) ------- */

/* An sFlow v5 datagram, IPv4 agent, with @a nsamples flow samples of one raw-header record
 * (a 40-byte IPv4/TCP header) each; @a rlen overrides that record's length field. */
static GByteArray *sflow_dgram(unsigned nsamples, uint32_t rlen)
{
    GByteArray *b = g_byte_array_new();
    put32(b, 5);          /* version */
    put32(b, 1);          /* agent address type: IPv4 */
    put32(b, 0x7f000001); /* agent */
    put32(b, 0);          /* sub-agent */
    put32(b, 7);          /* sequence */
    put32(b, 100000);     /* uptime */
    put32(b, nsamples);
    for (unsigned i = 0; i < nsamples; i++) {
        put32(b, 1);           /* flow sample */
        put32(b, 32 + 8 + 56); /* its length: header, record header, record */
        put32(b, i);           /* sample sequence */
        put32(b, 3);           /* source id */
        put32(b, 1024);        /* sampling rate */
        put32(b, 4096);        /* pool */
        put32(b, 0);           /* drops */
        put32(b, 1);           /* input */
        put32(b, 2);           /* output */
        put32(b, 1);           /* records */
        put32(b, 1);           /* raw packet header */
        put32(b, rlen);
        put32(b, 1);  /* Ethernet */
        put32(b, 60); /* frame length */
        put32(b, 0);  /* stripped */
        put32(b, 40); /* header length */
        for (int k = 0; k < 10; k++)
            put32(b, 0x45000028u + (uint32_t)k);
    }
    return b;
}

static void test_sflow(void)
{
    g_autoptr(GByteArray) ok = sflow_dgram(2, 56);
    g_assert_cmpint(tt_sflow_check(ok->data, ok->len), ==, TT_WIRE_OK);
    g_assert_cmpint(tt_sflow_check(ok->data, 20), ==, TT_WIRE_SHORT_HEADER);
    /* cut inside the second sample: it no longer fits the datagram */
    g_assert_cmpint(tt_sflow_check(ok->data, ok->len - 10), ==, TT_WIRE_BAD_LENGTH);

    g_autoptr(GByteArray) v4 = sflow_dgram(1, 56);
    v4->data[3] = 4;
    g_assert_cmpint(tt_sflow_check(v4->data, v4->len), ==, TT_WIRE_BAD_VERSION);

    /* the crash fuzz_sflow found: a sample shorter than its own fixed fields */
    g_autoptr(GByteArray) shortsample = sflow_dgram(1, 56);
    shortsample->data[28 + 7] = 3;
    g_assert_cmpint(tt_sflow_check(shortsample->data, shortsample->len), ==, TT_WIRE_BAD_LENGTH);

    /* a raw-header record claiming 12 bytes: the translator reads 16 whatever it says */
    g_autoptr(GByteArray) shortrec = sflow_dgram(1, 12);
    g_assert_cmpint(tt_sflow_check(shortrec->data, shortrec->len), ==, TT_WIRE_BAD_LENGTH);

    /* trailing bytes inside a sample: the translator walks records, not samples */
    g_autoptr(GByteArray) slack = sflow_dgram(1, 52);
    g_assert_cmpint(tt_sflow_check(slack->data, slack->len), ==, TT_WIRE_BAD_LENGTH);

    /* an IPv6 agent needs 40 header bytes; 28 were checked by libfixbuf */
    g_autoptr(GByteArray) v6 = sflow_dgram(0, 56);
    v6->data[7] = 2;
    g_assert_cmpint(tt_sflow_check(v6->data, v6->len), ==, TT_WIRE_SHORT_HEADER);

    /* more samples than the translator's 64 KiB output holds */
    g_autoptr(GByteArray) many = sflow_dgram(400, 56);
    g_assert_cmpint(tt_sflow_check(many->data, many->len), ==, TT_WIRE_TOO_BIG);

    /* an enterprise sample format: the translator refuses it before reading on */
    g_autoptr(GByteArray) ent = sflow_dgram(1, 56);
    ent->data[28 + 1] = 0x01;
    g_assert_cmpint(tt_sflow_check(ent->data, ent->len), ==, TT_WIRE_OK);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/wire/ipfix/valid", test_ipfix_valid);
    g_test_add_func("/wire/ipfix/short-header", test_ipfix_short_header);
    g_test_add_func("/wire/ipfix/bad-version", test_ipfix_bad_version);
    g_test_add_func("/wire/ipfix/length-beyond-datagram", test_ipfix_length_beyond);
    g_test_add_func("/wire/ipfix/length-short-of-datagram", test_ipfix_length_short);
    g_test_add_data_func("/wire/ipfix/set-length-0", GUINT_TO_POINTER(0), test_ipfix_set_length);
    g_test_add_data_func("/wire/ipfix/set-length-3", GUINT_TO_POINTER(3), test_ipfix_set_length);
    g_test_add_func("/wire/ipfix/set-tail-3-bytes", test_ipfix_set_tail);
    g_test_add_func("/wire/ipfix/set-past-message", test_ipfix_set_past_message);
    g_test_add_data_func("/wire/ipfix/reserved-set-0", GUINT_TO_POINTER(0),
                         test_ipfix_reserved_set);
    g_test_add_data_func("/wire/ipfix/reserved-set-1", GUINT_TO_POINTER(1),
                         test_ipfix_reserved_set);
    g_test_add_data_func("/wire/ipfix/reserved-set-4", GUINT_TO_POINTER(4),
                         test_ipfix_reserved_set);
    g_test_add_data_func("/wire/ipfix/reserved-set-255", GUINT_TO_POINTER(255),
                         test_ipfix_reserved_set);
    g_test_add_func("/wire/ipfix/template-truncated", test_ipfix_template_truncated);
    g_test_add_func("/wire/ipfix/enterprise-bit-without-pen", test_ipfix_enterprise_no_pen);
    g_test_add_func("/wire/ipfix/template-id-255", test_ipfix_template_id_255);
    g_test_add_func("/wire/ipfix/options-scope-0", test_ipfix_options_scope_0);
    g_test_add_func("/wire/ipfix/options-scope-above-fields", test_ipfix_options_scope_too_big);
    g_test_add_func("/wire/ipfix/withdrawal", test_ipfix_withdrawal);
    g_test_add_func("/wire/ipfix/cursors", test_ipfix_cursors);
    g_test_add_func("/wire/ipfix/stream-frame", test_ipfix_stream_frame);
    g_test_add_func("/wire/reason-keys", test_reason_keys);

    g_test_add_func("/wire/v9/rewrite", test_v9_rewrite);
    g_test_add_func("/wire/v9/short-header", test_v9_short_header);
    g_test_add_func("/wire/v9/bad-version", test_v9_bad_version);
    g_test_add_func("/wire/v9/header-only", test_v9_header_only);
    g_test_add_func("/wire/v9/flowset-length-0", test_v9_flowset_length_0);
    g_test_add_func("/wire/v9/options-scope-length-0", test_v9_options_scope_0);
    g_test_add_func("/wire/v9/options-nonzero-padding", test_v9_options_nonzero_padding);
    g_test_add_func("/wire/v9/options-lengths", test_v9_options_lengths);
    g_test_add_func("/wire/v9/template-checks", test_v9_template_checks);
    g_test_add_func("/wire/v9/flowset-past-datagram", test_v9_flowset_past_datagram);
    g_test_add_func("/wire/v9/reserved-flowset-5", test_v9_reserved_flowset);
    g_test_add_func("/wire/v9/zero-filled-tail", test_v9_zero_tail);
    g_test_add_func("/wire/v9/too-big", test_v9_too_big);

    g_test_add_func("/wire/sflow/checks", test_sflow);
    g_test_add_func("/wire/fuzz/ipfix-mutations", test_fuzz_ipfix);
    g_test_add_func("/wire/fuzz/v9-mutations", test_fuzz_v9);

    return g_test_run();
}
