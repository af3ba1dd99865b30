/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * teiten/plugin.h - the plugin ABI.
 *
 * A plugin is a shared object exporting exactly one symbol, tt_plugin_entry(),
 * which returns a pointer to a static const tt_plugin_info. The loader checks
 * abi_major (must equal TT_PLUGIN_ABI_MAJOR), struct_size (at least the size of
 * the version-1.0 table) and the mandatory callbacks before it publishes the
 * plugin; a table that fails any check is refused with a message naming the
 * file. The table only grows at its end: a new optional callback bumps
 * abi_minor, and the host reads it only when struct_size covers it.
 *
 * Life cycle of one instance ([plugin:NAME] group of the daemon's key file):
 *
 *   init()                       once; validates its own keys, unknown keys are errors
 *   for every bucket of every sensor:
 *     bucket_open()              before the first flow of (sensor, bucket); may allocate
 *     on_flow() ...              accumulate only: no I/O, no allocation, no error path
 *                                (or on_flows(), ABI 1.2: a run of them at once;
 *                                or on_flows_keyed(), ABI 1.5: a run with its keys)
 *     bucket_close()             hand the finished bucket to the writer via host->submit()
 *   on_late_flow()               a record older than the sensor's closed buckets
 *   all_closed()                 (optional) every live sensor has passed a bucket
 *   fini()                       once, after every bucket was closed; must submit what it holds
 *
 * Failures (ABI 1.4): a job that could not store what it was given (a
 * rolled-back transaction, a refused RRD update, a short write) says so with
 * tt_host_job_failed(). The host counts it, and `teitend --read` then keeps
 * the files it read out of its ingest ledger and exits non-zero, so a second
 * read stores what is missing. A job that reports nothing has succeeded.
 *
 * Threading: callbacks of one instance are never concurrent: the collector
 * calls every one of them from its single dispatch thread (the one that
 * bins flows and opens and closes buckets), so instance state needs no
 * locking of its own; no lock is held around them. Jobs given to host->submit() run
 * later, in order, on the writer thread, never concurrently with each other.
 * Plugins keep all state in their instance (no mutable globals) and call no
 * daemon symbol: everything they need is in tt_host, so a test can hand them
 * a fake host.
 *
 * Ownership: `const tt_flow *` and `const tt_bucket *` are borrowed for the
 * duration of the call.
 */
#ifndef TEITEN_PLUGIN_H
#define TEITEN_PLUGIN_H

#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <teiten/flow.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TT_PLUGIN_ABI_MAJOR 1
#define TT_PLUGIN_ABI_MINOR 5

/** Sensor index meaning "all sensors" in tt_bucket.sensor. */
#define TT_SENSOR_ALL UINT32_MAX

/** One time bin of one sensor. */
typedef struct tt_bucket {
    int64_t start;   /**< first second of the bin, epoch seconds, aligned to step */
    int64_t end;     /**< start + step */
    uint32_t sensor; /**< sensor index */
    uint32_t reserved;
    const char *sensor_name; /**< (transfer none) */
} tt_bucket;

typedef struct tt_host tt_host;

/** (ABI 1.1) What tt_host.sensor_info() reports; grows at its end only. */
typedef struct tt_sensor_info {
    uint32_t struct_size; /**< set by the caller: sizeof(tt_sensor_info) it was built with */
    uint32_t reserved0;
    uint64_t records;       /**< records that reached the sensor */
    uint64_t observed;      /**< flows to dark space, handed to plugins */
    uint64_t leaks;         /**< flows to lit space or without a destination */
    uint64_t late;          /**< observed flows older than the closed buckets */
    uint64_t dark_size;     /**< addresses in the dark space (IPv6 saturates) */
    const char *geoip_type; /**< database type in use, NULL without one (transfer none) */
    int64_t geoip_build;    /**< its build time, epoch seconds; 0 without one */
} tt_sensor_info;

/**
 * (ABI 1.3) One cumulative loss counter, as tt_host.loss_foreach() reports it:
 * something that should have been counted and was not, where it happened.
 * The strings are borrowed for the callback only.
 */
typedef struct tt_loss {
    const char *scope;  /**< "listener", "exporters", "sensor" or "store" */
    const char *name;   /**< listen spec, "all", sensor name or store ("rrd") */
    const char *reason; /**< e.g. "kernel_drops", "seq_lost", "too_old", "refused" */
    const char *unit;   /**< what count counts: "datagrams", "records", "messages", ... */
    uint64_t count;     /**< since the daemon started; never decreases */
} tt_loss;

/** (ABI 1.3) Called by tt_host.loss_foreach() once per non-zero loss counter. */
typedef void (*tt_loss_fn)(const tt_loss *loss, void *data);

/**
 * (ABI 1.1) RRD file kinds; the kind selects the schema (DESIGN.md §3):
 * total, country and sensor files also keep MAX archives.
 */
typedef enum tt_rrd_kind {
    TT_RRD_PORT = 0,
    TT_RRD_COUNTRY = 1,
    TT_RRD_TOTAL = 2,
    TT_RRD_SENSOR = 3,
    TT_RRD_SELF = 4,
} tt_rrd_kind;

/** (ABI 1.1) One closed step of one RRD file: exact counts, distinct sources. */
typedef struct tt_rrd_values {
    uint64_t flows;
    uint64_t packets;
    uint64_t bytes;
    double sources; /**< distinct source addresses in the step; NAN = unknown */
} tt_rrd_values;

/** A unit of work for the writer thread. */
typedef void (*tt_job_fn)(void *data);

/**
 * Services the daemon offers its plugins. Read-only for plugins.
 * Fields after struct_size are valid only when struct_size covers them.
 */
struct tt_host {
    uint32_t struct_size; /**< sizeof(tt_host) of the daemon */
    uint32_t abi_minor;   /**< TT_PLUGIN_ABI_MINOR of the daemon */
    const char *data_dir; /**< the data directory (transfer none) */
    int64_t step;         /**< bucket width, seconds */
    int64_t grace;        /**< watermark grace, seconds */
    const char *timezone; /**< report time zone, e.g. "Asia/Tokyo" */
    void *ctx;            /**< the daemon's own context; opaque */

    /** Number of sensor indexes in use (indexes are < this). */
    uint32_t (*sensor_count)(const tt_host *host);
    /** Name of sensor @a sensor, or NULL (transfer none). */
    const char *(*sensor_name)(const tt_host *host, uint32_t sensor);
    /**
     * Queue @a run(@a data) on the writer thread; @a free_fn(@a data) is called
     * after it ran (or when the queue is torn down). Never blocks on disk.
     * Jobs from one plugin run in submission order.
     */
    void (*submit)(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn);

    /*
     * (ABI 1.1) RRD services; valid when abi_minor >= 1. Call them only from
     * jobs running on the writer thread (host->submit), never from on_flow.
     */
    /**
     * Store the closed step [@a start, @a end) of @a path (relative to
     * DATA/rrd, e.g. "port/tcp/23.rrd"), creating the file on first use.
     * @a scope is the sensor whose clock the file follows (restart gaps), or
     * NULL for an all-sensor file. A step already stored is skipped and
     * counted, never an error. Returns FALSE with @a error set when the file
     * cannot be written (another schema, I/O); the counts are then lost for
     * that file only, and counted.
     */
    gboolean (*rrd_update)(const tt_host *host, tt_rrd_kind kind, const char *scope,
                           const char *path, int64_t start, int64_t end,
                           const tt_rrd_values *values, GError **error);
    /**
     * Clean stop: bring every RRD file written by this process with 0 to the
     * UTC midnight after the newest stored step (never past the host clock),
     * push pending rrdcached updates, persist the sensors' clocks. Idempotent.
     */
    void (*rrd_finish)(const tt_host *host);

    void *reserved[4];
    /**
     * (ABI 1.1, the next-to-last reserved slot) TRUE while `teitend --read`
     * reads again files the stores may already hold in part or whole (a
     * crashed run resumed, or --force): a store skips a bucket it already
     * committed, so the file counts exactly once. FALSE in live operation and
     * on a first read, where a bucket seen again (a restart's partial bucket,
     * files sharing a bucket) must be added. NULL in older and fake hosts:
     * treat NULL as FALSE. Dispatch thread only; constant during a run.
     */
    gboolean (*replaying)(const tt_host *host);
    /**
     * (ABI 1.1, the last reserved slot, taken for the rollup plugin) Cumulative
     * facts about sensor @a sensor since the daemon started (leaks never reach
     * on_flow; dark-space size; the GeoIP database in use), so a plugin can
     * store per-day deltas. The caller sets info->struct_size; the host fills
     * what both know. Returns FALSE for an unknown sensor. NULL in fake hosts:
     * check before calling. Dispatch thread only (bucket_open/close, ...).
     */
    gboolean (*sensor_info)(const tt_host *host, uint32_t sensor, struct tt_sensor_info *info);

    /*
     * (ABI 1.3) Fields below are valid when abi_minor >= 3 and struct_size
     * covers them; they are appended here, never inserted.
     */
    /**
     * Call @a fn for every loss counter that is not zero: the kernel's drops
     * of each UDP socket (its own SK_MEMINFO_DROPS counter, read each second
     * and at the stop), TCP streams cut, exporters' sequence gaps and refused
     * messages and records, each sensor's refused records, RRD lines refused.
     * Counts are cumulative since the daemon started, so a plugin stores the
     * difference to what it saw last (the rollup plugin keeps them per day).
     * Dispatch thread only (bucket_close, fini).
     */
    void (*loss_foreach)(const tt_host *host, tt_loss_fn fn, void *data);
    /**
     * (ABI 1.3) host->submit() declaring the @a bytes @a data holds (what
     * freeing it gives back), so the writer's backlog is bounded in bytes. In
     * live operation a job past `writer-backlog` is refused rather than made
     * to wait (reception never waits on the writer): @a free_fn(@a data) is
     * then called at once, on the calling thread, the job and its bytes are
     * counted as a loss, and FALSE is returned. Returns TRUE when queued.
     * Use tt_host_submit_sized(), which falls back to submit() on older hosts.
     */
    gboolean (*submit_sized)(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn,
                             size_t bytes);
    /**
     * (ABI 1.3) TRUE while `teitend --check-config` builds the plugins only to
     * validate their groups: init() must then check its keys and create,
     * open for writing or change nothing. In a real start, init() runs after
     * the privilege drop and must fail, naming the file, when a file it will
     * write is not writable (create it, or open it for writing, there). NULL
     * in older and fake hosts: treat NULL as FALSE.
     */
    gboolean (*checking)(const tt_host *host);
    /**
     * (ABI 1.4) The job running now on the writer thread could not store
     * (all or part of) what it was given: a transaction rolled back, an RRD
     * update refused, a write cut short. @a message (transfer none, copied)
     * names the plugin, the file or database and the bucket, and why. The
     * host logs it (rate-limited), counts it (`store_failures` in
     * stats.json), and `teitend --read` keeps every file of the run out of
     * its ingest ledger and exits non-zero: a second read of the same files
     * stores what is missing, and a store must then skip what it did commit
     * in replay mode (tt_host.replaying) so nothing counts twice. Call it
     * once per failed job or per failed bucket, from a job's run function
     * only (never from the dispatch callbacks). Use tt_host_job_failed(),
     * which logs a warning on older hosts.
     */
    void (*job_failed)(const tt_host *host, const char *message);
};

/** Does @a host (a daemon of any 1.x minor) have member @a member? */
#define tt_host_has(host, member)                                                                  \
    ((host)->struct_size >= offsetof(tt_host, member) + sizeof((host)->member) &&                  \
     (host)->member != NULL)

/** host->submit_sized() where the host has it, host->submit() otherwise. */
static inline gboolean tt_host_submit_sized(const tt_host *host, tt_job_fn run, void *data,
                                            GDestroyNotify free_fn, size_t bytes)
{
    if (tt_host_has(host, submit_sized))
        return host->submit_sized(host, run, data, free_fn, bytes);
    host->submit(host, run, data, free_fn);
    return TRUE;
}

/** host->checking() where the host has it: TRUE under `teitend --check-config`. */
static inline gboolean tt_host_checking(const tt_host *host)
{
    return tt_host_has(host, checking) && host->checking(host);
}

/**
 * (ABI 1.4) Report that the running job failed (see tt_host.job_failed): a
 * printf-style message naming the plugin, what was lost and why. On a host
 * older than 1.4 the message is only logged as a warning. Writer thread.
 */
G_GNUC_PRINTF(2, 3)
static inline void tt_host_job_failed(const tt_host *host, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *message = g_strdup_vprintf(format, ap);
    va_end(ap);
    if (tt_host_has(host, job_failed))
        host->job_failed(host, message);
    else
        g_warning("%s", message);
    g_free(message);
}

/** The table a plugin exports through tt_plugin_entry(). */
typedef struct tt_plugin_info {
    uint16_t abi_major;   /**< TT_PLUGIN_ABI_MAJOR */
    uint16_t abi_minor;   /**< TT_PLUGIN_ABI_MINOR */
    uint32_t struct_size; /**< sizeof(tt_plugin_info) */
    const char *name;     /**< must equal the file name without ".so" */
    const char *version;
    const char *description;

    /**
     * Create an instance from group @a group of @a config (keys of its own).
     * Returns FALSE with @a error set on a bad key or value; the message must
     * name the group and key. On success *@a state owns the instance.
     */
    gboolean (*init)(const tt_host *host, GKeyFile *config, const char *group, void **state,
                     GError **error);
    /** Free the instance; called after every bucket was closed. */
    void (*fini)(void *state);
    /** A bucket begins; return the plugin's accumulator for it (may be NULL). */
    void *(*bucket_open)(void *state, const tt_bucket *bucket);
    /** One observed flow of the open bucket @a acc. Hot path: no I/O, no allocation. */
    void (*on_flow)(void *state, void *acc, const tt_flow *flow);
    /** The bucket is closed; take ownership of @a acc (hand it to the writer). */
    void (*bucket_close)(void *state, void *acc, const tt_bucket *bucket);
    /** A record for an already closed bucket of its sensor (may be NULL). */
    void (*on_late_flow)(void *state, const tt_flow *flow, const tt_bucket *bucket);
    /** Every sensor not declared silent has closed [start, end) (may be NULL). */
    void (*all_closed)(void *state, int64_t start, int64_t end);

    void *reserved[4];

    /**
     * (ABI 1.2, optional) @a n observed flows of the open bucket @a acc, in
     * arrival order: the same as on_flow() for each in turn, so a plugin can
     * overlap their cache misses (hash all, prefetch, then count). The host
     * calls it instead of on_flow() when struct_size covers it and it is not
     * NULL; a run never spans a bucket_open/close, a late flow or another
     * sensor. @a flows is borrowed for the call. Hot path, as on_flow().
     */
    void (*on_flows)(void *state, void *acc, const tt_flow *flows, size_t n);

    /**
     * (ABI 1.5, optional) on_flows() with each flow's derived keys: @a keys[i]
     * is tt_flow_keys_of(&@a flows[i]) (flow.h: source hash, port slot,
     * country index, class), computed once by the collector for every plugin
     * that takes them. The host calls it instead of on_flows() and on_flow()
     * when struct_size covers it and it is not NULL; runs are the same as
     * on_flows()'s. Both arrays are borrowed for the call. Hot path, as on_flow().
     */
    void (*on_flows_keyed)(void *state, void *acc, const tt_flow *flows, const tt_flow_keys *keys,
                           size_t n);
} tt_plugin_info;

/*
 * The layout is the ABI: a 1.x field never moves, new fields are appended, and
 * a reserved slot is taken in place (tt_host.replaying, tt_host.sensor_info).
 * The offsets below are those of ABI 1.0-1.5 on LP64 (x86_64, arm64), the
 * reserved slots' places on every target; a change that moves one fails to
 * compile, here and in every plugin built against this header.
 */
#define TT_ABI_PIN(type, member, off) G_STATIC_ASSERT(offsetof(type, member) == (off))
#define TT_ABI_SLOT(type, member, slot)                                                            \
    G_STATIC_ASSERT(offsetof(type, member) == offsetof(type, reserved) + (slot) * sizeof(void *))
TT_ABI_SLOT(tt_host, replaying, 4);
TT_ABI_SLOT(tt_host, sensor_info, 5);
TT_ABI_SLOT(tt_host, loss_foreach, 6);
TT_ABI_SLOT(tt_plugin_info, on_flows, 4);
TT_ABI_SLOT(tt_plugin_info, on_flows_keyed, 5);
#if defined(__LP64__)
TT_ABI_PIN(tt_bucket, start, 0);
TT_ABI_PIN(tt_bucket, end, 8);
TT_ABI_PIN(tt_bucket, sensor, 16);
TT_ABI_PIN(tt_bucket, reserved, 20);
TT_ABI_PIN(tt_bucket, sensor_name, 24);
TT_ABI_PIN(tt_sensor_info, struct_size, 0);
TT_ABI_PIN(tt_sensor_info, records, 8);
TT_ABI_PIN(tt_sensor_info, observed, 16);
TT_ABI_PIN(tt_sensor_info, leaks, 24);
TT_ABI_PIN(tt_sensor_info, late, 32);
TT_ABI_PIN(tt_sensor_info, dark_size, 40);
TT_ABI_PIN(tt_sensor_info, geoip_type, 48);
TT_ABI_PIN(tt_sensor_info, geoip_build, 56);
TT_ABI_PIN(tt_host, struct_size, 0);
TT_ABI_PIN(tt_host, abi_minor, 4);
TT_ABI_PIN(tt_host, data_dir, 8);
TT_ABI_PIN(tt_host, step, 16);
TT_ABI_PIN(tt_host, grace, 24);
TT_ABI_PIN(tt_host, timezone, 32);
TT_ABI_PIN(tt_host, ctx, 40);
TT_ABI_PIN(tt_host, sensor_count, 48);
TT_ABI_PIN(tt_host, sensor_name, 56);
TT_ABI_PIN(tt_host, submit, 64);
TT_ABI_PIN(tt_host, rrd_update, 72);
TT_ABI_PIN(tt_host, rrd_finish, 80);
TT_ABI_PIN(tt_host, reserved, 88);
TT_ABI_PIN(tt_host, replaying, 120);
TT_ABI_PIN(tt_host, sensor_info, 128);
TT_ABI_PIN(tt_host, loss_foreach, 136);
TT_ABI_PIN(tt_host, submit_sized, 144);
TT_ABI_PIN(tt_host, checking, 152);
TT_ABI_PIN(tt_host, job_failed, 160);
TT_ABI_PIN(tt_plugin_info, abi_major, 0);
TT_ABI_PIN(tt_plugin_info, abi_minor, 2);
TT_ABI_PIN(tt_plugin_info, struct_size, 4);
TT_ABI_PIN(tt_plugin_info, name, 8);
TT_ABI_PIN(tt_plugin_info, version, 16);
TT_ABI_PIN(tt_plugin_info, description, 24);
TT_ABI_PIN(tt_plugin_info, init, 32);
TT_ABI_PIN(tt_plugin_info, fini, 40);
TT_ABI_PIN(tt_plugin_info, bucket_open, 48);
TT_ABI_PIN(tt_plugin_info, on_flow, 56);
TT_ABI_PIN(tt_plugin_info, bucket_close, 64);
TT_ABI_PIN(tt_plugin_info, on_late_flow, 72);
TT_ABI_PIN(tt_plugin_info, all_closed, 80);
TT_ABI_PIN(tt_plugin_info, reserved, 88);
TT_ABI_PIN(tt_plugin_info, on_flows, 120);
TT_ABI_PIN(tt_plugin_info, on_flows_keyed, 128);
#endif
/* tt_flow_keys (ABI 1.5) is the same on every target: no pointer in it */
TT_ABI_PIN(tt_flow_keys, src_hash, 0);
TT_ABI_PIN(tt_flow_keys, slot, 8);
TT_ABI_PIN(tt_flow_keys, country, 12);
TT_ABI_PIN(tt_flow_keys, cls, 14);
TT_ABI_PIN(tt_flow_keys, reserved, 15);
G_STATIC_ASSERT(sizeof(tt_flow_keys) == 16);
#undef TT_ABI_PIN
#undef TT_ABI_SLOT

/** Convenience initialiser for the first fields of a plugin table. */
#define TT_PLUGIN_HEADER(NAME, VERSION, DESCRIPTION)                                               \
    .abi_major = TT_PLUGIN_ABI_MAJOR, .abi_minor = TT_PLUGIN_ABI_MINOR,                            \
    .struct_size = sizeof(tt_plugin_info), .name = (NAME), .version = (VERSION),                   \
    .description = (DESCRIPTION)

/** The one symbol a plugin exports. */
#define TT_PLUGIN_ENTRY_SYMBOL "tt_plugin_entry"
typedef const tt_plugin_info *(*tt_plugin_entry_fn)(void);

#if defined(__GNUC__)
#define TT_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define TT_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
}
#endif
#endif /* TEITEN_PLUGIN_H */
