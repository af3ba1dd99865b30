/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen.c - the seeded darknet flow generator: command line and driver.
 *
 * flowgen produces a reproducible darknet scenario (a weighted port mix, a
 * weighted source-country mix drawn from a real GeoIP table or database,
 * leaks to lit space, backscatter, IPv6, sampling), sends it as real flow
 * exports (IPFIX through libfixbuf to a file, UDP or TCP; NetFlow v9 of our
 * own over UDP), and writes the scenario's exact expected aggregates in the
 * collector's jsonl shape. Tests, the demo and the benchmark use it.
 *
 * Order of work: parse and check everything (including that the target is
 * a loopback address), load the networks, build every record, write the
 * expectation, then send. Building first means the expectation exists before
 * a single datagram leaves, so a test can never race the generator, and the
 * records do not depend on pacing or the host clock.
 */
#include "flowgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOWGEN_DEFAULT_COUNTRIES "RU:30,US:20,CN:20,NL:10,UA:10,ZZ:10"
#define FLOWGEN_BOOT_BEFORE_MS (86400 * G_GINT64_CONSTANT(1000))

typedef struct flowgen_args {
    gint64 seed;
    gint64 flows;
    char *start;
    gint64 duration;
    char *ports;
    char *countries;
    char *geoip_table;
    char *geoip;
    gint sources;
    char *dark;
    char *dark6;
    double v6_fraction;
    double leak_fraction;
    double backscatter_fraction;
    gint64 sampling;
    gint64 domain;
    char *format;
    char *out;
    char *bind;
    double rate;
    char *expect;
    gint64 step;
    char *sensor;
    char *time_field;
    /* blast mode */
    gboolean blast;
    double seconds;
    gint64 records;
    gint exporters;
    gint domains;
    gint family;
    char *port_dist;
    double zipf_s;
    gint per_msg;
    gint pool;
    gint template_every;
    double step_every;
    char *report;
    char *scenario;
} flowgen_args;

static void flowgen_args_clear(flowgen_args *a)
{
    char **strings[] = {&a->start,      &a->ports,     &a->countries, &a->geoip_table,
                        &a->geoip,      &a->dark,      &a->dark6,     &a->format,
                        &a->out,        &a->bind,      &a->expect,    &a->sensor,
                        &a->time_field, &a->port_dist, &a->report,    &a->scenario};
    for (guint i = 0; i < G_N_ELEMENTS(strings); i++)
        g_clear_pointer(strings[i], g_free);
}

