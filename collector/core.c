/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core.c - the core's life cycle and what it reports about itself.
 *
 * The core owns the sensors, the GeoIP handle, the plugins, the writer, the
 * RRD store and the decoder: it builds them in order (tt_core_new; a failure
 * frees what was built), swaps what a reload may change (sensors, GeoIP, the
 * time policy's keys), keeps the host clock's housekeeping (silent sensors, held
 * jumps settled, stats.json when due), and at the stop closes every bucket and
 * gives the writer its deadline. The counters leave it as a snapshot
 * (counters.h), so stats.c, health.c and loss.c never call back into it; the
 * host services that need the core (sensor names, info, losses) are here, the
 * rest of the table is host.c's.
 *
 * The flow path itself (enrich, bucket, dispatch) is dispatch.c; their shared
 * state is core_private.h.
 */
#include "core.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core_private.h"
#include "loss.h"
#include "writable.h"
#include "writer.h"

/*
 * The writer's backlog (writer.c). Reading files (--read) loses nothing by
 * waiting, so it waits early (64 jobs, or `writer-backlog` bytes) and stays
 * within a few hundred MB however fast it reads. A live collector never waits:
 * past `writer-backlog` bytes a plugin's job is refused and counted
 * (writer_refused_jobs/bytes in stats.json), so the sockets keep being read
 * while the disk or rrdcached stalls. A job submitted without its size (a
 * plugin older than ABI 1.3) counts TT_WRITER_JOB_BYTES (host.c).
 */
#define TT_WRITER_QUEUE_READ 64
#define CORE_STOP_TIMEOUT_S 10 /* `stop-timeout` of a tt_config built by hand */
#define CORE_STATS_EVERY_S 10  /* stats.json is rewritten at least this often */
#define CORE_CLOCK_WINDOW_S                                                                        \
    86400                    /* the watermark moves this far (or grace + step) uncorroborated */
#define CORE_CLOCK_CONFIRM 3 /* messages that corroborate a jump beyond the window */

/* ---- the counters' snapshot (counters.h) --------------------------------- */

/* The listeners' JSON array: live while registered, as they were once detached. */
static void core_listener_json(tt_core *core, GString *json)
{
    if (core->listeners != NULL && core->listeners->stats_json != NULL)
        core->listeners->stats_json(json, core->listeners_data);
    else if (core->listeners_final != NULL)
        g_string_append(json, core->listeners_final);
    else
        g_string_append(json, "[]");
}

/* ---- the core's part of the host services (host.h) ---------------------- */

static tt_core *core_of(const tt_host *host)
{
    return ((const tt_services *)host->ctx)->core;
}

static uint32_t host_sensor_count(const tt_host *host)
{
    const tt_core *core = core_of(host);
    return tt_sensor_count(core->sensors);
}

static const char *host_sensor_name(const tt_host *host, uint32_t sensor)
{
    return tt_core_sensor_name(core_of(host), sensor);
}

/* Rollup plugin (tt_host.sensor_info): counters since start, dark size, GeoIP in use. */
static gboolean host_sensor_info(const tt_host *host, uint32_t sensor, tt_sensor_info *info)
{
    tt_core *core = core_of(host);
    if (info == NULL || info->struct_size < sizeof(tt_sensor_info) ||
        tt_sensor_name(core->sensors, sensor) == NULL)
        return FALSE;
    const tt_sensor_stats *st = tt_core_sensor_stats(core, sensor);
    tt_sensor_stats zero = {0};
    if (st == NULL)
        st = &zero;
    info->records = st->records;
    info->observed = st->observed;
    info->leaks = st->leaks;
    info->late = st->late;
    info->dark_size = tt_sensor_dark_size(core->sensors, sensor);
    info->geoip_type = core->geo != NULL ? tt_geo_type(core->geo) : NULL;
    info->geoip_build = core->geo != NULL ? tt_geo_build_epoch(core->geo) : 0;
    return TRUE;
}

/* tt_host.loss_foreach (ABI 1.3): what was lost, for the rollup's loss table (loss.c). */
static void host_loss_foreach(const tt_host *host, tt_loss_fn fn, void *data)
{
    tt_core *core = core_of(host);
    if (core->final_losses != NULL)
        tt_loss_list_foreach(core->final_losses, fn, data); /* fini: the decoder is gone */
    else
        tt_core_loss_foreach(core, fn, data);
}

static uint32_t core_resolve(void *data, const uint8_t addr[16], uint32_t domain)
{
    tt_core *core = data;
    return tt_sensor_lookup(core->sensors, addr, domain);
}

/* ---- life cycle ---------------------------------------------------------- */

static gboolean core_load_plugins(tt_core *core, GError **error)
{
    const char *dir = core->config->plugin_dir;
    for (guint i = 0; i < core->config->plugins->len; i++) {
        const char *name = g_ptr_array_index(core->config->plugins, i);
        tt_plugin *pl = tt_plugin_load(dir, name, error);
        if (pl == NULL)
            return FALSE;
        g_ptr_array_add(core->plugins, pl);
        if (!tt_plugin_init(pl, &core->services.host, core->config->kf, error)) {
            g_prefix_error(error, "%s: ", core->config->path);
            return FALSE;
        }
    }
    return TRUE;
}

static void plugin_free_cb(gpointer p)
{
    tt_plugin_free(p);
}

static void core_write_stats_now(tt_core *core, gboolean last);

static tt_core *core_new(tt_config *config, gboolean checking, GError **error)
{
    g_return_val_if_fail(config != NULL, NULL);
    tt_core *core = g_new0(tt_core, 1);
    tt_services_init(&core->services, checking);
    tt_stats_file_init(&core->stats_file, config->data_dir, config->prometheus_file);

    core->config = config;
    core->step = config->step;
    core->grace = config->grace;
    core->global_closed = INT64_MIN;
    core->earliest = INT64_MIN;
    /* a step of more than a day (or the grace) needs 3 messages over clock-corroborate
     * seconds (docs/security.md) */
    core->clock_rules.window_ms =
        MAX((int64_t)CORE_CLOCK_WINDOW_S, config->grace + config->step) * 1000;
    core->clock_rules.confirm = CORE_CLOCK_CONFIRM;
    core->clock_rules.confirm_s = config->clock_corroborate;
    core->states = g_array_new(FALSE, TRUE, sizeof(sensor_state));
    core->plugins = g_ptr_array_new_with_free_func(plugin_free_cb);
    core->sensors = tt_sensor_table_new(config, NULL);

    if (!checking && g_mkdir_with_parents(config->data_dir, 0755) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: data-dir %s: %s",
                    config->path, config->data_dir, g_strerror(saved));
        goto err_free_core;
    }
    if (!checking && !tt_writable_check(config, error))
        goto err_free_core;
    if (config->geoip != NULL) {
        core->geo = tt_geo_open(config->geoip, error);
        if (core->geo == NULL) {
            g_prefix_error(error, "%s: [collector] geoip: ", config->path);
            goto err_free_core;
        }
    }
    {
        g_autofree char *rrd_dir = g_build_filename(config->data_dir, "rrd", NULL);
        tt_rrd_archives archives = config->rrd_archives;
        if (archives.n == 0) /* a tt_config built by hand, not by tt_config_load */
            archives = tt_rrd_archives_default(config->step);
        core->max_age_ms = tt_rrd_archives_span(&archives) * 1000;
        /* --check-config: the store would create the tree and replay the journal */
        if (!checking) {
            core->rrd = tt_rrd_store_new(rrd_dir, &archives, config->rrdcached, error);
            if (core->rrd == NULL)
                goto err_free_core;
            tt_rrd_store_set_retry(core->rrd, FALSE); /* --read until listeners are set */
            tt_rrd_store_set_overlap(core->rrd, TRUE);
        }
    }
    if (config->writer_backlog == 0) /* a tt_config built by hand */
        config->writer_backlog = TT_CONFIG_WRITER_BACKLOG;
    if (config->stop_timeout == 0)
        config->stop_timeout = CORE_STOP_TIMEOUT_S;
    core->writer = tt_writer_new();
    tt_writer_set_limit(core->writer, TT_WRITER_QUEUE_READ);
    tt_writer_set_backlog(core->writer, config->writer_backlog, TRUE);
    if (!checking)
        core->health =
            tt_health_new(core->writer, core->rrd, config->step, config->writer_lag_warn);
    static const tt_host_core_fns core_fns = {host_sensor_count, host_sensor_name, host_sensor_info,
                                              host_loss_foreach};
    tt_services_start(&core->services, config, core->writer, core->rrd, core->health, core,
                      &core_fns);
    if (!core_load_plugins(core, error))
        goto err_free_core;
    core->decoder = tt_decoder_new(config, tt_core_sink, core, error);
    if (core->decoder == NULL)
        goto err_free_core;
    tt_decoder_set_resolver(core->decoder, core_resolve, core);
    return core;

err_free_core:
    core->config = NULL; /* the caller still owns it */
    tt_core_free(core);
    return NULL;
}

