/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.c - `teiten report`: the quarterly observation report a CERT
 * publishes, as a static directory that works offline and without script:
 *
 *   OUT/index.html                  the page (inline CSS, no JavaScript)
 *   OUT/ports.png, countries.png    the ranked keys across the period (RRD)
 *   OUT/total.png, sensor-NAME.png  everything observed, per sensor
 *   OUT/ports.{csv,json,md}         the tables, exactly as `teiten rank`
 *   OUT/countries.{csv,json,md}     prints them (same code: rank_table.c)
 *
 * Numbers come from the rollup databases (exact per-day counters: totals,
 * ranks, classes, coverage, sampling, GeoIP) and pictures from the RRD files
 * through rrd/graph.c; nothing is estimated twice. The period is cut in the
 * databases' own zone, so graphs span the same local days as the tables.
 * A sensor's day without a single heard minute is an outage and is listed,
 * never hidden. Rejected: a JavaScript chart library (the page must work
 * from a file:// URL, archived for years) and graphs of our own (librrd
 * already draws what operators know).
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "graph.h"
#include "report.h"
#include "services.h"

static const char *const report_classes[3] = {"scan", "backscatter", "other"};

typedef struct report_opts {
    char **data;
    tt_period_opts period;
    char *out, *lang, *metric, *annotations, *daemon, *tz;
    char **services;
    int top;
    gboolean print;
} report_opts;

/* ---- gathering -------------------------------------------------------------- */

static void report_sensor_free(gpointer p)
{
    report_sensor *s = p;
    g_free(s->name);
    tt_rank_table_free(s->ports);
    g_ptr_array_unref(s->outages);
    g_array_unref(s->sampling);
    g_free(s->graph);
    g_free(s);
}

static gboolean report_day_parse(const char *s, GDate *d)
{
    int y, m, day;
    if (sscanf(s, "%4d-%2d-%2d", &y, &m, &day) != 3 ||
        !g_date_valid_dmy((GDateDay)day, (GDateMonth)m, (GDateYear)y))
        return FALSE;
    g_date_set_dmy(d, (GDateDay)day, (GDateMonth)m, (GDateYear)y);
    return TRUE;
}

static void report_outage_close(GPtrArray *out, const GDate *first, const GDate *last)
{
    char a[11], b[11];
    g_date_strftime(a, sizeof a, "%Y-%m-%d", first);
    g_date_strftime(b, sizeof b, "%Y-%m-%d", last);
    g_ptr_array_add(out, g_date_compare(first, last) == 0 ? g_strdup(a)
                                                          : g_strdup_printf("%s – %s", a, b));
}

/* Days of the period on which @a s heard nothing, as ranges. */
static void report_outages(report_sensor *s, GHashTable *heard, const GDate *from, const GDate *to)
{
    GDate d = *from, start;
    gboolean open = FALSE;
    for (; g_date_compare(&d, to) <= 0; g_date_add_days(&d, 1)) {
        char key[11];
        g_date_strftime(key, sizeof key, "%Y-%m-%d", &d);
        gboolean got = g_hash_table_contains(heard, key);
        if (!got && !open) {
            start = d;
            open = TRUE;
        } else if (got && open) {
            GDate last = d;
            g_date_subtract_days(&last, 1);
            report_outage_close(s->outages, &start, &last);
            open = FALSE;
        }
    }
    if (open)
        report_outage_close(s->outages, &start, to);
}

static report_sensor *report_sensor_get(report_model *m, const char *name)
{
    for (guint i = 0; i < m->sensors->len; i++) {
        report_sensor *s = g_ptr_array_index(m->sensors, i);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    report_sensor *s = g_new0(report_sensor, 1);
    s->name = g_strdup(name);
    s->outages = g_ptr_array_new_with_free_func(g_free);
    s->sampling = tt_rollup_facts_new();
    g_ptr_array_add(m->sensors, s);
    return s;
}

static gint report_sensor_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp((*(report_sensor *const *)a)->name, (*(report_sensor *const *)b)->name);
}

static gboolean report_class_sums(GPtrArray *dbs, const tt_rank_period *p, const char *sensor,
                                  tt_rank_counts out[3], tt_rank_counts *all, GError **error)
{
    for (int c = 0; c < 4; c++) {
        g_autoptr(GHashTable) sums = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (guint i = 0; i < dbs->len; i++)
            if (!tt_rollup_db_sum(g_ptr_array_index(dbs, i), "total", p->from, p->to,
                                  c < 3 ? report_classes[c] : NULL, sensor, sums, error))
                return FALSE;
        const tt_rank_counts *t = g_hash_table_lookup(sums, "all");
        tt_rank_counts zero = {0};
        if (c < 3)
            out[c] = t != NULL ? *t : zero;
        else if (all != NULL)
            *all = t != NULL ? *t : zero;
    }
    return TRUE;
}

