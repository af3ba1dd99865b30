/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rrd_store.c - the RRD store's promises, against real librrd files in a temp dir:
 * an existing file with another schema is reported and left byte-identical;
 * creation never overwrites; a step already stored is skipped and counted;
 * idle steps read 0; a restart after downtime writes U over the gap, 0 before it;
 * a line refused at the commit (the file locked by another process) leaves the
 * file alone for the rest of a --read, so the next run stores exactly the
 * steps that were refused; through rrdcached, a batch line it refuses does the
 * same (a fake rrdcached on a unix socket answers the BATCH with an error);
 * a file whose creation a journal queues is created and journaled once, and
 * past the stop's deadline an existing file is journaled unopened and stored
 * exactly once by the replay.
 */
#include <fcntl.h>
#include <math.h>
#include <rrd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rrd_fetch.h"
#include "store.h"

static char *tmpdir(void)
{
    return g_dir_make_tmp("rrd-store-XXXXXX", NULL);
}

static void test_schema_refused(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *path = g_build_filename(dir, "total.rrd", NULL);
    const char *argv[] = {"DS:x:GAUGE:600:0:U", "RRA:AVERAGE:0.5:1:10"};
    g_assert_cmpint(rrd_create_r2(path, 300, 1546300800, 0, NULL, NULL, 2, argv), ==, 0);
    g_autofree char *before = NULL;
    gsize len_before = 0;
    g_assert_true(g_file_get_contents(path, &before, &len_before, NULL));

    tt_rrd_archives a = tt_rrd_archives_default(300);
    g_autoptr(GError) error = NULL;
    tt_rrd_store *st = tt_rrd_store_new(dir, &a, NULL, &error);
    g_assert_no_error(error);
    tt_rrd_values v = {1, 2, 3, 1};
    g_assert_false(tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", 1546300800, 1546301100,
                                       &v, &error));
    g_assert_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA);
    tt_rrd_store_commit(st);
    tt_rrd_store_free(st);
    g_autofree char *after = NULL;
    gsize len_after = 0;
    g_assert_true(g_file_get_contents(path, &after, &len_after, NULL));
    g_assert_cmpuint(len_before, ==, len_after);
    g_assert_true(memcmp(before, after, len_after) == 0);
}

/* A file of the default layout met by a store configured with other archives
 * (rrd-archives changed in the configuration): reported, never rewritten. */
static void test_archives_refused(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *path = g_build_filename(dir, "country/RU.rrd", NULL);
    tt_rrd_archives def = tt_rrd_archives_default(300), other;
    gboolean created = FALSE;
    g_autoptr(GError) error = NULL;
    g_assert_true(tt_rrd_create_file(path, TT_RRD_COUNTRY, &def, 1546300800, &created, &error));
    g_autofree char *before = NULL;
    gsize len_before = 0;
    g_assert_true(g_file_get_contents(path, &before, &len_before, NULL));

    /* same resolutions, one retention longer; then one resolution more */
    const char *layouts[] = {"step:2d; 1h:90d; 1d:5y", "step:2d; 1h:90d; 1d:3y; 1w:10y"};
    for (guint i = 0; i < G_N_ELEMENTS(layouts); i++) {
        g_assert_true(tt_rrd_archives_parse(layouts[i], 300, &other, &error));
        int64_t last = 0;
        g_assert_false(tt_rrd_check_file(path, TT_RRD_COUNTRY, &other, &last, &error));
        g_assert_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA);
        g_assert_nonnull(strstr(error->message, "archive"));
        g_clear_error(&error);

        tt_rrd_store *st = tt_rrd_store_new(dir, &other, NULL, &error);
        g_assert_no_error(error);
        tt_rrd_values v = {1, 2, 3, 1};
        g_assert_false(tt_rrd_store_update(st, TT_RRD_COUNTRY, NULL, "country/RU.rrd", 1546300800,
                                           1546301100, &v, &error));
        g_assert_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA);
        g_clear_error(&error);
        tt_rrd_store_commit(st);
        tt_rrd_store_stats s;
        tt_rrd_store_get_stats(st, &s);
        g_assert_cmpuint(s.refused, ==, 1);
        tt_rrd_store_free(st);
    }
    /* the default layout still matches the file */
    int64_t last = 0;
    g_assert_true(tt_rrd_check_file(path, TT_RRD_COUNTRY, &def, &last, &error));
    g_autofree char *after = NULL;
    gsize len_after = 0;
    g_assert_true(g_file_get_contents(path, &after, &len_after, NULL));
    g_assert_cmpuint(len_before, ==, len_after);
    g_assert_true(memcmp(before, after, len_after) == 0);
    /* the footprint formula is the file's size, for the custom layout too */
    g_assert_cmpuint(tt_rrd_file_size(&def, TT_RRD_COUNTRY), ==, len_after);
    g_autofree char *p2 = g_build_filename(dir, "port/tcp/1.rrd", NULL);
    g_assert_true(tt_rrd_create_file(p2, TT_RRD_PORT, &other, 1546300800, &created, &error));
    g_autofree char *c2 = NULL;
    gsize l2 = 0;
    g_assert_true(g_file_get_contents(p2, &c2, &l2, NULL));
    g_assert_cmpuint(tt_rrd_file_size(&other, TT_RRD_PORT), ==, l2);
}

