/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fastdecode.c - the decode fast path against libfixbuf: the differential test.
 *
 * Every input is decoded twice, by a fresh decoder each time: once with the
 * fast path off (libfixbuf reads every record, as before it existed), once
 * with it on. Every tt_flow the sink receives must be the same, field by
 * field and in the same order, with the same exporter and domain, and every
 * exporter's counters (and the retired totals) must end the same. Inputs:
 * every UDP datagram of every capture in the shared flowdata folder (IPFIX
 * and NetFlow v9; skipped with the path looked for when it is absent), and
 * the fuzz corpora: tests/fuzz/regressions and what tests/fuzz/make_corpus.py
 * builds (the captures' datagrams in the fuzz harness's record format, the
 * capture bundles, flowgen's IPFIX file and v9 run, IPFIX files cut at message
 * boundaries). One decoder at a time: decode.c's log filter (libfixbuf's
 * "missing template" warnings, counted) is process-wide.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "decode.h"
#include "pcap_reader.h"

static const char config_text[] = "[collector]\n"
                                  "listen = ipfix+udp://127.0.0.1:4739\n"
                                  "data-dir = /nonexistent/teiten-fastdecode\n"
                                  "export-time-tolerance = 600\n"
                                  "\n"
                                  "[sensor:all]\n"
                                  "exporters = 0.0.0.0/0; ::/0\n"
                                  "darknet = 0.0.0.0/0; ::/0\n";

typedef enum { IN_IPFIX, IN_V9, IN_FILE } in_path;

/* One thing to feed: a datagram from a peer, or a whole IPFIX file. */
typedef struct {
    in_path path;
    struct sockaddr_in6 peer; /* IPv4 peers IPv4-mapped: one family for every peer */
    GBytes *data;
} in_item;

static void in_item_free(gpointer p)
{
    in_item *it = p;
    g_bytes_unref(it->data);
    g_free(it);
}

static void add_item(GPtrArray *items, in_path path, const uint8_t addr[16], uint16_t port,
                     const uint8_t *data, size_t len)
{
    in_item *it = g_new0(in_item, 1);
    it->path = path;
    it->peer.sin6_family = AF_INET6;
    memcpy(&it->peer.sin6_addr, addr, 16);
    it->peer.sin6_port = htons(port);
    it->data = g_bytes_new(data, len);
    g_ptr_array_add(items, it);
}

/* What the sink got, in mode "libfixbuf"; mode "fast" compares against it. */
typedef struct {
    tt_flow flow;
    uint32_t domain;
    char label[96];
} got_flow;

typedef struct {
    gboolean fast;
    GArray *flows; /* got_flow, filled by the libfixbuf run */
    guint next;    /* the fast run's position in it */
    guint mismatches;
    const char *what;
} run_state;

static gboolean flow_same(const tt_flow *a, const tt_flow *b, GString *why)
{
#define SAME(field)                                                                                \
    if (a->field != b->field)                                                                      \
    g_string_append_printf(why, " " #field " %lld != %lld", (long long)a->field,                   \
                           (long long)b->field)
    SAME(start_ms);
    SAME(end_ms);
    SAME(packets);
    SAME(bytes);
    SAME(raw_packets);
    SAME(raw_bytes);
    SAME(src_port);
    SAME(dst_port);
    SAME(family);
    SAME(proto);
    SAME(tcp_flags);
    SAME(cls);
    SAME(sampling);
    SAME(sensor);
    SAME(has_dst);
    SAME(country[0]);
    SAME(country[1]);
#undef SAME
    if (memcmp(a->src, b->src, 16) != 0)
        g_string_append(why, " src");
    if (memcmp(a->dst, b->dst, 16) != 0)
        g_string_append(why, " dst");
    return why->len == 0;
}

