/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host.c - the services table handed to plugins (tt_host, include/teiten/plugin.h).
 *
 * What a plugin may ask of the collector: submit a job to the writer thread
 * (refused past `writer-backlog` when live), update RRD files through the one
 * store (its lines gathered and sent when due), report a job that could not
 * store its data, and whether it is replaying or only checking. The sensor
 * facts and losses (sensor_count, sensor_name, sensor_info, loss_foreach) are
 * the core's and come in as functions (tt_host_core_fns): this file never
 * includes core.h. tt_host.ctx is the tt_services; the core's own functions
 * find the core in tt_services.core.
 */
#include "host.h"

#include <string.h>

#include "health.h"

#define TT_WRITER_JOB_BYTES (64 * 1024) /* a job submitted without its size (ABI < 1.3) */
#define TT_REFUSAL_LOG_EVERY 10         /* seconds between two warnings about refused jobs */

/* ---- RRD services (ABI 1.1): the store lives on the writer thread ------- */

typedef struct core_job {
    tt_job_fn run;
    void *data;
    GDestroyNotify free_fn;
    tt_rrd_store *rrd;
    tt_health *health;
    tt_services *sv; /* for job_failed and the RRD lines' timing */
} core_job;

/*
 * RRD lines go out once the oldest has waited CORE_RRD_DELAY_US (checked when
 * the writer's queue runs dry, core_writer_idle, and after every job), or once
 * CORE_RRD_BATCH wait (a few MB of BATCH; checked after every job, and at each
 * update while rrdcached is free: host_rrd_update). A sparse replay closes thousands of
 * buckets of a few lines each: one rrdcached round trip per job made its stop
 * take 16 s (bench/sparse), a few batches take under a second. Live, a bucket
 * close is the only job in the queue: its lines go out 100 ms later.
 */
#define CORE_RRD_BATCH 16384
#define CORE_RRD_DELAY_US (100 * 1000) /* the longest a line waits, but for rrdcached down */

/* RRD steps lost so far: lines librrd or rrdcached refused (not rrdcached unreachable). */
static uint64_t core_rrd_lost(tt_rrd_store *rrd)
{
    tt_rrd_store_stats st;
    tt_rrd_store_get_stats(rrd, &st);
    return st.refused;
}

/*
 * Send the queued RRD lines. A line refused there (librrd, or rrdcached
 * answering an error for it) is reported as a job's failure would be
 * (tt_host.job_failed): the lines of several jobs go out together, so it
 * names no job, and under --read's rule (any failure keeps the whole run out
 * of the ledger, main.c) it need not. An update refused before the commit
 * (rrd_update returned FALSE) is the plugin's to report. rrdcached
 * unreachable is not a failure: the lines stay queued and are sent later or
 * journaled (rrd/store.c). Writer thread.
 */
static void core_rrd_commit(tt_rrd_store *rrd, const tt_host *host, gboolean wait)
{
    uint64_t before = core_rrd_lost(rrd);
    if (wait)
        tt_rrd_store_commit_wait(rrd);
    else
        tt_rrd_store_commit(rrd);
    uint64_t lost = core_rrd_lost(rrd) - before;
    if (lost > 0) {
        g_autofree char *msg = g_strdup_printf("rrd: %" G_GUINT64_FORMAT
                                               " update line(s) refused at the commit (see the rrd "
                                               "warnings); those steps are not stored",
                                               lost);
        host->job_failed(host, msg);
    }
}

/*
 * Send the queued RRD lines when they are due: @a force (a flush or the stop's
 * drain waits; librrd directly, which has nothing to gather), CORE_RRD_BATCH
 * lines, or the oldest waiting CORE_RRD_DELAY_US. Returns the µs until they are
 * due (0: sent, or none). Writer thread.
 */
static gint64 core_rrd_send_due(tt_services *sv, gboolean force)
{
    guint queued = tt_rrd_store_queued(sv->rrd);
    if (queued == 0) {
        sv->rrd_waiting_since = 0;
        if (force && tt_rrd_store_in_flight(sv->rrd))
            core_rrd_commit(sv->rrd, &sv->host, TRUE); /* the answer to the batch in flight */
        return 0;
    }
    gint64 now = g_get_monotonic_time();
    if (sv->rrd_waiting_since == 0)
        sv->rrd_waiting_since = now;
    gint64 waited = now - sv->rrd_waiting_since;
    if (!force && queued < CORE_RRD_BATCH && waited < CORE_RRD_DELAY_US)
        return CORE_RRD_DELAY_US - waited;
    core_rrd_commit(sv->rrd, &sv->host, force);
    sv->rrd_waiting_since = 0;
    return 0; /* what rrdcached did not take (down, or the stop abandoned it) waits for the
               * next job, or the journal: a timer here would hold a drain */
}

/* The journal the store read at the start (rrd/store.c): replayed on the writer thread. */
static void core_rrd_replay(void *data)
{
    tt_services *sv = data;
    core_rrd_commit(sv->rrd, &sv->host, TRUE);
    tt_health_job_done(sv->health);
}

