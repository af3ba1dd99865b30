/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prom.c - the self-statistics in Prometheus' text format (0.0.4), for
 * node_exporter's textfile collector (docs/operations.md, "Monitoring").
 *
 * teitend has no listening socket and keeps it that way: stats.c writes this
 * text to a file (`prometheus-file`, DATA/teiten.prom by default) each time it
 * writes stats.json, under the same lock, from the same document. The text is
 * rendered from the JSON document itself, read back with common/json.c, not
 * from the counters: the two files then cannot disagree (a value is the JSON
 * number's text, unchanged), and the listeners' counters, which reach the
 * stats only as JSON (listen.c), need no second path through the core.
 * Rejected: a second formatter over tt_counters (two lists of fields to keep
 * in step, and the listeners' hook would grow a structured twin).
 *
 * Names follow Prometheus' conventions: a `teiten_` prefix, base units
 * (seconds, bytes), counters end in `_total`, one family's samples together
 * after its HELP and TYPE lines. Labels: `sensor`, `listener`, `exporter` and
 * `transport`, `reason` for the counters stats.json keeps by reason. Label
 * values are escaped as the format says (backslash, double quote, newline).
 * Per-exporter series come and go with the exporters (a UDP exporter's port
 * changes on restart); the `teiten_exporters_*_total` families sum every
 * exporter the process has seen, live and retired, and never go back: alert
 * on those.
 */
#include "prom.h"

#include <string.h>

#include "json.h"

typedef enum { PROM_COUNTER, PROM_GAUGE } prom_type;

/* One metric family: member @a key of each row's object (an object of reasons when by_reason). */
typedef struct {
    const char *key;
    const char *name;
    prom_type type;
    gboolean by_reason;
    const char *help;
} prom_field;

/* One object of the document and the labels its samples carry (`a="x",b="y"`, or ""). */
typedef struct {
    const tt_json *obj;
    char *labels;
} prom_row;

static const prom_field prom_top[] = {
    {"time", "teiten_stats_time_seconds", PROM_GAUGE, FALSE,
     "When these statistics were taken (host clock, Unix time)"},
    {"records_in", "teiten_records_in_total", PROM_COUNTER, FALSE,
     "Flow records decoded from every exporter, before sensor assignment"},
    {"exporters_alive", "teiten_exporters_alive", PROM_GAUGE, FALSE,
     "Exporters with a live session"},
    {"exporter_evictions", "teiten_exporter_evictions_total", PROM_COUNTER, FALSE,
     "Exporter sessions evicted at max-exporters"},
    {"writer_pending", "teiten_writer_pending_jobs", PROM_GAUGE, FALSE,
     "Writer jobs queued and not finished"},
    {"writer_pending_bytes", "teiten_writer_pending_bytes", PROM_GAUGE, FALSE,
     "Writer backlog: bytes of the jobs queued and not finished"},
    {"writer_backlog", "teiten_writer_backlog_limit_bytes", PROM_GAUGE, FALSE,
     "writer-backlog in force: past it, closed-bucket jobs are refused"},
    {"writer_peak_jobs", "teiten_writer_peak_jobs", PROM_GAUGE, FALSE,
     "Most writer jobs pending at once"},
    {"writer_peak_bytes", "teiten_writer_peak_bytes", PROM_GAUGE, FALSE,
     "Most writer backlog bytes at once"},
    {"writer_stalls", "teiten_writer_stalls_total", PROM_COUNTER, FALSE,
     "Submissions that waited for room in the writer's queue"},
    {"writer_stalled_s", "teiten_writer_stalled_seconds_total", PROM_COUNTER, FALSE,
     "Time those submissions waited"},
    {"writer_refused_jobs", "teiten_writer_refused_jobs_total", PROM_COUNTER, FALSE,
     "Jobs refused past writer-backlog: their counts are lost"},
    {"writer_refused_bytes", "teiten_writer_refused_bytes_total", PROM_COUNTER, FALSE,
     "Bytes of the jobs refused past writer-backlog"},
    {"writer_lost_jobs", "teiten_writer_lost_jobs_total", PROM_COUNTER, FALSE,
     "Jobs discarded unrun at the stop-timeout: their counts are lost"},
    {"writer_lost_bytes", "teiten_writer_lost_bytes_total", PROM_COUNTER, FALSE,
     "Bytes of the jobs discarded unrun at the stop-timeout"},
    {"store_failures", "teiten_store_failures_total", PROM_COUNTER, FALSE,
     "Store failures the plugins reported"},
    {"writer_lag_buckets", "teiten_writer_lag_steps", PROM_GAUGE, FALSE,
     "Closed steps queued to the writer and not yet written"},
    {"writer_lag_max", "teiten_writer_lag_max_steps", PROM_GAUGE, FALSE,
     "The most closed steps the writer was ever behind"},
    {"writer_lag_warnings", "teiten_writer_lag_warnings_total", PROM_COUNTER, FALSE,
     "Times the writer lag rose past writer-lag-warn"},
    {"writer_lag_warn", "teiten_writer_lag_warn_steps", PROM_GAUGE, FALSE,
     "writer-lag-warn in force"},
    {"self_steps", "teiten_self_steps_total", PROM_COUNTER, FALSE, "Self RRD steps queued"},
};

static const prom_field prom_rrd[] = {
    {"updates", "teiten_rrd_updates_total", PROM_COUNTER, FALSE, "RRD steps stored"},
    {"skipped_past", "teiten_rrd_skipped_past_total", PROM_COUNTER, FALSE,
     "RRD steps older than their file's last update, skipped"},
    {"refused", "teiten_rrd_refused_total", PROM_COUNTER, FALSE,
     "RRD steps lost: a file that cannot be written, a line librrd or rrdcached refused"},
    {"created", "teiten_rrd_created_total", PROM_COUNTER, FALSE, "RRD files created"},
    {"unknown_gaps", "teiten_rrd_unknown_gaps_total", PROM_COUNTER, FALSE,
     "Restart gaps written as unknown"},
    {"pending_lines", "teiten_rrd_pending_lines", PROM_GAUGE, FALSE,
     "RRD update lines not yet accepted (rrdcached down, or queued)"},
    {"daemon_errors", "teiten_rrd_daemon_errors_total", PROM_COUNTER, FALSE,
     "rrdcached connection failures and refused lines"},
    {"reconnects", "teiten_rrd_reconnects_total", PROM_COUNTER, FALSE,
     "Times rrdcached answered again after being unreachable"},
    {"journaled", "teiten_rrd_journaled_lines", PROM_GAUGE, FALSE,
     "RRD update lines written to the journal at the stop, for the next start"},
    {"journal_replayed", "teiten_rrd_journal_replayed_lines", PROM_GAUGE, FALSE,
     "Journal lines found at the start and replayed first"},
    {"set_aside", "teiten_rrd_set_aside_total", PROM_COUNTER, FALSE,
     "Corrupt RRD files renamed aside and created anew"},
    {"saturated", "teiten_rrd_saturated_total", PROM_COUNTER, FALSE,
     "RRD steps whose flows, packets or bytes were held at 2^53"},
    {"indexed", "teiten_rrd_indexed", PROM_GAUGE, FALSE,
     "RRD files whose last update the last clean end's index gave"},
    {"unasked", "teiten_rrd_unasked", PROM_GAUGE, FALSE,
     "RRD files first touched without a LAST: rrdcached held no file at the start"},
};

static const prom_field prom_listener[] = {
    {"datagrams", "teiten_listener_datagrams_total", PROM_COUNTER, FALSE,
     "Datagrams (or TCP messages) received"},
    {"bytes", "teiten_listener_received_bytes_total", PROM_COUNTER, FALSE, "Bytes received"},
    {"noise", "teiten_listener_noise_total", PROM_COUNTER, FALSE,
     "Datagrams not of the listener's protocol"},
    {"kernel_drops", "teiten_kernel_drops_total", PROM_COUNTER, FALSE,
     "Datagrams the kernel dropped at the socket (its SK_MEMINFO_DROPS): lost"},
    {"exporter_cap", "teiten_listener_exporter_cap_total", PROM_COUNTER, FALSE,
     "Datagrams refused: max-exporters was reached"},
    {"connections", "teiten_listener_connections_total", PROM_COUNTER, FALSE,
     "TCP connections accepted"},
    {"stream_errors", "teiten_listener_stream_errors_total", PROM_COUNTER, FALSE,
     "TCP connections closed for broken framing"},
    {"streams_cut", "teiten_listener_streams_cut_total", PROM_COUNTER, FALSE,
     "TCP connections that ended inside a message, or broken"},
    {"unread_at_stop", "teiten_listener_unread_at_stop_total", PROM_COUNTER, FALSE,
     "Datagrams still queued when the stop stopped reading"},
    {"tcp_open", "teiten_listener_tcp_open_connections", PROM_GAUGE, FALSE,
     "TCP connections open now"},
    {"tcp_refused", "teiten_listener_tcp_refused_total", PROM_COUNTER, FALSE,
     "TCP connections closed at accept: a connection cap was reached"},
    {"tcp_idle_closed", "teiten_listener_tcp_idle_closed_total", PROM_COUNTER, FALSE,
     "TCP connections closed after tcp-idle-timeout of silence"},
};

static const prom_field prom_sensor[] = {
    {"records", "teiten_records_total", PROM_COUNTER, FALSE, "Records that reached the sensor"},
    {"observed", "teiten_observed_flows_total", PROM_COUNTER, FALSE,
     "Flows to dark space, handed to the plugins"},
    {"leaks", "teiten_leaked_flows_total", PROM_COUNTER, FALSE,
     "Flows to lit space or without a destination"},
    {"late", "teiten_late_flows_total", PROM_COUNTER, FALSE,
     "Observed flows older than the closed buckets"},
    {"packets", "teiten_packets_total", PROM_COUNTER, FALSE,
     "Packets of the observed flows, sampling-corrected"},
    {"raw_packets", "teiten_raw_packets_total", PROM_COUNTER, FALSE,
     "Packets of the observed flows, as exported"},
    {"max_lag_s", "teiten_sensor_max_lag_seconds", PROM_GAUGE, FALSE,
     "How far behind the sensor's watermark a record arrived, at most (size grace with it)"},
    {"too_old", "teiten_sensor_too_old_records_total", PROM_COUNTER, FALSE,
     "Dark records older than the watermark minus the longest archive: refused"},
    {"unconfirmed", "teiten_sensor_unconfirmed_records_total", PROM_COUNTER, FALSE,
     "Dark records of a clock jump that was contradicted: refused"},
    {"held", "teiten_sensor_held_records", PROM_GAUGE, FALSE,
     "Dark records held for a clock jump being corroborated"},
    {"clock_jumps", "teiten_sensor_clock_jumps_total", PROM_COUNTER, FALSE,
     "Corroborated jumps of the watermark"},
    {"clock_reanchored", "teiten_sensor_clock_reanchored_total", PROM_COUNTER, FALSE,
     "Uncorroborated starts of the clock moved back"},
    {"saturated", "teiten_sensor_saturated_records_total", PROM_COUNTER, FALSE,
     "Records whose sampling-corrected count was held at 2^53"},
    {"watermark", "teiten_sensor_watermark_seconds", PROM_GAUGE, FALSE,
     "The sensor's stream clock (Unix time), once it has sent a flow"},
    {"closed_until", "teiten_sensor_closed_until_seconds", PROM_GAUGE, FALSE,
     "The end of the sensor's last closed bucket (Unix time)"},
    {"silent", "teiten_sensor_silent", PROM_GAUGE, FALSE,
     "1 when the sensor has sent nothing for silent-after seconds"},
};

/* Per exporter, as gauges (a session's facts). */
static const prom_field prom_exporter_gauges[] = {
    {"sampling", "teiten_exporter_sampling_rate", PROM_GAUGE, FALSE,
     "1-in-N packet sampling in use (1: none)"},
    {"last_seen", "teiten_exporter_last_seen_seconds", PROM_GAUGE, FALSE,
     "When the exporter's last message arrived (Unix time)"},
    {"clock_offset_s", "teiten_exporter_clock_offset_seconds", PROM_GAUGE, FALSE,
     "The exporter's export time minus the host clock, once known"},
};

/*
 * Per exporter and summed over every exporter (live and retired): the names below are the
 * per-exporter ones, "teiten_exporter_"; the sums replace it with "teiten_exporters_".
 */
static const prom_field prom_exporter_counters[] = {
    {"messages", "teiten_exporter_messages_total", PROM_COUNTER, FALSE, "Messages decoded"},
    {"records", "teiten_exporter_records_total", PROM_COUNTER, FALSE, "Flow records decoded"},
    {"options_records", "teiten_exporter_options_records_total", PROM_COUNTER, FALSE,
     "Options records decoded"},
    {"templates", "teiten_exporter_templates_total", PROM_COUNTER, FALSE, "Templates learned"},
    {"unknown_template_sets", "teiten_exporter_unknown_template_sets_total", PROM_COUNTER, FALSE,
     "Data sets without a template: their records are lost"},
    {"seq_lost", "teiten_exporter_sequence_lost_total", PROM_COUNTER, FALSE,
     "Sequence-number loss estimate (IPFIX: records, NetFlow v9: packets, v5: flows)"},
    {"future_records", "teiten_exporter_future_records_total", PROM_COUNTER, FALSE,
     "Records refused as from the future (a replay at the wrong speed, a clock ahead)"},
    {"withdrawals_ignored", "teiten_exporter_withdrawals_ignored_total", PROM_COUNTER, FALSE,
     "Template withdrawals ignored"},
    {"clock_ahead", "teiten_exporter_clock_ahead_total", PROM_COUNTER, FALSE,
     "Messages whose export time is ahead of the host clock past export-time-tolerance"},
    {"time_clamped", "teiten_exporter_time_clamped_total", PROM_COUNTER, FALSE,
     "Records whose times were clamped to their message's export time"},
    {"time_impossible", "teiten_exporter_impossible_time_records_total", PROM_COUNTER, FALSE,
     "Records with impossible times: refused"},
    {"value_range", "teiten_exporter_value_range_records_total", PROM_COUNTER, FALSE,
     "Records with a value out of range: refused"},
    {"absurd_counts", "teiten_exporter_absurd_count_records_total", PROM_COUNTER, FALSE,
     "Records with absurd packet or byte counts: refused"},
    {"templates_refused", "teiten_exporter_templates_refused_total", PROM_COUNTER, TRUE,
     "Templates refused, by reason"},
    {"dropped", "teiten_exporter_dropped_messages_total", PROM_COUNTER, TRUE,
     "Messages dropped, by reason: lost"},
    {"malformed", "teiten_exporter_malformed_total", PROM_COUNTER, TRUE,
     "Malformed messages or sets, by what was wrong"},
};

/* Escape @a s as a label value (backslash, double quote, newline) into @a out. */
static void prom_label_value(GString *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            g_string_append(out, "\\\\");
        else if (*s == '"')
            g_string_append(out, "\\\"");
        else if (*s == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *s);
    }
}

static void prom_label(GString *out, const char *name, const char *value)
{
    g_string_append_printf(out, "%s%s=\"", out->len > 0 ? "," : "", name);
    prom_label_value(out, value);
    g_string_append_c(out, '"');
}

/* A sample's value: a JSON number's text as it is, a boolean as 1 or 0; NULL for anything else. */
static const char *prom_value(const tt_json *j)
{
    if (j == NULL)
        return NULL;
    if (j->kind == TT_JSON_NUMBER)
        return j->text;
    if (j->kind == TT_JSON_BOOL)
        return strcmp(j->text, "true") == 0 ? "1" : "0";
    return NULL;
}

static void prom_sample(GString *out, const char *name, const char *labels, const char *reason,
                        const char *value)
{
    g_string_append(out, name);
    if (*labels != '\0' || reason != NULL) {
        g_string_append_c(out, '{');
        g_string_append(out, labels);
        if (reason != NULL) {
            g_string_append(out, *labels != '\0' ? ",reason=\"" : "reason=\"");
            prom_label_value(out, reason);
            g_string_append_c(out, '"');
        }
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ' ');
    g_string_append(out, value);
    g_string_append_c(out, '\n');
}

/* HELP (backslash and newline escaped; ours have neither) and TYPE. */
static void prom_head(GString *out, const char *name, const char *help, prom_type type)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                           type == PROM_COUNTER ? "counter" : "gauge");
}