static void sink(void *data, tt_exporter *e, uint32_t domain, tt_flow *flows, size_t n)
{
    run_state *rs = data;
    for (size_t i = 0; i < n; i++) {
        got_flow g;
        g.flow = flows[i];
        g.domain = domain;
        g_snprintf(g.label, sizeof g.label, "%d %s", (int)tt_exporter_kind(e),
                   tt_exporter_label(e));
        if (!rs->fast) {
            g_array_append_val(rs->flows, g);
            continue;
        }
        if (rs->next >= rs->flows->len) {
            if (rs->mismatches++ < 5)
                g_test_message("%s: fast path gave a flow past libfixbuf's %u", rs->what,
                               rs->flows->len);
            continue;
        }
        const got_flow *want = &g_array_index(rs->flows, got_flow, rs->next);
        g_autoptr(GString) why = g_string_new("");
        if (want->domain != domain)
            g_string_append_printf(why, " domain %u != %u", want->domain, domain);
        if (strcmp(want->label, g.label) != 0)
            g_string_append_printf(why, " exporter %s != %s", want->label, g.label);
        if (!flow_same(&want->flow, &g.flow, why) && rs->mismatches++ < 5)
            g_test_message("%s: flow %u (libfixbuf vs fast):%s", rs->what, rs->next, why->str);
        rs->next++;
    }
}

static uint32_t resolve_all(void *data, const uint8_t addr[16], uint32_t domain)
{
    (void)data;
    (void)addr;
    (void)domain;
    return 0;
}

static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)domain;
    (void)level;
    (void)message;
    (void)data;
}

/* Counters that must agree (not the host-clock ones: clock_offset_s, first/last_seen). */
static gboolean stats_same(const tt_exporter_stats *a, const tt_exporter_stats *b)
{
    return memcmp(a, b, G_STRUCT_OFFSET(tt_exporter_stats, clock_offset_s)) == 0 &&
           a->withdrawals_ignored == b->withdrawals_ignored && a->sampling == b->sampling;
}

typedef struct {
    GHashTable *stats; /* label -> tt_exporter_stats copy */
    gboolean fast;
    guint mismatches;
    const char *what;
} stats_walk;

static void stats_one(const tt_exporter *e, void *data)
{
    stats_walk *sw = data;
    const tt_exporter_stats *s = tt_exporter_get_stats(e);
    gchar *key = g_strdup_printf("%d %s", (int)tt_exporter_kind(e), tt_exporter_label(e));
    if (!sw->fast) {
        g_hash_table_insert(sw->stats, key, g_memdup2(s, sizeof *s));
        return;
    }
    const tt_exporter_stats *want = g_hash_table_lookup(sw->stats, key);
    g_free(key);
    if (want == NULL || !stats_same(want, s)) {
        sw->mismatches++;
        g_test_message(
            "%s: %s: counters differ (records %" G_GUINT64_FORMAT " vs %" G_GUINT64_FORMAT ")",
            sw->what, tt_exporter_label(e), want ? (guint64)want->records : 0, (guint64)s->records);
    }
}

static void feed_file(tt_decoder *d, const uint8_t *data, size_t len)
{
    static const uint8_t addr[16] = {0};
    tt_exporter *e = tt_decoder_exporter_private(d, TT_LISTEN_IPFIX_TCP, "file", addr, 1);
    size_t off = 0, msglen = 0;
    while (off < len && tt_ipfix_stream_frame(data + off, len - off, &msglen) == TT_WIRE_OK &&
           msglen <= len - off) {
        uint8_t *copy = g_memdup2(data + off, msglen); /* the decoder cuts in place */
        tt_decoder_ipfix(d, e, copy, msglen);
        g_free(copy);
        off += msglen;
    }
    tt_decoder_exporter_release(d, e);
}

