/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core.c - the core's buckets and the sensor's watermark, without sockets.
 *
 * A real tt_core (real writer, real jsonl plugin, RRD store in a temporary
 * data dir) is fed hand-built NetFlow v5 datagrams through its own decoder,
 * as the listeners would feed it; what reached the plugins is read back from
 * the jsonl file (total lines: one per closed bucket), what was refused from
 * the sensor's statistics.
 * - a bucket closes once the watermark passes its end + grace, not before;
 * - a record behind a closed bucket is late (handed to on_late_flow), not lost;
 * - a record older than the watermark minus the longest archive is too_old;
 * - the sensor clock (docs/security.md, "Time policy"): a jump from a UDP
 *   source is held until corroborated; a second source jumping ahead too
 *   (an exporter back from an outage, then a new process) keeps what the
 *   first held; a far-future record held from a third source is refused when
 *   the jump is corroborated, because it lies beyond the corroborated window.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "core.h"
#include "decode.h"
#include "test_support.h"

#define T0 1546300800 /* 2019-01-01T00:00:00Z */
#define DAY 86400
#define UPTIME 1000000000u /* ms: a record may start up to 11 days before its export */

typedef struct fixture {
    char *dir;
    tt_core *core;
    uint32_t sensor;
} fixture;

static void put8(GByteArray *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    g_byte_array_append(b, &x, 1);
}

static void put16(GByteArray *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v & 0xff);
}

static void put32(GByteArray *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}

static void fixture_setup(fixture *fx, guint grace, const char *extra)
{
    g_autoptr(GError) error = NULL;
    fx->dir = g_dir_make_tmp("test_core.XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *text = g_strdup_printf(
        "[collector]\nlisten = netflow5+udp://127.0.0.1:2055\ndata-dir = %s\nplugin-dir = %s\n"
        "step = 300\ngrace = %u\n%s\n"
        "[sensor:s]\nexporters = 127.0.0.1; 127.0.0.2\ndarknet = 203.0.113.0/24\n"
        "[plugin:jsonl]\npath = flows.jsonl\n",
        fx->dir, TT_TEST_PLUGIN_DIR, grace, extra);
    tt_config *config = tt_config_load_data(text, strlen(text), "core.conf", &error);
    g_assert_no_error(error);
    fx->core = tt_core_new(config, &error);
    g_assert_no_error(error);
    g_assert_nonnull(fx->core);
    fx->sensor = tt_core_sensor_index(fx->core, "s");
}

/* The stop, as teitend does it; the core is gone afterwards. */
static void fixture_stop(fixture *fx)
{
    tt_core_stopping(fx->core);
    tt_core_close_all(fx->core);
    tt_core_free(fx->core);
    fx->core = NULL;
}

static void fixture_teardown(fixture *fx)
{
    if (fx->core != NULL)
        fixture_stop(fx);
    tt_test_remove_tree(fx->dir);
    g_free(fx->dir);
}

/* A v5 exporter at 127.0.0.@a host, UDP source port @a port (a spoofable source). */
static tt_exporter *exporter(fixture *fx, unsigned host, unsigned port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(0x7f000000u | host);
    tt_exporter *e = tt_decoder_exporter(tt_core_decoder(fx->core), TT_LISTEN_NF5_UDP, 0,
                                         (const struct sockaddr *)&sin, sizeof sin, T0);
    g_assert_nonnull(e);
    return e;
}

/*
 * One datagram of @a n dark records starting at @a start (seconds), one second
 * apart, exported a minute after the first; @a seq: the flow sequence.
 */
static void send_v5(fixture *fx, tt_exporter *e, int64_t start, unsigned n, uint32_t seq)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    uint32_t export_s = (uint32_t)(start + 60);
    put16(b, 5), put16(b, n), put32(b, UPTIME), put32(b, export_s), put32(b, 0), put32(b, seq);
    put8(b, 0), put8(b, 0), put16(b, 0);
    for (unsigned i = 0; i < n; i++) {
        /* start_ms = export_ms - UPTIME + first */
        uint32_t first = (uint32_t)(((start + i) - export_s) * 1000 + UPTIME);
        put32(b, 0xc6120001u + i), put32(b, 0xcb007100u | (i % 250 + 1)), put32(b, 0);
        put16(b, 0), put16(b, 0), put32(b, 1), put32(b, 40), put32(b, first), put32(b, first);
        put16(b, 40000), put16(b, 23), put8(b, 0), put8(b, 0x02), put8(b, 6), put8(b, 0);
        put16(b, 0), put16(b, 0), put8(b, 0), put8(b, 0), put16(b, 0);
    }
    tt_decoder_v5(tt_core_decoder(fx->core), e, b->data, b->len);
}