static gboolean flowgen_parse_args(int *argc, char ***argv, flowgen_args *a, GError **error)
{
    GOptionEntry entries[] = {
        {"seed", 0, 0, G_OPTION_ARG_INT64, &a->seed, "Seed of all randomness (default 1)", "N"},
        {"flows", 0, 0, G_OPTION_ARG_INT64, &a->flows, "Number of flow records (default 10000)",
         "N"},
        {"start", 0, 0, G_OPTION_ARG_STRING, &a->start,
         "First flow time, epoch seconds or ISO 8601 (default 2019-01-01T00:00:00Z)", "TIME"},
        {"duration", 0, 0, G_OPTION_ARG_INT64, &a->duration,
         "Flows spread over [start, start+duration) (default 3600)", "SECONDS"},
        {"scenario", 0, 0, G_OPTION_ARG_STRING, &a->scenario,
         "Built-in scenario: telescope[:MONTH] or telescope-b[:MONTH] (MONTH 0..5 of two quarters)",
         "NAME"},
        {"ports", 0, 0, G_OPTION_ARG_STRING, &a->ports,
         "Weighted destination mix, e.g. 23/tcp:40,53/udp:5,icmp:5,icmp6:1,tail:24", "SPEC"},
        {"countries", 0, 0, G_OPTION_ARG_STRING, &a->countries,
         "Source country weights (default " FLOWGEN_DEFAULT_COUNTRIES ")", "SPEC"},
        {"geoip-table", 0, 0, G_OPTION_ARG_FILENAME, &a->geoip_table,
         "TSV of NETWORK<TAB>CC to draw sources from", "FILE"},
        {"geoip", 0, 0, G_OPTION_ARG_FILENAME, &a->geoip, "An .mmdb to draw sources from", "FILE"},
        {"sources", 0, 0, G_OPTION_ARG_INT, &a->sources,
         "Distinct source addresses per country (default 200)", "N"},
        {"dark", 0, 0, G_OPTION_ARG_STRING, &a->dark, "Darknet prefix (default 203.0.113.0/24)",
         "PREFIX"},
        {"dark6", 0, 0, G_OPTION_ARG_STRING, &a->dark6, "IPv6 darknet prefix (enables IPv6)",
         "PREFIX"},
        {"v6-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &a->v6_fraction,
         "Fraction of IPv6 flows with --dark6 (default 0.1)", "F"},
        {"leak-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &a->leak_fraction,
         "Fraction of flows to lit space 198.51.100.0/24 (default 0)", "F"},
        {"backscatter-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &a->backscatter_fraction,
         "Fraction of TCP flows that are SYN+ACK backscatter (default 0.1)", "F"},
        {"sampling", 0, 0, G_OPTION_ARG_INT64, &a->sampling,
         "Announce 1-in-N packet sampling (default 1: none)", "N"},
        {"domain", 0, 0, G_OPTION_ARG_INT64, &a->domain,
         "Observation domain / v9 source ID (default 1)", "N"},
        {"format", 0, 0, G_OPTION_ARG_STRING, &a->format, "ipfix (default) or v9 (udp only)",
         "FORMAT"},
        {"out", 0, 0, G_OPTION_ARG_STRING, &a->out,
         "file:PATH, udp://HOST:PORT or tcp://HOST:PORT (loopback only)", "TARGET"},
        {"bind", 0, 0, G_OPTION_ARG_STRING, &a->bind,
         "Loopback source address for udp/tcp (default 127.0.0.1)", "ADDR"},
        {"rate", 0, 0, G_OPTION_ARG_DOUBLE, &a->rate,
         "Records per second, 0 = unpaced (default 20000 for udp, 0 otherwise)", "N"},
        {"expect", 0, 0, G_OPTION_ARG_FILENAME, &a->expect,
         "Write the exact expected aggregates (JSON lines) and FILE.summary.json", "FILE"},
        {"step", 0, 0, G_OPTION_ARG_INT64, &a->step, "Bucket width of --expect (default 300)", "S"},
        {"sensor", 0, 0, G_OPTION_ARG_STRING, &a->sensor,
         "Sensor name in --expect lines (default s1)", "NAME"},
        {"time-field", 0, 0, G_OPTION_ARG_STRING, &a->time_field,
         "IPFIX time fields: ms (default), sec or sysuptime", "KIND"},
        G_OPTION_ENTRY_NULL,
    };
    GOptionEntry blast_entries[] = {
        {"blast", 0, 0, G_OPTION_ARG_NONE, &a->blast,
         "Blast mode: prebuilt messages through sendmmsg (udp only)", NULL},
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &a->seconds, "Send for this long (default 10)", "S"},
        {"records", 0, 0, G_OPTION_ARG_INT64, &a->records,
         "Stop after this many records instead (rounded up to whole messages)", "N"},
        {"exporters", 0, 0, G_OPTION_ARG_INT, &a->exporters,
         "Exporters: --bind, --bind+1, ... (default 1)", "N"},
        {"domains", 0, 0, G_OPTION_ARG_INT, &a->domains,
         "Observation domains per exporter: --domain, --domain+1, ... (default 1)", "N"},
        {"family", 0, 0, G_OPTION_ARG_INT, &a->family, "4 (default) or 6 (needs --dark6)", "F"},
        {"port-dist", 0, 0, G_OPTION_ARG_STRING, &a->port_dist,
         "uniform (default: every TCP and UDP port in turn) or zipf", "DIST"},
        {"zipf-s", 0, 0, G_OPTION_ARG_DOUBLE, &a->zipf_s, "Zipf exponent (default 1.0)", "S"},
        {"per-msg", 0, 0, G_OPTION_ARG_INT, &a->per_msg,
         "Records per datagram (default 26: 1372-byte IPFIX/IPv4 datagrams)", "N"},
        {"pool", 0, 0, G_OPTION_ARG_INT, &a->pool, "Distinct prebuilt messages (default 8192)",
         "N"},
        {"template-every", 0, 0, G_OPTION_ARG_INT, &a->template_every,
         "Resend templates every N messages of a stream (default 1000)", "N"},
        {"step-every", 0, 0, G_OPTION_ARG_DOUBLE, &a->step_every,
         "Compressed time: flow time advances one --step per S wall seconds", "S"},
        {"report", 0, 0, G_OPTION_ARG_FILENAME, &a->report,
         "Write the send summary (JSON) here instead of stdout", "FILE"},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--out TARGET");
    GOptionGroup *blast = g_option_group_new(
        "blast", "Blast mode (benchmark load):", "Show blast mode options", NULL, NULL);
    g_option_group_add_entries(blast, blast_entries);
    g_option_context_add_group(ctx, blast);
    g_option_context_set_summary(ctx,
                                 "Generate a seeded, reproducible darknet flow scenario, send it "
                                 "as IPFIX or NetFlow v9,\nand write its exact expected totals.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
    /* a built-in scenario fills what the command line left unset */
    return a->scenario == NULL || tt_flowgen_scenario(a->scenario, &a->ports, &a->countries, error);
}

static gboolean flowgen_fail(GError **error, const char *message)
{
    g_set_error_literal(error, TT_FLOWGEN_ERROR, 1, message);
    return FALSE;
}

static gboolean flowgen_parse_start(const char *text, int64_t *ms, GError **error)
{
    guint64 secs;
    if (g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT64 / 1000, &secs, NULL)) {
        *ms = (int64_t)secs * 1000;
        return TRUE;
    }
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, utc);
    if (dt == NULL || g_date_time_to_unix(dt) < 0) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1,
                    "--start: '%s' is neither epoch seconds nor an ISO 8601 time after 1970", text);
        return FALSE;
    }
    *ms = g_date_time_to_unix(dt) * 1000 + g_date_time_get_microsecond(dt) / 1000;
    return TRUE;
}