/* Decode @a items with a fresh decoder; returns the records the fast path read. */
static uint64_t run(GPtrArray *items, run_state *rs, stats_walk *sw, tt_exporter_stats *retired)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(tt_config) config =
        tt_config_load_data(config_text, sizeof config_text - 1, "fast.conf", &error);
    g_assert_no_error(error);
    tt_decoder *d = tt_decoder_new(config, sink, rs, &error);
    g_assert_no_error(error);
    tt_decoder_set_resolver(d, resolve_all, NULL);
    tt_decoder_set_fast(d, rs->fast);
    for (guint i = 0; i < items->len; i++) {
        const in_item *it = g_ptr_array_index(items, i);
        gsize len = 0;
        const uint8_t *data = g_bytes_get_data(it->data, &len);
        if (it->path == IN_FILE) {
            feed_file(d, data, len);
            continue;
        }
        tt_exporter *e = tt_decoder_exporter(
            d, it->path == IN_IPFIX ? TT_LISTEN_IPFIX_UDP : TT_LISTEN_NF9_UDP, it->path,
            (const struct sockaddr *)&it->peer, sizeof it->peer, 1 + i);
        g_assert_nonnull(e);
        uint8_t *copy = g_memdup2(data, len); /* the decoder cuts in place */
        if (it->path == IN_IPFIX)
            tt_decoder_ipfix(d, e, copy, len);
        else
            tt_decoder_v9(d, e, copy, len);
        g_free(copy);
    }
    tt_decoder_foreach_exporter(d, stats_one, sw);
    *retired = *tt_decoder_retired_stats(d);
    uint64_t fast = tt_decoder_fast_records(d);
    tt_decoder_free(d);
    return fast;
}

/* Both runs over @a items; returns the fast path's share of the records in *fast, *all. */
static void differential(GPtrArray *items, const char *what, uint64_t *fast, uint64_t *all,
                         GArray **keep)
{
    run_state rs = {FALSE, g_array_new(FALSE, FALSE, sizeof(got_flow)), 0, 0, what};
    stats_walk sw = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), FALSE, 0,
                     what};
    tt_exporter_stats ret_a, ret_b;

    g_assert_cmpuint(run(items, &rs, &sw, &ret_a), ==, 0);
    rs.fast = sw.fast = TRUE;
    uint64_t n = run(items, &rs, &sw, &ret_b);
    if (rs.next != rs.flows->len)
        g_test_message("%s: libfixbuf gave %u flows, the fast path %u", what, rs.flows->len,
                       rs.next);
    if (!stats_same(&ret_a, &ret_b))
        g_test_message("%s: retired counters differ", what);
    g_assert_cmpuint(rs.mismatches, ==, 0);
    g_assert_cmpuint(rs.next, ==, rs.flows->len);
    g_assert_cmpuint(sw.mismatches, ==, 0);
    g_assert_true(stats_same(&ret_a, &ret_b));
    *fast += n;
    *all += rs.flows->len;
    if (keep != NULL)
        *keep = rs.flows; /* got_flow: what libfixbuf gave (and the fast path too) */
    else
        g_array_free(rs.flows, TRUE);
    g_hash_table_destroy(sw.stats);
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Every IPFIX and v9 datagram of every capture (pcap, pcapng) under @a dir. */
static void captures_under(const char *dir, uint64_t *fast, uint64_t *all, guint *files)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    if (d == NULL)
        return;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree gchar *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            captures_under(path, fast, all, files);
            continue;
        }
        if (!g_str_has_suffix(name, ".pcap") && !g_str_has_suffix(name, ".pcapng"))
            continue;
        g_autoptr(GPtrArray) dgs = tt_pcap_read_udp(path, NULL);
        if (dgs == NULL)
            continue;
        g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(in_item_free);
        for (guint i = 0; i < dgs->len; i++) {
            const tt_pcap_datagram *dg = g_ptr_array_index(dgs, i);
            unsigned version = dg->len >= 2 ? get16(dg->data) : 0;
            if (version == 10 || version == 9)
                add_item(items, version == 10 ? IN_IPFIX : IN_V9, dg->src, dg->sport, dg->data,
                         dg->len);
        }
        if (items->len == 0)
            continue;
        (*files)++;
        differential(items, name, fast, all, NULL);
    }
}

