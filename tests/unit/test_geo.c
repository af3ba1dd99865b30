/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_geo.c - country lookups against real .mmdb files in both schemas.
 *
 * The databases are generated at run time by tests/data/make_geoip.pl (Debian's
 * libmaxmind-db-writer-perl) into a temporary directory, together with the
 * table of networks they hold; every network of that table is checked at both
 * ends in both schemas, so the table and the reader cannot drift apart. The
 * test skips (exit 77) when the Perl module is missing.
 *
 * The /geo/v4-table tests check the two-level IPv4 table (per /16, then per /24
 * where a /16 is split) against libmaxminddb itself: small databases written here (IPv4 and IPv6
 * trees, /24s split into /25 to /32 of several countries, networks at both ends of the space, one
 * record above ::/96) are asked for every address of the split /24s, both
 * ends and both neighbours of every network and a million random addresses,
 * through tt_geo_lookup and through MMDB_lookup_sockaddr. The two-level cases
 * take /16s one by one (wholly one country, split between countries, split
 * below /24, without a record) and check which of them took a chunk.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <teiten/flow.h>

#include "config.h"
#include "geo.h"

typedef struct {
    tt_prefix prefix;
    char cc[3];
} geo_row;

static char *geo_dir;
static char *geo_iso_path;
static char *geo_flat_path;
static char *geo_none_path;
static GArray *geo_table; /* of geo_row */

static const uint8_t *geo_addr(const char *text)
{
    static uint8_t buf[16];
    struct in_addr v4;

    if (inet_pton(AF_INET, text, &v4) == 1)
        tt_addr_set_v4(buf, g_ntohl(v4.s_addr));
    else
        g_assert_cmpint(inet_pton(AF_INET6, text, buf), ==, 1);
    return buf;
}

static void geo_assert_cc(const tt_geo *geo, const uint8_t addr[16], const char *want)
{
    char cc[2] = {'?', '?'};
    char got[3];

    tt_geo_lookup(geo, addr, cc);
    got[0] = cc[0];
    got[1] = cc[1];
    got[2] = '\0';
    if (strcmp(got, want) != 0) {
        char text[INET6_ADDRSTRLEN];

        inet_ntop(AF_INET6, addr, text, sizeof text);
        g_test_message("%s: got %s, want %s", text, got, want);
    }
    g_assert_cmpstr(got, ==, want);
}

static void geo_assert_text(const tt_geo *geo, const char *addr, const char *want)
{
    geo_assert_cc(geo, geo_addr(addr), want);
}

/* An address inside @p: host bits from @host_bits (all ones, zero, random). */
static void geo_addr_in(const tt_prefix *p, const uint8_t host_bits[16], uint8_t out[16])
{
    for (guint i = 0; i < 16; i++) {
        guint net = p->len > i * 8 ? MIN(p->len - i * 8, 8u) : 0;
        uint8_t mask = (uint8_t)(0xff00u >> net);

        out[i] = (uint8_t)((p->addr[i] & mask) | (host_bits[i] & ~mask));
    }
}

static tt_geo *geo_open_ok(const char *path)
{
    g_autoptr(GError) error = NULL;
    tt_geo *geo = tt_geo_open(path, &error);

    g_assert_no_error(error);
    g_assert_nonnull(geo);
    return geo;
}

static void geo_check_table(const char *path, const char *schema)
{
    g_autoptr(tt_geo) geo = geo_open_ok(path);
    static const uint8_t zeros[16], ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    guint v4 = 0, v6 = 0;

    g_assert_cmpstr(tt_geo_type(geo), ==, "teiten-test-Country");
    g_assert_cmpint(tt_geo_build_epoch(geo), ==, 1700000000);
    g_assert_cmpstr(tt_geo_schema(geo), ==, schema);

    /* Twice: the second round answers IPv4 from the cache. */
    for (guint round = 0; round < 2; round++) {
        for (guint i = 0; i < geo_table->len; i++) {
            const geo_row *row = &g_array_index(geo_table, geo_row, i);
            uint8_t a[16];

            geo_addr_in(&row->prefix, zeros, a);
            geo_assert_cc(geo, a, row->cc);
            geo_addr_in(&row->prefix, ones, a);
            geo_assert_cc(geo, a, row->cc);
            if (round == 0)
                tt_addr_is_v4(a) ? v4++ : v6++;
        }
    }
    g_assert_cmpuint(v4, >, 10);
    g_assert_cmpuint(v6, >=, 2);
}

