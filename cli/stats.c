/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.c - `teiten stats`: the collector's self-statistics (DATA/stats.json,
 * collector/stats.c) as tables an operator reads at a glance.
 *
 *   teiten stats --data DIR [--format text|json]
 *
 * One table per thing that can lose or hold data: listeners (the kernel's
 * drops first), exporters (sequence losses, refused and malformed messages),
 * sensors (records, observed, late, and the losses counted against them),
 * the writer and the RRD store, and last every loss counter that is not 0,
 * exactly as stats.json lists them. Counts print with thousands separators;
 * `--format json` prints the file unchanged, for scripts.
 *
 * The file is read, never the daemon: teitend has no control socket. Rejected:
 * printing every field (stats.json has ~80 per exporter; the zero ones are
 * noise here and stay in the JSON).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"

/* 1234567 -> "1,234,567"; other text unchanged. (transfer full) */
static char *stats_num(const char *text)
{
    gsize n = strlen(text);
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isdigit(text[i]))
            return g_strdup(text);
    GString *out = g_string_new(NULL);
    for (gsize i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, text[i]);
    }
    return g_string_free(out, FALSE);
}

static char *stats_u64(guint64 v)
{
    char buf[32];
    g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT, v);
    return stats_num(buf);
}

/*
 * A table: rows of cells (the first row a header when @a header). Columns of numbers are
 * right-aligned, columns of words and the first column left-aligned.
 */
typedef struct {
    GPtrArray *rows; /* of GPtrArray of char* */
    gboolean header;
} stats_table;

static gboolean stats_numeric(const char *cell)
{
    return g_ascii_isdigit(cell[0]) || cell[0] == '-' || g_str_has_prefix(cell, "–");
}

static GPtrArray *stats_row(stats_table *t)
{
    GPtrArray *r = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(t->rows, r);
    return r;
}

static void stats_table_print(stats_table *t, GString *out)
{
    guint cols = 0;
    for (guint i = 0; i < t->rows->len; i++)
        cols = MAX(cols, ((GPtrArray *)g_ptr_array_index(t->rows, i))->len);
    g_autofree guint *w = g_new0(guint, cols);
    g_autofree gboolean *right = g_new0(gboolean, cols);
    for (guint c = 1; c < cols; c++)
        right[c] = TRUE;
    for (guint i = 0; i < t->rows->len; i++) {
        GPtrArray *r = g_ptr_array_index(t->rows, i);
        for (guint c = 0; c < r->len; c++) {
            const char *cell = g_ptr_array_index(r, c);
            w[c] = MAX(w[c], (guint)g_utf8_strlen(cell, -1));
            if ((i > 0 || !t->header) && !stats_numeric(cell))
                right[c] = FALSE;
        }
    }
    for (guint i = 0; i < t->rows->len; i++) {
        GPtrArray *r = g_ptr_array_index(t->rows, i);
        GString *line = g_string_new("  ");
        for (guint c = 0; c < r->len; c++) {
            const char *cell = g_ptr_array_index(r, c);
            guint pad = w[c] - (guint)g_utf8_strlen(cell, -1);
            if (c > 0)
                g_string_append(line, "  ");
            if (!right[c]) {
                g_string_append(line, cell);
                if (c + 1 < r->len)
                    g_string_append_printf(line, "%*s", pad, "");
            } else {
                g_string_append_printf(line, "%*s%s", pad, "", cell);
            }
        }
        while (line->len > 0 && line->str[line->len - 1] == ' ')
            g_string_truncate(line, line->len - 1);
        g_string_append_printf(out, "%s\n", line->str);
        g_string_free(line, TRUE);
    }
    g_ptr_array_unref(t->rows);
    t->rows = NULL;
}

static void stats_cells(GPtrArray *row, const tt_json *obj, const char *const *keys)
{
    for (; *keys != NULL; keys++)
        g_ptr_array_add(row, stats_num(tt_json_text(obj, *keys, "–")));
}

/* The sum of an object's numeric members (the per-reason "dropped", "malformed"). */
static guint64 stats_sum(const tt_json *obj)
{
    guint64 sum = 0;
    if (obj == NULL || obj->kind != TT_JSON_OBJECT)
        return 0;
    for (guint i = 0; i < obj->kids->len; i++) {
        const tt_json *kid = g_ptr_array_index(obj->kids, i);
        guint64 v = 0;
        if (kid->kind == TT_JSON_NUMBER &&
            g_ascii_string_to_unsigned(kid->text, 10, 0, G_MAXUINT64, &v, NULL))
            sum = v > G_MAXUINT64 - sum ? G_MAXUINT64 : sum + v;
    }
    return sum;
}