tt_core *tt_core_new(tt_config *config, GError **error)
{
    return core_new(config, FALSE, error);
}

tt_core *tt_core_new_checking(tt_config *config, GError **error)
{
    return core_new(config, TRUE, error);
}

void tt_core_stopping(tt_core *core)
{
    g_return_if_fail(core != NULL);
    if (core->stop_deadline == 0)
        core->stop_deadline = g_get_monotonic_time() + core->config->stop_timeout * G_USEC_PER_SEC;
}

static void core_stop_progress(guint64 jobs, guint64 bytes, void *data)
{
    tt_core *core = data;
    double left = (double)(core->stop_deadline - g_get_monotonic_time()) / G_USEC_PER_SEC;
    g_message("stopping: %" G_GUINT64_FORMAT " writer jobs pending, %.1f MB, %.0f s left of "
              "stop-timeout",
              jobs, (double)bytes / 1e6, MAX(left, 0.0));
}

/*
 * The writer's part of a stop, within the deadline tt_core_stopping() set
 * (DESIGN §3, docs/operations.md): wait for the queue, telling its progress
 * once a second; near the deadline (half of it, at most its last 3 s), or at
 * once when rrdcached is known to be down, the RRD store stops sending and
 * keeps what it has not sent (new files' CREATE lines included) for its journal (rrd/.journal,
 * replayed first at the next start), so the jobs still queued run in microseconds each; at the
 * deadline whatever is still queued is dropped unrun and counted as lost (writer_lost_jobs).
 */
