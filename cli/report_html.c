/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report_html.c - the report's page: one HTML5 file, a small inline style
 * sheet, no script, images beside it by relative name, so the directory can
 * be archived, mailed or served from anywhere and still read the same.
 *
 * The layout follows the quarterly reports CERTs publish (JPCERT/CC's
 * TSUBAME, Team Cymru's and CAIDA's telescope summaries): the period's
 * totals first, then the ranked destination ports and source countries with
 * the previous period's rank and a change marker, each with its graph, then
 * what the traffic is (scan / backscatter), each sensor's share and
 * coverage, and the notes a reader needs to trust the numbers (GeoIP
 * database, sampling, outages, time zone). English and Japanese share the
 * structure; only the words differ. Numbers print with thousands
 * separators; the tables' exact values are in the CSV/JSON files beside.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"

typedef struct {
    const char *lang, *title, *period, *tz, *summary, *packets, *flows, *bytes, *sources, *sensors,
        *days, *ports, *countries, *rank, *port, *country, *share, *change, *note, *classes,
        *cls_names[3], *cls_help, *sensor_h, *records, *leaks, *late, *sampling, *heard_days,
        *heard_hours, *outages, *none, *top_ports, *notes_h, *geoip, *no_geoip, *files,
        *graph_ports, *graph_countries, *graph_total, *of, *how, *geoip_built, *geoip_applied,
        *geoip_later;
} report_words;

static const report_words words_en = {
    "en",
    "Darknet observation report",
    "Period",
    "time zone",
    "Summary",
    "packets",
    "flows (est.)",
    "bytes",
    "distinct sources (estimate)",
    "sensors",
    "days observed",
    "Top destination ports",
    "Top source countries",
    "rank",
    "destination port",
    "source country",
    "share",
    "change",
    "note",
    "What arrived: scan and backscatter",
    {"scan", "backscatter", "other"},
    "Scan: TCP SYN without ACK, ICMP echo requests. Backscatter: replies (SYN+ACK, RST, ICMP "
    "errors) of hosts whose address was spoofed. Other: the rest (UDP probes, ...).",
    "Sensors",
    "records",
    "leaks (to lit space, not counted)",
    "late records",
    "sampling",
    "days heard",
    "hours heard",
    "outages (days with nothing heard)",
    "none",
    "top ports",
    "Notes: where these numbers come from",
    "GeoIP database",
    "no GeoIP database: every source is ZZ (unknown)",
    "The tables as data",
    "Top destination ports across the period",
    "Top source countries across the period",
    "Everything observed across the period",
    "of",
    "How to read this report: docs/quickstart.md. Ranks are exact (sums of per-day counters "
    "cut in the time zone above); ties are broken by the key in byte order. Packets and bytes "
    "are corrected for sampling; flows (est.) are records times the sampling rate, an "
    "estimate of the flows; the RRD graphs' \"flow records\" are the records as received. "
    "Distinct sources "
    "are a HyperLogLog estimate (about 1.6 %). Graphs show rates from the RRD archives, per "
    "hour or per day as each axis says (per day when a graph's busiest series stays under 10 "
    "an hour).",
    "version: the build of",
    "applied to",
    "Built after the traffic it was applied to: each source is placed where its address was "
    "on the build date, which may differ from where it was when the traffic arrived."};

static const report_words words_ja = {
    "ja",
    "ダークネット観測レポート",
    "期間",
    "タイムゾーン",
    "概要",
    "パケット数",
    "推定フロー数",
    "バイト数",
    "送信元アドレス数 (推定)",
    "センサー数",
    "観測日数",
    "宛先ポート番号 上位",
    "送信元地域 上位",
    "順位",
    "宛先ポート番号",
    "送信元地域",
    "割合",
    "変化",
    "備考",
    "観測内容: スキャンとバックスキャッタ",
    {"スキャン", "バックスキャッタ", "その他"},
    "スキャン: ACK なしの TCP SYN、ICMP エコー要求。バックスキャッタ: 送信元を詐称された"
    "ホストからの応答 (SYN+ACK、RST、ICMP エラー)。その他: それ以外 (UDP の探索など)。",
    "センサー",
    "レコード数",
    "リーク (ダークネット外宛て、集計対象外)",
    "遅着レコード数",
    "サンプリング",
    "受信のあった日数",
    "受信のあった時間数",
    "欠測 (受信のなかった日)",
    "なし",
    "上位ポート",
    "注記: 数値の出所",
    "GeoIP データベース",
    "GeoIP データベースなし: 送信元はすべて ZZ (不明)",
    "データとしての表",
    "宛先ポート番号 上位の推移",
    "送信元地域 上位の推移",
    "観測全体の推移",
    "/",
    "読み方: docs/quickstart.md。順位は上記タイムゾーンで区切った日ごとの正確な集計の和です。"
    "同数の場合はキーのバイト順。パケット数とバイト数はサンプリング補正済み、推定フロー数は"
    "レコード数 × サンプリング率 (RRD グラフの flow records "
    "は受信したレコード数)。送信元アドレス数は HyperLogLog による推定 (誤差約 1.6 %)。"
    "グラフは RRD アーカイブのレートで、縦軸に示すとおり 1 時間あたりまたは 1 日あたりです "
    "(最も多い系列でも 1 時間に 10 未満のグラフは 1 日あたり)。",
    "版: 作成日時",
    "適用期間",
    "適用した通信より後に作成されたデータベースです。送信元の国は作成時点のアドレス割り当てに"
    "よるもので、通信が届いた当時とは異なる場合があります。"};

