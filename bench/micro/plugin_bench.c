/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plugin_bench.c - CPU nanoseconds per flow of plugins' on_flow path, alone.
 *
 *   plugin_bench PLUGIN_DIR [--flows N] [--batch N] [--single] NAME...
 *
 * Loads each NAME.so with GModule behind a fake host (writer jobs are freed
 * unrun, rrd_update is never reached: only the dispatch side is measured),
 * opens one bucket, and hands it N flows shaped like bench/run's blast:
 * destination ports in turn over all 131 072 TCP and UDP ports, 5 000
 * distinct IPv4 sources from 250 countries. Flows go in runs of --batch (the
 * decoder's 512 by default) through on_flows when the plugin has it (ABI
 * 1.2) and --single is not given, else through on_flow one by one; that is
 * what the core does. Prints the thread CPU time per flow of each plugin and
 * of all of them together, then of bucket_close (its compaction).
 *
 * Rejected: timing teitend over UDP on this shared 2-core machine (the
 * collector's CPU time moved by ±50 % between identical runs) and callgrind
 * alone (it counts instructions, not the cache misses this path is about).
 *
 * Build: cc -O2 -std=gnu11 -Iinclude $(pkg-config --cflags --libs gmodule-2.0)
 *        bench/micro/plugin_bench.c -o plugin_bench   (bench/micro/run --plugins does it)
 */
#include <gmodule.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <teiten/plugin.h>

#define BENCH_SOURCES 5000
#define BENCH_COUNTRIES 250

typedef struct bench_plugin {
    const tt_plugin_info *info;
    void *state;
    void *acc;
    gboolean batched;
} bench_plugin;

static void bench_submit(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn)
{
    (void)host;
    (void)run;
    if (free_fn != NULL)
        free_fn(data);
}

static uint32_t bench_sensor_count(const tt_host *host)
{
    (void)host;
    return 1;
}

static const char *bench_sensor_name(const tt_host *host, uint32_t sensor)
{
    (void)host;
    return sensor == 0 ? "s1" : NULL;
}

static gboolean bench_rrd_update(const tt_host *host, tt_rrd_kind kind, const char *scope,
                                 const char *path, int64_t start, int64_t end,
                                 const tt_rrd_values *values, GError **error)
{
    (void)host, (void)kind, (void)scope, (void)path, (void)start, (void)end, (void)values;
    (void)error;
    return TRUE;
}

static void bench_rrd_finish(const tt_host *host)
{
    (void)host;
}

static double bench_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The blast's shape: ports in turn, sources and their countries drawn from a fixed pool. */
static tt_flow *bench_flows(size_t n)
{
    tt_flow *flows = g_new0(tt_flow, n);
    GRand *rand = g_rand_new_with_seed(1);
    uint32_t src[BENCH_SOURCES];
    char cc[BENCH_SOURCES][2];
    for (int i = 0; i < BENCH_SOURCES; i++) {
        src[i] = g_rand_int(rand);
        tt_country_code((unsigned)(i % BENCH_COUNTRIES), cc[i]);
    }
    for (size_t i = 0; i < n; i++) {
        tt_flow *f = &flows[i];
        int s = g_rand_int_range(rand, 0, BENCH_SOURCES);
        uint32_t k = (uint32_t)(i % 131072);
        f->start_ms = f->end_ms = 1700000000000;
        f->packets = f->raw_packets = 1;
        f->bytes = f->raw_bytes = 40;
        tt_addr_set_v4(f->src, src[s]);
        tt_addr_set_v4(f->dst, 0xcb007100u | (uint32_t)(i & 0xff));
        f->dst_port = (uint16_t)k;
        f->src_port = 40000;
        f->family = 4;
        f->proto = k < 65536 ? TT_PROTO_TCP : TT_PROTO_UDP;
        f->tcp_flags = f->proto == TT_PROTO_TCP ? TT_TCP_SYN : 0;
        f->cls = TT_CLASS_SCAN;
        f->sampling = 1;
        memcpy(f->country, cc[s], 2);
        f->has_dst = 1;
    }
    g_rand_free(rand);
    return flows;
}

static void bench_feed(bench_plugin *p, const tt_flow *flows, size_t m)
{
    if (p->batched) {
        p->info->on_flows(p->state, p->acc, flows, m);
    } else {
        for (size_t j = 0; j < m; j++)
            p->info->on_flow(p->state, p->acc, &flows[j]);
    }
}

int main(int argc, char **argv)
{
    gint64 nflows = 4000000, batch = 512;
    gboolean single = FALSE;
    GOptionEntry entries[] = {
        {"flows", 0, 0, G_OPTION_ARG_INT64, &nflows, "flows into the bucket (4000000)", "N"},
        {"batch", 0, 0, G_OPTION_ARG_INT64, &batch, "flows per run (512)", "N"},
        {"single", 0, 0, G_OPTION_ARG_NONE, &single, "on_flow only, even where on_flows exists",
         NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("PLUGIN_DIR NAME...");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc < 3 || nflows < 1 || batch < 1) {
        fprintf(stderr, "plugin_bench: %s\n", error != NULL ? error->message : "usage");
        return 2;
    }
    g_autofree char *data_dir = g_dir_make_tmp("plugin-bench-XXXXXX", NULL);
    tt_host host = {
        .struct_size = sizeof(tt_host),
        .abi_minor = TT_PLUGIN_ABI_MINOR,
        .data_dir = data_dir,
        .step = 300,
        .grace = 0,
        .timezone = "UTC",
        .sensor_count = bench_sensor_count,
        .sensor_name = bench_sensor_name,
        .submit = bench_submit,
        .rrd_update = bench_rrd_update,
        .rrd_finish = bench_rrd_finish,
    };
    int np = argc - 2;
    bench_plugin *plugins = g_new0(bench_plugin, np);
    for (int i = 0; i < np; i++) {
        g_autofree char *path = g_strdup_printf("%s/%s.so", argv[1], argv[i + 2]);
        GModule *mod = g_module_open(path, G_MODULE_BIND_LOCAL);
        tt_plugin_entry_fn entry = NULL;
        if (mod == NULL || !g_module_symbol(mod, TT_PLUGIN_ENTRY_SYMBOL, (gpointer *)&entry)) {
            fprintf(stderr, "plugin_bench: %s: %s\n", path, g_module_error());
            return 1;
        }
        plugins[i].info = entry();
        g_autoptr(GKeyFile) config = g_key_file_new();
        g_autofree char *group = g_strdup_printf("plugin:%s", argv[i + 2]);
        if (strcmp(argv[i + 2], "jsonl") == 0)
            g_key_file_set_string(config, group, "path", "bench.jsonl");
        if (!plugins[i].info->init(&host, config, group, &plugins[i].state, &error)) {
            fprintf(stderr, "plugin_bench: %s\n", error->message);
            return 1;
        }
        plugins[i].batched = !single &&
                             plugins[i].info->struct_size >=
                                 G_STRUCT_OFFSET(tt_plugin_info, on_flows) + sizeof(void *) &&
                             plugins[i].info->on_flows != NULL;
    }
    tt_flow *flows = bench_flows((size_t)nflows);
    tt_bucket bucket = {.start = 1699999800, .end = 1700000100, .sensor = 0, .sensor_name = "s1"};
    double *open_ns = g_new0(double, np), *feed_ns = g_new0(double, np);
    for (int i = 0; i < np; i++) {
        double t0 = bench_cpu_ns();
        plugins[i].acc = plugins[i].info->bucket_open(plugins[i].state, &bucket);
        open_ns[i] = bench_cpu_ns() - t0;
    }
    /* as the core does: each run to every plugin in turn, so they share the cache */
    for (size_t i = 0; i < (size_t)nflows; i += (size_t)batch) {
        size_t m = MIN((size_t)batch, (size_t)nflows - i);
        for (int k = 0; k < np; k++) {
            double t0 = bench_cpu_ns();
            bench_feed(&plugins[k], flows + i, m);
            feed_ns[k] += bench_cpu_ns() - t0;
        }
    }
    double all = 0;
    printf("| plugin | path | ns/flow | bucket_open + close ms |\n|---|---|---:|---:|\n");
    for (int i = 0; i < np; i++) {
        bench_plugin *p = &plugins[i];
        double t0 = bench_cpu_ns();
        p->info->bucket_close(p->state, p->acc, &bucket);
        double close_ns = bench_cpu_ns() - t0;
        all += feed_ns[i];
        printf("| %s | %s | %.1f | %.1f |\n", argv[i + 2], p->batched ? "on_flows" : "on_flow",
               feed_ns[i] / (double)nflows, (open_ns[i] + close_ns) / 1e6);
    }
    printf("| all | | %.1f | |\n", all / (double)nflows);
    g_free(open_ns);
    g_free(feed_ns);
    for (int i = 0; i < np; i++)
        plugins[i].info->fini(plugins[i].state);
    g_free(flows);
    g_free(plugins);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", data_dir);
    if (system(rm) != 0)
        fprintf(stderr, "plugin_bench: could not remove %s\n", data_dir);
    return 0;
}
