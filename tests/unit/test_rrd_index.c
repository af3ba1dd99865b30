/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rrd_index.c - the RRD store's last-update index (DATA/rrd/.last, rrd/store.c),
 * against a real rrdcached on a unix socket in a temp dir: a clean end writes the
 * index; the next start takes rrdcached's last update of each file it names from it
 * (no LAST round trip) and deletes it at once, so a crash leaves none and the start
 * after a crash asks rrdcached again; another archive layout or another kind is
 * asked too; the steps written after such a start read back exactly, and a replay of
 * steps rrdcached still holds unwritten is skipped as past, as LAST would have it; and
 * an rrdcached killed between two runs (what it held lost) is not the process the index
 * names, so the replay stores every step again; one stopped cleanly (what it held
 * written) is not either, but the files have caught up with the index, which holds.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <rrd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "rrd_fetch.h"
#include "store.h"
#include "test_support.h"

#define DAY0 1546300800 /* 2019-01-01 UTC */

typedef struct cached {
    GPid pid;
    char *addr; /* unix:PATH */
} cached;

/* In the child: a test that aborts on a failed assertion takes its rrdcached with it. */
static void cached_child_setup(gpointer data)
{
    (void)data;
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* A real rrdcached over @a dir: writes held an hour (-w 3600), so what it took is not on disk. */
static gboolean cached_start(const char *dir, cached *c)
{
    g_autofree char *exe = g_find_program_in_path("rrdcached");
    if (exe == NULL)
        exe = g_strdup("/usr/bin/rrdcached");
    if (!g_file_test(exe, G_FILE_TEST_IS_EXECUTABLE))
        return FALSE;
    g_autofree char *sock = g_build_filename(dir, "rrdcached.sock", NULL);
    g_autofree char *listen = g_strconcat("unix:", sock, NULL);
    /* its own pid file: the default one is shared with every other rrdcached on the host */
    g_autofree char *pidfile = g_build_filename(dir, "rrdcached.pid", NULL);
    const char *argv[] = {exe, "-g", "-l", listen, "-p", pidfile, "-b",
                          dir, "-F", "-w", "3600", "-z", "1",     NULL};
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                cached_child_setup, NULL, &c->pid, &error));
    for (int i = 0; i < 800 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++)
        g_usleep(25000);
    g_assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));
    c->addr = g_strconcat("unix:", sock, NULL);
    return TRUE;
}

/* End it with @a sig: at SIGTERM rrdcached writes every file it holds; SIGKILL loses them. */
static void cached_end(cached *c, int sig)
{
    int status = 0;
    g_assert_cmpint(kill(c->pid, sig), ==, 0);
    g_assert_cmpint(waitpid(c->pid, &status, 0), ==, c->pid);
    g_spawn_close_pid(c->pid);
    g_clear_pointer(&c->addr, g_free);
}

static void cached_stop(cached *c)
{
    cached_end(c, SIGTERM);
}

/* One run of a store: @a n steps of port 23 and the total from @a t0, then a clean end. */
static tt_rrd_store_stats run_store(const char *dir, const tt_rrd_archives *a, const char *addr,
                                    int64_t t0, int n, double flows)
{
    g_autoptr(GError) error = NULL;
    tt_rrd_store *st = tt_rrd_store_new(dir, a, addr, &error);
    g_assert_no_error(error);
    tt_rrd_values v = {flows, flows * 2, flows * 80, 1};
    for (int i = 0; i < n; i++) {
        int64_t s = t0 + 300 * i;
        g_assert_true(
            tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", s, s + 300, &v, &error));
        g_assert_true(
            tt_rrd_store_update(st, TT_RRD_TOTAL, "s1", "total.rrd", s, s + 300, &v, &error));
    }
    tt_rrd_store_commit(st);
    tt_rrd_store_finish(st, t0 + 30 * 86400);
    tt_rrd_store_stats stats;
    tt_rrd_store_get_stats(st, &stats);
    tt_rrd_store_free(st);
    return stats;
}

/* The port file after a run of 4 steps of 3 flows from DAY0 + 1 h and one of 2 steps of 5
 * from the next day + 10 min: both read back exactly, the time between them unknown. */
static void check_two_runs(const char *port)
{
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 3900, 0), 3, 1e-9);
    g_assert_true(isnan(fetch_step(port, DAY0 + 86400 + 300, 0)));
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 86400 + 900, 0), 5, 1e-9);
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 86400 + 1200, 0), 5, 1e-9);
}