static const char report_css[] =
    "body{font:15px/1.45 'DejaVu Sans','Noto Sans CJK JP',sans-serif;color:#1d2733;"
    "background:#eef1f5;margin:0}"
    ".incomplete{color:#a40000;font-weight:bold}"
    "header{background:#12283f;color:#fff;padding:22px 40px 18px}"
    "header h1{margin:0;font-size:26px;font-weight:600}"
    "header p{margin:6px 0 0;color:#b8c7d9}"
    "main{max-width:1080px;margin:0 auto;padding:10px 30px 40px}"
    "section{background:#fff;border:1px solid #d5dce5;border-radius:6px;margin:18px 0;"
    "padding:14px 22px 18px}"
    "h2{font-size:19px;margin:4px 0 12px;color:#12283f;border-bottom:2px solid #2b6cb0;"
    "padding-bottom:4px}"
    "h3{font-size:16px;margin:14px 0 6px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px}"
    ".card{flex:1 1 150px;background:#f5f8fb;border:1px solid #d5dce5;border-radius:6px;"
    "padding:10px 14px}"
    ".card b{display:block;font-size:22px;color:#12283f}.card span{color:#52606d;font-size:13px}"
    "table{border-collapse:collapse;width:100%;margin:6px 0 10px}"
    "th,td{padding:5px 9px;border-bottom:1px solid #e3e8ee;text-align:left;vertical-align:top}"
    "th{background:#f0f4f8;font-weight:600;font-size:13px;color:#334e68}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
    "td.key{font-family:'DejaVu Sans Mono',monospace;white-space:nowrap}"
    "td[class$=-c]{white-space:nowrap}.up{color:#c53030;font-weight:600}.down{color:#2f855a;font-"
    "weight:600}"
    ".same{color:#718096}.new{color:#fff;background:#c05621;border-radius:3px;padding:0 5px;"
    "font-size:12px}"
    ".bar{background:#2b6cb0;height:10px;display:inline-block;border-radius:2px}"
    "td.note{color:#52606d;font-size:13px}"
    "img{max-width:100%;display:block;margin:8px 0;border:1px solid #e3e8ee}"
    ".muted{color:#52606d;font-size:13px}"
    "footer{color:#52606d;font-size:12px;text-align:center;padding:10px}";

static void esc(GString *out, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '"':
            g_string_append(out, "&quot;");
            break;
        default:
            g_string_append_c(out, *s);
        }
    }
}

/* 1234567 -> "1,234,567" */
static void num(GString *out, guint64 v)
{
    char digits[32];
    int n = g_snprintf(digits, sizeof digits, "%" G_GUINT64_FORMAT, v);
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, digits[i]);
    }
}

static void card(GString *out, const char *label, const char *value)
{
    g_string_append(out, "<div class=\"card\"><b>");
    esc(out, value);
    g_string_append(out, "</b><span>");
    esc(out, label);
    g_string_append(out, "</span></div>\n");
}

static char *num_str(guint64 v)
{
    GString *s = g_string_new(NULL);
    num(s, v);
    return g_string_free(s, FALSE);
}

static void change_cell(GString *out, const tt_rank_row *r, gboolean ja)
{
    const char *k = tt_rank_change_key(r);
    const char *mark = strcmp(k, "up") == 0     ? "▲ "
                       : strcmp(k, "down") == 0 ? "▼ "
                       : strcmp(k, "same") == 0 ? "= "
                                                : "";
    g_string_append_printf(out, "<td class=\"%s-c\"><span class=\"%s\">%s", k, k, mark);
    esc(out, tt_rank_change_word(r, ja));
    g_string_append(out, "</span></td>");
}