/*
 * The header read without librrd (the first touch of an existing file) against
 * rrd_info_r: the same verdict and last update for every kind, with the default
 * and another layout, before and after updates; and it vouches for nothing
 * librrd would refuse or that has another schema (it leaves those to rrd_info_r).
 */
static void check_both(const char *path, tt_rrd_kind kind, const tt_rrd_archives *a,
                       gboolean header_ok)
{
    int64_t fast = -1, slow = -2;
    g_autoptr(GError) error = NULL;
    gboolean h = tt_rrd_check_header(path, kind, a, &fast);
    gboolean l = tt_rrd_check_file_librrd(path, kind, a, &slow, &error);
    g_assert_cmpint(h, ==, header_ok);
    if (h) {
        g_assert_true(l);
        g_assert_cmpint(fast, ==, slow);
    }
}

static void test_check_header(void)
{
    g_autofree char *dir = tmpdir();
    tt_rrd_archives def = tt_rrd_archives_default(300), other;
    g_autoptr(GError) error = NULL;
    g_assert_true(tt_rrd_archives_parse("step:1d; 1h:30d; 1d:10y", 300, &other, &error));
    const tt_rrd_kind kinds[] = {TT_RRD_PORT, TT_RRD_COUNTRY, TT_RRD_TOTAL, TT_RRD_SENSOR,
                                 TT_RRD_SELF};
    const int64_t d = 1546300800;
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (guint layout = 0; layout < 2; layout++) {
            const tt_rrd_archives *a = layout == 0 ? &def : &other;
            g_autofree char *path = g_strdup_printf("%s/f-%u-%u.rrd", dir, k, layout);
            gboolean created = FALSE;
            g_assert_true(tt_rrd_create_file(path, kinds[k], a, d, &created, &error));
            check_both(path, kinds[k], a, TRUE);
            /* the other layout's store meets it: both refuse */
            int64_t last = 0;
            g_assert_false(tt_rrd_check_header(path, kinds[k], layout == 0 ? &other : &def, &last));
            g_assert_false(
                tt_rrd_check_file(path, kinds[k], layout == 0 ? &other : &def, &last, &error));
            g_clear_error(&error);
            /* and as another kind with as many data sources (port and total differ in archives) */
            if (kinds[k] == TT_RRD_PORT) {
                g_assert_false(tt_rrd_check_header(path, TT_RRD_TOTAL, a, &last));
                g_assert_false(tt_rrd_check_file(path, TT_RRD_TOTAL, a, &last, &error));
                g_clear_error(&error);
            }
            /* updated: the last update moves, read the same both ways */
            GString *v = g_string_new(NULL);
            for (int i = 1; i <= 3; i++) {
                g_string_printf(v, "%" G_GINT64_FORMAT, d + 300 * i);
                for (guint n = 0; n < (kinds[k] == TT_RRD_SELF ? 13u : 4u); n++)
                    g_string_append(v, ":1");
                const char *vals[] = {v->str};
                g_assert_cmpint(rrd_update_r(path, NULL, 1, vals), ==, 0);
            }
            g_string_free(v, TRUE);
            check_both(path, kinds[k], a, TRUE);
            g_assert_true(tt_rrd_check_header(path, kinds[k], a, &last));
            g_assert_cmpint(last, ==, d + 900);
        }
    }
    /* truncated by one value, or grown: not vouched for; librrd decides */
    g_autofree char *cut = g_strdup_printf("%s/f-0-0.rrd", dir);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(cut, &data, &len, NULL));
    g_autofree char *shorter = g_build_filename(dir, "short.rrd", NULL);
    g_assert_true(g_file_set_contents(shorter, data, (gssize)len - 8, NULL));
    check_both(shorter, TT_RRD_PORT, &def, FALSE);
    g_autofree char *longer = g_build_filename(dir, "long.rrd", NULL);
    g_autofree char *more = g_malloc0(len + 8);
    memcpy(more, data, len);
    g_assert_true(g_file_set_contents(longer, more, (gssize)len + 8, NULL));
    check_both(longer, TT_RRD_PORT, &def, FALSE);
    /* a broken float cookie (another architecture's file) */
    g_autofree char *alien = g_build_filename(dir, "alien.rrd", NULL);
    data[16] ^= 0x01;
    g_assert_true(g_file_set_contents(alien, data, (gssize)len, NULL));
    check_both(alien, TT_RRD_PORT, &def, FALSE);
    int64_t last = 0;
    g_assert_false(tt_rrd_check_file(alien, TT_RRD_PORT, &def, &last, &error));
    g_clear_error(&error);
    /* someone else's schema */
    g_autofree char *foreign = g_build_filename(dir, "foreign.rrd", NULL);
    const char *argv[] = {"DS:flows:GAUGE:600:0:U", "DS:packets:ABSOLUTE:600:0:U",
                          "DS:bytes:ABSOLUTE:600:0:U", "DS:sources:GAUGE:600:0:U",
                          "RRA:AVERAGE:0.5:1:10"};
    g_assert_cmpint(rrd_create_r2(foreign, 300, d, 0, NULL, NULL, 5, argv), ==, 0);
    check_both(foreign, TT_RRD_PORT, &def, FALSE);
    /* no file */
    g_autofree char *none = g_build_filename(dir, "none.rrd", NULL);
    g_assert_false(tt_rrd_check_header(none, TT_RRD_PORT, &def, &last));
}

