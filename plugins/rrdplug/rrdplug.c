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
 * front. Growth allocates at most log2(cap / 4096) times per bucket (the one
 * allocation on_flow may do, amortised to nothing per flow). Each new
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
 * array and its set are two misses per flow otherwise).
 *
 * Life cycle: bucket_close hands the sensor's bucket to a writer job for the
 * per-sensor files and keeps it (a reference) until all_closed covers its
 * start; then one job merges every sensor's bucket of that start and writes
 * the all-sensor files. Idle keys are never written (store.c fills the gaps).
 *
 * Rejected: a HyperLogLog per key (2^12 registers x 131 073 keys x open
 * buckets is gigabytes); a hash table per key (allocation on the hot path);
 * 32-bit fingerprints (half the memory, but ~n^2/2^33 collisions: 8 expected
 * at 262 144 pairs, no longer exact).
 */
#include "rrdplug.h"

#include <math.h>
#include <string.h>

#define RRDPLUG_SOURCES_MAX_DEFAULT 262144
#define RRDPLUG_HASH_BITS 46
#define RRDPLUG_SET_MIN_SLOTS 4096
/* flows hashed and prefetched ahead: more misses in flight than a core tracks,
 * few enough that the chunk's keys and entries stay in L1 */
#define RRDPLUG_BATCH 32

struct rrdplug_acc {
    gint ref;
    uint32_t nkeys;
    rrdplug_counter *c; /* dense over nkeys while open; only the touched keys once compact */
    uint32_t *keys;     /* NULL while open; the touched keys, ascending, once compact */
    uint32_t nsparse;   /* entries of c and keys once compact */
    uint64_t *set;
    uint64_t set_mask;
    uint32_t set_shift; /* 64 - log2(slots): home slot = top bits of a product */
    uint64_t set_cap;   /* slots the set may grow to: 2 x set_max, a power of two */
    uint32_t set_used, set_max;
    uint32_t set_grow_at; /* set_used that doubles the set: half its slots */
    gboolean saturated;
    int64_t start, end;
    char *sensor; /* file-safe sensor name */
};

typedef struct rrdplug_state {
    const rrdplug_dim *dim;
    const tt_host *host;
    gboolean per_sensor;
    uint32_t sources_max;
    GList *held;             /* of rrdplug_acc*, closed and waiting for all_closed */
    gint *saturation_logged; /* shared with jobs */
} rrdplug_state;

/* ---- accumulator -------------------------------------------------------- */

/* An empty set of @a slots (a power of two); the old one is the caller's. */
static void rrdplug_set_alloc(rrdplug_acc *acc, uint64_t slots)
{
    acc->set = g_new0(uint64_t, slots);
    acc->set_mask = slots - 1;
    acc->set_shift = 64u - (uint32_t)g_bit_storage(slots - 1);
    acc->set_used = 0;
    acc->set_grow_at = slots >= acc->set_cap ? UINT32_MAX : (uint32_t)(slots / 2);
}

/*
 * The top bits of the product depend on every bit of the entry, the key's too.
 * (Middle bits, as first done here, ignored the key: one source scanning every
 * port put all its pairs on one home slot, and probes ran hundreds long.)
 */
static inline uint64_t rrdplug_set_home(const rrdplug_acc *acc, uint64_t entry)
{
    return (entry * 0x9e3779b97f4a7c15ull) >> acc->set_shift;
}

/* Put an entry known to be absent (rehashing); no accounting. */
static void rrdplug_set_put(rrdplug_acc *acc, uint64_t entry)
{
    uint64_t i = rrdplug_set_home(acc, entry);
    while (acc->set[i] != 0)
        i = (i + 1) & acc->set_mask;
    acc->set[i] = entry;
    acc->set_used++;
}

/* Rehash into @a slots. */
static void rrdplug_set_resize(rrdplug_acc *acc, uint64_t slots)
{
    uint64_t *old = acc->set, oldn = acc->set_mask + 1;
    rrdplug_set_alloc(acc, slots);
    for (uint64_t i = 0; i < oldn; i++)
        if (old[i] != 0)
            rrdplug_set_put(acc, old[i]);
    g_free(old);
}

