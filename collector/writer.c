/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writer.c - one thread that runs the jobs plugins hand over (host->submit).
 *
 * A GQueue under one mutex, two condition variables: `wake` tells the thread
 * there is work (or that it should stop), `done` tells flushers that a job
 * finished. Every job gets a sequence number when it is queued; flush waits
 * until the number of finished jobs reaches the number queued at the time of
 * the call, so jobs submitted while a flush waits do not extend it. The
 * pending count is kept atomically so stats and the lag log can read it
 * without taking the lock.
 *
 * Rejected: GAsyncQueue alone (it has no way to wait for "everything queued so
 * far has *finished*", only for "was popped", so flush would still need a
 * second lock); a GThreadPool with max_threads = 1 (its shutdown can drop
 * queued work unless told otherwise, and it offers no flush). Jobs run outside
 * the lock, so a job may itself submit more work; it must not call
 * tt_writer_flush() or tt_writer_free() (it would wait for itself).
 *
 * Live, the thread runs at nice WRITER_NICE (tt_writer_set_nice). A step of
 * the full port space is 131 325 RRD updates, seconds of CPU with librrd
 * directly; on a machine with fewer free cores than busy threads the scheduler
 * would share the receiving core evenly with that burst, and the socket buffer
 * overflows. At nice 10 the receiver keeps ~90 % of a contended core and the
 * writer takes what is left (its lag is watched: `writer-lag-warn`); measured
 * in bench/run's soak. A `--read` keeps nice 0: its reader loses nothing by
 * waiting, and at nice 10 on one core the writer got ~10 % of it until the
 * reader was done, so rrdcached (on another core) began its work only then
 * (bench/read's fresh-10M: 6.2-6.6 s at nice 10, 5.9-6.0 s at 0). It starts
 * at 0 because a thread may raise its nice value but only a privileged one may
 * lower it again.
 *
 * The backlog is bounded in jobs and in bytes (each job declares what its data
 * holds; a closed bucket's snapshot is kilobytes to megabytes). Past a bound a
 * `--read` submitter waits: it loses nothing by waiting, and memory stays a few
 * hundred MB however fast files are read. A live submitter is the thread that
 * reads the sockets: if it waited, UDP would overflow in the kernel and TCP
 * exporters would stall, so a job that may be refused is refused instead, freed
 * at once on the submitting thread and counted (jobs and bytes) as a loss
 * everyone can see in stats.json. The core's own small jobs (stats, health) are
 * never refused. Rejected: a job-count bound alone (jobs differ by 1000x in
 * size, so any count is either too small for light jobs or unbounded in memory
 * for heavy ones); spilling refused jobs to disk (the jobs are opaque closures).
 *
 * An idle hook (tt_writer_set_idle) runs on the writer thread after a job
 * when nothing else is queued, or when a flush or a drain waits (then
 * forced): the core commits its RRD lines there, so a burst of closed buckets
 * (a replay, a stop) goes to rrdcached as a few large batches instead of one
 * round trip per job, and a flush or a drain returns only once what its jobs
 * made has been committed. Unforced, the hook may ask to be called again
 * after a delay (jobs trickling in one by one, as in a --read whose reader is
 * the slower thread, would otherwise still commit one job at a time): the
 * thread then waits for the next job or the delay, whichever comes first.
 *
 * A stop has a deadline (`stop-timeout`): tt_writer_drain waits for the queue
 * with a progress callback once a second, and tt_writer_discard has the writer
 * thread drop what is still queued (free_fn, not run), counted as lost. Jobs
 * and their free_fn still run on the writer thread only, but for refused jobs.
 */
#define _GNU_SOURCE
#include "writer.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#define WRITER_NICE 10

typedef struct writer_job {
    tt_job_fn run;
    void *data;
    GDestroyNotify free_fn;
    gsize bytes;
} writer_job;

struct tt_writer {
    GThread *thread;
    GMutex lock;
    GCond wake;           /* queue grew or stop was requested */
    GCond done;           /* a job finished */
    GQueue queue;         /* of writer_job *, protected by lock */
    guint64 queued;       /* jobs ever queued, protected by lock */
    guint64 ran;          /* jobs ever finished (or discarded), protected by lock */
    gboolean stop;        /* protected by lock */
    gboolean discard;     /* the thread drops queued jobs unrun, protected by lock */
    gint pending;         /* atomic: queued - ran */
    guint limit;          /* bound in jobs; 0 = none */
    guint64 max_bytes;    /* bound in bytes; 0 = none */
    gboolean wait;        /* past a bound: wait (TRUE) or refuse what may be refused */
    guint flushers;       /* tt_writer_flush and tt_writer_drain calls waiting, protected by lock */
    guint64 flush_target; /* the highest job number a waiting flush waits for; 0: none */
    tt_writer_idle_fn idle; /* see tt_writer_set_idle; set before the first job */
    void *idle_data;
    gint64 idle_at; /* monotonic µs the hook asked to be called again at; 0: not asked */
    /* GLib's GCond makes a futex call at every signal, waiter or not: the hot paths
     * (a submit, a finished job) signal only when someone waits. Protected by lock. */
    gint nice;          /* atomic: the nice value the thread is to run at (tt_writer_set_nice) */
    gboolean sleeping;  /* the thread waits on wake */
    guint done_waiters; /* threads waiting on done */
    tt_writer_stats st; /* protected by lock; pending_* kept here too */
};

static void writer_job_finish(writer_job *job)
{
    if (job->free_fn != NULL)
        job->free_fn(job->data);
    g_free(job);
}

/* Wait on done (lock held), counted so that a finished job signals only when needed. */
static void writer_wait_done(tt_writer *writer)
{
    writer->done_waiters++;
    g_cond_wait(&writer->done, &writer->lock);
    writer->done_waiters--;
}

static gboolean writer_wait_done_until(tt_writer *writer, gint64 until)
{
    writer->done_waiters++;
    gboolean woken = g_cond_wait_until(&writer->done, &writer->lock, until);
    writer->done_waiters--;
    return woken;
}

static void writer_signal_done(tt_writer *writer)
{
    if (writer->done_waiters > 0)
        g_cond_broadcast(&writer->done);
}

/* Run the idle hook (lock held, released around it); @a force: a flush or a drain waits. */
static void writer_idle(tt_writer *writer, gboolean force)
{
    if (writer->idle == NULL)
        return;
    g_mutex_unlock(&writer->lock);
    gint64 again = writer->idle(writer->idle_data, force);
    g_mutex_lock(&writer->lock);
    writer->idle_at = again > 0 ? g_get_monotonic_time() + again : 0;
}

static gpointer writer_thread_main(gpointer data)
{
    tt_writer *writer = data;

    int nice = 0;
    g_mutex_lock(&writer->lock);
    for (;;) {
        writer_job *job = g_queue_pop_head(&writer->queue);
        int want = g_atomic_int_get(&writer->nice);
        if (want != nice) {
            /* Linux: PRIO_PROCESS with a thread ID sets that thread's nice value only */
            if (setpriority(PRIO_PROCESS, (id_t)gettid(), want) != 0)
                g_debug("writer: cannot set its nice value to %d: %s", want, g_strerror(errno));
            nice = want; /* tried once */
        }
        if (job == NULL) {
            /* Stop only once the queue is empty: tt_writer_free() drains, and what the
             * idle hook put off is done now, on this thread (its failures are reported) */
            if (writer->stop) {
                if (writer->idle_at != 0)
                    writer_idle(writer, TRUE);
                break;
            }
            writer->sleeping = TRUE;
            if (writer->idle_at == 0) {
                g_cond_wait(&writer->wake, &writer->lock);
                writer->sleeping = FALSE;
                continue;
            }
            /* the hook put work off: call it again when due, or at once for a flush */
            gboolean woken = g_cond_wait_until(&writer->wake, &writer->lock, writer->idle_at);
            writer->sleeping = FALSE;
            if (g_queue_is_empty(&writer->queue) && (!woken || writer->flushers > 0)) {
                writer_idle(writer, writer->flushers > 0);
                writer_signal_done(writer);
            }
            continue;
        }
        gboolean run = !writer->discard;
        g_mutex_unlock(&writer->lock);

        if (run)
            job->run(job->data);
        gsize bytes = job->bytes;
        writer_job_finish(job);

        g_mutex_lock(&writer->lock);
        /* before the job counts as finished: a flush or drain waiting for it sees the commit */
        /* the hook runs when the queue runs dry, or after the last job a flush waits for
         * (not after every job while one waits: a stop's drain would commit each job) */
        if (g_queue_is_empty(&writer->queue) ||
            (writer->flush_target != 0 && writer->ran + 1 >= writer->flush_target))
            writer_idle(writer, writer->flushers > 0);
        g_atomic_int_add(&writer->pending, -1);
        writer->ran++;
        writer->st.pending_jobs--;
        writer->st.pending_bytes -= bytes;
        if (!run) {
            writer->st.lost_jobs++;
            writer->st.lost_bytes += bytes;
        }
        writer_signal_done(writer);
    }
    g_mutex_unlock(&writer->lock);
    return NULL;
}

void tt_writer_set_nice(tt_writer *writer, gboolean background)
{
    g_atomic_int_set(&writer->nice, background ? WRITER_NICE : 0);
}

tt_writer *tt_writer_new(void)
{
    tt_writer *writer = g_new0(tt_writer, 1);

    g_mutex_init(&writer->lock);
    g_cond_init(&writer->wake);
    g_cond_init(&writer->done);
    g_queue_init(&writer->queue);
    writer->wait = TRUE;
    /* g_thread_new aborts if no thread can be made: nothing sensible to return then. */
    writer->thread = g_thread_new("tt-writer", writer_thread_main, writer);
    return writer;
}

/* Is there no room for @a bytes more? Lock held. An empty queue always has room. */
static gboolean writer_full(const tt_writer *writer, gsize bytes)
{
    if (writer->st.pending_jobs == 0)
        return FALSE;
    if (writer->limit > 0 && writer->st.pending_jobs >= writer->limit)
        return TRUE;
    return writer->max_bytes > 0 && writer->st.pending_bytes + bytes > writer->max_bytes;
}

/* Does the queue still hold more than half its bounds? Lock held. */
static gboolean writer_above_half(const tt_writer *writer)
{
    return (writer->limit > 0 && writer->st.pending_jobs > writer->limit / 2) ||
           (writer->max_bytes > 0 && writer->st.pending_bytes > writer->max_bytes / 2);
}

gboolean tt_writer_submit_sized(tt_writer *writer, tt_job_fn run, void *data,
                                GDestroyNotify free_fn, gsize bytes, gboolean may_refuse)
{
    g_return_val_if_fail(writer != NULL, FALSE);
    g_return_val_if_fail(run != NULL, FALSE);

    g_mutex_lock(&writer->lock);
    /*
     * Backpressure: a closed bucket's snapshot can be megabytes, and a replay
     * closes buckets far faster than disks take them. Without a bound the queue
     * grows until the kernel kills the process. --read waits; live reception
     * must not (see the top of the file): it refuses and counts.
     */
    if (g_thread_self() != writer->thread && writer_full(writer, bytes)) {
        if (!writer->wait && may_refuse) {
            writer->st.refused_jobs++;
            writer->st.refused_bytes += bytes;
            g_mutex_unlock(&writer->lock);
            if (free_fn != NULL)
                free_fn(data);
            return FALSE;
        }
        if (writer->wait) {
            /* until half the room is free, not one job's: waking at every job the writer
             * finishes made the two threads trade the lock and the CPU for each job
             * (futex calls were 80 % of a sparse --read's system time) */
            gint64 t0 = g_get_monotonic_time();
            writer->st.stalls++;
            while (writer_full(writer, bytes) || writer_above_half(writer))
                writer_wait_done(writer);
            writer->st.stalled_us += g_get_monotonic_time() - t0;
        }
    }
    writer_job *job = g_new(writer_job, 1);
    job->run = run;
    job->data = data;
    job->free_fn = free_fn;
    job->bytes = bytes;
    g_atomic_int_inc(&writer->pending);
    writer->st.pending_jobs++;
    writer->st.pending_bytes += bytes;
    if (writer->st.pending_jobs > writer->st.peak_jobs)
        writer->st.peak_jobs = writer->st.pending_jobs;
    if (writer->st.pending_bytes > writer->st.peak_bytes)
        writer->st.peak_bytes = writer->st.pending_bytes;
    g_warn_if_fail(!writer->stop || g_thread_self() == writer->thread);
    g_queue_push_tail(&writer->queue, job);
    writer->queued++;
    if (writer->sleeping)
        g_cond_signal(&writer->wake);
    g_mutex_unlock(&writer->lock);
    return TRUE;
}

void tt_writer_submit(tt_writer *writer, tt_job_fn run, void *data, GDestroyNotify free_fn)
{
    tt_writer_submit_sized(writer, run, data, free_fn, 0, FALSE);
}

void tt_writer_set_idle(tt_writer *writer, tt_writer_idle_fn idle, void *data)
{
    g_return_if_fail(writer != NULL);
    g_mutex_lock(&writer->lock);
    writer->idle = idle;
    writer->idle_data = data;
    g_mutex_unlock(&writer->lock);
}

void tt_writer_set_limit(tt_writer *writer, guint limit)
{
    g_return_if_fail(writer != NULL);
    g_mutex_lock(&writer->lock);
    writer->limit = limit;
    g_mutex_unlock(&writer->lock);
}

void tt_writer_set_backlog(tt_writer *writer, guint64 max_bytes, gboolean wait)
{
    g_return_if_fail(writer != NULL);
    g_mutex_lock(&writer->lock);
    writer->max_bytes = max_bytes;
    writer->wait = wait;
    /* a submitter waiting under the old bounds may fit under the new ones */
    g_cond_broadcast(&writer->done);
    g_mutex_unlock(&writer->lock);
}

guint64 tt_writer_stalls(tt_writer *writer, gint64 *stalled_us)
{
    g_return_val_if_fail(writer != NULL, 0);
    g_mutex_lock(&writer->lock);
    guint64 n = writer->st.stalls;
    if (stalled_us != NULL)
        *stalled_us = writer->st.stalled_us;
    g_mutex_unlock(&writer->lock);
    return n;
}

guint tt_writer_pending(tt_writer *writer)
{
    g_return_val_if_fail(writer != NULL, 0);

    return (guint)g_atomic_int_get(&writer->pending);
}

void tt_writer_get_stats(tt_writer *writer, tt_writer_stats *out)
{
    g_return_if_fail(writer != NULL && out != NULL);
    g_mutex_lock(&writer->lock);
    *out = writer->st;
    g_mutex_unlock(&writer->lock);
}

void tt_writer_flush(tt_writer *writer)
{
    g_return_if_fail(writer != NULL);
    g_return_if_fail(g_thread_self() != writer->thread);

    g_mutex_lock(&writer->lock);
    guint64 target = writer->queued;
    writer->flushers++;
    writer->flush_target = MAX(writer->flush_target, target);
    if (writer->idle_at != 0)
        g_cond_signal(&writer->wake); /* what the hook put off is due now */
    while (writer->ran < target || (writer->ran == writer->queued && writer->idle_at != 0))
        writer_wait_done(writer);
    writer->flushers--;
    if (writer->ran >= writer->flush_target)
        writer->flush_target = 0;
    g_mutex_unlock(&writer->lock);
}

gboolean tt_writer_drain(tt_writer *writer, gint64 deadline_us,
                         void (*progress)(guint64 jobs, guint64 bytes, void *data), void *data)
{
    g_return_val_if_fail(writer != NULL, FALSE);
    g_return_val_if_fail(g_thread_self() != writer->thread, FALSE);

    gint64 next = g_get_monotonic_time() + G_USEC_PER_SEC;
    g_mutex_lock(&writer->lock);
    writer->flushers++;
    if (writer->idle_at != 0)
        g_cond_signal(&writer->wake); /* what the hook put off is due now */
    /* ran < queued, not a target taken now: jobs queued by jobs belong to the stop too */
    while (writer->ran < writer->queued || writer->idle_at != 0) {
        gint64 until = MIN(next, deadline_us);
        if (writer_wait_done_until(writer, until))
            continue;
        gint64 now = g_get_monotonic_time();
        if (now >= deadline_us)
            break;
        if (now >= next && progress != NULL) {
            guint64 jobs = writer->st.pending_jobs, bytes = writer->st.pending_bytes;
            g_mutex_unlock(&writer->lock);
            progress(jobs, bytes, data);
            g_mutex_lock(&writer->lock);
        }
        if (now >= next)
            next = now + G_USEC_PER_SEC;
    }
    gboolean all = writer->ran >= writer->queued;
    writer->flushers--;
    g_mutex_unlock(&writer->lock);
    return all;
}

guint64 tt_writer_discard(tt_writer *writer, guint64 *bytes)
{
    g_return_val_if_fail(writer != NULL, 0);
    g_return_val_if_fail(g_thread_self() != writer->thread, 0);

    g_mutex_lock(&writer->lock);
    guint64 lost0 = writer->st.lost_jobs, lost_bytes0 = writer->st.lost_bytes;
    /* the writer thread drops them, so free_fn keeps running on that thread alone */
    writer->discard = TRUE;
    g_cond_signal(&writer->wake);
    while (writer->ran < writer->queued)
        writer_wait_done(writer);
    writer->discard = FALSE;
    guint64 n = writer->st.lost_jobs - lost0;
    if (bytes != NULL)
        *bytes = writer->st.lost_bytes - lost_bytes0;
    g_mutex_unlock(&writer->lock);
    return n;
}

void tt_writer_free(tt_writer *writer)
{
    if (writer == NULL)
        return;
    g_return_if_fail(g_thread_self() != writer->thread);

    g_mutex_lock(&writer->lock);
    writer->stop = TRUE;
    g_cond_signal(&writer->wake);
    g_mutex_unlock(&writer->lock);
    g_thread_join(writer->thread);

    /* The thread drained the queue before it left; nothing is dropped. */
    g_assert(g_queue_is_empty(&writer->queue));
    g_cond_clear(&writer->done);
    g_cond_clear(&writer->wake);
    g_mutex_clear(&writer->lock);
    g_free(writer);
}
