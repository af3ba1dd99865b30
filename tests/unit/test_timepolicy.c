/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_timepolicy.c - the time policy as pure functions (collector/timepolicy.c).
 *
 * Record times: the hostile values of issue 12 (2100, 2^63 + 1 ms, 2^64 - 1 ms,
 * an end before the start, a start after the export time within and beyond
 * clamp-max) each get the verdict docs/security.md gives, with no overflow
 * (the ASan + UBSan build runs this too). The sensor clock: one spoofed
 * message, a burst of them, or a source that keeps sending cannot move it
 * while an honest stream contradicts; a first message from a spoofer is
 * re-anchored by an honest replay years behind; a sustained jump is taken.
 * Counts: products saturate at 2^53, sums at 2^63 - 1.
 */
#include <glib.h>

#include "timepolicy.h"

#define DAY_MS INT64_C(86400000)
#define T2019 INT64_C(1546300800000)
#define T2026 INT64_C(1796083200000)
#define T2100 INT64_C(4102444800000)

static const tt_time_rules rules = {.tolerance_ms = 600000, .clamp_max_ms = 8 * DAY_MS};

static tt_rtime_verdict judge(int64_t export_ms, int64_t *start, int64_t *end)
{
    int64_t skew;
    return tt_time_record(&rules, export_ms, start, end, &skew);
}

static void test_conversion(void)
{
    int64_t t = -1;
    g_assert_true(tt_time_from_ms((uint64_t)T2100, &t));
    g_assert_cmpint(t, ==, T2100);
    g_assert_false(tt_time_from_ms((UINT64_C(1) << 63) + 1, &t));
    g_assert_false(tt_time_from_ms(UINT64_MAX, &t));
    g_assert_false(tt_time_from_ms((uint64_t)TT_TIME_MAX_MS + 1, &t));
    g_assert_true(tt_time_from_ms((uint64_t)TT_TIME_MAX_MS, &t));
    /* a forged boot time plus an uptime: no signed overflow, refused */
    g_assert_false(tt_time_add(INT64_MAX, 5, &t));
    g_assert_false(tt_time_add(TT_TIME_MAX_MS, 1, &t));
    g_assert_false(tt_time_add(0, -1, &t));
    g_assert_true(tt_time_add(T2019, 1000, &t));
    g_assert_cmpint(t, ==, T2019 + 1000);
}

static void test_record_times(void)
{
    int64_t s, e;

    s = T2019, e = T2019 + 5000;
    g_assert_cmpint(judge(T2019 + 60000, &s, &e), ==, TT_RTIME_OK);
    g_assert_cmpint(s, ==, T2019);
    g_assert_cmpint(e, ==, T2019 + 5000);
    /* within the tolerance past the export time: exact */
    s = e = T2019 + 600000;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_OK);
    g_assert_cmpint(s, ==, T2019 + 600000);
    /* FortiOS 5.2.1: about 7 days past the export time, kept at the export time */
    s = T2019 + 7 * DAY_MS, e = s + 1000;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_CLAMPED);
    g_assert_cmpint(s, ==, T2019);
    g_assert_cmpint(e, ==, T2019);
    /* beyond clamp-max, and the year 2100 in a 2019 message: refused */
    s = e = T2019 + 8 * DAY_MS + 1;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_FUTURE);
    s = e = T2100;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_FUTURE);
    /* no export time to compare with (sFlow): kept */
    s = e = T2100;
    g_assert_cmpint(judge(0, &s, &e), ==, TT_RTIME_OK);
    /* an end before the start: up to a day it reads as the start, beyond impossible */
    s = T2019, e = T2019 - 3600000;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_OK);
    g_assert_cmpint(e, ==, T2019);
    s = T2019, e = T2019 - DAY_MS - 1;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_IMPOSSIBLE);
    /* what 2^63 + 1 and 2^64 - 1 become in a careless cast, and times before 1970 */
    s = (int64_t)((UINT64_C(1) << 63) + 1), e = s;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_IMPOSSIBLE);
    s = -1, e = T2019;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_IMPOSSIBLE);
    s = INT64_MAX, e = INT64_MIN;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_IMPOSSIBLE);
    s = T2019, e = TT_TIME_MAX_MS + 1;
    g_assert_cmpint(judge(T2019, &s, &e), ==, TT_RTIME_IMPOSSIBLE);
}

static void test_export_ahead(void)
{
    int64_t host = T2026;
    g_assert_true(tt_time_export_ahead(T2100, host, 54000000));
    g_assert_true(tt_time_export_ahead(host + 54000001, host, 54000000));
    g_assert_false(tt_time_export_ahead(host + 54000000, host, 54000000));
    g_assert_false(tt_time_export_ahead(host + 9 * 3600000, host, 54000000)); /* JST router */
    g_assert_false(tt_time_export_ahead(T2019, host, 0));                     /* a replay */
}

