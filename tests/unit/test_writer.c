/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_writer.c - the writer thread: order, flush, pending count, drain on free,
 * the byte-bounded backlog (refused when live, waited for when reading files),
 * the stop's deadline (drain with progress, discard counted as lost).
 *
 * Runs the real tt_writer with jobs that record what they saw. Jobs that must
 * stay in the queue for a while block on a gate the test opens, rather than
 * sleeping, so the checks do not depend on timing.
 */
#include <glib.h>

#include "test_support.h"

/* Appends its number to a log only the writer thread touches. */
typedef struct seq_job {
    GArray *log;
    guint value;
    gint *freed;
} seq_job;

static void seq_job_run(void *data)
{
    seq_job *j = data;
    g_array_append_val(j->log, j->value);
}

static void seq_job_free(void *data)
{
    seq_job *j = data;
    g_atomic_int_inc(j->freed);
    g_free(j);
}

static void submit_seq(tt_writer *w, GArray *log, guint value, gint *freed)
{
    seq_job *j = g_new(seq_job, 1);
    j->log = log;
    j->value = value;
    j->freed = freed;
    tt_writer_submit(w, seq_job_run, j, seq_job_free);
}

static void test_order_and_free_fn(void)
{
    tt_writer *w = tt_writer_new();
    g_autoptr(GArray) log = g_array_new(FALSE, FALSE, sizeof(guint));
    gint freed = 0;

    for (guint i = 0; i < 5000; i++)
        submit_seq(w, log, i, &freed);
    tt_writer_flush(w);

    g_assert_cmpuint(log->len, ==, 5000);
    for (guint i = 0; i < log->len; i++)
        g_assert_cmpuint(g_array_index(log, guint, i), ==, i);
    g_assert_cmpint(g_atomic_int_get(&freed), ==, 5000);
    g_assert_cmpuint(tt_writer_pending(w), ==, 0);
    tt_writer_free(w);
}

static void test_pending_and_flush(void)
{
    tt_writer *w = tt_writer_new();
    g_autoptr(GArray) log = g_array_new(FALSE, FALSE, sizeof(guint));
    gint freed = 0;
    tt_test_gate g;

    tt_test_gate_hold(&g, w);
    for (guint i = 0; i < 7; i++)
        submit_seq(w, log, i, &freed);
    tt_test_gate_wait_entered(&g);
    /* The gate job is running, the seven behind it wait: all eight are pending. */
    g_assert_cmpuint(tt_writer_pending(w), ==, 8);
    g_assert_cmpuint(log->len, ==, 0);

    tt_test_gate_open(&g);
    tt_writer_flush(w);
    g_assert_cmpuint(tt_writer_pending(w), ==, 0);
    g_assert_cmpuint(log->len, ==, 7);
    g_assert_cmpint(g_atomic_int_get(&freed), ==, 7);

    tt_writer_free(w);
    tt_test_gate_clear(&g);
}

/*
 * The idle hook runs once after a burst, when the queue has run dry, not after
 * every job (the core commits RRD lines there: one batch per burst); a flush
 * waiting for the queue sees it run before it returns.
 */
typedef struct {
    GArray *log; /* the job count seen at each idle call */
    guint idles;
} idle_seen;

static gint64 idle_hook(void *data, gboolean force)
{
    (void)force;
    idle_seen *s = data;
    g_array_append_val(s->log, s->log->len); /* writer thread only */
    s->idles++;
    return 0;
}

/*
 * A hook that puts its work off (50 ms) unless forced: the thread calls it
 * again when due though no job came, and a flush forces it at once.
 */
typedef struct {
    gint calls, done, forced; /* atomic */
} later_seen;

static gint64 later_hook(void *data, gboolean force)
{
    later_seen *s = data;
    g_atomic_int_inc(&s->calls);
    if (force)
        g_atomic_int_inc(&s->forced);
    if (force || g_atomic_int_get(&s->calls) >= 2) {
        g_atomic_int_inc(&s->done);
        return 0;
    }
    return 50 * 1000;
}

