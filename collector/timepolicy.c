/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timepolicy.c - record times, export times, the sensor clock's corroboration
 * and saturating counts (design in timepolicy.h and docs/security.md).
 *
 * Every rule here answers a datagram anyone can forge. A time read off the
 * wire is an unsigned 64-bit number: it is checked against 9999-12-31 before
 * it becomes an int64_t, so no later subtraction (watermark - archive span,
 * floor division into buckets) can overflow. A record's start past its own
 * message's export time is an exporter bug (FortiOS 5.2.1's uptime, softflowd
 * -r without -a) when the skew is bounded: it is kept at the export time
 * rather than lost, and refused beyond `clamp-max`. The export time itself is
 * bounded by the host clock, so nothing a message carries reaches further
 * into the future than `export-ahead-max`.
 *
 * The sensor clock: one message cannot move it more than a window ahead, so
 * a spoofed datagram stamped "now" cannot turn a 2019 replay into "too old".
 * Corroboration is counted in messages of one source, consecutive, with no
 * message of any source inside the window in between (an honest stream that
 * keeps arriving contradicts the jump). Rejected: a quorum of exporters (a
 * sensor with one exporter could never jump), the host clock (replays are
 * years behind it), a median of sources (a spoofer makes up sources at will:
 * every source port is one).
 */
#include "timepolicy.h"

#include <stddef.h>

tt_rtime_verdict tt_time_record(const tt_time_rules *rules, int64_t export_ms, int64_t *start,
                                int64_t *end, int64_t *skew_ms)
{
    int64_t s = *start, e = *end;

    *skew_ms = 0;
    if (s < 0 || s > TT_TIME_MAX_MS || e < 0 || e > TT_TIME_MAX_MS)
        return TT_RTIME_IMPOSSIBLE;
    if (e < s) {
        if (s - e > TT_TIME_END_SLACK_MS)
            return TT_RTIME_IMPOSSIBLE;
        e = s;
    }
    *start = s;
    *end = e;
    if (export_ms <= 0)
        return TT_RTIME_OK;
    *skew_ms = s - export_ms; /* both within 0..TT_TIME_MAX_MS */
    if (*skew_ms <= rules->tolerance_ms)
        return TT_RTIME_OK;
    if (*skew_ms > rules->clamp_max_ms)
        return TT_RTIME_FUTURE;
    *start = export_ms;
    *end = export_ms;
    return TT_RTIME_CLAMPED;
}

bool tt_time_export_ahead(int64_t export_ms, int64_t host_ms, int64_t ahead_max_ms)
{
    /* export_ms is at most 2^32 s in ms, host_ms a real clock: no overflow */
    return export_ms - host_ms > ahead_max_ms;
}

uint64_t tt_count_mul(uint64_t a, uint64_t b, bool *saturated)
{
    uint64_t p;
    if (__builtin_mul_overflow(a, b, &p) || p > TT_COUNT_MAX) {
        *saturated = true;
        return TT_COUNT_MAX;
    }
    return p;
}

uint64_t tt_count_add(uint64_t a, uint64_t b)
{
    uint64_t s;
    if (__builtin_add_overflow(a, b, &s) || s > (uint64_t)INT64_MAX)
        return (uint64_t)INT64_MAX;
    return s;
}

/* ---- the sensor clock ----------------------------------------------------- */

static bool clock_same(const void *a, uint32_t ad, const void *b, uint32_t bd)
{
    return a == b && ad == bd;
}

static void clock_anchor(tt_clock_state *c, const void *source, uint32_t domain, uint64_t msg,
                         int64_t now_s)
{
    *c = (tt_clock_state){.anchor = source,
                          .anchor_domain = domain,
                          .anchor_msg = msg,
                          .anchor_msgs = 1,
                          .anchor_since = now_s};
}

tt_clock_verdict tt_clock_offer(tt_clock_state *c, const tt_clock_rules *rules,
                                int64_t watermark_ms, const void *source, uint32_t domain,
                                uint64_t msg, int64_t newest_ms, int64_t now_s, int64_t *limit_ms)
{
    *limit_ms = INT64_MAX;
    if (watermark_ms == INT64_MIN) {
        clock_anchor(c, source, domain, msg, now_s);
        return TT_CLOCK_START;
    }
    /* watermark and newest both lie in 0..TT_TIME_MAX_MS, the window below 2^62 */
    int64_t ahead = watermark_ms + rules->window_ms;

    if (newest_ms > ahead) {
        if (c->cand != NULL && clock_same(source, domain, c->cand, c->cand_domain)) {
            if (msg != c->cand_msg) {
                c->cand_msg = msg;
                c->cand_msgs++;
            }
        } else {
            c->cand = source;
            c->cand_domain = domain;
            c->cand_msg = msg;
            c->cand_msgs = 1;
            c->cand_since = now_s;
        }
        if (c->cand_msgs >= rules->confirm && now_s - c->cand_since >= rules->confirm_s) {
            clock_anchor(c, source, domain, msg, now_s);
            c->confirmed = true;
            return TT_CLOCK_JUMP;
        }
        *limit_ms = ahead;
        return TT_CLOCK_HELD;
    }
    /* any message that is not a jump contradicts the jump being corroborated */
    c->cand = NULL;
    c->cand_msgs = 0;
    if (c->confirmed)
        return TT_CLOCK_FOLLOW;
    if (newest_ms < watermark_ms - rules->window_ms) {
        clock_anchor(c, source, domain, msg, now_s);
        return TT_CLOCK_REANCHOR;
    }
    if (clock_same(source, domain, c->anchor, c->anchor_domain) && msg != c->anchor_msg) {
        c->anchor_msg = msg;
        c->anchor_msgs++;
        if (c->anchor_msgs >= rules->confirm && now_s - c->anchor_since >= rules->confirm_s)
            c->confirmed = true;
    }
    return TT_CLOCK_FOLLOW;
}

bool tt_clock_settle(tt_clock_state *c, const tt_clock_rules *rules, int64_t now_s, bool final)
{
    if (c->cand == NULL || c->cand_msgs < rules->confirm ||
        (!final && now_s - c->cand_since < rules->confirm_s))
        return false;
    clock_anchor(c, c->cand, c->cand_domain, c->cand_msg, now_s);
    c->confirmed = true;
    return true;
}
