/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * health.c - the self RRD (DATA/rrd/self/collector.rrd), writer lag and the
 * RRD store's counters.
 *
 * Clock: the self RRD follows the stream, like every other file: its step
 * [until - step, until) is written when every live sensor has closed `until`
 * (the core's global close), with what the counters moved since the previous
 * self step. So `teitend --read` of a 2019 file writes 2019 steps, a live
 * collector writes steps as its exporters' time passes, and the sum of a
 * counter over the file equals the run's total in stats.json (late records
 * counted after the last close go into the step after it, at the stop).
 * Rejected: the host clock per step (natural for health, but meaningless in
 * --read, and one file written on two clocks would have its stream steps
 * skipped as past whenever a host-clock step ran ahead) and skipping the
 * self RRD in --read (a backfill is exactly when an operator wants to see
 * late records and drops per step).
 *
 * Writer lag: each global close queues, behind the plugins' jobs for that
 * range, a marker job carrying the number of steps closed; lag = steps
 * queued - steps whose marker ran. Past `writer-lag-warn` it is logged (at
 * the crossing, then at most once a minute while it lasts) and counted;
 * nothing is dropped: the writer's queue is unbounded and the store keeps
 * unsent rrdcached lines in memory.
 */
#include "health.h"

#include <string.h>

#include "decode.h"

#define HEALTH_LOG_EVERY 60 /* seconds between repeated lag warnings */

struct tt_health {
    tt_writer *writer;
    tt_rrd_store *rrd;
    int64_t step;
    GMutex lock; /* guards st */
    tt_health_stats st;
    uint64_t queued;   /* core thread: steps queued (st.lag_steps = queued - written) */
    uint64_t written;  /* under lock */
    gboolean over;     /* core thread: lag is past the threshold */
    gboolean live;     /* core thread: listeners, not --read */
    int64_t warned_at; /* core thread, host seconds */
    double prev[TT_RRD_SELF_DS_COUNT]; /* core thread: cumulative counters at the last self step */
    uint64_t past_prev;                /* writer thread: store's past count at the last self step */
    gboolean self_logged;              /* writer thread */
    int64_t last_self_end;             /* core thread */
};

tt_health *tt_health_new(tt_writer *writer, tt_rrd_store *rrd, int64_t step, uint32_t lag_warn)
{
    tt_health *h = g_new0(tt_health, 1);
    h->writer = writer;
    h->rrd = rrd;
    h->step = step;
    h->st.lag_warn = lag_warn;
    h->last_self_end = INT64_MIN;
    g_mutex_init(&h->lock);
    /* no job has run yet: reading the store here is still single-threaded */
    tt_rrd_store_get_stats(rrd, &h->st.rrd);
    h->past_prev = h->st.rrd.past;
    return h;
}

void tt_health_free(tt_health *h)
{
    if (h == NULL)
        return;
    g_mutex_clear(&h->lock);
    g_free(h);
}

void tt_health_job_done(tt_health *h)
{
    tt_rrd_store_stats st;
    tt_rrd_store_get_stats(h->rrd, &st);
    g_mutex_lock(&h->lock);
    h->st.rrd = st;
    g_mutex_unlock(&h->lock);
}

void tt_health_get(tt_health *h, tt_health_stats *out)
{
    g_mutex_lock(&h->lock);
    *out = h->st;
    g_mutex_unlock(&h->lock);
}

/* ---- writer lag --------------------------------------------------------- */

typedef struct lag_mark {
    tt_health *h;
    uint64_t steps;
} lag_mark;

static void lag_mark_run(void *data)
{
    lag_mark *m = data;
    g_mutex_lock(&m->h->lock);
    m->h->written += m->steps;
    m->h->st.lag_steps = m->h->queued - m->h->written;
    g_mutex_unlock(&m->h->lock);
}

static void health_check(tt_health *h, int64_t now)
{
    g_mutex_lock(&h->lock);
    uint64_t lag = h->queued - h->written;
    h->st.lag_steps = lag;
    if (lag > h->st.lag_max)
        h->st.lag_max = lag;
    gboolean crossed = lag > h->st.lag_warn && !h->over;
    if (crossed)
        h->st.lag_warnings++;
    guint pending = tt_writer_pending(h->writer);
    g_mutex_unlock(&h->lock);
    if (lag > h->st.lag_warn) {
        if (crossed || now - h->warned_at >= HEALTH_LOG_EVERY) {
            g_log(G_LOG_DOMAIN, h->live ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_MESSAGE,
                  "writer is %" G_GUINT64_FORMAT " steps behind (writer-lag-warn = %u, %u jobs "
                  "queued): RRD updates wait in memory up to writer-backlog%s",
                  lag, h->st.lag_warn, pending, h->live ? "" : " (reading files)");
            h->warned_at = now;
        }
        h->over = TRUE;
    } else if (h->over) {
        h->over = FALSE;
        g_message("writer caught up: %" G_GUINT64_FORMAT " steps behind", lag);
    }
}

void tt_health_set_live(tt_health *h, gboolean live)
{
    h->live = live;
}

void tt_health_tick(tt_health *h, int64_t now)
{
    health_check(h, now);
}

/* ---- self RRD ----------------------------------------------------------- */

