/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writer.h - the writer thread: disk work off the reception path.
 *
 * Plugins hand finished buckets over as jobs (host->submit); one thread runs
 * them in order. Submitting never drops; it blocks only when the queue holds
 * the limit set with tt_writer_set_limit() (backpressure: memory stays
 * bounded when a replay outruns the disk). Its depth is exported so lag is
 * visible (log + stats).
 */
#ifndef TT_WRITER_H
#define TT_WRITER_H

#include <glib.h>

#include <teiten/plugin.h>

typedef struct tt_writer tt_writer;

/** Start the thread. (transfer full) */
tt_writer *tt_writer_new(void);
/** Queue @a run(@a data); @a free_fn(@a data) after it ran. Thread-safe. */
void tt_writer_submit(tt_writer *writer, tt_job_fn run, void *data, GDestroyNotify free_fn);
/**
 * Bound the queue: tt_writer_submit() from any thread but the writer's waits
 * while @a limit jobs are pending (0, the default, never waits).
 */
void tt_writer_set_limit(tt_writer *writer, guint limit);
/** Submissions that waited for room, and for how long in all (µs). */
guint64 tt_writer_stalls(tt_writer *writer, gint64 *stalled_us);
/** Jobs queued and not yet finished. */
guint tt_writer_pending(tt_writer *writer);
/** Block until every job queued so far has run. */
void tt_writer_flush(tt_writer *writer);
/** Run what is queued, stop and join the thread. NULL is a no-op. */
void tt_writer_free(tt_writer *writer);

#endif