/* "reason count, ..." of the object's members that are not 0, or "" */
static char *stats_nonzero(const tt_json *obj)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; obj != NULL && obj->kind == TT_JSON_OBJECT && i < obj->kids->len; i++) {
        const tt_json *kid = g_ptr_array_index(obj->kids, i);
        if (kid->kind == TT_JSON_NUMBER && strcmp(kid->text, "0") != 0)
            g_string_append_printf(s, "%s%s %s", s->len > 0 ? ", " : "", kid->key, kid->text);
    }
    return g_string_free(s, FALSE);
}

static void stats_listeners(const tt_json *doc, GString *out)
{
    const tt_json *ls = tt_json_get(doc, "listeners");
    g_string_append(out, "\nListeners\n");
    if (ls == NULL || ls->kind != TT_JSON_ARRAY || ls->kids->len == 0) {
        g_string_append(out, "  none (teitend --read, or no listener started)\n");
        return;
    }
    static const char *const keys[] = {"kernel_drops", "datagrams",      "bytes", "noise",
                                       "streams_cut",  "unread_at_stop", NULL};
    stats_table t = {g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref), TRUE};
    GPtrArray *h = stats_row(&t);
    const char *heads[] = {"listen", "kernel drops",    "datagrams",     "bytes",
                           "noise",  "TCP streams cut", "unread at stop"};
    for (guint i = 0; i < G_N_ELEMENTS(heads); i++)
        g_ptr_array_add(h, g_strdup(heads[i]));
    for (guint i = 0; i < ls->kids->len; i++) {
        const tt_json *l = g_ptr_array_index(ls->kids, i);
        GPtrArray *r = stats_row(&t);
        g_ptr_array_add(r, g_strdup(tt_json_text(l, "listen", "?")));
        stats_cells(r, l, keys);
    }
    stats_table_print(&t, out);
}

static void stats_exporter_row(stats_table *t, const char *name, const char *transport,
                               const tt_json *e)
{
    static const char *const keys[] = {"messages", "records", "seq_lost", "future_records", NULL};
    GPtrArray *r = stats_row(t);
    g_ptr_array_add(r, g_strdup(name));
    g_ptr_array_add(r, g_strdup(transport));
    g_ptr_array_add(r, stats_num(tt_json_text(e, "sampling", "–")));
    stats_cells(r, e, keys);
    g_ptr_array_add(r, stats_u64(stats_sum(tt_json_get(e, "dropped"))));
    g_ptr_array_add(r, stats_u64(stats_sum(tt_json_get(e, "malformed"))));
    const char *off = tt_json_text(e, "clock_offset_s", NULL);
    g_ptr_array_add(r, off != NULL ? g_strdup_printf("%s s", off) : g_strdup("–"));
    g_autofree char *dropped = stats_nonzero(tt_json_get(e, "dropped"));
    g_autofree char *malformed = stats_nonzero(tt_json_get(e, "malformed"));
    g_ptr_array_add(
        r, g_strdup_printf("%s%s%s", dropped, *dropped && *malformed ? ", " : "", malformed));
}

static void stats_exporters(const tt_json *doc, GString *out)
{
    const tt_json *es = tt_json_get(doc, "exporters");
    g_string_append_printf(out, "\nExporters (%s alive, %s evicted)\n",
                           tt_json_text(doc, "exporters_alive", "?"),
                           tt_json_text(doc, "exporter_evictions", "?"));
    stats_table t = {g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref), TRUE};
    GPtrArray *h = stats_row(&t);
    const char *heads[] = {"exporter",  "transport",    "sampling",   "messages",
                           "records",   "seq lost",     "future",     "dropped",
                           "malformed", "clock offset", "why dropped"};
    for (guint i = 0; i < G_N_ELEMENTS(heads); i++)
        g_ptr_array_add(h, g_strdup(heads[i]));
    for (guint i = 0; es != NULL && es->kind == TT_JSON_ARRAY && i < es->kids->len; i++) {
        const tt_json *e = g_ptr_array_index(es->kids, i);
        stats_exporter_row(&t, tt_json_text(e, "exporter", "?"), tt_json_text(e, "transport", "?"),
                           e);
    }
    const tt_json *retired = tt_json_get(doc, "retired_exporters");
    if (retired != NULL && tt_json_u64(retired, "messages") > 0)
        stats_exporter_row(&t, "(retired)", "", retired);
    if (t.rows->len == 1)
        g_ptr_array_add(stats_row(&t), g_strdup("none heard"));
    stats_table_print(&t, out);
}

