/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.c - the collector's self-statistics as one JSON document.
 *
 * Written to DATA/stats.json (through the writer thread, replaced
 * atomically) whenever a bucket closes, with its Prometheus text beside it
 * (prom.c), and summarised in the log on SIGUSR1. Per exporter: messages, records, templates,
 * refused templates by reason, data sets without a template, the sequence-loss estimate (IPFIX
 * counts records, NetFlow v9 packets, NetFlow v5 flows), dropped messages by
 * reason and the sampling rate in use. Per sensor: observed, leaks, late and
 * how far behind its watermark records arrived (to size `grace`). Writer lag
 * and the RRD store's counters come from health.c. `losses` lists every loss
 * counter that is not 0, exactly as tt_host.loss_foreach hands them to the
 * rollup plugin (loss.c), so stats.json and `teiten rank`'s completeness line
 * count the same things.
 * Everything comes from the core's copy of its counters (counters.h).
 * The document is built by hand with GString: it is small, flat and written
 * on a slow path; a JSON library would be one more dependency for nothing.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <inttypes.h>

#include "stats.h"

#include "json.h"
#include "loss.h"
#include "prom.h"

static const char *kind_name(tt_listen_kind kind)
{
    switch (kind) {
    case TT_LISTEN_IPFIX_UDP:
        return "ipfix+udp";
    case TT_LISTEN_IPFIX_TCP:
        return "ipfix+tcp";
    case TT_LISTEN_NF9_UDP:
        return "netflow9+udp";
    case TT_LISTEN_SFLOW_UDP:
        return "sflow+udp";
    case TT_LISTEN_NF5_UDP:
        return "netflow5+udp";
    }
    return "file";
}

static void stats_counters(GString *out, const tt_exporter_stats *s)
{
    g_string_append_printf(
        out,
        "\"messages\":%" PRIu64 ",\"records\":%" PRIu64 ",\"options_records\":%" PRIu64
        ",\"templates\":%" PRIu64 ",\"unknown_template_sets\":%" PRIu64 ",\"seq_lost\":%" PRIu64
        ",\"future_records\":%" PRIu64 ",\"withdrawals_ignored\":%" PRIu64,
        s->messages, s->records, s->options_records, s->templates, s->unknown_template_sets,
        s->seq_lost, s->future_records, s->withdrawals_ignored);
    /* the time policy and checked counts (timepolicy.h, docs/security.md) */
    g_string_append_printf(
        out,
        ",\"clock_ahead\":%" PRIu64 ",\"time_clamped\":%" PRIu64 ",\"time_impossible\":%" PRIu64
        ",\"value_range\":%" PRIu64 ",\"absurd_counts\":%" PRIu64 ",\"templates_refused\":{",
        s->clock_ahead, s->time_clamped, s->time_impossible, s->value_range, s->absurd_counts);
    for (int i = 0; i < TT_TREFUSE_COUNT; i++)
        g_string_append_printf(out, "%s\"%s\":%" PRIu64, i ? "," : "",
                               tt_template_refusal_key((tt_template_refusal)i),
                               s->templates_refused[i]);
    g_string_append(out, "},\"dropped\":{");
    for (int i = 0; i < TT_DROP_COUNT; i++)
        g_string_append_printf(out, "%s\"%s\":%" PRIu64, i ? "," : "",
                               tt_drop_reason_key((tt_drop_reason)i), s->dropped[i]);
    g_string_append(out, "},\"malformed\":{");
    gboolean first = TRUE;
    for (int i = 1; i < TT_WIRE_REASON_COUNT; i++) {
        g_string_append_printf(out, "%s\"%s\":%" PRIu64, first ? "" : ",",
                               tt_wire_reason_key((tt_wire_status)i), s->wire_reasons[i]);
        first = FALSE;
    }
    g_string_append(out, "}");
}

typedef struct {
    GString *out;
    gboolean first;
} exporter_ctx;

