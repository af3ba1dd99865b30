/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rollup.c - the rollup plugin: exact per-day counters in DATA/rollup.sqlite,
 * the source of `teiten rank`'s quarterly tables.
 *
 * on_flow adds to flat arrays indexed by class, protocol/port and country
 * index (no lookup, no allocation), sets the source's HyperLogLog register
 * (overall and for its country) and the bit of the minute it started in.
 * on_flows (ABI 1.2) does the same for a run, a chunk at a time: positions
 * first with their cache lines prefetched, then the counting (one rollup_add
 * shared with on_flow). on_flows_keyed (ABI 1.5) takes the positions from the
 * collector's keys (tt_flow_keys: the same class, slot, country and hash,
 * computed once for every plugin) and only prefetches before counting.
 * The first count of a port, country or country sketch appends it to a
 * touched list (one branch). bucket_close costs what the bucket touched: it
 * sorts those lists (their order is the order the rows had when the store
 * walked dense arrays), copies the counters and sketches into a snapshot
 * (rollup_acc) and clears exactly those slots, so the dense accumulator
 * (about 18 MB of address space, zero pages until touched) goes straight back
 * to a spare list of the dispatch thread for the next bucket_open: a sparse
 * replay faults in no fresh pages and a lagging writer holds snapshots, not
 * accumulators. The snapshot is stamped with the bucket, the sensor's leaks
 * since its previous close and the GeoIP database in use (host->sensor_info,
 * when the host has it) and the late records delivered meanwhile, and handed
 * to the writer thread, where rollup_store.c commits it as one transaction.
 * Rejected: the dense accumulator itself travelling to the writer with
 * bitmaps of used blocks, as first built (a fresh 16 MB calloc per queued
 * bucket while the writer lagged, and bitmap and 676-country walks per
 * commit).
 *
 * Losses (ABI 1.3, tt_host.loss_foreach: kernel drops per listener,
 * sequence gaps, refused messages and records, TCP streams cut, RRD steps
 * refused) are cumulative in the host; each close takes the difference to
 * what the plugin saw last and stores it in the loss table on the closing
 * bucket's day, so a loss is dated by the stream time being received when it
 * was counted (a replayed 2019 capture's drops land in 2019). A sensor's own
 * counters wait for that sensor's close; fini stores what is left on the day
 * of the last close, so drops counted at the stop are kept too. Every close
 * asks (the host's walk costs a few additions per exporter): a --read is
 * deterministic, so the same losses ride in the same buckets' commits, and a
 * resumed read that skips a committed bucket skips its losses with it.
 *
 * When the host is replaying (`teitend --read` reading a file again after a
 * crash, or --force), each close is marked so: the store skips a bucket it
 * already committed, and with it the late records that rode in that commit.
 * The collector's processing of a file is deterministic (the same buckets
 * close, each with the same late records), so a re-read counts every record
 * exactly once. Live, nothing is skipped: a restart's partial bucket adds.
 *
 * Rejected: hash tables per bucket (allocation on the hot path) and
 * aggregating whole days in memory (a crash would lose the day; the issue
 * asks for at most the open buckets).
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "rollup"
#endif

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "prefault.h"
#include "rollup.h"
#include "touched.h"

#define ROLLUP_KEY_PATH "path"
#define ROLLUP_DEFAULT_PATH "rollup.sqlite"

typedef struct rollup_sensor {
    GArray *late;       /* rollup_late not yet handed to the writer, or NULL */
    guint64 leaks_seen; /* cumulative leaks at the previous close */
} rollup_sensor;

/*
 * Closed dense accumulators are kept for reuse, all of them (dispatch thread
 * only): every one is open or spare, so the spares never outnumber the most
 * buckets open at once. A cap made every burst of closes (a sensor's watermark
 * jumping past a grace's worth of buckets) free what the next opens allocate
 * again, fresh pages and all: 25 % of the dispatch thread with four sparse
 * sensors (bench/sparse pm-4).
 */

/*
 * An open bucket: flat arrays indexed by what on_flow has in hand, zero but
 * for the slots in its touched lists (dispatch thread only, recycled).
 */
typedef struct rollup_dense {
    rollup_counter port[TT_CLASS_COUNT][ROLLUP_PORT_SLOTS];
    rollup_counter country[TT_CLASS_COUNT][TT_COUNTRY_SLOTS];
    rollup_counter total[TT_CLASS_COUNT];
    guint8 hll[ROLLUP_HLL_M];
    guint8 hll_country[TT_COUNTRY_SLOTS][ROLLUP_HLL_M]; /* pages touched only when used */
    guint64 country_seen[(TT_COUNTRY_SLOTS + 63) / 64];
    guint32 minutes; /* bit i: a flow started in minute floor(start/60) + i */
    guint32 rates[ROLLUP_MAX_RATES];
    guint64 rate_records[ROLLUP_MAX_RATES];
    guint nrates;
    guint64 observed;
    gint64 start;
    guint nports, ncountries, nsketches;
    guint32 port_keys[TT_CLASS_COUNT * ROLLUP_PORT_SLOTS];   /* first-touch order */
    guint32 country_keys[TT_CLASS_COUNT * TT_COUNTRY_SLOTS]; /* first-touch order */
    guint32 sketch_keys[TT_COUNTRY_SLOTS];                   /* first-touch order */
    rollup_src src[ROLLUP_SPARSE_SOURCES];                   /* the first flows' sources */
} rollup_dense;

typedef struct rollup_state {
    const tt_host *host;
    rollup_store *store;   /* a reference */
    GArray *sensors;       /* rollup_sensor, by index */
    GHashTable *loss_seen; /* "scope\x1fname\x1freason" -> guint64* count at the last close */
    gint64 last_start;     /* start of the newest bucket closed, for fini's losses */
    gboolean closed_any;
    GPtrArray *spare; /* of rollup_dense*, cleared */
} rollup_state;

static rollup_sensor *rollup_sensor_of(rollup_state *s, guint32 sensor)
{
    if (sensor >= s->sensors->len)
        g_array_set_size(s->sensors, sensor + 1);
    return &g_array_index(s->sensors, rollup_sensor, sensor);
}

/* tt_host.replaying, where the host has it (NULL and older hosts: never). */
static gboolean rollup_replaying(const tt_host *host)
{
    return host->struct_size >= G_STRUCT_OFFSET(tt_host, replaying) + sizeof(void *) &&
           host->replaying != NULL && host->replaying(host);
}

/* tt_host.loss_foreach, where the host has it (ABI 1.3; NULL in older and fake hosts). */
static gboolean rollup_has_loss(const tt_host *host)
{
    return host->abi_minor >= 3 &&
           host->struct_size >= G_STRUCT_OFFSET(tt_host, loss_foreach) + sizeof(void *) &&
           host->loss_foreach != NULL;
}

typedef struct rollup_loss_walk {
    rollup_state *s;
    const char *sensor; /* only this sensor's own counters; NULL: every sensor's */
    GArray *out;        /* rollup_loss, created on the first difference */
} rollup_loss_walk;

static void rollup_loss_one(const tt_loss *loss, void *data)
{
    rollup_loss_walk *w = data;
    if (w->sensor != NULL && strcmp(loss->scope, "sensor") == 0 &&
        strcmp(loss->name, w->sensor) != 0)
        return; /* another sensor's: it goes with that sensor's next close */
    g_autofree char *key = g_strdup_printf("%s\x1f%s\x1f%s", loss->scope, loss->name, loss->reason);
    guint64 *seen = g_hash_table_lookup(w->s->loss_seen, key);
    if (seen == NULL) {
        seen = g_new0(guint64, 1);
        g_hash_table_insert(w->s->loss_seen, g_steal_pointer(&key), seen);
    }
    if (loss->count <= *seen)
        return;
    rollup_loss l = {g_strdup(loss->scope), g_strdup(loss->name), g_strdup(loss->reason),
                     g_strdup(loss->unit), loss->count - *seen};
    *seen = loss->count;
    if (w->out == NULL)
        w->out = g_array_new(FALSE, FALSE, sizeof(rollup_loss));
    g_array_append_val(w->out, l);
}

/*
 * A job refused by the writer (live, past writer-backlog; the host counts its
 * records as lost) must not take its loss differences with it: what it carried
 * is given back to loss_seen, so the next close reports it again. @a owed holds
 * "scope\x1fname\x1freason" keys with the counts, taken before the submission.
 */
typedef struct rollup_owed {
    char *key;
    guint64 count;
} rollup_owed;

static GArray *rollup_owed_of(const GArray *loss)
{
    if (loss == NULL)
        return NULL;
    GArray *owed = g_array_sized_new(FALSE, FALSE, sizeof(rollup_owed), loss->len);
    for (guint i = 0; i < loss->len; i++) {
        const rollup_loss *l = &g_array_index(loss, rollup_loss, i);
        rollup_owed o = {g_strdup_printf("%s\x1f%s\x1f%s", l->scope, l->name, l->reason), l->count};
        g_array_append_val(owed, o);
    }
    return owed;
}

/* The losses counted since the previous close, or NULL when none. (transfer full) */
static GArray *rollup_take_losses(rollup_state *s, const char *sensor)
{
    if (!rollup_has_loss(s->host))
        return NULL;
    rollup_loss_walk w = {s, sensor, NULL};
    s->host->loss_foreach(s->host, rollup_loss_one, &w);
    return w.out;
}

static void rollup_acc_free(void *data)
{
    rollup_store_give_acc(data);
}

/* One closed bucket into the batch; the batch ends when no job of its store waits behind. */
static void rollup_acc_job(void *data)
{
    rollup_acc *acc = data;
    g_autoptr(GError) error = NULL;
    if (!rollup_store_commit(acc->store, acc, &error)) {
        tt_host_job_failed(acc->host, "rollup: %s", error->message);
        g_clear_error(&error);
    }
    if (rollup_store_ran(acc->store) && !rollup_store_end(acc->store, &error))
        tt_host_job_failed(acc->host, "rollup: %s", error->message);
}

/*
 * Hand @a acc to the writer; FALSE when it refused it (live, past writer-backlog;
 * never when not @a may_refuse: the stop's loss rows).
 */
static gboolean rollup_acc_submit(const tt_host *host, rollup_acc *acc, gsize bytes,
                                  gboolean may_refuse)
{
    rollup_store *store = acc->store;
    rollup_store_queue(store, 1);
    if (!may_refuse) {
        host->submit(host, rollup_acc_job, acc, rollup_acc_free);
        return TRUE;
    }
    if (tt_host_submit_sized(host, rollup_acc_job, acc, rollup_acc_free, bytes))
        return TRUE;
    rollup_store_queue(store, -1); /* @a acc is freed: the store is still ours */
    return FALSE;
}

/* What a closed bucket's snapshot holds (tt_host.submit_sized). */
static gsize rollup_acc_bytes(const rollup_acc *acc)
{
    return sizeof *acc + ((gsize)acc->nports + acc->ncountries) * sizeof(rollup_item) +
           (gsize)acc->nsketches * sizeof(rollup_sketch) + (acc->hll != NULL ? ROLLUP_HLL_M : 0) +
           (gsize)acc->nsrcs * sizeof(rollup_src) +
           (acc->late != NULL ? acc->late->len * sizeof(rollup_late) : 0);
}

/* Submit @a acc; when the writer refuses it, its loss differences are owed to the next close. */
static void rollup_submit(rollup_state *s, rollup_acc *acc, gsize bytes)
{
    GArray *owed = rollup_owed_of(acc->loss);
    gboolean queued = rollup_acc_submit(s->host, acc, bytes, TRUE);
    for (guint i = 0; owed != NULL && i < owed->len; i++) {
        rollup_owed *o = &g_array_index(owed, rollup_owed, i);
        guint64 *seen = g_hash_table_lookup(s->loss_seen, o->key);
        if (!queued && seen != NULL)
            *seen = *seen >= o->count ? *seen - o->count : 0;
        g_free(o->key);
    }
    if (owed != NULL)
        g_array_free(owed, TRUE);
}

static gboolean rollup_init(const tt_host *host, GKeyFile *config, const char *group, void **state,
                            GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(config, group, NULL, NULL);
    for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
        if (strcmp(keys[i], ROLLUP_KEY_PATH) != 0) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                        "[%s] %s: unknown key (keys: %s)", group, keys[i], ROLLUP_KEY_PATH);
            return FALSE;
        }
    }
    if (host->step <= 0 || 900 % host->step != 0) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "[%s]: step %" G_GINT64_FORMAT " must divide 900 so that every bucket "
                    "lies in one local day",
                    group, host->step);
        return FALSE;
    }
    g_autofree char *value = g_key_file_get_string(config, group, ROLLUP_KEY_PATH, NULL);
    if (value != NULL)
        g_strstrip(value);
    if (value != NULL && value[0] == '\0') {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "[%s] %s: empty (the SQLite file, default %s)", group, ROLLUP_KEY_PATH,
                    ROLLUP_DEFAULT_PATH);
        return FALSE;
    }
    const char *name = value != NULL ? value : ROLLUP_DEFAULT_PATH;
    g_autofree char *path =
        g_path_is_absolute(name)
            ? g_strdup(name)
            : g_build_filename(host->data_dir != NULL ? host->data_dir : ".", name, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    if (tt_host_checking(host)) {
        /* --check-config: the keys are valid; open and create nothing (run as root it would
         * leave a database the daemon, once it has dropped to `user =`, cannot write) */
        rollup_state *s = g_new0(rollup_state, 1);
        s->host = host;
        s->sensors = g_array_new(FALSE, TRUE, sizeof(rollup_sensor));
        s->loss_seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        s->spare = g_ptr_array_new_with_free_func(g_free);
        *state = s;
        return TRUE;
    }
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "[%s] %s: cannot create directory %s: %s", group, ROLLUP_KEY_PATH, dir,
                    g_strerror(saved));
        return FALSE;
    }
    const char *tz = host->timezone != NULL ? host->timezone : "UTC";
    rollup_store *store = rollup_store_open(path, tz, host->step, error);
    if (store == NULL) {
        g_prefix_error(error, "[%s] %s: ", group, ROLLUP_KEY_PATH);
        return FALSE;
    }
    rollup_state *s = g_new0(rollup_state, 1);
    s->host = host;
    s->store = store;
    s->sensors = g_array_new(FALSE, TRUE, sizeof(rollup_sensor));
    s->loss_seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s->spare = g_ptr_array_new_with_free_func(g_free);
    /* the first bucket's accumulator, mapped now (prefault.h); not the per-country
     * sketches, whose pages stay untouched until a country has a flow */
    rollup_dense *d = g_new0(rollup_dense, 1);
    tt_prefault(d, offsetof(rollup_dense, hll_country));
    tt_prefault(&d->country_seen, sizeof *d - offsetof(rollup_dense, country_seen));
    g_ptr_array_add(s->spare, d);
    *state = s;
    return TRUE;
}