static void rank_table(GString *out, const report_model *m, const report_words *w,
                       const tt_rank_table *t, const char *id, gboolean notes)
{
    gboolean port = strcmp(t->q.by, "port") == 0;
    const char *metric = strcmp(m->metric, "flows") == 0   ? w->flows
                         : strcmp(m->metric, "bytes") == 0 ? w->bytes
                                                           : w->packets;
    g_string_append_printf(out, "<table id=\"%s\"><thead><tr><th class=\"num\">%s</th><th>", id,
                           w->rank);
    esc(out, port ? w->port : w->country);
    g_string_append_printf(out,
                           "</th><th class=\"num\">%s</th><th class=\"num\">%s</th><th></th>"
                           "<th class=\"num\">%s</th><th>%s</th>",
                           metric, w->share, tt_rank_prev_heading(m->kind, m->ja), w->change);
    if (notes)
        g_string_append_printf(out, "<th>%s</th>", w->note);
    g_string_append(out, "</tr></thead>\n<tbody>\n");
    double top = t->rows->len > 0 ? tt_rank_share(t, &g_array_index(t->rows, tt_rank_row, 0)) : 1;
    for (guint i = 0; i < t->rows->len; i++) {
        const tt_rank_row *r = &g_array_index(t->rows, tt_rank_row, i);
        g_autofree char *label = tt_rank_row_label(t->q.by, r->key, m->ja);
        double share = tt_rank_share(t, r);
        g_string_append_printf(out, "<tr data-key=\"%s\" data-value=\"%" G_GUINT64_FORMAT "\">",
                               r->key, r->value);
        g_string_append_printf(out, "<td class=\"num\">%u</td><td class=\"key\">", r->rank);
        esc(out, label);
        if (!port)
            g_string_append_printf(out, " <span class=\"muted\">%s</span>", r->key);
        g_string_append(out, "</td><td class=\"num\">");
        num(out, r->value);
        g_string_append_printf(out,
                               "</td><td class=\"num\">%.2f%%</td><td><span class=\"bar\" "
                               "style=\"width:%.0fpx\"></span></td><td class=\"num\">",
                               100.0 * share, top > 0 ? 120.0 * share / top : 0.0);
        if (r->prev_rank > 0)
            g_string_append_printf(out, "%u", r->prev_rank);
        else
            g_string_append(out, "–");
        g_string_append(out, "</td>");
        change_cell(out, r, m->ja);
        if (notes) {
            const char *n = m->notes != NULL ? g_hash_table_lookup(m->notes, r->key) : NULL;
            g_string_append(out, "<td class=\"note\">");
            if (n != NULL)
                esc(out, n);
            g_string_append(out, "</td>");
        }
        g_string_append(out, "</tr>\n");
    }
    g_string_append(out, "</tbody></table>\n");
}

static void image(GString *out, const char *file, const char *alt)
{
    if (file == NULL)
        return;
    g_string_append_printf(out, "<img src=\"%s\" alt=\"", file);
    esc(out, alt);
    g_string_append(out, "\">\n");
}

