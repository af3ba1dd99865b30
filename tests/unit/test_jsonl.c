/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_jsonl.c - the real jsonl.so, loaded by the real loader, driven through a
 * fake host whose submit() runs a real tt_writer thread.
 *
 * Feeds TCP, UDP, ICMP, ICMPv6 and GRE flows from several countries (one
 * sampled, one with an invalid country), two sensors, a late record carried by
 * the next bucket and one written at fini; then reads the file back and checks
 * every line, their order, and that per dimension the lines sum to the input.
 * Also: unknown and missing keys, and a path relative to the data directory;
 * a bucket whose lines cannot be appended is reported to the host (ABI 1.4).
 * A closed bucket costs what it touched: a bucket after a dense one (in the
 * recycled accumulator) writes only its own lines, and 20 000 buckets of one
 * to three flows, queued behind a held writer, fault in no fresh pages.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>

#include "test_support.h"

#define A_START 1699999800 /* aligned to 300 s */

typedef struct fixture {
    tt_test_host th;
    /* What was fed, per dimension: flows, packets, bytes. */
    guint64 fed[3];
} fixture;

static const char *sensor_names[] = {"tokyo-1", "osaka \"2\""};

static void fixture_setup(fixture *fx, const char *path_value)
{
    tt_test_host_setup(&fx->th, "jsonl", sensor_names, G_N_ELEMENTS(sensor_names));
    if (path_value != NULL)
        g_key_file_set_string(fx->th.config, "plugin:jsonl", "path", path_value);
}

/* Unload the plugin (fini queues its last job), then drain the writer. */
static void fixture_teardown(fixture *fx)
{
    tt_test_host_teardown(&fx->th);
}

static tt_flow mkflow(uint8_t proto, uint16_t port, const char *cc, uint64_t packets,
                      uint64_t bytes, uint32_t sampling)
{
    tt_flow f = {0};
    f.start_ms = (int64_t)A_START * 1000 + 1000;
    f.end_ms = f.start_ms + 10;
    f.proto = proto;
    f.dst_port = port;
    f.family = 4;
    f.sampling = sampling;
    f.raw_packets = packets / sampling;
    f.raw_bytes = bytes / sampling;
    f.packets = packets;
    f.bytes = bytes;
    memcpy(f.country, cc, 2);
    return f;
}

static void feed(fixture *fx, void *acc, const tt_flow *f)
{
    fx->th.plugin->info->on_flow(fx->th.plugin->state, acc, f);
    fx->fed[0]++;
    fx->fed[1] += f->packets;
    fx->fed[2] += f->bytes;
}

static void feed_late(fixture *fx, const tt_flow *f, const tt_bucket *b)
{
    fx->th.plugin->info->on_late_flow(fx->th.plugin->state, f, b);
    fx->fed[0]++;
    fx->fed[1] += f->packets;
    fx->fed[2] += f->bytes;
}

static char *line(gint64 start, const char *sensor_json, const char *dim, const char *key,
                  guint64 flows, guint64 packets, guint64 bytes, gboolean late)
{
    return g_strdup_printf(
        "{\"start\":%" G_GINT64_FORMAT ",\"end\":%" G_GINT64_FORMAT
        ",\"sensor\":\"%s\",\"dim\":\"%s\",\"key\":\"%s\",\"flows\":%" G_GUINT64_FORMAT
        ",\"packets\":%" G_GUINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT "%s}",
        start, start + 300, sensor_json, dim, key, flows, packets, bytes,
        late ? ",\"late\":true" : "");
}

static char **read_lines(const char *path)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(text[0] == '\0' || g_str_has_suffix(text, "\n"));
    /* g_strsplit finds each delimiter with strstr, whose ASan interceptor measures the
     * whole rest of the text first: quadratic, minutes for sparse-cost's 60 000 lines */
    char **lines = g_strsplit_set(text, "\n", -1);
    /* The split leaves an empty string after the last newline: drop it. */
    guint n = g_strv_length(lines);
    if (n == 0)
        return lines;
    g_assert_cmpstr(lines[n - 1], ==, "");
    g_free(lines[n - 1]);
    lines[n - 1] = NULL;
    return lines;
}