static void test_captures(void)
{
    g_autofree gchar *top = tt_pcap_flowdata_file(".");
    uint64_t fast = 0, all = 0;
    guint files = 0;

    if (top == NULL)
        return;
    captures_under(top, &fast, &all, &files);
    g_test_message("%u captures: %" G_GUINT64_FORMAT " flows, %" G_GUINT64_FORMAT
                   " records read by the fast path",
                   files, (guint64)all, (guint64)fast);
    g_assert_cmpuint(files, >, 10);
    g_assert_cmpuint(fast, >, 0);
}

/* The fuzz harness's record format (fuzz_common.h): selector, 16-bit length, payload. */
static void corpus_items(GPtrArray *items, in_path path, const uint8_t *data, size_t len)
{
    size_t off = 0;
    while (len - off >= 3) {
        uint8_t sel = data[off];
        size_t n = get16(data + off + 1);
        off += 3;
        if (n > len - off)
            n = len - off;
        guint peer = sel % 32u, listener = (peer >> 4) & 1;
        uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 0};
        addr[14] = (uint8_t)listener;
        addr[15] = (uint8_t)(1 + (peer & 7));
        add_item(items, path, addr, (uint16_t)(40000 + ((peer >> 3) & 1)), data + off, n);
        off += n;
    }
}

/* Every seed of one corpus directory, in name order, through one decoder per mode. */
static void corpus_dir(const char *dir, in_path path, uint64_t *fast, uint64_t *all, guint *seeds)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (d == NULL)
        return;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(in_item_free);
    for (guint i = 0; i < names->len; i++) {
        g_autofree gchar *p =
            g_build_filename(dir, (const char *)g_ptr_array_index(names, i), NULL);
        g_autofree gchar *blob = NULL;
        gsize len = 0;
        if (!g_file_get_contents(p, &blob, &len, NULL))
            continue;
        (*seeds)++;
        if (path == IN_FILE) {
            static const uint8_t none[16];
            add_item(items, IN_FILE, none, 0, (const uint8_t *)blob, len);
        } else {
            corpus_items(items, path, (const uint8_t *)blob, len);
        }
    }
    differential(items, dir, fast, all, NULL);
}

/* make_corpus.py's output: one level of directories of files. */
static void rm_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree gchar *p = g_build_filename(dir, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
            rm_tree(p);
        else
            g_unlink(p);
    }
    g_rmdir(dir);
}

static void corpus_set(const char *top, uint64_t *fast, uint64_t *all, guint *seeds)
{
    static const struct {
        const char *name;
        in_path path;
    } dirs[] = {{"ipfix", IN_IPFIX}, {"v9", IN_V9}, {"file", IN_FILE}};
    for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree gchar *dir = g_build_filename(top, dirs[i].name, NULL);
        corpus_dir(dir, dirs[i].path, fast, all, seeds);
    }
}

static void test_corpora(void)
{
    uint64_t fast = 0, all = 0;
    guint seeds = 0;
    g_autofree gchar *regressions = g_build_filename(TT_TEST_SRC_DIR, "fuzz", "regressions", NULL);
    corpus_set(regressions, &fast, &all, &seeds);

    g_autofree gchar *tmp = g_dir_make_tmp("teiten-fastdecode-XXXXXX", NULL);
    g_assert_nonnull(tmp);
    const char *env = g_getenv("TT_FLOWDATA");
    g_autofree gchar *flowdata =
        env != NULL && *env != '\0'
            ? g_strdup(env)
            : g_build_filename(TT_TEST_SRC_DIR, "..", "..", "shared", "flowdata", NULL);
    g_autofree gchar *script = g_build_filename(TT_TEST_SRC_DIR, "fuzz", "make_corpus.py", NULL);
    g_autofree gchar *src = g_build_filename(TT_TEST_SRC_DIR, "..", NULL);
    const char *argv[] = {"/usr/bin/python3", script,          "--out", tmp, "--flowdata", flowdata,
                          "--flowgen",        TT_TEST_FLOWGEN, "--src", src, NULL};
    gint status = 0;
    g_autoptr(GError) error = NULL;
    if (g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                     &status, &error) &&
        g_spawn_check_wait_status(status, &error))
        corpus_set(tmp, &fast, &all, &seeds);
    else
        g_test_message("make_corpus.py: %s; only the regressions ran", error->message);
    rm_tree(tmp);
    g_test_message("%u seeds: %" G_GUINT64_FORMAT " flows, %" G_GUINT64_FORMAT
                   " records read by the fast path",
                   seeds, (guint64)all, (guint64)fast);
    g_assert_cmpuint(seeds, >, 0);
}