static gboolean flowgen_check(const flowgen_args *a, flowgen_scenario_config *sc,
                              flowgen_export_config *ec, GError **error)
{
    if (a->out == NULL)
        return flowgen_fail(error, "--out is required");
    if (a->seed < 0 || a->seed > G_MAXUINT32)
        return flowgen_fail(error, "--seed must be 0..4294967295");
    if (a->flows < 0 || a->flows > G_MAXUINT32)
        return flowgen_fail(error, "--flows must be 0..4294967295");
    if (a->duration < 1)
        return flowgen_fail(error, "--duration must be at least 1 second");
    if (a->sources < 1)
        return flowgen_fail(error, "--sources must be at least 1");
    if (a->sampling < 1 || a->sampling > G_MAXUINT32)
        return flowgen_fail(error, "--sampling must be 1..4294967295");
    if (a->domain < 0 || a->domain > G_MAXUINT32)
        return flowgen_fail(error, "--domain must be 0..4294967295");
    if (a->step < 1)
        return flowgen_fail(error, "--step must be at least 1");
    if (!(a->v6_fraction >= 0 && a->v6_fraction <= 1) ||
        !(a->leak_fraction >= 0 && a->leak_fraction <= 1) ||
        !(a->backscatter_fraction >= 0 && a->backscatter_fraction <= 1))
        return flowgen_fail(error, "fractions must be within 0..1");
    if (a->geoip != NULL && a->geoip_table != NULL)
        return flowgen_fail(error, "--geoip and --geoip-table exclude each other");

    sc->seed = (guint32)a->seed;
    sc->flows = (guint64)a->flows;
    sc->duration_s = a->duration;
    sc->sources = (guint)a->sources;
    sc->v6_fraction = a->v6_fraction;
    sc->leak_fraction = a->leak_fraction;
    sc->backscatter_fraction = a->backscatter_fraction;
    sc->ports = a->ports != NULL ? a->ports : tt_flowgen_default_ports;
    sc->countries = a->countries;
    if (sc->countries == NULL)
        sc->countries =
            a->geoip != NULL || a->geoip_table != NULL ? FLOWGEN_DEFAULT_COUNTRIES : "ZZ:1";
    if (!flowgen_parse_start(a->start != NULL ? a->start : "2019-01-01T00:00:00Z", &sc->start_ms,
                             error))
        return FALSE;
    if (!tt_flowgen_prefix_parse(a->dark != NULL ? a->dark : "203.0.113.0/24", &sc->dark, error))
        return FALSE;
    if (sc->dark.family != 4)
        return flowgen_fail(error, "--dark must be an IPv4 prefix (use --dark6 for IPv6)");
    if (a->dark6 != NULL) {
        if (!tt_flowgen_prefix_parse(a->dark6, &sc->dark6, error))
            return FALSE;
        if (sc->dark6.family != 6)
            return flowgen_fail(error, "--dark6 must be an IPv6 prefix");
        sc->has_dark6 = TRUE;
    }

    if (!tt_flowgen_target_parse(a->out, &ec->target, error))
        return FALSE;
    gboolean v9 = a->format != NULL && strcmp(a->format, "v9") == 0;
    if (a->format != NULL && !v9 && strcmp(a->format, "ipfix") != 0)
        return flowgen_fail(error, "--format must be ipfix or v9");
    if (v9 && ec->target.kind != FLOWGEN_OUT_UDP)
        return flowgen_fail(error, "--format v9 is sent over udp:// only");
    ec->bind = a->bind;
    ec->domain = (guint32)a->domain;
    ec->sampling = (guint32)a->sampling;
    ec->rate = a->rate >= 0 ? a->rate : ec->target.kind == FLOWGEN_OUT_UDP ? 20000 : 0;
    ec->boot_ms = sc->start_ms - FLOWGEN_BOOT_BEFORE_MS;
    const char *tf = a->time_field != NULL ? a->time_field : "ms";
    if (strcmp(tf, "ms") == 0)
        ec->time_field = FLOWGEN_TIME_MS;
    else if (strcmp(tf, "sec") == 0)
        ec->time_field = FLOWGEN_TIME_SEC;
    else if (strcmp(tf, "sysuptime") == 0)
        ec->time_field = FLOWGEN_TIME_SYSUPTIME;
    else
        return flowgen_fail(error, "--time-field must be ms, sec or sysuptime");
    /* sysUpTime is 32-bit milliseconds: about 49 days after the boot a day before --start */
    if ((v9 || ec->time_field == FLOWGEN_TIME_SYSUPTIME) &&
        FLOWGEN_BOOT_BEFORE_MS + (sc->duration_s + 5) * 1000 > (int64_t)G_MAXUINT32)
        return flowgen_fail(error, "--duration too long for 32-bit sysUpTime times");
    if (ec->time_field == FLOWGEN_TIME_SEC || v9 || ec->time_field == FLOWGEN_TIME_SYSUPTIME)
        if (sc->start_ms / 1000 + sc->duration_s + 5 > (int64_t)G_MAXUINT32)
            return flowgen_fail(error, "--start too late for 32-bit seconds");
    return TRUE;
}