/* Per dimension, the flows/packets/bytes members of all lines must sum to the input. */
static void check_sums(char **lines, const guint64 fed[3])
{
    static const char *dims[] = {"total", "port", "country"};
    g_autoptr(GRegex) re = g_regex_new("\"dim\":\"([a-z]+)\",\"key\":\"[^\"]+\",\"flows\":([0-9]+),"
                                       "\"packets\":([0-9]+),\"bytes\":([0-9]+)",
                                       0, 0, NULL);
    guint64 sum[3][3] = {{0}};

    for (guint i = 0; lines[i] != NULL; i++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_assert_true(g_regex_match(re, lines[i], 0, &m));
        g_autofree char *dim = g_match_info_fetch(m, 1);
        guint d = 0;
        while (d < 3 && g_strcmp0(dim, dims[d]) != 0)
            d++;
        g_assert_cmpuint(d, <, 3);
        for (guint k = 0; k < 3; k++) {
            g_autofree char *num = g_match_info_fetch(m, 2 + (gint)k);
            sum[d][k] += g_ascii_strtoull(num, NULL, 10);
        }
    }
    for (guint d = 0; d < 3; d++) {
        for (guint k = 0; k < 3; k++)
            g_assert_cmpuint(sum[d][k], ==, fed[k]);
    }
}

