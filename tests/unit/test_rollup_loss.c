/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rollup_loss.c - the real rollup.so keeps the host's loss counters per
 * day (the loss table), driven through a fake host whose loss_foreach
 * reports scripted cumulative counts and whose submit() runs a real writer.
 *
 * - differences, not totals, land on the day of the close that noticed them;
 *   a sensor's own counter waits for that sensor's close; what moved after
 *   the last close is stored at fini on the last close's day;
 * - a host without loss_foreach (ABI 1.2) stores nothing and still works;
 * - a transaction rolled back (the loss table dropped under the store) is
 *   owed: its records and its loss rows land with the next good commit, and
 *   its job reports the failure to the host (tt_host.job_failed, ABI 1.4).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "test_support.h"

#define DAY1 1546300800 /* 2019-01-01T00:00:00Z */
#define DAY2 (DAY1 + 86400)

typedef struct fixture {
    tt_test_host th;
    char *db_path;
    guint64 kernel_drops; /* listener ipfix+udp://x */
    guint64 too_old[2];   /* per sensor */
    gboolean refuse;      /* submit_sized refuses, as a live writer past writer-backlog */
    guint refused;
    GPtrArray *failures; /* messages given to the fake host's job_failed (writer thread) */
} fixture;

static fixture *the_fixture; /* the fake host's loss_foreach reads it */

static const char *sensor_names[] = {"s0", "s1"};

/* ABI 1.3 submit_sized: refuses while fx->refuse is set (free at once, FALSE), as the daemon */
static gboolean writer_submit_sized(const tt_host *host, tt_job_fn run, void *data,
                                    GDestroyNotify free_fn, size_t bytes)
{
    (void)bytes;
    if (the_fixture->refuse) {
        the_fixture->refused++;
        free_fn(data);
        return FALSE;
    }
    tt_writer_submit(tt_test_host_of(host)->writer, run, data, free_fn);
    return TRUE;
}

/* ABI 1.4 job_failed: the writer thread appends; the test reads after a flush */
static void fake_job_failed(const tt_host *host, const char *message)
{
    (void)host;
    g_ptr_array_add(the_fixture->failures, g_strdup(message));
}

static void fake_loss_foreach(const tt_host *host, tt_loss_fn fn, void *data)
{
    (void)host;
    fixture *fx = the_fixture;
    if (fx->kernel_drops > 0) {
        tt_loss l = {"listener", "ipfix+udp://x", "kernel_drops", "datagrams", fx->kernel_drops};
        fn(&l, data);
    }
    for (guint i = 0; i < 2; i++) {
        if (fx->too_old[i] == 0)
            continue;
        tt_loss l = {"sensor", sensor_names[i], "too_old", "records", fx->too_old[i]};
        fn(&l, data);
    }
}

static void fixture_setup(fixture *fx, gconstpointer with_loss)
{
    g_autoptr(GError) error = NULL;
    memset(fx, 0, sizeof *fx);
    the_fixture = fx;
    tt_test_host_setup(&fx->th, "rollup", sensor_names, G_N_ELEMENTS(sensor_names));
    fx->db_path = g_build_filename(fx->th.data_dir, "rollup.sqlite", NULL);
    fx->th.host.abi_minor = with_loss != NULL ? TT_PLUGIN_ABI_MINOR : 2;
    fx->th.host.loss_foreach = with_loss != NULL ? fake_loss_foreach : NULL;
    fx->failures = g_ptr_array_new_with_free_func(g_free);
    fx->th.host.job_failed = fake_job_failed;
    fx->th.host.submit_sized = g_strcmp0(with_loss, "refuse") == 0 ? writer_submit_sized : NULL;
    g_key_file_set_string(fx->th.config, "plugin:rollup", "path", "rollup.sqlite");
    g_assert_true(tt_plugin_init(fx->th.plugin, &fx->th.host, fx->th.config, &error));
    g_assert_no_error(error);
}

static void fixture_teardown(fixture *fx, gconstpointer unused)
{
    (void)unused;
    tt_test_host_teardown(&fx->th);
    g_ptr_array_free(fx->failures, TRUE);
    g_free(fx->db_path);
}

/* One bucket of @a sensor at @a start with one observed flow, closed. */
static void close_bucket(fixture *fx, guint32 sensor, gint64 start)
{
    const tt_plugin_info *p = fx->th.plugin->info;
    tt_bucket b = {
        .start = start, .end = start + 300, .sensor = sensor, .sensor_name = sensor_names[sensor]};
    void *acc = p->bucket_open(fx->th.plugin->state, &b);
    tt_flow f = {0};
    f.start_ms = start * 1000 + 1000;
    f.end_ms = f.start_ms;
    f.proto = 6;
    f.dst_port = 23;
    f.family = 4;
    f.sampling = 1;
    f.raw_packets = f.packets = 1;
    f.raw_bytes = f.bytes = 40;
    memcpy(f.country, "ZZ", 2);
    p->on_flow(fx->th.plugin->state, acc, &f);
    p->bucket_close(fx->th.plugin->state, acc, &b);
}

