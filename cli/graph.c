/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * graph.c - `teiten graph`: a PNG or SVG of ports, countries, sensors or the
 * total over a period, from the RRD files alone.
 *
 *   teiten graph --data DIR [--start T --end T | --quarter 2019Q1 | --month 2019-03 |
 *                --year 2019 | --from DAY --to DAY] [--stacked]
 *                [--metric packets|flows|bytes|sources] [--format png|svg] [--lang en|ja]
 *                -o OUT.png  port:23/tcp port:icmp country:RU sensor:tokyo-1 total
 *
 * The options are spelled as rank's and report's (--data, --metric, the period
 * options, --tz, --lang, --services); graph's first spellings --data-dir, --ds
 * and -s (--start) are accepted, hidden from --help.
 *
 * Series are named on the command line; each maps to one file of DATA/rrd
 * (docs/storage.md). Legends name ports as "23/TCP (telnet)". The picture is
 * described once as an rrdtool argv (rrd/graph.c), so --print-command shows
 * the plain `rrdtool graph` command that draws the same picture. Times are
 * epoch seconds or ISO 8601. A period is cut as `teiten rank` and `teiten
 * report` cut it (rank_table.c): local days of the zone the collector's rollup
 * database was written in (DATA/rollup.sqlite), --tz asserting it; without a
 * rollup database, the --tz given or UTC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "graph.h"
#include "rank_table.h"
#include "services.h"

static void graph_series_free(gpointer p)
{
    tt_rrd_series *s = p;
    g_free(s->file);
    g_free(s->label);
    g_free(s);
}

static gboolean graph_time(const char *text, int64_t *out)
{
    char *end = NULL;
    gint64 v = g_ascii_strtoll(text, &end, 10);
    if (end != text && *end == '\0') {
        *out = v;
        return TRUE;
    }
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, g_time_zone_new_utc());
    if (dt == NULL)
        return FALSE;
    *out = g_date_time_to_unix(dt);
    return TRUE;
}

/*
 * The period's seconds, as rank and report cut it. The zone: the rollup database's in @a data
 * (a --tz that differs is an error, as for rank), else @a tz_opt, else UTC.
 */
static gboolean graph_period(const char *data, const tt_period_opts *period, const char *tz_opt,
                             int64_t *start, int64_t *end, GError **error)
{
    tt_period_kind kind;
    tt_rank_period cur = {0}, prev = {0};
    g_autofree char *tz = NULL;
    if (!tt_period_opts_resolve(period, &kind, &cur, &prev, error))
        return FALSE;
    g_autofree char *db = g_build_filename(data, "rollup.sqlite", NULL);
    if (g_file_test(db, G_FILE_TEST_IS_REGULAR)) {
        char *dirs[] = {(char *)data, NULL};
        const char *z = NULL;
        GPtrArray *dbs = tt_rank_open(dirs, NULL, tz_opt, &z, error);
        if (dbs == NULL)
            goto err;
        tz = g_strdup(z);
        g_ptr_array_free(dbs, TRUE);
    } else {
        tz = g_strdup(tz_opt != NULL ? tz_opt : "UTC");
        g_autoptr(GTimeZone) zone = g_time_zone_new_identifier(tz);
        if (zone == NULL) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--tz %s: unknown zone",
                        tz);
            goto err;
        }
    }
    tt_rank_period_range(&cur, tz, start, end);
    tt_rank_period_clear(&cur);
    tt_rank_period_clear(&prev);
    return TRUE;

err:
    tt_rank_period_clear(&cur);
    tt_rank_period_clear(&prev);
    return FALSE;
}

static gint graph_name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sensors with an RRD directory in @a rrd_dir, sorted. (transfer full) */
static GPtrArray *graph_sensors(const char *rrd_dir)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *dir = g_build_filename(rrd_dir, "sensor", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    for (const char *n; d != NULL && (n = g_dir_read_name(d)) != NULL;)
        g_ptr_array_add(names, g_strdup(n));
    if (d != NULL)
        g_dir_close(d);
    g_ptr_array_sort(names, graph_name_cmp);
    return names;
}

