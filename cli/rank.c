/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rank.c - `teiten rank`: the quarterly table of a darknet observatory,
 * "rank | destination port | previous quarter's rank" (and the same for
 * source countries), from the rollup plugin's exact per-day counters.
 *
 * This file is the command line only: periods, ranking, order, ties and the
 * four output formats live in rank_table.c, shared with `teiten report`, so a
 * published report's tables are exactly what this command prints. A --tz
 * other than the database's own zone is an error (see rank_table.c).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rank_table.h"
#include "services.h"

typedef struct {
    char **data;
    char **dbs;
    tt_period_opts period;
    char *by, *metric, *cls, *sensor, *tz, *format, *lang;
    char **services;
    int top;
} rank_opts;

/* ---- the command ---------------------------------------------------------- */

static void rank_opts_clear(rank_opts *o)
{
    g_strfreev(o->data);
    g_strfreev(o->dbs);
    tt_period_opts_clear(&o->period);
    g_free(o->by);
    g_free(o->metric);
    g_free(o->cls);
    g_free(o->sensor);
    g_free(o->tz);
    g_free(o->format);
    g_free(o->lang);
    g_strfreev(o->services);
}

/* A --sensor that no database has heard of is a typo, not an empty table. */
static gboolean rank_sensor_known(GPtrArray *dbs, const char *sensor, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < dbs->len; i++)
        if (!tt_rollup_db_sensors(g_ptr_array_index(dbs, i), names, error))
            return FALSE;
    for (guint i = 0; i < names->len; i++)
        if (strcmp(g_ptr_array_index(names, i), sensor) == 0)
            return TRUE;
    const char *near = tt_nearest(sensor, (const char *const *)names->pdata, names->len);
    g_ptr_array_add(names, NULL);
    g_autofree char *all = g_strjoinv(", ", (char **)names->pdata);
    if (near != NULL)
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--sensor %s: no such sensor in the rollup database; did you mean %s?", sensor,
                    near);
    else
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--sensor %s: no such sensor in the rollup database (sensors: %s)", sensor,
                    *all != '\0' ? all : "none");
    return FALSE;
}

static int rank_run(rank_opts *o)
{
    g_autoptr(GError) error = NULL;
    static const char *const bys[] = {"port", "country", NULL};
    static const char *const metrics[] = {"packets", "flows", "bytes", NULL};
    static const char *const classes[] = {"scan", "backscatter", "other", "all", NULL};
    static const char *const formats[] = {"text", "csv", "json", "md", NULL};
    static const char *const langs[] = {"en", "ja", NULL};
    if (!tt_cli_choice("rank", "--by", o->by, bys) ||
        !tt_cli_choice("rank", "--metric", o->metric, metrics) ||
        !tt_cli_choice("rank", "--class", o->cls, classes) ||
        !tt_cli_choice("rank", "--format", o->format, formats) ||
        !tt_cli_choice("rank", "--lang", o->lang, langs))
        return 2;
    if (o->top < 1) {
        tt_cli_error("rank", "--top %d: a positive number of rows", o->top);
        return 2;
    }
    if (!tt_services_load_for(o->data != NULL ? o->data[0] : NULL, o->services, &error)) {
        tt_cli_error("rank", "%s", error->message);
        return 2;
    }
    tt_rank_period cur = {0}, prev = {0};
    tt_period_kind kind;
    const char *tz = NULL;
    int status = 1;
    if (!tt_period_opts_resolve(&o->period, &kind, &cur, &prev, &error)) {
        tt_cli_error("rank", "%s", error->message);
        return 2;
    }
    GPtrArray *dbs = tt_rank_open(o->data, o->dbs, o->tz, &tz, &error);
    if (dbs == NULL) {
        tt_cli_error("rank", "%s", error->message);
        status = error->domain == G_OPTION_ERROR ? 2 : 1;
        goto out_periods;
    }
    if (o->sensor != NULL && !rank_sensor_known(dbs, o->sensor, &error)) {
        tt_cli_error("rank", "%s", error->message);
        status = error->domain == G_OPTION_ERROR ? 2 : 1;
        goto out_dbs;
    }
    tt_rank_query q = {
        .by = o->by, .metric = o->metric, .cls = o->cls, .sensor = o->sensor, .top = (guint)o->top};
    tt_rank_table *t = tt_rank_table_build(dbs, &q, kind, &cur, &prev, tz, &error);
    if (t == NULL) {
        tt_cli_error("rank", "%s", error->message);
        goto out_dbs;
    }
    GString *out = g_string_new(NULL);
    tt_rank_table_format(t,
                         strcmp(o->format, "json") == 0  ? TT_RANK_JSON
                         : strcmp(o->format, "csv") == 0 ? TT_RANK_CSV
                         : strcmp(o->format, "md") == 0  ? TT_RANK_MD
                                                         : TT_RANK_TEXT,
                         strcmp(o->lang, "ja") == 0, out);
    fwrite(out->str, 1, out->len, stdout);
    status = fflush(stdout) == 0 ? 0 : 1;
    g_string_free(out, TRUE);
    tt_rank_table_free(t);
out_dbs:
    g_ptr_array_free(dbs, TRUE);
out_periods:
    tt_rank_period_clear(&cur);
    tt_rank_period_clear(&prev);
    return status;
}