static void sensors_section(GString *out, const report_model *m, const report_words *w)
{
    g_string_append_printf(out, "<section id=\"sensors\"><h2>%s</h2>\n", w->sensor_h);
    for (guint i = 0; i < m->sensors->len; i++) {
        const report_sensor *s = g_ptr_array_index(m->sensors, i);
        g_string_append(out, "<h3>");
        esc(out, s->name);
        g_string_append(out, "</h3>\n<table class=\"facts\"><tbody>\n");
        g_string_append_printf(out, "<tr><th>%s</th><td class=\"num\">", w->records);
        num(out, s->records);
        g_string_append_printf(out, "</td><th>%s</th><td class=\"num\">", w->packets);
        num(out, s->cls[0].packets + s->cls[1].packets + s->cls[2].packets);
        g_string_append_printf(out, "</td></tr>\n<tr><th>%s</th><td class=\"num\">", w->leaks);
        num(out, s->leaks);
        g_string_append_printf(out, "</td><th>%s</th><td class=\"num\">", w->late);
        num(out, s->late);
        g_string_append_printf(out, "</td></tr>\n<tr><th>%s</th><td class=\"num\">%u %s %u</td>",
                               w->heard_days, s->days_heard, w->of, m->days_in_period);
        g_string_append_printf(out, "<th>%s</th><td class=\"num\">%.1f %s %u</td></tr>\n",
                               w->heard_hours, (double)s->coverage_min / 60.0, w->of,
                               24 * m->days_in_period);
        g_string_append_printf(out, "<tr><th>%s</th><td colspan=\"3\">", w->sampling);
        for (guint j = 0; j < s->sampling->len; j++) {
            const tt_rollup_fact *f = &g_array_index(s->sampling, tt_rollup_fact, j);
            g_string_append_printf(out, "%s1-in-%" G_GINT64_FORMAT " (", j > 0 ? ", " : "",
                                   f->value);
            num(out, f->records);
            g_string_append_printf(out, " %s, %s – %s)", w->records, f->first, f->last);
        }
        g_string_append_printf(out, "</td></tr>\n<tr><th>%s</th><td colspan=\"3\">", w->outages);
        if (s->outages->len == 0)
            g_string_append(out, w->none);
        for (guint j = 0; j < s->outages->len; j++)
            g_string_append_printf(out, "%s%s", j > 0 ? ", " : "",
                                   (const char *)g_ptr_array_index(s->outages, j));
        g_string_append_printf(out, "</td></tr>\n<tr><th>%s</th><td colspan=\"3\">", w->top_ports);
        for (guint j = 0; j < s->ports->rows->len; j++) {
            const tt_rank_row *r = &g_array_index(s->ports->rows, tt_rank_row, j);
            g_autofree char *label = tt_rank_row_label("port", r->key, m->ja);
            g_string_append_printf(out, "%s%u. ", j > 0 ? ", " : "", r->rank);
            esc(out, label);
            g_string_append_printf(out, " (%.1f%%)", 100.0 * tt_rank_share(s->ports, r));
        }
        g_string_append(out, "</td></tr>\n</tbody></table>\n");
        image(out, s->graph, s->name);
    }
    g_string_append(out, "</section>\n");
}

static void notes_section(GString *out, const report_model *m, const report_words *w)
{
    g_string_append_printf(out, "<section id=\"notes\"><h2>%s</h2>\n<ul>\n", w->notes_h);
    g_string_append_printf(out, "<li>%s: %s – %s (%s), %s %s %s.</li>\n", w->period, m->cur->from,
                           m->cur->to, m->cur->label, w->tz, m->tz,
                           m->ja ? "で日を区切る" : "(days are cut at its midnight)");
    if (m->geoip->len == 0)
        g_string_append_printf(out, "<li>%s</li>\n", w->no_geoip);
    for (guint i = 0; i < m->geoip->len; i++) {
        const tt_rollup_fact *f = &g_array_index(m->geoip, tt_rollup_fact, i);
        char built[32] = "?", day[11] = "";
        time_t t = (time_t)f->value;
        struct tm tm;
        if (gmtime_r(&t, &tm) != NULL) {
            strftime(built, sizeof built, "%Y-%m-%d %H:%M UTC", &tm);
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
        }
        /* the database's name (its database_type) and its version, the build date: GeoLite2,
         * DB-IP and IPinfo publish one build per date */
        g_string_append_printf(out, "<li class=\"geoip\">%s (", w->geoip);
        esc(out, f->sensor);
        g_string_append(out, "): <b>");
        esc(out, f->type);
        g_string_append_printf(out, "</b>, %s %s, %s %s – %s.", w->geoip_built, built,
                               w->geoip_applied, f->first, f->last);
        /* a database built after the traffic places each source where its address is at the
         * build, not where it was: say so */
        if (*day != '\0' && strcmp(day, f->last) > 0)
            g_string_append_printf(out, " <span class=\"incomplete geoip-later\">%s</span>",
                                   w->geoip_later);
        g_string_append(out, "</li>\n");
    }
    for (guint i = 0; i < m->sensors->len; i++) {
        const report_sensor *s = g_ptr_array_index(m->sensors, i);
        g_string_append_printf(out, "<li>%s ", w->sampling);
        esc(out, s->name);
        g_string_append(out, ": ");
        for (guint j = 0; j < s->sampling->len; j++) {
            const tt_rollup_fact *f = &g_array_index(s->sampling, tt_rollup_fact, j);
            g_string_append_printf(out, "%s1-in-%" G_GINT64_FORMAT, j > 0 ? ", " : "", f->value);
        }
        g_string_append_printf(out, "; %s %u %s %u; %s: %s", w->heard_days, s->days_heard, w->of,
                               m->days_in_period, w->outages, s->outages->len == 0 ? w->none : "");
        /* every outage, not only the first */
        for (guint j = 0; j < s->outages->len; j++)
            g_string_append_printf(out, "%s%s", j > 0 ? ", " : "",
                                   (const char *)g_ptr_array_index(s->outages, j));
        g_string_append(out, "</li>\n");
    }
    g_string_append(out, "<li>");
    esc(out, w->how);
    g_string_append_printf(out, "</li>\n</ul>\n<h3>%s</h3>\n<p>", w->files);
    for (char **f = m->files; f != NULL && *f != NULL; f++)
        g_string_append_printf(out, "%s<a href=\"%s\">%s</a>", f == m->files ? "" : " · ", *f, *f);
    g_string_append(out, "</p>\n</section>\n");
}

