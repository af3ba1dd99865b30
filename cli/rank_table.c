/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rank_table.c - build and print one rank table; `teiten rank` prints one,
 * `teiten report` publishes several, and both go through here so a report's
 * tables are byte for byte what `teiten rank` prints for the same data.
 *
 * A period (quarter, month, year or --from/--to days) is a range of local
 * days as the collector cut them in its configured zone; several databases
 * are summed key by key. Both the period and the one before it are ranked
 * completely, so a previous rank is exact at any depth. Order: metric
 * descending, ties by key in byte order; ranks are ordinal (1, 2, 3, ...
 * never shared), so the same input always prints the same table. A zone
 * other than the databases' own is an error: re-cutting stored days into
 * another zone is impossible, and a silently shifted quarter is the one
 * mistake a published table must not make.
 *
 * Rejected: ranking from RRD consolidations (not exact, no calendar
 * quarters) and the host's /etc/services (reports must not depend on the
 * machine printing them).
 */
#include "rank_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "countries.h"
#include "json.h"
#include "services.h"

/* ---- periods -------------------------------------------------------------- */

static void period_days(tt_rank_period *p, int y0, int m0, int y1, int m1)
{
    g_snprintf(p->from, sizeof p->from, "%04d-%02d-01", y0, m0);
    g_snprintf(p->to, sizeof p->to, "%04d-%02d-%02d", y1, m1,
               g_date_get_days_in_month((GDateMonth)m1, (GDateYear)y1));
}

static gboolean parse_day(const char *s, GDate *d)
{
    int y, m, day;
    char tail;
    if (s == NULL || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &day, &tail) != 3 ||
        !g_date_valid_dmy((GDateDay)day, (GDateMonth)m, (GDateYear)y))
        return FALSE;
    g_date_set_dmy(d, (GDateDay)day, (GDateMonth)m, (GDateYear)y);
    return TRUE;
}

static void day_string(const GDate *d, char out[11])
{
    g_snprintf(out, 11, "%04d-%02d-%02d", g_date_get_year(d), g_date_get_month(d),
               g_date_get_day(d));
}

/*
 * Years a period may name: flow times start at the epoch, and GDate (what cuts the periods and
 * their previous ones) stops at year 1; a quarter or day outside is a clear error, not a
 * GLib-CRITICAL further down.
 */
#define PERIOD_YEAR_MIN 1970
#define PERIOD_YEAR_MAX 9999

static gboolean period_year_ok(int y, const char *opt, const char *value, const char *range,
                               GError **error)
{
    if (y >= PERIOD_YEAR_MIN && y <= PERIOD_YEAR_MAX)
        return TRUE;
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "%s %s: year %d out of range; valid: %s", opt, value, y, range);
    return FALSE;
}

/*
 * What a mistyped quarter most likely meant: a four-digit year and a quarter digit after a 'q'
 * anywhere in it ("2019q1", "2019-Q1", "Q1 2019", "2019/Q1"), or "" when it does not say.
 */
static void period_guess_quarter(const char *text, char out[8])
{
    int year = -1, q = -1;
    out[0] = '\0';
    for (const char *p = text; *p != '\0'; p++) {
        if ((*p == 'q' || *p == 'Q') && p[1] >= '1' && p[1] <= '4' && !g_ascii_isdigit(p[2]))
            q = p[1] - '0';
        if (g_ascii_isdigit(*p) && (p == text || !g_ascii_isdigit(p[-1]))) {
            int len = 0;
            while (g_ascii_isdigit(p[len]))
                len++;
            if (len == 4)
                year = atoi(p);
        }
    }
    if (year >= PERIOD_YEAR_MIN && q > 0)
        g_snprintf(out, 8, "%04dQ%d", year, q);
}