static gboolean report_gather(report_model *m, GPtrArray *dbs, const report_opts *o, GError **error)
{
    tt_rank_query q = {.by = "port", .metric = m->metric, .cls = "all", .top = (guint)o->top};
    m->ports = tt_rank_table_build(dbs, &q, m->kind, m->cur, m->prev, m->tz, error);
    if (m->ports == NULL)
        return FALSE;
    q.by = "country";
    m->countries = tt_rank_table_build(dbs, &q, m->kind, m->cur, m->prev, m->tz, error);
    if (m->countries == NULL)
        return FALSE;
    m->sources = m->ports->sources;
    if (!report_class_sums(dbs, m->cur, NULL, m->cls, &m->all, error))
        return FALSE;

    g_autoptr(GArray) days = tt_rollup_days_new();
    g_autoptr(GArray) sampling = tt_rollup_facts_new();
    m->geoip = tt_rollup_facts_new();
    for (guint i = 0; i < dbs->len; i++) {
        tt_rollup_db *db = g_ptr_array_index(dbs, i);
        if (!tt_rollup_db_days(db, m->cur->from, m->cur->to, days, error) ||
            !tt_rollup_db_sampling(db, m->cur->from, m->cur->to, sampling, error) ||
            !tt_rollup_db_geoip(db, m->cur->from, m->cur->to, m->geoip, error))
            return FALSE;
    }
    GDate from, to;
    if (!report_day_parse(m->cur->from, &from) || !report_day_parse(m->cur->to, &to)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "bad period");
        return FALSE;
    }
    m->days_in_period = (guint)g_date_days_between(&from, &to) + 1;
    g_autoptr(GHashTable) observed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) heard =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
    for (guint i = 0; i < days->len; i++) {
        const tt_rollup_day *d = &g_array_index(days, tt_rollup_day, i);
        report_sensor *s = report_sensor_get(m, d->sensor);
        s->records += d->records;
        s->leaks += d->leaks;
        s->late += d->late;
        s->coverage_min += d->coverage_min;
        if (d->records > 0)
            g_hash_table_add(observed, g_strdup(d->day));
        if (d->coverage_min == 0)
            continue;
        GHashTable *h = g_hash_table_lookup(heard, d->sensor);
        if (h == NULL) {
            h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            g_hash_table_insert(heard, g_strdup(d->sensor), h);
        }
        if (g_hash_table_add(h, g_strdup(d->day)))
            s->days_heard++;
    }
    m->days_observed = g_hash_table_size(observed);
    for (guint i = 0; i < sampling->len; i++) {
        tt_rollup_fact *f = &g_array_index(sampling, tt_rollup_fact, i);
        report_sensor *s = report_sensor_get(m, f->sensor);
        tt_rollup_fact copy = *f;
        copy.sensor = g_strdup(f->sensor);
        g_array_append_val(s->sampling, copy);
        /* cppcheck-suppress memleak ; the array owns copy.sensor now (rollup_fact_clear) */
    }
    g_ptr_array_sort(m->sensors, report_sensor_cmp);
    for (guint i = 0; i < m->sensors->len; i++) {
        report_sensor *s = g_ptr_array_index(m->sensors, i);
        if (s->records > 0)
            m->n_sensors++;
        g_autoptr(GHashTable) none = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTable *h = g_hash_table_lookup(heard, s->name);
        report_outages(s, h != NULL ? h : none, &from, &to);
        tt_rank_query sq = {.by = "port", .metric = m->metric, .cls = "all", .top = 5};
        sq.sensor = s->name;
        s->ports = tt_rank_table_build(dbs, &sq, m->kind, m->cur, m->prev, m->tz, error);
        if (s->ports == NULL || !report_class_sums(dbs, m->cur, s->name, s->cls, NULL, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- annotations ------------------------------------------------------------ */

/* "52869/TCP: Realtek SDK UPnP, CVE-2014-8361" per line; '#' comments. */
static GHashTable *report_notes_load(const char *path, GError **error)
{
    GHashTable *notes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (path == NULL)
        return notes;
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error)) {
        g_hash_table_destroy(notes);
        return NULL;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        char *line = g_strstrip(lines[i]);
        char *sep = strpbrk(line, ":\t");
        if (*line == '#' || *line == '\0')
            continue;
        if (sep == NULL || sep == line) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "%s:%u: expected PORT/PROTO: note (e.g. 52869/TCP: Realtek SDK UPnP)", path,
                        i + 1);
            g_hash_table_destroy(notes);
            return NULL;
        }
        *sep = '\0';
        char *key = g_ascii_strdown(g_strstrip(line), -1);
        g_hash_table_replace(notes, key, g_strdup(g_strstrip(sep + 1)));
    }
    return notes;
}

