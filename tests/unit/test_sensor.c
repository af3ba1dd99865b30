/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sensor.c - exporter lookup, the darknet filter, dark-space sizes and
 * index stability across reloads, on tables built from real key files.
 */
#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

#include <teiten/flow.h>

#include "config.h"
#include "sensor.h"

static tt_config *sensor_config(const char *text)
{
    g_autoptr(GError) error = NULL;
    tt_config *c = tt_config_load_data(text, strlen(text), "t.conf", &error);

    g_assert_no_error(error);
    return c;
}

/* 16-byte address of a literal; IPv4 comes out IPv4-mapped, as decoders store it. */
static const uint8_t *sensor_addr(const char *text)
{
    static uint8_t buf[8][16];
    static guint next;
    uint8_t *a = buf[next++ % G_N_ELEMENTS(buf)];
    struct in_addr v4;

    if (inet_pton(AF_INET, text, &v4) == 1)
        tt_addr_set_v4(a, g_ntohl(v4.s_addr));
    else
        g_assert_cmpint(inet_pton(AF_INET6, text, a), ==, 1);
    return a;
}

static const char sensor_two[] = "[collector]\n"
                                 "[sensor:tokyo-1]\n"
                                 "exporters = 192.0.2.1; 198.51.100.0/28@7; 2001:db8:1::/64\n"
                                 "darknet = 203.0.113.0/24; 2001:db8:dead::/48\n"
                                 "[sensor:osaka]\n"
                                 "exporters = 198.51.100.0/24; 192.0.2.1@9\n"
                                 "darknet = 100.64.0.0/10\n"
                                 "sampling = 512\n";

static void test_sensor_lookup(void)
{
    g_autoptr(tt_config) c = sensor_config(sensor_two);
    tt_sensor_table *t = tt_sensor_table_new(c, NULL);

    g_assert_cmpuint(tt_sensor_count(t), ==, 2);
    g_assert_cmpstr(tt_sensor_name(t, 0), ==, "tokyo-1");
    g_assert_cmpstr(tt_sensor_name(t, 1), ==, "osaka");
    g_assert_null(tt_sensor_name(t, 2));
    g_assert_null(tt_sensor_name(t, TT_SENSOR_NONE));

    /* Any domain when no @DOMAIN; both sensors match 192.0.2.1@9: first in file wins. */
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("192.0.2.1"), 0), ==, 0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("192.0.2.1"), 9), ==, 0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("::ffff:192.0.2.1"), 12345), ==, 0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("192.0.2.2"), 0), ==, TT_SENSOR_NONE);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("192.0.2.0"), 0), ==, TT_SENSOR_NONE);
    /* The IPv4-compatible (not mapped) form is an IPv6 address, not 192.0.2.1. */
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("::192.0.2.1"), 0), ==, TT_SENSOR_NONE);

    /* /28 with domain 7 belongs to tokyo-1; the rest of the /24 (any domain) to osaka. */
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("198.51.100.15"), 7), ==, 0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("198.51.100.0"), 7), ==, 0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("198.51.100.15"), 8), ==, 1);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("198.51.100.16"), 7), ==, 1);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("198.51.100.255"), 0), ==, 1);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("198.51.101.0"), 7), ==, TT_SENSOR_NONE);

    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("2001:db8:1::ffff"), 3), ==, 0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("2001:db8:1:0:ffff:ffff:ffff:ffff"), 0), ==,
                     0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("2001:db8:1:1::"), 0), ==, TT_SENSOR_NONE);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("::1"), 0), ==, TT_SENSOR_NONE);

    g_assert_cmpuint(tt_sensor_sampling(t, 0), ==, 0);
    g_assert_cmpuint(tt_sensor_sampling(t, 1), ==, 512);
    g_assert_cmpuint(tt_sensor_sampling(t, 7), ==, 0);
    tt_sensor_table_free(t);
}