rrdplug_acc *rrdplug_acc_new(uint32_t nkeys, uint32_t sources_max)
{
    rrdplug_acc *acc = g_new0(rrdplug_acc, 1);
    acc->ref = 1;
    acc->nkeys = nkeys;
    acc->c = g_new0(rrdplug_counter, nkeys);
    uint64_t cap = 16;
    while (cap < 2ull * sources_max)
        cap <<= 1;
    acc->set_cap = cap;
    acc->set_max = sources_max;
    rrdplug_set_alloc(acc, MIN(cap, RRDPLUG_SET_MIN_SLOTS));
    return acc;
}

void rrdplug_acc_unref(rrdplug_acc *acc)
{
    if (acc == NULL || !g_atomic_int_dec_and_test(&acc->ref))
        return;
    g_free(acc->c);
    g_free(acc->keys);
    g_free(acc->set);
    g_free(acc->sensor);
    g_free(acc);
}

/* Dense slot count, or the sparse entries once compact. */
static uint32_t rrdplug_acc_len(const rrdplug_acc *acc)
{
    return acc->keys != NULL ? acc->nsparse : acc->nkeys;
}

static uint32_t rrdplug_acc_key(const rrdplug_acc *acc, uint32_t i)
{
    return acc->keys != NULL ? acc->keys[i] : i;
}

static uint64_t rrdplug_hash(const uint8_t a[16])
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    uint64_t h = x * 0x9e3779b97f4a7c15ull ^ (y + 0x632be59bd9b4e019ull);
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 29;
    return h;
}

/* Insert a set entry; TRUE when it was new and counted. */
static gboolean rrdplug_set_insert(rrdplug_acc *acc, uint64_t entry)
{
    /* full: no insert can count any more, so skip the probe (and its cache miss) */
    if (acc->saturated)
        return FALSE;
    uint64_t i = rrdplug_set_home(acc, entry);
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
        rrdplug_set_put(acc, entry);
        return TRUE;
    }
    acc->set[i] = entry;
    acc->set_used++;
    return TRUE;
}

static inline uint64_t rrdplug_entry(uint32_t key, const tt_flow *flow)
{
    return (uint64_t)(key + 1) << RRDPLUG_HASH_BITS |
           (rrdplug_hash(flow->src) & ((1ull << RRDPLUG_HASH_BITS) - 1));
}

static inline void rrdplug_acc_add_entry(rrdplug_acc *acc, uint32_t key, uint64_t entry,
                                         const tt_flow *flow)
{
    rrdplug_counter *c = &acc->c[key];
    c->flows++;
    c->packets += flow->packets;
    c->bytes += flow->bytes;
    c->touched = 1;
    if (rrdplug_set_insert(acc, entry))
        c->sources++;
}

void rrdplug_acc_add(rrdplug_acc *acc, uint32_t key, const tt_flow *flow)
{
    rrdplug_acc_add_entry(acc, key, rrdplug_entry(key, flow), flow);
}

void rrdplug_acc_merge(rrdplug_acc *dst, const rrdplug_acc *src)
{
    g_return_if_fail(dst->keys == NULL);
    for (uint32_t i = 0; i < rrdplug_acc_len(src); i++) {
        const rrdplug_counter *s = &src->c[i];
        uint32_t k = rrdplug_acc_key(src, i);
        if (!s->touched)
            continue;
        dst->c[k].flows += s->flows;
        dst->c[k].packets += s->packets;
        dst->c[k].bytes += s->bytes;
        dst->c[k].touched = 1;
    }
    for (uint64_t i = 0; i <= src->set_mask; i++) {
        uint64_t e = src->set[i];
        if (e != 0 && rrdplug_set_insert(dst, e))
            dst->c[(e >> RRDPLUG_HASH_BITS) - 1].sources++;
    }
    if (src->saturated)
        dst->saturated = TRUE;
}