static void core_stop_writer(tt_core *core)
{
    gint64 timeout = core->config->stop_timeout * G_USEC_PER_SEC;
    gint64 reserve = MIN(3 * G_USEC_PER_SEC, timeout / 2);
    tt_writer_stats ws;
    tt_writer_get_stats(core->writer, &ws);
    if (ws.pending_jobs > 0)
        core_stop_progress(ws.pending_jobs, ws.pending_bytes, core);
    if (tt_rrd_store_is_down(core->rrd)) {
        g_warning("stopping: rrdcached is not answering: RRD updates not sent yet go to the "
                  "journal (rrd/.journal) and are stored at the next start");
    } else {
        if (tt_writer_drain(core->writer, core->stop_deadline - reserve, core_stop_progress, core))
            return;
        g_warning("stopping: stop-timeout is near: RRD updates not sent yet go to the journal "
                  "(rrd/.journal) and are stored at the next start");
    }
    tt_rrd_store_abandon(core->rrd);
    if (tt_writer_drain(core->writer, core->stop_deadline, core_stop_progress, core))
        return;
    guint64 bytes = 0;
    guint64 lost = tt_writer_discard(core->writer, &bytes);
    if (lost > 0)
        g_warning("stopping: stop-timeout reached: %" G_GUINT64_FORMAT " writer jobs (%.1f MB) "
                  "were not run; their counts are lost (writer_lost_jobs in stats.json)",
                  lost, (double)bytes / 1e6);
}

void tt_core_free(tt_core *core)
{
    tt_core_free_failures(core, NULL);
}