static void test_lines(void)
{
    fixture fx = {0};
    g_autoptr(GError) error = NULL;
    fixture_setup(&fx, "out.jsonl");
    g_assert_true(tt_plugin_init(fx.th.plugin, &fx.th.host, fx.th.config, &error));
    g_assert_no_error(error);
    const tt_plugin_info *info = fx.th.plugin->info;
    void *st = fx.th.plugin->state;

    tt_bucket a = {.start = A_START, .end = A_START + 300, .sensor = 0, .sensor_name = "tokyo-1"};
    tt_bucket b = {.start = A_START, .end = A_START + 300, .sensor = 1, .sensor_name = NULL};
    tt_bucket c = {
        .start = A_START + 300, .end = A_START + 600, .sensor = 0, .sensor_name = "tokyo-1"};
    tt_flow f;

    void *acc_a = info->bucket_open(st, &a);
    void *acc_b = info->bucket_open(st, &b);
    for (int i = 0; i < 3; i++)
        feed(&fx, acc_a, (f = mkflow(TT_PROTO_TCP, 23, "RU", 1, 40, 1), &f));
    feed(&fx, acc_a, (f = mkflow(TT_PROTO_TCP, 23, "CN", 10, 400, 10), &f));
    feed(&fx, acc_a, (f = mkflow(TT_PROTO_TCP, 445, "US", 1, 48, 1), &f));
    feed(&fx, acc_a, (f = mkflow(TT_PROTO_TCP, 65535, "US", 1, 40, 1), &f));
    feed(&fx, acc_a, (f = mkflow(TT_PROTO_UDP, 53, "RU", 1, 70, 1), &f));
    feed(&fx, acc_a, (f = mkflow(TT_PROTO_UDP, 53, "\0\0", 1, 60, 1), &f));
    feed(&fx, acc_a, (f = mkflow(TT_PROTO_ICMP, 8 * 256, "CN", 1, 84, 1), &f));
    feed(&fx, acc_a, (f = mkflow(TT_PROTO_ICMP, 3 * 256 + 3, "ZZ", 1, 56, 1), &f));
    feed(&fx, acc_a, (f = mkflow(TT_PROTO_ICMP6, 128 * 256, "JP", 2, 208, 1), &f));
    feed(&fx, acc_a, (f = mkflow(47, 0, "RU", 1, 100, 1), &f));
    feed(&fx, acc_b, (f = mkflow(TT_PROTO_TCP, 22, "DE", 1, 60, 1), &f));
    info->bucket_close(st, acc_a, &a);
    info->bucket_close(st, acc_b, &b);
    /* Let A's accumulator come back to the spares, so C reuses it and must start clean. */
    tt_writer_flush(fx.th.writer);

    feed_late(&fx, (f = mkflow(TT_PROTO_TCP, 23, "RU", 1, 40, 1), &f), &a);
    void *acc_c = info->bucket_open(st, &c);
    feed(&fx, acc_c, (f = mkflow(TT_PROTO_UDP, 123, "FR", 1, 76, 1), &f));
    info->bucket_close(st, acc_c, &c);
    /* Late after the last close: nothing carries it but fini. */
    feed_late(&fx, (f = mkflow(47, 0, "BR", 3, 300, 3), &f), &c);

    tt_plugin_free(g_steal_pointer(&fx.th.plugin));
    tt_writer_flush(fx.th.writer);

    g_autofree char *path = g_build_filename(fx.th.data_dir, "out.jsonl", NULL);
    g_auto(GStrv) lines = read_lines(path);

    const char *t = "tokyo-1";
    char *expected[] = {
        /* A, total, then ports by protocol number (1, 6, 17, 47, 58), then countries. */
        line(A_START, t, "total", "all", 12, 22, 1186, FALSE),
        line(A_START, t, "port", "icmp", 2, 2, 140, FALSE),
        line(A_START, t, "port", "23/tcp", 4, 13, 520, FALSE),
        line(A_START, t, "port", "445/tcp", 1, 1, 48, FALSE),
        line(A_START, t, "port", "65535/tcp", 1, 1, 40, FALSE),
        line(A_START, t, "port", "53/udp", 2, 2, 130, FALSE),
        line(A_START, t, "port", "proto-47", 1, 1, 100, FALSE),
        line(A_START, t, "port", "icmp6", 1, 2, 208, FALSE),
        line(A_START, t, "country", "CN", 2, 11, 484, FALSE),
        line(A_START, t, "country", "JP", 1, 2, 208, FALSE),
        line(A_START, t, "country", "RU", 5, 5, 290, FALSE),
        line(A_START, t, "country", "US", 2, 2, 88, FALSE),
        line(A_START, t, "country", "ZZ", 2, 2, 116, FALSE),
        /* B: the sensor name came from host->sensor_name and is JSON-escaped. */
        line(A_START, "osaka \\\"2\\\"", "total", "all", 1, 1, 60, FALSE),
        line(A_START, "osaka \\\"2\\\"", "port", "22/tcp", 1, 1, 60, FALSE),
        line(A_START, "osaka \\\"2\\\"", "country", "DE", 1, 1, 60, FALSE),
        /* The late record for A, carried by C's job ahead of C's lines. */
        line(A_START, t, "total", "all", 1, 1, 40, TRUE),
        line(A_START, t, "port", "23/tcp", 1, 1, 40, TRUE),
        line(A_START, t, "country", "RU", 1, 1, 40, TRUE),
        line(A_START + 300, t, "total", "all", 1, 1, 76, FALSE),
        line(A_START + 300, t, "port", "123/udp", 1, 1, 76, FALSE),
        line(A_START + 300, t, "country", "FR", 1, 1, 76, FALSE),
        /* Written at fini. */
        line(A_START + 300, t, "total", "all", 1, 3, 300, TRUE),
        line(A_START + 300, t, "port", "proto-47", 1, 3, 300, TRUE),
        line(A_START + 300, t, "country", "BR", 1, 3, 300, TRUE),
        NULL,
    };

    for (guint i = 0; expected[i] != NULL || lines[i] != NULL; i++) {
        g_assert_nonnull(lines[i]);
        g_assert_nonnull(expected[i]);
        g_assert_cmpstr(lines[i], ==, expected[i]);
    }
    /* The format itself, spelled out once. */
    g_assert_cmpstr(lines[0], ==,
                    "{\"start\":1699999800,\"end\":1700000100,\"sensor\":\"tokyo-1\",\"dim\":"
                    "\"total\",\"key\":\"all\",\"flows\":12,\"packets\":22,\"bytes\":1186}");
    check_sums(lines, fx.fed);

    for (guint i = 0; expected[i] != NULL; i++)
        g_free(expected[i]);
    fixture_teardown(&fx);
}

static void test_empty_bucket(void)
{
    fixture fx = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *abs = NULL;
    fixture_setup(&fx, NULL);
    abs = g_build_filename(fx.th.data_dir, "abs.jsonl", NULL);
    g_key_file_set_string(fx.th.config, "plugin:jsonl", "path", abs);
    g_assert_true(tt_plugin_init(fx.th.plugin, &fx.th.host, fx.th.config, &error));

    tt_bucket a = {.start = A_START, .end = A_START + 300, .sensor = 0, .sensor_name = "tokyo-1"};
    void *acc = fx.th.plugin->info->bucket_open(fx.th.plugin->state, &a);
    fx.th.plugin->info->bucket_close(fx.th.plugin->state, acc, &a);
    tt_writer_flush(fx.th.writer);

    /* init created the file (a bad path fails at start-up); an empty bucket adds nothing. */
    g_auto(GStrv) lines = read_lines(abs);
    g_assert_cmpuint(g_strv_length(lines), ==, 0);
    fixture_teardown(&fx);
}