static void test_idle_put_off(void)
{
    tt_writer *w = tt_writer_new();
    g_autoptr(GArray) log = g_array_new(FALSE, FALSE, sizeof(guint));
    gint freed = 0;
    later_seen seen = {0};
    tt_writer_set_idle(w, later_hook, &seen);
    submit_seq(w, log, 1, &freed);
    /* called after the job (put off), then again ~50 ms later with no job in between */
    gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (g_atomic_int_get(&seen.done) == 0 && g_get_monotonic_time() < until)
        g_usleep(1000);
    g_assert_cmpint(g_atomic_int_get(&seen.calls), ==, 2);
    g_assert_cmpint(g_atomic_int_get(&seen.done), ==, 1);
    g_assert_cmpint(g_atomic_int_get(&seen.forced), ==, 0);
    /* a flush: the idle call is forced (whether the job ran before the flush began, its
     * work put off, or after), done before the flush returns; unforced calls never finish */
    g_atomic_int_set(&seen.calls, -1000);
    submit_seq(w, log, 2, &freed);
    tt_writer_flush(w);
    g_assert_cmpint(g_atomic_int_get(&seen.forced), >=, 1);
    g_assert_cmpint(g_atomic_int_get(&seen.done), ==, 2);
    tt_writer_free(w);
}

static void test_idle_after_burst(void)
{
    tt_writer *w = tt_writer_new();
    g_autoptr(GArray) log = g_array_new(FALSE, FALSE, sizeof(guint));
    idle_seen seen = {g_array_new(FALSE, FALSE, sizeof(guint)), 0};
    gint freed = 0;
    tt_test_gate g;
    tt_writer_set_idle(w, idle_hook, &seen);

    tt_test_gate_hold(&g, w);
    tt_test_gate_wait_entered(&g);
    for (guint i = 0; i < 100; i++)
        submit_seq(w, log, i, &freed);
    tt_test_gate_open(&g);
    /* no flush yet: wait for the jobs, then for the hook (it runs before the last counts) */
    while (tt_writer_pending(w) > 0)
        g_usleep(1000);
    g_assert_cmpuint(log->len, ==, 100);
    g_assert_cmpuint(seen.idles, ==, 1);

    /* a flush waiting while jobs remain: the hook ran before it returned */
    for (guint i = 0; i < 10; i++)
        submit_seq(w, log, i, &freed);
    tt_writer_flush(w);
    g_assert_cmpuint(log->len, ==, 110);
    g_assert_cmpuint(seen.idles, >=, 2);
    tt_writer_free(w);
    g_array_free(seen.log, TRUE);
    tt_test_gate_clear(&g);
}

/*
 * Backpressure: with a limit of 4, the fifth submission waits until a job has
 * finished; nothing is dropped, the wait is counted, and the writer thread
 * itself is never made to wait (a job may queue another).
 */
typedef struct {
    tt_writer *w;
    GArray *log;
    gint *freed;
    gint done;
} bp_submitter;

static gpointer bp_submitter_main(gpointer data)
{
    bp_submitter *s = data;
    submit_seq(s->w, s->log, 99, s->freed);
    g_atomic_int_set(&s->done, 1);
    return NULL;
}

static void test_backpressure(void)
{
    tt_writer *w = tt_writer_new();
    g_autoptr(GArray) log = g_array_new(FALSE, FALSE, sizeof(guint));
    gint freed = 0;
    tt_test_gate g;

    tt_writer_set_limit(w, 4);
    tt_test_gate_hold(&g, w);
    for (guint i = 0; i < 3; i++)
        submit_seq(w, log, i, &freed);
    tt_test_gate_wait_entered(&g);
    g_assert_cmpuint(tt_writer_pending(w), ==, 4);
    g_assert_cmpuint(tt_writer_stalls(w, NULL), ==, 0);

    bp_submitter sub = {w, log, &freed, 0};
    GThread *t = g_thread_new("submitter", bp_submitter_main, &sub);
    g_usleep(200 * 1000);
    /* the queue is full and the gate holds the writer: the submitter still waits */
    g_assert_cmpint(g_atomic_int_get(&sub.done), ==, 0);
    g_assert_cmpuint(tt_writer_pending(w), ==, 4);

    tt_test_gate_open(&g);
    g_thread_join(t);
    g_assert_cmpint(g_atomic_int_get(&sub.done), ==, 1);
    tt_writer_flush(w);
    gint64 stalled_us = 0;
    g_assert_cmpuint(tt_writer_stalls(w, &stalled_us), ==, 1);
    g_assert_cmpint(stalled_us, >=, 150 * 1000);
    g_assert_cmpuint(log->len, ==, 4);
    g_assert_cmpuint(g_array_index(log, guint, 3), ==, 99);
    g_assert_cmpint(g_atomic_int_get(&freed), ==, 4);

    tt_writer_free(w);
    tt_test_gate_clear(&g);
}