static void rollup_fini(void *state)
{
    rollup_state *s = state;
    for (guint i = 0; i < s->sensors->len; i++) {
        rollup_sensor *rs = &g_array_index(s->sensors, rollup_sensor, i);
        if (rs->late == NULL)
            continue;
        /* late records after the sensor's last close: a batch of their own */
        rollup_acc *acc = rollup_store_take_acc(s->store);
        const char *name = s->host->sensor_name != NULL ? s->host->sensor_name(s->host, i) : NULL;
        acc->sensor = name != NULL ? g_strdup(name) : g_strdup_printf("sensor-%u", i);
        acc->late = g_steal_pointer(&rs->late);
        /* no bucket to key it by, so never skipped; in a --read it is always empty: the
         * bucket holding the newest flow is still open when the late records arrive */
        acc->replay = rollup_replaying(s->host);
        acc->store = rollup_store_ref(s->store);
        acc->host = s->host;
        rollup_acc_submit(s->host, acc, rollup_acc_bytes(acc), TRUE);
    }
    /* losses counted after the last close (the stop's last drops): the last close's day */
    GArray *loss = rollup_take_losses(s, NULL);
    if (loss != NULL) {
        rollup_acc *acc = rollup_store_take_acc(s->store);
        acc->sensor = g_strdup("");
        acc->loss = loss;
        acc->loss_day = s->closed_any ? s->last_start : g_get_real_time() / G_USEC_PER_SEC;
        acc->store = rollup_store_ref(s->store);
        acc->host = s->host;
        rollup_acc_submit(s->host, acc, rollup_acc_bytes(acc), FALSE);
    }
    g_hash_table_destroy(s->loss_seen);
    g_ptr_array_free(s->spare, TRUE);
    g_array_free(s->sensors, TRUE);
    rollup_store_unref(s->store);
    g_free(s);
}