static void test_relative_path(void)
{
    fixture fx = {0};
    g_autoptr(GError) error = NULL;
    fixture_setup(&fx, "sub/dir/rel.jsonl");
    g_assert_true(tt_plugin_init(fx.th.plugin, &fx.th.host, fx.th.config, &error));
    g_assert_no_error(error);

    tt_bucket a = {.start = A_START, .end = A_START + 300, .sensor = 0, .sensor_name = "tokyo-1"};
    tt_flow f = mkflow(TT_PROTO_TCP, 80, "NL", 2, 120, 1);
    void *acc = fx.th.plugin->info->bucket_open(fx.th.plugin->state, &a);
    feed(&fx, acc, &f);
    fx.th.plugin->info->bucket_close(fx.th.plugin->state, acc, &a);
    tt_writer_flush(fx.th.writer);

    g_autofree char *path = g_build_filename(fx.th.data_dir, "sub", "dir", "rel.jsonl", NULL);
    g_auto(GStrv) lines = read_lines(path);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    g_autofree char *want = line(A_START, "tokyo-1", "port", "80/tcp", 1, 2, 120, FALSE);
    g_assert_cmpstr(lines[1], ==, want);
    check_sums(lines, fx.fed);
    fixture_teardown(&fx);
}

/*
 * The file stays open between buckets, but logrotate's move-and-create is
 * followed: after a rename the next bucket goes to a new file at the path and
 * nothing more to the moved one.
 */
static void test_rotated(void)
{
    fixture fx = {0};
    g_autoptr(GError) error = NULL;
    fixture_setup(&fx, "rot.jsonl");
    g_assert_true(tt_plugin_init(fx.th.plugin, &fx.th.host, fx.th.config, &error));
    g_autofree char *path = g_build_filename(fx.th.data_dir, "rot.jsonl", NULL);
    g_autofree char *moved = g_build_filename(fx.th.data_dir, "rot.jsonl.1", NULL);
    for (int i = 0; i < 2; i++) {
        tt_bucket b = {.start = A_START + 300 * i,
                       .end = A_START + 300 * (i + 1),
                       .sensor = 0,
                       .sensor_name = "tokyo-1"};
        tt_flow f = mkflow(TT_PROTO_TCP, (uint16_t)(80 + i), "NL", 2, 120, 1);
        void *acc = fx.th.plugin->info->bucket_open(fx.th.plugin->state, &b);
        fx.th.plugin->info->on_flow(fx.th.plugin->state, acc, &f);
        fx.th.plugin->info->bucket_close(fx.th.plugin->state, acc, &b);
        tt_writer_flush(fx.th.writer);
        if (i == 0)
            g_assert_cmpint(g_rename(path, moved), ==, 0);
    }
    g_auto(GStrv) old = read_lines(moved);
    g_auto(GStrv) cur = read_lines(path);
    g_assert_cmpuint(g_strv_length(old), ==, 3);
    g_assert_cmpuint(g_strv_length(cur), ==, 3);
    g_autofree char *want_old = line(A_START, "tokyo-1", "port", "80/tcp", 1, 2, 120, FALSE);
    g_autofree char *want_cur = line(A_START + 300, "tokyo-1", "port", "81/tcp", 1, 2, 120, FALSE);
    g_assert_cmpstr(old[1], ==, want_old);
    g_assert_cmpstr(cur[1], ==, want_cur);
    fixture_teardown(&fx);
}

static void expect_init_error(const char *key, const char *value, const char *needle)
{
    fixture fx = {0};
    g_autoptr(GError) error = NULL;
    fixture_setup(&fx, "out.jsonl");
    if (key != NULL)
        g_key_file_set_string(fx.th.config, "plugin:jsonl", key, value);
    else
        g_key_file_remove_key(fx.th.config, "plugin:jsonl", "path", NULL);

    g_assert_false(tt_plugin_init(fx.th.plugin, &fx.th.host, fx.th.config, &error));
    g_assert_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_INIT);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "jsonl"));
    g_assert_nonnull(strstr(error->message, needle));
    fixture_teardown(&fx);
}

static void test_unknown_key(void)
{
    expect_init_error("frob", "1", "[plugin:jsonl] frob: unknown key");
}