/* "2019-3", "2019/03", "201903" -> "2019-03", or "". */
static void period_guess_month(const char *text, char out[8])
{
    int y = 0, m = 0;
    char sep;
    out[0] = '\0';
    if ((sscanf(text, "%4d%c%2d", &y, &sep, &m) == 3 && strchr("-/. ", sep) != NULL) ||
        (strlen(text) == 6 && sscanf(text, "%4d%2d", &y, &m) == 2))
        if (y >= PERIOD_YEAR_MIN && y <= PERIOD_YEAR_MAX && m >= 1 && m <= 12)
            g_snprintf(out, 8, "%04d-%02d", y, m);
}

/* @a option's @a text did not parse: FALSE, with what was expected and a guess when there is one.
 */
static gboolean period_unparsed(const char *option, const char *text, const char *expected,
                                void (*guess_fn)(const char *text, char out[8]), GError **error)
{
    char guess[8];
    guess_fn(text, guess);
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s %s: expected %s%s%s%s", option,
                text, expected, *guess ? "; did you mean " : "", guess, *guess ? "?" : "");
    return FALSE;
}

/* A quarter (@a months 3) or a month (1): the @a n-th of year @a y in @a cur, the one before in
 * @a prev, labelled 2019Q1 or 2019-03. */
static void period_months(int y, int n, int months, tt_rank_period *cur, tt_rank_period *prev)
{
    int py = n == 1 ? y - 1 : y, pn = n == 1 ? 12 / months : n - 1;
    period_days(cur, y, months * (n - 1) + 1, y, months * n);
    period_days(prev, py, months * (pn - 1) + 1, py, months * pn);
    if (months == 3) {
        cur->label = g_strdup_printf("%04dQ%d", y, n);
        prev->label = g_strdup_printf("%04dQ%d", py, pn);
    } else {
        cur->label = g_strdup_printf("%04d-%02d", y, n);
        prev->label = g_strdup_printf("%04d-%02d", py, pn);
    }
}

/* The period asked for and the one before it; FALSE with a message on a bad spec. */
static gboolean rank_periods(const char *quarter, const char *month, const char *year,
                             const char *from, const char *to, tt_period_kind *kind,
                             tt_rank_period *cur, tt_rank_period *prev, GError **error)
{
    int given = (quarter != NULL) + (month != NULL) + (year != NULL) + (from != NULL || to != NULL);
    int y, n;
    char tail;
    if (given != 1) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "give exactly one period: --quarter 2019Q1, --month 2019-03, --year 2019 "
                    "or --from DAY --to DAY");
        return FALSE;
    }
    if (quarter != NULL) {
        if (sscanf(quarter, "%4dQ%1d%c", &y, &n, &tail) != 2 || n < 1 || n > 4)
            return period_unparsed("--quarter", quarter, "YYYYQn, e.g. 2019Q1",
                                   period_guess_quarter, error);
        if (!period_year_ok(y, "--quarter", quarter, "1970Q1 to 9999Q4", error))
            return FALSE;
        *kind = TT_PERIOD_QUARTER;
        period_months(y, n, 3, cur, prev);
    } else if (month != NULL) {
        if (sscanf(month, "%4d-%2d%c", &y, &n, &tail) != 2 || n < 1 || n > 12 || strlen(month) != 7)
            return period_unparsed("--month", month, "YYYY-MM, e.g. 2019-03", period_guess_month,
                                   error);
        if (!period_year_ok(y, "--month", month, "1970-01 to 9999-12", error))
            return FALSE;
        *kind = TT_PERIOD_MONTH;
        period_months(y, n, 1, cur, prev);
    } else if (year != NULL) {
        if (sscanf(year, "%4d%c", &y, &tail) != 1) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--year %s: expected YYYY, e.g. 2019", year);
            return FALSE;
        }
        if (!period_year_ok(y, "--year", year, "1970 to 9999", error))
            return FALSE;
        *kind = TT_PERIOD_YEAR;
        period_days(cur, y, 1, y, 12);
        cur->label = g_strdup_printf("%04d", y);
        period_days(prev, y - 1, 1, y - 1, 12);
        prev->label = g_strdup_printf("%04d", y - 1);
    } else {
        GDate a, b;
        if (!parse_day(from, &a) || !parse_day(to, &b) || g_date_compare(&a, &b) > 0) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--from/--to: expected two days YYYY-MM-DD, from <= to (both included)");
            return FALSE;
        }
        if (!period_year_ok(g_date_get_year(&a), "--from", from, "1970-01-01 to 9999-12-31",
                            error) ||
            !period_year_ok(g_date_get_year(&b), "--to", to, "1970-01-01 to 9999-12-31", error))
            return FALSE;
        *kind = TT_PERIOD_RANGE;
        day_string(&a, cur->from);
        day_string(&b, cur->to);
        cur->label = g_strdup_printf("%s..%s", cur->from, cur->to);
        /* the same number of days just before */
        int days = g_date_days_between(&a, &b) + 1;
        GDate pb = a, pa = a;
        g_date_subtract_days(&pb, 1);
        g_date_subtract_days(&pa, (guint)days);
        day_string(&pa, prev->from);
        day_string(&pb, prev->to);
        prev->label = g_strdup_printf("%s..%s", prev->from, prev->to);
    }
    return TRUE;
}