static void core_job_run(void *data)
{
    core_job *job = data;
    job->run(job->data);
    if (job->rrd == NULL) /* --check-config: no store, a plugin's fini may still submit */
        return;
    /* also when the queue never runs dry: RRD files stay fresh under sustained load, and
     * a stuck rrdcached is found at once. librrd directly: an update per line whenever it
     * goes, so nothing to gather, and a burst later only widens the window in which a
     * SIGKILL lands inside librrd's update (not atomic: rrd_archives' direct-sigkill case
     * then read its steps one row early after the replay) */
    core_rrd_send_due(job->sv, !tt_rrd_store_is_cached(job->rrd));
    tt_health_job_done(job->health);
}

/*
 * The writer's queue ran dry: the lines are sent when due (a reader slower than
 * the writer hands it jobs one at a time: sending at each would be a round trip
 * per job again), at once when a flush or the stop's drain waits (@a force).
 * Returns the µs until the writer should call again (0: nothing left).
 */
static gint64 services_writer_idle(void *data, gboolean force)
{
    tt_services *sv = data;
    if (sv->rrd == NULL)
        return 0;
    gint64 again = core_rrd_send_due(sv, force);
    tt_health_job_done(sv->health);
    return again;
}

static void core_job_free(void *data)
{
    core_job *job = data;
    if (job->free_fn != NULL)
        job->free_fn(job->data);
    g_free(job);
}

/*
 * One update line, queued. Once CORE_RRD_BATCH lines wait and rrdcached is free,
 * they go at once, in the middle of the job: the first bucket of a --read is a
 * port space of ~100,000 files (a second of header checks here, and as much of
 * rrd_opens in rrdcached at its first touch), so rrdcached starts on the first
 * lines while this job makes the rest, rather than after it (bench/read's
 * fresh-10M: 5.7 s -> 4.9 s).
 */
static gboolean host_rrd_update(const tt_host *host, tt_rrd_kind kind, const char *scope,
                                const char *path, int64_t start, int64_t end,
                                const tt_rrd_values *values, GError **error)
{
    tt_services *sv = host->ctx;
    if (sv->rrd == NULL) {
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_IO, "%s: no RRD store (--check-config)",
                    path);
        return FALSE;
    }
    gboolean ok = tt_rrd_store_update(sv->rrd, kind, scope, path, start, end, values, error);
    if (tt_rrd_store_queued(sv->rrd) >= CORE_RRD_BATCH && tt_rrd_store_sendable(sv->rrd))
        core_rrd_send_due(sv, FALSE);
    return ok;
}

/*
 * The stop's fill to midnight (writer thread). The lines the jobs left are
 * sent first, through core_rrd_commit, so that what is refused among them is
 * reported as a failure, as it would have been at the next idle commit.
 */
static void host_rrd_finish(const tt_host *host)
{
    const tt_services *sv = host->ctx;
    if (sv->rrd == NULL)
        return;
    core_rrd_commit(sv->rrd, host, TRUE);
    uint64_t before = core_rrd_lost(sv->rrd);
    tt_rrd_store_finish(sv->rrd, g_get_real_time() / G_USEC_PER_SEC);
    uint64_t lost = core_rrd_lost(sv->rrd) - before;
    if (lost > 0) {
        g_autofree char *msg = g_strdup_printf(
            "rrd: %" G_GUINT64_FORMAT " update line(s) of the stop's fill refused", lost);
        host->job_failed(host, msg);
    }
}

/* Past the backlog a live job is refused: say so, at most every TT_REFUSAL_LOG_EVERY s. */
static void core_log_refusal(tt_services *sv)
{
    int64_t now = g_get_monotonic_time() / G_USEC_PER_SEC;
    if (sv->refusal_logged != 0 && now - sv->refusal_logged < TT_REFUSAL_LOG_EVERY)
        return;
    tt_writer_stats ws;
    tt_writer_get_stats(sv->writer, &ws);
    g_warning("writer backlog full (%.1f MB queued, writer-backlog = %.1f MB): %" G_GUINT64_FORMAT
              " closed-bucket jobs (%.1f MB) refused since start, %" G_GUINT64_FORMAT
              " of them since the last warning; their counts are lost (writer_refused_jobs in "
              "stats.json)",
              (double)ws.pending_bytes / 1e6, (double)sv->writer_backlog / 1e6, ws.refused_jobs,
              (double)ws.refused_bytes / 1e6, ws.refused_jobs - sv->refusals_logged);
    sv->refusal_logged = now;
    sv->refusals_logged = ws.refused_jobs;
}

/* (ABI 1.3) A plugin's job with its size: refused past the backlog when live. */
static gboolean host_submit_sized(const tt_host *host, tt_job_fn run, void *data,
                                  GDestroyNotify free_fn, size_t bytes)
{
    tt_services *sv = host->ctx;
    core_job *job = g_new(core_job, 1);
    *job = (core_job){run, data, free_fn, sv->rrd, sv->health, sv};
    if (tt_writer_submit_sized(sv->writer, core_job_run, job, core_job_free, bytes + sizeof *job,
                               TRUE))
        return TRUE;
    core_log_refusal(sv);
    return FALSE;
}

