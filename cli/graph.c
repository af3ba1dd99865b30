/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * graph.c - `teiten graph`: a PNG or SVG of ports, countries, sensors or the
 * total over a period, from the RRD files alone.
 *
 *   teiten graph -d DATA [--start T --end T | --quarter 2019Q1] [--stacked]
 *                [--ds packets|flows|bytes|sources] [--format png|svg]
 *                -o OUT.png  port:23/tcp port:icmp country:RU sensor:tokyo-1 total
 *
 * Series are named on the command line; each maps to one file of DATA/rrd
 * (docs/storage.md). Legends name ports as "23/TCP (telnet)". The picture is
 * described once as an rrdtool argv (rrd/graph.c), so --print-command shows
 * the plain `rrdtool graph` command that draws the same picture. Times are
 * epoch seconds or ISO 8601. A quarter is cut as `teiten rank` and `teiten
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
 * @a quarter's seconds, as rank and report cut it. The zone: the rollup database's in @a data
 * (a --tz that differs is an error, as for rank), else @a tz_opt, else UTC.
 */
static gboolean graph_quarter(const char *data, const char *quarter, const char *tz_opt,
                              int64_t *start, int64_t *end, GError **error)
{
    tt_period_kind kind;
    tt_rank_period cur = {0}, prev = {0};
    g_autofree char *tz = NULL;
    if (!tt_rank_periods(quarter, NULL, NULL, NULL, NULL, &kind, &cur, &prev, error))
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

/* "port:23/tcp" -> port/tcp/23.rrd, "23/TCP (telnet)". */
static tt_rrd_series *graph_parse_series(const char *rrd_dir, const char *spec)
{
    tt_rrd_series *s = g_new0(tt_rrd_series, 1);
    unsigned port = 0;
    char proto[8] = "";
    g_autofree char *rel = NULL;
    if (strcmp(spec, "total") == 0) {
        rel = g_strdup("total.rrd");
        s->label = g_strdup("total");
    } else if (g_str_has_prefix(spec, "port:icmp")) {
        rel = g_strdup("port/icmp.rrd");
        s->label = g_strdup("ICMP");
    } else if (sscanf(spec, "port:%u/%7s", &port, proto) == 2 && port < 65536 &&
               (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0)) {
        rel = g_strdup_printf("port/%s/%u.rrd", proto, port);
        const char *name = tt_service_name(proto[0] == 't' ? 6 : 17, (uint16_t)port);
        g_autofree char *up = g_ascii_strup(proto, -1);
        s->label = name != NULL ? g_strdup_printf("%u/%s (%s)", port, up, name)
                                : g_strdup_printf("%u/%s", port, up);
    } else if (g_str_has_prefix(spec, "country:") && strlen(spec) == 10) {
        g_autofree char *cc = g_ascii_strup(spec + 8, -1);
        rel = g_strdup_printf("country/%s.rrd", cc);
        s->label = g_strdup(cc);
    } else if (g_str_has_prefix(spec, "sensor:") && spec[7] != '\0' && !strchr(spec + 7, '/')) {
        rel = g_strdup_printf("sensor/%s/total.rrd", spec + 7);
        s->label = g_strdup_printf("sensor %s", spec + 7);
    } else {
        graph_series_free(s);
        return NULL;
    }
    s->file = g_build_filename(rrd_dir, rel, NULL);
    return s;
}

int tt_cli_graph(int argc, char **argv)
{
    g_autofree char *data = NULL, *start_s = NULL, *end_s = NULL, *quarter = NULL, *out = NULL;
    g_autofree char *ds = NULL, *format = NULL, *title = NULL, *daemon = NULL, *tz = NULL;
    gboolean stacked = FALSE, print = FALSE;
    int width = 800, height = 250;
    GOptionEntry entries[] = {
        {"data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data, "teitend's data-dir", "DIR"},
        {"start", 's', 0, G_OPTION_ARG_STRING, &start_s, "first second (epoch or ISO 8601)", "T"},
        {"end", 'e', 0, G_OPTION_ARG_STRING, &end_s, "end (epoch or ISO 8601)", "T"},
        {"quarter", 'q', 0, G_OPTION_ARG_STRING, &quarter,
         "a calendar quarter in the rollup database's zone, as rank cuts it", "YYYYQn"},
        {"tz", 0, 0, G_OPTION_ARG_STRING, &tz,
         "the quarter's zone: asserts the rollup database's; without one, default UTC", "ZONE"},
        {"ds", 0, 0, G_OPTION_ARG_STRING, &ds,
         "packets (default), flows (flow records as received), bytes or sources", "DS"},
        {"stacked", 0, 0, G_OPTION_ARG_NONE, &stacked, "stacked areas instead of lines", NULL},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "png (default) or svg", "FMT"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "image file to write", "FILE"},
        {"title", 't', 0, G_OPTION_ARG_STRING, &title, "title", "TEXT"},
        {"width", 0, 0, G_OPTION_ARG_INT, &width, "plot width, pixels (800)", "N"},
        {"height", 0, 0, G_OPTION_ARG_INT, &height, "plot height, pixels (250)", "N"},
        {"daemon", 0, 0, G_OPTION_ARG_STRING, &daemon, "rrdcached to flush through", "ADDR"},
        {"print-command", 0, 0, G_OPTION_ARG_NONE, &print, "also print the rrdtool command", NULL},
        G_OPTION_ENTRY_NULL};
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "SERIES... - graph port:23/tcp port:icmp country:RU sensor:NAME total");
    g_autoptr(GError) error = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("teiten graph: %s\n", error->message);
        return 2;
    }
    if (data == NULL || out == NULL || argc < 2) {
        g_printerr("teiten graph: need --data-dir, --output and at least one series\n");
        return 2;
    }
    int64_t start = 0, end = 0;
    if (quarter != NULL) {
        if (!graph_quarter(data, quarter, tz, &start, &end, &error)) {
            g_printerr("teiten graph: %s\n", error->message);
            return 2;
        }
    } else if (start_s == NULL || end_s == NULL || !graph_time(start_s, &start) ||
               !graph_time(end_s, &end) || end <= start) {
        g_printerr("teiten graph: need --start and --end (epoch or ISO 8601, end > start) "
                   "or --quarter\n");
        return 2;
    }
    if (ds == NULL)
        ds = g_strdup("packets");
    if (strcmp(ds, "packets") != 0 && strcmp(ds, "flows") != 0 && strcmp(ds, "bytes") != 0 &&
        strcmp(ds, "sources") != 0) {
        g_printerr("teiten graph: --ds %s: packets, flows, bytes or sources\n", ds);
        return 2;
    }
    const char *fmt = format == NULL || g_ascii_strcasecmp(format, "png") == 0 ? "PNG"
                      : g_ascii_strcasecmp(format, "svg") == 0                 ? "SVG"
                                                                               : NULL;
    if (fmt == NULL) {
        g_printerr("teiten graph: --format %s: png or svg\n", format);
        return 2;
    }
    g_autofree char *rrd_dir = g_build_filename(data, "rrd", NULL);
    g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func(graph_series_free);
    for (int i = 1; i < argc; i++) {
        tt_rrd_series *s = graph_parse_series(rrd_dir, argv[i]);
        if (s == NULL) {
            g_printerr("teiten graph: %s: expected port:N/tcp|udp, port:icmp, country:CC, "
                       "sensor:NAME or total\n",
                       argv[i]);
            return 2;
        }
        if (!g_file_test(s->file, G_FILE_TEST_EXISTS)) {
            g_printerr("teiten graph: %s: no file %s (no traffic recorded?)\n", argv[i], s->file);
            graph_series_free(s);
            return 1;
        }
        g_ptr_array_add(series, s);
    }
    tt_rrd_graph_spec spec = {.output = out,
                              .format = fmt,
                              .start = start,
                              .end = end,
                              .ds = ds,
                              .stacked = stacked,
                              .title = title,
                              .width = width,
                              .height = height,
                              .daemon = daemon,
                              .series = series};
    if (print) {
        g_autoptr(GPtrArray) a = tt_rrd_graph_argv(&spec);
        g_autofree char *cmd = tt_rrd_graph_command(a);
        printf("%s\n", cmd);
    }
    int w = 0, h = 0;
    if (!tt_rrd_graph_draw(&spec, &w, &h, &error)) {
        g_printerr("teiten graph: %s\n", error->message);
        return 1;
    }
    printf("%s: %dx%d %s\n", out, w, h, fmt);
    return 0;
}