void tt_rank_period_range(const tt_rank_period *p, const char *tz, int64_t *start, int64_t *end)
{
    GTimeZone *zone = tz != NULL ? g_time_zone_new_identifier(tz) : NULL;
    if (zone == NULL)
        zone = g_time_zone_new_utc();
    GDate a, b;
    /* the days were written by rank_periods: valid */
    gboolean ok = parse_day(p->from, &a) && parse_day(p->to, &b);
    g_assert(ok);
    g_date_add_days(&b, 1);
    GDateTime *s = g_date_time_new(zone, g_date_get_year(&a), g_date_get_month(&a),
                                   g_date_get_day(&a), 0, 0, 0);
    GDateTime *e = g_date_time_new(zone, g_date_get_year(&b), g_date_get_month(&b),
                                   g_date_get_day(&b), 0, 0, 0);
    *start = g_date_time_to_unix(s);
    *end = g_date_time_to_unix(e);
    g_date_time_unref(s);
    g_date_time_unref(e);
    g_time_zone_unref(zone);
}

void tt_period_opts_entries(tt_period_opts *p, GOptionEntry out[TT_PERIOD_OPTS_ENTRIES])
{
    const GOptionEntry entries[TT_PERIOD_OPTS_ENTRIES] = {
        {"quarter", 'q', 0, G_OPTION_ARG_STRING, &p->quarter, "calendar quarter, e.g. 2019Q1",
         "YYYYQn"},
        {"month", 'm', 0, G_OPTION_ARG_STRING, &p->month, "month, e.g. 2019-03", "YYYY-MM"},
        {"year", 'y', 0, G_OPTION_ARG_STRING, &p->year, "year, e.g. 2019", "YYYY"},
        {"from", 0, 0, G_OPTION_ARG_STRING, &p->from, "first day (included)", "YYYY-MM-DD"},
        {"to", 0, 0, G_OPTION_ARG_STRING, &p->to, "last day (included)", "YYYY-MM-DD"},
        G_OPTION_ENTRY_NULL};
    memcpy(out, entries, sizeof entries);
}

gboolean tt_period_opts_resolve(const tt_period_opts *p, tt_period_kind *kind, tt_rank_period *cur,
                                tt_rank_period *prev, GError **error)
{
    return rank_periods(p->quarter, p->month, p->year, p->from, p->to, kind, cur, prev, error);
}

void tt_period_opts_clear(tt_period_opts *p)
{
    g_free(p->quarter);
    g_free(p->month);
    g_free(p->year);
    g_free(p->from);
    g_free(p->to);
    memset(p, 0, sizeof *p);
}

/* ---- ranking -------------------------------------------------------------- */

