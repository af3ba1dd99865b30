/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * completeness.c - the completeness line of `teiten rank` and `teiten report`.
 *
 * The collector counts every loss where it happens (kernel drops per
 * listener, sequence gaps, refused messages and records, TCP streams cut,
 * rollup transactions rolled back, RRD steps refused) and the rollup plugin
 * keeps them per day in rollup.sqlite's loss table (docs/storage.md). Here
 * they are summed over the period and said plainly next to the records
 * stored: "complete" only when the databases recorded losses and counted
 * none. A database written before the loss table existed says so instead of
 * claiming completeness it cannot know.
 *
 * Losses are in their own units (datagrams, messages, sequence numbers,
 * records): they are listed, never added into one number, since a dropped
 * datagram holds an unknown number of records.
 */
#include "completeness.h"
#include "json.h"

#include <string.h>

tt_completeness *tt_completeness_build(GPtrArray *dbs, const char *from, const char *to,
                                       const char *sensor, GError **error)
{
    tt_completeness *c = g_new0(tt_completeness, 1);
    c->recorded = TRUE;
    c->losses = tt_rollup_losses_new();
    g_autoptr(GHashTable) total = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < dbs->len; i++) {
        tt_rollup_db *db = g_ptr_array_index(dbs, i);
        gboolean recorded = TRUE;
        if (!tt_rollup_db_sum(db, "total", from, to, NULL, sensor, total, error) ||
            !tt_rollup_db_losses(db, from, to, sensor, c->losses, &recorded, error)) {
            tt_completeness_free(c);
            return NULL;
        }
        c->recorded &= recorded;
    }
    const tt_rank_counts *all = g_hash_table_lookup(total, "all");
    c->records = all != NULL ? all->records : 0;
    return c;
}

void tt_completeness_free(tt_completeness *c)
{
    if (c == NULL)
        return;
    g_array_free(c->losses, TRUE);
    g_free(c);
}

gboolean tt_completeness_complete(const tt_completeness *c)
{
    return c->recorded && c->losses->len == 0;
}

/* Where a loss's name (or reason) stands in its words. */
typedef enum loss_where {
    LOSS_NOWHERE,     /* neither */
    LOSS_ON,          /* en "... on NAME", ja "NAME で..." */
    LOSS_BY,          /* en "... by NAME", ja "NAME で..." */
    LOSS_REASON,      /* "... (REASON)" in both */
    LOSS_FROM,        /* an exporters' loss: en "... from SENSOR", ja "SENSOR で..." */
    LOSS_FROM_REASON, /* both */
} loss_where;

/*
 * The words of each known loss, first match wins: en "COUNT EN[ on/by NAME][ (REASON)]",
 * ja "[NAME で]JA COUNT[ JA_UNIT][ (REASON)]". NULL reason or name: any.
 */
static const struct loss_phrase {
    const char *scope, *reason, *name;
    const char *en, *ja, *ja_unit;
    loss_where where;
} loss_phrases[] = {
    {"listener", "kernel_drops", NULL, "kernel drops", "カーネル破棄", "データグラム", LOSS_ON},
    {"listener", "exporter_cap", NULL, "datagrams refused at max-exporters",
     " max-exporters 超過の破棄" /* a space before Latin text */, "データグラム", LOSS_ON},
    {"listener", "streams_cut", NULL, "TCP streams cut", "途中切断の TCP ストリーム", NULL,
     LOSS_ON},
    {"listener", "tcp_refused", NULL, "TCP connections refused at a cap",
     "上限超過により拒否した TCP 接続", NULL, LOSS_ON},
    {"listener", "unread_at_stop", NULL, "datagrams unread at the stop", "停止時に未読",
     "データグラム", LOSS_ON},
    /* exporters' losses are per sensor ("all": a database from before they were) */
    {"exporters", "seq_lost", NULL, "sequence gaps", "シーケンス番号の欠落", NULL, LOSS_FROM},
    {"exporters", "future", NULL, "records refused (future time)", "未来の時刻で拒否", "レコード",
     LOSS_FROM},
    {"exporters", "no_template", NULL, "data sets without template",
     "テンプレートのないデータセット", NULL, LOSS_FROM},
    {"exporters", NULL, NULL, "messages refused", "拒否メッセージ", NULL, LOSS_FROM_REASON},
    {"sensor", "too_old", NULL, "records refused as too old", "古すぎて拒否", "レコード", LOSS_ON},
    {"store", "rolled_back", NULL, "records rolled back in rollup.sqlite",
     "rollup.sqlite でロールバック", "レコード", LOSS_NOWHERE},
    {"store", "refused", "writer", "writer jobs refused (backlog full)", "書き込みジョブ拒否",
     "(バックログ超過)", LOSS_NOWHERE},
    {"store", "lost", "writer", "writer jobs lost at the stop", "停止時に破棄された書き込みジョブ",
     NULL, LOSS_NOWHERE},
    {"store", "refused", NULL, "steps refused", "拒否", "ステップ", LOSS_BY},
};

