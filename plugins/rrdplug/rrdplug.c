/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rrdplug.c - closed buckets to RRD steps, shared by port, country and total.
 *
 * Accumulator: one counter per key in a flat array (131 073 for the port
 * space, 676 countries, 1 total), so on_flow is an index and three adds.
 * Distinct sources per step: one open-addressing set of 64-bit entries per
 * bucket, entry = (key + 1) << 46 | 46 bits of a hash of the source address.
 * It starts at 4 096 slots (32 KiB) and doubles when half full, up to twice
 * `sources-max` slots (8 bytes each; the default 262 144 pairs = 4 MiB), so a
 * bucket touches only the memory its distinct pairs need: the total and
 * country sets of a bench bucket stay in cache, and nothing is cleared up
 * front. Growth allocates at most log2(cap / 4096) times per accumulator (the
 * one allocation on_flow may do, amortised to nothing per flow; a recycled
 * accumulator keeps the size its busiest bucket grew it to). Each new
 * (key, source) pair increments that key's `sources`: exact (up to hash
 * collisions, ~n^2/2^47) while the bucket holds at most `sources-max` distinct
 * pairs over all keys; past that, new pairs are not counted, the value is a
 * lower bound, the set is no longer probed (no insert could count), and the
 * plugin says so once in the log. All-sensor files merge the sensors' sets,
 * so a source seen by two sensors counts once.
 *
 * Batches: on_flows (ABI 1.2) hashes a run of flows first and prefetches
 * their counters and home slots, then inserts, so the cache misses of a run
 * overlap instead of following one another (the port plugin's 4 MiB counter
 * array and its set are two misses per flow otherwise). on_flows_keyed (ABI
 * 1.5) does the same with the collector's keys: the source hash (the one
 * tt_addr_hash every path uses, so entries agree whichever way a flow came) and
 * the key (a port slot, a country index) are computed once for all plugins.
 *
 * Life cycle: bucket_close takes a snapshot of what the bucket touched (its
 * keys, sorted, their counters, its set entries from the log) and clears
 * exactly those slots, so the dense arrays go back to a spare list for the
 * next bucket_open: a closed bucket costs what it touched, never the key
 * space, on the dispatch thread or the writer's, and a sparse replay (months
 * of steps holding one or two flows) faults in no fresh pages. The snapshot
 * goes to a writer job for the per-sensor files and is kept (a reference)
 * until all_closed covers its start; then one job merges every sensor's
 * snapshot of that start (a walk of sorted keys and one set sized for their
 * entries) and writes the all-sensor files. With a single sensor (the
 * host's sensor_count is 1) no other snapshot can join a step's: its
 * all-sensor job goes at the close itself, ahead of the other plugins' jobs
 * of that close rather than after them (all_closed comes once every plugin
 * has closed), so in a --read rrdcached gets the port space's first lines
 * while the rollup plugin commits its first bucket (bench/read: ~0.3 s of a
 * 10 M-record read). Idle keys are never written
 * (store.c fills the gaps with one 0 at the next step with data).
 * The set logs the slot of each entry it takes, so growth rehashes and the
 * close clears only entries, never empty slots.
 *
 * Rejected: a HyperLogLog per key (2^12 registers x 131 073 keys x open
 * buckets is gigabytes); a hash table per key (allocation on the hot path);
 * a fresh zeroed accumulator per bucket and a compaction walk over all keys
 * at the close (as first built: 51 % of a sparse replay's dispatch thread,
 * a third of it page faults); a dirty bitmap (still a walk of the bitmap);
 * 32-bit fingerprints (half the memory, but ~n^2/2^33 collisions: 8 expected
 * at 262 144 pairs, no longer exact).
 */
#include "rrdplug.h"

#include <math.h>
#include <string.h>

#include "prefault.h"
#include "touched.h"

#define RRDPLUG_SOURCES_MAX_DEFAULT 262144
#define RRDPLUG_HASH_BITS 46
#define RRDPLUG_SET_MIN_SLOTS 4096
/* flows hashed and prefetched ahead: more misses in flight than a core tracks,
 * few enough that the chunk's keys and entries stay in L1 */
#define RRDPLUG_BATCH 32
/* a close walks the dense array (or the whole set) instead of its lists when
 * that is at most this many slots per touched key (or entry): still what the
 * bucket touched, in one sequential pass instead of a sort and random reads */
#define RRDPLUG_DENSE_RATIO 8

struct rrdplug_acc {
    uint32_t nkeys;
    rrdplug_counter *c; /* dense over nkeys; zero but for the touched keys */
    uint32_t *touched;  /* the keys with a flow, in first-touch order (room for nkeys) */
    uint32_t ntouched;
    uint64_t *set;
    uint32_t *set_log; /* slot of each entry in insertion order (room for half the slots) */
    uint64_t set_mask;
    uint32_t set_shift; /* 64 - log2(slots): home slot = top bits of a product */
    uint64_t set_cap;   /* slots the set may grow to: 2 x set_max, a power of two */
    uint32_t set_used, set_max;
    uint32_t set_grow_at; /* set_used that doubles the set: half its slots */
    gboolean saturated;
};

struct rrdplug_snap {
    gint ref;
    uint32_t n;         /* touched keys */
    uint32_t *keys;     /* ascending */
    rrdplug_counter *c; /* parallel to keys */
    uint32_t nentries;
    uint64_t *entries; /* the distinct (key, source) entries; none in a merged sum */
    gboolean saturated;
    int64_t start, end;
    char *sensor; /* file-safe sensor name */
};

typedef struct rrdplug_state {
    const rrdplug_dim *dim;
    const tt_host *host;
    gboolean per_sensor;
    uint32_t sources_max;
    GTree *held;             /* start (int64_t *) -> GPtrArray of rrdplug_snap *, closed and
                              * waiting for all_closed: sensors far apart in stream time
                              * (one replaying months behind) make it thousands of steps long */
    GPtrArray *spare;        /* of rrdplug_acc*, cleared, for the next bucket_open */
    gint *saturation_logged; /* shared with jobs */
} rrdplug_state;

/* ---- open accumulator ---------------------------------------------------- */

/* An empty set of @a slots (a power of two) and a log with room for its entries. */
static void rrdplug_set_alloc(rrdplug_acc *acc, uint64_t slots)
{
    acc->set = g_new0(uint64_t, slots);
    acc->set_log = g_renew(uint32_t, acc->set_log, MAX(slots / 2, 1));
    acc->set_mask = slots - 1;
    acc->set_shift = 64u - (uint32_t)g_bit_storage(slots - 1);
    acc->set_grow_at = slots >= acc->set_cap ? UINT32_MAX : (uint32_t)(slots / 2);
}

/*
 * The top bits of the product depend on every bit of the entry, the key's too.
 * (Middle bits, as first done here, ignored the key: one source scanning every
 * port put all its pairs on one home slot, and probes ran hundreds long.)
 */
static inline uint64_t rrdplug_set_home(uint64_t entry, uint32_t shift)
{
    return (entry * 0x9e3779b97f4a7c15ull) >> shift;
}

/* Put an entry known to be absent; returns its slot. */
static uint64_t rrdplug_set_put(uint64_t *set, uint64_t mask, uint32_t shift, uint64_t entry)
{
    uint64_t i = rrdplug_set_home(entry, shift);
    while (set[i] != 0)
        i = (i + 1) & mask;
    set[i] = entry;
    return i;
}

/* Rehash into @a slots: the log names every entry, so this costs the entries, not the slots. */
static void rrdplug_set_resize(rrdplug_acc *acc, uint64_t slots)
{
    uint64_t *old = acc->set;
    rrdplug_set_alloc(acc, slots);
    for (uint32_t i = 0; i < acc->set_used; i++)
        acc->set_log[i] = (uint32_t)rrdplug_set_put(acc->set, acc->set_mask, acc->set_shift,
                                                    old[acc->set_log[i]]);
    g_free(old);
}

rrdplug_acc *rrdplug_acc_new(uint32_t nkeys, uint32_t sources_max)
{
    rrdplug_acc *acc = g_new0(rrdplug_acc, 1);
    acc->nkeys = nkeys;
    acc->c = g_new0(rrdplug_counter, nkeys);
    acc->touched = g_new(uint32_t, nkeys);
    uint64_t cap = 16;
    while (cap < 2ull * sources_max)
        cap <<= 1;
    acc->set_cap = cap;
    acc->set_max = sources_max;
    rrdplug_set_alloc(acc, MIN(cap, RRDPLUG_SET_MIN_SLOTS));
    return acc;
}

void rrdplug_acc_free(rrdplug_acc *acc)
{
    if (acc == NULL)
        return;
    g_free(acc->c);
    g_free(acc->touched);
    g_free(acc->set);
    g_free(acc->set_log);
    g_free(acc);
}

/* Insert a set entry; TRUE when it was new and counted. */
static inline __attribute__((always_inline)) gboolean rrdplug_set_insert(rrdplug_acc *acc,
                                                                         uint64_t entry)
{
    /* full: no insert can count any more, so skip the probe (and its cache miss) */
    if (acc->saturated)
        return FALSE;
    uint64_t i = rrdplug_set_home(entry, acc->set_shift);
    for (;;) {
        uint64_t e = acc->set[i];
        if (e == entry)
            return FALSE;
        if (e == 0)
            break;
        i = (i + 1) & acc->set_mask;
    }
    if (acc->set_used >= acc->set_max) {
        acc->saturated = TRUE;
        return FALSE;
    }
    if (G_UNLIKELY(acc->set_used >= acc->set_grow_at)) {
        /* half full below the cap: double, then find the entry's slot in the new set */
        rrdplug_set_resize(acc, (acc->set_mask + 1) * 2);
        i = rrdplug_set_put(acc->set, acc->set_mask, acc->set_shift, entry);
    } else {
        acc->set[i] = entry;
    }
    acc->set_log[acc->set_used++] = (uint32_t)i;
    return TRUE;
}

/* The set entry of (@a key, the source whose tt_addr_hash is @a src_hash). */
static inline uint64_t rrdplug_entry_h(uint32_t key, uint64_t src_hash)
{
    return (uint64_t)(key + 1) << RRDPLUG_HASH_BITS |
           (src_hash & ((1ull << RRDPLUG_HASH_BITS) - 1));
}

/* The source hash is the collector's (tt_flow_keys.src_hash), so both paths give one entry. */
static inline uint64_t rrdplug_entry(uint32_t key, const tt_flow *flow)
{
    return rrdplug_entry_h(key, tt_addr_hash(flow->src));
}

static inline __attribute__((always_inline)) void
rrdplug_acc_add_entry(rrdplug_acc *acc, uint32_t key, uint64_t entry, const tt_flow *flow)
{
    rrdplug_counter *c = &acc->c[key];
    if (!c->touched) {
        c->touched = 1;
        acc->touched[acc->ntouched++] = key;
    }
    c->flows++;
    c->packets += flow->packets;
    c->bytes += flow->bytes;
    if (rrdplug_set_insert(acc, entry))
        c->sources++;
}

void rrdplug_acc_add(rrdplug_acc *acc, uint32_t key, const tt_flow *flow)
{
    rrdplug_acc_add_entry(acc, key, rrdplug_entry(key, flow), flow);
}

const rrdplug_counter *rrdplug_acc_get(const rrdplug_acc *acc, uint32_t key)
{
    return &acc->c[key];
}

gboolean rrdplug_acc_saturated(const rrdplug_acc *acc)
{
    return acc->saturated;
}

uint32_t rrdplug_acc_touched(const rrdplug_acc *acc)
{
    return acc->ntouched;
}

/* ---- closed buckets ------------------------------------------------------ */

/*
 * A closed bucket keeps only what it saw: the touched keys, sorted (so an
 * all-sensor merge is a walk and a lookup a bisection), and its entries as a
 * plain array. The dense arrays stay behind, cleared slot by slot from the
 * touched list and log, for the next bucket: a 4 MiB port accumulator is
 * faulted in once per open bucket of the run, not once per step. All-sensor
 * files hold closed buckets until the slowest sensor passes them; a sensor
 * hours ahead of another holds what its buckets touched, not 4 MiB each.
 */
rrdplug_snap *rrdplug_snap_take(rrdplug_acc *acc)
{
    rrdplug_snap *snap = g_new0(rrdplug_snap, 1);
    uint32_t n = acc->ntouched;
    snap->ref = 1;
    snap->n = n;
    snap->keys = g_new(uint32_t, MAX(n, 1));
    snap->c = g_new(rrdplug_counter, MAX(n, 1));
    if ((uint64_t)n * RRDPLUG_DENSE_RATIO >= acc->nkeys) {
        /* a dense bucket: one sequential pass (at most RATIO slots per key) beats sorting */
        for (uint32_t k = 0, i = 0; i < n; k++) {
            if (!acc->c[k].touched)
                continue;
            snap->keys[i] = k;
            snap->c[i++] = acc->c[k];
            memset(&acc->c[k], 0, sizeof acc->c[k]);
        }
    } else {
        memcpy(snap->keys, acc->touched, n * sizeof *snap->keys);
        touched_sort_alloc(snap->keys, n);
        for (uint32_t i = 0; i < n; i++) {
            rrdplug_counter *c = &acc->c[snap->keys[i]];
            snap->c[i] = *c;
            memset(c, 0, sizeof *c);
        }
    }
    uint32_t used = acc->set_used;
    snap->nentries = used;
    snap->entries = g_new(uint64_t, MAX(used, 1));
    if ((acc->set_mask + 1) <= (uint64_t)used * RRDPLUG_DENSE_RATIO) {
        /* the log's order is random over the set: sequential is cheaper when it is this full */
        for (uint64_t i = 0, j = 0; j < used; i++)
            if (acc->set[i] != 0)
                snap->entries[j++] = acc->set[i];
        memset(acc->set, 0, (acc->set_mask + 1) * sizeof *acc->set);
    } else {
        for (uint32_t i = 0; i < used; i++) {
            snap->entries[i] = acc->set[acc->set_log[i]];
            acc->set[acc->set_log[i]] = 0;
        }
    }
    snap->saturated = acc->saturated;
    acc->ntouched = 0;
    acc->set_used = 0;
    acc->saturated = FALSE;
    return snap;
}

void rrdplug_snap_unref(rrdplug_snap *snap)
{
    if (snap == NULL || !g_atomic_int_dec_and_test(&snap->ref))
        return;
    g_free(snap->keys);
    g_free(snap->c);
    g_free(snap->entries);
    g_free(snap->sensor);
    g_free(snap);
}

static uint32_t rrdplug_snap_index(const rrdplug_snap *snap, uint32_t key)
{
    uint32_t lo = 0, hi = snap->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (snap->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const rrdplug_counter *rrdplug_snap_get(const rrdplug_snap *snap, uint32_t key)
{
    static const rrdplug_counter zero;
    uint32_t i = rrdplug_snap_index(snap, key);
    return i < snap->n && snap->keys[i] == key ? &snap->c[i] : &zero;
}

gboolean rrdplug_snap_saturated(const rrdplug_snap *snap)
{
    return snap->saturated;
}

/*
 * Writer thread: the union of the keys (sorted, deduplicated), counts added
 * by walking each sorted snapshot beside it, and every entry put in one set
 * sized for all of them, a new pair counting one source for its key. The
 * sum never saturates (its set has room for every entry); it is a lower
 * bound when one of its parts was.
 */
rrdplug_snap *rrdplug_snap_merge(rrdplug_snap *const *snaps, guint n)
{
    g_return_val_if_fail(n > 0, NULL);
    size_t nkeys = 0, nentries = 0;
    for (guint s = 0; s < n; s++) {
        nkeys += snaps[s]->n;
        nentries += snaps[s]->nentries;
    }
    rrdplug_snap *sum = g_new0(rrdplug_snap, 1);
    sum->ref = 1;
    sum->start = snaps[0]->start;
    sum->end = snaps[0]->end;
    sum->keys = g_new(uint32_t, MAX(nkeys, 1));
    for (guint s = 0, at = 0; s < n; at += snaps[s]->n, s++)
        memcpy(sum->keys + at, snaps[s]->keys, snaps[s]->n * sizeof *sum->keys);
    touched_sort_alloc(sum->keys, nkeys);
    uint32_t m = 0;
    for (size_t i = 0; i < nkeys; i++)
        if (m == 0 || sum->keys[m - 1] != sum->keys[i])
            sum->keys[m++] = sum->keys[i];
    sum->n = m;
    sum->c = g_new0(rrdplug_counter, MAX(m, 1));
    for (guint s = 0; s < n; s++) {
        const rrdplug_snap *p = snaps[s];
        for (uint32_t i = 0, j = 0; i < p->n; i++) {
            while (sum->keys[j] < p->keys[i])
                j++;
            sum->c[j].flows += p->c[i].flows;
            sum->c[j].packets += p->c[i].packets;
            sum->c[j].bytes += p->c[i].bytes;
            sum->c[j].touched = 1;
        }
        if (p->saturated)
            sum->saturated = TRUE;
    }
    uint64_t slots = 16;
    while (slots < 2 * (uint64_t)nentries)
        slots <<= 1;
    uint64_t *set = g_new0(uint64_t, slots), mask = slots - 1;
    uint32_t shift = 64u - (uint32_t)g_bit_storage(slots - 1);
    for (guint s = 0; s < n; s++) {
        for (uint32_t i = 0; i < snaps[s]->nentries; i++) {
            uint64_t e = snaps[s]->entries[i];
            uint64_t h = rrdplug_set_home(e, shift);
            while (set[h] != 0 && set[h] != e)
                h = (h + 1) & mask;
            if (set[h] == e)
                continue;
            set[h] = e;
            sum->c[rrdplug_snap_index(sum, (uint32_t)(e >> RRDPLUG_HASH_BITS) - 1)].sources++;
        }
    }
    g_free(set);
    return sum;
}

/* ---- writer jobs -------------------------------------------------------- */

typedef struct rrdplug_job {
    const rrdplug_dim *dim;
    const tt_host *host;
    GPtrArray *snaps;     /* of rrdplug_snap* (references) */
    gboolean all_sensors; /* merge and write the all-sensor files, else per-sensor */
    gint *saturation_logged;
} rrdplug_job;

static void rrdplug_write(rrdplug_job *job, const rrdplug_snap *snap, const char *prefix,
                          const char *scope, tt_rrd_kind kind)
{
    char key_path[64];
    guint errors = 0;
    g_autoptr(GError) first = NULL;
    if (snap->saturated && g_atomic_int_compare_and_exchange(job->saturation_logged, 0, 1))
        g_warning("%s: more distinct (key, source) pairs in one step than sources-max; "
                  "`sources` is a lower bound from %" G_GINT64_FORMAT " on",
                  job->dim->name, snap->start);
    for (uint32_t i = 0; i < snap->n; i++) {
        const rrdplug_counter *c = &snap->c[i];
        job->dim->path(snap->keys[i], key_path, sizeof key_path);
        g_autofree char *path = g_strconcat(prefix, key_path, NULL);
        tt_rrd_values v = {c->flows, c->packets, c->bytes, (double)c->sources};
        g_autoptr(GError) error = NULL;
        if (!job->host->rrd_update(job->host, kind, scope, path, snap->start, snap->end, &v,
                                   &error)) {
            errors++;
            if (first == NULL)
                first = g_steal_pointer(&error);
        }
    }
    /* one report per job (ABI 1.4): the host logs it and keeps --read's files out of its ledger */
    if (errors > 0)
        tt_host_job_failed(
            job->host, "%s: %u of %u RRD steps of bucket %" G_GINT64_FORMAT " (%s) not stored: %s",
            job->dim->name, errors, snap->n, snap->start, scope != NULL ? scope : "all sensors",
            first != NULL ? first->message : "?");
}

static void rrdplug_job_run(void *data)
{
    rrdplug_job *job = data;
    rrdplug_snap *first = g_ptr_array_index(job->snaps, 0);
    if (!job->all_sensors) {
        g_autofree char *prefix = g_strdup_printf("sensor/%s/", first->sensor);
        rrdplug_write(job, first, prefix, first->sensor, job->dim->sensor_kind);
        return;
    }
    if (job->snaps->len == 1) {
        rrdplug_write(job, first, "", NULL, job->dim->kind);
        return;
    }
    rrdplug_snap *sum =
        rrdplug_snap_merge((rrdplug_snap *const *)job->snaps->pdata, job->snaps->len);
    rrdplug_write(job, sum, "", NULL, job->dim->kind);
    rrdplug_snap_unref(sum);
}

static void rrdplug_job_free(void *data)
{
    rrdplug_job *job = data;
    g_ptr_array_unref(job->snaps);
    g_free(job);
}

static void rrdplug_submit(rrdplug_state *st, GPtrArray *snaps, gboolean all_sensors)
{
    rrdplug_job *job = g_new0(rrdplug_job, 1);
    job->dim = st->dim;
    job->host = st->host;
    job->snaps = snaps;
    job->all_sensors = all_sensors;
    job->saturation_logged = st->saturation_logged;
    /* what the snapshots hold (one shared by two jobs counts in both: an upper bound) */
    gsize bytes = sizeof *job;
    for (guint i = 0; i < snaps->len; i++) {
        const rrdplug_snap *snap = g_ptr_array_index(snaps, i);
        bytes += sizeof *snap + (gsize)snap->n * (sizeof *snap->keys + sizeof *snap->c) +
                 (gsize)snap->nentries * sizeof *snap->entries;
    }
    tt_host_submit_sized(st->host, rrdplug_job_run, job, rrdplug_job_free, bytes);
}

static void rrdplug_finish_run(void *data)
{
    const tt_host *host = data;
    host->rrd_finish(host);
}

/* A job that only carries data to its free function, behind every earlier job. */
static void rrdplug_nothing_run(void *data)
{
    (void)data;
}

/* ---- plugin callbacks --------------------------------------------------- */

static gint rrdplug_start_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
    (void)data;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

gboolean rrdplug_init(const rrdplug_dim *dim, const tt_host *host, GKeyFile *config,
                      const char *group, void **state, GError **error)
{
    if (host->abi_minor < 1 || host->rrd_update == NULL) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "[%s]: this teitend offers no RRD services (plugin ABI 1.%u < 1.1)", group,
                    host->abi_minor);
        return FALSE;
    }
    gboolean per_sensor = dim->always_per_sensor;
    uint32_t sources_max = RRDPLUG_SOURCES_MAX_DEFAULT;
    g_auto(GStrv) keys = g_key_file_get_keys(config, group, NULL, NULL);
    for (char **k = keys; k != NULL && *k != NULL; k++) {
        g_autoptr(GError) e = NULL;
        if (strcmp(*k, "per-sensor") == 0 && !dim->always_per_sensor) {
            per_sensor = g_key_file_get_boolean(config, group, *k, &e);
        } else if (strcmp(*k, "sources-max") == 0) {
            gint64 v = g_key_file_get_int64(config, group, *k, &e);
            if (e == NULL && (v < 1024 || v > (1 << 26)))
                g_set_error(&e, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                            "must be between 1024 and 67108864");
            sources_max = (uint32_t)v;
        } else {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                        "[%s] %s: unknown key (keys: %ssources-max)", group, *k,
                        dim->always_per_sensor ? "" : "per-sensor, ");
            return FALSE;
        }
        if (e != NULL) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "[%s] %s: %s",
                        group, *k, e->message);
            return FALSE;
        }
    }
    rrdplug_state *st = g_new0(rrdplug_state, 1);
    st->dim = dim;
    st->host = host;
    st->per_sensor = per_sensor;
    st->sources_max = sources_max;
    st->spare = g_ptr_array_new_with_free_func((GDestroyNotify)rrdplug_acc_free);
    if (!tt_host_checking(host)) {
        /* the first bucket's accumulator, its set at full size, mapped now (prefault.h):
         * a dense first bucket grew the set five times and faulted every page under on_flows */
        rrdplug_acc *acc = rrdplug_acc_new(dim->nkeys, sources_max);
        rrdplug_set_resize(acc, acc->set_cap);
        tt_prefault(acc->c, (size_t)acc->nkeys * sizeof *acc->c);
        tt_prefault(acc->touched, (size_t)acc->nkeys * sizeof *acc->touched);
        tt_prefault(acc->set, (size_t)(acc->set_mask + 1) * sizeof *acc->set);
        tt_prefault(acc->set_log, (size_t)((acc->set_mask + 1) / 2) * sizeof *acc->set_log);
        g_ptr_array_add(st->spare, acc);
    }
    st->held = g_tree_new_full(rrdplug_start_cmp, NULL, NULL, NULL);
    /* shared with queued jobs; freed by the last job fini queues (jobs run in order) */
    st->saturation_logged = g_new0(gint, 1);
    *state = st;
    return TRUE;
}