/*
 * After check_two_runs' first run: the next day's run with @a indexed files from the index
 * and @a unasked without a LAST, every step stored; then, the index removed first if
 * @a drop_index, a replay of the first run, past (by the index, the headers or LAST), with
 * nothing unasked (rrdcached holds both files by then).
 */
static void next_day_then_replay(const char *dir, const tt_rrd_archives *a, const char *addr,
                                 guint64 indexed, guint64 unasked, gboolean drop_index)
{
    tt_rrd_store_stats s = run_store(dir, a, addr, DAY0 + 86400 + 600, 2, 5);
    g_assert_cmpuint(s.indexed, ==, indexed);
    g_assert_cmpuint(s.unasked, ==, unasked);
    g_assert_cmpuint(s.updates, ==, 4);
    g_assert_cmpuint(s.past, ==, 0);
    g_assert_cmpuint(s.refused, ==, 0);
    if (drop_index) {
        g_autofree char *idx = g_build_filename(dir, ".last", NULL);
        g_assert_cmpint(g_remove(idx), ==, 0);
    }
    s = run_store(dir, a, addr, DAY0 + 3600, 4, 3);
    g_assert_cmpuint(s.unasked, ==, 0);
    g_assert_cmpuint(s.updates, ==, 0);
    g_assert_cmpuint(s.past, ==, 8);
}

#define NEED_CACHED(dir, c)                                                                        \
    do {                                                                                           \
        if (!cached_start((dir), (c))) {                                                           \
            g_test_skip("rrdcached not installed (Debian: apt-get install rrdcached)");            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* rrdcached keeps running between two runs and writes nothing to disk meanwhile. */
static void test_index_replaces_last(void)
{
    g_autofree char *dir = g_dir_make_tmp("rrd-index-XXXXXX", NULL);
    g_autofree char *idx = g_build_filename(dir, ".last", NULL);
    g_autofree char *port = g_build_filename(dir, "port/tcp/23.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    cached c;
    NEED_CACHED(dir, &c);

    tt_rrd_store_stats s = run_store(dir, &a, c.addr, DAY0 + 3600, 4, 3);
    g_assert_cmpuint(s.indexed, ==, 0);
    g_assert_cmpuint(s.created, ==, 2);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(idx, &text, NULL, NULL));
    /* filled to the next midnight at the clean end: the last update it names */
    g_autofree char *want = g_strdup_printf("0 %d port/tcp/23.rrd\n", DAY0 + 86400);
    g_assert_nonnull(strstr(text, want));

    /* the next day: both files' last updates from the index, none created, nothing past */
    s = run_store(dir, &a, c.addr, DAY0 + 86400 + 600, 2, 5);
    g_assert_cmpuint(s.indexed, ==, 2);
    g_assert_cmpuint(s.created, ==, 0);
    g_assert_cmpuint(s.updates, ==, 4);
    g_assert_cmpuint(s.past, ==, 0);
    g_assert_cmpuint(s.refused, ==, 0);

    /* a replay of the first run: past, though the file on disk has none of it yet */
    s = run_store(dir, &a, c.addr, DAY0 + 3600, 4, 3);
    g_assert_cmpuint(s.indexed, ==, 2);
    g_assert_cmpuint(s.updates, ==, 0);
    g_assert_cmpuint(s.past, ==, 8);
    g_assert_cmpuint(s.refused, ==, 0);

    cached_stop(&c);
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 3900, 0), 3, 1e-9);
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 4800, 0), 3, 1e-9);
    /* nobody ran between the first run's end and the second's first step: unknown */
    g_assert_true(isnan(fetch_step(port, DAY0 + 86400 + 300, 0)));
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 86400 + 900, 0), 5, 1e-9);
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 86400 + 1200, 0), 5, 1e-9);
    tt_test_remove_tree(dir);
}