/* Closed buckets so far: the starts of the jsonl "total" lines, and their flows summed. */
static guint total_lines(fixture *fx, gint64 *first_start, guint64 *flows)
{
    if (fx->core != NULL)
        tt_core_flush(fx->core);
    g_autofree char *path = g_build_filename(fx->dir, "flows.jsonl", NULL);
    g_autofree char *text = NULL;
    guint n = 0;
    *flows = 0;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        if (strstr(*l, "\"dim\":\"total\"") == NULL)
            continue;
        if (n++ == 0 && first_start != NULL)
            *first_start = g_ascii_strtoll(strstr(*l, "\"start\":") + 8, NULL, 10);
        *flows += g_ascii_strtoull(strstr(*l, "\"flows\":") + 8, NULL, 10);
    }
    return n;
}

static const tt_sensor_stats *stats(fixture *fx)
{
    return tt_core_sensor_stats(fx->core, fx->sensor);
}

static void test_bucket_closes_after_grace(void)
{
    fixture fx = {0};
    fixture_setup(&fx, 120, "");
    tt_exporter *e = exporter(&fx, 1, 5000);
    guint64 flows = 0;
    gint64 start = 0;
    send_v5(&fx, e, T0 + 10, 3, 0);
    /* the watermark at T0 + 300 + 119: within the grace of the first bucket's end */
    send_v5(&fx, e, T0 + 300 + 117, 1, 3);
    g_assert_cmpuint(total_lines(&fx, &start, &flows), ==, 0);
    /* past end + grace: the first bucket closes, with its three flows */
    send_v5(&fx, e, T0 + 300 + 121, 1, 4);
    g_assert_cmpuint(total_lines(&fx, &start, &flows), ==, 1);
    g_assert_cmpint(start, ==, T0);
    g_assert_cmpuint(flows, ==, 3);
    g_assert_cmpuint(stats(&fx)->observed, ==, 5);
    g_assert_cmpint(stats(&fx)->late, ==, 0);
    /* the stop closes the rest */
    fixture_stop(&fx);
    g_assert_cmpuint(total_lines(&fx, &start, &flows), ==, 2);
    g_assert_cmpuint(flows, ==, 5);
    fixture_teardown(&fx);
}

static void test_late_and_too_old(void)
{
    fixture fx = {0};
    /* clock-corroborate = 0: the source's three messages confirm the clock at once (with
     * the default, a message 1,100 days behind an unconfirmed clock re-anchors it) */
    fixture_setup(&fx, 0, "clock-corroborate = 0");
    tt_exporter *e = exporter(&fx, 1, 5000);
    guint64 flows = 0;
    send_v5(&fx, e, T0 + 10, 1, 0);
    send_v5(&fx, e, T0 + 30, 1, 1);
    send_v5(&fx, e, T0 + 3 * 300 + 5, 1, 2); /* closes the first bucket */
    g_assert_cmpuint(total_lines(&fx, NULL, &flows), ==, 1);
    /* behind the closed range: late, handed to the plugins' on_late_flow */
    send_v5(&fx, e, T0 + 20, 2, 3);
    g_assert_cmpuint(stats(&fx)->late, ==, 2);
    g_assert_cmpuint(stats(&fx)->too_old, ==, 0);
    /* 1,100 days behind the watermark: older than every archive (1,096 days) */
    send_v5(&fx, e, T0 - 1100 * DAY, 1, 5);
    g_assert_cmpuint(stats(&fx)->too_old, ==, 1);
    g_assert_cmpuint(stats(&fx)->late, ==, 2);
    g_assert_cmpuint(stats(&fx)->clock_reanchored, ==, 0);
    g_assert_cmpuint(stats(&fx)->records, ==, 6);
    fixture_teardown(&fx);
}