static gboolean flowgen_blast(const flowgen_args *a, const flowgen_scenario_config *sc,
                              const flowgen_export_config *ec, flowgen_geo *geo, GError **error)
{
    if (a->records < 0 || a->exporters < 1 || a->domains < 1 || a->per_msg < 1 || a->pool < 1 ||
        a->template_every < 1 || a->step_every < 0 || !(a->zipf_s > 0))
        return flowgen_fail(error, "blast options must be positive");
    if (a->family != 4 && a->family != 6)
        return flowgen_fail(error, "--family must be 4 or 6");
    if (a->family == 6 && !sc->has_dark6)
        return flowgen_fail(error, "--family 6 needs --dark6");
    gboolean zipf = a->port_dist != NULL && strcmp(a->port_dist, "zipf") == 0;
    if (a->port_dist != NULL && !zipf && strcmp(a->port_dist, "uniform") != 0)
        return flowgen_fail(error, "--port-dist must be uniform or zipf");
    flowgen_blast_config bc = {
        .target = ec->target,
        .bind = a->bind,
        .geo = geo,
        .countries = sc->countries,
        .expect = a->expect,
        .report = a->report,
        .sensor = a->sensor != NULL ? a->sensor : "s1",
        .dark = sc->dark,
        .dark6 = sc->dark6,
        .seed = sc->seed,
        .domain = ec->domain,
        .start_ms = sc->start_ms,
        .boot_ms = ec->boot_ms,
        .step = a->step,
        .rate = a->rate > 0 ? a->rate : 0,
        .seconds = a->seconds,
        .step_every = a->step_every,
        .zipf_s = a->zipf_s,
        .max_records = (guint64)a->records,
        .exporters = (guint)a->exporters,
        .domains = (guint)a->domains,
        .per_msg = (guint)a->per_msg,
        .pool = (guint)a->pool,
        .template_every = (guint)a->template_every,
        .sources = sc->sources,
        .family = a->family,
        .v9 = a->format != NULL && strcmp(a->format, "v9") == 0,
        .zipf = zipf,
    };
    return tt_flowgen_blast_run(&bc, error);
}