/* ---- the 1-byte types sent widened ---------------------------------------- */

static void put16(GByteArray *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    g_byte_array_append(b, x, 2);
}

static void put32(GByteArray *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}

static void put64(GByteArray *b, uint64_t v)
{
    put32(b, (uint32_t)(v >> 32));
    put32(b, (uint32_t)v);
}

/* Starts a set (or the message header, @a id 0); widen_end() writes its length. */
static guint widen_begin(GByteArray *b, unsigned id)
{
    guint at = b->len;
    if (id == 0) {
        put16(b, 10);
        put16(b, 0);
        put32(b, 1700000000); /* export time */
        put32(b, 0);          /* sequence: not checked here */
        put32(b, 7);          /* domain */
    } else {
        put16(b, id);
        put16(b, 0);
    }
    return at;
}

static void widen_end(GByteArray *b, guint at)
{
    unsigned len = b->len - at;
    b->data[at + 2] = (uint8_t)(len >> 8);
    b->data[at + 3] = (uint8_t)len;
}

/* IE/length pairs of the two flow templates: the 1-byte types in 2 and 4 bytes. */
static const uint16_t widen_v4[][2] = {
    {152, 8}, {153, 8}, {2, 4},   {1, 4},   {8, 4},  {12, 4}, {4, 2},
    {7, 2},   {11, 2},  {176, 2}, {177, 4}, {60, 2}, {48, 4},
};
static const uint16_t widen_v6[][2] = {
    {152, 8}, {153, 8}, {2, 4}, {1, 4}, {27, 16}, {28, 16}, {4, 4}, {178, 2}, {179, 2}, {60, 8},
};
#define WIDEN_T4 256
#define WIDEN_T6 257
#define WIDEN_TOPT 258
#define WIDEN_START_MS (1700000000000ull - 5000)

static void widen_templates(GByteArray *b)
{
    guint set = widen_begin(b, 2);
    put16(b, WIDEN_T4);
    put16(b, G_N_ELEMENTS(widen_v4));
    for (size_t i = 0; i < G_N_ELEMENTS(widen_v4); i++) {
        put16(b, widen_v4[i][0]);
        put16(b, widen_v4[i][1]);
    }
    put16(b, WIDEN_T6);
    put16(b, G_N_ELEMENTS(widen_v6));
    for (size_t i = 0; i < G_N_ELEMENTS(widen_v6); i++) {
        put16(b, widen_v6[i][0]);
        put16(b, widen_v6[i][1]);
    }
    widen_end(b, set);
    /* options: samplerId in 2 bytes (scope), samplingInterval: 513 1-in-100, 514 1-in-1000 */
    set = widen_begin(b, 3);
    put16(b, WIDEN_TOPT);
    put16(b, 2);
    put16(b, 1);
    put16(b, 48);
    put16(b, 2);
    put16(b, 34);
    put16(b, 4);
    widen_end(b, set);
    set = widen_begin(b, WIDEN_TOPT);
    put16(b, 513);
    put32(b, 100);
    put16(b, 514); /* the last rate: what a flow without a samplerId (or a misread one) gets */
    put32(b, 1000);
    widen_end(b, set);
}