static void *rollup_bucket_open(void *state, const tt_bucket *bucket)
{
    rollup_state *s = state;
    rollup_dense *d = s->spare->len > 0 ? g_ptr_array_steal_index_fast(s->spare, s->spare->len - 1)
                                        : g_new0(rollup_dense, 1);
    d->start = bucket->start;
    return d;
}

/* The one place a flow is counted; on_flow and on_flows both end here. */
static inline __attribute__((always_inline)) void rollup_add(rollup_dense *acc, const tt_flow *flow,
                                                             rollup_pos p)
{
    rollup_counter *c[3] = {&acc->total[p.cls], &acc->port[p.cls][p.slot],
                            &acc->country[p.cls][p.ci]};
    if (c[1]->records == 0)
        acc->port_keys[acc->nports++] = p.cls * ROLLUP_PORT_SLOTS + p.slot;
    if (c[2]->records == 0)
        acc->country_keys[acc->ncountries++] = p.cls * TT_COUNTRY_SLOTS + p.ci;
    for (guint i = 0; i < 3; i++) {
        c[i]->flows += flow->sampling;
        c[i]->packets += flow->packets;
        c[i]->bytes += flow->bytes;
        c[i]->records++;
    }
    rollup_hll_add(acc->hll, p.h);
    rollup_hll_add(acc->hll_country[p.ci], p.h);
    guint64 bit_ci = (guint64)1 << (p.ci % 64);
    if (!(acc->country_seen[p.ci / 64] & bit_ci)) {
        acc->country_seen[p.ci / 64] |= bit_ci;
        acc->sketch_keys[acc->nsketches++] = p.ci;
    }
    if (acc->observed < ROLLUP_SPARSE_SOURCES)
        acc->src[acc->observed] = (rollup_src){p.h, p.ci};
    acc->observed++;

    /* the minute heard, relative to the bucket's first minute (a bucket spans <= 16) */
    gint64 bit = flow->start_ms / 60000 - acc->start / 60;
    if (bit >= 0 && bit < ROLLUP_MINUTE_BITS)
        acc->minutes |= 1u << bit;

    for (guint i = 0; i < acc->nrates; i++) {
        if (acc->rates[i] == flow->sampling) {
            acc->rate_records[i]++;
            return;
        }
    }
    if (acc->nrates < ROLLUP_MAX_RATES) {
        acc->rates[acc->nrates] = flow->sampling;
        acc->rate_records[acc->nrates++] = 1;
    }
}

