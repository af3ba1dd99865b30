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

typedef struct {
    char **data;
    char **dbs;
    tt_period_opts period;
    char *by, *metric, *cls, *sensor, *tz, *format, *lang;
    int top;
} rank_opts;

/* ---- the command ---------------------------------------------------------- */

static gboolean one_of(const char *v, const char *const *allowed)
{
    for (; *allowed != NULL; allowed++)
        if (strcmp(v, *allowed) == 0)
            return TRUE;
    return FALSE;
}

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
}

static int rank_run(rank_opts *o)
{
    g_autoptr(GError) error = NULL;
    static const char *const bys[] = {"port", "country", NULL};
    static const char *const metrics[] = {"packets", "flows", "bytes", NULL};
    static const char *const classes[] = {"scan", "backscatter", "other", "all", NULL};
    static const char *const formats[] = {"text", "csv", "json", "md", NULL};
    static const char *const langs[] = {"en", "ja", NULL};
    const char *bad = !one_of(o->by, bys)           ? "--by: port or country"
                      : !one_of(o->metric, metrics) ? "--metric: packets, flows or bytes"
                      : !one_of(o->cls, classes)    ? "--class: scan, backscatter, other or all"
                      : !one_of(o->format, formats) ? "--format: text, csv, json or md"
                      : !one_of(o->lang, langs)     ? "--lang: en or ja"
                      : o->top < 1                  ? "--top: a positive number"
                                                    : NULL;
    if (bad != NULL) {
        g_printerr("teiten rank: %s\n", bad);
        return 2;
    }
    tt_rank_period cur = {0}, prev = {0};
    tt_period_kind kind;
    const char *tz = NULL;
    int status = 1;
    if (!tt_period_opts_resolve(&o->period, &kind, &cur, &prev, &error)) {
        g_printerr("teiten rank: %s\n", error->message);
        return 2;
    }
    GPtrArray *dbs = tt_rank_open(o->data, o->dbs, o->tz, &tz, &error);
    if (dbs == NULL) {
        g_printerr("teiten rank: %s\n", error->message);
        status = error->domain == G_OPTION_ERROR ? 2 : 1;
        goto out_periods;
    }
    tt_rank_query q = {
        .by = o->by, .metric = o->metric, .cls = o->cls, .sensor = o->sensor, .top = (guint)o->top};
    tt_rank_table *t = tt_rank_table_build(dbs, &q, kind, &cur, &prev, tz, &error);
    if (t == NULL) {
        g_printerr("teiten rank: %s\n", error->message);
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
        G_OPTION_ENTRY_NULL};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- rank ports or countries over a period");
    g_option_context_set_summary(
        ctx, "Exact ranks from the rollup database(s), with the previous period's rank.\n"
             "Ties: by the metric, then the key in byte order. See docs/rank.md.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, period, NULL);
    g_option_context_add_main_entries(ctx, rest, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc > 1) {
        g_printerr("teiten rank: %s\n",
                   error != NULL ? error->message : "unexpected argument (see --help)");
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