static void stats_sensors(const tt_json *doc, GString *out)
{
    const tt_json *ss = tt_json_get(doc, "sensors");
    const tt_json *losses = tt_json_get(doc, "losses");
    g_string_append(out, "\nSensors\n");
    stats_table t = {g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref), TRUE};
    GPtrArray *h = stats_row(&t);
    const char *heads[] = {"sensor", "records", "observed",        "leaks",
                           "late",   "max lag", "losses (records)"};
    for (guint i = 0; i < G_N_ELEMENTS(heads); i++)
        g_ptr_array_add(h, g_strdup(heads[i]));
    static const char *const keys[] = {"records", "observed", "leaks", "late", NULL};
    for (guint i = 0; ss != NULL && ss->kind == TT_JSON_ARRAY && i < ss->kids->len; i++) {
        const tt_json *s = g_ptr_array_index(ss->kids, i);
        const char *name = tt_json_text(s, "sensor", "?");
        GPtrArray *r = stats_row(&t);
        g_ptr_array_add(r, g_strdup(name));
        stats_cells(r, s, keys);
        g_ptr_array_add(r, g_strdup_printf("%s s", tt_json_text(s, "max_lag_s", "?")));
        GString *l = g_string_new(NULL);
        for (guint j = 0; losses != NULL && losses->kind == TT_JSON_ARRAY && j < losses->kids->len;
             j++) {
            const tt_json *x = g_ptr_array_index(losses->kids, j);
            if (strcmp(tt_json_text(x, "scope", ""), "sensor") == 0 &&
                strcmp(tt_json_text(x, "name", ""), name) == 0) {
                g_autofree char *n = stats_num(tt_json_text(x, "count", "?"));
                g_string_append_printf(l, "%s%s %s", l->len > 0 ? ", " : "",
                                       tt_json_text(x, "reason", "?"), n);
            }
        }
        g_ptr_array_add(r, l->len > 0 ? g_string_free(l, FALSE)
                                      : (g_string_free(l, TRUE), g_strdup("none")));
    }
    stats_table_print(&t, out);
}

/* Key-value lines: "  label  value" for each (label, key) of @a obj. */
static void stats_pairs(GString *out, const tt_json *obj, const char *const pairs[][2], guint n)
{
    stats_table t = {g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref), FALSE};
    for (guint i = 0; i < n; i++) {
        GPtrArray *r = stats_row(&t);
        g_ptr_array_add(r, g_strdup(pairs[i][0]));
        g_ptr_array_add(r, stats_num(tt_json_text(obj, pairs[i][1], "–")));
    }
    stats_table_print(&t, out);
}

static void stats_store(const tt_json *doc, GString *out)
{
    static const char *const writer[][2] = {
        {"jobs pending", "writer_pending"},          {"bytes pending", "writer_pending_bytes"},
        {"peak jobs", "writer_peak_jobs"},           {"peak bytes", "writer_peak_bytes"},
        {"backlog limit (bytes)", "writer_backlog"}, {"stalls", "writer_stalls"},
        {"stalled (s)", "writer_stalled_s"},         {"refused jobs (lost)", "writer_refused_jobs"},
        {"lost jobs", "writer_lost_jobs"},           {"store failures", "store_failures"},
        {"lag (buckets)", "writer_lag_buckets"},     {"largest lag (buckets)", "writer_lag_max"},
    };
    static const char *const rrd[][2] = {
        {"updates", "updates"},
        {"files created", "created"},
        {"refused steps (lost)", "refused"},
        {"skipped (in the past)", "skipped_past"},
        {"unknown gaps", "unknown_gaps"},
        {"lines pending", "pending_lines"},
        {"rrdcached errors", "daemon_errors"},
        {"reconnects", "reconnects"},
        {"journal lines replayed", "journal_replayed"},
        {"files set aside", "set_aside"},
        {"saturated", "saturated"},
    };
    g_string_append(out, "\nWriter\n");
    stats_pairs(out, doc, writer, G_N_ELEMENTS(writer));
    g_string_append(out, "\nRRD store\n");
    stats_pairs(out, tt_json_get(doc, "rrd"), rrd, G_N_ELEMENTS(rrd));
}