/* Hand every held bucket starting before @a end to the all-sensor writer. */
static void rrdplug_release(rrdplug_state *st, int64_t end)
{
    GTreeNode *node;
    while ((node = g_tree_node_first(st->held)) != NULL &&
           *(const int64_t *)g_tree_node_key(node) < end) {
        GPtrArray *snaps = g_tree_node_value(node);
        g_tree_steal(st->held, g_tree_node_key(node)); /* the key lives in the first snap */
        rrdplug_submit(st, snaps, TRUE);
    }
}

void rrdplug_fini(void *state)
{
    rrdplug_state *st = state;
    rrdplug_release(st, INT64_MAX);
    g_tree_destroy(st->held);
    st->host->submit(st->host, rrdplug_finish_run, (void *)st->host, NULL);
    st->host->submit(st->host, rrdplug_nothing_run, st->saturation_logged, g_free);
    g_ptr_array_free(st->spare, TRUE);
    g_free(st);
}

void *rrdplug_bucket_open(void *state, const tt_bucket *bucket)
{
    rrdplug_state *st = state;
    (void)bucket;
    if (st->spare->len > 0)
        return g_ptr_array_steal_index_fast(st->spare, st->spare->len - 1);
    return rrdplug_acc_new(st->dim->nkeys, st->sources_max);
}

