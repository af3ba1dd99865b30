/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * counters.h - a snapshot of the collector's counters, copied by the core.
 *
 * The core counts; stats.c formats, health.c feeds the self RRD and loss.c
 * lists the losses. They read this copy, taken by the core when it needs them
 * (a tick, a closed step, the stop), and never call back into the core: the
 * include graph stays one way (core -> health, stats, loss -> counters).
 * Only the exporters' counters are read in place, through the decoder, on the
 * core's thread, as before.
 */
#ifndef TT_COUNTERS_H
#define TT_COUNTERS_H

#include <glib.h>
#include <stdint.h>

#include "decode.h"
#include "store.h"
#include "writer.h"

/** Per-sensor counters, as written to stats.json. */
typedef struct tt_sensor_stats {
    uint64_t records;     /* records that reached the sensor */
    uint64_t observed;    /* flows to dark space, handed to plugins */
    uint64_t leaks;       /* flows to lit space or without a destination */
    uint64_t late;        /* observed flows older than the closed buckets */
    uint64_t too_old;     /* dark flows older than watermark - longest archive: refused */
    uint64_t packets;     /* sampling-corrected, observed */
    uint64_t raw_packets; /* as exported, observed */
    int64_t max_lag_ms;   /* how far behind the watermark a record arrived, at most */
    uint64_t unconfirmed; /* dark flows of a clock jump contradicted (or past the hold): refused */
    uint64_t held;        /* dark flows held now for a jump being corroborated */
    uint64_t clock_jumps; /* corroborated jumps of the watermark beyond the window */
    uint64_t clock_reanchored; /* an uncorroborated start of the clock moved back */
    uint64_t saturated;        /* flows whose sampling-corrected count was held at 2^53 */
} tt_sensor_stats;

/** What stats.json reports of the health (health.h); a consistent copy (tt_health_get). */
typedef struct tt_health_stats {
    uint64_t lag_steps;     /* closed steps queued to the writer and not yet written */
    uint64_t lag_max;       /* the most lag_steps ever was */
    uint64_t lag_warnings;  /* times lag_steps rose past writer-lag-warn */
    uint32_t lag_warn;      /* the configured threshold */
    uint64_t self_steps;    /* self RRD steps queued */
    tt_rrd_store_stats rrd; /* the store's counters after the last writer job */
} tt_health_stats;

/** One sensor of the configuration, by index. */
typedef struct tt_sensor_counters {
    const char *name;      /* borrowed from the core's sensor table; NULL: no sensor here */
    gboolean has_state;    /* it has counted something (else stats is all 0) */
    tt_sensor_stats stats; /* its counters */
    gboolean started;      /* has sent a flow: the clock below is set */
    int64_t watermark_ms;
    int64_t closed_until; /* seconds */
    gboolean silent;
} tt_sensor_counters;

/** The snapshot. Filled and cleared by the core (core.c); read-only for the rest. */
typedef struct tt_counters {
    uint64_t records_in;
    tt_decoder *decoder; /* borrowed: its exporters are read in place (core thread) */
    GArray *sensors;     /* tt_sensor_counters, by sensor index (owned) */
    gboolean has_store;  /* FALSE under --check-config: no health, and the fields below are 0 */
    tt_health_stats health;
    tt_writer_stats writer;
    uint64_t writer_backlog;    /* `writer-backlog` in force */
    uint64_t store_failures;    /* tt_host.job_failed reports */
    const char *geo_type;       /* the GeoIP database's type, or NULL (borrowed) */
    int64_t geo_build;          /* its build epoch */
    char *listeners_json;       /* the listeners' JSON array, or NULL when not asked (owned) */
    GPtrArray *listener_losses; /* tt_loss (loss.h's list), or NULL when not asked (owned) */
} tt_counters;

#endif