static void stats_losses(const tt_json *doc, GString *out)
{
    const tt_json *ls = tt_json_get(doc, "losses");
    g_string_append(out, "\nLosses (every counter that is not 0, since the start)\n");
    if (ls == NULL || ls->kind != TT_JSON_ARRAY || ls->kids->len == 0) {
        g_string_append(out, "  none\n");
        return;
    }
    stats_table t = {g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref), TRUE};
    GPtrArray *h = stats_row(&t);
    const char *heads[] = {"scope", "name", "reason", "count", "unit"};
    for (guint i = 0; i < G_N_ELEMENTS(heads); i++)
        g_ptr_array_add(h, g_strdup(heads[i]));
    for (guint i = 0; i < ls->kids->len; i++) {
        const tt_json *l = g_ptr_array_index(ls->kids, i);
        GPtrArray *r = stats_row(&t);
        g_ptr_array_add(r, g_strdup(tt_json_text(l, "scope", "?")));
        g_ptr_array_add(r, g_strdup(tt_json_text(l, "name", "?")));
        g_ptr_array_add(r, g_strdup(tt_json_text(l, "reason", "?")));
        g_ptr_array_add(r, stats_num(tt_json_text(l, "count", "?")));
        g_ptr_array_add(r, g_strdup(tt_json_text(l, "unit", "")));
    }
    stats_table_print(&t, out);
}

/* The tables of @a doc, read from @a path. (transfer full) */
static char *stats_text(const tt_json *doc, const char *path)
{
    GString *out = g_string_new(NULL);
    guint64 t = tt_json_u64(doc, "time");
    char when[64] = "?";
    time_t tt = (time_t)t;
    struct tm tm;
    if (t > 0 && gmtime_r(&tt, &tm) != NULL)
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    g_autofree char *in = stats_num(tt_json_text(doc, "records_in", "?"));
    g_string_append_printf(out, "%s, written %s\nrecords in: %s\n", path, when, in);
    const tt_json *geo = tt_json_get(doc, "geoip");
    if (geo != NULL && geo->kind == TT_JSON_OBJECT) {
        guint64 b = tt_json_u64(geo, "build_epoch");
        time_t bt = (time_t)b;
        char built[32] = "?";
        if (gmtime_r(&bt, &tm) != NULL)
            strftime(built, sizeof built, "%Y-%m-%d", &tm);
        g_string_append_printf(out, "GeoIP: %s, built %s\n", tt_json_text(geo, "type", "?"), built);
    } else {
        g_string_append(out, "GeoIP: none (every source is ZZ)\n");
    }
    stats_listeners(doc, out);
    stats_exporters(doc, out);
    stats_sensors(doc, out);
    stats_store(doc, out);
    stats_losses(doc, out);
    return g_string_free(out, FALSE);
}

int tt_cli_stats(int argc, char **argv)
{
    g_autofree char *data = NULL, *format = NULL;
    GOptionEntry entries[] = {
        {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "a collector's data directory", "DIR"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format,
         "text (default: tables) or json (the file as written)", "text|json"},
        G_OPTION_ENTRY_NULL};
    const GOptionEntry *groups[] = {entries, NULL};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the collector's self-statistics");
    g_option_context_set_summary(
        ctx, "Tables of DATA/stats.json: listeners, exporters, sensors, writer, RRD store and\n"
             "every loss counter that is not 0. See docs/operations.md.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!tt_cli_parse(ctx, "stats", groups, &argc, &argv))
        return 2;
    if (argc > 1) {
        tt_cli_error("stats", "unexpected argument %s (see teiten stats --help)", argv[1]);
        return 2;
    }
    if (data == NULL) {
        tt_cli_error("stats",
                     "need --data DIR, the collector's data-dir (see teiten stats --help)");
        return 2;
    }
    static const char *const formats[] = {"text", "json", NULL};
    if (format != NULL && !tt_cli_choice("stats", "--format", format, formats))
        return 2;
    g_autofree char *path = g_build_filename(data, "stats.json", NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error)) {
        const char *why = error->code == G_FILE_ERROR_NOENT   ? "no such file"
                          : error->code == G_FILE_ERROR_ACCES ? "permission denied"
                                                              : error->message;
        tt_cli_error("stats", "%s: %s (teitend writes it at every bucket close)", path, why);
        return 1;
    }
    if (format != NULL && strcmp(format, "json") == 0) {
        fputs(text, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    g_autoptr(tt_json) doc = tt_json_parse(text, &error);
    if (doc == NULL || doc->kind != TT_JSON_OBJECT) {
        tt_cli_error("stats", "%s: %s", path, doc == NULL ? error->message : "not a JSON object");
        return 1;
    }
    g_autofree char *tables = stats_text(doc, path);
    fputs(tables, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
