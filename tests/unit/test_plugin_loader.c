/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_plugin_loader.c - every broken fixture plugin is refused, for the right
 * reason, with a message naming its file; the good one loads, runs and is
 * finalised; a plugin from a later minor version is accepted, and so are
 * plugins built for the older minors 1.2 and 1.3 (one source, built once per
 * minor). A job's failure (ABI 1.4, tt_host_job_failed) reaches a 1.4 host's
 * job_failed, and is only a warning on an older host, which must not be read
 * past its struct_size.
 *
 * The fixtures are real shared objects built from tests/fixtures/ into
 * TT_TEST_FIXTURE_DIR, each broken in exactly one way. The host is a fake
 * whose submit runs jobs inline and whose ctx is a counter the good fixture
 * adds to (flows per bucket, and a mark from fini).
 */
#include <glib.h>
#include <stddef.h>

#include "plugin_loader.h"

#define FIXTURE_FINI_MARK 1000000u

static void fake_submit(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn)
{
    (void)host;
    run(data);
    if (free_fn != NULL)
        free_fn(data);
}

static tt_host fake_host(guint64 *counter)
{
    return (tt_host){
        .struct_size = sizeof(tt_host),
        .abi_minor = TT_PLUGIN_ABI_MINOR,
        .data_dir = "/nonexistent",
        .step = 300,
        .grace = 120,
        .timezone = "UTC",
        .ctx = counter,
        .submit = fake_submit,
    };
}

/* Load NAME from the fixture dir, expect @code, and a message naming the file and @needle. */
static void expect_refused(const char *name, int code, const char *needle)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *file = g_strconcat(name, ".so", NULL);

    tt_plugin *plugin = tt_plugin_load(TT_TEST_FIXTURE_DIR, name, &error);
    g_assert_null(plugin);
    g_assert_error(error, TT_PLUGIN_ERROR, code);
    g_test_message("%s: %s", name, error->message);
    g_assert_nonnull(strstr(error->message, file));
    if (needle != NULL)
        g_assert_nonnull(strstr(error->message, needle));
}

static void test_bad_major(void)
{
    /* Both numbers, so an operator sees which side is older. */
    expect_refused("bad_major", TT_PLUGIN_ERROR_ABI, "99");
    g_autoptr(GError) error = NULL;
    g_assert_null(tt_plugin_load(TT_TEST_FIXTURE_DIR, "bad_major", &error));
    g_autofree char *ours = g_strdup_printf("speaks %u", (unsigned)TT_PLUGIN_ABI_MAJOR);
    g_assert_nonnull(strstr(error->message, ours));
}

static void test_missing_callback(void)
{
    expect_refused("missing_cb", TT_PLUGIN_ERROR_CALLBACK, "on_flow");
}

static void test_no_entry(void)
{
    expect_refused("no_entry", TT_PLUGIN_ERROR_SYMBOL, "tt_plugin_entry");
}

static void test_wrong_name(void)
{
    expect_refused("wrong_name", TT_PLUGIN_ERROR_ABI, "\"right_name\"");
}

static void test_small_struct(void)
{
    expect_refused("small_struct", TT_PLUGIN_ERROR_ABI, "8 bytes");
}

static void test_missing_file(void)
{
    expect_refused("no_such_plugin", TT_PLUGIN_ERROR_OPEN, NULL);
}

static void test_unresolved_symbol(void)
{
    /* Lazy binding would load this and crash at the first flow. */
    expect_refused("unresolved", TT_PLUGIN_ERROR_OPEN, "tt_fixture_symbol_nobody_defines");
}

static void test_bad_name(void)
{
    g_autoptr(GError) error = NULL;
    g_assert_null(tt_plugin_load(TT_TEST_FIXTURE_DIR, "../fixtures/good_fixture", &error));
    g_assert_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_OPEN);
    g_clear_error(&error);
    g_assert_null(tt_plugin_load(TT_TEST_FIXTURE_DIR, "", &error));
    g_assert_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_OPEN);
}