/* "port:23/tcp" -> port/tcp/23.rrd, "23/TCP (telnet/Mirai)"; NULL with a message. */
static tt_rrd_series *graph_parse_series(const char *rrd_dir, const char *spec, gboolean ja,
                                         GError **error)
{
    static const char *const kinds[] = {"port", "country", "sensor", "total", NULL};
    tt_rrd_series *s = g_new0(tt_rrd_series, 1);
    unsigned port = 0;
    int used = 0;
    char proto[8] = "";
    const char *colon = strchr(spec, ':');
    g_autofree char *kind = colon != NULL ? g_strndup(spec, (gsize)(colon - spec)) : g_strdup(spec);
    if (strcmp(spec, "total") == 0) {
        s->file = g_build_filename(rrd_dir, "total.rrd", NULL);
        s->label = g_strdup(ja ? "全体" : "total");
    } else if (strcmp(spec, "port:icmp") == 0 || strcmp(spec, "port:icmp6") == 0) {
        s->file = g_build_filename(rrd_dir, "port", "icmp.rrd", NULL);
        s->label = g_strdup("ICMP");
    } else if (strcmp(kind, "port") == 0) {
        if (sscanf(spec, "port:%u/%7[a-z]%n", &port, proto, &used) != 2 || spec[used] != '\0' ||
            port > 65535 || (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "%s: expected port:N/tcp, port:N/udp or port:icmp (N 0 to 65535)", spec);
            goto err;
        }
        g_autofree char *base = g_strdup_printf("%u.rrd", port);
        s->file = g_build_filename(rrd_dir, "port", proto, base, NULL);
        const char *name = tt_service_name(proto[0] == 't' ? 6 : 17, (uint16_t)port);
        g_autofree char *up = g_ascii_strup(proto, -1);
        s->label = name != NULL ? g_strdup_printf("%u/%s (%s)", port, up, name)
                                : g_strdup_printf("%u/%s", port, up);
    } else if (strcmp(kind, "country") == 0) {
        if (strlen(spec) != 10 || !g_ascii_isalpha(spec[8]) || !g_ascii_isalpha(spec[9])) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "%s: expected country:CC, a two-letter ISO 3166 code (country:RU)", spec);
            goto err;
        }
        g_autofree char *cc = g_ascii_strup(spec + 8, -1);
        g_autofree char *base = g_strdup_printf("%s.rrd", cc);
        s->file = g_build_filename(rrd_dir, "country", base, NULL);
        g_autofree char *cname = tt_rank_row_label("country", cc, ja);
        s->label = strcmp(cname, cc) != 0 ? g_strdup_printf("%s %s", cc, cname) : g_strdup(cc);
    } else if (strcmp(kind, "sensor") == 0) {
        const char *name = spec + 7;
        g_autoptr(GPtrArray) known = graph_sensors(rrd_dir);
        gboolean found = FALSE;
        for (guint i = 0; i < known->len; i++)
            found = found || strcmp(name, g_ptr_array_index(known, i)) == 0;
        if (!found) {
            const char *near = tt_nearest(name, (const char *const *)known->pdata, known->len);
            g_autofree char *all = NULL;
            if (known->len > 0 && known->len <= 10) {
                g_ptr_array_add(known, NULL); /* g_strjoinv() reads up to a NULL */
                all = g_strjoinv(", ", (char **)known->pdata);
            }
            if (near != NULL)
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "%s: no sensor \"%s\" in %s/sensor; did you mean sensor:%s?", spec,
                            name, rrd_dir, near);
            else
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "%s: no sensor \"%s\" in %s/sensor (sensors: %s)", spec, name, rrd_dir,
                            all != NULL      ? all
                            : known->len > 0 ? "many"
                                             : "none");
            goto err;
        }
        s->file = g_build_filename(rrd_dir, "sensor", name, "total.rrd", NULL);
        s->label = g_strdup_printf(ja ? "センサー %s" : "sensor %s", name);
    } else {
        const char *near = tt_nearest(kind, kinds, -1);
        if (near != NULL)
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "%s: unknown series \"%s\"; did you mean %s%s? (valid: port:N/tcp, "
                        "port:N/udp, port:icmp, country:CC, sensor:NAME, total)",
                        spec, kind, near, strcmp(near, "total") == 0 ? "" : ":...");
        else
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "%s: unknown series; valid: port:N/tcp, port:N/udp, port:icmp, "
                        "country:CC, sensor:NAME, total",
                        spec);
        goto err;
    }
    return s;

err:
    graph_series_free(s);
    return NULL;
}