static void test_geo_iso_table(void)
{
    geo_check_table(geo_iso_path, "iso_code");
}

static void test_geo_flat_table(void)
{
    geo_check_table(geo_flat_path, "country_code");
}

/* 103.4.96.0/22 carries only registered_country.iso_code in the iso schema. */
static void test_geo_registered_country(void)
{
    g_autoptr(tt_geo) iso = geo_open_ok(geo_iso_path);
    g_autoptr(tt_geo) flat = geo_open_ok(geo_flat_path);

    geo_assert_text(iso, "103.4.96.1", "SG");
    geo_assert_text(iso, "103.4.99.255", "SG");
    geo_assert_text(iso, "103.4.100.0", "ZZ");
    geo_assert_text(flat, "103.4.97.1", "SG");
}

static void test_geo_unknown(void)
{
    const char *paths[] = {geo_iso_path, geo_flat_path};

    for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
        g_autoptr(tt_geo) geo = geo_open_ok(paths[i]);

        /* 1.0.0.0/24 has a record, but no country in it. */
        geo_assert_text(geo, "1.0.0.1", "ZZ");
        geo_assert_text(geo, "1.0.15.255", "ZZ");
        geo_assert_text(geo, "9.9.9.9", "ZZ");
        geo_assert_text(geo, "0.0.0.0", "ZZ");
        geo_assert_text(geo, "255.255.255.255", "ZZ");
        geo_assert_text(geo, "2001:db8::1", "ZZ");
        geo_assert_text(geo, "::1", "ZZ");
        geo_assert_text(geo, "2a01:500::1", "ZZ");
        /* Cached ZZ does not leak into the neighbouring networks. */
        geo_assert_text(geo, "1.0.0.1", "ZZ");
        geo_assert_text(geo, "1.0.16.1", "JP");
        geo_assert_text(geo, "1.0.32.0", "ZZ");
        geo_assert_text(geo, "1.0.31.255", "JP");
    }
    geo_assert_text(NULL, "5.8.1.1", "ZZ");
    geo_assert_text(NULL, "2600::1", "ZZ");
}

/* GB and FR /24s in one /16, and a /8 spanning many /16 cache slots. */
static void test_geo_cache_same_slot(void)
{
    g_autoptr(tt_geo) geo = geo_open_ok(geo_iso_path);

    for (guint round = 0; round < 3; round++) {
        geo_assert_text(geo, "81.2.69.5", "GB");
        geo_assert_text(geo, "81.2.70.5", "FR");
        geo_assert_text(geo, "81.2.69.255", "GB");
        geo_assert_text(geo, "81.2.71.0", "ZZ");
        geo_assert_text(geo, "81.2.70.0", "FR");
        geo_assert_text(geo, "81.2.68.255", "ZZ");
        geo_assert_text(geo, "3.0.0.1", "US");
        geo_assert_text(geo, "3.255.255.255", "US");
        geo_assert_text(geo, "3.1.2.3", "US");
        geo_assert_text(geo, "4.0.0.0", "ZZ");
        geo_assert_text(geo, "2.255.255.255", "ZZ");
    }
}

typedef struct {
    const tt_geo *geo;
    guint seed;
    guint wrong;
} geo_worker;