static void test_create_no_overwrite(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *path = g_build_filename(dir, "a/b.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    gboolean created = FALSE;
    g_autoptr(GError) error = NULL;
    g_assert_true(tt_rrd_create_file(path, TT_RRD_PORT, &a, 1546300800, &created, &error));
    g_assert_true(created);
    g_assert_true(tt_rrd_create_file(path, TT_RRD_PORT, &a, 1600000000, &created, &error));
    g_assert_false(created);
    int64_t last = 0;
    g_assert_true(tt_rrd_check_file(path, TT_RRD_PORT, &a, &last, &error));
    g_assert_cmpint(last, ==, 1546300800);
    /* a port file is not a country file: MAX archives missing is fine, DS must match */
    g_assert_cmpuint(tt_rrd_file_size(&a, TT_RRD_PORT), >, 100000);
}

static void test_idle_past_and_restart_gap(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *file = g_build_filename(dir, "port/tcp/23.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    const int64_t d = 1546300800; /* 2019-01-01 UTC */
    g_autoptr(GError) error = NULL;
    tt_rrd_store_stats s;

    tt_rrd_store *st = tt_rrd_store_new(dir, &a, NULL, &error);
    tt_rrd_values v = {30, 60, 600, 5};
    g_assert_true(tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", d + 3600, d + 3900,
                                      &v, &error));
    g_assert_true(tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", d + 7200, d + 7500,
                                      &v, &error));
    /* a replayed step: skipped and counted */
    g_assert_true(tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", d + 3600, d + 3900,
                                      &v, &error));
    tt_rrd_store_commit(st);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.updates, ==, 2);
    g_assert_cmpuint(s.past, ==, 1);
    tt_rrd_store_finish(st, d + 10 * 86400);
    tt_rrd_store_free(st);

    g_assert_cmpfloat(fetch_step(file, d + 300, 0), ==, 0); /* before the data: 0 */
    g_assert_cmpfloat_with_epsilon(fetch_step(file, d + 3900, 0), 30, 1e-9);
    g_assert_cmpfloat_with_epsilon(fetch_step(file, d + 3900, 3), 5, 1e-9);
    g_assert_cmpfloat(fetch_step(file, d + 5400, 0), ==, 0);  /* idle step: 0 */
    g_assert_cmpfloat(fetch_step(file, d + 86400, 0), ==, 0); /* filled to midnight */

    /* restart: the stream resumes two days later; the gap is unknown */
    st = tt_rrd_store_new(dir, &a, NULL, &error);
    g_assert_true(tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", d + 3 * 86400,
                                      d + 3 * 86400 + 300, &v, &error));
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.unknown_gaps, ==, 1);
    tt_rrd_store_free(st);
    g_assert_true(isnan(fetch_step(file, d + 2 * 86400, 0)));
    g_assert_cmpfloat_with_epsilon(fetch_step(file, d + 3 * 86400 + 300, 0), 30, 1e-9);
}