/* The index holds for the start that reads it: a crash leaves none, and LAST is asked again. */
static void test_index_after_crash(void)
{
    g_autofree char *dir = g_dir_make_tmp("rrd-index-XXXXXX", NULL);
    g_autofree char *idx = g_build_filename(dir, ".last", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    cached c;
    NEED_CACHED(dir, &c);
    run_store(dir, &a, c.addr, DAY0, 4, 1);
    g_assert_true(g_file_test(idx, G_FILE_TEST_EXISTS));
    g_autoptr(GError) error = NULL;
    tt_rrd_store *st = tt_rrd_store_new(dir, &a, c.addr, &error);
    g_assert_no_error(error);
    g_assert_false(g_file_test(idx, G_FILE_TEST_EXISTS)); /* read and deleted */
    tt_rrd_store_free(st); /* a clean end writes it again, with what it knew */
    g_assert_true(g_file_test(idx, G_FILE_TEST_EXISTS));
    g_assert_cmpint(g_remove(idx), ==, 0); /* as a crash would leave it: none */

    /* rrdcached's LAST says what the disk does not: the replay is still past */
    tt_rrd_store_stats s = run_store(dir, &a, c.addr, DAY0, 4, 1);
    g_assert_cmpuint(s.indexed, ==, 0);
    g_assert_cmpuint(s.unasked, ==, 0); /* rrdcached holds both files: asked */
    g_assert_cmpuint(s.updates, ==, 0);
    g_assert_cmpuint(s.past, ==, 8);
    cached_stop(&c);
    tt_test_remove_tree(dir);
}

/* rrdcached killed between two runs (no journal): what it held is gone, and the index, which
 * names the process that held it, is not trusted: the replay stores every step again. */
static void test_index_other_cached(void)
{
    g_autofree char *dir = g_dir_make_tmp("rrd-index-XXXXXX", NULL);
    g_autofree char *port = g_build_filename(dir, "port/tcp/23.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    cached c;
    NEED_CACHED(dir, &c);
    run_store(dir, &a, c.addr, DAY0 + 3600, 4, 3);
    cached_end(&c, SIGKILL);
    g_autofree char *sock = g_build_filename(dir, "rrdcached.sock", NULL);
    (void)g_remove(sock);
    g_assert_true(cached_start(dir, &c));

    tt_rrd_store_stats s = run_store(dir, &a, c.addr, DAY0 + 3600, 4, 3);
    g_assert_cmpuint(s.indexed, ==, 0);
    g_assert_cmpuint(s.updates, ==, 8);
    g_assert_cmpuint(s.past, ==, 0);
    cached_stop(&c);
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 3900, 0), 3, 1e-9);
    g_assert_cmpfloat_with_epsilon(fetch_step(port, DAY0 + 4800, 0), 3, 1e-9);
    tt_test_remove_tree(dir);
}

/* rrdcached stopped cleanly between two runs (SIGTERM: it writes all it held) and started
 * again: the index names the old process, but every file has caught up with it, so the
 * next start takes both last updates from the index, asks nothing, and stores exactly. */