static gpointer geo_thread(gpointer data)
{
    geo_worker *w = data;
    g_autoptr(GRand) rand = g_rand_new_with_seed(w->seed);

    for (guint n = 0; n < 200000; n++) {
        uint8_t host[16], a[16];
        const char *want;
        char cc[2];

        for (guint i = 0; i < 16; i += 4) {
            guint32 r = g_rand_int(rand);
            memcpy(host + i, &r, 4);
        }
        if (g_rand_boolean(rand)) {
            const geo_row *row =
                &g_array_index(geo_table, geo_row, g_rand_int_range(rand, 0, geo_table->len));

            geo_addr_in(&row->prefix, host, a);
            want = row->cc;
        } else {
            /* 81.2.68.0 - 81.2.71.255: ZZ, GB, FR, ZZ. */
            static const char *const by_third[] = {"ZZ", "GB", "FR", "ZZ"};
            guint third = host[0] & 3;

            tt_addr_set_v4(a, 0x51024400u | third << 8 | host[1]);
            want = by_third[third];
        }
        tt_geo_lookup(w->geo, a, cc);
        if (cc[0] != want[0] || cc[1] != want[1])
            w->wrong++;
    }
    return NULL;
}

static void test_geo_threads(void)
{
    g_autoptr(tt_geo) geo = geo_open_ok(geo_flat_path);
    geo_worker workers[4];
    GThread *threads[4];

    for (guint i = 0; i < 4; i++) {
        workers[i] = (geo_worker){.geo = geo, .seed = 1234 + i, .wrong = 0};
        threads[i] = g_thread_new("geo", geo_thread, &workers[i]);
    }
    for (guint i = 0; i < 4; i++) {
        g_thread_join(threads[i]);
        g_assert_cmpuint(workers[i].wrong, ==, 0);
    }
}

static void test_geo_errors(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *junk = g_build_filename(geo_dir, "junk.mmdb", NULL);
    g_autofree char *missing = g_build_filename(geo_dir, "missing.mmdb", NULL);
    g_autofree char *want = NULL;

    g_assert_true(g_file_set_contents(junk, "this is not a MaxMind DB\n", -1, NULL));
    g_assert_null(tt_geo_open(junk, &error));
    g_assert_error(error, TT_GEO_ERROR, 3 /* MMDB_INVALID_METADATA_ERROR */);
    g_assert_true(g_str_has_prefix(error->message, junk));
    g_clear_error(&error);
    g_unlink(junk);

    g_assert_null(tt_geo_open(missing, &error));
    g_assert_nonnull(error);
    g_assert_true(error->domain == TT_GEO_ERROR);
    g_assert_true(g_str_has_prefix(error->message, missing));
    g_assert_nonnull(strstr(error->message, g_strerror(ENOENT)));
    g_clear_error(&error);

    g_assert_null(tt_geo_open(geo_none_path, &error));
    g_assert_nonnull(error);
    want = g_strdup_printf("%s: no country data found (neither country.iso_code nor "
                           "country_code)",
                           geo_none_path);
    g_assert_cmpstr(error->message, ==, want);
}

/*
 * OUT IP_VERSION ALIAS NETWORK=CC...: CC "--" is a record without a country,
 * "cc" lower case goes in country_code (the flat schema), else country.iso_code.
 * Earlier networks are overridden where later ones overlap them.
 */
static const char geo_mixed_writer[] =
    "use strict; use warnings;\n"
    "exit 77 unless eval { require MaxMind::DB::Writer::Tree; 1 };\n"
    "my ($out, $v, $alias, @nets) = @ARGV;\n"
    "my %t = (country => 'map', iso_code => 'utf8_string', country_code => 'utf8_string',\n"
    "         continent_code => 'utf8_string');\n"
    "my $tree = MaxMind::DB::Writer::Tree->new(ip_version => $v, record_size => 24,\n"
    "    database_type => 'teiten-test-Mixed', languages => ['en'],\n"
    "    description => { en => 'test' }, alias_ipv6_to_ipv4 => $alias,\n"
    "    remove_reserved_networks => 0, map_key_type_callback => sub { $t{ $_[0] } });\n"
    "for (@nets) {\n"
    "    my ($net, $cc) = split /=/;\n"
    "    my $r = $cc eq '--' ? { continent_code => 'EU' }\n"
    "          : $cc =~ /^[a-z]/ ? { country_code => $cc } : { country => { iso_code => $cc } };\n"
    "    $tree->insert_network($net, $r);\n"
    "}\n"
    "open my $fh, '>:raw', $out or die \"$out: $!\\n\";\n"
    "$tree->write_tree($fh);\n"
    "close $fh or die \"$out: $!\\n\";\n";