void rrdplug_on_flow(void *state, void *acc, const tt_flow *flow)
{
    rrdplug_state *st = state;
    uint32_t key = st->dim->key(flow);
    if (key != RRDPLUG_NO_KEY)
        rrdplug_acc_add(acc, key, flow);
}

void rrdplug_on_flows(void *state, void *accp, const tt_flow *flows, size_t n)
{
    rrdplug_state *st = state;
    rrdplug_acc *acc = accp;
    uint32_t keys[RRDPLUG_BATCH];
    uint64_t entries[RRDPLUG_BATCH];
    for (size_t base = 0; base < n; base += RRDPLUG_BATCH) {
        size_t m = MIN(n - base, (size_t)RRDPLUG_BATCH);
        for (size_t j = 0; j < m; j++) {
            const tt_flow *f = &flows[base + j];
            uint32_t key = st->dim->key(f);
            keys[j] = key;
            if (key == RRDPLUG_NO_KEY)
                continue;
            entries[j] = rrdplug_entry(key, f);
            __builtin_prefetch(&acc->c[key], 1);
            if (!acc->saturated)
                __builtin_prefetch(&acc->set[rrdplug_set_home(entries[j], acc->set_shift)], 1);
        }
        for (size_t j = 0; j < m; j++)
            if (keys[j] != RRDPLUG_NO_KEY)
                rrdplug_acc_add_entry(acc, keys[j], entries[j], &flows[base + j]);
    }
}