/* One family over @a rows; nothing at all when no row has the member. */
static void prom_family(GString *out, const prom_field *f, GArray *rows)
{
    gboolean head = FALSE;
    for (guint i = 0; i < rows->len; i++) {
        const prom_row *r = &g_array_index(rows, prom_row, i);
        const tt_json *j = tt_json_get(r->obj, f->key);
        if (j == NULL || (f->by_reason && j->kind != TT_JSON_OBJECT))
            continue;
        guint n = f->by_reason ? j->kids->len : 1;
        for (guint k = 0; k < n; k++) {
            const tt_json *v = f->by_reason ? g_ptr_array_index(j->kids, k) : j;
            const char *value = prom_value(v);
            if (value == NULL)
                continue;
            if (!head)
                prom_head(out, f->name, f->help, f->type);
            head = TRUE;
            prom_sample(out, f->name, r->labels, f->by_reason ? v->key : NULL, value);
        }
    }
}

static void prom_table(GString *out, const prom_field *fields, gsize n, GArray *rows)
{
    for (gsize i = 0; i < n; i++)
        prom_family(out, &fields[i], rows);
}

static void prom_rows_clear(gpointer data)
{
    g_free(((prom_row *)data)->labels);
}

static GArray *prom_rows_new(void)
{
    GArray *rows = g_array_new(FALSE, TRUE, sizeof(prom_row));
    g_array_set_clear_func(rows, prom_rows_clear);
    return rows;
}