/* The answer of libmaxminddb alone, read the way geo.c documents it. */
static void geo_reference(MMDB_s *mmdb, gboolean flat, uint32_t v4, char cc[2])
{
    static const char *const iso[] = {"country", "iso_code", NULL};
    static const char *const registered[] = {"registered_country", "iso_code", NULL};
    static const char *const flat_path[] = {"country_code", NULL};
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = g_htonl(v4)};
    const char *const *const paths[] = {flat ? flat_path : iso, flat ? NULL : registered};
    MMDB_lookup_result_s result;
    int error;

    cc[0] = cc[1] = 'Z';
    result = MMDB_lookup_sockaddr(mmdb, (struct sockaddr *)&sin, &error);
    if (error != MMDB_SUCCESS || !result.found_entry)
        return;
    for (guint i = 0; i < G_N_ELEMENTS(paths) && paths[i] != NULL; i++) {
        MMDB_entry_data_s data;

        if (MMDB_aget_value(&result.entry, &data, paths[i]) == MMDB_SUCCESS && data.has_data &&
            data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2 &&
            g_ascii_isalpha(data.utf8_string[0]) && g_ascii_isalpha(data.utf8_string[1])) {
            cc[0] = g_ascii_toupper(data.utf8_string[0]);
            cc[1] = g_ascii_toupper(data.utf8_string[1]);
            return;
        }
    }
}

static guint geo_compare_one(const tt_geo *geo, MMDB_s *mmdb, gboolean flat, uint32_t v4)
{
    uint8_t a[16];
    char got[2], want[2];

    tt_addr_set_v4(a, v4);
    tt_geo_lookup(geo, a, got);
    geo_reference(mmdb, flat, v4, want);
    if (got[0] == want[0] && got[1] == want[1])
        return 0;
    g_test_message("%u.%u.%u.%u: table %.2s, libmaxminddb %.2s", v4 >> 24, v4 >> 16 & 0xff,
                   v4 >> 8 & 0xff, v4 & 0xff, got, want);
    return 1;
}

/* Write @a out with geo_mixed_writer; @a nets: NETWORK=CC, NULL-terminated. */
static void geo_write_mixed(const char *out, const char *version, const char *alias,
                            const char *const *nets)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *err_text = NULL;
    int status;

    g_ptr_array_add(argv, "/usr/bin/perl");
    g_ptr_array_add(argv, "-e");
    g_ptr_array_add(argv, (char *)geo_mixed_writer);
    g_ptr_array_add(argv, (char *)out);
    g_ptr_array_add(argv, (char *)version);
    g_ptr_array_add(argv, (char *)alias);
    for (guint i = 0; nets[i] != NULL; i++)
        g_ptr_array_add(argv, (char *)nets[i]);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               &err_text, &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, &error))
        g_error("writing %s: %s\n%s", out, error->message, err_text);
}