static void rollup_on_flow(void *state, void *accp, const tt_flow *flow)
{
    (void)state;
    rollup_add(accp, flow, rollup_pos_of(flow));
}

/* Flows per chunk of on_flows: enough misses in flight to overlap, few
 * enough that the prefetched lines are still there when counted. */
#define ROLLUP_BATCH 32

/*
 * A run of one open bucket (plugin ABI 1.2): the positions of a chunk first,
 * prefetching the port counter, the country counter and the country sketch's
 * register of each (the accumulator is ~16 MB, so these are the misses), then
 * counted in order, which leaves what on_flow in turn would.
 */
static void rollup_on_flows(void *state, void *accp, const tt_flow *flows, size_t n)
{
    (void)state;
    rollup_dense *acc = accp;
    rollup_pos pos[ROLLUP_BATCH];
    for (size_t base = 0; base < n; base += ROLLUP_BATCH) {
        size_t m = MIN(n - base, (size_t)ROLLUP_BATCH);
        for (size_t j = 0; j < m; j++) {
            rollup_pos p = rollup_pos_of(&flows[base + j]);
            pos[j] = p;
            __builtin_prefetch(&acc->port[p.cls][p.slot], 1);
            __builtin_prefetch(&acc->country[p.cls][p.ci], 1);
            __builtin_prefetch(&acc->hll_country[p.ci][p.h >> (64 - ROLLUP_HLL_P)], 1);
        }
        for (size_t j = 0; j < m; j++)
            rollup_add(acc, &flows[base + j], pos[j]);
    }
}