static void host_submit(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn)
{
    host_submit_sized(host, run, data, free_fn, TT_WRITER_JOB_BYTES);
}

/* tt_host.checking (ABI 1.3): --check-config builds plugins that must write nothing. */
static gboolean host_checking(const tt_host *host)
{
    const tt_services *sv = host->ctx;
    return sv->checking;
}

/*
 * tt_host.job_failed (ABI 1.4): a job could not store its data. Counted for
 * stats.json; the first TT_CORE_FAILURES_KEPT messages are kept for --read,
 * which names them when it refuses to mark its files read (main.c); the
 * first TT_FAIL_LOG ones are logged, then one line says the rest are counted.
 * The first failure of each reporter (what the message says before its first
 * ':', the plugin by convention) is kept and logged whatever came before it:
 * a thousand refused RRD steps must not hide the one rolled-back database
 * batch that failed after them.
 */
#define TT_FAIL_LOG 10

static gboolean core_failure_seen(const GPtrArray *kept, const char *message)
{
    size_t n = strcspn(message, ":");
    for (guint i = 0; i < kept->len; i++) {
        const char *k = g_ptr_array_index(kept, i);
        if (strcspn(k, ":") == n && strncmp(k, message, n) == 0)
            return TRUE;
    }
    return FALSE;
}

static void host_job_failed(const tt_host *host, const char *message)
{
    tt_services *sv = host->ctx;
    g_mutex_lock(&sv->fail_lock);
    guint64 n = ++sv->failures.count;
    gboolean first = !core_failure_seen(sv->failures.messages, message);
    if (sv->failures.messages->len < TT_CORE_FAILURES_KEPT || first)
        g_ptr_array_add(sv->failures.messages, g_strdup(message));
    g_mutex_unlock(&sv->fail_lock);
    if (n <= TT_FAIL_LOG || first)
        g_warning("store failure: %s", message);
    if (n == TT_FAIL_LOG)
        g_warning("further store failures are only counted (store_failures in stats.json)");
}

guint64 tt_services_store_failures(tt_services *sv)
{
    g_mutex_lock(&sv->fail_lock);
    guint64 n = sv->failures.count;
    g_mutex_unlock(&sv->fail_lock);
    return n;
}

void tt_core_failures_clear(tt_core_failures *failures)
{
    if (failures->messages != NULL)
        g_ptr_array_free(failures->messages, TRUE);
    failures->messages = NULL;
    failures->count = 0;
}

/* tt_host.replaying: set by --read when it reads files again (ledger.c). */
static gboolean host_replaying(const tt_host *host)
{
    const tt_services *sv = host->ctx;
    return sv->replay;
}

void tt_services_init(tt_services *sv, gboolean checking)
{
    memset(sv, 0, sizeof *sv);
    sv->checking = checking;
    g_mutex_init(&sv->fail_lock);
    sv->failures.messages = g_ptr_array_new_with_free_func(g_free);
}

void tt_services_start(tt_services *sv, const tt_config *config, tt_writer *writer,
                       tt_rrd_store *rrd, tt_health *health, void *core,
                       const tt_host_core_fns *fns)
{
    sv->writer = writer;
    sv->rrd = rrd;
    sv->health = health;
    sv->core = core;
    sv->writer_backlog = config->writer_backlog;
    tt_writer_set_idle(writer, services_writer_idle, sv); /* reads sv->rrd and ->health */
    sv->host.struct_size = sizeof sv->host;
    sv->host.abi_minor = TT_PLUGIN_ABI_MINOR;
    sv->host.data_dir = config->data_dir;
    sv->host.step = config->step;
    sv->host.grace = config->grace;
    sv->host.timezone = config->timezone;
    sv->host.ctx = sv;
    sv->host.sensor_count = fns->sensor_count;
    sv->host.sensor_name = fns->sensor_name;
    sv->host.submit = host_submit;
    sv->host.rrd_update = host_rrd_update;
    sv->host.rrd_finish = host_rrd_finish;
    sv->host.sensor_info = fns->sensor_info; /* rollup: per-day sensor facts */
    sv->host.replaying = host_replaying;
    sv->host.loss_foreach = fns->loss_foreach;
    sv->host.submit_sized = host_submit_sized;
    sv->host.checking = host_checking;
    sv->host.job_failed = host_job_failed;
    /* the last stop's journal, first in the writer's queue: before any plugin's lines */
    if (rrd != NULL && tt_rrd_store_queued(rrd) > 0)
        tt_writer_submit(writer, core_rrd_replay, sv, NULL);
}

void tt_services_reconfigure(tt_services *sv, const tt_config *config)
{
    sv->host.data_dir = config->data_dir;
    sv->host.timezone = config->timezone;
    sv->writer_backlog = config->writer_backlog;
}

void tt_services_clear(tt_services *sv, tt_core_failures *out)
{
    if (out != NULL)
        *out = sv->failures;
    else
        tt_core_failures_clear(&sv->failures);
    sv->failures = (tt_core_failures){0, NULL};
    g_mutex_clear(&sv->fail_lock);
}