const rrdplug_counter *rrdplug_acc_get(const rrdplug_acc *acc, uint32_t key)
{
    static const rrdplug_counter zero;
    if (acc->keys == NULL)
        return &acc->c[key];
    uint32_t lo = 0, hi = acc->nsparse;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (acc->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < acc->nsparse && acc->keys[lo] == key ? &acc->c[lo] : &zero;
}

/*
 * A closed bucket keeps only what it saw: the touched keys and a source set
 * sized to its entries. A dense port accumulator is 3 MiB and its source set
 * 4 MiB; all-sensor files hold closed buckets until the slowest sensor passes
 * them, and a sensor hours ahead of another (a replay, a lagging exporter)
 * would otherwise hold gigabytes.
 */
void rrdplug_acc_compact(rrdplug_acc *acc)
{
    if (acc->keys != NULL)
        return;
    uint32_t n = 0;
    for (uint32_t k = 0; k < acc->nkeys; k++)
        n += acc->c[k].touched != 0;
    rrdplug_counter *sc = g_new(rrdplug_counter, MAX(n, 1));
    uint32_t *keys = g_new(uint32_t, MAX(n, 1));
    for (uint32_t k = 0, i = 0; k < acc->nkeys; k++) {
        if (acc->c[k].touched) {
            keys[i] = k;
            sc[i++] = acc->c[k];
        }
    }
    g_free(acc->c);
    acc->c = sc;
    acc->keys = keys;
    acc->nsparse = n;

    uint64_t slots = 16;
    while (slots < 2ull * acc->set_used)
        slots <<= 1;
    if (slots < acc->set_mask + 1)
        rrdplug_set_resize(acc, slots);
}

gboolean rrdplug_acc_saturated(const rrdplug_acc *acc)
{
    return acc->saturated;
}

/* ---- writer jobs -------------------------------------------------------- */

typedef struct rrdplug_job {
    const rrdplug_dim *dim;
    const tt_host *host;
    GPtrArray *accs;      /* of rrdplug_acc* (references) */
    gboolean all_sensors; /* merge and write the all-sensor files, else per-sensor */
    gint *saturation_logged;
} rrdplug_job;

static void rrdplug_write(rrdplug_job *job, const rrdplug_acc *acc, const char *prefix,
                          const char *scope, tt_rrd_kind kind)
{
    char key_path[64];
    guint errors = 0;
    if (acc->saturated && g_atomic_int_compare_and_exchange(job->saturation_logged, 0, 1))
        g_warning("%s: more distinct (key, source) pairs in one step than sources-max; "
                  "`sources` is a lower bound from %" G_GINT64_FORMAT " on",
                  job->dim->name, acc->start);
    for (uint32_t i = 0; i < rrdplug_acc_len(acc); i++) {
        const rrdplug_counter *c = &acc->c[i];
        uint32_t k = rrdplug_acc_key(acc, i);
        if (!c->touched)
            continue;
        job->dim->path(k, key_path, sizeof key_path);
        g_autofree char *path = g_strconcat(prefix, key_path, NULL);
        tt_rrd_values v = {c->flows, c->packets, c->bytes, (double)c->sources};
        g_autoptr(GError) error = NULL;
        if (!job->host->rrd_update(job->host, kind, scope, path, acc->start, acc->end, &v,
                                   &error) &&
            errors++ < 3)
            g_warning("%s: %s", job->dim->name, error->message);
    }
}

static void rrdplug_job_run(void *data)
{
    rrdplug_job *job = data;
    if (!job->all_sensors) {
        const rrdplug_acc *acc = g_ptr_array_index(job->accs, 0);
        g_autofree char *prefix = g_strdup_printf("sensor/%s/", acc->sensor);
        rrdplug_write(job, acc, prefix, acc->sensor, job->dim->sensor_kind);
        return;
    }
    const rrdplug_acc *first = g_ptr_array_index(job->accs, 0);
    if (job->accs->len == 1) {
        rrdplug_write(job, first, "", NULL, job->dim->kind);
        return;
    }
    rrdplug_acc *sum = rrdplug_acc_new(first->nkeys, first->set_max * job->accs->len);
    sum->start = first->start;
    sum->end = first->end;
    for (guint i = 0; i < job->accs->len; i++)
        rrdplug_acc_merge(sum, g_ptr_array_index(job->accs, i));
    rrdplug_write(job, sum, "", NULL, job->dim->kind);
    rrdplug_acc_unref(sum);
}

static void rrdplug_job_free(void *data)
{
    rrdplug_job *job = data;
    g_ptr_array_unref(job->accs);
    g_free(job);
}

static void rrdplug_submit(rrdplug_state *st, GPtrArray *accs, gboolean all_sensors)
{
    rrdplug_job *job = g_new0(rrdplug_job, 1);
    job->dim = st->dim;
    job->host = st->host;
    job->accs = accs;
    job->all_sensors = all_sensors;
    job->saturation_logged = st->saturation_logged;
    st->host->submit(st->host, rrdplug_job_run, job, rrdplug_job_free);
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
                        "[%s] %s: unknown key", group, *k);
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
    /* shared with queued jobs; freed by the last job fini queues (jobs run in order) */
    st->saturation_logged = g_new0(gint, 1);
    *state = st;
    return TRUE;
}