/* @a metric of @a c. */
static guint64 rank_metric(const tt_rank_counts *c, const char *metric)
{
    if (strcmp(metric, "flows") == 0)
        return c->flows;
    if (strcmp(metric, "bytes") == 0)
        return c->bytes;
    return c->packets;
}

static int row_cmp(const void *a, const void *b)
{
    const tt_rank_row *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return strcmp(x->key, y->key); /* byte order */
}

/* Rows of @a sums, ranked. (transfer full; keys borrowed from @a sums) */
static GArray *rank_rows(GHashTable *sums, const char *metric)
{
    GArray *rows = g_array_sized_new(FALSE, TRUE, sizeof(tt_rank_row), g_hash_table_size(sums));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, sums);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        tt_rank_row r = {.key = k, .c = *(tt_rank_counts *)v, .sources = -1};
        r.value = rank_metric(&r.c, metric);
        if (r.value == 0 && r.c.records == 0)
            continue;
        g_array_append_val(rows, r);
    }
    if (rows->len > 0)
        qsort(rows->data, rows->len, sizeof(tt_rank_row), row_cmp);
    for (guint i = 0; i < rows->len; i++)
        g_array_index(rows, tt_rank_row, i).rank = i + 1;
    return rows;
}

/* ---- labels --------------------------------------------------------------- */

static char *port_label(const char *key)
{
    unsigned port;
    char proto[8];
    if (strcmp(key, "icmp") == 0)
        return g_strdup("ICMP");
    if (strcmp(key, "icmp6") == 0)
        return g_strdup("ICMPv6");
    if (sscanf(key, "proto-%u", &port) == 1)
        return g_strdup_printf("IP protocol %u", port);
    if (sscanf(key, "%u/%7s", &port, proto) == 2 && port < 65536) {
        gboolean tcp = strcmp(proto, "tcp") == 0;
        const char *name = tt_service_name(tcp ? 6 : 17, (uint16_t)port);
        g_autofree char *up = g_ascii_strup(proto, -1);
        return name != NULL ? g_strdup_printf("%u/%s (%s)", port, up, name)
                            : g_strdup_printf("%u/%s", port, up);
    }
    return g_strdup(key);
}

char *tt_rank_row_label(const char *by, const char *key, gboolean ja)
{
    if (strcmp(by, "port") == 0)
        return port_label(key);
    const tt_country_name *c = tt_country_lookup(key);
    if (c == NULL)
        return g_strdup(key);
    return g_strdup(ja ? c->ja : c->en);
}

/* ---- output --------------------------------------------------------------- */

typedef struct {
    const char *rank, *key_port, *key_country, *label_port, *label_country, *share, *change;
    const char *prev[4];    /* by period kind */
    const char *changes[4]; /* up, down, same, new */
    const char *metric_packets, *metric_flows, *metric_bytes;
} rank_words;

static const rank_words words_en = {
    "rank",
    "key",
    "key",
    "destination port",
    "source country",
    "share",
    "change",
    {"previous quarter", "previous month", "previous year", "previous period"},
    {"up", "down", "same", "new"},
    "packets",
    "flows (est.)", /* records x sampling: docs/storage.md, "Records and flows" */
    "bytes"};
/* The headings of JPCERT/CC's TSUBAME reports. */
static const rank_words words_ja = {"順位",
                                    "キー",
                                    "キー",
                                    "宛先ポート番号",
                                    "送信元地域",
                                    "割合",
                                    "変化",
                                    {"前四半期の順位", "前月の順位", "前年の順位", "前期間の順位"},
                                    {"上昇", "下降", "変化なし", "新規"},
                                    "パケット数",
                                    "推定フロー数",
                                    "バイト数"};

const char *tt_rank_change_key(const tt_rank_row *r)
{
    if (r->prev_rank == 0)
        return "new";
    if (r->prev_rank > r->rank)
        return "up";
    if (r->prev_rank < r->rank)
        return "down";
    return "same";
}