static void test_failing_init(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GKeyFile) config = g_key_file_new();
    guint64 counter = 0;
    tt_host host = fake_host(&counter);

    tt_plugin *plugin = tt_plugin_load(TT_TEST_FIXTURE_DIR, "failing_init", &error);
    g_assert_no_error(error);
    g_assert_nonnull(plugin);

    g_assert_false(tt_plugin_init(plugin, &host, config, &error));
    g_assert_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_INIT);
    g_assert_true(g_str_has_prefix(error->message, "plugin failing_init: "));
    g_assert_nonnull(strstr(error->message, "[plugin:failing_init] key"));
    g_assert_false(plugin->initialised);

    /* Never initialised: free must not call fini. */
    tt_plugin_free(plugin);
    g_assert_cmpuint(counter, ==, 0);
}

static void run_good(const char *name, guint64 flows)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GKeyFile) config = g_key_file_new();
    guint64 counter = 0;
    tt_host host = fake_host(&counter);

    tt_plugin *plugin = tt_plugin_load(TT_TEST_FIXTURE_DIR, name, &error);
    g_assert_no_error(error);
    g_assert_nonnull(plugin);
    g_assert_cmpstr(plugin->name, ==, name);
    g_assert_true(g_str_has_suffix(plugin->path, ".so"));
    g_assert_cmpstr(plugin->info->name, ==, name);
    g_assert_false(plugin->initialised);

    g_assert_true(tt_plugin_init(plugin, &host, config, &error));
    g_assert_no_error(error);
    g_assert_true(plugin->initialised);

    tt_bucket bucket = {.start = 1700000100, .end = 1700000400, .sensor = 0, .sensor_name = "s"};
    tt_flow flow = {.proto = TT_PROTO_TCP, .packets = 1, .bytes = 40, .country = {'Z', 'Z'}};
    void *acc = plugin->info->bucket_open(plugin->state, &bucket);
    for (guint64 i = 0; i < flows; i++)
        plugin->info->on_flow(plugin->state, acc, &flow);
    plugin->info->bucket_close(plugin->state, acc, &bucket);
    g_assert_cmpuint(counter, ==, flows);

    tt_plugin_free(plugin);
    g_assert_cmpuint(counter, ==, flows + FIXTURE_FINI_MARK);
}

static void test_good(void)
{
    run_good("good_fixture", 17);
}

static void test_future_minor(void)
{
    run_good("future_minor", 3);
}

/* Built against ABI 1.2 and 1.3: loaded, run and finalised by this 1.4 loader and host. */
static void test_old_minor(gconstpointer minor)
{
    g_autofree char *name = g_strdup_printf("old_minor_%u", GPOINTER_TO_UINT(minor));
    g_autoptr(GError) error = NULL;
    tt_plugin *plugin = tt_plugin_load(TT_TEST_FIXTURE_DIR, name, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(plugin->info->abi_minor, ==, GPOINTER_TO_UINT(minor));
    g_assert_cmpuint(plugin->info->abi_minor, <, TT_PLUGIN_ABI_MINOR);
    tt_plugin_free(plugin);
    run_good(name, 5);
}

static GPtrArray *job_failures; /* what fake_job_failed was told */

static void fake_job_failed(const tt_host *host, const char *message)
{
    (void)host;
    g_ptr_array_add(job_failures, g_strdup(message));
}

static void never_job_failed(const tt_host *host, const char *message)
{
    (void)host;
    (void)message;
    g_assert_not_reached(); /* beyond an older host's struct_size: never read */
}

/* Run one bucket of 4 flows through failing_job on @a host. */
static void run_failing_job(tt_host *host)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GKeyFile) config = g_key_file_new();
    tt_plugin *plugin = tt_plugin_load(TT_TEST_FIXTURE_DIR, "failing_job", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(plugin->info->abi_minor, >=, 4); /* built with job_failed (1.4) */
    g_assert_true(tt_plugin_init(plugin, host, config, &error));
    tt_bucket bucket = {.start = 1700000100, .end = 1700000400, .sensor = 0, .sensor_name = "s"};
    tt_flow flow = {.proto = TT_PROTO_TCP, .packets = 1, .bytes = 40, .country = {'Z', 'Z'}};
    void *acc = plugin->info->bucket_open(plugin->state, &bucket);
    for (int i = 0; i < 4; i++)
        plugin->info->on_flow(plugin->state, acc, &flow);
    plugin->info->bucket_close(plugin->state, acc, &bucket);
    tt_plugin_free(plugin);
}