static gint rrdplug_by_start(gconstpointer a, gconstpointer b)
{
    const rrdplug_acc *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Hand every held bucket starting before @a end to the all-sensor writer. */
static void rrdplug_release(rrdplug_state *st, int64_t end)
{
    while (st->held != NULL) {
        rrdplug_acc *head = st->held->data;
        if (head->start >= end)
            break;
        GPtrArray *accs = g_ptr_array_new_with_free_func((GDestroyNotify)rrdplug_acc_unref);
        while (st->held != NULL && ((rrdplug_acc *)st->held->data)->start == head->start) {
            g_ptr_array_add(accs, st->held->data);
            st->held = g_list_delete_link(st->held, st->held);
        }
        rrdplug_submit(st, accs, TRUE);
    }
}

void rrdplug_fini(void *state)
{
    rrdplug_state *st = state;
    rrdplug_release(st, INT64_MAX);
    st->host->submit(st->host, rrdplug_finish_run, (void *)st->host, NULL);
    st->host->submit(st->host, rrdplug_nothing_run, st->saturation_logged, g_free);
    g_free(st);
}

void *rrdplug_bucket_open(void *state, const tt_bucket *bucket)
{
    rrdplug_state *st = state;
    rrdplug_acc *acc = rrdplug_acc_new(st->dim->nkeys, st->sources_max);
    acc->start = bucket->start;
    acc->end = bucket->end;
    acc->sensor =
        g_strdelimit(g_strdup(bucket->sensor_name != NULL ? bucket->sensor_name : "?"), "/\\", '_');
    return acc;
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
                __builtin_prefetch(&acc->set[rrdplug_set_home(acc, entries[j])], 1);
        }
        for (size_t j = 0; j < m; j++)
            if (keys[j] != RRDPLUG_NO_KEY)
                rrdplug_acc_add_entry(acc, keys[j], entries[j], &flows[base + j]);
    }
}

void rrdplug_bucket_close(void *state, void *accp, const tt_bucket *bucket)
{
    rrdplug_state *st = state;
    rrdplug_acc *acc = accp;
    if (acc == NULL)
        return;
    rrdplug_acc_compact(acc);
    if (st->per_sensor) {
        GPtrArray *one = g_ptr_array_new_with_free_func((GDestroyNotify)rrdplug_acc_unref);
        g_atomic_int_inc(&acc->ref);
        g_ptr_array_add(one, acc);
        rrdplug_submit(st, one, FALSE);
    }
    st->held = g_list_insert_sorted(st->held, acc, rrdplug_by_start);
    (void)bucket;
}

void rrdplug_all_closed(void *state, int64_t start, int64_t end)
{
    rrdplug_release(state, end);
    (void)start;
}