void tt_core_free_failures(tt_core *core, tt_core_failures *out)
{
    if (out != NULL)
        *out = (tt_core_failures){0, NULL};
    if (core == NULL)
        return;
    /* the plugins' fini stores what was lost since their last close: keep the counts */
    core->final_losses = tt_loss_list_new();
    if (core->decoder != NULL && core->health != NULL) /* no health under --check-config */
        tt_core_loss_foreach(core, tt_loss_list_add, core->final_losses);
    /* plugins' fini() may still submit jobs: the writer outlives them */
    g_ptr_array_free(core->plugins, TRUE);
    if (core->stop_deadline != 0 && core->writer != NULL && core->rrd != NULL) {
        core_stop_writer(core);
        core_write_stats_now(core,
                             TRUE); /* the last word: refused, lost, journaled; needs the decoder */
    } else if (core->writer != NULL && core->rrd != NULL && core->health != NULL &&
               core->decoder != NULL) {
        /* --read: no deadline; every job, and the RRD lines they left, then the last word
         * (not for a core whose start failed: it has no decoder to tell of) */
        tt_writer_flush(core->writer);
        core_write_stats_now(core, TRUE);
    }
    tt_decoder_free(core->decoder);
    core->decoder = NULL;
    tt_writer_free(core->writer);
    tt_health_free(core->health); /* after the writer: its jobs use the health */
    tt_rrd_store_free(core->rrd); /* after the writer: its jobs use the store */
    for (guint i = 0; i < core->states->len; i++) {
        sensor_state *s = &g_array_index(core->states, sensor_state, i);
        for (guint j = 0; j < s->cap; j++)
            g_free(s->open[j].acc);
        g_free(s->open);
        if (s->held != NULL)
            g_array_free(s->held, TRUE);
        g_free(s->name);
    }
    g_array_free(core->states, TRUE);
    if (core->listener_losses != NULL)
        g_ptr_array_free(core->listener_losses, TRUE);
    g_ptr_array_free(core->final_losses, TRUE);
    tt_sensor_table_free(core->sensors);
    tt_geo_free(core->geo);
    tt_config_free(core->config);
    g_free(core->listeners_final);
    g_free(core->keys);
    tt_stats_file_clear(&core->stats_file);
    /* every job ran (the writer was joined above): the failures are final */
    tt_services_clear(&core->services, out);
    g_free(core);
}

tt_decoder *tt_core_decoder(tt_core *core)
{
    return core->decoder;
}

uint32_t tt_core_sensor_index(tt_core *core, const char *name)
{
    g_return_val_if_fail(core != NULL && name != NULL, TT_SENSOR_NONE);
    for (uint32_t i = 0; i < tt_sensor_count(core->sensors); i++) {
        const char *n = tt_sensor_name(core->sensors, i);
        if (n != NULL && strcmp(n, name) == 0)
            return i;
    }
    return TT_SENSOR_NONE;
}

const tt_sensor_stats *tt_core_sensor_stats(tt_core *core, uint32_t sensor)
{
    if (sensor >= core->states->len)
        return NULL;
    return &g_array_index(core->states, sensor_state, sensor).stats;
}

/* The kernel's drop counters, read now: each tick and before the stop's close. */
static void core_refresh_listeners(tt_core *core)
{
    if (core->listeners != NULL && core->listeners->refresh != NULL &&
        core->listeners->refresh(core->listeners_data))
        core->stats_dirty = TRUE;
}

