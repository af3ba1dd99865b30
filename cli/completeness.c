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

static gboolean is(const tt_rollup_loss *l, const char *scope, const char *reason)
{
    return strcmp(l->scope, scope) == 0 && (reason == NULL || strcmp(l->reason, reason) == 0);
}

/* One loss in words. */
static void loss_words(const tt_rollup_loss *l, gboolean ja, GString *out)
{
    guint64 n = l->count;
    if (is(l, "listener", "kernel_drops"))
        g_string_append_printf(out,
                               ja ? "%s でカーネル破棄 %" G_GUINT64_FORMAT " データグラム"
                                  : "%2$" G_GUINT64_FORMAT " kernel drops on %1$s",
                               l->name, n);
    else if (is(l, "listener", "exporter_cap"))
        g_string_append_printf(out,
                               ja ? "%s で max-exporters 超過の破棄 %" G_GUINT64_FORMAT " データグラム"
                                  : "%2$" G_GUINT64_FORMAT " datagrams refused at max-exporters on %1$s",
                               l->name, n);
    else if (is(l, "listener", "streams_cut"))
        g_string_append_printf(out,
                               ja ? "%s で途中切断の TCP ストリーム %" G_GUINT64_FORMAT
                                  : "%2$" G_GUINT64_FORMAT " TCP streams cut on %1$s",
                               l->name, n);
    else if (is(l, "listener", "unread_at_stop"))
        g_string_append_printf(out,
                               ja ? "%s で停止時に未読 %" G_GUINT64_FORMAT " データグラム"
                                  : "%2$" G_GUINT64_FORMAT " datagrams unread at the stop on %1$s",
                               l->name, n);
    else if (is(l, "exporters", "seq_lost"))
        g_string_append_printf(out, ja ? "シーケンス番号の欠落 %" G_GUINT64_FORMAT
                                       : "%" G_GUINT64_FORMAT " sequence gaps",
                               n);
    else if (is(l, "exporters", "future"))
        g_string_append_printf(out, ja ? "未来の時刻で拒否 %" G_GUINT64_FORMAT " レコード"
                                       : "%" G_GUINT64_FORMAT " records refused (future time)",
                               n);
    else if (is(l, "exporters", "no_template"))
        g_string_append_printf(out, ja ? "テンプレートのないデータセット %" G_GUINT64_FORMAT
                                       : "%" G_GUINT64_FORMAT " data sets without template",
                               n);
    else if (is(l, "exporters", NULL))
        g_string_append_printf(out,
                               ja ? "拒否メッセージ %2$" G_GUINT64_FORMAT " (%1$s)"
                                  : "%2$" G_GUINT64_FORMAT " messages refused (%1$s)",
                               l->reason, n);
    else if (is(l, "sensor", "too_old"))
        g_string_append_printf(out,
                               ja ? "%s で古すぎて拒否 %" G_GUINT64_FORMAT " レコード"
                                  : "%2$" G_GUINT64_FORMAT " records refused as too old on %1$s",
                               l->name, n);
    else if (is(l, "store", "rolled_back"))
        g_string_append_printf(out,
                               ja ? "rollup.sqlite でロールバック %" G_GUINT64_FORMAT " レコード"
                                  : "%" G_GUINT64_FORMAT " records rolled back in rollup.sqlite",
                               n);
    else if (is(l, "store", "refused") && strcmp(l->name, "writer") == 0)
        g_string_append_printf(out,
                               ja ? "書き込みジョブ拒否 %" G_GUINT64_FORMAT " (バックログ超過)"
                                  : "%" G_GUINT64_FORMAT " writer jobs refused (backlog full)",
                               n);
    else if (is(l, "store", "lost") && strcmp(l->name, "writer") == 0)
        g_string_append_printf(out,
                               ja ? "停止時に破棄された書き込みジョブ %" G_GUINT64_FORMAT
                                  : "%" G_GUINT64_FORMAT " writer jobs lost at the stop",
                               n);
    else if (is(l, "store", "refused"))
        g_string_append_printf(out,
                               ja ? "%s で拒否 %" G_GUINT64_FORMAT " ステップ"
                                  : "%2$" G_GUINT64_FORMAT " steps refused by %1$s",
                               l->name, n);
    else
        g_string_append_printf(out, "%" G_GUINT64_FORMAT " %s %s (%s %s)", n, l->unit, l->reason,
                               l->scope, l->name);
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

static void json_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\')
            g_string_append_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            g_string_append_printf(out, "\\u%04x", ch);
        else
            g_string_append_c(out, (char)ch);
    }
    g_string_append_c(out, '"');
}

void tt_completeness_json(const tt_completeness *c, GString *out)
{
    g_string_append_printf(out,
                           "{\"complete\":%s,\"recorded\":%s,\"records\":%" G_GUINT64_FORMAT
                           ",\"losses\":[",
                           tt_completeness_complete(c) ? "true" : "false",
                           c->recorded ? "true" : "false", c->records);
    for (guint i = 0; i < c->losses->len; i++) {
        const tt_rollup_loss *l = &g_array_index(c->losses, tt_rollup_loss, i);
        g_string_append(out, i > 0 ? ",{\"scope\":" : "{\"scope\":");
        json_string(out, l->scope);
        g_string_append(out, ",\"name\":");
        json_string(out, l->name);
        g_string_append(out, ",\"reason\":");
        json_string(out, l->reason);
        g_string_append(out, ",\"unit\":");
        json_string(out, l->unit);
        g_string_append_printf(out, ",\"count\":%" G_GUINT64_FORMAT "}", l->count);
    }
    g_string_append(out, "]}");
}