static void geo_check_mixed(const char *version, const char *alias, gboolean flat,
                            const char *const *nets)
{
    g_autofree char *out = g_build_filename(geo_dir, "mixed.mmdb", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GRand) rand = g_rand_new_with_seed(7);
    g_autoptr(tt_geo) geo = NULL;
    MMDB_s mmdb;
    guint wrong = 0, checked = 0;

    geo_write_mixed(out, version, alias, nets);
    geo = geo_open_ok(out);
    g_assert_cmpstr(tt_geo_schema(geo), ==, flat ? "country_code" : "iso_code");
    g_assert_cmpint(MMDB_open(out, MMDB_MODE_MMAP, &mmdb), ==, MMDB_SUCCESS);

    /* Both ends and both neighbours of every network, every address of its /24s if small. */
    for (guint i = 0; nets[i] != NULL; i++) {
        g_auto(GStrv) f = g_strsplit(nets[i], "=", 2);
        tt_prefix p;
        uint32_t first, last;

        if (strchr(f[0], ':') != NULL)
            continue;
        g_assert_true(tt_prefix_parse(f[0], &p, &error));
        first = (uint32_t)p.addr[12] << 24 | (uint32_t)p.addr[13] << 16 |
                (uint32_t)p.addr[14] << 8 | p.addr[15];
        last = first | (p.len - 96 >= 32 ? 0 : UINT32_MAX >> (p.len - 96));
        wrong += geo_compare_one(geo, &mmdb, flat, first - 1);
        wrong += geo_compare_one(geo, &mmdb, flat, first);
        wrong += geo_compare_one(geo, &mmdb, flat, last);
        wrong += geo_compare_one(geo, &mmdb, flat, last + 1);
        checked += 4;
        if (p.len - 96 > 24) {
            for (uint32_t a = first & ~0xffu; a <= (first | 0xffu) && a >= (first & ~0xffu); a++) {
                wrong += geo_compare_one(geo, &mmdb, flat, a);
                checked++;
            }
        }
    }
    /* One address in every /16 at each end of the space, then random ones. */
    for (uint32_t hi = 0; hi < 0x200; hi++) {
        wrong += geo_compare_one(geo, &mmdb, flat, hi << 16);
        wrong += geo_compare_one(geo, &mmdb, flat, ~(hi << 16));
        checked += 2;
    }
    for (guint n = 0; n < 1000000; n++) {
        wrong += geo_compare_one(geo, &mmdb, flat, g_rand_int(rand));
        checked++;
    }
    MMDB_close(&mmdb);
    g_unlink(out);
    g_test_message("%u addresses compared", checked);
    g_assert_cmpuint(wrong, ==, 0);
}

/* Split /24s, an overlap reaching the ends of IPv4, a record without a country. */
static const char *const geo_mixed_nets[] = {
    "0.0.0.0/8=AA",        "0.0.0.0/32=AB",       "1.0.0.0/24=AC",         "1.0.1.0/25=AD",
    "1.0.1.128/26=AE",     "1.0.1.192/27=--",     "1.0.1.255/32=AF",       "5.0.0.0/23=AG",
    "5.0.0.128/25=AH",     "9.0.0.0/7=AI",        "10.1.2.3/32=AJ",        "80.0.0.0/4=AK",
    "81.2.69.0/24=AL",     "81.2.69.64/26=AM",    "81.2.70.0/24=--",       "81.2.71.7/32=AN",
    "128.0.0.0/1=AO",      "192.0.2.0/24=AP",     "192.0.2.0/31=AQ",       "192.0.2.254/31=AR",
    "223.255.255.0/24=AS", "255.255.255.0/24=AT", "255.255.255.255/32=AU", NULL,
};

static void test_geo_v4_table_v6(void)
{
    geo_check_mixed("6", "1", FALSE, geo_mixed_nets);
}

static void test_geo_v4_table_v4(void)
{
    geo_check_mixed("4", "0", FALSE, geo_mixed_nets);
}

/* Flat schema; a record above ::/96 covers IPv4 but for two split /24s. */
static void test_geo_v4_table_above(void)
{
    static const char *const nets[] = {"::/64=ca",        "7.7.7.0/25=fr",    "7.7.7.128/32=--",
                                       "200.0.0.0/24=de", "200.0.0.77/32=us", NULL};

    geo_check_mixed("6", "0", TRUE, nets);
}

/*
 * The two levels of the IPv4 table, /16 by /16: every /24 of each (its first,
 * a middle and its last address) against libmaxminddb, each /16 first met in
 * its middle, and which /16s took a chunk: only those split between values.
 */