/*
 * A run with the collector's keys (ABI 1.5): the same as on_flows, but the
 * class, port slot, country index and source hash come computed (once for
 * every plugin), so the first pass only prefetches.
 */
static void rollup_on_flows_keyed(void *state, void *accp, const tt_flow *flows,
                                  const tt_flow_keys *keys, size_t n)
{
    (void)state;
    rollup_dense *acc = accp;
    for (size_t base = 0; base < n; base += ROLLUP_BATCH) {
        size_t m = MIN(n - base, (size_t)ROLLUP_BATCH);
        for (size_t j = 0; j < m; j++) {
            const tt_flow_keys *k = &keys[base + j];
            __builtin_prefetch(&acc->port[k->cls][k->slot], 1);
            __builtin_prefetch(&acc->country[k->cls][k->country], 1);
            __builtin_prefetch(&acc->hll_country[k->country][k->src_hash >> (64 - ROLLUP_HLL_P)],
                               1);
        }
        for (size_t j = 0; j < m; j++)
            rollup_add(acc, &flows[base + j], rollup_pos_keyed(&keys[base + j]));
    }
}

/*
 * The @a n counters of @a flat that @a keys name (sorted here), ascending,
 * each cleared behind it. (transfer full)
 */
static rollup_item *rollup_take_items(rollup_counter *flat, guint32 *keys, guint n)
{
    rollup_item *items = g_new(rollup_item, MAX(n, 1));

    touched_sort_alloc(keys, n);
    for (guint i = 0; i < n; i++) {
        items[i].key = keys[i];
        items[i].c = flat[keys[i]];
        flat[keys[i]] = (rollup_counter){0};
    }
    return items;
}