static guint count_lines(const char *path, const char *prefix)
{
    g_autofree char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, NULL))
        return 0;
    guint n = 0;
    g_auto(GStrv) lines =
        g_strsplit_set(data, "\n", -1); /* not g_strsplit: its strstr is quadratic under ASan */
    for (char **l = lines; *l != NULL; l++)
        if (**l != '\0' && g_str_has_prefix(*l, prefix))
            n++;
    return n;
}

/* issue 11: a file whose TT-CREATE line is queued (a journal's) is created by that line
 * only, before the stop's deadline or past it, and journaled once; a journal that names a
 * file twice is read with each file once. */
static void test_queued_create_once(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *journal = g_build_filename(dir, ".journal", NULL);
    g_autofree char *f7 = g_build_filename(dir, "port/udp/7.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    const int64_t d = 1546300800; /* 2019-01-01 UTC */
    g_autoptr(GError) error = NULL;
    tt_rrd_store_stats s;
    tt_rrd_values v = {3, 6, 60, 1};
    g_autofree char *j = g_strdup_printf("TT-CREATE 0 %" G_GINT64_FORMAT " port/udp/7.rrd\n"
                                         "TT-CREATE 0 %" G_GINT64_FORMAT " port/udp/7.rrd\n"
                                         "TT-CREATE 0 %" G_GINT64_FORMAT " port/udp/8.rrd\n",
                                         d, d, d);
    g_assert_true(g_file_set_contents(journal, j, -1, NULL));

    /* past the deadline, with its creation still queued: no second TT-CREATE */
    tt_rrd_store *st = tt_rrd_store_new(dir, &a, NULL, &error);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.replayed, ==, 2);
    tt_rrd_store_abandon(st);
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_PORT, NULL, "port/udp/7.rrd", d + 300, d + 600, &v, &error));
    g_assert_cmpuint(tt_rrd_store_queued(st), ==, 3);
    g_test_expect_message("rrd", G_LOG_LEVEL_WARNING, "*3 update lines could not be written*");
    tt_rrd_store_free(st);
    g_test_assert_expected_messages();
    g_assert_cmpuint(count_lines(journal, "TT-CREATE "), ==, 2);
    g_assert_cmpuint(count_lines(journal, ""), ==, 3);
    g_assert_false(g_file_test(f7, G_FILE_TEST_EXISTS));

    /* before the deadline: the step waits behind the queued line, which creates the file */
    st = tt_rrd_store_new(dir, &a, NULL, &error);
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_PORT, NULL, "port/udp/7.rrd", d + 600, d + 900, &v, &error));
    g_assert_false(g_file_test(f7, G_FILE_TEST_EXISTS));
    tt_rrd_store_commit(st);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.created, ==, 2);
    g_assert_cmpuint(s.pending, ==, 0);
    tt_rrd_store_free(st);
    g_assert_false(g_file_test(journal, G_FILE_TEST_EXISTS));
    g_assert_cmpfloat_with_epsilon(fetch_step(f7, d + 600, 0), 3, 1e-9);
    g_assert_cmpfloat_with_epsilon(fetch_step(f7, d + 900, 0), 3, 1e-9);
}

/* issue 11: past the deadline, through librrd, an existing file is not opened: its lines are
 * journaled with every value a check could have dropped, and the replay stores each step
 * exactly once (a step the file holds stays as it is). */
static void test_abandoned_unchecked(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *file = g_build_filename(dir, "port/tcp/23.rrd", NULL);
    g_autofree char *journal = g_build_filename(dir, ".journal", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    const int64_t d = 1546300800; /* 2019-01-01 UTC */
    g_autoptr(GError) error = NULL;
    tt_rrd_store_stats s;
    tt_rrd_values v = {30, 60, 600, 5}, w = {7, 14, 140, 2};

    /* steps a (held by the file, then replayed) and b (the day after), in the 2-day archive */
    const int64_t sa = d + 2 * 86400 + 300, sb = d + 3 * 86400 + 300;
    tt_rrd_store *st = tt_rrd_store_new(dir, &a, NULL, &error);
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", sa, sa + 300, &v, &error));
    tt_rrd_store_finish(st, d + 10 * 86400); /* filled to d + 3 days */
    tt_rrd_store_free(st);

    st = tt_rrd_store_new(dir, &a, NULL, &error);
    tt_rrd_store_abandon(st);
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", sa, sa + 300, &w, &error));
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_PORT, "s1", "port/tcp/23.rrd", sb, sb + 300, &w, &error));
    tt_rrd_store_finish(st, d + 10 * 86400);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.past, ==, 0); /* not known here: the replay skips it */
    g_test_expect_message("rrd", G_LOG_LEVEL_WARNING, "*3 update lines could not be written*");
    tt_rrd_store_free(st);
    g_test_assert_expected_messages();
    g_assert_true(g_file_test(journal, G_FILE_TEST_EXISTS));
    g_assert_true(isnan(fetch_step(file, sb + 300, 0))); /* not written yet */

    st = tt_rrd_store_new(dir, &a, NULL, &error);
    tt_rrd_store_commit(st);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.refused, ==, 0);
    g_assert_cmpuint(s.pending, ==, 0);
    tt_rrd_store_free(st);
    g_assert_false(g_file_test(journal, G_FILE_TEST_EXISTS));
    g_assert_cmpfloat_with_epsilon(fetch_step(file, sa + 300, 0), 30, 1e-9); /* kept */
    g_assert_cmpfloat(fetch_step(file, sb, 0), ==, 0);                       /* idle: 0 */
    g_assert_cmpfloat_with_epsilon(fetch_step(file, sb + 300, 0), 7, 1e-9);
    g_assert_cmpfloat(fetch_step(file, d + 4 * 86400, 0), ==, 0); /* filled to midnight */
}