/* A job that queues another one, as a plugin job might. */
typedef struct chain_job {
    tt_writer *w;
    GArray *log;
    guint left;
} chain_job;

static void chain_job_run(void *data)
{
    chain_job *c = data;
    g_array_append_val(c->log, c->left);
    if (c->left > 0) {
        chain_job *next = g_memdup2(c, sizeof(*c));
        next->left--;
        tt_writer_submit(c->w, chain_job_run, next, g_free);
    }
}

static void test_free_drains(void)
{
    tt_writer *w = tt_writer_new();
    g_autoptr(GArray) log = g_array_new(FALSE, FALSE, sizeof(guint));
    gint freed = 0;
    tt_test_gate g;

    /* Hold the thread so everything below is still queued when free() is called. */
    tt_test_gate_hold(&g, w);
    for (guint i = 0; i < 100; i++)
        submit_seq(w, log, i, &freed);
    chain_job *c = g_new(chain_job, 1);
    *c = (chain_job){.w = w, .log = log, .left = 3};
    tt_writer_submit(w, chain_job_run, c, g_free);
    tt_test_gate_wait_entered(&g);

    GThread *opener = g_thread_new("opener", tt_test_gate_opener_main, &g);
    tt_writer_free(w);
    g_thread_join(opener);

    /* 100 numbered jobs, then the chain 3, 2, 1, 0, which queued itself during the drain. */
    g_assert_cmpuint(log->len, ==, 104);
    for (guint i = 0; i < 100; i++)
        g_assert_cmpuint(g_array_index(log, guint, i), ==, i);
    for (guint i = 0; i < 4; i++)
        g_assert_cmpuint(g_array_index(log, guint, 100 + i), ==, 3 - i);
    g_assert_cmpint(freed, ==, 100);

    tt_test_gate_clear(&g);
}

/* Several submitting threads: each one's jobs keep their order, none is lost. */
#define SUBMITTERS 4
#define PER_SUBMITTER 2000

typedef struct submitter {
    tt_writer *w;
    GArray *log;
    guint id;
    gint *freed;
} submitter;

static gpointer submitter_main(gpointer data)
{
    submitter *s = data;
    for (guint i = 0; i < PER_SUBMITTER; i++)
        submit_seq(s->w, s->log, s->id * PER_SUBMITTER + i, s->freed);
    return NULL;
}

static void test_concurrent_submitters(void)
{
    tt_writer *w = tt_writer_new();
    g_autoptr(GArray) log = g_array_new(FALSE, FALSE, sizeof(guint));
    gint freed = 0;
    submitter subs[SUBMITTERS];
    GThread *threads[SUBMITTERS];

    for (guint t = 0; t < SUBMITTERS; t++) {
        subs[t] = (submitter){.w = w, .log = log, .id = t, .freed = &freed};
        threads[t] = g_thread_new("submitter", submitter_main, &subs[t]);
    }
    for (guint t = 0; t < SUBMITTERS; t++)
        g_thread_join(threads[t]);
    tt_writer_flush(w);

    g_assert_cmpuint(log->len, ==, SUBMITTERS * PER_SUBMITTER);
    g_assert_cmpint(g_atomic_int_get(&freed), ==, SUBMITTERS * PER_SUBMITTER);
    guint next[SUBMITTERS] = {0};
    for (guint i = 0; i < log->len; i++) {
        guint v = g_array_index(log, guint, i);
        guint t = v / PER_SUBMITTER;
        g_assert_cmpuint(v % PER_SUBMITTER, ==, next[t]);
        next[t]++;
    }
    tt_writer_free(w);
}

static void test_flush_empty_and_free_null(void)
{
    tt_writer *w = tt_writer_new();
    tt_writer_flush(w);
    g_assert_cmpuint(tt_writer_pending(w), ==, 0);
    tt_writer_free(w);
    tt_writer_free(NULL);
}

/* A sized job: counts runs and frees in a shared record. */
typedef struct sized_rec {
    gint ran;
    gint freed;
} sized_rec;