/*
 * One row per element of array @a key of @a doc, labelled by its members @a l1 (as label
 * @a n1) and, unless NULL, @a l2 (as @a n2).
 */
static GArray *prom_rows_of(const tt_json *doc, const char *key, const char *n1, const char *l1,
                            const char *n2, const char *l2)
{
    GArray *rows = prom_rows_new();
    const tt_json *a = tt_json_get(doc, key);
    for (guint i = 0; a != NULL && a->kind == TT_JSON_ARRAY && i < a->kids->len; i++) {
        const tt_json *e = g_ptr_array_index(a->kids, i);
        GString *labels = g_string_new(NULL);
        prom_label(labels, n1, tt_json_text(e, l1, ""));
        if (n2 != NULL)
            prom_label(labels, n2, tt_json_text(e, l2, ""));
        prom_row r = {e, g_string_free(labels, FALSE)};
        g_array_append_val(rows, r);
    }
    return rows;
}

static GArray *prom_row_one(const tt_json *obj)
{
    GArray *rows = prom_rows_new();
    prom_row r = {obj, g_strdup("")};
    if (obj != NULL)
        g_array_append_val(rows, r);
    else
        g_free(r.labels);
    return rows;
}

/* Member @a key (of @a reason's object when not NULL) of @a obj as a count, 0 when absent. */
static guint64 prom_count(const tt_json *obj, const char *key, const char *reason)
{
    if (reason != NULL)
        return tt_json_u64(tt_json_get(obj, key), reason);
    return tt_json_u64(obj, key);
}