static void geo_check_two_level(const char *version, const char *alias)
{
    static const struct {
        uint32_t slash16;
        gboolean chunk;
    } want[] = {
        {0x1401, FALSE}, /* 20.1/16: inside 20/8, one country */
        {0x1505, FALSE}, /* 21.5/16: one record, exactly the /16 */
        {0x1607, FALSE}, /* 22.7/16: two /17s of the same country */
        {0x1708, TRUE},  /* 23.8/16: one /24 of another country */
        {0x1809, TRUE},  /* 24.9/16: one /24 split below /24 */
        {0x1900, TRUE},  /* 25.0/16: half a record without a country */
        {0x1a00, FALSE}, /* 26.0/16: no record at all */
        {0x1b03, TRUE},  /* 27.3/16: half no record, half a country */
        {0x1c04, FALSE}, /* 28.4/16: every /24 split below /24 */
    };
    static const char *const fixed[] = {
        "20.0.0.0/8=AA",  "21.5.0.0/16=AB", "22.7.0.0/17=AC",   "22.7.128.0/17=AC",
        "23.8.0.0/16=AD", "23.8.5.0/24=AE", "24.9.0.0/16=AF",   "24.9.3.128/25=AG",
        "25.0.0.0/16=AH", "25.0.0.0/17=--", "27.3.128.0/17=AI",
    };
    g_autofree char *out = g_build_filename(geo_dir, "two-level.mmdb", NULL);
    g_autoptr(GPtrArray) nets = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(tt_geo) geo = NULL;
    guint wrong = 0, chunks = 0;
    MMDB_s mmdb;

    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(nets, g_strdup(fixed[i]));
    for (guint i = 0; i < 256; i++) {
        g_ptr_array_add(nets, g_strdup_printf("28.4.%u.0/25=AJ", i));
        g_ptr_array_add(nets, g_strdup_printf("28.4.%u.128/25=AK", i));
    }
    g_ptr_array_add(nets, NULL);
    geo_write_mixed(out, version, alias, (const char *const *)nets->pdata);
    geo = geo_open_ok(out);
    g_assert_cmpint(MMDB_open(out, MMDB_MODE_MMAP, &mmdb), ==, MMDB_SUCCESS);

    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        uint32_t base = want[i].slash16 << 16;

        wrong += geo_compare_one(geo, &mmdb, FALSE, base | 0x8042);
        for (uint32_t s24 = 0; s24 < 256; s24++) {
            wrong += geo_compare_one(geo, &mmdb, FALSE, base | s24 << 8);
            wrong += geo_compare_one(geo, &mmdb, FALSE, base | s24 << 8 | 0x81);
            wrong += geo_compare_one(geo, &mmdb, FALSE, base | s24 << 8 | 0xff);
        }
        chunks += want[i].chunk;
        g_assert_cmpuint(tt_geo_v4_chunks(geo), ==, chunks);
    }
    /* Answers from the table agree with what libmaxminddb says, spelled out. */
    geo_assert_text(geo, "20.1.2.3", "AA");
    geo_assert_text(geo, "22.7.255.1", "AC");
    geo_assert_text(geo, "23.8.5.9", "AE");
    geo_assert_text(geo, "23.8.6.9", "AD");
    geo_assert_text(geo, "24.9.3.127", "AF");
    geo_assert_text(geo, "24.9.3.128", "AG");
    geo_assert_text(geo, "25.0.1.1", "ZZ");
    geo_assert_text(geo, "25.0.128.1", "AH");
    geo_assert_text(geo, "26.0.9.9", "ZZ");
    geo_assert_text(geo, "27.3.1.1", "ZZ");
    geo_assert_text(geo, "27.3.200.1", "AI");
    geo_assert_text(geo, "28.4.7.1", "AJ");
    geo_assert_text(geo, "28.4.7.200", "AK");
    g_assert_cmpuint(tt_geo_v4_chunks(geo), ==, chunks);
    MMDB_close(&mmdb);
    g_unlink(out);
    g_assert_cmpuint(wrong, ==, 0);
}