static const char *change_word(const rank_words *w, const tt_rank_row *r)
{
    const char *k = tt_rank_change_key(r);
    return strcmp(k, "up") == 0     ? w->changes[0]
           : strcmp(k, "down") == 0 ? w->changes[1]
           : strcmp(k, "same") == 0 ? w->changes[2]
                                    : w->changes[3];
}

/* Terminal columns of UTF-8 @a s (East Asian wide characters take two). */
static glong display_width(const char *s)
{
    glong w = 0;
    for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p))
        w += g_unichar_iswide(g_utf8_get_char(p)) ? 2 : 1;
    return w;
}

static void put_cell(GString *out, const char *s, glong width, gboolean right)
{
    glong pad = width - display_width(s);
    if (right)
        for (glong i = 0; i < pad; i++)
            g_string_append_c(out, ' ');
    g_string_append(out, s);
    if (!right)
        for (glong i = 0; i < pad; i++)
            g_string_append_c(out, ' ');
}

static void csv_cell(GString *out, const char *s)
{
    if (strpbrk(s, ",\"\n") == NULL) {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

double tt_rank_share(const tt_rank_table *r, const tt_rank_row *row)
{
    return r->total > 0 ? (double)row->value / (double)r->total : 0.0;
}

static void rank_print_json(const tt_rank_table *r, gboolean ja, GString *out)
{
    g_string_append(out, "{\"period\":");
    tt_json_append_string(out, r->cur->label);
    g_string_append(out, ",\"previous\":");
    tt_json_append_string(out, r->prev->label);
    g_string_append_printf(out, ",\"from\":\"%s\",\"to\":\"%s\"", r->cur->from, r->cur->to);
    g_string_append_printf(out, ",\"by\":\"%s\",\"metric\":\"%s\",\"class\":\"%s\"", r->q.by,
                           r->q.metric, r->q.cls);
    if (r->q.sensor != NULL) {
        g_string_append(out, ",\"sensor\":");
        tt_json_append_string(out, r->q.sensor);
    }
    g_string_append(out, ",\"tz\":");
    tt_json_append_string(out, r->tz);
    g_string_append_printf(out, ",\"total\":%" G_GUINT64_FORMAT, r->total);
    if (r->sources >= 0)
        g_string_append_printf(out, ",\"sources\":%.0f", r->sources);
    g_string_append(out, ",\"completeness\":");
    tt_completeness_json(r->complete, out);
    g_string_append(out, ",\"rows\":[");
    for (guint i = 0; i < r->rows->len; i++) {
        const tt_rank_row *row = &g_array_index(r->rows, tt_rank_row, i);
        g_autofree char *label = tt_rank_row_label(r->q.by, row->key, ja);
        g_string_append_printf(out, "%s{\"rank\":%u,\"key\":", i > 0 ? "," : "", row->rank);
        tt_json_append_string(out, row->key);
        g_string_append(out, ",\"label\":");
        tt_json_append_string(out, label);
        g_string_append_printf(
            out,
            ",\"packets\":%" G_GUINT64_FORMAT ",\"flows\":%" G_GUINT64_FORMAT
            ",\"bytes\":%" G_GUINT64_FORMAT ",\"records\":%" G_GUINT64_FORMAT ",\"share\":%.4f",
            row->c.packets, row->c.flows, row->c.bytes, row->c.records, tt_rank_share(r, row));
        if (row->prev_rank > 0)
            g_string_append_printf(out, ",\"prev_rank\":%u", row->prev_rank);
        else
            g_string_append(out, ",\"prev_rank\":null");
        g_string_append_printf(out, ",\"change\":\"%s\"", tt_rank_change_key(row));
        if (row->sources >= 0)
            g_string_append_printf(out, ",\"sources\":%.0f", row->sources);
        g_string_append_c(out, '}');
    }
    g_string_append(out, "]}\n");
}

static const char *metric_word(const rank_words *w, const char *metric)
{
    return strcmp(metric, "flows") == 0   ? w->metric_flows
           : strcmp(metric, "bytes") == 0 ? w->metric_bytes
                                          : w->metric_packets;
}

/* text, csv and md share the cells */
static void rank_print_table(const tt_rank_table *r, gboolean ja, tt_rank_format fmt, GString *out)
{
    const rank_words *w = ja ? &words_ja : &words_en;
    gboolean port = strcmp(r->q.by, "port") == 0;
    guint ncols = 7;
    const char *head[7] = {w->rank,
                           port ? w->key_port : w->key_country,
                           port ? w->label_port : w->label_country,
                           metric_word(w, r->q.metric),
                           w->share,
                           w->prev[r->kind],
                           w->change};
    gboolean right[7] = {TRUE, FALSE, FALSE, TRUE, TRUE, TRUE, FALSE};
    guint nrows = r->rows->len;
    char ***cells = g_new0(char **, nrows);
    for (guint i = 0; i < nrows; i++) {
        const tt_rank_row *row = &g_array_index(r->rows, tt_rank_row, i);
        cells[i] = g_new0(char *, ncols + 1);
        cells[i][0] = g_strdup_printf("%u", row->rank);
        cells[i][1] = g_strdup(row->key);
        cells[i][2] = tt_rank_row_label(r->q.by, row->key, ja);
        cells[i][3] = g_strdup_printf("%" G_GUINT64_FORMAT, row->value);
        cells[i][4] = fmt == TT_RANK_CSV ? g_strdup_printf("%.4f", tt_rank_share(r, row))
                                         : g_strdup_printf("%.2f%%", 100.0 * tt_rank_share(r, row));
        cells[i][5] = row->prev_rank > 0 ? g_strdup_printf("%u", row->prev_rank) : g_strdup("");
        cells[i][6] = g_strdup(fmt == TT_RANK_CSV ? tt_rank_change_key(row) : change_word(w, row));
    }
    if (fmt == TT_RANK_CSV) {
        for (guint c = 0; c < ncols; c++) {
            if (c > 0)
                g_string_append_c(out, ',');
            csv_cell(out, head[c]);
        }
        g_string_append_c(out, '\n');
        for (guint i = 0; i < nrows; i++) {
            for (guint c = 0; c < ncols; c++) {
                if (c > 0)
                    g_string_append_c(out, ',');
                csv_cell(out, cells[i][c]);
            }
            g_string_append_c(out, '\n');
        }
    } else if (fmt == TT_RANK_MD) {
        g_string_append_printf(out, "%s %s (%s: %s), %s, %s %s\n\n",
                               port ? (ja ? "宛先ポート番号" : "Destination ports")
                                    : (ja ? "送信元地域" : "Source countries"),
                               r->cur->label, ja ? "前期" : "previous", r->prev->label,
                               metric_word(w, r->q.metric), ja ? "タイムゾーン" : "time zone",
                               r->tz);
        g_string_append(out, "|");
        for (guint c = 0; c < ncols; c++)
            g_string_append_printf(out, " %s |", head[c]);
        g_string_append(out, "\n|");
        for (guint c = 0; c < ncols; c++)
            g_string_append(out, right[c] ? "---:|" : "---|");
        g_string_append_c(out, '\n');
        for (guint i = 0; i < nrows; i++) {
            g_string_append(out, "|");
            for (guint c = 0; c < ncols; c++) {
                g_string_append_c(out, ' ');
                for (const char *p = cells[i][c]; *p != '\0'; p++) {
                    if (*p == '|')
                        g_string_append_c(out, '\\');
                    g_string_append_c(out, *p);
                }
                g_string_append(out, " |");
            }
            g_string_append_c(out, '\n');
        }
        g_string_append_c(out, '\n');
        tt_completeness_line(r->complete, ja, out);
        g_string_append_c(out, '\n');
    } else {
        glong width[7];
        for (guint c = 0; c < ncols; c++) {
            width[c] = display_width(head[c]);
            for (guint i = 0; i < nrows; i++)
                width[c] = MAX(width[c], display_width(cells[i][c]));
        }
        g_string_append_printf(out, "%s %s (%s %s), %s, %s %s, %s %s\n",
                               port ? (ja ? "宛先ポート番号" : "destination ports")
                                    : (ja ? "送信元地域" : "source countries"),
                               r->cur->label, ja ? "前期" : "previous", r->prev->label,
                               metric_word(w, r->q.metric), ja ? "クラス" : "class", r->q.cls,
                               ja ? "タイムゾーン" : "time zone", r->tz);
        for (guint i = 0; i <= nrows; i++) {
            /* line 0 is the heading */
            GString *line = g_string_new(NULL);
            for (guint c = 0; c < ncols; c++) {
                if (c > 0)
                    g_string_append(line, "  ");
                put_cell(line, i == 0 ? head[c] : cells[i - 1][c], width[c], right[c]);
            }
            while (line->len > 0 && line->str[line->len - 1] == ' ')
                g_string_truncate(line, line->len - 1);
            g_string_append(out, line->str);
            g_string_append_c(out, '\n');
            g_string_free(line, TRUE);
        }
        g_string_append_printf(out, "%s %" G_GUINT64_FORMAT, ja ? "期間合計" : "period total",
                               r->total);
        if (r->sources >= 0)
            g_string_append_printf(out, "; %s %.0f",
                                   ja ? "送信元数 (推定)" : "distinct sources (estimate)",
                                   r->sources);
        g_string_append_c(out, '\n');
        tt_completeness_line(r->complete, ja, out);
        g_string_append(out, ja ? "\n同数の場合はキーのバイト順。\n"
                                : "\nTies: by the metric, then the key in byte order.\n");
    }
    for (guint i = 0; i < nrows; i++)
        g_strfreev(cells[i]);
    g_free(cells);
}

GPtrArray *tt_rank_open(char **data, char **files, const char *tz_assert, const char **tz,
                        GError **error)
{
    GPtrArray *dbs = g_ptr_array_new_with_free_func((GDestroyNotify)tt_rollup_db_free);
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    for (char **d = data; d != NULL && *d != NULL; d++)
        g_ptr_array_add(paths, g_build_filename(*d, "rollup.sqlite", NULL));
    for (char **d = files; d != NULL && *d != NULL; d++)
        g_ptr_array_add(paths, g_strdup(*d));
    if (paths->len == 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "give --data DIR (repeatable) or --db FILE");
        goto err;
    }
    for (guint i = 0; i < paths->len; i++) {
        tt_rollup_db *db = tt_rollup_db_open(g_ptr_array_index(paths, i), error);
        if (db == NULL)
            goto err;
        g_ptr_array_add(dbs, db);
        const char *z = tt_rollup_db_timezone(db);
        const tt_rollup_db *first = g_ptr_array_index(dbs, 0);
        if (strcmp(z, tt_rollup_db_timezone(first)) != 0) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "%s cuts days in %s but %s in %s: databases of different time zones "
                        "cannot be summed into one quarter",
                        tt_rollup_db_path(db), z, tt_rollup_db_path(first),
                        tt_rollup_db_timezone(first));
            goto err;
        }
    }
    *tz = tt_rollup_db_timezone(g_ptr_array_index(dbs, 0));
    if (tz_assert != NULL && strcmp(tz_assert, *tz) != 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--tz %s: the rollups were cut into days in %s by the collector; a period "
                    "in another zone cannot be computed from them (omit --tz, or collect with "
                    "timezone = %s)",
                    tz_assert, *tz, tz_assert);
        goto err;
    }
    g_ptr_array_free(paths, TRUE);
    return dbs;