/* The teiten_exporters_*_total families: every exporter's counter plus the retired ones'. */
static void prom_exporter_sums(GString *out, const tt_json *doc)
{
    const tt_json *retired = tt_json_get(doc, "retired_exporters");
    const tt_json *live = tt_json_get(doc, "exporters");
    if (retired == NULL || live == NULL || live->kind != TT_JSON_ARRAY)
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(prom_exporter_counters); i++) {
        const prom_field *f = &prom_exporter_counters[i];
        g_autofree char *name =
            g_strconcat("teiten_exporters_", f->name + strlen("teiten_exporter_"), NULL);
        g_autofree char *help = g_strconcat(f->help, ", every exporter since the start", NULL);
        const tt_json *reasons = tt_json_get(retired, f->key);
        if (reasons == NULL || (f->by_reason && reasons->kind != TT_JSON_OBJECT))
            continue;
        prom_head(out, name, help, f->type);
        for (guint k = 0; k < (f->by_reason ? reasons->kids->len : 1); k++) {
            const char *reason =
                f->by_reason ? ((const tt_json *)g_ptr_array_index(reasons->kids, k))->key : NULL;
            guint64 sum = prom_count(retired, f->key, reason);
            for (guint e = 0; e < live->kids->len; e++)
                sum += prom_count(g_ptr_array_index(live->kids, e), f->key, reason);
            g_autofree char *value = g_strdup_printf("%" G_GUINT64_FORMAT, sum);
            prom_sample(out, name, "", reason, value);
        }
    }
}