typedef struct self_job {
    tt_health *h;
    int64_t start, end;
    double v[TT_RRD_SELF_DS_COUNT];
} self_job;

static void self_job_run(void *data)
{
    self_job *job = data;
    tt_health *h = job->h;
    tt_rrd_store_stats st;
    tt_rrd_store_get_stats(h->rrd, &st);
    job->v[TT_RRD_SELF_RRD_PAST] = (double)(st.past - h->past_prev);
    h->past_prev = st.past;
    g_autoptr(GError) error = NULL;
    if (!tt_rrd_store_update_self(h->rrd, job->start, job->end, job->v, TT_RRD_SELF_DS_COUNT,
                                  &error) &&
        !h->self_logged) {
        g_warning("self RRD: %s", error->message);
        h->self_logged = TRUE;
    }
    /* sent with the other jobs' lines when the writer's queue runs dry (host.c): a --read
     * makes a self step per stream step, and a commit here was a BATCH per step */
    tt_health_job_done(h);
}

static void health_sum_drops(const tt_exporter *e, void *data)
{
    double *v = data;
    const tt_exporter_stats *s = tt_exporter_get_stats(e);
    for (int i = 0; i < TT_DROP_COUNT; i++)
        v[TT_RRD_SELF_DROP_FIRST + i] += (double)s->dropped[i];
}

/* Cumulative counters now, in self-RRD order (gauges as they are). */
static void health_sample(tt_health *h, const tt_counters *c, double *v)
{
    G_STATIC_ASSERT(TT_DROP_COUNT == TT_RRD_SELF_EXPORTERS - TT_RRD_SELF_DROP_FIRST);
    memset(v, 0, sizeof(double) * TT_RRD_SELF_DS_COUNT);
    v[TT_RRD_SELF_RECORDS] = (double)c->records_in;
    for (guint i = 0; i < c->sensors->len; i++) {
        const tt_sensor_counters *sc = &g_array_index(c->sensors, tt_sensor_counters, i);
        if (!sc->has_state || sc->name == NULL)
            continue;
        v[TT_RRD_SELF_OBSERVED] += (double)sc->stats.observed;
        v[TT_RRD_SELF_LEAKS] += (double)sc->stats.leaks;
        v[TT_RRD_SELF_LATE] += (double)sc->stats.late;
    }
    tt_decoder *dec = c->decoder;
    tt_decoder_foreach_exporter(dec, health_sum_drops, v);
    const tt_exporter_stats *r = tt_decoder_retired_stats(dec);
    for (int i = 0; i < TT_DROP_COUNT; i++)
        v[TT_RRD_SELF_DROP_FIRST + i] += (double)r->dropped[i];
    v[TT_RRD_SELF_EXPORTERS] = (double)tt_decoder_exporter_count(dec);
    g_mutex_lock(&h->lock);
    v[TT_RRD_SELF_WRITER_LAG] = (double)(h->queued - h->written);
    g_mutex_unlock(&h->lock);
}

static void health_submit_self(tt_health *h, const tt_counters *c, int64_t start, int64_t end)
{
    self_job *job = g_new0(self_job, 1);
    job->h = h;
    job->start = start;
    job->end = end;
    health_sample(h, c, job->v);
    for (int i = 0; i < TT_RRD_SELF_DS_COUNT; i++) {
        if (i == TT_RRD_SELF_EXPORTERS || i == TT_RRD_SELF_WRITER_LAG)
            continue;
        double now = job->v[i];
        /* a reload that removed a sensor takes its counts away: never a negative step */
        job->v[i] = now >= h->prev[i] ? now - h->prev[i] : 0;
        h->prev[i] = now;
    }
    h->last_self_end = end;
    tt_writer_submit(h->writer, self_job_run, job, g_free);
    g_mutex_lock(&h->lock);
    h->st.self_steps++;
    g_mutex_unlock(&h->lock);
}

void tt_health_closed(tt_health *h, const tt_counters *c, int64_t from, int64_t until)
{
    g_return_if_fail(h != NULL && until > from);
    health_submit_self(h, c, until - h->step, until);
    lag_mark *m = g_new(lag_mark, 1);
    m->h = h;
    m->steps = (uint64_t)((until - from) / h->step);
    g_mutex_lock(&h->lock);
    h->queued += m->steps;
    g_mutex_unlock(&h->lock);
    tt_writer_submit(h->writer, lag_mark_run, m, g_free);
    health_check(h, g_get_real_time() / G_USEC_PER_SEC);
}

void tt_health_stop(tt_health *h, const tt_counters *c, int64_t closed)
{
    g_return_if_fail(h != NULL);
    if (closed == INT64_MIN)
        return; /* nothing ever closed: no step to put the counts in */
    double v[TT_RRD_SELF_DS_COUNT];
    health_sample(h, c, v);
    gboolean moved = FALSE;
    for (int i = 0; i < TT_RRD_SELF_DS_COUNT; i++)
        if (i != TT_RRD_SELF_EXPORTERS && i != TT_RRD_SELF_WRITER_LAG && v[i] > h->prev[i])
            moved = TRUE;
    if (!moved)
        return;
    int64_t start = MAX(closed, h->last_self_end);
    health_submit_self(h, c, start, start + h->step);
}