void tt_core_tick(tt_core *core, int64_t now)
{
    gboolean changed = FALSE;
    core_refresh_listeners(core);
    /* silence is measured on the monotonic clock, `now` (wall) only stamps stats */
    int64_t mono = g_get_monotonic_time() / G_USEC_PER_SEC;
    for (guint i = 0; i < core->states->len; i++)
        tt_core_settle(core, i, &g_array_index(core->states, sensor_state, i), mono, FALSE);
    for (guint i = 0; i < core->states->len; i++) {
        sensor_state *s = &g_array_index(core->states, sensor_state, i);
        if (!s->started || s->silent || mono - s->last_heard < core->config->silent_after)
            continue;
        int64_t until = s->nopen > 0 ? s->open[s->nopen - 1].start + core->step : s->closed_until;
        tt_core_close_before(core, i, s, until);
        s->silent = TRUE;
        changed = TRUE;
        g_message("sensor %s: silent for %" G_GINT64_FORMAT " s, its open buckets are closed",
                  tt_sensor_name(core->sensors, i), mono - s->last_heard);
    }
    if (changed)
        tt_core_global_close(core);
    tt_health_tick(core->health, now);
    /* at most once a second when flows moved or the writer's queue did (a test or
     * an operator waiting for the writer to catch up reads it there); every 10 s
     * regardless (CORE_STATS_EVERY_S; refused records, drops and noise move counters too) */
    if (((core->stats_dirty || core->records_in != core->stats_records ||
          tt_writer_pending(core->writer) != core->stats_pending) &&
         now != core->stats_written) ||
        now - core->stats_written >= CORE_STATS_EVERY_S)
        core_write_stats_now(core, FALSE);
}

static void core_stopping_run(void *data)
{
    tt_rrd_store_stopping(data);
}

void tt_core_close_all(tt_core *core)
{
    g_return_if_fail(core != NULL);
    /* drops after the last datagram read belong to this run: count them before the last
     * buckets close (the rollup stores losses with them) and the last stats are written */
    core_refresh_listeners(core);
    /* nothing is received any more and the stop has its deadline: the last buckets are queued
     * whatever the backlog holds, and journaled or counted as lost if they cannot run in time */
    if (core->live)
        tt_writer_set_backlog(core->writer, 0, FALSE);
    /* no later message can contradict a held jump now: kept if its messages corroborate it */
    int64_t mono = g_get_monotonic_time() / G_USEC_PER_SEC;
    for (guint i = 0; i < core->states->len; i++)
        tt_core_settle(core, i, &g_array_index(core->states, sensor_state, i), mono, TRUE);
    /* ahead of the last buckets' jobs: a hung rrdcached must not hold the stop for minutes */
    tt_writer_submit(core->writer, core_stopping_run, core->rrd, NULL);
    for (guint i = 0; i < core->states->len; i++) {
        sensor_state *s = &g_array_index(core->states, sensor_state, i);
        if (s->nopen == 0)
            continue;
        tt_core_close_before(core, i, s, s->open[s->nopen - 1].start + core->step);
    }
    /* nothing is open any more: the global close may run to the newest end */
    for (guint i = 0; i < core->states->len; i++)
        g_array_index(core->states, sensor_state, i).silent = TRUE;
    tt_core_global_close(core);
    tt_counters c;
    tt_core_counters(core, &c, 0);
    tt_health_stop(core->health, &c, core->global_closed); /* late records after the close */
    tt_core_counters_clear(&c);
    tt_core_write_stats(core);
}