/* Counts beyond 2^53 are no longer exact in an RRD double: stored as 2^53 and counted,
 * never rounded or wrapped (issue 12: 2^62 packets). */
static void test_saturated(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *file = g_build_filename(dir, "total.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    const int64_t d = 1546300800;
    g_autoptr(GError) error = NULL;
    tt_rrd_store_stats s;

    tt_rrd_store *st = tt_rrd_store_new(dir, &a, NULL, &error);
    tt_rrd_values v = {3, UINT64_C(1) << 62, UINT64_MAX, 1};
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d + 300, d + 600, &v, &error));
    tt_rrd_values ok = {3, UINT64_C(1) << 53, 7, 1};
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d + 600, d + 900, &ok, &error));
    tt_rrd_store_commit(st);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.saturated, ==, 1);
    g_assert_cmpuint(s.updates, ==, 2);
    tt_rrd_store_free(st);
    g_assert_cmpfloat(fetch_step(file, d + 600, 1), ==, 9007199254740992.0);
    g_assert_cmpfloat(fetch_step(file, d + 600, 2), ==, 9007199254740992.0);
    g_assert_cmpfloat(fetch_step(file, d + 900, 1), ==, 9007199254740992.0);
}

/*
 * A child process holds @a path's POSIX lock (as `rrdtool tune` or a second
 * daemon would) until *@a release is closed; returns its pid once it holds it.
 */
static pid_t lock_in_child(const char *path, int *release)
{
    int held[2], go[2];
    g_assert_cmpint(pipe(held), ==, 0);
    g_assert_cmpint(pipe(go), ==, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        int fd = open(path, O_RDWR);
        struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        char c = fd >= 0 && fcntl(fd, F_SETLKW, &l) == 0 ? 'y' : 'n';
        close(go[1]);
        if (write(held[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    close(held[1]);
    close(go[0]);
    char c = 0;
    g_assert_cmpint(read(held[0], &c, 1), ==, 1);
    g_assert_cmpint(c, ==, 'y');
    close(held[0]);
    *release = go[1];
    return pid;
}

static void test_refused_line_holds_file(void)
{
    g_autofree char *dir = tmpdir();
    g_autofree char *file = g_build_filename(dir, "total.rrd", NULL);
    tt_rrd_archives a = tt_rrd_archives_default(300);
    const int64_t d = 1546300800;
    g_autoptr(GError) error = NULL;
    tt_rrd_store_stats s;

    tt_rrd_store *st = tt_rrd_store_new(dir, &a, NULL, &error);
    tt_rrd_store_set_retry(st, FALSE); /* as teitend --read */
    tt_rrd_values v[4] = {{1, 1, 1, 1}, {2, 2, 2, 1}, {3, 3, 3, 1}, {4, 4, 4, 1}};
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d, d + 300, &v[0], &error));
    tt_rrd_store_commit(st);

    int release = -1;
    pid_t child = lock_in_child(file, &release);
    /* two steps in one commit: the first line is refused, the second not written past it */
    for (int i = 1; i <= 2; i++)
        g_assert_true(tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d + 300 * i,
                                          d + 300 * (i + 1), &v[i], &error));
    g_test_expect_message("rrd", G_LOG_LEVEL_WARNING, "*could not lock*");
    tt_rrd_store_commit(st);
    g_test_assert_expected_messages();
    close(release);
    int status = 0;
    g_assert_cmpint(waitpid(child, &status, 0), ==, child);
    /* the lock is gone, but the file stays refused in this run: each step says so */
    g_assert_false(
        tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d + 900, d + 1200, &v[3], &error));
    g_assert_error(error, TT_RRD_ERROR, TT_RRD_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "total.rrd: refused earlier"));
    g_clear_error(&error);
    tt_rrd_store_commit(st);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.refused, ==, 3);
    tt_rrd_store_free(st);
    g_assert_cmpfloat_with_epsilon(fetch_step(file, d + 300, 0), 1, 1e-9);
    g_assert_true(isnan(fetch_step(file, d + 600, 0)));

    /* the second read: the stored step is skipped, the three refused ones are stored */
    st = tt_rrd_store_new(dir, &a, NULL, &error);
    tt_rrd_store_set_retry(st, FALSE);
    for (int i = 0; i < 4; i++)
        g_assert_true(tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d + 300 * i,
                                          d + 300 * (i + 1), &v[i], &error));
    tt_rrd_store_commit(st);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.past, ==, 1);
    g_assert_cmpuint(s.updates, ==, 3);
    g_assert_cmpuint(s.refused, ==, 0);
    tt_rrd_store_free(st);
    for (int i = 0; i < 4; i++)
        g_assert_cmpfloat_with_epsilon(fetch_step(file, d + 300 * (i + 1), 0), i + 1, 1e-9);
}