err:
    g_ptr_array_free(paths, TRUE);
    g_ptr_array_free(dbs, TRUE);
    return NULL;
}
void tt_rank_period_clear(tt_rank_period *p)
{
    g_clear_pointer(&p->label, g_free);
}

const char *tt_rank_change_word(const tt_rank_row *r, gboolean ja)
{
    return change_word(ja ? &words_ja : &words_en, r);
}

const char *tt_rank_prev_heading(tt_period_kind kind, gboolean ja)
{
    return (ja ? &words_ja : &words_en)->prev[kind];
}

tt_rank_table *tt_rank_table_build(GPtrArray *dbs, const tt_rank_query *q, tt_period_kind kind,
                                   const tt_rank_period *cur, const tt_rank_period *prev,
                                   const char *tz, GError **error)
{
    tt_rank_table *t = g_new0(tt_rank_table, 1);
    t->q = *q;
    t->kind = kind;
    t->cur = cur;
    t->prev = prev;
    t->tz = tz;
    t->sources = -1;
    t->sums = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *cls = strcmp(q->cls, "all") == 0 ? NULL : q->cls;
    g_autoptr(GHashTable) before = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) total = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) sketches = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < dbs->len; i++) {
        tt_rollup_db *db = g_ptr_array_index(dbs, i);
        if (!tt_rollup_db_sum(db, q->by, cur->from, cur->to, cls, q->sensor, t->sums, error) ||
            !tt_rollup_db_sum(db, q->by, prev->from, prev->to, cls, q->sensor, before, error) ||
            !tt_rollup_db_sum(db, "total", cur->from, cur->to, cls, q->sensor, total, error) ||
            !tt_rollup_db_sources(db, cur->from, cur->to, q->sensor, sketches, error)) {
            tt_rank_table_free(t);
            return NULL;
        }
    }
    t->complete = tt_completeness_build(dbs, cur->from, cur->to, q->sensor, error);
    if (t->complete == NULL) {
        tt_rank_table_free(t);
        return NULL;
    }
    const tt_rank_counts *all = g_hash_table_lookup(total, "all");
    t->total = all != NULL ? rank_metric(all, q->metric) : 0;
    /* sketches hold every class: stated only for the unfiltered class */
    const guint8 *all_src = g_hash_table_lookup(sketches, "");
    if (cls == NULL && all_src != NULL)
        t->sources = tt_rollup_hll_estimate(all_src);

    t->rows = rank_rows(t->sums, q->metric);
    g_autoptr(GArray) prows = rank_rows(before, q->metric);
    g_autoptr(GHashTable) prev_rank = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < prows->len; i++) {
        tt_rank_row *p = &g_array_index(prows, tt_rank_row, i);
        g_hash_table_insert(prev_rank, (gpointer)p->key, GUINT_TO_POINTER(p->rank));
    }
    if (t->rows->len > q->top)
        g_array_set_size(t->rows, q->top);
    for (guint i = 0; i < t->rows->len; i++) {
        tt_rank_row *r = &g_array_index(t->rows, tt_rank_row, i);
        r->prev_rank = GPOINTER_TO_UINT(g_hash_table_lookup(prev_rank, r->key));
        const guint8 *sk = g_hash_table_lookup(sketches, r->key);
        if (cls == NULL && sk != NULL && strcmp(q->by, "country") == 0)
            r->sources = tt_rollup_hll_estimate(sk);
    }
    return t;
}

void tt_rank_table_free(tt_rank_table *t)
{
    if (t == NULL)
        return;
    if (t->rows != NULL)
        g_array_free(t->rows, TRUE);
    g_hash_table_destroy(t->sums);
    tt_completeness_free(t->complete);
    g_free(t);
}

void tt_rank_table_format(const tt_rank_table *t, tt_rank_format fmt, gboolean ja, GString *out)
{
    if (fmt == TT_RANK_JSON)
        rank_print_json(t, ja, out);
    else
        rank_print_table(t, ja, fmt, out);
}
