/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_support.c - the fake plugin host, the writer gate and the resource
 * readings shared by the unit tests (see test_support.h).
 *
 * The host's ctx is the tt_test_host itself, not the writer, so that the
 * fake callbacks reach the sensor names and a test's own callbacks (a
 * refusing submit_sized) reach the writer through tt_test_host_of().
 */
#include "test_support.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>

tt_test_host *tt_test_host_of(const tt_host *host)
{
    return host->ctx;
}

static void test_host_submit(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn)
{
    tt_writer_submit(tt_test_host_of(host)->writer, run, data, free_fn);
}

static uint32_t test_host_sensor_count(const tt_host *host)
{
    return tt_test_host_of(host)->n_sensors;
}

static const char *test_host_sensor_name(const tt_host *host, uint32_t sensor)
{
    const tt_test_host *th = tt_test_host_of(host);
    return sensor < th->n_sensors ? th->sensors[sensor] : NULL;
}

void tt_test_host_setup(tt_test_host *th, const char *plugin, const char *const *sensors,
                        guint n_sensors)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmpl = g_strdup_printf("test_%s.XXXXXX", plugin);

    memset(th, 0, sizeof *th);
    th->sensors = sensors;
    th->n_sensors = n_sensors;
    th->data_dir = g_dir_make_tmp(tmpl, &error);
    g_assert_no_error(error);
    th->writer = tt_writer_new();
    th->host = (tt_host){
        .struct_size = sizeof(tt_host),
        .abi_minor = TT_PLUGIN_ABI_MINOR,
        .data_dir = th->data_dir,
        .step = 300,
        .grace = 120,
        .timezone = "UTC",
        .ctx = th,
        .sensor_count = test_host_sensor_count,
        .sensor_name = test_host_sensor_name,
        .submit = test_host_submit,
    };
    th->config = g_key_file_new();
    th->plugin = tt_plugin_load(TT_TEST_PLUGIN_DIR, plugin, &error);
    g_assert_no_error(error);
    g_assert_nonnull(th->plugin);
}

void tt_test_host_teardown(tt_test_host *th)
{
    if (th->plugin != NULL)
        tt_plugin_free(th->plugin);
    tt_writer_free(th->writer);
    g_key_file_free(th->config);
    tt_test_remove_tree(th->data_dir);
    g_free(th->data_dir);
    memset(th, 0, sizeof *th);
}

void tt_test_remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            tt_test_remove_tree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

void tt_test_gate_init(tt_test_gate *g)
{
    memset(g, 0, sizeof *g);
    g_mutex_init(&g->lock);
    g_cond_init(&g->cond);
}

void tt_test_gate_clear(tt_test_gate *g)
{
    g_cond_clear(&g->cond);
    g_mutex_clear(&g->lock);
}

void tt_test_gate_run(void *data)
{
    tt_test_gate *g = data;
    g_mutex_lock(&g->lock);
    g->entered = TRUE;
    g_cond_broadcast(&g->cond);
    while (!g->open)
        g_cond_wait(&g->cond, &g->lock);
    g_mutex_unlock(&g->lock);
}

void tt_test_gate_wait_entered(tt_test_gate *g)
{
    g_mutex_lock(&g->lock);
    while (!g->entered)
        g_cond_wait(&g->cond, &g->lock);
    g_mutex_unlock(&g->lock);
}

void tt_test_gate_open(tt_test_gate *g)
{
    g_mutex_lock(&g->lock);
    g->open = TRUE;
    g_cond_broadcast(&g->cond);
    g_mutex_unlock(&g->lock);
}

gpointer tt_test_gate_opener_main(gpointer data)
{
    tt_test_gate_open(data);
    return NULL;
}

void tt_test_gate_hold(tt_test_gate *g, tt_writer *w)
{
    tt_test_gate_init(g);
    tt_writer_submit(w, tt_test_gate_run, g, NULL);
}

void tt_test_gate_release(tt_test_gate *g, tt_writer *w)
{
    tt_test_gate_open(g);
    tt_writer_flush(w);
    tt_test_gate_clear(g);
}

long tt_test_minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

long tt_test_maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}
