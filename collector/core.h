/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core.h - enrichment, flow-time buckets and plugin dispatch.
 *
 * The core owns the sensors, the GeoIP handle, the plugins, the writer
 * thread and the decoder; listeners only move bytes into the decoder, whose
 * flows come back to the core (dispatch.c) to be enriched once and dispatched.
 * Everything here runs on one thread (the main loop's).
 */
#ifndef TT_CORE_H
#define TT_CORE_H

#include <glib.h>
#include <teiten/plugin.h>

#include "config.h"
#include "counters.h"
#include "decode.h"
#include "host.h"
#include "writer.h"

typedef struct tt_core tt_core;

/**
 * Build the core from @a config (the core keeps a reference; the caller keeps
 * ownership until tt_core_free). Opens GeoIP, loads and initialises plugins,
 * starts the writer. (transfer full)
 */
tt_core *tt_core_new(tt_config *config, GError **error);
/**
 * The same for `teitend --check-config`: every key and plugin group is
 * validated, nothing is created or written (no data directory, RRD store,
 * rollup database or jsonl file; plugins see tt_host.checking). Only
 * tt_core_free may follow. (transfer full)
 */
tt_core *tt_core_new_checking(tt_config *config, GError **error);
/**
 * Free the core. After tt_core_stopping() the writer's queue is given until
 * the deadline (`stop-timeout`), with a progress line each second; RRD lines
 * not sent by then are journaled, jobs not run are counted as lost, and a
 * last stats.json is written. Without it (--read) every job runs.
 */
void tt_core_free(tt_core *core);
/**
 * tt_core_free, handing over the failures of every job, fini's included
 * (they are final only once the writer is joined, inside the free), in
 * *@a out; clear it with tt_core_failures_clear(). @a out may be NULL.
 */
void tt_core_free_failures(tt_core *core, tt_core_failures *out);
/** SIGTERM: the stop's deadline is now + `stop-timeout`. Call before tt_core_close_all. */
void tt_core_stopping(tt_core *core);

tt_decoder *tt_core_decoder(tt_core *core);
/** Index of sensor @a name, or TT_SENSOR_NONE. */
uint32_t tt_core_sensor_index(tt_core *core, const char *name);

/** Host-clock housekeeping: close the buckets of sensors gone silent, write stats when due. */
void tt_core_tick(tt_core *core, int64_t now);
/** Close every open bucket of every sensor (SIGTERM, end of --read). */
void tt_core_close_all(tt_core *core);
/**
 * Apply a new configuration: sensors, allow-list and GeoIP (opened first,
 * swapped only on success). Listeners, plugins and step need a restart; a
 * change there is reported and ignored. On error nothing changes.
 * On success the core takes @a config (transfer full).
 */
gboolean tt_core_reload(tt_core *core, tt_config *config, GError **error);

/** Write DATA/stats.json now (through the writer thread). */
void tt_core_write_stats(tt_core *core);
/** Log a one-screen summary (SIGUSR1). */
void tt_core_log_stats(tt_core *core);
/** What the listeners give the core (listen.c registers them, the core calls them). */
typedef struct tt_listener_hooks {
    /** Append the listeners' JSON array to the stats. */
    void (*stats_json)(GString *json, void *data);
    /** Read the sockets' own drop counters now (each tick, and before the stop's close). */
    gboolean (*refresh)(void *data); /* TRUE when a counter moved */
    /** Report the listeners' loss counters (tt_host.loss_foreach). */
    void (*loss_foreach)(void *data, tt_loss_fn fn, void *fn_data);
} tt_listener_hooks;
/** Register the listeners' hooks; @a hooks must outlive the core. */
void tt_core_set_listeners(tt_core *core, const tt_listener_hooks *hooks, void *data);
/**
 * The listeners are going away (before the core, at the stop): read their drop
 * counters a last time and keep their losses, so the plugins' fini still sees
 * them. The hooks are not called again.
 */
void tt_core_detach_listeners(tt_core *core);
/** The listeners' losses: live while registered, their last counts once detached. */
void tt_core_listener_loss(tt_core *core, tt_loss_fn fn, void *data);
/** Every loss counter that is not 0, cumulative (loss.h; tt_host.loss_foreach). */
void tt_core_loss_foreach(tt_core *core, tt_loss_fn fn, void *data);
const tt_sensor_stats *tt_core_sensor_stats(tt_core *core, uint32_t sensor);
/** Wait until the writer has run every job queued so far. */
void tt_core_flush(tt_core *core);
/**
 * Replay mode (tt_host.replaying): set by `--read` before reading files the
 * stores may already hold (a resumed crash, --force); stores then skip the
 * buckets they already committed. Off by default; set it before any flow.
 */
void tt_core_set_replay(tt_core *core, gboolean replay);

/** Records received so far (the --read progress line). */
uint64_t tt_core_records_in(tt_core *core);
/** The clock of @a sensor; FALSE before its first flow. */
gboolean tt_core_sensor_clock(tt_core *core, uint32_t sensor, int64_t *watermark_ms,
                              int64_t *closed_until, gboolean *silent);

#endif