/*
 * Reset what a bucket kept beside its flat arrays, field by field: the flat
 * arrays (port, country, hll, hll_country, country_seen) are cleared slot by
 * slot as rollup_snapshot reads them, the touched lists and src need no
 * clearing once their counts are zero, start is set by bucket_open. A field
 * added to rollup_dense is reset here or in rollup_snapshot.
 */
static void rollup_dense_reset(rollup_dense *d)
{
    memset(d->total, 0, sizeof d->total);
    d->minutes = 0;
    memset(d->rates, 0, sizeof d->rates);
    memset(d->rate_records, 0, sizeof d->rate_records);
    d->nrates = 0;
    d->observed = 0;
    d->nports = 0;
    d->ncountries = 0;
    d->nsketches = 0;
}

/*
 * The touched slots of @a d into a new snapshot, sorted, each cleared behind
 * it; @a d is left as bucket_open wants it (rollup_dense_reset) and kept as a
 * spare. Costs what the bucket touched.
 */
static rollup_acc *rollup_snapshot(rollup_state *s, rollup_dense *d)
{
    rollup_acc *acc = rollup_store_take_acc(s->store);

    acc->nports = d->nports;
    acc->ports = rollup_take_items(&d->port[0][0], d->port_keys, d->nports);
    acc->ncountries = d->ncountries;
    acc->countries = rollup_take_items(&d->country[0][0], d->country_keys, d->ncountries);
    if (d->observed <= ROLLUP_SPARSE_SOURCES) {
        /* the sources themselves; only the registers they set are cleared */
        acc->nsrcs = (guint)d->observed;
        acc->srcs = acc->nsrcs > 0 ? g_memdup2(d->src, acc->nsrcs * sizeof *d->src) : NULL;
        for (guint i = 0; i < acc->nsrcs; i++) {
            guint idx = (guint)(d->src[i].h >> (64 - ROLLUP_HLL_P));
            d->hll[idx] = 0;
            d->hll_country[d->src[i].ci][idx] = 0;
        }
        for (guint i = 0; i < d->nsketches; i++)
            d->country_seen[d->sketch_keys[i] / 64] = 0;
    } else {
        acc->nsketches = d->nsketches;
        acc->sketches = g_new(rollup_sketch, MAX(d->nsketches, 1));
        touched_sort_alloc(d->sketch_keys, d->nsketches);
        for (guint i = 0; i < d->nsketches; i++) {
            guint ci = d->sketch_keys[i];
            acc->sketches[i].ci = ci;
            memcpy(acc->sketches[i].regs, d->hll_country[ci], ROLLUP_HLL_M);
            memset(d->hll_country[ci], 0, ROLLUP_HLL_M);
            d->country_seen[ci / 64] = 0;
        }
        acc->hll = g_memdup2(d->hll, ROLLUP_HLL_M);
        memset(d->hll, 0, sizeof d->hll);
    }
    memcpy(acc->total, d->total, sizeof acc->total);
    acc->minutes = d->minutes;
    memcpy(acc->rates, d->rates, sizeof acc->rates);
    memcpy(acc->rate_records, d->rate_records, sizeof acc->rate_records);
    acc->nrates = d->nrates;
    acc->observed = d->observed;
    rollup_dense_reset(d);
    g_ptr_array_add(s->spare, d);
    return acc;
}