static void test_geo_two_level_v6(void)
{
    geo_check_two_level("6", "1");
}

static void test_geo_two_level_v4(void)
{
    geo_check_two_level("4", "0");
}

static gboolean geo_make(const char *schema, const char *out, const char *table)
{
    g_autofree char *script = g_build_filename(TT_TEST_SRC_DIR, "data", "make_geoip.pl", NULL);
    const char *argv[] = {"/usr/bin/perl",          script, "--schema", schema, out,
                          table ? "--table" : NULL, table,  NULL};
    g_autoptr(GError) error = NULL;
    g_autofree char *err_text = NULL;
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err_text,
                      &status, &error)) {
        g_printerr("cannot run %s: %s\n", script, error->message);
        exit(1);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        g_print("1..0 # SKIP %s", err_text);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, &error)) {
        g_printerr("%s --schema %s: %s\n%s", script, schema, error->message, err_text);
        exit(1);
    }
    return TRUE;
}

static void geo_load_table(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, &error));
    geo_table = g_array_new(FALSE, TRUE, sizeof(geo_row));
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        g_auto(GStrv) f = NULL;
        geo_row row = {0};

        if (**l == '\0')
            continue;
        f = g_strsplit(*l, "\t", -1);
        g_assert_cmpuint(g_strv_length(f), ==, 2);
        g_assert_true(tt_prefix_parse(f[0], &row.prefix, &error));
        g_assert_cmpuint(strlen(f[1]), ==, 2);
        memcpy(row.cc, f[1], 3);
        g_array_append_val(geo_table, row);
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *table = NULL;
    const char *files[5];
    int rc;

    g_test_init(&argc, &argv, NULL);

    geo_dir = g_dir_make_tmp("tt-geo-XXXXXX", &error);
    g_assert_no_error(error);
    geo_iso_path = g_build_filename(geo_dir, "iso.mmdb", NULL);
    geo_flat_path = g_build_filename(geo_dir, "flat.mmdb", NULL);
    geo_none_path = g_build_filename(geo_dir, "none.mmdb", NULL);
    table = g_build_filename(geo_dir, "table.tsv", NULL);
    if (!geo_make("iso", geo_iso_path, table)) {
        g_rmdir(geo_dir);
        return 77;
    }
    geo_make("flat", geo_flat_path, NULL);
    geo_make("none", geo_none_path, NULL);
    geo_load_table(table);

    g_test_add_func("/geo/iso/table", test_geo_iso_table);
    g_test_add_func("/geo/flat/table", test_geo_flat_table);
    g_test_add_func("/geo/iso/registered-country", test_geo_registered_country);
    g_test_add_func("/geo/unknown", test_geo_unknown);
    g_test_add_func("/geo/cache-same-slot", test_geo_cache_same_slot);
    g_test_add_func("/geo/threads", test_geo_threads);
    g_test_add_func("/geo/errors", test_geo_errors);
    g_test_add_func("/geo/v4-table/ipv6-tree", test_geo_v4_table_v6);
    g_test_add_func("/geo/v4-table/ipv4-tree", test_geo_v4_table_v4);
    g_test_add_func("/geo/v4-table/above-ipv4", test_geo_v4_table_above);
    g_test_add_func("/geo/v4-table/two-level/ipv6-tree", test_geo_two_level_v6);
    g_test_add_func("/geo/v4-table/two-level/ipv4-tree", test_geo_two_level_v4);
    rc = g_test_run();

    files[0] = geo_iso_path;
    files[1] = geo_flat_path;
    files[2] = geo_none_path;
    files[3] = table;
    files[4] = NULL;
    for (guint i = 0; files[i] != NULL; i++)
        g_unlink(files[i]);
    g_rmdir(geo_dir);
    g_array_unref(geo_table);
    return rc;
}
