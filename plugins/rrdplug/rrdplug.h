/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rrdplug.h - what the port, country and total plugins share: a keyed
 * accumulator (flat counter arrays plus a bounded set of distinct sources)
 * and the bucket life cycle that turns closed buckets into RRD steps through
 * the host's RRD services. Compiled into each of the three plugins (never a
 * library of its own: plugins link nothing but GLib).
 *
 * An open bucket is dense (a counter per key, recycled from bucket to
 * bucket); a closed one is a snapshot of the keys it touched (rrdplug_snap),
 * so a close costs what the bucket touched, never the key space.
 *
 * A plugin describes its dimension (rrdplug_dim): how many keys, which key a
 * flow counts under, which file a key is written to, and which schema.
 */
#ifndef TT_RRDPLUG_H
#define TT_RRDPLUG_H

#include <teiten/plugin.h>

#define RRDPLUG_NO_KEY UINT32_MAX

/* Which of the collector's keys (tt_flow_keys, ABI 1.5) a dimension's key is. */
typedef enum rrdplug_by {
    RRDPLUG_BY_NONE = 0, /* one key, 0 (total) */
    RRDPLUG_BY_PORT,     /* the port slot: TCP and UDP ports as they are, ICMP and ICMPv6 in
                          * one key (RRDPLUG_PORT_ICMP), other protocols in none */
    RRDPLUG_BY_COUNTRY,  /* the country index */
} rrdplug_by;

/* The port dimension's key of ICMP and ICMPv6 (after the TCP and UDP slots). */
#define RRDPLUG_PORT_ICMP TT_SLOT_PROTO

typedef struct rrdplug_dim {
    const char *name;           /* plugin name, for messages */
    uint32_t nkeys;             /* keys are 0 .. nkeys-1 */
    gboolean always_per_sensor; /* total: per-sensor files are not optional */
    tt_rrd_kind kind;           /* of the all-sensor files */
    tt_rrd_kind sensor_kind;    /* of the per-sensor files */
    /** The key @a flow counts under, or RRDPLUG_NO_KEY (on_flow, on_flows). */
    uint32_t (*key)(const tt_flow *flow);
    /** The same key from the collector's keys (on_flows_keyed): must agree with key(). */
    rrdplug_by by;
    /** File of @a key below DATA/rrd (or below sensor/NAME/) into @a buf. */
    void (*path)(uint32_t key, char *buf, size_t size);
} rrdplug_dim;

gboolean rrdplug_init(const rrdplug_dim *dim, const tt_host *host, GKeyFile *config,
                      const char *group, void **state, GError **error);
void rrdplug_fini(void *state);
void *rrdplug_bucket_open(void *state, const tt_bucket *bucket);
void rrdplug_on_flow(void *state, void *acc, const tt_flow *flow);
/** A run of flows of one open bucket: hash all, prefetch, then count (ABI 1.2). */
void rrdplug_on_flows(void *state, void *acc, const tt_flow *flows, size_t n);
/** The same with the collector's keys (ABI 1.5): no hashing, no key function. */
void rrdplug_on_flows_keyed(void *state, void *acc, const tt_flow *flows, const tt_flow_keys *keys,
                            size_t n);
void rrdplug_bucket_close(void *state, void *acc, const tt_bucket *bucket);
void rrdplug_all_closed(void *state, int64_t start, int64_t end);

/* The accumulators, public for the unit tests. */
typedef struct rrdplug_counter {
    uint64_t flows;
    uint64_t packets;
    uint64_t bytes;
    uint32_t sources; /* distinct (key, source) pairs seen; a lower bound once saturated */
    uint32_t touched; /* non-zero once the key had a flow */
} rrdplug_counter;

/* An open bucket: dense over the keys, recycled (dispatch thread only). */
typedef struct rrdplug_acc rrdplug_acc;
rrdplug_acc *rrdplug_acc_new(uint32_t nkeys, uint32_t sources_max);
void rrdplug_acc_free(rrdplug_acc *acc);
void rrdplug_acc_add(rrdplug_acc *acc, uint32_t key, const tt_flow *flow);
const rrdplug_counter *rrdplug_acc_get(const rrdplug_acc *acc, uint32_t key);
gboolean rrdplug_acc_saturated(const rrdplug_acc *acc);
/** Keys touched since the last rrdplug_snap_take (or since new). */
uint32_t rrdplug_acc_touched(const rrdplug_acc *acc);

/* A closed bucket: its touched keys ascending, their counters, its distinct pairs. */
typedef struct rrdplug_snap rrdplug_snap;
/**
 * What @a acc holds as a closed bucket (transfer full); @a acc is left empty
 * for the next bucket, clearing only the slots it touched. Costs what the
 * bucket touched, never the key space.
 */
rrdplug_snap *rrdplug_snap_take(rrdplug_acc *acc);
/** The all-sensor sum of @a n snapshots: counts added, sources merged as sets (transfer full). */
rrdplug_snap *rrdplug_snap_merge(rrdplug_snap *const *snaps, guint n);
const rrdplug_counter *rrdplug_snap_get(const rrdplug_snap *snap, uint32_t key);
gboolean rrdplug_snap_saturated(const rrdplug_snap *snap);
void rrdplug_snap_unref(rrdplug_snap *snap);

/*
 * The plugin table and entry point of an RRD plugin over dimension DIM (a
 * static const rrdplug_dim): every RRD plugin is the same five callbacks.
 */
#define RRDPLUG_DEFINE(PREFIX, NAME, DESCRIPTION, DIM)                                             \
    static gboolean PREFIX##_init(const tt_host *host, GKeyFile *config, const char *group,        \
                                  void **state, GError **error)                                    \
    {                                                                                              \
        return rrdplug_init(&(DIM), host, config, group, state, error);                            \
    }                                                                                              \
    static const tt_plugin_info PREFIX##_info = {                                                  \
        TT_PLUGIN_HEADER(NAME, "1.0", DESCRIPTION),                                                \
        .init = PREFIX##_init,                                                                     \
        .fini = rrdplug_fini,                                                                      \
        .bucket_open = rrdplug_bucket_open,                                                        \
        .on_flow = rrdplug_on_flow,                                                                \
        .bucket_close = rrdplug_bucket_close,                                                      \
        .all_closed = rrdplug_all_closed,                                                          \
        .on_flows = rrdplug_on_flows,                                                              \
        .on_flows_keyed = rrdplug_on_flows_keyed,                                                  \
    };                                                                                             \
    TT_PLUGIN_EXPORT const tt_plugin_info *tt_plugin_entry(void);                                  \
    TT_PLUGIN_EXPORT const tt_plugin_info *tt_plugin_entry(void)                                   \
    {                                                                                              \
        return &PREFIX##_info;                                                                     \
    }

#endif