static void sized_run(void *data)
{
    sized_rec *r = data;
    g_atomic_int_inc(&r->ran);
}

static void sized_free(void *data)
{
    sized_rec *r = data;
    g_atomic_int_inc(&r->freed);
}

/*
 * Live: past the byte bound, a job that may be refused is refused at once (the
 * submitter does not wait: this test would hang if it did), freed, counted
 * with its bytes; a job that may not be refused is queued anyway; an empty
 * queue takes a job larger than the bound.
 */
static void test_backlog_refuses_when_live(void)
{
    tt_writer *w = tt_writer_new();
    tt_test_gate g;
    tt_test_gate_init(&g);
    sized_rec r = {0};

    tt_writer_set_backlog(w, 1000, FALSE);
    g_assert_true(tt_writer_submit_sized(w, tt_test_gate_run, &g, NULL, 400, TRUE));
    tt_test_gate_wait_entered(&g);
    g_assert_true(tt_writer_submit_sized(w, sized_run, &r, sized_free, 500, TRUE));
    /* 900 of 1000 bytes pending: 200 more do not fit */
    g_assert_false(tt_writer_submit_sized(w, sized_run, &r, sized_free, 200, TRUE));
    g_assert_cmpint(g_atomic_int_get(&r.freed), ==, 1); /* freed at once, never run */
    g_assert_false(tt_writer_submit_sized(w, sized_run, &r, sized_free, 300, TRUE));
    g_assert_true(tt_writer_submit_sized(w, sized_run, &r, sized_free, 100, TRUE));   /* fits */
    g_assert_true(tt_writer_submit_sized(w, sized_run, &r, sized_free, 5000, FALSE)); /* core job */

    tt_writer_stats st;
    tt_writer_get_stats(w, &st);
    g_assert_cmpuint(st.pending_jobs, ==, 4);
    g_assert_cmpuint(st.pending_bytes, ==, 6000);
    g_assert_cmpuint(st.peak_bytes, ==, 6000);
    g_assert_cmpuint(st.peak_jobs, ==, 4);
    g_assert_cmpuint(st.refused_jobs, ==, 2);
    g_assert_cmpuint(st.refused_bytes, ==, 500);
    g_assert_cmpuint(st.stalls, ==, 0);

    tt_test_gate_open(&g);
    tt_writer_flush(w);
    g_assert_cmpint(g_atomic_int_get(&r.ran), ==, 3);
    g_assert_cmpint(g_atomic_int_get(&r.freed), ==, 5);
    tt_writer_get_stats(w, &st);
    g_assert_cmpuint(st.pending_jobs, ==, 0);
    g_assert_cmpuint(st.pending_bytes, ==, 0);
    g_assert_cmpuint(st.peak_bytes, ==, 6000);
    /* an empty queue takes even a job larger than the bound */
    g_assert_true(tt_writer_submit_sized(w, sized_run, &r, sized_free, 5000, TRUE));
    tt_writer_free(w);
    g_assert_cmpint(r.ran, ==, 4);
    tt_test_gate_clear(&g);
}

typedef struct {
    tt_writer *w;
    sized_rec *r;
    gint done;
    gboolean queued;
} sized_submitter;

static gpointer sized_submitter_main(gpointer data)
{
    sized_submitter *s = data;
    s->queued = tt_writer_submit_sized(s->w, sized_run, s->r, sized_free, 600, TRUE);
    g_atomic_int_set(&s->done, 1);
    return NULL;
}

/* Reading files: past the byte bound the submitter waits (counted), nothing is refused. */
static void test_backlog_waits_when_reading(void)
{
    tt_writer *w = tt_writer_new();
    tt_test_gate g;
    tt_test_gate_init(&g);
    sized_rec r = {0};

    tt_writer_set_backlog(w, 1000, TRUE);
    tt_writer_submit_sized(w, tt_test_gate_run, &g, NULL, 600, TRUE);
    tt_test_gate_wait_entered(&g);
    sized_submitter sub = {w, &r, 0, FALSE};
    GThread *t = g_thread_new("submitter", sized_submitter_main, &sub);
    /* it cannot finish before the gate opens; wait until it is counted as stalled */
    while (tt_writer_stalls(w, NULL) == 0)
        g_usleep(1000);
    g_assert_cmpint(g_atomic_int_get(&sub.done), ==, 0);
    tt_test_gate_open(&g);
    g_thread_join(t);
    g_assert_true(sub.queued);
    tt_writer_flush(w);
    tt_writer_stats st;
    tt_writer_get_stats(w, &st);
    g_assert_cmpuint(st.refused_jobs, ==, 0);
    g_assert_cmpuint(st.stalls, ==, 1);
    g_assert_cmpint(g_atomic_int_get(&r.ran), ==, 1);
    tt_writer_free(w);
    tt_test_gate_clear(&g);
}