static gboolean flowgen_run(int argc, char **argv, GError **error)
{
    flowgen_args a = {.seed = 1,
                      .flows = 10000,
                      .duration = 3600,
                      .sources = 200,
                      .v6_fraction = 0.1,
                      .backscatter_fraction = 0.1,
                      .sampling = 1,
                      .domain = 1,
                      .rate = -1,
                      .step = 300,
                      .seconds = 10,
                      .exporters = 1,
                      .domains = 1,
                      .family = 4,
                      .zipf_s = 1.0,
                      .per_msg = 26,
                      .pool = 8192,
                      .template_every = 1000};
    flowgen_scenario_config sc = {0};
    flowgen_export_config ec = {0};
    gboolean ok = FALSE;
    g_autoptr(flowgen_geo) geo = NULL;
    g_autoptr(GArray) flows = NULL;

    if (!flowgen_parse_args(&argc, &argv, &a, error) || !flowgen_check(&a, &sc, &ec, error))
        goto err_clear_args;
    if (argc > 1) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "unexpected argument '%s'", argv[1]);
        goto err_clear_args;
    }
    if (a.geoip_table != NULL) {
        geo = tt_flowgen_geo_load_table(a.geoip_table, error);
    } else if (a.geoip != NULL) {
        g_auto(GStrv) parts = g_strsplit(sc.countries, ",", -1);
        for (guint i = 0; parts[i] != NULL; i++) {
            char *colon = strchr(parts[i], ':');
            if (colon != NULL)
                *colon = '\0';
            g_strstrip(parts[i]);
            parts[i][0] = g_ascii_toupper(parts[i][0]);
            if (parts[i][0] != '\0')
                parts[i][1] = g_ascii_toupper(parts[i][1]);
        }
        geo = tt_flowgen_geo_load_mmdb(a.geoip, parts, sc.has_dark6, error);
    } else {
        geo = tt_flowgen_geo_new_empty();
    }
    if (geo == NULL)
        goto err_clear_args;
    if (a.blast) {
        ok = flowgen_blast(&a, &sc, &ec, geo, error);
        goto err_clear_args;
    }
    flows = tt_flowgen_scenario_build(&sc, geo, error);
    if (flows == NULL)
        goto err_clear_args;
    if (a.expect != NULL &&
        !tt_flowgen_expect_write(flows, a.expect, a.step, a.sensor != NULL ? a.sensor : "s1",
                                 ec.sampling, error))
        goto err_clear_args;
    if (a.format != NULL && strcmp(a.format, "v9") == 0)
        ok = tt_flowgen_v9_send(flows, &ec, error);
    else
        ok = tt_flowgen_ipfix_send(flows, &ec, error);

err_clear_args:
    tt_flowgen_target_clear(&ec.target);
    flowgen_args_clear(&a);
    return ok;
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    if (!flowgen_run(argc, argv, &error)) {
        fprintf(stderr, "flowgen: %s\n", error->message);
        return 1;
    }
    return 0;
}