/* ---- graphs ----------------------------------------------------------------- */

static void report_series_free(gpointer p)
{
    tt_rrd_series *s = p;
    g_free(s->file);
    g_free(s->label);
    g_free(s);
}

/* The RRD file of a rank key, or NULL (protocols without a file). (transfer full) */
static char *report_rrd_file(const char *data, const char *by, const char *key)
{
    unsigned port;
    char proto[8];
    if (strcmp(by, "country") == 0)
        return g_strdup_printf("%s/rrd/country/%s.rrd", data, key);
    if (strcmp(key, "icmp") == 0 || strcmp(key, "icmp6") == 0)
        return g_strdup_printf("%s/rrd/port/icmp.rrd", data);
    if (sscanf(key, "%u/%7s", &port, proto) == 2)
        return g_strdup_printf("%s/rrd/port/%s/%u.rrd", data, proto, port);
    return NULL;
}

/* Draw @a series into OUT/@a name; FALSE (and a warning) when it cannot be drawn. */
static gboolean report_draw(const report_opts *o, const report_model *m, const char *name,
                            const char *title, GPtrArray *series, gboolean stacked)
{
    if (series->len == 0)
        return FALSE;
    int64_t start, end;
    tt_rank_period_range(m->cur, m->tz, &start, &end);
    g_autofree char *path = g_build_filename(o->out, name, NULL);
    g_autofree char *vlabel = NULL, *total_fmt = NULL;
    tt_rrd_graph_spec spec = {.output = path,
                              .format = "PNG",
                              .start = start,
                              .end = end,
                              .ds = m->metric,
                              .stacked = stacked,
                              .title = title,
                              .width = 860,
                              .height = 240,
                              .daemon = o->daemon,
                              .series = series,
                              .per = 0};
    g_autoptr(GError) error = NULL;
    int w, h;
    /* per hour or per day, as the busiest series of this graph needs: never milli-units */
    if (!tt_rrd_graph_choose_per(&spec, &error)) {
        g_printerr("teiten report: %s (graph left out)\n", error->message);
        return FALSE;
    }
    if (m->ja) {
        vlabel = tt_graph_vlabel_ja(m->metric, spec.per);
        total_fmt = tt_graph_total_ja(m->metric);
        spec.vlabel = vlabel;
        spec.total_fmt = total_fmt;
    }
    if (o->print) {
        g_autoptr(GPtrArray) a = tt_rrd_graph_argv(&spec);
        g_autofree char *cmd = tt_rrd_graph_command(a);
        printf("%s\n", cmd);
    }
    if (!tt_rrd_graph_draw(&spec, &w, &h, &error)) {
        g_printerr("teiten report: %s (graph left out)\n", error->message);
        return FALSE;
    }
    return TRUE;
}

/* A graph of a table's rows; its file name, or NULL. (transfer full) */
static char *report_table_graph(const report_opts *o, const report_model *m, const tt_rank_table *t,
                                const char *name, const char *title)
{
    g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func(report_series_free);
    for (guint i = 0; i < t->rows->len && series->len < 10; i++) {
        const tt_rank_row *r = &g_array_index(t->rows, tt_rank_row, i);
        char *file = report_rrd_file(o->data[0], t->q.by, r->key);
        if (file == NULL || !g_file_test(file, G_FILE_TEST_IS_REGULAR)) {
            g_free(file);
            continue;
        }
        tt_rrd_series *s = g_new0(tt_rrd_series, 1);
        s->file = file;
        /* in the page's language: a CJK font is installed by scripts/install-deps.sh */
        if (strcmp(t->q.by, "country") == 0) {
            g_autofree char *cname = tt_rank_row_label("country", r->key, m->ja);
            s->label = g_strdup_printf("%s %s", r->key, cname);
        } else {
            s->label = tt_rank_row_label("port", r->key, FALSE);
        }
        g_ptr_array_add(series, s);
    }
    return report_draw(o, m, name, title, series, FALSE) ? g_strdup(name) : NULL;
}