int tt_cli_rank(int argc, char **argv)
{
    rank_opts o = {.top = 5};
    g_autoptr(GError) error = NULL;
    GOptionEntry entries[] = {{"data", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &o.data,
                               "a collector's data directory (repeatable: databases are summed)",
                               "DIR"},
                              {"db", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.dbs,
                               "a rollup database file (repeatable)", "FILE"},
                              G_OPTION_ENTRY_NULL};
    GOptionEntry period[TT_PERIOD_OPTS_ENTRIES];
    tt_period_opts_entries(&o.period, period);
    GOptionEntry rest[] = {
        {"by", 'b', 0, G_OPTION_ARG_STRING, &o.by, "port (default) or country", "port|country"},
        {"top", 'n', 0, G_OPTION_ARG_INT, &o.top, "rows to print (default 5)", "N"},
        {"metric", 0, 0, G_OPTION_ARG_STRING, &o.metric,
         "ranking metric (default packets; flows = records x sampling, an estimate)",
         "packets|flows|bytes"},
        {"class", 0, 0, G_OPTION_ARG_STRING, &o.cls, "traffic class (default all)",
         "scan|backscatter|other|all"},
        {"sensor", 's', 0, G_OPTION_ARG_STRING, &o.sensor, "only this sensor", "NAME"},
        {"tz", 0, 0, G_OPTION_ARG_STRING, &o.tz,
         "assert the time zone (default: the database's; any other is an error)", "ZONE"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format, "output (default text)",
         "text|csv|json|md"},
        {"lang", 0, 0, G_OPTION_ARG_STRING, &o.lang, "headings and country names (default en)",
         "en|ja"},
        {"services", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.services,
         "port names over the shipped ones, \"5555/tcp Android ADB\" lines (repeatable; "
         "DATA/services.tsv is read first)",
         "FILE"},
        G_OPTION_ENTRY_NULL};
    const GOptionEntry *groups[] = {entries, period, rest, NULL};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- rank ports or countries over a period");
    g_option_context_set_summary(
        ctx, "Exact ranks from the rollup database(s), with the previous period's rank.\n"
             "Ties: by the metric, then the key in byte order. See docs/rank.md.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, period, NULL);
    g_option_context_add_main_entries(ctx, rest, NULL);
    if (!tt_cli_parse(ctx, "rank", groups, &argc, &argv)) {
        rank_opts_clear(&o);
        return 2;
    }
    if (argc > 1) {
        tt_cli_error("rank", "unexpected argument %s (see teiten rank --help)", argv[1]);
        rank_opts_clear(&o);
        return 2;
    }
    if (o.by == NULL)
        o.by = g_strdup("port");
    if (o.metric == NULL)
        o.metric = g_strdup("packets");
    if (o.cls == NULL)
        o.cls = g_strdup("all");
    if (o.format == NULL)
        o.format = g_strdup("text");
    if (o.lang == NULL)
        o.lang = g_strdup("en");
    int status = rank_run(&o);
    rank_opts_clear(&o);
    return status;
}