static void test_sensor_dark(void)
{
    g_autoptr(tt_config) c = sensor_config(sensor_two);
    tt_sensor_table *t = tt_sensor_table_new(c, NULL);

    g_assert_true(tt_sensor_is_dark(t, 0, sensor_addr("203.0.113.0")));
    g_assert_true(tt_sensor_is_dark(t, 0, sensor_addr("203.0.113.255")));
    g_assert_true(tt_sensor_is_dark(t, 0, sensor_addr("::ffff:203.0.113.77")));
    g_assert_false(tt_sensor_is_dark(t, 0, sensor_addr("203.0.112.255")));
    g_assert_false(tt_sensor_is_dark(t, 0, sensor_addr("203.0.114.0")));
    g_assert_false(tt_sensor_is_dark(t, 0, sensor_addr("::203.0.113.1")));
    g_assert_true(tt_sensor_is_dark(t, 0, sensor_addr("2001:db8:dead::")));
    g_assert_true(tt_sensor_is_dark(t, 0, sensor_addr("2001:db8:dead:ffff:ffff:ffff:ffff:ffff")));
    g_assert_false(tt_sensor_is_dark(t, 0, sensor_addr("2001:db8:deae::")));
    g_assert_false(tt_sensor_is_dark(t, 0, sensor_addr("2001:db8:deac:ffff::")));

    /* /10: a prefix boundary inside an octet. */
    g_assert_true(tt_sensor_is_dark(t, 1, sensor_addr("100.64.0.0")));
    g_assert_true(tt_sensor_is_dark(t, 1, sensor_addr("100.127.255.255")));
    g_assert_false(tt_sensor_is_dark(t, 1, sensor_addr("100.128.0.0")));
    g_assert_false(tt_sensor_is_dark(t, 1, sensor_addr("100.63.255.255")));
    /* Another sensor's dark space is lit for this one. */
    g_assert_false(tt_sensor_is_dark(t, 1, sensor_addr("203.0.113.1")));
    /* Unknown sensor: nothing is dark. */
    g_assert_false(tt_sensor_is_dark(t, 2, sensor_addr("203.0.113.1")));
    g_assert_false(tt_sensor_is_dark(t, TT_SENSOR_NONE, sensor_addr("203.0.113.1")));
    tt_sensor_table_free(t);
}

static void test_sensor_dark_everything(void)
{
    g_autoptr(tt_config) c = sensor_config("[collector]\n"
                                           "[sensor:v4]\nexporters = ::/0\ndarknet = 0.0.0.0/0\n"
                                           "[sensor:all]\nexporters = ::1\ndarknet = ::/0\n"
                                           "[sensor:host]\nexporters = ::2\n"
                                           "darknet = 2001:db8::1; 192.0.2.1\n");
    tt_sensor_table *t = tt_sensor_table_new(c, NULL);

    g_assert_true(tt_sensor_is_dark(t, 0, sensor_addr("0.0.0.0")));
    g_assert_true(tt_sensor_is_dark(t, 0, sensor_addr("255.255.255.255")));
    g_assert_false(tt_sensor_is_dark(t, 0, sensor_addr("2001:db8::1")));
    g_assert_true(tt_sensor_is_dark(t, 1, sensor_addr("2001:db8::1")));
    g_assert_true(tt_sensor_is_dark(t, 1, sensor_addr("10.0.0.1")));
    g_assert_true(tt_sensor_is_dark(t, 2, sensor_addr("2001:db8::1")));
    g_assert_false(tt_sensor_is_dark(t, 2, sensor_addr("2001:db8::")));
    g_assert_false(tt_sensor_is_dark(t, 2, sensor_addr("2001:db8::2")));
    g_assert_true(tt_sensor_is_dark(t, 2, sensor_addr("192.0.2.1")));
    g_assert_false(tt_sensor_is_dark(t, 2, sensor_addr("192.0.2.0")));
    /* ::/0 as exporter list matches any exporter, v4 or v6. */
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("10.9.8.7"), 1), ==, 0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("::1"), 1), ==, 0);
    tt_sensor_table_free(t);
}

static void test_sensor_dark_size(void)
{
    static const struct {
        const char *darknet;
        uint64_t size;
    } cases[] = {
        {"203.0.113.0/24", 256},
        {"203.0.113.0/24; 203.0.113.128/25", 256},
        {"203.0.113.128/25; 203.0.113.0/24", 256},
        {"203.0.113.0/24; 203.0.113.0/24", 256},
        {"203.0.113.0/24; ::ffff:203.0.113.0/120", 256},
        {"203.0.113.0/24; 198.51.100.0/30", 260},
        {"192.0.2.1; 192.0.2.2; 192.0.2.1", 2},
        {"0.0.0.0/0", UINT64_C(1) << 32},
        {"0.0.0.0/0; 10.0.0.0/8", UINT64_C(1) << 32},
        {"2001:db8::/120", 256},
        {"2001:db8::/65", UINT64_C(1) << 63},
        {"2001:db8::/65; 2001:db8:0:0:8000::/65", UINT64_MAX},
        {"2001:db8::/64", UINT64_MAX},
        {"::/0", UINT64_MAX},
        {"2001:db8::/66; 2001:db8:1::/66; 2001:db8:2::/66; 2001:db8:3::/66; 2001:db8:4::/66",
         UINT64_MAX},
        {"2001:db8::/66; 2001:db8:1::/66; 2001:db8:2::/66; 2001:db8:3::/66", UINT64_MAX},
        {"2001:db8::/66; 2001:db8:1::/66; 2001:db8:2::/66", (UINT64_C(1) << 62) * 3},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf("[collector]\n[sensor:s]\nexporters = ::1\n"
                                                "darknet = %s\n",
                                                cases[i].darknet);
        g_autoptr(tt_config) c = sensor_config(text);
        tt_sensor_table *t = tt_sensor_table_new(c, NULL);

        g_test_message("darknet = %s", cases[i].darknet);
        g_assert_cmpuint(tt_sensor_dark_size(t, 0), ==, cases[i].size);
        g_assert_cmpuint(tt_sensor_dark_size(t, 1), ==, 0);
        tt_sensor_table_free(t);
    }
}