static void rollup_bucket_close(void *state, void *accp, const tt_bucket *bucket)
{
    rollup_state *s = state;
    rollup_acc *acc = rollup_snapshot(s, accp);
    rollup_sensor *rs = rollup_sensor_of(s, bucket->sensor);

    acc->has_bucket = TRUE;
    acc->start = bucket->start;
    acc->end = bucket->end;
    const char *name = bucket->sensor_name;
    if (name == NULL && s->host->sensor_name != NULL)
        name = s->host->sensor_name(s->host, bucket->sensor);
    acc->sensor = name != NULL ? g_strdup(name) : g_strdup_printf("sensor-%u", bucket->sensor);

    tt_sensor_info info = {.struct_size = sizeof info};
    if (s->host->struct_size >= G_STRUCT_OFFSET(tt_host, sensor_info) + sizeof(void *) &&
        s->host->sensor_info != NULL && s->host->sensor_info(s->host, bucket->sensor, &info)) {
        acc->has_info = TRUE;
        acc->leaks = info.leaks >= rs->leaks_seen ? info.leaks - rs->leaks_seen : info.leaks;
        rs->leaks_seen = info.leaks;
        acc->dark_size = info.dark_size;
        acc->geoip_type = g_strdup(info.geoip_type);
        acc->geoip_build = info.geoip_build;
    }
    acc->late = g_steal_pointer(&rs->late);
    acc->loss = rollup_take_losses(s, acc->sensor);
    acc->loss_day = bucket->start;
    if (!s->closed_any || bucket->start > s->last_start)
        s->last_start = bucket->start;
    s->closed_any = TRUE;
    acc->replay = rollup_replaying(s->host);
    acc->store = rollup_store_ref(s->store);
    acc->host = s->host;
    rollup_submit(s, acc, rollup_acc_bytes(acc));
}

static void rollup_on_late_flow(void *state, const tt_flow *flow, const tt_bucket *bucket)
{
    rollup_state *s = state;
    rollup_sensor *rs = rollup_sensor_of(s, bucket->sensor);
    if (rs->late == NULL)
        rs->late = g_array_new(FALSE, FALSE, sizeof(rollup_late));
    rollup_late l = {.flow = *flow, .bucket_start = bucket->start};
    g_array_append_val(rs->late, l);
}

static const tt_plugin_info rollup_info = {
    TT_PLUGIN_HEADER("rollup", "1.0", "exact per-day counters in SQLite for rank tables"),
    .init = rollup_init,
    .fini = rollup_fini,
    .bucket_open = rollup_bucket_open,
    .on_flow = rollup_on_flow,
    .bucket_close = rollup_bucket_close,
    .on_late_flow = rollup_on_late_flow,
    .all_closed = NULL,
    .on_flows = rollup_on_flows,
    .on_flows_keyed = rollup_on_flows_keyed,
};

TT_PLUGIN_EXPORT const tt_plugin_info *tt_plugin_entry(void);
const tt_plugin_info *tt_plugin_entry(void)
{
    return &rollup_info;
}
