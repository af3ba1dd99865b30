/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rrdplug.c - the RRD plugins' shared accumulator (plugins/rrdplug),
 * compiled in, against a plain reference count.
 *
 * Distinct sources must stay exact while the set grows from its first 4 096
 * slots to the cap, for a scanner hitting every port from one address (the
 * pattern that once put every pair of a source on one home slot) and for many
 * sources spread over many keys; saturation at sources-max gives exactly
 * sources-max; the closed snapshot and the all-sensor merge keep a source seen twice
 * once; and on_flows (ABI 1.2, a run at once with prefetching) leaves the
 * same counters as on_flow one by one, whatever the run lengths.
 * A closed bucket costs what it touched: an accumulator is clean after its
 * snapshot is taken (a small bucket after a dense one writes only its own
 * keys), and 20 000 buckets of one to three flows fault in no fresh pages.
 */
#include <glib.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "rrdplug.h"
#include "test_support.h"

#define T_NKEYS 131073u

static uint32_t t_key(const tt_flow *flow)
{
    /* proto 0 has no key, as the port plugin's GRE */
    return flow->proto == 0 ? RRDPLUG_NO_KEY : flow->dst_port + (flow->proto == 17 ? 65536u : 0);
}

static void t_path(uint32_t key, char *buf, size_t size)
{
    g_snprintf(buf, size, "t/%u.rrd", key);
}

static const rrdplug_dim t_dim = {
    .name = "t",
    .nkeys = T_NKEYS,
    .kind = TT_RRD_PORT,
    .sensor_kind = TT_RRD_PORT,
    .key = t_key,
    .by = RRDPLUG_BY_PORT, /* the same keys for protocols 0, 6 and 17 */
    .path = t_path,
};

static void t_submit(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn)
{
    (void)host;
    (void)run;
    if (free_fn != NULL)
        free_fn(data);
}

static gboolean t_rrd_update(const tt_host *host, tt_rrd_kind kind, const char *scope,
                             const char *path, int64_t start, int64_t end,
                             const tt_rrd_values *values, GError **error)
{
    (void)host;
    (void)kind;
    (void)scope;
    (void)path;
    (void)start;
    (void)end;
    (void)values;
    (void)error;
    return TRUE;
}

static void t_rrd_finish(const tt_host *host)
{
    (void)host;
}

static const tt_host t_host = {
    .struct_size = sizeof(tt_host),
    .abi_minor = TT_PLUGIN_ABI_MINOR,
    .data_dir = "/nonexistent",
    .step = 300,
    .submit = t_submit,
    .rrd_update = t_rrd_update,
    .rrd_finish = t_rrd_finish,
};

static void t_flow(tt_flow *f, uint32_t src, uint8_t proto, uint16_t port)
{
    memset(f, 0, sizeof *f);
    tt_addr_set_v4(f->src, src);
    f->proto = proto;
    f->dst_port = port;
    f->packets = 2;
    f->bytes = 80;
}

