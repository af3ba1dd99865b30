/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * geo_bench.c - CPU nanoseconds per tt_geo_lookup, and the cost of tt_geo_open.
 *
 *   geo_bench DB.mmdb [--lookups N] [--sources N] [--runs N]
 *
 * Two address mixes, both IPv4 (the darknet's traffic): "bench", the bench's
 * stream (bench/run: flowgen --sources 20 over bench/udp_geoip.pl's 250
 * countries, so 5 000 distinct sources, 20 per country, each drawn at random
 * from its country's space, looked up in random order), and "random",
 * uniformly random addresses (a scan of the whole space: most /24s are met
 * once per pass). Sources are classified with the handle under test, so the mix holds
 * for any database. Prints the median over --runs of the thread CPU time per
 * lookup, after one warm-up pass, and the time tt_geo_open takes (median). The
 * "harness" row is the same loop on a NULL handle: subtract it.
 *
 * Rejected: perf on teitend over UDP (the shared 2-core machine moves its CPU
 * time by tens of percent between identical runs) and callgrind alone (it
 * counts instructions, not the cache misses a lookup table is about).
 *
 * Build: bench/micro/run --geo [--geo-src GEO.C] compiles it with collector/geo.c
 * (or another geo.c, for an A/B in the same minute).
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <teiten/flow.h>

#include "geo.h"

static double bench_now(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double bench_median(double *v, guint n)
{
    qsort(v, n, sizeof *v, bench_cmp);
    return v[n / 2];
}

/* A random unicast IPv4 address, 1.0.0.0 - 223.255.255.255. */
static uint32_t bench_random_v4(GRand *rand)
{
    return 0x01000000u + g_rand_int(rand) % (0xe0000000u - 0x01000000u);
}

/* @per sources per country, drawn until every country seen has @per (5 000 for the bench db). */
static GArray *bench_sources(const tt_geo *geo, GRand *rand, guint per)
{
    GArray *out = g_array_new(FALSE, FALSE, 16);
    guint count[TT_COUNTRY_SLOTS] = {0};
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint misses = 0;

    /* Stop once 200 000 draws in a row found no country with room. */
    while (misses < 200000) {
        uint32_t v4 = bench_random_v4(rand);
        uint8_t a[16];
        char cc[2];
        unsigned idx;

        tt_addr_set_v4(a, v4);
        tt_geo_lookup(geo, a, cc);
        idx = tt_country_index(cc);
        if (count[idx] >= per || !g_hash_table_add(seen, GUINT_TO_POINTER(v4))) {
            misses++;
            continue;
        }
        misses = 0;
        count[idx]++;
        g_array_append_vals(out, a, 1);
    }
    return out;
}

static double bench_pass(const tt_geo *geo, const uint8_t *addrs, guint n, guint *sink)
{
    double t0 = bench_now(CLOCK_THREAD_CPUTIME_ID);
    guint acc = 0;

    for (guint i = 0; i < n; i++) {
        char cc[2];

        tt_geo_lookup(geo, addrs + (gsize)i * 16, cc);
        acc += (guint)cc[0] + (guint)cc[1];
    }
    *sink += acc;
    return (bench_now(CLOCK_THREAD_CPUTIME_ID) - t0) / n;
}

static void bench_mix(const char *name, const tt_geo *geo, const uint8_t *addrs, guint n,
                      guint runs, guint *sink)
{
    double *ns = g_new(double, runs);

    bench_pass(geo, addrs, n, sink);
    for (guint r = 0; r < runs; r++)
        ns[r] = bench_pass(geo, addrs, n, sink);
    printf("| %s | %u | %.1f |\n", name, n, bench_median(ns, runs));
    g_free(ns);
}

int main(int argc, char **argv)
{
    gint lookups = 4000000, per = 20, runs = 5;
    GOptionEntry entries[] = {
        {"lookups", 0, 0, G_OPTION_ARG_INT, &lookups, "Lookups per pass (4000000)", "N"},
        {"sources", 0, 0, G_OPTION_ARG_INT, &per, "Sources per country (20)", "N"},
        {"runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed passes per mix (5)", "N"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("DB.mmdb");
    g_autoptr(GError) error = NULL;
    g_autoptr(GRand) rand = g_rand_new_with_seed(1);
    g_autoptr(GArray) sources = NULL;
    g_autofree uint8_t *stream = NULL;
    double open_ns[5];
    tt_geo *geo = NULL;
    guint sink = 0;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2 || lookups < 1 || per < 1 ||
        runs < 1) {
        fprintf(stderr, "geo_bench: %s\n", error != NULL ? error->message : "usage: DB.mmdb");
        return 2;
    }
    for (guint i = 0; i < G_N_ELEMENTS(open_ns); i++) {
        double t0 = bench_now(CLOCK_MONOTONIC);

        tt_geo_free(geo);
        geo = tt_geo_open(argv[1], &error);
        if (geo == NULL) {
            fprintf(stderr, "geo_bench: %s\n", error->message);
            return 1;
        }
        open_ns[i] = bench_now(CLOCK_MONOTONIC) - t0;
    }

    sources = bench_sources(geo, rand, (guint)per);
    stream = g_malloc((gsize)lookups * 16);
    for (guint i = 0; i < (guint)lookups; i++)
        memcpy(
            stream + (gsize)i * 16,
            &g_array_index(sources, uint8_t, (gsize)g_rand_int_range(rand, 0, sources->len) * 16),
            16);
    printf("tt_geo_open: %.1f ms (median of %u)\n\n", bench_median(open_ns, 5) / 1e6,
           (guint)G_N_ELEMENTS(open_ns));
    printf("| mix | lookups per pass | ns per lookup |\n|---|---:|---:|\n");
    /* The loop, the call and the address stream alone: a NULL handle answers ZZ. */
    bench_mix("harness (NULL handle)", NULL, stream, (guint)lookups, (guint)runs, &sink);
    bench_mix("bench (5 000 sources)", geo, stream, (guint)lookups, (guint)runs, &sink);
    for (guint i = 0; i < (guint)lookups; i++)
        tt_addr_set_v4(stream + (gsize)i * 16, bench_random_v4(rand));
    bench_mix("random IPv4", geo, stream, (guint)lookups, (guint)runs, &sink);
    tt_geo_free(geo);
    return sink == 42 ? 3 : 0; /* keeps the lookups alive */
}