int tt_cli_graph(int argc, char **argv)
{
    g_autofree char *data = NULL, *start_s = NULL, *end_s = NULL, *out = NULL;
    g_autofree char *ds = NULL, *format = NULL, *title = NULL, *daemon = NULL, *tz = NULL;
    g_autofree char *lang = NULL, *per_s = NULL, *rrd_dir = NULL, *vlabel = NULL;
    g_autofree char *total_fmt = NULL;
    g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func(graph_series_free);
    g_auto(GStrv) services = NULL;
    tt_period_opts period = {0};
    gboolean stacked = FALSE, print = FALSE;
    int width = 800, height = 250;
    GOptionEntry entries[] = {
        {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "a collector's data directory", "DIR"},
        {"data-dir", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &data, NULL, NULL},
        {"start", 0, 0, G_OPTION_ARG_STRING, &start_s, "first second (epoch or ISO 8601)", "T"},
        {"begin", 's', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &start_s, NULL, NULL},
        {"end", 'e', 0, G_OPTION_ARG_STRING, &end_s, "end (epoch or ISO 8601)", "T"},
        G_OPTION_ENTRY_NULL};
    GOptionEntry period_entries[TT_PERIOD_OPTS_ENTRIES];
    tt_period_opts_entries(&period, period_entries);
    GOptionEntry rest[] = {
        {"tz", 0, 0, G_OPTION_ARG_STRING, &tz,
         "the period's zone: asserts the rollup database's; without one, default UTC", "ZONE"},
        {"metric", 0, 0, G_OPTION_ARG_STRING, &ds,
         "packets (default), flows (flow records as received), bytes or sources",
         "packets|flows|bytes|sources"},
        {"ds", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &ds, NULL, NULL},
        {"per", 0, 0, G_OPTION_ARG_STRING, &per_s,
         "rates per hour or day (default: per hour when the peak reaches 10 an hour)", "hour|day"},
        {"stacked", 0, 0, G_OPTION_ARG_NONE, &stacked, "stacked areas instead of lines", NULL},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "image format (default png)", "png|svg"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "image file to write", "FILE"},
        {"title", 't', 0, G_OPTION_ARG_STRING, &title, "title", "TEXT"},
        {"lang", 0, 0, G_OPTION_ARG_STRING, &lang, "axis and legend words (default en)", "en|ja"},
        {"services", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &services,
         "port names over the shipped ones, \"5555/tcp Android ADB\" lines (repeatable; "
         "DATA/services.tsv is read first)",
         "FILE"},
        {"width", 0, 0, G_OPTION_ARG_INT, &width, "plot width, pixels (800)", "N"},
        {"height", 0, 0, G_OPTION_ARG_INT, &height, "plot height, pixels (250)", "N"},
        {"daemon", 0, 0, G_OPTION_ARG_STRING, &daemon, "rrdcached to flush through", "ADDR"},
        {"print-command", 0, 0, G_OPTION_ARG_NONE, &print, "also print the rrdtool command", NULL},
        G_OPTION_ENTRY_NULL};
    const GOptionEntry *groups[] = {entries, period_entries, rest, NULL};
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "SERIES... - graph port:23/tcp port:icmp country:RU sensor:NAME total");
    g_option_context_set_summary(
        ctx, "RRD graphs over a period (--quarter, --month, --year, --from/--to as rank cuts\n"
             "them, or --start/--end), rates per hour or per day. See docs/storage.md.");
    g_autoptr(GError) error = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, period_entries, NULL);
    g_option_context_add_main_entries(ctx, rest, NULL);
    int status = 2;
    if (!tt_cli_parse(ctx, "graph", groups, &argc, &argv))
        goto out;
    if (data == NULL || out == NULL || argc < 2) {
        tt_cli_error("graph", "need %s (see teiten graph --help)",
                     data == NULL  ? "--data DIR"
                     : out == NULL ? "--output FILE"
                                   : "at least one series (port:23/tcp, country:RU, total ...)");
        goto out;
    }
    static const char *const metrics[] = {"packets", "flows", "bytes", "sources", NULL};
    static const char *const formats[] = {"png", "svg", NULL};
    static const char *const langs[] = {"en", "ja", NULL};
    static const char *const pers[] = {"hour", "day", NULL};
    if (ds == NULL)
        ds = g_strdup("packets");
    if (!tt_cli_choice("graph", "--metric", ds, metrics) ||
        (format != NULL && !tt_cli_choice("graph", "--format", format, formats)) ||
        (lang != NULL && !tt_cli_choice("graph", "--lang", lang, langs)) ||
        (per_s != NULL && !tt_cli_choice("graph", "--per", per_s, pers)))
        goto out;
    gboolean ja = lang != NULL && strcmp(lang, "ja") == 0;
    int64_t start = 0, end = 0;
    gboolean has_period = period.quarter != NULL || period.month != NULL || period.year != NULL ||
                          period.from != NULL || period.to != NULL;
    if (has_period && (start_s != NULL || end_s != NULL)) {
        tt_cli_error("graph", "give a period (--quarter, --month, --year, --from/--to) or "
                              "--start and --end, not both");
        goto out;
    }
    if (has_period) {
        if (!graph_period(data, &period, tz, &start, &end, &error)) {
            tt_cli_error("graph", "%s", error->message);
            status = error->domain == G_OPTION_ERROR ? 2 : 1;
            goto out;
        }
    } else if (start_s == NULL || end_s == NULL || !graph_time(start_s, &start) ||
               !graph_time(end_s, &end) || end <= start) {
        tt_cli_error("graph", "need --start and --end (epoch or ISO 8601, end > start) or a "
                              "period (--quarter 2019Q1, --month, --year, --from/--to)");
        goto out;
    }
    rrd_dir = g_build_filename(data, "rrd", NULL);
    if (!tt_services_load_for(data, services, &error)) {
        tt_cli_error("graph", "%s", error->message);
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        tt_rrd_series *s = graph_parse_series(rrd_dir, argv[i], ja, &error);
        if (s == NULL) {
            tt_cli_error("graph", "%s", error->message);
            goto out;
        }
        if (!g_file_test(s->file, G_FILE_TEST_EXISTS)) {
            tt_cli_error("graph", "%s: no file %s (no traffic recorded for it?)", argv[i], s->file);
            graph_series_free(s);
            status = 1;
            goto out;
        }
        g_ptr_array_add(series, s);
    }
    tt_rrd_graph_spec spec = {.output = out,
                              .format =
                                  format != NULL && strcmp(format, "svg") == 0 ? "SVG" : "PNG",
                              .start = start,
                              .end = end,
                              .ds = ds,
                              .stacked = stacked,
                              .title = title,
                              .width = width,
                              .height = height,
                              .daemon = daemon,
                              .series = series,
                              .per = per_s == NULL               ? 0
                                     : strcmp(per_s, "day") == 0 ? 86400
                                                                 : 3600};
    status = 1;
    if (!tt_rrd_graph_choose_per(&spec, &error)) {
        tt_cli_error("graph", "%s", error->message);
        goto out;
    }
    vlabel = ja ? tt_graph_vlabel_ja(ds, spec.per) : NULL;
    total_fmt = ja ? tt_graph_total_ja(ds) : NULL;
    spec.vlabel = vlabel;
    spec.total_fmt = total_fmt;
    if (print) {
        g_autoptr(GPtrArray) a = tt_rrd_graph_argv(&spec);
        g_autofree char *cmd = tt_rrd_graph_command(a);
        printf("%s\n", cmd);
    }
    int w = 0, h = 0;
    if (!tt_rrd_graph_draw(&spec, &w, &h, &error)) {
        tt_cli_error("graph", "%s", error->message);
        goto out;
    }
    printf("%s: %dx%d %s\n", out, w, h, spec.format);
    status = 0;
out:
    tt_period_opts_clear(&period);
    return status;
}

/* ---- words shared with the report ---------------------------------------- */

char *tt_graph_vlabel_ja(const char *ds, int per)
{
    const char *what = strcmp(ds, "flows") == 0     ? "フローレコード数"
                       : strcmp(ds, "bytes") == 0   ? "バイト数"
                       : strcmp(ds, "sources") == 0 ? "送信元数"
                                                    : "パケット数";
    return g_strdup_printf("%s / %s", what, per >= 86400 ? "日" : per >= 3600 ? "時" : "秒");
}

char *tt_graph_total_ja(const char *ds)
{
    const char *what = strcmp(ds, "flows") == 0     ? "フローレコード"
                       : strcmp(ds, "bytes") == 0   ? "バイト"
                       : strcmp(ds, "sources") == 0 ? "送信元"
                                                    : "パケット";
    return g_strdup_printf("合計 %%.0lf %s", what);
}
