/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rollup.h - shared between the rollup plugin's callbacks (rollup.c, the
 * dispatch thread) and its SQLite store (rollup_store.c, the writer thread).
 *
 * A closed bucket travels from one to the other as a rollup_acc: the
 * counters it counted (class, protocol and port, country), sorted by key,
 * its distinct-source sketches (overall and per country seen), the minutes
 * heard, the sampling rates seen, and the late records delivered since the
 * sensor's previous close. The store turns it into one transaction.
 * Internal to the plugin: nothing here is ABI.
 */
#ifndef TT_ROLLUP_H
#define TT_ROLLUP_H

#include <sqlite3.h>
#include <teiten/plugin.h>

#include "rollup_hll.h" /* the sketch, shared with `teiten rank` */

/* TCP ports, UDP ports, then every other protocol by number. */
#define ROLLUP_PORT_SLOTS (2 * 65536 + 256)
#define ROLLUP_SLOT_UDP 65536
#define ROLLUP_SLOT_PROTO (2 * 65536)
#define ROLLUP_MAX_RATES 8
/* Bits of a bucket's minutes-heard bitmap (a guint32; a bucket spans <= 16 minutes). */
#define ROLLUP_MINUTE_BITS 32

typedef struct rollup_counter {
    guint64 flows;   /* sampling-corrected: records x 1-in-N */
    guint64 packets; /* sampling-corrected */
    guint64 bytes;   /* sampling-corrected */
    guint64 records; /* as exported */
} rollup_counter;

/* One late record and the start of the (closed) bucket it belongs to. */
typedef struct rollup_late {
    tt_flow flow;
    gint64 bucket_start;
} rollup_late;

/* Losses counted since the previous close (tt_host.loss_foreach differences). */
typedef struct rollup_loss {
    char *scope;
    char *name;
    char *reason;
    char *unit;
    guint64 count;
} rollup_loss;

typedef struct rollup_store rollup_store;
typedef struct rollup_acc rollup_acc;

/* One counter of a closed bucket that counted records. */
typedef struct rollup_item {
    guint32
        key; /* port: class x ROLLUP_PORT_SLOTS + slot; country: class x TT_COUNTRY_SLOTS + index */
    rollup_counter c;
} rollup_item;

/*
 * A bucket of at most ROLLUP_SPARSE_SOURCES flows carries its sources' hashes
 * and country indexes instead of its sketches (4 KiB each, one per country
 * and one overall): a sparse replay's writer backlog held 8-16 KiB of mostly
 * zero registers per bucket. The store adds the hashes to the stored sketches:
 * the registers are the same either way.
 */
#define ROLLUP_SPARSE_SOURCES 32
typedef struct rollup_src {
    guint64 h;  /* rollup_hash_addr of the source */
    guint32 ci; /* its country index */
} rollup_src;

/* One country's distinct-source sketch of a closed bucket. */
typedef struct rollup_sketch {
    guint ci; /* country index */
    guint8 regs[ROLLUP_HLL_M];
} rollup_sketch;

/*
 * A closed bucket on its way to the store: only what it counted (the open
 * bucket's dense arrays stay in rollup.c, recycled), keys ascending, so the
 * rows go in the order a walk of the dense arrays gave.
 */
struct rollup_acc {
    rollup_counter total[TT_CLASS_COUNT];
    rollup_item *ports; /* ascending key */
    guint nports;
    rollup_item *countries; /* ascending key */
    guint ncountries;
    rollup_sketch *sketches; /* ascending country; none when srcs is used */
    guint nsketches;
    guint8 *hll;      /* ROLLUP_HLL_M registers, or NULL: srcs instead (or no flow) */
    rollup_src *srcs; /* every flow's source when observed <= ROLLUP_SPARSE_SOURCES */
    guint nsrcs;
    guint32 minutes; /* bit i: a flow started in minute floor(start/60) + i */
    guint32 rates[ROLLUP_MAX_RATES];
    guint64 rate_records[ROLLUP_MAX_RATES];
    guint nrates;
    guint64 observed;