/* The key of @a k in a dimension keyed @a by (a constant where inlined). */
static inline uint32_t rrdplug_key_of(rrdplug_by by, const tt_flow_keys *k)
{
    switch (by) {
    case RRDPLUG_BY_PORT:
        if (k->slot < TT_SLOT_PROTO)
            return k->slot;
        return k->slot == TT_SLOT_PROTO + TT_PROTO_ICMP || k->slot == TT_SLOT_PROTO + TT_PROTO_ICMP6
                   ? RRDPLUG_PORT_ICMP
                   : RRDPLUG_NO_KEY;
    case RRDPLUG_BY_COUNTRY:
        return k->country;
    case RRDPLUG_BY_NONE:
    default:
        return 0;
    }
}

/*
 * on_flows with the keys in hand: per flow a key from the collector's keys,
 * the entry from its source hash, the prefetches and the count. Inlined for
 * each dimension with @a by constant, so the key is a compare or a load.
 */
static inline __attribute__((always_inline)) void rrdplug_keyed_run(rrdplug_acc *acc, rrdplug_by by,
                                                                    const tt_flow *flows,
                                                                    const tt_flow_keys *keys,
                                                                    size_t n)
{
    uint32_t key[RRDPLUG_BATCH];
    uint64_t entries[RRDPLUG_BATCH];
    for (size_t base = 0; base < n; base += RRDPLUG_BATCH) {
        size_t m = MIN(n - base, (size_t)RRDPLUG_BATCH);
        for (size_t j = 0; j < m; j++) {
            uint32_t k = rrdplug_key_of(by, &keys[base + j]);
            key[j] = k;
            if (k == RRDPLUG_NO_KEY)
                continue;
            entries[j] = rrdplug_entry_h(k, keys[base + j].src_hash);
            if (by != RRDPLUG_BY_NONE)
                __builtin_prefetch(&acc->c[k], 1);
            if (!acc->saturated)
                __builtin_prefetch(&acc->set[rrdplug_set_home(entries[j], acc->set_shift)], 1);
        }
        for (size_t j = 0; j < m; j++)
            if (key[j] != RRDPLUG_NO_KEY)
                rrdplug_acc_add_entry(acc, key[j], entries[j], &flows[base + j]);
    }
}