static void stats_exporter(const tt_exporter *e, void *data)
{
    exporter_ctx *ctx = data;
    const tt_exporter_stats *s = tt_exporter_get_stats(e);
    g_string_append(ctx->out, ctx->first ? "{" : ",{");
    ctx->first = FALSE;
    g_string_append(ctx->out, "\"exporter\":");
    tt_json_append_string(ctx->out, tt_exporter_label(e));
    g_string_append_printf(ctx->out,
                           ",\"transport\":\"%s\",\"sampling\":%u,\"first_seen\":%" PRId64
                           ",\"last_seen\":%" PRId64 ",",
                           kind_name(tt_exporter_kind(e)), s->sampling, s->first_seen,
                           s->last_seen);
    if (s->clock_offset_known)
        g_string_append_printf(ctx->out, "\"clock_offset_s\":%" PRId64 ",", s->clock_offset_s);
    stats_counters(ctx->out, s);
    g_string_append(ctx->out, "}");
}

typedef struct {
    GString *out;
    gboolean first;
} loss_ctx;

static void stats_loss(const tt_loss *l, void *data)
{
    loss_ctx *ctx = data;
    g_string_append(ctx->out, ctx->first ? "{\"scope\":" : ",{\"scope\":");
    ctx->first = FALSE;
    tt_json_append_string(ctx->out, l->scope);
    g_string_append(ctx->out, ",\"name\":");
    tt_json_append_string(ctx->out, l->name);
    g_string_append(ctx->out, ",\"reason\":");
    tt_json_append_string(ctx->out, l->reason);
    g_string_append(ctx->out, ",\"unit\":");
    tt_json_append_string(ctx->out, l->unit);
    g_string_append_printf(ctx->out, ",\"count\":%" PRIu64 "}", l->count);
}