static void test_counts(void)
{
    bool sat = false;
    g_assert_cmpuint(tt_count_mul(5, 1000, &sat), ==, 5000);
    g_assert_false(sat);
    g_assert_cmpuint(tt_count_mul(UINT64_C(1) << 62, 1000, &sat), ==, TT_COUNT_MAX);
    g_assert_true(sat);
    sat = false;
    g_assert_cmpuint(tt_count_mul(UINT64_C(1) << 40, UINT32_MAX, &sat), ==, TT_COUNT_MAX);
    g_assert_true(sat);
    sat = false;
    g_assert_cmpuint(tt_count_mul(UINT64_C(1) << 21, UINT64_C(1) << 32, &sat), ==, TT_COUNT_MAX);
    g_assert_false(sat); /* exactly 2^53: stored, not saturated */
    g_assert_cmpuint(tt_count_add(UINT64_MAX, 1), ==, (uint64_t)INT64_MAX);
    g_assert_cmpuint(tt_count_add((uint64_t)INT64_MAX, 1), ==, (uint64_t)INT64_MAX);
    g_assert_cmpuint(tt_count_add(2, 3), ==, 5);
}

/* ---- the sensor clock ------------------------------------------------------ */

static const tt_clock_rules crules = {.window_ms = DAY_MS, .confirm = 3, .confirm_s = 60};
static const int honest, spoof, other; /* sources: their addresses only matter */

typedef struct {
    tt_clock_state st;
    int64_t wm; /* what the core keeps: the newest accepted start */
    uint64_t held;
} clock_sim;

/* Offer a message whose records start at @a t; apply the verdict as dispatch.c does. */
static tt_clock_verdict offer(clock_sim *c, const void *src, uint64_t msg, int64_t t, int64_t now)
{
    int64_t limit;
    tt_clock_verdict v = tt_clock_offer(&c->st, &crules, c->wm, src, 0, msg, t, now, &limit);
    if (v == TT_CLOCK_REANCHOR)
        c->wm = INT64_MIN;
    if (t > limit) {
        c->held++;
        return v;
    }
    if (t > c->wm)
        c->wm = t;
    return v;
}

static void test_clock_spoof_during_replay(void)
{
    clock_sim c = {.wm = INT64_MIN};
    int64_t now = 1000;
    g_assert_cmpint(offer(&c, &honest, 1, T2019, now), ==, TT_CLOCK_START);
    /* a 2019 replay with spoofed "now" datagrams between its messages, 100 of them */
    for (uint64_t i = 0; i < 100; i++) {
        g_assert_cmpint(offer(&c, &spoof, 1 + i, T2026, now + (int64_t)i * 10), ==, TT_CLOCK_HELD);
        g_assert_cmpint(offer(&c, &honest, 2 + i, T2019 + (int64_t)i * 1000, now), ==,
                        TT_CLOCK_FOLLOW);
    }
    g_assert_cmpint(c.wm, ==, T2019 + 99000);
    g_assert_cmpuint(c.held, ==, 100);
}

static void test_clock_burst_after_silence(void)
{
    /* the honest stream stops; a spoofer sends 100 messages within a second: not taken */
    clock_sim c = {.wm = INT64_MIN};
    for (uint64_t i = 0; i < 5; i++)
        offer(&c, &honest, i, T2019 + (int64_t)i, 100 + (int64_t)i * 30);
    g_assert_true(c.st.confirmed);
    for (uint64_t i = 0; i < 100; i++)
        g_assert_cmpint(offer(&c, &spoof, i, T2026, 1000), ==, TT_CLOCK_HELD);
    /* the same from the honest source's own address and port */
    for (uint64_t i = 0; i < 100; i++)
        g_assert_cmpint(offer(&c, &honest, 100 + i, T2026, 1000), ==, TT_CLOCK_HELD);
    g_assert_cmpint(offer(&c, &honest, 300, T2019 + 10, 1001), ==, TT_CLOCK_FOLLOW);
    g_assert_cmpint(c.wm, ==, T2019 + 10);
}

static void test_clock_spoof_first(void)
{
    /* a spoofed first message (another port, or the exporter's own) starts the clock;
     * the honest replay years behind re-anchors it, whatever the spoofer's burst */
    for (int same = 0; same <= 1; same++) {
        clock_sim c = {.wm = INT64_MIN};
        const void *first = same ? &honest : &spoof;
        g_assert_cmpint(offer(&c, first, 1, T2026, 10), ==, TT_CLOCK_START);
        for (uint64_t i = 2; i <= 100; i++)
            offer(&c, first, i, T2026 + (int64_t)i, 10);
        g_assert_false(c.st.confirmed);
        g_assert_cmpint(offer(&c, &honest, 500, T2019, 11), ==, TT_CLOCK_REANCHOR);
        g_assert_cmpint(c.wm, ==, T2019);
        g_assert_cmpint(offer(&c, &honest, 501, T2019 + 1000, 12), ==, TT_CLOCK_FOLLOW);
    }
}