void rrdplug_on_flows_keyed(void *state, void *accp, const tt_flow *flows, const tt_flow_keys *keys,
                            size_t n)
{
    rrdplug_state *st = state;
    switch (st->dim->by) {
    case RRDPLUG_BY_PORT:
        rrdplug_keyed_run(accp, RRDPLUG_BY_PORT, flows, keys, n);
        break;
    case RRDPLUG_BY_COUNTRY:
        rrdplug_keyed_run(accp, RRDPLUG_BY_COUNTRY, flows, keys, n);
        break;
    case RRDPLUG_BY_NONE:
    default:
        rrdplug_keyed_run(accp, RRDPLUG_BY_NONE, flows, keys, n);
        break;
    }
}

/*
 * The bucket's snapshot (what it touched) goes to the writer and the held
 * list; its dense arrays, cleared, back to the spares. Closes come in start
 * order per sensor but far apart across sensors (one replaying months behind
 * the others): the held steps are a tree keyed by start.
 */
void rrdplug_bucket_close(void *state, void *accp, const tt_bucket *bucket)
{
    rrdplug_state *st = state;
    rrdplug_acc *acc = accp;
    if (acc == NULL)
        return;
    rrdplug_snap *snap = rrdplug_snap_take(acc);
    g_ptr_array_add(st->spare, acc); /* all kept: see rollup.c's spares */
    snap->start = bucket->start;
    snap->end = bucket->end;
    snap->sensor =
        g_strdelimit(g_strdup(bucket->sensor_name != NULL ? bucket->sensor_name : "?"), "/\\", '_');
    if (st->per_sensor) {
        GPtrArray *one = g_ptr_array_new_with_free_func((GDestroyNotify)rrdplug_snap_unref);
        g_atomic_int_inc(&snap->ref);
        g_ptr_array_add(one, snap);
        rrdplug_submit(st, one, FALSE);
    }
    GPtrArray *step = g_tree_lookup(st->held, &snap->start);
    if (step == NULL) {
        step = g_ptr_array_new_with_free_func((GDestroyNotify)rrdplug_snap_unref);
        g_tree_insert(st->held, &snap->start, step); /* the key: the step's first snap's start */
    }
    g_ptr_array_add(step, snap);
    if (st->host->sensor_count != NULL && st->host->sensor_count(st->host) == 1)
        rrdplug_release(st, snap->end); /* the only sensor: the step is complete */
}

void rrdplug_all_closed(void *state, int64_t start, int64_t end)
{
    rrdplug_release(state, end);
    (void)start;
}
