/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core_private.h - the core's state, shared by its two files and no other.
 *
 * core.c keeps the life cycle (start, reload, tick, stop), the counters'
 * snapshot and the core's part of the host services; dispatch.c keeps the
 * flow path (the sensors' clocks, enrichment, flow-time buckets, plugin
 * dispatch). Both read struct tt_core; everything else sees only core.h.
 * Core thread only, like core.h.
 */
#ifndef TT_CORE_PRIVATE_H
#define TT_CORE_PRIVATE_H

#include <stdint.h>

#include "core.h"
#include "geo.h"
#include "health.h"
#include "plugin_loader.h"
#include "sensor.h"
#include "stats.h"
#include "store.h"
#include "timepolicy.h"

typedef struct {
    int64_t start; /* seconds */
    void **acc;    /* one accumulator per plugin */
} open_bucket;

typedef struct {
    gboolean started; /* has sent at least one observed flow */
    gboolean silent;  /* closed by the host clock; excluded from the global close */
    int64_t watermark_ms;
    int64_t closed_until; /* seconds: every bucket starting before this is closed */
    int64_t last_heard;   /* monotonic seconds: a wall-clock jump neither rushes nor stalls */
    open_bucket *open;    /* sorted by start */
    guint nopen, cap;
    tt_clock_state clock; /* corroboration of the watermark's jumps (timepolicy.h) */
    gboolean held_logged;
    GArray *held;          /* tt_flow beyond an unconfirmed jump, as received; NULL: none */
    const void *held_cand; /* the jump's current source (tt_clock_state.cand) */
    uint32_t held_domain;
    int64_t held_newest; /* newest record start the current source's messages carried */
    tt_sensor_stats stats;
    char *name; /* the sensor's name when a reload removed it: its buckets still close under it */
} sensor_state;

struct tt_core {
    tt_config *config;
    tt_services services; /* the tt_host table given to plugins (host.h) */
    tt_writer *writer;
    tt_rrd_store *rrd; /* DATA/rrd, used by the writer thread only (rrd/store.h) */
    tt_health *health; /* self RRD, writer lag, store counters (health.h) */
    tt_decoder *decoder;
    tt_sensor_table *sensors;
    tt_geo *geo;
    GPtrArray *plugins; /* tt_plugin* */
    GArray *states;     /* sensor_state, by sensor index */
    int64_t step;
    int64_t grace;
    int64_t max_age_ms;         /* longest RRD archive: older than watermark - this is refused */
    tt_clock_rules clock_rules; /* how far the watermark moves uncorroborated */
    int64_t global_closed;      /* seconds; INT64_MIN before the first close */
    int64_t earliest;           /* first bucket start ever opened */
    gboolean stats_dirty;
    int64_t stats_written;    /* host seconds */
    uint64_t stats_records;   /* records_in when stats were last written */
    guint stats_pending;      /* writer_pending in the last snapshot */
    tt_stats_file stats_file; /* DATA/stats.json, in order (stats.h) */
    uint64_t records_in;
    uint64_t unknown_sensor; /* flows whose sensor index vanished in a reload */
    tt_flow_keys *keys;      /* a run's keys for on_flows_keyed (dispatch.c), grown, never shrunk */
    size_t keys_cap;
    const tt_listener_hooks *listeners; /* listen.c's, or NULL (tests, --read) */
    void *listeners_data;
    GPtrArray *listener_losses; /* tt_loss: their last counts, once detached */
    GPtrArray *final_losses;    /* tt_loss: every count, kept when the decoder goes */
    gboolean live;              /* listeners feed it: the writer never makes dispatch wait */
    int64_t stop_deadline;      /* monotonic µs: the writer's work ends by then; 0 = no deadline */
    char *listeners_final; /* the listeners' JSON at the stop: they are freed before the core */
};

/* ---- dispatch.c: the flow path --------------------------------------------- */

/* The decoder's sink (decode.h): one call's flows, offered to the clock, enriched, dispatched. */
void tt_core_sink(void *data, tt_exporter *exporter, uint32_t domain, tt_flow *flows, size_t n);
/**
 * @a sensor's name, also after a reload removed it (its open buckets and late records still
 * belong to it); NULL for an index that never had one.
 */
const char *tt_core_sensor_name(const tt_core *core, uint32_t sensor);
/** Close the open buckets of @a s that start before @a until, oldest first. */
void tt_core_close_before(tt_core *core, uint32_t sensor, sensor_state *s, int64_t until);
/** The range every live sensor has closed, told to the plugins once. */
void tt_core_global_close(tt_core *core);
/**
 * A held jump whose source was not contradicted: corroborated by time at the
 * tick, or by its messages alone at the stop (@a final), then released.
 */
void tt_core_settle(tt_core *core, uint32_t sensor, sensor_state *s, int64_t mono, gboolean final);

/* ---- core.c: the counters' snapshot (counters.h) ------------------------------ */

#define CORE_COUNTERS_LOSSES 1 /* also the listeners' losses (loss.h) */
#define CORE_COUNTERS_JSON 2   /* also the listeners' JSON (stats.json) */

/*
 * Copy the counters into *@a c for stats.c, health.c and loss.c (which never
 * call back into the core); @a flags: CORE_COUNTERS_LOSSES, CORE_COUNTERS_JSON. Clear it with
 * tt_core_counters_clear. Core thread.
 */
void tt_core_counters(tt_core *core, tt_counters *c, unsigned flags);
void tt_core_counters_clear(tt_counters *c);

#endif