static void test_index_other_cached_flushed(void)
{
    g_autofree char *dir = g_dir_make_tmp("rrd-index-XXXXXX", NULL);
    g_autofree char *port = g_build_filename(dir, "port/tcp/23.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    cached c;
    NEED_CACHED(dir, &c);
    run_store(dir, &a, c.addr, DAY0 + 3600, 4, 3);
    cached_stop(&c);
    g_autofree char *sock = g_build_filename(dir, "rrdcached.sock", NULL);
    (void)g_remove(sock);
    g_assert_true(cached_start(dir, &c));

    next_day_then_replay(dir, &a, c.addr, 2, 0, FALSE);
    cached_stop(&c);
    check_two_runs(port);
    tt_test_remove_tree(dir);
}

/* Files made through librrd directly (no index), then a fresh rrdcached that holds nothing:
 * no LAST is asked, the files' own last updates hold, and the steps store exactly; once it
 * holds them (the run's end left them unwritten) and the index is gone, LAST is asked. */
static void test_cached_empty_unasked(void)
{
    g_autofree char *dir = g_dir_make_tmp("rrd-index-XXXXXX", NULL);
    g_autofree char *port = g_build_filename(dir, "port/tcp/23.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    tt_rrd_store_stats s = run_store(dir, &a, NULL, DAY0 + 3600, 4, 3);
    g_assert_cmpuint(s.created, ==, 2);
    cached c;
    NEED_CACHED(dir, &c);
    next_day_then_replay(dir, &a, c.addr, 0, 2, TRUE);
    cached_stop(&c);
    check_two_runs(port);
    tt_test_remove_tree(dir);
}

/* Another archive layout, or another kind under the same name: asked as if there were no index. */
static void test_index_not_trusted(void)
{
    g_autofree char *dir = g_dir_make_tmp("rrd-index-XXXXXX", NULL);
    g_autofree char *idx = g_build_filename(dir, ".last", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300), other;
    g_autoptr(GError) error = NULL;
    g_assert_true(tt_rrd_archives_parse("step:2d; 1h:30d", 300, &other, &error));
    cached c;
    NEED_CACHED(dir, &c);
    run_store(dir, &a, c.addr, DAY0, 2, 1);

    /* rrd-archives changed: the index is dropped and the schema check refuses the file */
    tt_rrd_store *st = tt_rrd_store_new(dir, &other, c.addr, &error);
    tt_rrd_values v = {1, 1, 1, 1};
    g_assert_false(tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", DAY0 + 86400,
                                       DAY0 + 86400 + 300, &v, &error));
    g_assert_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA);
    g_clear_error(&error);
    tt_rrd_store_stats s;
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.indexed, ==, 0);
    tt_rrd_store_free(st);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(idx, &text, NULL, NULL));
    g_assert_null(strstr(text, "23.rrd")); /* a refused file is never named */

    /* the default layout again: that index is another layout's, so LAST is asked */
    s = run_store(dir, &a, c.addr, DAY0 + 86400, 1, 1);
    g_assert_cmpuint(s.indexed, ==, 0);
    g_assert_cmpuint(s.updates, ==, 2);

    /* the total named as a port file (an index edited by hand): that one is asked */
    g_autofree char *t2 = NULL;
    g_assert_true(g_file_get_contents(idx, &t2, NULL, NULL));
    g_autofree char *edited = g_strdup_printf("%s0 %d total.rrd\n", t2, DAY0 + 3 * 86400);
    g_assert_true(g_file_set_contents(idx, edited, -1, NULL));
    s = run_store(dir, &a, c.addr, DAY0 + 2 * 86400, 1, 1);
    g_assert_cmpuint(s.indexed, ==, 1); /* the port file only */
    g_assert_cmpuint(s.updates, ==, 2);
    cached_stop(&c);
    tt_test_remove_tree(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rrd/index/replaces-last", test_index_replaces_last);
    g_test_add_func("/rrd/index/after-crash", test_index_after_crash);
    g_test_add_func("/rrd/index/other-rrdcached", test_index_other_cached);
    g_test_add_func("/rrd/index/other-rrdcached-flushed", test_index_other_cached_flushed);
    g_test_add_func("/rrd/index/not-trusted", test_index_not_trusted);
    g_test_add_func("/rrd/index/cached-empty-unasked", test_cached_empty_unasked);
    return g_test_run();
}