static char *report_total_graph(const report_opts *o, const report_model *m, const char *sensor,
                                const char *name)
{
    g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func(report_series_free);
    tt_rrd_series *s = g_new0(tt_rrd_series, 1);
    s->file = sensor != NULL ? g_strdup_printf("%s/rrd/sensor/%s/total.rrd", o->data[0], sensor)
                             : g_strdup_printf("%s/rrd/total.rrd", o->data[0]);
    s->label = g_strdup(sensor != NULL ? sensor : m->ja ? "全センサー" : "all sensors");
    g_ptr_array_add(series, s);
    if (!g_file_test(s->file, G_FILE_TEST_IS_REGULAR))
        return NULL;
    g_autofree char *title =
        sensor != NULL
            ? g_strdup_printf(m->ja ? "センサー %s、%s" : "sensor %s, %s", sensor, m->cur->label)
            : g_strdup_printf(m->ja ? "観測全体、%s" : "everything observed, %s", m->cur->label);
    return report_draw(o, m, name, title, series, TRUE) ? g_strdup(name) : NULL;
}

/* ---- files ------------------------------------------------------------------ */

static gboolean report_write(const char *dir, const char *name, const char *text, gssize len,
                             GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    return g_file_set_contents(path, text, len, error);
}

static gboolean report_tables(const report_opts *o, report_model *m, GError **error)
{
    static const struct {
        const char *ext;
        tt_rank_format fmt;
    } kinds[] = {{"csv", TT_RANK_CSV}, {"json", TT_RANK_JSON}, {"md", TT_RANK_MD}};
    GPtrArray *files = g_ptr_array_new();
    for (int t = 0; t < 2; t++) {
        for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
            g_autoptr(GString) s = g_string_new(NULL);
            tt_rank_table_format(t == 0 ? m->ports : m->countries, kinds[k].fmt, m->ja, s);
            char *name = g_strdup_printf("%s.%s", t == 0 ? "ports" : "countries", kinds[k].ext);
            g_ptr_array_add(files, name);
            if (!report_write(o->out, name, s->str, (gssize)s->len, error)) {
                g_ptr_array_add(files, NULL);
                m->files = (char **)g_ptr_array_free(files, FALSE);
                return FALSE;
            }
        }
    }
    g_ptr_array_add(files, NULL);
    m->files = (char **)g_ptr_array_free(files, FALSE);
    return TRUE;
}

/* ---- the command ------------------------------------------------------------ */

static void report_model_clear(report_model *m)
{
    tt_rank_table_free(m->ports);
    tt_rank_table_free(m->countries);
    if (m->sensors != NULL)
        g_ptr_array_unref(m->sensors);
    if (m->geoip != NULL)
        g_array_unref(m->geoip);
    if (m->notes != NULL)
        g_hash_table_destroy(m->notes);
    g_free(m->ports_graph);
    g_free(m->countries_graph);
    g_free(m->total_graph);
    g_strfreev(m->files);
}

static int report_run(report_opts *o)
{
    g_autoptr(GError) error = NULL;
    tt_rank_period cur = {0}, prev = {0};
    report_model m = {.cur = &cur, .prev = &prev, .metric = o->metric, .sources = -1};
    int status = 1;
    GPtrArray *dbs = NULL;
    g_autofree char *pt = NULL, *ct = NULL, *html = NULL, *index = NULL;
    static const char *const langs[] = {"en", "ja", NULL};
    static const char *const metrics[] = {"packets", "flows", "bytes", NULL};
    if (!tt_cli_choice("report", "--lang", o->lang, langs) ||
        !tt_cli_choice("report", "--metric", o->metric, metrics))
        return 2;
    if (o->top < 1) {
        tt_cli_error("report", "--top %d: a positive number of rows", o->top);
        return 2;
    }
    m.ja = strcmp(o->lang, "ja") == 0;
    if (!tt_period_opts_resolve(&o->period, &m.kind, &cur, &prev, &error)) {
        tt_cli_error("report", "%s", error->message);
        return 2;
    }
    if (!tt_services_load_for(o->data[0], o->services, &error)) {
        tt_cli_error("report", "%s", error->message);
        return 2;
    }
    m.sensors = g_ptr_array_new_with_free_func(report_sensor_free);
    m.notes = report_notes_load(o->annotations, &error);
    if (m.notes == NULL)
        goto err;
    dbs = tt_rank_open(o->data, NULL, o->tz, &m.tz, &error);
    if (dbs == NULL || !report_gather(&m, dbs, o, &error))
        goto err;
    if (g_mkdir_with_parents(o->out, 0755) != 0) {
        g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", o->out,
                    g_strerror(errno));
        goto err;
    }
    if (!report_tables(o, &m, &error))
        goto err;
    /* pictures: from the first data directory's RRD files (one collector's archive) */
    pt = g_strdup_printf(m.ja ? "宛先ポート番号 上位 %u、%s" : "top %u destination ports, %s",
                         m.ports->rows->len, cur.label);
    ct = g_strdup_printf(m.ja ? "送信元地域 上位 %u、%s" : "top %u source countries, %s",
                         m.countries->rows->len, cur.label);
    m.ports_graph = report_table_graph(o, &m, m.ports, "ports.png", pt);
    m.countries_graph = report_table_graph(o, &m, m.countries, "countries.png", ct);
    m.total_graph = report_total_graph(o, &m, NULL, "total.png");
    for (guint i = 0; i < m.sensors->len; i++) {
        report_sensor *s = g_ptr_array_index(m.sensors, i);
        g_autofree char *name = g_strdup_printf("sensor-%s.png", s->name);
        s->graph = report_total_graph(o, &m, s->name, name);
    }
    html = tt_report_html(&m);
    if (!report_write(o->out, "index.html", html, -1, &error))
        goto err;
    index = g_build_filename(o->out, "index.html", NULL);
    printf("%s\n", index);
    status = fflush(stdout) == 0 ? 0 : 1;
    goto out;