static void test_job_failed(void)
{
    guint64 counter = 0;
    tt_host host = fake_host(&counter);
    host.job_failed = fake_job_failed;
    job_failures = g_ptr_array_new_with_free_func(g_free);
    run_failing_job(&host);
    g_assert_cmpuint(job_failures->len, ==, 1);
    g_assert_cmpstr(
        g_ptr_array_index(job_failures, 0), ==,
        "failing_job: bucket 1700000100 (4 flows) not stored: the fixture always fails");
    g_ptr_array_free(job_failures, TRUE);
    job_failures = NULL;
}

static void test_job_failed_old_host(void)
{
    guint64 counter = 0;
    tt_host host = fake_host(&counter);
    /* a 1.3 daemon: its table ends before job_failed (whatever lies there is not ours) */
    host.struct_size = offsetof(tt_host, job_failed);
    host.abi_minor = 3;
    host.job_failed = never_job_failed;
    g_test_expect_message(NULL, G_LOG_LEVEL_WARNING, "failing_job: bucket 1700000100 (4 flows)*");
    run_failing_job(&host);
    g_test_assert_expected_messages();
}

static void test_init_sees_its_group(void)
{
    /* The good fixture refuses any key in its group: proves init got "plugin:NAME". */
    g_autoptr(GError) error = NULL;
    g_autoptr(GKeyFile) config = g_key_file_new();
    guint64 counter = 0;
    tt_host host = fake_host(&counter);

    g_key_file_set_string(config, "plugin:good_fixture", "frob", "1");
    tt_plugin *plugin = tt_plugin_load(TT_TEST_FIXTURE_DIR, "good_fixture", &error);
    g_assert_nonnull(plugin);
    g_assert_false(tt_plugin_init(plugin, &host, config, &error));
    g_assert_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_INIT);
    g_assert_nonnull(strstr(error->message, "[plugin:good_fixture] frob: unknown key"));
    tt_plugin_free(plugin);
    tt_plugin_free(NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plugin-loader/bad-major", test_bad_major);
    g_test_add_func("/plugin-loader/missing-callback", test_missing_callback);
    g_test_add_func("/plugin-loader/no-entry", test_no_entry);
    g_test_add_func("/plugin-loader/wrong-name", test_wrong_name);
    g_test_add_func("/plugin-loader/small-struct", test_small_struct);
    g_test_add_func("/plugin-loader/missing-file", test_missing_file);
    g_test_add_func("/plugin-loader/unresolved-symbol", test_unresolved_symbol);
    g_test_add_func("/plugin-loader/bad-name", test_bad_name);
    g_test_add_func("/plugin-loader/failing-init", test_failing_init);
    g_test_add_func("/plugin-loader/good", test_good);
    g_test_add_func("/plugin-loader/future-minor", test_future_minor);
    g_test_add_func("/plugin-loader/init-sees-its-group", test_init_sees_its_group);
    g_test_add_data_func("/plugin-loader/old-minor-1.2", GUINT_TO_POINTER(2), test_old_minor);
    g_test_add_data_func("/plugin-loader/old-minor-1.3", GUINT_TO_POINTER(3), test_old_minor);
    g_test_add_func("/plugin-loader/job-failed", test_job_failed);
    g_test_add_func("/plugin-loader/job-failed-old-host", test_job_failed_old_host);
    return g_test_run();
}