char *tt_report_html(const report_model *m)
{
    const report_words *w = m->ja ? &words_ja : &words_en;
    GString *out = g_string_new(NULL);
    g_string_append_printf(out,
                           "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                           "<meta name=\"viewport\" content=\"width=device-width\">\n"
                           "<title>%s %s</title>\n<style>%s</style>\n</head>\n<body>\n",
                           w->lang, w->title, m->cur->label, report_css);
    g_string_append_printf(out, "<header><h1>%s — %s</h1><p>%s %s – %s · %s %s · teiten</p>",
                           w->title, m->cur->label, w->period, m->cur->from, m->cur->to, w->tz,
                           m->tz);
    g_string_append(out, "</header>\n<main>\n");

    g_string_append_printf(out, "<section id=\"summary\"><h2>%s</h2><div class=\"cards\">\n",
                           w->summary);
    g_autofree char *p = num_str(m->all.packets), *f = num_str(m->all.flows);
    g_autofree char *src = m->sources >= 0 ? num_str((guint64)(m->sources + 0.5)) : g_strdup("–");
    g_autofree char *ns = g_strdup_printf("%u", m->n_sensors);
    g_autofree char *days = g_strdup_printf("%u %s %u", m->days_observed, w->of, m->days_in_period);
    card(out, w->packets, p);
    card(out, w->flows, f);
    card(out, w->sources, src);
    card(out, w->sensors, ns);
    card(out, w->days, days);
    g_string_append(out, "</div>\n");
    /* the completeness line, as `teiten rank` prints it: losses are never hidden */
    g_autoptr(GString) line = g_string_new(NULL);
    tt_completeness_line(m->ports->complete, m->ja, line);
    g_string_append_printf(out, "<p id=\"completeness\" class=\"%s\">",
                           tt_completeness_complete(m->ports->complete) ? "muted" : "incomplete");
    esc(out, line->str);
    g_string_append(out, "</p>\n");
    image(out, m->total_graph, w->graph_total);
    g_string_append(out, "</section>\n");

    g_string_append_printf(out, "<section id=\"ports\"><h2>%s (%u)</h2>\n", w->ports,
                           m->ports->rows->len);
    rank_table(out, m, w, m->ports, "ports-table", TRUE);
    image(out, m->ports_graph, w->graph_ports);
    g_string_append(out, "</section>\n");
    g_string_append_printf(out, "<section id=\"countries\"><h2>%s (%u)</h2>\n", w->countries,
                           m->countries->rows->len);
    rank_table(out, m, w, m->countries, "countries-table", FALSE);
    image(out, m->countries_graph, w->graph_countries);
    g_string_append(out, "</section>\n");

    g_string_append_printf(out,
                           "<section id=\"classes\"><h2>%s</h2>\n<table class=\"classes\"><thead>"
                           "<tr><th></th><th class=\"num\">%s</th><th class=\"num\">%s</th>"
                           "<th class=\"num\">%s</th><th></th></tr></thead><tbody>\n",
                           w->classes, w->packets, w->flows, w->share);
    for (int c = 0; c < 3; c++) {
        double share =
            m->all.packets > 0 ? (double)m->cls[c].packets / (double)m->all.packets : 0.0;
        g_string_append_printf(out, "<tr><th>%s</th><td class=\"num\">", w->cls_names[c]);
        num(out, m->cls[c].packets);
        g_string_append(out, "</td><td class=\"num\">");
        num(out, m->cls[c].flows);
        g_string_append_printf(out,
                               "</td><td class=\"num\">%.1f%%</td><td><span class=\"bar\" "
                               "style=\"width:%.0fpx\"></span></td></tr>\n",
                               100.0 * share, 300.0 * share);
    }
    g_string_append_printf(out, "</tbody></table>\n<p class=\"muted\">%s</p>\n</section>\n",
                           w->cls_help);
    sensors_section(out, m, w);
    notes_section(out, m, w);
    g_string_append(out, "</main>\n<footer>teiten · 定点観測</footer>\n</body>\n</html>\n");
    return g_string_free(out, FALSE);
}