/* A v4 record: TCP 40000 -> 23 or ICMP echo (type 8, code 0), sampler 513 in 4 bytes. */
static void widen_v4_record(GByteArray *b, unsigned proto, unsigned i)
{
    put64(b, WIDEN_START_MS + i);
    put64(b, WIDEN_START_MS + 1000 + i);
    put32(b, 1);
    put32(b, 60);
    put32(b, 0xc0000201 + i); /* 192.0.2.1 */
    put32(b, 0xc6336401);     /* 198.51.100.1 */
    put16(b, proto);
    put16(b, proto == 1 ? 0 : 40000);
    put16(b, proto == 1 ? 0 : 23);
    put16(b, proto == 1 ? 8 : 0);
    put32(b, 0);
    put16(b, 4);
    put32(b, 513);
}

/* A v6 record: ICMPv6 echo (type 128, code 0), protocol in 4 bytes, ipVersion in 8. */
static void widen_v6_record(GByteArray *b)
{
    static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2};
    put64(b, WIDEN_START_MS);
    put64(b, WIDEN_START_MS + 1000);
    put32(b, 1);
    put32(b, 64);
    g_byte_array_append(b, src, 16);
    g_byte_array_append(b, dst, 16);
    put32(b, 58);
    put16(b, 128);
    put16(b, 0);
    put64(b, 6);
}

static void widen_add(GPtrArray *items, GByteArray *b)
{
    static const uint8_t addr[16] = {[10] = 0xff, [11] = 0xff, 127, 0, 0, 9};
    add_item(items, IN_IPFIX, addr, 4739, b->data, b->len);
}

/*
 * protocolIdentifier, ipVersion, the ICMP type and code and samplerId (1-byte
 * types: no endian flag in libfixbuf's info model) sent in 2, 4 and 8 bytes
 * are big-endian integers on both paths: the first message (templates,
 * options, data) is libfixbuf's on both runs, the second (data only) the fast
 * path's on the second. The sampler's ID is 2 bytes in the options record and
 * 4 in the flows: its rate applies only when both are read as integers.
 */
static void test_widened(void)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(in_item_free);
    for (int m = 0; m < 2; m++) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        guint msg = widen_begin(b, 0);
        if (m == 0)
            widen_templates(b);
        guint set = widen_begin(b, WIDEN_T4);
        widen_v4_record(b, 6, 0);
        widen_v4_record(b, 1, 1);
        widen_v4_record(b, 17, 2);
        widen_end(b, set);
        set = widen_begin(b, WIDEN_T6);
        widen_v6_record(b);
        widen_end(b, set);
        widen_end(b, msg);
        widen_add(items, b);
    }
    uint64_t fast = 0, all = 0;
    GArray *flows = NULL;
    differential(items, "widened", &fast, &all, &flows);
    g_assert_cmpuint(fast, ==, 4); /* the second message */
    g_assert_cmpuint(flows->len, ==, 8);
    for (guint i = 0; i < flows->len; i++) {
        const tt_flow *f = &g_array_index(flows, got_flow, i).flow;
        static const unsigned proto[] = {6, 1, 17, 58};
        static const unsigned dport[] = {23, 8 << 8, 23, 128 << 8};
        g_assert_cmpuint(f->proto, ==, proto[i % 4]);
        g_assert_cmpuint(f->dst_port, ==, dport[i % 4]);
        g_assert_cmpuint(f->src_port, ==, (i % 4 == 0 || i % 4 == 2 ? 40000 : 0));
        g_assert_cmpuint(f->family, ==, (i % 4 == 3 ? 6 : 4));
        /* the v4 template's samplerId 513 (4 bytes) is the options record's (2 bytes) */
        g_assert_cmpuint(f->sampling, ==, (i % 4 == 3 ? 1000 : 100));
        g_assert_cmpuint(f->raw_packets, ==, 1);
    }
    g_array_free(flows, TRUE);
}

/* A v9 header (record count @a count); widen_end() writes each flowset's length. */
static void widen_v9_begin(GByteArray *b, unsigned count)
{
    put16(b, 9);
    put16(b, count);
    put32(b, 100000);     /* sysUptime, ms */
    put32(b, 1700000000); /* export time */
    put32(b, 0);
    put32(b, 7); /* source ID */
}

