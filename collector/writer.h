/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writer.h - the writer thread: disk work off the reception path.
 *
 * Plugins hand finished buckets over as jobs (host->submit); one thread runs
 * them in order. The backlog is bounded twice: in jobs (tt_writer_set_limit)
 * and in bytes (tt_writer_set_backlog, what the jobs' data holds). Past a
 * bound a submission either waits (`--read`: nothing is lost by waiting) or,
 * when it may be refused (live reception, tt_writer_submit_sized with
 * may_refuse), is refused and counted: the dispatch thread never waits for
 * the writer while sockets are to be read. Depth, bytes, peak and refusals
 * are exported so lag and loss are visible (log + stats).
 */
#ifndef TT_WRITER_H
#define TT_WRITER_H

#include <glib.h>

#include <teiten/plugin.h>

typedef struct tt_writer tt_writer;

/** Counters of one writer, copied by tt_writer_get_stats(). */
typedef struct tt_writer_stats {
    guint64 pending_jobs;  /* queued and not finished */
    guint64 pending_bytes; /* their declared bytes */
    guint64 peak_jobs;     /* most pending at once */
    guint64 peak_bytes;    /* most pending bytes at once */
    guint64 refused_jobs;  /* refused past the backlog bound: their data is lost */
    guint64 refused_bytes;
    guint64 lost_jobs; /* discarded unrun at a stop deadline (tt_writer_discard) */
    guint64 lost_bytes;
    guint64 stalls;    /* submissions that waited for room */
    gint64 stalled_us; /* time they waited in all */
} tt_writer_stats;

/** Start the thread. (transfer full) */
tt_writer *tt_writer_new(void);
/**
 * Queue @a run(@a data); @a free_fn(@a data) after it ran. Thread-safe.
 * Never refused; waits for room only in waiting mode (see tt_writer_set_backlog).
 */
void tt_writer_submit(tt_writer *writer, tt_job_fn run, void *data, GDestroyNotify free_fn);
/**
 * As tt_writer_submit, declaring the @a bytes @a data holds. Past a bound,
 * a job with @a may_refuse set is refused when the writer does not wait
 * (live): @a free_fn(@a data) is called at once, the job and its bytes are
 * counted as refused, and FALSE is returned. The writer thread itself is
 * never made to wait nor refused (a job may queue another).
 */
gboolean tt_writer_submit_sized(tt_writer *writer, tt_job_fn run, void *data,
                                GDestroyNotify free_fn, gsize bytes, gboolean may_refuse);
/**
 * @a background (live reception): the thread runs its jobs at nice 10, so a
 * receiver sharing its core keeps most of it; else (the default, `--read`) at
 * nice 0. Taken before the next job. Any thread.
 */
void tt_writer_set_nice(tt_writer *writer, gboolean background);
/** Bound the queue to @a limit jobs (0, the default: no bound in jobs). */
void tt_writer_set_limit(tt_writer *writer, guint limit);
/**
 * The idle hook: @a force when a flush or a drain waits (do everything now).
 * Returns 0, or the microseconds after which it wants to be called again if
 * no job comes first (it put work off to gather more).
 */
typedef gint64 (*tt_writer_idle_fn)(void *data, gboolean force);
/**
 * Run @a idle(@a data, force) on the writer thread after a job when no other
 * job is queued, or when a tt_writer_flush or tt_writer_drain waits, before
 * that job counts as finished (so flush and drain return after it). NULL: none.
 */
void tt_writer_set_idle(tt_writer *writer, tt_writer_idle_fn idle, void *data);
/**
 * Bound the queue to @a max_bytes (0, the default: no bound in bytes). With
 * @a wait, a submission past either bound waits for room; without, one that
 * may be refused is refused and the others are queued anyway.
 */
void tt_writer_set_backlog(tt_writer *writer, guint64 max_bytes, gboolean wait);
/** Submissions that waited for room, and for how long in all (µs). */
guint64 tt_writer_stalls(tt_writer *writer, gint64 *stalled_us);
/** Jobs queued and not yet finished. */
guint tt_writer_pending(tt_writer *writer);
/** Copy the counters. Any thread. */
void tt_writer_get_stats(tt_writer *writer, tt_writer_stats *out);
/** Block until every job queued so far has run. */
void tt_writer_flush(tt_writer *writer);
/**
 * Wait until the queue is empty and idle, or until @a deadline_us
 * (g_get_monotonic_time() clock); @a progress(jobs, bytes, @a data) is
 * called about once a second while it waits (may be NULL). Returns TRUE when
 * everything ran. Not from the writer thread.
 */
gboolean tt_writer_drain(tt_writer *writer, gint64 deadline_us,
                         void (*progress)(guint64 jobs, guint64 bytes, void *data), void *data);
/**
 * Drop every job still queued without running it (their free_fn runs), wait
 * for the job in progress, count the dropped ones as lost. Returns how many
 * were dropped, their bytes in *@a bytes (may be NULL). Not from the writer thread.
 */
guint64 tt_writer_discard(tt_writer *writer, guint64 *bytes);
/** Run what is queued, stop and join the thread. NULL is a no-op. */
void tt_writer_free(tt_writer *writer);

#endif