static void test_jumps_after_outage(void)
{
    fixture fx = {0};
    fixture_setup(&fx, 0, "");
    tt_exporter *before = exporter(&fx, 1, 5000);
    tt_exporter *back = exporter(&fx, 1, 5001);
    tt_exporter *spoof = exporter(&fx, 2, 6000);
    tt_exporter *month = exporter(&fx, 1, 5002);
    guint64 flows = 0;
    for (unsigned m = 0; m < 4; m++)
        send_v5(&fx, before, T0 + m * 60, 5, 5 * m);
    /* ten days later, from a new source port: a jump, held until corroborated */
    for (unsigned m = 0; m < 3; m++)
        send_v5(&fx, back, T0 + 10 * DAY + m * 60, 5, 5 * m);
    g_assert_cmpuint(stats(&fx)->held, ==, 15);
    /* a year ahead, from the sensor's other address: held too, for now */
    for (unsigned m = 0; m < 3; m++)
        send_v5(&fx, spoof, T0 + 400 * DAY + m * 60, 2, 2 * m);
    g_assert_cmpuint(stats(&fx)->held, ==, 21);
    /* the next month from a new process: the jump being corroborated now; the held stay */
    for (unsigned m = 0; m < 3; m++)
        send_v5(&fx, month, T0 + 40 * DAY + m * 60, 5, 5 * m);
    g_assert_cmpuint(stats(&fx)->held, ==, 36);
    g_assert_cmpuint(stats(&fx)->unconfirmed, ==, 0);
    g_assert_cmpuint(stats(&fx)->observed, ==, 20);
    /* the stop corroborates it (three messages): the outage's and the month's records are
     * released, the spoofed year-ahead ones lie beyond the month's window: refused */
    tt_core_stopping(fx.core);
    tt_core_close_all(fx.core);
    g_assert_cmpuint(stats(&fx)->held, ==, 0);
    g_assert_cmpuint(stats(&fx)->unconfirmed, ==, 6);
    g_assert_cmpuint(stats(&fx)->observed, ==, 50);
    g_assert_cmpuint(stats(&fx)->clock_jumps, ==, 1);
    int64_t watermark_ms = 0, closed_until = 0;
    gboolean silent = FALSE;
    g_assert_true(tt_core_sensor_clock(fx.core, fx.sensor, &watermark_ms, &closed_until, &silent));
    g_assert_cmpint(watermark_ms / 1000, >=, T0 + 40 * DAY);
    g_assert_cmpint(watermark_ms / 1000, <, T0 + 41 * DAY);
    tt_core_free(fx.core);
    fx.core = NULL;
    total_lines(&fx, NULL, &flows);
    g_assert_cmpuint(flows, ==, 50);
    fixture_teardown(&fx);
}

static void test_contradicted_jump(void)
{
    fixture fx = {0};
    fixture_setup(&fx, 0, "");
    tt_exporter *honest = exporter(&fx, 1, 5000);
    tt_exporter *spoof = exporter(&fx, 1, 5001);
    send_v5(&fx, honest, T0, 5, 0);
    send_v5(&fx, spoof, T0 + 30 * DAY, 4, 0);
    g_assert_cmpuint(stats(&fx)->held, ==, 4);
    /* the honest stream goes on inside the window: the jump is contradicted */
    send_v5(&fx, honest, T0 + 60, 5, 5);
    g_assert_cmpuint(stats(&fx)->held, ==, 0);
    g_assert_cmpuint(stats(&fx)->unconfirmed, ==, 4);
    g_assert_cmpuint(stats(&fx)->observed, ==, 10);
    fixture_teardown(&fx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* the core warns (held jumps, re-anchored clocks) as teitend would: not a failure here */
    g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
    g_test_add_func("/core/bucket-closes-after-grace", test_bucket_closes_after_grace);
    g_test_add_func("/core/late-and-too-old", test_late_and_too_old);
    g_test_add_func("/core/jumps-after-outage", test_jumps_after_outage);
    g_test_add_func("/core/contradicted-jump", test_contradicted_jump);
    return g_test_run();
}
