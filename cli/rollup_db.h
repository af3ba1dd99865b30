/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rollup_db.h - read the rollup plugin's DATA/rollup.sqlite (cli side).
 *
 * Read-only connections that take one read transaction (a WAL snapshot) for
 * everything a report asks, so a running collector keeps committing while
 * `teiten rank` reads, and the report never mixes two states of the file.
 */
#ifndef TT_ROLLUP_DB_H
#define TT_ROLLUP_DB_H

#include <glib.h>
#include <stdint.h>

#include "rollup_hll.h" /* plugins/common: the sketch format the plugin writes */

typedef struct tt_rank_counts {
    guint64 flows;
    guint64 packets;
    guint64 bytes;
    guint64 records;
} tt_rank_counts;

typedef struct tt_rollup_db tt_rollup_db;

/** Open @a path read-only and begin its snapshot; reads its time zone. (transfer full) */
tt_rollup_db *tt_rollup_db_open(const char *path, GError **error);
void tt_rollup_db_free(tt_rollup_db *db);
/** The time zone the database cuts days in. (transfer none) */
const char *tt_rollup_db_timezone(const tt_rollup_db *db);
const char *tt_rollup_db_path(const tt_rollup_db *db);

/**
 * Add the counters of dimension @a dim ("port", "country", "total") over the
 * local days [@a from, @a to] ("YYYY-MM-DD") to @a sums (key string ->
 * tt_rank_counts*, created with g_free destructors). @a cls and @a sensor
 * filter when not NULL.
 */
gboolean tt_rollup_db_sum(tt_rollup_db *db, const char *dim, const char *from, const char *to,
                          const char *cls, const char *sensor, GHashTable *sums, GError **error);

/**
 * Max-merge the distinct-source sketches of [@a from, @a to] into @a sketches
 * (country code, "" for all sources -> ROLLUP_HLL_M bytes).
 */
gboolean tt_rollup_db_sources(tt_rollup_db *db, const char *from, const char *to,
                              const char *sensor, GHashTable *sketches, GError **error);

/** HyperLogLog estimate of one sketch. */
double tt_rollup_hll_estimate(const guint8 *regs);

/** One sensor's day (table sensor_day). */
typedef struct tt_rollup_day {
    char day[11];
    char *sensor; /* (transfer full) */
    guint64 buckets, records, leaks, late, coverage_min;
} tt_rollup_day;

/** One sampling rate or GeoIP database a sensor's records went through over a period. */
typedef struct tt_rollup_fact {
    char *sensor;             /* (transfer full) */
    char *type;               /* GeoIP database type; NULL for sampling */
    gint64 value;             /* the 1-in-N rate, or the GeoIP build epoch */
    guint64 records;          /* sampling: records at that rate; GeoIP: days it was used */
    char first[11], last[11]; /* days it was seen */
} tt_rollup_fact;

/** A GArray for tt_rollup_db_days, clearing its elements. (transfer full) */
GArray *tt_rollup_days_new(void);
/** A GArray for tt_rollup_db_sampling / _geoip, clearing its elements. (transfer full) */
GArray *tt_rollup_facts_new(void);

/** Append the sensor days of [@a from, @a to] to @a days, by day then sensor. */
gboolean tt_rollup_db_days(tt_rollup_db *db, const char *from, const char *to, GArray *days,
                           GError **error);
/** Append the sampling rates of [@a from, @a to] per sensor to @a facts. */
gboolean tt_rollup_db_sampling(tt_rollup_db *db, const char *from, const char *to, GArray *facts,
                               GError **error);
/** Append the GeoIP databases of [@a from, @a to] per sensor to @a facts. */
gboolean tt_rollup_db_geoip(tt_rollup_db *db, const char *from, const char *to, GArray *facts,
                            GError **error);

/** Append the names of the sensors @a db has days of to @a names (of char*), once each. */
gboolean tt_rollup_db_sensors(tt_rollup_db *db, GPtrArray *names, GError **error);

/** One loss counter summed over a period (table loss, docs/storage.md). */
typedef struct tt_rollup_loss {
    char *scope, *name, *reason, *unit; /* (transfer full) */
    guint64 count;
} tt_rollup_loss;

/** A GArray for tt_rollup_db_losses, clearing its elements. (transfer full) */
GArray *tt_rollup_losses_new(void);
/**
 * Add the losses of [@a from, @a to] to @a losses, summed per scope, name and
 * reason (rows already in @a losses, from another database, grow). With
 * @a sensor, other sensors' own losses are left out; losses of listeners,
 * exporters and stores, which belong to no one sensor, are kept. *@a recorded
 * is set FALSE when the database predates the loss table (nothing was counted).
 */
gboolean tt_rollup_db_losses(tt_rollup_db *db, const char *from, const char *to, const char *sensor,
                             GArray *losses, gboolean *recorded, GError **error);

#endif