static void test_clock_sustained_jump(void)
{
    /* an exporter silent for a week, then back: 3 messages over 60 s take the jump */
    clock_sim c = {.wm = INT64_MIN};
    for (uint64_t i = 0; i < 4; i++)
        offer(&c, &honest, i, T2019 + (int64_t)i, (int64_t)i * 30);
    int64_t later = T2019 + 7 * DAY_MS;
    g_assert_cmpint(offer(&c, &honest, 10, later, 1000), ==, TT_CLOCK_HELD);
    g_assert_cmpint(offer(&c, &honest, 11, later + 1, 1030), ==, TT_CLOCK_HELD);
    g_assert_cmpint(offer(&c, &honest, 11, later + 1, 1030), ==, TT_CLOCK_HELD); /* same msg */
    g_assert_cmpint(offer(&c, &honest, 12, later + 2, 1059), ==, TT_CLOCK_HELD);
    g_assert_cmpint(offer(&c, &honest, 13, later + 3, 1060), ==, TT_CLOCK_JUMP);
    g_assert_cmpint(c.wm, ==, later + 3);
    g_assert_cmpuint(c.held, ==, 4);
    /* a contradiction resets the count: the other source is still in the window */
    g_assert_cmpint(offer(&c, &spoof, 1, later + 3 * DAY_MS, 2000), ==, TT_CLOCK_HELD);
    g_assert_cmpint(offer(&c, &spoof, 2, later + 3 * DAY_MS, 2040), ==, TT_CLOCK_HELD);
    g_assert_cmpint(offer(&c, &other, 1, later + 10, 2050), ==, TT_CLOCK_FOLLOW);
    g_assert_cmpint(offer(&c, &spoof, 3, later + 3 * DAY_MS, 2070), ==, TT_CLOCK_HELD);
    g_assert_cmpint(offer(&c, &spoof, 4, later + 3 * DAY_MS, 2080), ==, TT_CLOCK_HELD);
    /* a confirmed clock is not re-anchored: records far behind stay too old or late */
    g_assert_cmpint(offer(&c, &other, 2, T2019 - 4 * 365 * DAY_MS, 2090), ==, TT_CLOCK_FOLLOW);
    g_assert_cmpint(c.wm, ==, later + 10);
}

static void test_clock_settle(void)
{
    /* an exporter back from a five-day outage at replay speed: its whole stream arrives
     * within seconds; the tick settles it once confirm_s has passed uncontradicted, the
     * stop at once (final), each only with `confirm` messages */
    for (int final = 0; final <= 1; final++) {
        clock_sim c = {.wm = INT64_MIN};
        for (uint64_t i = 0; i < 4; i++)
            offer(&c, &honest, i, T2019 + (int64_t)i, (int64_t)i * 30);
        int64_t later = T2019 + 5 * DAY_MS;
        g_assert_cmpint(offer(&c, &honest, 10, later, 1000), ==, TT_CLOCK_HELD);
        g_assert_cmpint(offer(&c, &honest, 11, later + 1, 1001), ==, TT_CLOCK_HELD);
        g_assert_false(tt_clock_settle(&c.st, &crules, 1001, final)); /* 2 messages */
        g_assert_cmpint(offer(&c, &honest, 12, later + 2, 1002), ==, TT_CLOCK_HELD);
        if (!final) {
            g_assert_false(tt_clock_settle(&c.st, &crules, 1059, FALSE)); /* 59 s */
            g_assert_true(tt_clock_settle(&c.st, &crules, 1060, FALSE));
        } else {
            g_assert_true(tt_clock_settle(&c.st, &crules, 1003, TRUE));
        }
        g_assert_true(c.st.confirmed);
        g_assert_null(c.st.cand);
        g_assert_true(c.st.anchor == &honest);
        c.wm = later + 2; /* the core releases the held records: the clock moves */
        /* settled: nothing left to settle, and the new time is followed */
        g_assert_false(tt_clock_settle(&c.st, &crules, 5000, TRUE));
        g_assert_cmpint(offer(&c, &honest, 13, later + 3, 1100), ==, TT_CLOCK_FOLLOW);
    }
    /* contradicted: another source inside the window clears the candidate */
    clock_sim c = {.wm = INT64_MIN};
    for (uint64_t i = 0; i < 4; i++)
        offer(&c, &honest, i, T2019 + (int64_t)i, (int64_t)i * 30);
    for (uint64_t i = 0; i < 5; i++)
        offer(&c, &spoof, i, T2026, 1000);
    offer(&c, &honest, 20, T2019 + 10, 1001);
    g_assert_false(tt_clock_settle(&c.st, &crules, 9999, TRUE));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/timepolicy/conversion", test_conversion);
    g_test_add_func("/timepolicy/record_times", test_record_times);
    g_test_add_func("/timepolicy/export_ahead", test_export_ahead);
    g_test_add_func("/timepolicy/counts", test_counts);
    g_test_add_func("/timepolicy/clock/spoof_during_replay", test_clock_spoof_during_replay);
    g_test_add_func("/timepolicy/clock/burst_after_silence", test_clock_burst_after_silence);
    g_test_add_func("/timepolicy/clock/spoof_first", test_clock_spoof_first);
    g_test_add_func("/timepolicy/clock/sustained_jump", test_clock_sustained_jump);
    g_test_add_func("/timepolicy/clock/settle", test_clock_settle);
    return g_test_run();
}