static void count_progress(guint64 jobs, guint64 bytes, void *data)
{
    guint64 *calls = data;
    calls[0]++;
    calls[1] = jobs;
    calls[2] = bytes;
}

/*
 * The stop: a drain held by a gate ends at its deadline (FALSE), having told
 * its progress (jobs and bytes pending); discard then has the writer thread
 * free what is queued without running it, counted as lost; a drain of an
 * empty queue returns TRUE at once.
 */
static void test_drain_deadline_and_discard(void)
{
    tt_writer *w = tt_writer_new();
    tt_test_gate g;
    tt_test_gate_init(&g);
    sized_rec r = {0};

    tt_writer_submit_sized(w, tt_test_gate_run, &g, NULL, 10, FALSE);
    for (guint i = 0; i < 5; i++)
        tt_writer_submit_sized(w, sized_run, &r, sized_free, 100, TRUE);
    tt_test_gate_wait_entered(&g);
    guint64 calls[3] = {0};
    gint64 t0 = g_get_monotonic_time();
    g_assert_false(tt_writer_drain(w, t0 + 2500 * 1000, count_progress, calls));
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 2500 * 1000);
    g_assert_cmpuint(calls[0], >=, 1); /* about once a second: at 1 s and 2 s */
    g_assert_cmpuint(calls[0], <=, 2);
    g_assert_cmpuint(calls[1], ==, 6);
    g_assert_cmpuint(calls[2], ==, 510);

    /* the gate job is running: discard waits for it, so open the gate from elsewhere */
    GThread *opener = g_thread_new("opener", tt_test_gate_opener_main, &g);
    guint64 bytes = 0;
    g_assert_cmpuint(tt_writer_discard(w, &bytes), ==, 5);
    g_thread_join(opener);
    g_assert_cmpuint(bytes, ==, 500);
    g_assert_cmpint(g_atomic_int_get(&r.ran), ==, 0);
    g_assert_cmpint(g_atomic_int_get(&r.freed), ==, 5);
    tt_writer_stats st;
    tt_writer_get_stats(w, &st);
    g_assert_cmpuint(st.lost_jobs, ==, 5);
    g_assert_cmpuint(st.lost_bytes, ==, 500);
    g_assert_cmpuint(st.pending_jobs, ==, 0);
    g_assert_cmpuint(st.pending_bytes, ==, 0);

    /* after a discard the writer runs jobs again; an idle queue drains at once */
    tt_writer_submit_sized(w, sized_run, &r, sized_free, 100, TRUE);
    g_assert_true(tt_writer_drain(w, g_get_monotonic_time() + 10 * G_USEC_PER_SEC, NULL, NULL));
    g_assert_cmpint(g_atomic_int_get(&r.ran), ==, 1);
    tt_writer_free(w);
    tt_test_gate_clear(&g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/writer/order-and-free-fn", test_order_and_free_fn);
    g_test_add_func("/writer/pending-and-flush", test_pending_and_flush);
    g_test_add_func("/writer/free-drains", test_free_drains);
    g_test_add_func("/writer/idle-after-burst", test_idle_after_burst);
    g_test_add_func("/writer/idle-put-off", test_idle_put_off);
    g_test_add_func("/writer/backpressure", test_backpressure);
    g_test_add_func("/writer/concurrent-submitters", test_concurrent_submitters);
    g_test_add_func("/writer/flush-empty-and-free-null", test_flush_empty_and_free_null);
    g_test_add_func("/writer/backlog-refuses-when-live", test_backlog_refuses_when_live);
    g_test_add_func("/writer/backlog-waits-when-reading", test_backlog_waits_when_reading);
    g_test_add_func("/writer/drain-deadline-and-discard", test_drain_deadline_and_discard);
    return g_test_run();
}