/*
 * A fake rrdcached: one connection; a BATCH is answered with an error for its
 * first line (as rrdcached answers a file it cannot update), any other command
 * with a failure (LAST: not cached). Counts the BATCH lines it was sent.
 */
typedef struct fake_cached {
    int listen_fd;
    guint lines;      /* BATCH lines received */
    guint batches;    /* BATCHes answered: only the first is answered with an error */
    gboolean hang_up; /* instead, close the connection at the end of the first BATCH */
    char *addr;       /* "unix:DIR/cached.sock", for the store */
    GThread *thread;
    GMutex lock;
    GCond cond;
    gboolean hold; /* a BATCH's answer waits for fake_cached_release */
} fake_cached;

static gpointer fake_cached_main(gpointer data)
{
    fake_cached *fc = data;
    int fd = accept(fc->listen_fd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    FILE *in = fdopen(fd, "r");
    char line[4096];
    gboolean batch = FALSE;
    while (fgets(line, sizeof line, in) != NULL) {
        const char *reply = NULL;
        g_autofree char *owned = NULL;
        if (batch && strcmp(line, ".\n") == 0 && fc->hang_up)
            break;
        if (batch && strcmp(line, ".\n") == 0) {
            batch = FALSE;
            g_mutex_lock(&fc->lock);
            while (fc->hold)
                g_cond_wait(&fc->cond, &fc->lock);
            g_mutex_unlock(&fc->lock);
            reply = owned =
                g_strdup(fc->batches++ == 0 ? "1 errors\n1 opening file: Permission denied\n"
                                            : "0 errors\n");
        } else if (batch) {
            fc->lines++;
            continue;
        } else if (strcmp(line, "BATCH\n") == 0) {
            batch = TRUE;
            reply = "0 Go ahead.  End with dot '.' on its own line.\n";
        } else {
            reply = "-1 No such file\n";
        }
        g_assert_cmpint(write(fd, reply, strlen(reply)), ==, (gssize)strlen(reply));
    }
    fclose(in);
    return NULL;
}

/* Start the fake on DIR/cached.sock. */
static void fake_cached_start(fake_cached *fc, const char *dir, gboolean hang_up)
{
    g_autofree char *sock = g_build_filename(dir, "cached.sock", NULL);
    *fc = (fake_cached){.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0), .hang_up = hang_up};
    fc->addr = g_strconcat("unix:", sock, NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, sock, sizeof sa.sun_path);
    g_assert_cmpint(bind(fc->listen_fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    g_assert_cmpint(listen(fc->listen_fd, 1), ==, 0);
    fc->thread = g_thread_new("fake-rrdcached", fake_cached_main, fc);
}

/* A store on DIR through the fake: the default archives of 300 s steps. */
static tt_rrd_store *fake_cached_store(const fake_cached *fc, const char *dir)
{
    tt_rrd_archives a = tt_rrd_archives_default(300);
    g_autoptr(GError) error = NULL;
    tt_rrd_store *st = tt_rrd_store_new(dir, &a, fc->addr, &error);
    g_assert_no_error(error);
    return st;
}

/* Hold the answer to every BATCH from now on, until fake_cached_release. */
static void fake_cached_hold(fake_cached *fc)
{
    g_mutex_lock(&fc->lock);
    fc->hold = TRUE;
    g_mutex_unlock(&fc->lock);
}

static void fake_cached_release(fake_cached *fc)
{
    g_mutex_lock(&fc->lock);
    fc->hold = FALSE;
    g_cond_signal(&fc->cond);
    g_mutex_unlock(&fc->lock);
}

/* The fake's end, once the store (its one connection) is freed. */
static void fake_cached_stop(fake_cached *fc)
{
    g_thread_join(fc->thread);
    close(fc->listen_fd);
    g_free(fc->addr);
}

static void test_cached_refused_line(void)
{
    g_autofree char *dir = tmpdir();
    fake_cached fc;
    fake_cached_start(&fc, dir, FALSE);
    const int64_t d = 1546300800;
    g_autoptr(GError) error = NULL;
    tt_rrd_store_stats s;
    tt_rrd_store *st = fake_cached_store(&fc, dir);
    tt_rrd_store_set_retry(st, FALSE);
    tt_rrd_values v = {1, 1, 1, 1};
    g_assert_true(tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d, d + 300, &v, &error));
    g_test_expect_message("rrd", G_LOG_LEVEL_WARNING, "*rrdcached refused batch line 1 opening*");
    tt_rrd_store_commit(st);
    g_test_assert_expected_messages();
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(fc.lines, ==, 1);
    g_assert_cmpuint(s.refused, ==, 1); /* a step lost: what the core reports as a failure */
    g_assert_cmpuint(s.daemon_errors, ==, 1);
    /* the file is left alone for the rest of the run, each step says so */
    g_assert_false(
        tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d + 300, d + 600, &v, &error));
    g_assert_nonnull(strstr(error->message, "total.rrd: refused earlier"));
    tt_rrd_store_free(st);
    fake_cached_stop(&fc);
}

