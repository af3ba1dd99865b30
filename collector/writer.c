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
 * The thread runs at nice WRITER_NICE. A step of the full port space is
 * 131 325 RRD updates, seconds of CPU with librrd directly; on a machine with
 * fewer free cores than busy threads the scheduler would share the receiving
 * core evenly with that burst, and the socket buffer overflows. At nice 10
 * the receiver keeps ~90 % of a contended core and the writer takes what is
 * left (its lag is watched: `writer-lag-warn`); measured in bench/run's soak.
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
} writer_job;

struct tt_writer {
    GThread *thread;
    GMutex lock;
    GCond wake;     /* queue grew or stop was requested */
    GCond done;     /* a job finished */
    GQueue queue;   /* of writer_job *, protected by lock */
    guint64 queued; /* jobs ever queued, protected by lock */
    guint64 ran;    /* jobs ever finished, protected by lock */
    gboolean stop;  /* protected by lock */
    gint pending;   /* atomic: queued - ran */
    guint limit;    /* submitters wait while this many jobs are pending; 0 = never */
    guint64 stalls; /* submissions that had to wait, protected by lock */
    gint64 stalled_us; /* time spent waiting, protected by lock */
};

static void writer_job_finish(writer_job *job)
{
    if (job->free_fn != NULL)
        job->free_fn(job->data);
    g_free(job);
}

static gpointer writer_thread_main(gpointer data)
{
    tt_writer *writer = data;

    /* Linux: PRIO_PROCESS with a thread ID sets that thread's nice value only */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), WRITER_NICE) != 0)
        g_debug("writer: cannot lower its priority: %s", g_strerror(errno));
    g_mutex_lock(&writer->lock);
    for (;;) {
        writer_job *job = g_queue_pop_head(&writer->queue);
        if (job == NULL) {
            /* Stop only once the queue is empty: tt_writer_free() drains. */
            if (writer->stop)
                break;
            g_cond_wait(&writer->wake, &writer->lock);
            continue;
        }
        g_mutex_unlock(&writer->lock);

        job->run(job->data);
        writer_job_finish(job);
        g_atomic_int_add(&writer->pending, -1);

        g_mutex_lock(&writer->lock);
        writer->ran++;
        g_cond_broadcast(&writer->done);
    }
    g_mutex_unlock(&writer->lock);
    return NULL;
}

tt_writer *tt_writer_new(void)
{
    tt_writer *writer = g_new0(tt_writer, 1);

    g_mutex_init(&writer->lock);
    g_cond_init(&writer->wake);
    g_cond_init(&writer->done);
    g_queue_init(&writer->queue);
    /* g_thread_new aborts if no thread can be made: nothing sensible to return then. */
    writer->thread = g_thread_new("tt-writer", writer_thread_main, writer);
    return writer;
}

void tt_writer_submit(tt_writer *writer, tt_job_fn run, void *data, GDestroyNotify free_fn)
{
    g_return_if_fail(writer != NULL);
    g_return_if_fail(run != NULL);

    writer_job *job = g_new(writer_job, 1);
    job->run = run;
    job->data = data;
    job->free_fn = free_fn;

    g_mutex_lock(&writer->lock);
    /*
     * Backpressure: a closed bucket's snapshot can be megabytes (a dense array
     * over the port space, a distinct-source set), and a replay closes buckets
     * far faster than disks take them. Without a bound the queue grows until the
     * kernel kills the process; with it the submitter (the reception thread)
     * waits, so a live collector that falls that far behind loses datagrams in
     * the kernel, counted as kernel_drops, instead of everything.
     */
    if (writer->limit > 0 && g_thread_self() != writer->thread &&
        (guint)g_atomic_int_get(&writer->pending) >= writer->limit) {
        gint64 t0 = g_get_monotonic_time();
        writer->stalls++;
        while ((guint)g_atomic_int_get(&writer->pending) >= writer->limit)
            g_cond_wait(&writer->done, &writer->lock);
        writer->stalled_us += g_get_monotonic_time() - t0;
    }
    g_atomic_int_inc(&writer->pending);
    g_warn_if_fail(!writer->stop || g_thread_self() == writer->thread);
    g_queue_push_tail(&writer->queue, job);
    writer->queued++;
    g_cond_signal(&writer->wake);
    g_mutex_unlock(&writer->lock);
}

void tt_writer_set_limit(tt_writer *writer, guint limit)
{
    g_return_if_fail(writer != NULL);
    g_mutex_lock(&writer->lock);
    writer->limit = limit;
    g_mutex_unlock(&writer->lock);
}

guint64 tt_writer_stalls(tt_writer *writer, gint64 *stalled_us)
{
    g_return_val_if_fail(writer != NULL, 0);
    g_mutex_lock(&writer->lock);
    guint64 n = writer->stalls;
    if (stalled_us != NULL)
        *stalled_us = writer->stalled_us;
    g_mutex_unlock(&writer->lock);
    return n;
}

guint tt_writer_pending(tt_writer *writer)
{
    g_return_val_if_fail(writer != NULL, 0);

    return (guint)g_atomic_int_get(&writer->pending);
}

void tt_writer_flush(tt_writer *writer)
{
    g_return_if_fail(writer != NULL);
    g_return_if_fail(g_thread_self() != writer->thread);

    g_mutex_lock(&writer->lock);
    guint64 target = writer->queued;
    while (writer->ran < target)
        g_cond_wait(&writer->done, &writer->lock);
    g_mutex_unlock(&writer->lock);
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