static int t_cmp_u64(const void *a, const void *b)
{
    const guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

/* Distinct (key, source) pairs per key, the obvious way: sort the pairs, count the changes. */
static guint *t_reference(const tt_flow *flows, size_t n)
{
    guint *distinct = g_new0(guint, T_NKEYS);
    guint64 *pairs = g_new(guint64, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = t_key(&flows[i]);
        if (k == RRDPLUG_NO_KEY)
            continue;
        uint32_t src;
        memcpy(&src, flows[i].src + 12, 4);
        pairs[m++] = (guint64)k << 32 | src;
    }
    qsort(pairs, m, sizeof *pairs, t_cmp_u64);
    for (size_t i = 0; i < m; i++)
        if (i == 0 || pairs[i] != pairs[i - 1])
            distinct[pairs[i] >> 32]++;
    g_free(pairs);
    return distinct;
}

typedef const rrdplug_counter *(*t_get_fn)(const void *acc, uint32_t key);

static const rrdplug_counter *t_get_open(const void *acc, uint32_t key)
{
    return rrdplug_acc_get(acc, key);
}

static const rrdplug_counter *t_get_closed(const void *snap, uint32_t key)
{
    return rrdplug_snap_get(snap, key);
}

/* Every key of @a acc (through @a get) against the reference count of @a flows. */
static void t_check_with(t_get_fn get, const void *acc, const tt_flow *flows, size_t n)
{
    g_autofree guint *want = t_reference(flows, n);
    g_autofree guint64 *flows_want = g_new0(guint64, T_NKEYS);
    for (size_t i = 0; i < n; i++)
        if (t_key(&flows[i]) != RRDPLUG_NO_KEY)
            flows_want[t_key(&flows[i])]++;
    for (uint32_t k = 0; k < T_NKEYS; k++) {
        const rrdplug_counter *c = get(acc, k);
        g_assert_cmpuint(c->sources, ==, want[k]);
        g_assert_cmpuint(c->flows, ==, flows_want[k]);
        g_assert_cmpuint(c->packets, ==, 2 * flows_want[k]);
    }
}

static void t_check(const rrdplug_acc *acc, const tt_flow *flows, size_t n)
{
    t_check_with(t_get_open, acc, flows, n);
}

static void t_check_snap(const rrdplug_snap *snap, const tt_flow *flows, size_t n)
{
    t_check_with(t_get_closed, snap, flows, n);
}

/* An accumulator after rrdplug_snap_take: every slot zero, as a new one. */
static void t_check_clean(const rrdplug_acc *acc)
{
    g_assert_cmpuint(rrdplug_acc_touched(acc), ==, 0);
    g_assert_false(rrdplug_acc_saturated(acc));
    for (uint32_t k = 0; k < T_NKEYS; k++) {
        const rrdplug_counter *c = rrdplug_acc_get(acc, k);
        g_assert_true(c->flows == 0 && c->packets == 0 && c->bytes == 0 && c->sources == 0 &&
                      c->touched == 0);
    }
}

/* One source scanning every TCP and UDP port, twice: 131 072 pairs, each counted once. */
static void test_scanner(void)
{
    size_t n = 2 * 131072;
    tt_flow *flows = g_new(tt_flow, n);
    for (size_t i = 0; i < n; i++)
        t_flow(&flows[i], 0xc6336401u, (i / 65536) % 2 ? 17 : 6, (uint16_t)i);
    rrdplug_acc *acc = rrdplug_acc_new(T_NKEYS, 262144);
    for (size_t i = 0; i < n; i++)
        rrdplug_acc_add(acc, t_key(&flows[i]), &flows[i]);
    g_assert_false(rrdplug_acc_saturated(acc));
    t_check(acc, flows, n);
    rrdplug_snap *snap = rrdplug_snap_take(acc);
    t_check_snap(snap, flows, n);
    t_check_clean(acc);
    /* the recycled set still knows none of the pairs: all count again */
    for (size_t i = 0; i < n; i++)
        rrdplug_acc_add(acc, t_key(&flows[i]), &flows[i]);
    t_check(acc, flows, n);
    rrdplug_snap_unref(snap);
    rrdplug_acc_free(acc);
    g_free(flows);
}

/* Many sources over many keys, with repeats, through every growth step. */
static tt_flow *t_random_flows(size_t n, guint32 seed, guint32 nsources)
{
    tt_flow *flows = g_new(tt_flow, n);
    GRand *rand = g_rand_new_with_seed(seed);
    for (size_t i = 0; i < n; i++) {
        guint32 r = g_rand_int_range(rand, 0, 100);
        uint8_t proto = 17;
        if (r < 5)
            proto = 0;
        else if (r < 60)
            proto = 6;
        t_flow(&flows[i], 0x0a000000u + g_rand_int_range(rand, 0, (gint32)nsources), proto,
               (uint16_t)g_rand_int_range(rand, 0, 2000));
    }
    g_rand_free(rand);
    return flows;
}

static void test_grow(void)
{
    size_t n = 200000; /* ~190 000 distinct pairs: 4 096 slots doubled six times */
    tt_flow *flows = t_random_flows(n, 7, 50000);
    rrdplug_acc *acc = rrdplug_acc_new(T_NKEYS, 262144);
    for (size_t i = 0; i < n; i++)
        if (t_key(&flows[i]) != RRDPLUG_NO_KEY)
            rrdplug_acc_add(acc, t_key(&flows[i]), &flows[i]);
    g_assert_false(rrdplug_acc_saturated(acc));
    t_check(acc, flows, n);
    rrdplug_snap *snap = rrdplug_snap_take(acc);
    t_check_snap(snap, flows, n);
    t_check_clean(acc);
    rrdplug_snap_unref(snap);
    rrdplug_acc_free(acc);
    g_free(flows);
}

static void test_saturation(void)
{
    rrdplug_acc *acc = rrdplug_acc_new(T_NKEYS, 1024);
    tt_flow f;
    for (uint32_t i = 0; i < 5000; i++) {
        t_flow(&f, 0x0a000000u + i, 6, (uint16_t)(i % 7));
        rrdplug_acc_add(acc, t_key(&f), &f);
    }
    g_assert_true(rrdplug_acc_saturated(acc));
    guint64 sum = 0;
    for (uint32_t k = 0; k < 7; k++)
        sum += rrdplug_acc_get(acc, k)->sources;
    g_assert_cmpuint(sum, ==, 1024);
    rrdplug_snap *snap = rrdplug_snap_take(acc);
    g_assert_true(rrdplug_snap_saturated(snap));
    t_check_clean(acc);
    rrdplug_snap_unref(snap);
    rrdplug_acc_free(acc);
}

/* Two sensors sharing half their sources: the merged set counts each pair once. */
static void test_merge(void)
{
    size_t n = 60000;
    tt_flow *flows = t_random_flows(n, 11, 20000);
    rrdplug_acc *a = rrdplug_acc_new(T_NKEYS, 262144), *b = rrdplug_acc_new(T_NKEYS, 262144);
    for (size_t i = 0; i < n; i++)
        if (t_key(&flows[i]) != RRDPLUG_NO_KEY)
            rrdplug_acc_add(i < n / 2 ? a : b, t_key(&flows[i]), &flows[i]);
    rrdplug_snap *parts[2] = {rrdplug_snap_take(a), rrdplug_snap_take(b)};
    rrdplug_snap *sum = rrdplug_snap_merge(parts, 2);
    t_check_snap(sum, flows, n);
    g_assert_false(rrdplug_snap_saturated(sum));
    rrdplug_snap_unref(sum);
    rrdplug_snap_unref(parts[0]);
    rrdplug_snap_unref(parts[1]);
    rrdplug_acc_free(a);
    rrdplug_acc_free(b);
    g_free(flows);
}

/* on_flows in runs of every awkward length leaves what on_flow leaves. */
static void test_batch_equals_single(void)
{
    size_t n = 200000;
    tt_flow *flows = t_random_flows(n, 3, 30000);
    g_autoptr(GKeyFile) config = g_key_file_new();
    void *state = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(rrdplug_init(&t_dim, &t_host, config, "plugin:t", &state, &error));
    g_assert_no_error(error);
    tt_bucket bucket = {.start = 1699999800, .end = 1700000100, .sensor_name = "s1"};
    void *one = rrdplug_bucket_open(state, &bucket), *run = rrdplug_bucket_open(state, &bucket);
    void *keyed = rrdplug_bucket_open(state, &bucket);
    tt_flow_keys *keys = g_new(tt_flow_keys, n);
    for (size_t i = 0; i < n; i++)
        tt_flow_keys_of(&flows[i], &keys[i]); /* as the collector does (ABI 1.5) */
    for (size_t i = 0; i < n; i++)
        rrdplug_on_flow(state, one, &flows[i]);
    static const size_t lengths[] = {1, 31, 32, 33, 512, 7, 64, 1000};
    for (size_t i = 0, j = 0; i < n; j++) {
        size_t m = MIN(lengths[j % G_N_ELEMENTS(lengths)], n - i);
        rrdplug_on_flows(state, run, flows + i, m);
        rrdplug_on_flows_keyed(state, keyed, flows + i, keys + i, m);
        i += m;
    }
    t_check(one, flows, n);
    t_check(run, flows, n);
    t_check(keyed, flows, n);
    rrdplug_bucket_close(state, one, &bucket);
    rrdplug_bucket_close(state, run, &bucket);
    rrdplug_bucket_close(state, keyed, &bucket);
    g_free(keys);
    rrdplug_fini(state);
    g_free(flows);
}

/* ---- through the plugin callbacks, jobs run at once ----------------------- */

typedef struct t_update {
    char *path;
    int64_t start;
    tt_rrd_values v;
} t_update;

static GArray *t_updates; /* t_update, or NULL: only counted */
static guint64 t_nupdates;

static void t_run_submit(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn)
{
    (void)host;
    run(data);
    if (free_fn != NULL)
        free_fn(data);
}

static gboolean t_record_update(const tt_host *host, tt_rrd_kind kind, const char *scope,
                                const char *path, int64_t start, int64_t end,
                                const tt_rrd_values *values, GError **error)
{
    (void)host;
    (void)kind;
    (void)scope;
    (void)end;
    (void)error;
    t_nupdates++;
    if (t_updates != NULL) {
        t_update u = {g_strdup(path), start, *values};
        g_array_append_val(t_updates, u);
    }
    return TRUE;
}

/* the sensors t_run_host has: two (all-sensor files wait for all_closed) unless a test
 * says otherwise */
static uint32_t t_sensors = 2;

static uint32_t t_sensor_count(const tt_host *host)
{
    (void)host;
    return t_sensors;
}

static const tt_host t_run_host = {
    .struct_size = sizeof(tt_host),
    .abi_minor = TT_PLUGIN_ABI_MINOR,
    .data_dir = "/nonexistent",
    .step = 300,
    .sensor_count = t_sensor_count,
    .submit = t_run_submit,
    .rrd_update = t_record_update,
    .rrd_finish = t_rrd_finish,
};

static void t_update_clear(gpointer data)
{
    g_free(((t_update *)data)->path);
}

/* The plugin on t_run_host, every update recorded in t_updates. */
static void *t_recording_init(void)
{
    g_autoptr(GKeyFile) config = g_key_file_new();
    void *state = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(rrdplug_init(&t_dim, &t_run_host, config, "plugin:t", &state, &error));
    t_updates = g_array_new(FALSE, FALSE, sizeof(t_update));
    g_array_set_clear_func(t_updates, t_update_clear);
    return state;
}

static const t_update *t_find(int64_t start, const char *path)
{
    for (guint i = 0; i < t_updates->len; i++) {
        const t_update *u = &g_array_index(t_updates, t_update, i);
        if (u->start == start && strcmp(u->path, path) == 0)
            return u;
    }
    return NULL;
}

/*
 * The all-sensor files of a step: written at the sensor's own close when it is
 * the only sensor (nothing can join its step), at all_closed when there are two
 * (the other's close may still come), and once either way.
 */
static void test_one_sensor_at_close(void)
{
    tt_flow f[2];
    t_flow(&f[0], 0x0a000001u, 6, 23);
    t_flow(&f[1], 0x0a000002u, 6, 23);
    const int64_t s0 = 1699999800;
    for (t_sensors = 1; t_sensors <= 2; t_sensors++) {
        void *state = t_recording_init();
        tt_bucket b = {.start = s0, .end = s0 + 300, .sensor = 0, .sensor_name = "s1"};
        void *acc = rrdplug_bucket_open(state, &b);
        rrdplug_on_flows(state, acc, f, 2);
        rrdplug_bucket_close(state, acc, &b);
        g_assert_cmpuint(t_updates->len, ==, t_sensors == 1 ? 1 : 0);
        rrdplug_all_closed(state, s0, s0 + 300);
        g_assert_cmpuint(t_updates->len, ==, 1);
        const t_update *u = t_find(s0, "t/23.rrd");
        g_assert_nonnull(u);
        g_assert_cmpuint(u->v.flows, ==, 2);
        g_assert_cmpfloat(u->v.sources, ==, 2);
        rrdplug_fini(state);
        g_assert_cmpuint(t_updates->len, ==, 1);
        g_array_unref(g_steal_pointer(&t_updates));
    }
    t_sensors = 2;
}

/*
 * A dense bucket of two sensors, then a small one in the recycled
 * accumulators: the small step writes its own keys, with its own counts and
 * sources (merged over both sensors), and nothing of the dense one.
 */
static void test_recycled_clean(void)
{
    size_t n = 100000;
    tt_flow *flows = t_random_flows(n, 5, 20000);
    void *state = t_recording_init();
    const int64_t s0 = 1699999800;

    tt_bucket b1 = {.start = s0, .end = s0 + 300, .sensor = 0, .sensor_name = "s1"};
    tt_bucket b2 = {.start = s0, .end = s0 + 300, .sensor = 1, .sensor_name = "s2"};
    void *a1 = rrdplug_bucket_open(state, &b1), *a2 = rrdplug_bucket_open(state, &b2);
    rrdplug_on_flows(state, a1, flows, n - 1000);
    rrdplug_on_flows(state, a2, flows + n - 1000, 1000);
    rrdplug_bucket_close(state, a1, &b1);
    rrdplug_bucket_close(state, a2, &b2);
    rrdplug_all_closed(state, s0, s0 + 300);
    guint dense = t_updates->len;
    g_assert_cmpuint(dense, >, 3000);

    tt_flow small[4];
    t_flow(&small[0], 0x0a000001u, 6, 23);
    t_flow(&small[1], 0x0a000002u, 6, 23);
    t_flow(&small[2], 0x0a000001u, 17, 53);
    t_flow(&small[3], 0x0a000001u, 6, 23); /* s2: the same source as s1's first */
    b1.start = b2.start = s0 + 300;
    b1.end = b2.end = s0 + 600;
    void *r1 = rrdplug_bucket_open(state, &b1), *r2 = rrdplug_bucket_open(state, &b2);
    g_assert_true((r1 == a1 || r1 == a2) && (r2 == a1 || r2 == a2)); /* recycled, not new */
    rrdplug_on_flows(state, r1, small, 3);
    rrdplug_on_flow(state, r2, &small[3]);
    rrdplug_bucket_close(state, r1, &b1);
    rrdplug_bucket_close(state, r2, &b2);
    rrdplug_all_closed(state, s0 + 300, s0 + 600);
    g_assert_cmpuint(t_updates->len - dense, ==, 2);
    const t_update *tcp = t_find(s0 + 300, "t/23.rrd"), *udp = t_find(s0 + 300, "t/65589.rrd");
    g_assert_nonnull(tcp);
    g_assert_nonnull(udp);
    g_assert_cmpuint(tcp->v.flows, ==, 3);
    g_assert_cmpuint(tcp->v.packets, ==, 6);
    g_assert_cmpuint(tcp->v.bytes, ==, 240);
    g_assert_cmpfloat(tcp->v.sources, ==, 2);
    g_assert_cmpuint(udp->v.flows, ==, 1);
    g_assert_cmpfloat(udp->v.sources, ==, 1);
    rrdplug_fini(state);
    g_array_unref(g_steal_pointer(&t_updates));
    g_free(flows);
}

/*
 * A sparse replay's shape: 20 000 buckets of one to three flows, each
 * opened, filled, closed, written. A bucket must cost what it touched: the
 * old code faulted in a fresh 4 MiB accumulator per bucket and walked all
 * 131 073 keys at the close (measured: 1 025 page faults a bucket; 20 000 of
 * them did not end in 10 minutes); recycled accumulators fault nothing
 * once warm.
 */
static void test_sparse_cost(void)
{
    g_autoptr(GKeyFile) config = g_key_file_new();
    void *state = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(rrdplug_init(&t_dim, &t_run_host, config, "plugin:t", &state, &error));
    const guint buckets = 20000, warm = 100;
    guint64 want = 0;
    long before = 0;
    t_nupdates = 0;
    for (guint i = 0; i < buckets + warm; i++) {
        if (i == warm) {
            before = tt_test_minflt();
            t_nupdates = want = 0;
        }
        int64_t start = 1500000000 / 300 * 300 + (int64_t)i * 300;
        tt_bucket b = {.start = start, .end = start + 300, .sensor_name = "s1"};
        tt_flow f[3];
        guint m = 1 + i % 3;
        for (guint j = 0; j < m; j++)
            t_flow(&f[j], 0x0a000000u + i, j == 2 ? 17 : 6, (uint16_t)(i * 7 + j * 1000));
        void *acc = rrdplug_bucket_open(state, &b);
        rrdplug_on_flows(state, acc, f, m);
        rrdplug_bucket_close(state, acc, &b);
        rrdplug_all_closed(state, start, start + 300);
        want += m;
    }
    long faults = tt_test_minflt() - before;
    g_test_message("%u sparse buckets: %ld minor page faults, %" G_GUINT64_FORMAT " updates",
                   buckets, faults, t_nupdates);
    g_assert_cmpuint(t_nupdates, ==, want);
    /* glibc trims and regrows the heap top now and then (~1 000 in all): far from 1 000 a bucket */
    g_assert_cmpint(faults, <, (long)buckets / 4);
    rrdplug_fini(state);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /*
     * Large blocks from mmap, always, as the daemon's accumulators came: freed on
     * the writer thread, trimmed off the heap's top, they were fresh pages at the
     * next open. (glibc otherwise raises its mmap threshold after the first free
     * and hands the next 4 MiB back warm, which would hide the old cost here.)
     */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    g_test_add_func("/rrdplug/scanner", test_scanner);
    g_test_add_func("/rrdplug/grow", test_grow);
    g_test_add_func("/rrdplug/saturation", test_saturation);
    g_test_add_func("/rrdplug/merge", test_merge);
    g_test_add_func("/rrdplug/batch-equals-single", test_batch_equals_single);
    g_test_add_func("/rrdplug/recycled-clean", test_recycled_clean);
    g_test_add_func("/rrdplug/one-sensor-at-close", test_one_sensor_at_close);
    g_test_add_func("/rrdplug/sparse-cost", test_sparse_cost);
    return g_test_run();
}