char *tt_stats_json(const tt_counters *c)
{
    g_return_val_if_fail(c != NULL, NULL);
    GString *out = g_string_sized_new(4096);
    tt_decoder *dec = c->decoder;
    int64_t build = c->geo_build;
    const char *geo = c->geo_type;
    const tt_writer_stats ws = c->writer;
    g_string_append_printf(
        out,
        "{\"time\":%" PRId64 ",\"records_in\":%" PRIu64
        ",\"exporters_alive\":%u,\"exporter_evictions\":%" PRIu64 ",\"writer_pending\":%" PRIu64
        ",\"writer_stalls\":%" PRIu64 ",\"writer_stalled_s\":%.3f",
        g_get_real_time() / G_USEC_PER_SEC, c->records_in, tt_decoder_exporter_count(dec),
        tt_decoder_evictions(dec), ws.pending_jobs, ws.stalls, (double)ws.stalled_us / 1e6);
    /* the backlog (writer.h); refused and lost jobs are losses: their counts never reached a
     * store (per-day loss counters take writer_refused_jobs from here) */
    g_string_append_printf(out,
                           ",\"writer_pending_bytes\":%" PRIu64 ",\"writer_peak_jobs\":%" PRIu64
                           ",\"writer_peak_bytes\":%" PRIu64 ",\"writer_backlog\":%" PRIu64
                           ",\"writer_refused_jobs\":%" PRIu64 ",\"writer_refused_bytes\":%" PRIu64
                           ",\"writer_lost_jobs\":%" PRIu64 ",\"writer_lost_bytes\":%" PRIu64
                           ",\"store_failures\":%" PRIu64 ",\"geoip\":",
                           ws.pending_bytes, ws.peak_jobs, ws.peak_bytes, c->writer_backlog,
                           ws.refused_jobs, ws.refused_bytes, ws.lost_jobs, ws.lost_bytes,
                           c->store_failures);
    if (geo != NULL) {
        g_string_append(out, "{\"type\":");
        tt_json_append_string(out, geo);
        g_string_append_printf(out, ",\"build_epoch\":%" PRId64 "}", build);
    } else {
        g_string_append(out, "null");
    }
    const tt_health_stats h = c->health;
    g_string_append_printf(out,
                           ",\"writer_lag_buckets\":%" PRIu64 ",\"writer_lag_max\":%" PRIu64
                           ",\"writer_lag_warnings\":%" PRIu64 ",\"writer_lag_warn\":%u"
                           ",\"self_steps\":%" PRIu64,
                           h.lag_steps, h.lag_max, h.lag_warnings, h.lag_warn, h.self_steps);
    g_string_append_printf(
        out,
        ",\n\"rrd\":{\"updates\":%" PRIu64 ",\"skipped_past\":%" PRIu64 ",\"refused\":%" PRIu64
        ",\"created\":%" PRIu64 ",\"unknown_gaps\":%" PRIu64 ",\"pending_lines\":%" PRIu64
        ",\"daemon_errors\":%" PRIu64 ",\"reconnects\":%" PRIu64 ",\"journal_replayed\":%" PRIu64
        ",\"journaled\":%" PRIu64 ",\"set_aside\":%" PRIu64 ",\"saturated\":%" PRIu64
        ",\"indexed\":%" PRIu64 ",\"unasked\":%" PRIu64 "}",
        h.rrd.updates, h.rrd.past, h.rrd.refused, h.rrd.created, h.rrd.unknown_gaps, h.rrd.pending,
        h.rrd.daemon_errors, h.rrd.reconnects, h.rrd.replayed, h.rrd.journaled, h.rrd.set_aside,
        h.rrd.saturated, h.rrd.indexed, h.rrd.unasked);
    g_string_append(out, ",\n\"listeners\":");
    g_string_append(out, c->listeners_json != NULL ? c->listeners_json : "[]");
    g_string_append(out, ",\n\"losses\":[");
    loss_ctx lctx = {out, TRUE};
    tt_loss_foreach(c, stats_loss, &lctx);
    g_string_append_c(out, ']');
    g_string_append(out, ",\n\"exporters\":[");
    exporter_ctx ctx = {out, TRUE};
    tt_decoder_foreach_exporter(dec, stats_exporter, &ctx);
    g_string_append(out, "],\n\"retired_exporters\":{");
    stats_counters(out, tt_decoder_retired_stats(dec));
    g_string_append(out, "},\n\"sensors\":[");
    gboolean first = TRUE;
    for (guint i = 0; i < c->sensors->len; i++) {
        const tt_sensor_counters *sc = &g_array_index(c->sensors, tt_sensor_counters, i);
        const char *name = sc->name;
        if (name == NULL)
            continue;
        const tt_sensor_stats *s = &sc->stats; /* all 0 without a state */
        int64_t wm = sc->watermark_ms, closed = sc->closed_until;
        gboolean silent = sc->silent, started = sc->started;
        g_string_append(out, first ? "{\"sensor\":" : ",{\"sensor\":");
        first = FALSE;
        tt_json_append_string(out, name);
        g_string_append_printf(out,
                               ",\"records\":%" PRIu64 ",\"observed\":%" PRIu64
                               ",\"leaks\":%" PRIu64 ",\"late\":%" PRIu64 ",\"packets\":%" PRIu64
                               ",\"raw_packets\":%" PRIu64
                               ",\"max_lag_s\":%.3f,\"too_old\":%" PRIu64,
                               s->records, s->observed, s->leaks, s->late, s->packets,
                               s->raw_packets, (double)s->max_lag_ms / 1000.0, s->too_old);
        g_string_append_printf(
            out,
            ",\"unconfirmed\":%" PRIu64 ",\"held\":%" PRIu64 ",\"clock_jumps\":%" PRIu64
            ",\"clock_reanchored\":%" PRIu64 ",\"saturated\":%" PRIu64,
            s->unconfirmed, s->held, s->clock_jumps, s->clock_reanchored, s->saturated);
        if (started)
            g_string_append_printf(
                out, ",\"watermark\":%" PRId64 ",\"closed_until\":%" PRId64 ",\"silent\":%s",
                wm / 1000, closed, silent ? "true" : "false");
        g_string_append(out, "}");
    }
    g_string_append(out, "]}\n");
    return g_string_free(out, FALSE);
}