gboolean tt_core_reload(tt_core *core, tt_config *config, GError **error)
{
    g_return_val_if_fail(core != NULL && config != NULL, FALSE);
    tt_geo *geo = NULL;

    if (config->geoip != NULL) {
        geo = tt_geo_open(config->geoip, error);
        if (geo == NULL) {
            g_prefix_error(error, "%s: [collector] geoip: ", config->path);
            return FALSE;
        }
    }
    tt_config_warn_restart_keys(core->config->kf, config->kf);
    config->step = core->config->step;
    config->grace = core->config->grace;
    g_free(config->data_dir);
    config->data_dir = g_strdup(core->config->data_dir);
    g_free(config->timezone);
    config->timezone = g_strdup(core->config->timezone);

    /* a removed sensor's open buckets close later (by the host clock, at the stop) under its
     * name, not as "sensor-N": keep the name of every sensor that has a state */
    for (guint i = 0; i < core->states->len; i++) {
        sensor_state *s = &g_array_index(core->states, sensor_state, i);
        const char *name = tt_sensor_name(core->sensors, i);
        if (name != NULL) {
            g_free(s->name);
            s->name = g_strdup(name);
        }
    }
    tt_sensor_table *sensors = tt_sensor_table_new(config, core->sensors);
    tt_sensor_table_free(core->sensors);
    core->sensors = sensors;
    tt_geo_free(core->geo);
    core->geo = geo;
    /* plugins keep pointers into the old key file: keep it alive with the core */
    GKeyFile *old_kf = core->config->kf;
    core->config->kf = NULL;
    tt_config_free(core->config);
    g_key_file_free(config->kf);
    config->kf = old_kf;
    core->config = config;
    tt_services_reconfigure(&core->services, config);
    /* writer-backlog and stop-timeout take effect at once (a stop reads the latter) */
    tt_writer_set_backlog(core->writer, config->writer_backlog, !core->live);
    /* the time policy and the decoder's caps take effect with the next message */
    tt_decoder_apply_config(core->decoder, config);
    core->clock_rules.confirm_s = config->clock_corroborate;
    tt_decoder_invalidate_sensors(core->decoder);
    g_message("reloaded %s: %u sensors, geoip %s", config->path, tt_sensor_count(sensors),
              config->geoip != NULL ? config->geoip : "none");
    return TRUE;
}

void tt_core_set_listeners(tt_core *core, const tt_listener_hooks *hooks, void *data)
{
    core->listeners = hooks;
    core->listeners_data = data;
    tt_health_set_live(core->health, hooks != NULL); /* listeners: a live stream, not --read */
    core->live = hooks != NULL;
    tt_writer_set_limit(core->writer, core->live ? 0 : TT_WRITER_QUEUE_READ);
    tt_writer_set_backlog(core->writer, core->config->writer_backlog, !core->live);
    tt_writer_set_nice(core->writer, core->live);
    /* live, a refused file is tried again after a while; a --read keeps it refused (store.h) */
    if (core->rrd != NULL) {
        tt_rrd_store_set_retry(core->rrd, core->live);
        /* a --read sends a batch while it makes the next; live, a commit waits for its
         * answer (rrdcached's state known at each, and no second thread on the writer's) */
        tt_rrd_store_set_overlap(core->rrd, !core->live);
    }
}

void tt_core_detach_listeners(tt_core *core)
{
    g_return_if_fail(core != NULL);
    if (core->listeners == NULL)
        return;
    core_refresh_listeners(core);
    /* the core's last stats.json comes after the writer's stop, after the listeners are gone:
     * their JSON as it is now */
    GString *json = g_string_new(NULL);
    core_listener_json(core, json);
    g_free(core->listeners_final);
    core->listeners_final = g_string_free(json, FALSE);
    if (core->listener_losses == NULL)
        core->listener_losses = tt_loss_list_new();
    g_ptr_array_set_size(core->listener_losses, 0);
    tt_core_listener_loss(core, tt_loss_list_add, core->listener_losses);
    core->listeners = NULL;
    core->listeners_data = NULL;
}

void tt_core_listener_loss(tt_core *core, tt_loss_fn fn, void *data)
{
    if (core->listeners != NULL && core->listeners->loss_foreach != NULL)
        core->listeners->loss_foreach(core->listeners_data, fn, data);
    else
        tt_loss_list_foreach(core->listener_losses, fn, data);
}

void tt_core_set_replay(tt_core *core, gboolean replay)
{
    g_return_if_fail(core != NULL);
    core->services.replay = replay;
}

void tt_core_flush(tt_core *core)
{
    tt_writer_flush(core->writer);
}

/* ---- stats ------------------------------------------------------------- */

/* The document now, numbered (stats.h: an older one never replaces a newer one). */
static tt_stats_doc *stats_snapshot(tt_core *core, gboolean last)
{
    tt_counters c;
    tt_core_counters(core, &c, CORE_COUNTERS_LOSSES | CORE_COUNTERS_JSON);
    tt_stats_doc *job = tt_stats_doc_new(&core->stats_file, tt_stats_json(&c), last);
    tt_core_counters_clear(&c);
    core->stats_dirty = FALSE;
    core->stats_records = core->records_in;
    core->stats_pending = tt_writer_pending(core->writer);
    core->stats_written = g_get_real_time() / G_USEC_PER_SEC;
    return job;
}