    /* Set when the bucket closes (or, for a late-only batch, at fini). */
    gboolean has_bucket;
    gint64 start;
    gint64 end;
    char *sensor;
    gboolean has_info; /* the host reported the fields below */
    guint64 leaks;     /* leaks since the sensor's previous close */
    guint64 dark_size;
    char *geoip_type;
    gint64 geoip_build;
    GArray *late;        /* rollup_late, or NULL */
    rollup_store *store; /* a reference while the job is queued */
    const tt_host *host; /* to report a failed commit (ABI 1.4) */
    /* tt_host.replaying at the close: skip the transaction when the database
     * already has (sensor, start); its late records rode in that commit too */
    gboolean replay;
    /* rollup_loss to add to the loss table on the day of loss_day, or NULL */
    GArray *loss;
    gint64 loss_day;
};

/* 64-bit hash of a source address: the same in every collector, so sketches merge
 * (tt_addr_hash, which the collector's keys carry as src_hash). */
guint64 rollup_hash_addr(const guint8 addr[16]);

/* The slots are the collector's port slots (tt_flow_keys.slot, ABI 1.5). */
G_STATIC_ASSERT(ROLLUP_PORT_SLOTS == TT_SLOTS && ROLLUP_SLOT_UDP == TT_SLOT_UDP &&
                ROLLUP_SLOT_PROTO == TT_SLOT_PROTO);

/*
 * Where one flow is counted: its class, port slot, country index and source
 * hash. The one definition for on_flow (which computes it before counting, so
 * on_flows can prefetch a chunk's cache lines first) and the store's late
 * records, so a record lands in the same rows whichever way it comes.
 */
typedef struct rollup_pos {
    guint cls;  /* out-of-range classes count as TT_CLASS_OTHER */
    guint slot; /* TCP port, ROLLUP_SLOT_UDP + UDP port, ROLLUP_SLOT_PROTO + protocol */
    guint ci;   /* tt_country_index: invalid codes count as ZZ */
    guint64 h;  /* source hash, for both sketches */
} rollup_pos;

/* The position the collector's keys (ABI 1.5) give: the same fields, computed once. */
static inline rollup_pos rollup_pos_keyed(const tt_flow_keys *k)
{
    rollup_pos p = {.cls = k->cls, .slot = k->slot, .ci = k->country, .h = k->src_hash};
    return p;
}

static inline rollup_pos rollup_pos_of(const tt_flow *flow)
{
    tt_flow_keys k;
    tt_flow_keys_of(flow, &k);
    return rollup_pos_keyed(&k);
}

/*
 * Open (creating) the database @a path for time zone @a tz_name and step @a
 * step. A database recorded with another zone is refused: days already
 * stored cannot be re-cut. (transfer full)
 */
rollup_store *rollup_store_open(const char *path, const char *tz_name, gint64 step, GError **error);
rollup_store *rollup_store_ref(rollup_store *store);
void rollup_store_unref(rollup_store *store);
/* An empty closed bucket (a batch of late records or losses alone). (transfer full) */
rollup_acc *rollup_store_take_acc(rollup_store *store);
/* Free @a acc and what it holds; drops its store reference. */
void rollup_store_give_acc(rollup_acc *acc);
/*
 * Writer thread: store @a acc under its own savepoint, inside the batch's
 * transaction (begun by the first bucket of a batch). On failure that bucket
 * is rolled back, its records counted as a loss (rolled_back) and FALSE
 * returned with @a error saying which bucket and why (the job reports it:
 * tt_host.job_failed). The batch is committed by rollup_store_end.
 */
gboolean rollup_store_commit(rollup_store *store, rollup_acc *acc, GError **error);
/*
 * Commit the open batch (nothing open: TRUE). When the COMMIT fails every
 * bucket of the batch is rolled back and owed as rolled_back, and FALSE
 * returned with @a error. Writer thread; the store's last unref ends it too.
 */
gboolean rollup_store_end(rollup_store *store, GError **error);
/*
 * Batches follow the writer's queue: each job handed over is counted
 * (rollup_store_queue, +1 before the submit, -1 when the submit refused it),
 * and a job that ran asks rollup_store_ran whether its batch should end:
 * TRUE when no other job of this store is queued behind it (the writer's
 * queue has run dry of them: live, every bucket commits at once) or when the
 * batch holds ROLLUP_BATCH_MAX buckets, or ROLLUP_HELD_MAX counter rows summed
 * in memory (rollup_store.c; ~40 bytes each, twice while merging: a batch of
 * many sensors' dense buckets stays under ~200 MB).
 */
#define ROLLUP_BATCH_MAX 256
#define ROLLUP_HELD_MAX (2u * 1000 * 1000)
void rollup_store_queue(rollup_store *store, gint n);
gboolean rollup_store_ran(rollup_store *store);

#endif
