/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rrdplug.c - the RRD plugins' shared accumulator (plugins/rrdplug),
 * compiled in, against a plain reference count.
 *
 * Distinct sources must stay exact while the set grows from its first 4 096
 * slots to the cap, for a scanner hitting every port from one address (the
 * pattern that once put every pair of a source on one home slot) and for many
 * sources spread over many keys; saturation at sources-max gives exactly
 * sources-max; compaction and the all-sensor merge keep a source seen twice
 * once; and on_flows (ABI 1.2, a run at once with prefetching) leaves the
 * same counters as on_flow one by one, whatever the run lengths.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "rrdplug.h"

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
    return TRUE;
}

static void t_rrd_finish(const tt_host *host)
{
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

static void t_check(const rrdplug_acc *acc, const tt_flow *flows, size_t n)
{
    g_autofree guint *want = t_reference(flows, n);
    g_autofree guint64 *flows_want = g_new0(guint64, T_NKEYS);
    for (size_t i = 0; i < n; i++)
        if (t_key(&flows[i]) != RRDPLUG_NO_KEY)
            flows_want[t_key(&flows[i])]++;
    for (uint32_t k = 0; k < T_NKEYS; k++) {
        const rrdplug_counter *c = rrdplug_acc_get(acc, k);
        g_assert_cmpuint(c->sources, ==, want[k]);
        g_assert_cmpuint(c->flows, ==, flows_want[k]);
        g_assert_cmpuint(c->packets, ==, 2 * flows_want[k]);
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
    rrdplug_acc_compact(acc);
    t_check(acc, flows, n);
    rrdplug_acc_unref(acc);
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
    rrdplug_acc_unref(acc);
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
    rrdplug_acc_unref(acc);
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
    rrdplug_acc_compact(a);
    rrdplug_acc_compact(b);
    rrdplug_acc *sum = rrdplug_acc_new(T_NKEYS, 2 * 262144);
    rrdplug_acc_merge(sum, a);
    rrdplug_acc_merge(sum, b);
    t_check(sum, flows, n);
    rrdplug_acc_unref(sum);
    rrdplug_acc_unref(a);
    rrdplug_acc_unref(b);
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
    for (size_t i = 0; i < n; i++)
        rrdplug_on_flow(state, one, &flows[i]);
    static const size_t lengths[] = {1, 31, 32, 33, 512, 7, 64, 1000};
    for (size_t i = 0, j = 0; i < n; j++) {
        size_t m = MIN(lengths[j % G_N_ELEMENTS(lengths)], n - i);
        rrdplug_on_flows(state, run, flows + i, m);
        i += m;
    }
    t_check(one, flows, n);
    t_check(run, flows, n);
    rrdplug_bucket_close(state, one, &bucket);
    rrdplug_bucket_close(state, run, &bucket);
    rrdplug_fini(state);
    g_free(flows);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rrdplug/scanner", test_scanner);
    g_test_add_func("/rrdplug/grow", test_grow);
    g_test_add_func("/rrdplug/saturation", test_saturation);
    g_test_add_func("/rrdplug/merge", test_merge);
    g_test_add_func("/rrdplug/batch-equals-single", test_batch_equals_single);
    return g_test_run();
}
