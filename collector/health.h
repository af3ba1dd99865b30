/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * health.h - the collector's own health: the self RRD, writer lag and the
 * RRD store's counters, for stats.json and the log.
 *
 * The core calls in from its one thread, with a copy of its counters (counters.h) (closed steps,
 * ticks, stop); the writer thread calls tt_health_job_done after every job. Everything read across
 * the two threads sits under one mutex. See health.c for the clock the self RRD follows and
 * docs/storage.md for the operator's view.
 */
#ifndef TT_HEALTH_H
#define TT_HEALTH_H

#include <glib.h>
#include <stdint.h>

#include "counters.h"
#include "store.h"
#include "writer.h"

typedef struct tt_health tt_health;

/** @a writer and @a rrd are borrowed and must outlive the health. (transfer full) */
tt_health *tt_health_new(tt_writer *writer, tt_rrd_store *rrd, int64_t step, uint32_t lag_warn);
/** After the writer was freed. NULL is a no-op. */
void tt_health_free(tt_health *health);

/**
 * Every live sensor closed [@a from, @a until) (stream time): queue the self
 * RRD step ending at @a until and a lag marker for the steps of the range,
 * then check the lag. Core thread.
 */
void tt_health_closed(tt_health *health, const tt_counters *c, int64_t from, int64_t until);
/**
 * Stop: counts that moved since the last self step (late records after the
 * last close) go into the step [@a closed, @a closed + step). Core thread.
 */
void tt_health_stop(tt_health *health, const tt_counters *c, int64_t closed);
/**
 * Live listeners (TRUE) or `--read` (FALSE, the default): reading files
 * outruns the disk by design, so there a lag past the threshold is an
 * informational message, not a warning; it is counted either way.
 */
void tt_health_set_live(tt_health *health, gboolean live);
/** Host-clock check of the lag (log when it is over or back). Core thread. */
void tt_health_tick(tt_health *health, int64_t now);
/** After every writer job: snapshot the store's counters. Writer thread. */
void tt_health_job_done(tt_health *health);
/** Any thread. */
void tt_health_get(tt_health *health, tt_health_stats *out);

#endif