static gboolean loss_phrase_matches(const struct loss_phrase *p, const tt_rollup_loss *l)
{
    return strcmp(l->scope, p->scope) == 0 &&
           (p->reason == NULL || strcmp(l->reason, p->reason) == 0) &&
           (p->name == NULL || strcmp(l->name, p->name) == 0);
}

/* One loss in words. */
static void loss_words(const tt_rollup_loss *l, gboolean ja, GString *out)
{
    const struct loss_phrase *p = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(loss_phrases) && p == NULL; i++) {
        if (loss_phrase_matches(&loss_phrases[i], l))
            p = &loss_phrases[i];
    }
    if (p == NULL) {
        g_string_append_printf(out, "%" G_GUINT64_FORMAT " %s %s (%s %s)", l->count, l->unit,
                               l->reason, l->scope, l->name);
        return;
    }
    gboolean from = p->where == LOSS_FROM || p->where == LOSS_FROM_REASON;
    const char *who = p->where == LOSS_ON || p->where == LOSS_BY || from ? l->name : NULL;
    if (from && strcmp(l->name, "all") == 0)
        who = NULL; /* a database from before exporters' losses were per sensor */
    else if (from && strcmp(l->name, "unattributed") == 0)
        who = ja ? "センサー不明のエクスポーター" : "unattributed exporters";
    if (ja) {
        if (who != NULL)
            g_string_append_printf(out, "%s で", who);
        g_string_append_printf(out, "%s %" G_GUINT64_FORMAT, p->ja, l->count);
        if (p->ja_unit != NULL)
            g_string_append_printf(out, " %s", p->ja_unit);
    } else {
        g_string_append_printf(out, "%" G_GUINT64_FORMAT " %s", l->count, p->en);
        if (who != NULL)
            g_string_append_printf(out, " %s %s",
                                   from                  ? "from"
                                   : p->where == LOSS_ON ? "on"
                                                         : "by",
                                   who);
    }
    if (p->where == LOSS_REASON || p->where == LOSS_FROM_REASON)
        g_string_append_printf(out, " (%s)", l->reason);
}

void tt_completeness_line(const tt_completeness *c, gboolean ja, GString *out)
{
    if (!c->recorded)
        g_string_append(out, ja ? "完全性: 記録なし (損失を記録する前のデータベース)"
                                : "completeness: not recorded (a database from before loss "
                                  "accounting)");
    else if (c->losses->len == 0)
        g_string_append(out, ja ? "完全: 損失の計上なし" : "complete: no loss counted");
    else {
        g_string_append(out, ja ? "不完全: " : "INCOMPLETE: ");
        for (guint i = 0; i < c->losses->len; i++) {
            if (i > 0)
                g_string_append(out, ja ? "、" : ", ");
            loss_words(&g_array_index(c->losses, tt_rollup_loss, i), ja, out);
        }
    }
    g_string_append_printf(out,
                           ja ? "。保存 %" G_GUINT64_FORMAT " レコード"
                              : "; %" G_GUINT64_FORMAT " records stored",
                           c->records);
}

void tt_completeness_json(const tt_completeness *c, GString *out)
{
    g_string_append_printf(
        out, "{\"complete\":%s,\"recorded\":%s,\"records\":%" G_GUINT64_FORMAT ",\"losses\":[",
        tt_completeness_complete(c) ? "true" : "false", c->recorded ? "true" : "false", c->records);
    for (guint i = 0; i < c->losses->len; i++) {
        const tt_rollup_loss *l = &g_array_index(c->losses, tt_rollup_loss, i);
        g_string_append(out, i > 0 ? ",{\"scope\":" : "{\"scope\":");
        tt_json_append_string(out, l->scope);
        g_string_append(out, ",\"name\":");
        tt_json_append_string(out, l->name);
        g_string_append(out, ",\"reason\":");
        tt_json_append_string(out, l->reason);
        g_string_append(out, ",\"unit\":");
        tt_json_append_string(out, l->unit);
        g_string_append_printf(out, ",\"count\":%" G_GUINT64_FORMAT "}", l->count);
    }
    g_string_append(out, "]}");
}