/* A v9 record: PROTOCOL in 2 bytes, FLOW_SAMPLER_ID in 4, ICMP type (176) in 2. */
static void widen_v9_record(GByteArray *b, unsigned proto)
{
    put32(b, 95000); /* FIRST_SWITCHED */
    put32(b, 99000); /* LAST_SWITCHED */
    put32(b, 1);
    put32(b, 60);
    put32(b, 0xc0000201);
    put32(b, 0xc6336401);
    put16(b, proto);
    put16(b, proto == 1 ? 0 : 40000);
    put16(b, proto == 1 ? 0 : 23);
    put16(b, proto == 1 ? 3 : 0);
    put32(b, 513);
}

/* The same through NetFlow v9 (wire.c's rewrite), Cisco's 4-byte FLOW_SAMPLER_ID. */
static void test_widened_v9(void)
{
    static const uint16_t fields[][2] = {{22, 4}, {21, 4}, {2, 4},  {1, 4},   {8, 4}, {12, 4},
                                         {4, 2},  {7, 2},  {11, 2}, {176, 2}, {48, 4}};
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(in_item_free);
    static const uint8_t addr[16] = {[10] = 0xff, [11] = 0xff, 127, 0, 0, 9};
    for (int m = 0; m < 2; m++) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        widen_v9_begin(b, m == 0 ? 7 : 3);
        guint set;
        if (m == 0) {
            set = b->len; /* widen_begin(b, 0) is the IPFIX header */
            put16(b, 0);
            put16(b, 0);
            put16(b, 300);
            put16(b, G_N_ELEMENTS(fields));
            for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
                put16(b, fields[i][0]);
                put16(b, fields[i][1]);
            }
            widen_end(b, set);
            set = widen_begin(b, 1);
            put16(b, 301);
            put16(b, 4); /* scope: System, 4 bytes */
            put16(b, 8); /* FLOW_SAMPLER_ID in 2 bytes, FLOW_SAMPLER_RANDOM_INTERVAL in 4 */
            put16(b, 1), put16(b, 4);
            put16(b, 48), put16(b, 2);
            put16(b, 50), put16(b, 4);
            put16(b, 0); /* padding */
            widen_end(b, set);
            set = widen_begin(b, 301);
            put32(b, 0), put16(b, 513), put32(b, 100);
            put32(b, 0), put16(b, 514), put32(b, 1000);
            widen_end(b, set);
        }
        set = widen_begin(b, 300);
        widen_v9_record(b, 6);
        widen_v9_record(b, 1);
        widen_v9_record(b, 17);
        widen_end(b, set);
        add_item(items, IN_V9, addr, 2055, b->data, b->len);
    }
    uint64_t fast = 0, all = 0;
    GArray *flows = NULL;
    differential(items, "widened v9", &fast, &all, &flows);
    g_test_message("widened v9: %" G_GUINT64_FORMAT " records read by the fast path",
                   (guint64)fast);
    g_assert_cmpuint(flows->len, ==, 6);
    for (guint i = 0; i < flows->len; i++) {
        const tt_flow *f = &g_array_index(flows, got_flow, i).flow;
        static const unsigned proto[] = {6, 1, 17};
        static const unsigned dport[] = {23, 3 << 8, 23};
        g_assert_cmpuint(f->proto, ==, proto[i % 3]);
        g_assert_cmpuint(f->dst_port, ==, dport[i % 3]);
        g_assert_cmpuint(f->sampling, ==, 100);
    }
    g_array_free(flows, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* refused templates and libfixbuf's own warnings are expected here */
    g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
    g_log_set_handler("teitend", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO,
                      quiet, NULL);
    g_test_add_func("/fastdecode/captures", test_captures);
    g_test_add_func("/fastdecode/corpora", test_corpora);
    g_test_add_func("/fastdecode/widened", test_widened);
    g_test_add_func("/fastdecode/widened-v9", test_widened_v9);
    return g_test_run();
}