/* A store through the fake with overlap, total.rrd's first step sent: its batch in flight. */
static tt_rrd_store *fake_cached_in_flight(const fake_cached *fc, const char *dir, int64_t d)
{
    g_autoptr(GError) error = NULL;
    tt_rrd_store *st = fake_cached_store(fc, dir);
    tt_rrd_store_set_overlap(st, TRUE);
    g_assert_true(tt_rrd_store_sendable(st)); /* nothing in flight */
    tt_rrd_values v = {1, 1, 1, 1};
    g_assert_true(tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d, d + 300, &v, &error));
    tt_rrd_store_commit(st);
    g_assert_true(tt_rrd_store_in_flight(st));
    return st;
}

/*
 * The same refusal with the batch in flight on the sender thread (a --read,
 * tt_rrd_store_set_overlap): the file's next step, queued before the answer
 * came, is refused too and never sent; another file's line goes out.
 */
static void test_cached_refused_line_overlap(void)
{
    g_autofree char *dir = tmpdir();
    fake_cached fc;
    fake_cached_start(&fc, dir, FALSE);
    const int64_t d = 1546300800;
    g_autoptr(GError) error = NULL;
    tt_rrd_store_stats s;
    tt_rrd_store *st = fake_cached_in_flight(&fc, dir, d);
    tt_rrd_store_set_retry(st, FALSE);
    tt_rrd_values v = {1, 1, 1, 1};
    g_assert_cmpuint(tt_rrd_store_queued(st), ==, 0);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.pending, ==, 1); /* in flight: not yet taken */
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d + 300, d + 600, &v, &error));
    g_test_expect_message("rrd", G_LOG_LEVEL_WARNING, "*rrdcached refused batch line 1 opening*");
    g_assert_true(tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "other.rrd", d, d + 300, &v, &error));
    tt_rrd_store_commit_wait(st);
    g_test_assert_expected_messages();
    g_assert_false(tt_rrd_store_in_flight(st));
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(fc.lines, ==, 2); /* total.rrd's first step, other.rrd's */
    g_assert_cmpuint(fc.batches, ==, 2);
    g_assert_cmpuint(s.refused, ==, 2); /* total.rrd's two steps */
    g_assert_cmpuint(s.daemon_errors, ==, 1);
    g_assert_cmpuint(s.pending, ==, 0);
    tt_rrd_store_free(st);
    fake_cached_stop(&fc);
}

/*
 * The writer's check at each update (collector/host.c): while rrdcached works on
 * the batch in flight a commit would only queue, so the store says not yet;
 * once rrdcached has answered it says go, and the commit takes the answer and
 * sends what queued meanwhile.
 */