/* The loss table as "day scope name reason count" lines, sorted. */
static char *loss_rows(fixture *fx)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    GString *out = g_string_new(NULL);
    tt_writer_flush(fx->th.writer);
    g_assert_cmpint(sqlite3_open_v2(fx->db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_prepare_v2(db,
                                       "SELECT day, scope, name, reason, unit, count FROM loss"
                                       " ORDER BY day, scope, name, reason",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        g_string_append_printf(out, "%s %s %s %s %s %lld\n", sqlite3_column_text(st, 0),
                               sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
                               sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
                               (long long)sqlite3_column_int64(st, 5));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return g_string_free(out, FALSE);
}

static void test_days(fixture *fx, gconstpointer unused)
{
    (void)unused;
    fx->kernel_drops = 5;
    close_bucket(fx, 0, DAY1);
    fx->kernel_drops = 12;
    fx->too_old[1] = 3; /* s1's: waits for s1's close */
    close_bucket(fx, 0, DAY2);
    g_autofree char *mid = loss_rows(fx);
    g_assert_cmpstr(mid, ==,
                    "2019-01-01 listener ipfix+udp://x kernel_drops datagrams 5\n"
                    "2019-01-02 listener ipfix+udp://x kernel_drops datagrams 7\n");
    close_bucket(fx, 1, DAY1 + 600); /* s1 closes a bucket of day 1: its too_old lands there */
    fx->kernel_drops = 20;           /* after the last close: fini stores it */
    tt_plugin_free(fx->th.plugin);
    fx->th.plugin = NULL;
    g_autofree char *end = loss_rows(fx);
    g_assert_cmpstr(end, ==,
                    "2019-01-01 listener ipfix+udp://x kernel_drops datagrams 5\n"
                    "2019-01-01 sensor s1 too_old records 3\n"
                    "2019-01-02 listener ipfix+udp://x kernel_drops datagrams 15\n");
}

static void test_old_host(fixture *fx, gconstpointer unused)
{
    (void)unused;
    fx->kernel_drops = 5;
    close_bucket(fx, 0, DAY1);
    tt_plugin_free(fx->th.plugin);
    fx->th.plugin = NULL;
    g_autofree char *rows = loss_rows(fx);
    g_assert_cmpstr(rows, ==, "");
}

static void test_rolled_back(fixture *fx, gconstpointer unused)
{
    (void)unused;
    close_bucket(fx, 0, DAY1); /* creates the database's rows; no loss yet */
    tt_writer_flush(fx->th.writer);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(fx->db_path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "DROP TABLE loss", NULL, NULL, NULL), ==, SQLITE_OK);
    fx->kernel_drops = 4;
    g_test_expect_message(NULL, G_LOG_LEVEL_WARNING, "*no such table*");
    close_bucket(fx, 0, DAY1 + 300); /* its loss row cannot be written: rolled back */
    tt_writer_flush(fx->th.writer);
    g_test_assert_expected_messages();
    /* the job told the host (so --read keeps its files out of the ledger), naming the bucket */
    g_assert_cmpuint(fx->failures->len, ==, 1);
    const char *msg = g_ptr_array_index(fx->failures, 0);
    g_test_message("job_failed: %s", msg);
    g_assert_nonnull(strstr(msg, "rollup: "));
    g_assert_nonnull(strstr(msg, "bucket 1546301100 of s0 rolled back"));
    g_assert_nonnull(strstr(msg, "no such table: loss"));
    g_assert_cmpint(sqlite3_exec(db,
                                 "CREATE TABLE loss(day TEXT NOT NULL, scope TEXT NOT NULL,"
                                 " name TEXT NOT NULL, reason TEXT NOT NULL, unit TEXT NOT NULL,"
                                 " count INTEGER NOT NULL, PRIMARY KEY(day, scope, name, reason))"
                                 " WITHOUT ROWID",
                                 NULL, NULL, NULL),
                    ==, SQLITE_OK);
    sqlite3_close(db);
    close_bucket(fx, 0, DAY2); /* a good commit: what the rolled-back one owed comes with it */
    tt_writer_flush(fx->th.writer);
    g_assert_cmpuint(fx->failures->len, ==, 1); /* a good commit reports nothing */
    g_autofree char *rows = loss_rows(fx);
    g_assert_cmpstr(rows, ==,
                    "2019-01-01 listener ipfix+udp://x kernel_drops datagrams 4\n"
                    "2019-01-01 store rollup rolled_back records 1\n");
}

/*
 * A bucket's job refused by the writer (live, past writer-backlog): its records are
 * the host's loss to count, but the loss differences it carried are owed to the
 * next close, not dropped with it.
 */
static void test_refused(fixture *fx, gconstpointer unused)
{
    (void)unused;
    close_bucket(fx, 0, DAY1);
    fx->kernel_drops = 6;
    fx->refuse = TRUE;
    close_bucket(fx, 0, DAY1 + 300); /* carries the 6 drops, refused */
    fx->refuse = FALSE;
    g_assert_cmpuint(fx->refused, ==, 1);
    close_bucket(fx, 0, DAY2); /* reports them again, on its own day */
    g_autofree char *rows = loss_rows(fx);
    g_assert_cmpstr(rows, ==, "2019-01-02 listener ipfix+udp://x kernel_drops datagrams 6\n");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/rollup/loss/days", fixture, "loss", fixture_setup, test_days, fixture_teardown);
    g_test_add("/rollup/loss/old-host", fixture, NULL, fixture_setup, test_old_host,
               fixture_teardown);
    g_test_add("/rollup/loss/refused", fixture, "refuse", fixture_setup, test_refused,
               fixture_teardown);
    g_test_add("/rollup/loss/rolled-back", fixture, "loss", fixture_setup, test_rolled_back,
               fixture_teardown);
    return g_test_run();
}