static tt_sensor_table *sensor_table_of(const char *names, const tt_sensor_table *previous)
{
    g_auto(GStrv) list = g_strsplit(names, " ", -1);
    g_autoptr(GString) text = g_string_new("[collector]\n");
    g_autoptr(tt_config) c = NULL;

    for (guint i = 0; list[i] != NULL; i++)
        g_string_append_printf(text, "[sensor:%s]\nexporters = 10.0.0.%u\ndarknet = ::1\n", list[i],
                               i + 1);
    c = sensor_config(text->str);
    return tt_sensor_table_new(c, previous);
}

static void test_sensor_reload_indexes(void)
{
    tt_sensor_table *t1 = sensor_table_of("a b c", NULL);
    tt_sensor_table *t2, *t3, *t4;

    g_assert_cmpuint(tt_sensor_count(t1), ==, 3);
    g_assert_cmpstr(tt_sensor_name(t1, 1), ==, "b");

    /* Survivors keep their index; d is new; b's index is left unused. */
    t2 = sensor_table_of("c d a", t1);
    g_assert_cmpuint(tt_sensor_count(t2), ==, 4);
    g_assert_cmpstr(tt_sensor_name(t2, 0), ==, "a");
    g_assert_null(tt_sensor_name(t2, 1));
    g_assert_cmpstr(tt_sensor_name(t2, 2), ==, "c");
    g_assert_cmpstr(tt_sensor_name(t2, 3), ==, "d");
    /* Lookup follows the new file: c's exporter is now 10.0.0.1. */
    g_assert_cmpuint(tt_sensor_lookup(t2, sensor_addr("10.0.0.1"), 0), ==, 2);
    g_assert_cmpuint(tt_sensor_lookup(t2, sensor_addr("10.0.0.3"), 0), ==, 0);
    g_assert_true(tt_sensor_is_dark(t2, 3, sensor_addr("::1")));
    g_assert_false(tt_sensor_is_dark(t2, 1, sensor_addr("::1")));
    g_assert_cmpuint(tt_sensor_dark_size(t2, 1), ==, 0);

    /* b comes back: a fresh index, never one handed out before; d dropped, e new. */
    t3 = sensor_table_of("b a e", t2);
    g_assert_cmpstr(tt_sensor_name(t3, 0), ==, "a");
    g_assert_cmpstr(tt_sensor_name(t3, 4), ==, "b");
    g_assert_cmpstr(tt_sensor_name(t3, 5), ==, "e");
    g_assert_null(tt_sensor_name(t3, 2));
    g_assert_null(tt_sensor_name(t3, 3));
    g_assert_cmpuint(tt_sensor_count(t3), ==, 6);

    /* Even when the highest index disappears, it is not reused. */
    t4 = sensor_table_of("a f", t3);
    g_assert_cmpuint(tt_sensor_count(t4), ==, 7);
    g_assert_cmpstr(tt_sensor_name(t4, 6), ==, "f");

    tt_sensor_table_free(t1);
    tt_sensor_table_free(t2);
    tt_sensor_table_free(t3);
    tt_sensor_table_free(t4);
}

static void test_sensor_empty(void)
{
    g_autoptr(tt_config) c = sensor_config("[collector]\n");
    tt_sensor_table *t = tt_sensor_table_new(c, NULL);

    g_assert_cmpuint(tt_sensor_count(t), ==, 0);
    g_assert_cmpuint(tt_sensor_lookup(t, sensor_addr("192.0.2.1"), 0), ==, TT_SENSOR_NONE);
    g_assert_false(tt_sensor_is_dark(t, 0, sensor_addr("192.0.2.1")));
    tt_sensor_table_free(t);
    tt_sensor_table_free(NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sensor/lookup", test_sensor_lookup);
    g_test_add_func("/sensor/dark", test_sensor_dark);
    g_test_add_func("/sensor/dark-everything", test_sensor_dark_everything);
    g_test_add_func("/sensor/dark-size", test_sensor_dark_size);
    g_test_add_func("/sensor/reload-indexes", test_sensor_reload_indexes);
    g_test_add_func("/sensor/empty", test_sensor_empty);
    return g_test_run();
}