/* teiten_loss_total: every loss counter that is not 0, as stats.json's `losses` lists them. */
static void prom_losses(GString *out, const tt_json *doc)
{
    const tt_json *losses = tt_json_get(doc, "losses");
    if (losses == NULL || losses->kind != TT_JSON_ARRAY || losses->kids->len == 0)
        return;
    prom_head(out, "teiten_loss_total",
              "Every loss counter that is not 0 (what teiten rank's completeness line counts)",
              PROM_COUNTER);
    for (guint i = 0; i < losses->kids->len; i++) {
        const tt_json *l = g_ptr_array_index(losses->kids, i);
        const char *value = prom_value(tt_json_get(l, "count"));
        if (value == NULL)
            continue;
        g_autoptr(GString) labels = g_string_new(NULL);
        prom_label(labels, "scope", tt_json_text(l, "scope", ""));
        prom_label(labels, "name", tt_json_text(l, "name", ""));
        prom_label(labels, "reason", tt_json_text(l, "reason", ""));
        prom_label(labels, "unit", tt_json_text(l, "unit", ""));
        prom_sample(out, "teiten_loss_total", labels->str, NULL, value);
    }
}

char *tt_prom_text(const char *json, int64_t started, const char *version, GError **error)
{
    g_return_val_if_fail(json != NULL && version != NULL, NULL);
    g_autoptr(tt_json) doc = tt_json_parse(json, error);
    if (doc == NULL)
        return NULL;
    GString *out = g_string_sized_new(16384);

    prom_head(out, "teiten_build_info", "The teitend build: always 1, its version as a label",
              PROM_GAUGE);
    g_autoptr(GString) labels = g_string_new(NULL);
    prom_label(labels, "version", version);
    prom_sample(out, "teiten_build_info", labels->str, NULL, "1");
    prom_head(out, "teiten_start_time_seconds", "When teitend started (Unix time)", PROM_GAUGE);
    g_string_append_printf(out, "teiten_start_time_seconds %" G_GINT64_FORMAT "\n", started);

    g_autoptr(GArray) top = prom_row_one(doc);
    prom_table(out, prom_top, G_N_ELEMENTS(prom_top), top);
    const tt_json *geo = tt_json_get(doc, "geoip");
    const char *build = prom_value(tt_json_get(geo, "build_epoch"));
    if (build != NULL) {
        prom_head(out, "teiten_geoip_build_time_seconds",
                  "When the GeoIP database in use was built (Unix time); its type as a label",
                  PROM_GAUGE);
        g_autoptr(GString) type = g_string_new(NULL);
        prom_label(type, "type", tt_json_text(geo, "type", ""));
        prom_sample(out, "teiten_geoip_build_time_seconds", type->str, NULL, build);
    }
    g_autoptr(GArray) rrd = prom_row_one(tt_json_get(doc, "rrd"));
    prom_table(out, prom_rrd, G_N_ELEMENTS(prom_rrd), rrd);
    g_autoptr(GArray) listeners = prom_rows_of(doc, "listeners", "listener", "listen", NULL, NULL);
    prom_table(out, prom_listener, G_N_ELEMENTS(prom_listener), listeners);
    g_autoptr(GArray) sensors = prom_rows_of(doc, "sensors", "sensor", "sensor", NULL, NULL);
    prom_table(out, prom_sensor, G_N_ELEMENTS(prom_sensor), sensors);
    g_autoptr(GArray) exporters =
        prom_rows_of(doc, "exporters", "exporter", "exporter", "transport", "transport");
    prom_table(out, prom_exporter_gauges, G_N_ELEMENTS(prom_exporter_gauges), exporters);
    prom_table(out, prom_exporter_counters, G_N_ELEMENTS(prom_exporter_counters), exporters);
    prom_exporter_sums(out, doc);
    prom_losses(out, doc);
    return g_string_free(out, FALSE);
}