static void test_missing_path(void)
{
    expect_init_error(NULL, NULL, "[plugin:jsonl] path:");
    expect_init_error("path", "  ", "[plugin:jsonl] path:");
}

static void test_unwritable_path(void)
{
    /* A directory where the file should be: refused at init, with the path named. */
    expect_init_error("path", "/", "[plugin:jsonl] path: cannot open");
}

static GPtrArray *job_failures; /* what fake_job_failed was told (writer thread) */

static void fake_job_failed(const tt_host *host, const char *message)
{
    (void)host;
    g_ptr_array_add(job_failures, g_strdup(message));
}

/* The file turned into a directory after init: the bucket's job reports its lost lines. */
static void test_failed_write(void)
{
    fixture fx = {0};
    g_autoptr(GError) error = NULL;
    fixture_setup(&fx, "lost.jsonl");
    fx.th.host.job_failed = fake_job_failed;
    job_failures = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(tt_plugin_init(fx.th.plugin, &fx.th.host, fx.th.config, &error));
    g_autofree char *file = g_build_filename(fx.th.data_dir, "lost.jsonl", NULL);
    g_assert_cmpint(g_unlink(file), ==, 0);
    g_assert_cmpint(g_mkdir(file, 0755), ==, 0);

    tt_bucket a = {.start = A_START, .end = A_START + 300, .sensor = 0, .sensor_name = "tokyo-1"};
    tt_flow f = mkflow(TT_PROTO_TCP, 23, "JP", 1, 40, 1);
    void *acc = fx.th.plugin->info->bucket_open(fx.th.plugin->state, &a);
    fx.th.plugin->info->on_flow(fx.th.plugin->state, acc, &f);
    fx.th.plugin->info->bucket_close(fx.th.plugin->state, acc, &a);
    tt_writer_flush(fx.th.writer);

    g_assert_cmpuint(job_failures->len, ==, 1);
    const char *msg = g_ptr_array_index(job_failures, 0);
    g_test_message("job_failed: %s", msg);
    g_assert_true(g_str_has_prefix(msg, "jsonl: cannot open "));
    g_assert_nonnull(strstr(msg, "lost.jsonl for appending: Is a directory"));
    fixture_teardown(&fx);
    g_ptr_array_free(job_failures, TRUE);
    job_failures = NULL;
}

/*
 * A bucket of 30 000 TCP and 30 000 UDP ports, then a bucket of two flows:
 * the second reuses the first's accumulator and writes its own four lines.
 */
static void test_recycled_clean(void)
{
    fixture fx = {0};
    g_autoptr(GError) error = NULL;
    fixture_setup(&fx, "out.jsonl");
    g_assert_true(tt_plugin_init(fx.th.plugin, &fx.th.host, fx.th.config, &error));
    const tt_plugin_info *info = fx.th.plugin->info;
    void *st = fx.th.plugin->state;

    tt_bucket a = {.start = A_START, .end = A_START + 300, .sensor = 0, .sensor_name = "tokyo-1"};
    void *dense = info->bucket_open(st, &a);
    for (guint i = 0; i < 60000; i++) {
        tt_flow f = mkflow(i % 2 ? TT_PROTO_UDP : TT_PROTO_TCP, (uint16_t)(i / 2),
                           i % 3 ? "RU" : "US", 1, 40, 1);
        feed(&fx, dense, &f);
    }
    info->bucket_close(st, dense, &a);
    tt_writer_flush(fx.th.writer);

    tt_bucket b = {
        .start = A_START + 300, .end = A_START + 600, .sensor = 0, .sensor_name = "tokyo-1"};
    void *acc = info->bucket_open(st, &b);
    g_assert_true(acc == dense);
    tt_flow f1 = mkflow(TT_PROTO_TCP, 23, "CN", 3, 180, 1);
    tt_flow f2 = mkflow(TT_PROTO_TCP, 23, "CN", 1, 60, 1);
    feed(&fx, acc, &f1);
    feed(&fx, acc, &f2);
    info->bucket_close(st, acc, &b);
    tt_writer_flush(fx.th.writer);

    g_autofree char *path = g_build_filename(fx.th.data_dir, "out.jsonl", NULL);
    g_auto(GStrv) lines = read_lines(path);
    guint n = g_strv_length(lines);
    g_assert_cmpuint(n, ==, 1 + 60000 + 2 + 3);
    g_autofree char *total = line(A_START + 300, "tokyo-1", "total", "all", 2, 4, 240, FALSE);
    g_autofree char *port = line(A_START + 300, "tokyo-1", "port", "23/tcp", 2, 4, 240, FALSE);
    g_autofree char *cc = line(A_START + 300, "tokyo-1", "country", "CN", 2, 4, 240, FALSE);
    g_assert_cmpstr(lines[n - 3], ==, total);
    g_assert_cmpstr(lines[n - 2], ==, port);
    g_assert_cmpstr(lines[n - 1], ==, cc);
    check_sums(lines, fx.fed);
    fixture_teardown(&fx);
}