static void test_cached_sendable(void)
{
    g_autofree char *dir = tmpdir();
    fake_cached fc;
    fake_cached_start(&fc, dir, FALSE);
    fake_cached_hold(&fc);
    const int64_t d = 1546300800;
    g_autoptr(GError) error = NULL;
    tt_rrd_store *st = fake_cached_in_flight(&fc, dir, d);
    tt_rrd_store_set_retry(st, FALSE);
    tt_rrd_values v = {1, 1, 1, 1};
    g_assert_false(tt_rrd_store_sendable(st)); /* the fake holds its answer */
    g_assert_true(tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "other.rrd", d, d + 300, &v, &error));
    tt_rrd_store_commit(st); /* queues behind the batch in flight */
    g_assert_cmpuint(tt_rrd_store_queued(st), ==, 1);
    g_assert_false(tt_rrd_store_sendable(st));
    fake_cached_release(&fc);
    for (int i = 0; i < 10000 && !tt_rrd_store_sendable(st); i++)
        g_usleep(1000);
    g_assert_true(tt_rrd_store_sendable(st));
    g_assert_true(tt_rrd_store_in_flight(st)); /* answered, the answer not yet taken */
    g_assert_cmpuint(tt_rrd_store_queued(st), ==, 1);
    g_test_expect_message("rrd", G_LOG_LEVEL_WARNING, "*rrdcached refused batch line 1 opening*");
    tt_rrd_store_commit(st);
    g_test_assert_expected_messages();
    g_assert_cmpuint(tt_rrd_store_queued(st), ==, 0); /* other.rrd's line went */
    tt_rrd_store_commit_wait(st);
    g_assert_cmpuint(fc.batches, ==, 2);
    g_assert_cmpuint(fc.lines, ==, 2);
    tt_rrd_store_free(st);
    fake_cached_stop(&fc);
}

/*
 * rrdcached goes away with a batch in flight: its lines come back to the queue
 * ahead of those queued since, in order, and the stop journals them all.
 */
static void test_cached_down_overlap(void)
{
    g_autofree char *dir = tmpdir();
    fake_cached fc;
    fake_cached_start(&fc, dir, TRUE);
    const int64_t d = 1546300800;
    g_autoptr(GError) error = NULL;
    tt_rrd_store_stats s;
    tt_rrd_store *st = fake_cached_in_flight(&fc, dir, d);
    tt_rrd_values v = {1, 1, 1, 1};
    g_assert_true(
        tt_rrd_store_update(st, TT_RRD_TOTAL, NULL, "total.rrd", d + 300, d + 600, &v, &error));
    g_test_expect_message("rrd", G_LOG_LEVEL_WARNING, "*2 update lines kept in memory*");
    tt_rrd_store_sync(st);
    g_test_assert_expected_messages();
    g_assert_false(tt_rrd_store_in_flight(st));
    g_assert_true(tt_rrd_store_is_down(st));
    g_assert_cmpuint(tt_rrd_store_queued(st), ==, 2);
    tt_rrd_store_get_stats(st, &s);
    g_assert_cmpuint(s.refused, ==, 0);
    g_test_expect_message("rrd", G_LOG_LEVEL_WARNING, "*2 update lines could not be written*");
    tt_rrd_store_abandon(st); /* the stop: no last try */
    tt_rrd_store_free(st);
    g_test_assert_expected_messages();
    fake_cached_stop(&fc);
    g_autofree char *journal = g_build_filename(dir, ".journal", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(journal, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    g_assert_nonnull(strstr(lines[0], " 1546301100:")); /* the first step, first */
    g_assert_null(strstr(lines[0], " 1546301400:"));
    g_assert_nonnull(strstr(lines[1], " 1546301400:"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rrd/schema-refused", test_schema_refused);
    g_test_add_func("/rrd/create-no-overwrite", test_create_no_overwrite);
    g_test_add_func("/rrd/check-header", test_check_header);
    g_test_add_func("/rrd/archives-refused", test_archives_refused);
    g_test_add_func("/rrd/idle-past-restart", test_idle_past_and_restart_gap);
    g_test_add_func("/rrd/saturated", test_saturated);
    g_test_add_func("/rrd/refused-line-holds-file", test_refused_line_holds_file);
    g_test_add_func("/rrd/cached-refused-line", test_cached_refused_line);
    g_test_add_func("/rrd/cached-refused-line-overlap", test_cached_refused_line_overlap);
    g_test_add_func("/rrd/cached-down-overlap", test_cached_down_overlap);
    g_test_add_func("/rrd/cached-sendable", test_cached_sendable);
    g_test_add_func("/rrd/queued-create-once", test_queued_create_once);
    g_test_add_func("/rrd/abandoned-unchecked", test_abandoned_unchecked);
    return g_test_run();
}