/* The tick's write: now, on this thread (see stats.h). */
static void core_write_stats_now(tt_core *core, gboolean last)
{
    tt_stats_doc *job = stats_snapshot(core, last);
    tt_stats_doc_write(job);
    tt_stats_doc_free(job);
}

void tt_core_write_stats(tt_core *core)
{
    tt_writer_submit(core->writer, tt_stats_doc_write, stats_snapshot(core, FALSE),
                     tt_stats_doc_free);
}

uint64_t tt_core_records_in(tt_core *core)
{
    return core->records_in;
}

gboolean tt_core_sensor_clock(tt_core *core, uint32_t sensor, int64_t *watermark_ms,
                              int64_t *closed_until, gboolean *silent)
{
    if (sensor >= core->states->len)
        return FALSE;
    const sensor_state *s = &g_array_index(core->states, sensor_state, sensor);
    if (!s->started)
        return FALSE;
    *watermark_ms = s->watermark_ms;
    *closed_until = s->closed_until;
    *silent = s->silent;
    return TRUE;
}

void tt_core_counters(tt_core *core, tt_counters *c, unsigned flags)
{
    memset(c, 0, sizeof *c);
    c->records_in = core->records_in;
    c->decoder = core->decoder;
    uint32_t n = tt_sensor_count(core->sensors);
    c->sensors = g_array_sized_new(FALSE, TRUE, sizeof(tt_sensor_counters), n);
    g_array_set_size(c->sensors, n);
    for (uint32_t i = 0; i < n; i++) {
        tt_sensor_counters *sc = &g_array_index(c->sensors, tt_sensor_counters, i);
        sc->name = tt_sensor_name(core->sensors, i);
        if (i >= core->states->len)
            continue;
        const sensor_state *s = &g_array_index(core->states, sensor_state, i);
        sc->has_state = TRUE;
        sc->stats = s->stats;
        sc->started = s->started;
        sc->watermark_ms = s->watermark_ms;
        sc->closed_until = s->closed_until;
        sc->silent = s->silent;
    }
    c->has_store = core->health != NULL;
    if (core->health != NULL)
        tt_health_get(core->health, &c->health);
    if (core->writer != NULL)
        tt_writer_get_stats(core->writer, &c->writer);
    c->writer_backlog = core->config->writer_backlog;
    c->store_failures = tt_services_store_failures(&core->services);
    if (core->geo != NULL) {
        c->geo_type = tt_geo_type(core->geo);
        c->geo_build = tt_geo_build_epoch(core->geo);
    }
    if (flags & CORE_COUNTERS_JSON) {
        GString *json = g_string_new(NULL);
        core_listener_json(core, json);
        c->listeners_json = g_string_free(json, FALSE);
    }
    if (flags & CORE_COUNTERS_LOSSES) {
        c->listener_losses = tt_loss_list_new();
        tt_core_listener_loss(core, tt_loss_list_add, c->listener_losses);
    }
}

void tt_core_counters_clear(tt_counters *c)
{
    g_array_free(c->sensors, TRUE);
    g_free(c->listeners_json);
    if (c->listener_losses != NULL)
        g_ptr_array_free(c->listener_losses, TRUE);
    memset(c, 0, sizeof *c);
}

void tt_core_loss_foreach(tt_core *core, tt_loss_fn fn, void *data)
{
    g_return_if_fail(core != NULL && fn != NULL);
    tt_counters c;
    tt_core_counters(core, &c, CORE_COUNTERS_LOSSES);
    tt_loss_foreach(&c, fn, data);
    tt_core_counters_clear(&c);
}

void tt_core_log_stats(tt_core *core)
{
    tt_counters c;
    tt_core_counters(core, &c, CORE_COUNTERS_LOSSES | CORE_COUNTERS_JSON);
    g_autofree char *json = tt_stats_json(&c);
    tt_core_counters_clear(&c);
    g_message("stats: %s", json);
}