/*
 * A sparse replay's shape while the writer lags: rounds of 2 000 buckets of
 * one to three flows queue behind a held writer, then drain. The old plugin
 * handed each queued bucket its own fresh 3 MiB accumulator and walked its
 * 131 072 port slots on the writer (~770 page faults a bucket, 15 million in
 * all); now the queue holds what the buckets touched and the one accumulator
 * is recycled.
 */
static void test_sparse_cost(void)
{
    fixture fx = {0};
    g_autoptr(GError) error = NULL;
    fixture_setup(&fx, "out.jsonl");
    g_assert_true(tt_plugin_init(fx.th.plugin, &fx.th.host, fx.th.config, &error));
    const tt_plugin_info *info = fx.th.plugin->info;
    void *st = fx.th.plugin->state;
    const guint rounds = 10, per_round = 2000, buckets = rounds * per_round;
    guint64 want_lines = 0;
    long before = 0;

    for (guint r = 0; r <= rounds; r++) {
        if (r == 1) /* the first round warms the heap, the file and the writer up */
            before = tt_test_minflt();
        tt_test_gate g;
        tt_test_gate_hold(&g, fx.th.writer);
        for (guint i = 0; i < per_round; i++) {
            guint k = r * per_round + i;
            tt_bucket b = {.start = A_START + (gint64)k * 300,
                           .end = A_START + (gint64)k * 300 + 300,
                           .sensor = 0,
                           .sensor_name = "tokyo-1"};
            void *acc = info->bucket_open(st, &b);
            guint m = 1 + k % 3;
            for (guint j = 0; j < m; j++) {
                tt_flow f = mkflow(j == 2 ? TT_PROTO_UDP : TT_PROTO_TCP,
                                   (uint16_t)(k * 7 + j * 1000), j ? "RU" : "US", 1, 40, 1);
                feed(&fx, acc, &f);
            }
            info->bucket_close(st, acc, &b);
            want_lines += 1 + m + (m > 1 ? 2 : 1);
        }
        tt_test_gate_release(&g, fx.th.writer);
    }
    long faults = tt_test_minflt() - before;
    g_test_message("%u sparse buckets: %ld minor page faults", buckets, faults);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's allocator (quarantine, shadow) faults pages in on its own: the plain
     * build's run of this test is the one that checks the faults */
    (void)faults;
#else
    g_assert_cmpint(faults, <, (long)buckets / 10);
#endif

    g_autofree char *path = g_build_filename(fx.th.data_dir, "out.jsonl", NULL);
    g_auto(GStrv) lines = read_lines(path);
    g_assert_cmpuint(g_strv_length(lines), ==, want_lines);
    check_sums(lines, fx.fed);
    fixture_teardown(&fx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autofree char *so = g_build_filename(TT_TEST_PLUGIN_DIR, "jsonl.so", NULL);
    if (!g_file_test(so, G_FILE_TEST_EXISTS)) {
        g_printerr("%s not built; skipping\n", so);
        return 77;
    }
    g_test_add_func("/jsonl/lines", test_lines);
    g_test_add_func("/jsonl/empty-bucket", test_empty_bucket);
    g_test_add_func("/jsonl/relative-path", test_relative_path);
    g_test_add_func("/jsonl/rotated", test_rotated);
    g_test_add_func("/jsonl/unknown-key", test_unknown_key);
    g_test_add_func("/jsonl/missing-path", test_missing_path);
    g_test_add_func("/jsonl/unwritable-path", test_unwritable_path);
    g_test_add_func("/jsonl/recycled-clean", test_recycled_clean);
    g_test_add_func("/jsonl/failed-write", test_failed_write);
    g_test_add_func("/jsonl/sparse-cost", test_sparse_cost);
    return g_test_run();
}