err:
    tt_cli_error("report", "%s", error != NULL ? error->message : "failed");
    if (error != NULL && error->domain == G_OPTION_ERROR)
        status = 2;
out:
    report_model_clear(&m);
    if (dbs != NULL)
        g_ptr_array_free(dbs, TRUE);
    tt_rank_period_clear(&cur);
    tt_rank_period_clear(&prev);
    return status;
}

int tt_cli_report(int argc, char **argv)
{
    report_opts o = {.top = 10};
    GOptionEntry entries[] = {
        {"data", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &o.data,
         "a collector's data directory (repeatable: rollups are summed; graphs use the first)",
         "DIR"},
        G_OPTION_ENTRY_NULL};
    GOptionEntry period[TT_PERIOD_OPTS_ENTRIES];
    tt_period_opts_entries(&o.period, period);
    GOptionEntry rest[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.out, "directory to write", "OUT"},
        {"top", 'n', 0, G_OPTION_ARG_INT, &o.top, "rows per table (default 10)", "N"},
        {"metric", 0, 0, G_OPTION_ARG_STRING, &o.metric,
         "ranking metric (default packets; flows = records x sampling, an estimate)",
         "packets|flows|bytes"},
        {"lang", 0, 0, G_OPTION_ARG_STRING, &o.lang, "page language (default en)", "en|ja"},
        {"annotations", 'a', 0, G_OPTION_ARG_FILENAME, &o.annotations,
         "notes shown next to ranked ports, one \"52869/TCP: note\" per line", "FILE"},
        {"tz", 0, 0, G_OPTION_ARG_STRING, &o.tz,
         "assert the time zone (default: the database's; any other is an error)", "ZONE"},
        {"services", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.services,
         "port names over the shipped ones, \"5555/tcp Android ADB\" lines (repeatable; "
         "DATA/services.tsv is read first)",
         "FILE"},
        {"daemon", 0, 0, G_OPTION_ARG_STRING, &o.daemon, "rrdcached to flush through", "ADDR"},
        {"print-command", 0, 0, G_OPTION_ARG_NONE, &o.print,
         "also print the rrdtool command of each graph", NULL},
        G_OPTION_ENTRY_NULL};
    const GOptionEntry *groups[] = {entries, period, rest, NULL};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- write the period's report");
    g_option_context_set_summary(
        ctx, "A static site (index.html, PNG graphs, CSV/JSON/Markdown tables) for a period.\n"
             "Tables equal `teiten rank` for the same data. See docs/quickstart.md.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, period, NULL);
    g_option_context_add_main_entries(ctx, rest, NULL);
    int status = 2;
    if (!tt_cli_parse(ctx, "report", groups, &argc, &argv))
        goto out;
    if (argc > 1) {
        tt_cli_error("report", "unexpected argument %s (see teiten report --help)", argv[1]);
        goto out;
    }
    if (o.data == NULL || o.out == NULL) {
        tt_cli_error("report", "need %s (see teiten report --help)",
                     o.data == NULL ? "--data DIR" : "--output DIR");
        goto out;
    }
    if (o.lang == NULL)
        o.lang = g_strdup("en");
    if (o.metric == NULL)
        o.metric = g_strdup("packets");
    status = report_run(&o);
out:
    g_strfreev(o.data);
    g_strfreev(o.services);
    tt_period_opts_clear(&o.period);
    char *strings[] = {o.out, o.lang, o.annotations, o.daemon, o.metric, o.tz};
    for (guint i = 0; i < G_N_ELEMENTS(strings); i++)
        g_free(strings[i]);
    return status;
}