/* ---- the file (stats.h) ------------------------------------------------- */

struct tt_stats_doc {
    tt_stats_file *file;
    uint64_t seq;
    char *json;
    gboolean last; /* the stop's: the Prometheus file too, however recent its last write */
};

void tt_stats_file_init(tt_stats_file *file, const char *data_dir, const char *prom_path)
{
    file->path = g_build_filename(data_dir, "stats.json", NULL);
    file->prom_path = g_strdup(prom_path);
    file->started = g_get_real_time() / G_USEC_PER_SEC;
    file->seq = 0;
    file->landed = 0;
    file->prom_fail = FALSE;
    file->prom_at = 0;
    g_mutex_init(&file->lock);
}

void tt_stats_file_clear(tt_stats_file *file)
{
    g_free(file->path);
    file->path = NULL;
    g_free(file->prom_path);
    file->prom_path = NULL;
    g_mutex_clear(&file->lock);
}

tt_stats_doc *tt_stats_doc_new(tt_stats_file *file, char *json, gboolean last)
{
    tt_stats_doc *doc = g_new0(tt_stats_doc, 1);
    doc->file = file;
    doc->seq = ++file->seq;
    doc->json = json;
    doc->last = last;
    return doc;
}

/*
 * The Prometheus text of @a json at file->prom_path: a temporary file beside it (NAME.tmp, which
 * node_exporter does not read), renamed over it. A failure is logged once, until a write
 * succeeds again: the tick would repeat it every second. Under file->lock.
 */
static void stats_write_prom(tt_stats_file *file, const char *json)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = tt_prom_text(json, file->started, TT_VERSION, &error);
    g_autofree char *tmp = g_strconcat(file->prom_path, ".tmp", NULL);
    gboolean ok = text != NULL &&
                  g_file_set_contents_full(tmp, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, &error);
    if (ok && g_rename(tmp, file->prom_path) != 0) {
        g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno), "rename %s: %s", tmp,
                    g_strerror(errno));
        g_unlink(tmp);
        ok = FALSE;
    }
    if (!ok && !file->prom_fail)
        g_warning("prometheus-file %s: %s (not written until this is fixed)", file->prom_path,
                  error->message);
    else if (ok && file->prom_fail)
        g_message("prometheus-file %s: written again", file->prom_path);
    file->prom_fail = !ok;
}

void tt_stats_doc_write(void *data)
{
    tt_stats_doc *doc = data;
    tt_stats_file *file = doc->file;
    g_autoptr(GError) error = NULL;
    g_mutex_lock(&file->lock);
    if (doc->seq > file->landed) {
        g_autofree char *tmp = g_strconcat(file->path, ".tmp", NULL);
        if (g_file_set_contents_full(tmp, doc->json, -1, G_FILE_SET_CONTENTS_NONE, 0644, &error) &&
            g_rename(tmp, file->path) == 0) {
            file->landed = doc->seq;
            gint64 now = g_get_monotonic_time();
            if (file->prom_path != NULL &&
                (doc->last || file->prom_at == 0 ||
                 now - file->prom_at >= TT_PROM_EVERY_S * G_USEC_PER_SEC)) {
                stats_write_prom(file, doc->json);
                file->prom_at = now;
            }
        } else {
            g_warning("stats: %s: %s", file->path,
                      error != NULL ? error->message : g_strerror(errno));
        }
    }
    g_mutex_unlock(&file->lock);
}

void tt_stats_doc_free(void *data)
{
    tt_stats_doc *doc = data;
    g_free(doc->json);
    g_free(doc);
}
