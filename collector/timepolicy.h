/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timepolicy.h - the rules that keep a stranger from steering time or counts:
 * record times checked against their own message, a message's export time
 * checked against the host clock, a sensor's clock that jumps only when
 * corroborated, and counts that saturate instead of wrapping.
 *
 * Pure functions on plain values and one small state struct: no GLib objects,
 * no allocation, no logging, so the decoder and the core call them on the
 * per-flow path and tests/unit/test_timepolicy.c drives them directly. The
 * policy and the attacks it answers are written down in docs/security.md
 * ("Time policy"); the counters named there are kept by the callers.
 */
#ifndef TT_TIMEPOLICY_H
#define TT_TIMEPOLICY_H

#include <stdbool.h>
#include <stdint.h>

/** Latest time any record may carry: 9999-12-31T23:59:59.999Z, in ms. */
#define TT_TIME_MAX_MS INT64_C(253402300799999)
/** How far a record's end may lie before its start and still be read as "end = start". */
#define TT_TIME_END_SLACK_MS INT64_C(86400000)

/** Largest sampling-corrected count stored: 2^53, exact in an RRD double. */
#define TT_COUNT_MAX (UINT64_C(1) << 53)
/** Largest packet count one record may carry (about 10^12): beyond it, refused. */
#define TT_RECORD_PACKETS_MAX (UINT64_C(1) << 40)
/** Largest byte count one record may carry (2^40 packets of 64 KiB). */
#define TT_RECORD_BYTES_MAX (UINT64_C(1) << 56)

/** What became of a record's times. */
typedef enum {
    TT_RTIME_OK,         /**< kept as sent */
    TT_RTIME_CLAMPED,    /**< started after its message's export time: timed at the export time */
    TT_RTIME_FUTURE,     /**< started after its message by more than clamp-max: refused */
    TT_RTIME_IMPOSSIBLE, /**< outside 1970..9999, or ending more than a day before it starts */
} tt_rtime_verdict;

typedef struct {
    int64_t tolerance_ms; /**< `export-time-tolerance`: a start this far past export is exact */
    int64_t clamp_max_ms; /**< `clamp-max`: beyond it a record past its export time is refused */
} tt_time_rules;

/**
 * Convert an unsigned millisecond count read off the wire (flowStartMilliseconds,
 * systemInitTimeMilliseconds, ...) to a time; FALSE when it lies beyond
 * TT_TIME_MAX_MS (2^63 + 1 and 2^64 - 1 among them), so nothing downstream overflows.
 */
static inline bool tt_time_from_ms(uint64_t ms, int64_t *out)
{
    if (ms > (uint64_t)TT_TIME_MAX_MS)
        return false;
    *out = (int64_t)ms;
    return true;
}

/** @a a + @a b, FALSE when the sum leaves 0..TT_TIME_MAX_MS (uptime + boot time). */
static inline bool tt_time_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum) || sum < 0 || sum > TT_TIME_MAX_MS)
        return false;
    *out = sum;
    return true;
}

/**
 * Judge a record's @a start and @a end (ms, already converted, each within
 * -2^62..2^62) against its message's export time @a export_ms (0: unknown).
 * Impossible times: either outside 0..TT_TIME_MAX_MS, or an end more than
 * TT_TIME_END_SLACK_MS before the start. An end less far before the start is
 * read as the start. A start more than tolerance past the export time is
 * clamped (start and end set to the export time) when the skew is at most
 * clamp-max, refused as FUTURE beyond. *@a skew_ms gets start - export.
 */
tt_rtime_verdict tt_time_record(const tt_time_rules *rules, int64_t export_ms, int64_t *start,
                                int64_t *end, int64_t *skew_ms);

/** Is a message stamped @a export_ms more than @a ahead_max_ms ahead of @a host_ms? */
bool tt_time_export_ahead(int64_t export_ms, int64_t host_ms, int64_t ahead_max_ms);

/** @a a x @a b, saturated at TT_COUNT_MAX (*@a saturated set when it was). */
uint64_t tt_count_mul(uint64_t a, uint64_t b, bool *saturated);
/** @a a + @a b, saturated at INT64_MAX (what SQLite stores). */
uint64_t tt_count_add(uint64_t a, uint64_t b);

/*
 * A sensor's clock (its watermark) follows its records, but a step of more
 * than the window ahead must be corroborated: `confirm` messages of one
 * source (exporter and observation domain) beyond the window, spread over at
 * least `confirm_s` seconds of host time, with no message of any source
 * inside the window in between (an honest stream that keeps arriving
 * contradicts the jump). Until then the records beyond the window are held
 * back: kept aside by the core and released when the jump is corroborated
 * (tt_clock_settle), refused and counted `unconfirmed` when it is contradicted.
 * The first message starts the clock
 * provisionally; until its source has corroborated it the same way, a message
 * more than the window behind it re-anchors the clock there (so a spoofed
 * first datagram cannot make an honest replay "too old").
 */
typedef struct {
    int64_t window_ms; /**< largest step ahead taken without corroboration */
    unsigned confirm;  /**< messages that corroborate a jump */
    int64_t confirm_s; /**< host seconds a corroborating stream must span */
} tt_clock_rules;

typedef struct {
    const void *anchor; /**< source that started the clock or made its last jump */
    uint32_t anchor_domain;
    uint64_t anchor_msg;
    unsigned anchor_msgs;
    int64_t anchor_since; /**< host seconds */
    bool confirmed;
    const void *cand; /**< source of the jump being corroborated, NULL: none */
    uint32_t cand_domain;
    uint64_t cand_msg;
    unsigned cand_msgs;
    int64_t cand_since;
} tt_clock_state;

typedef enum {
    TT_CLOCK_START,    /**< first message: the clock starts (provisionally) at its records */
    TT_CLOCK_FOLLOW,   /**< within the window (or behind it): records proceed */
    TT_CLOCK_HELD,     /**< an unconfirmed jump: records beyond *limit are held back */
    TT_CLOCK_JUMP,     /**< a corroborated jump: records proceed, the clock moves */
    TT_CLOCK_REANCHOR, /**< forget the clock and its closed range, start again here */
} tt_clock_verdict;

/**
 * Offer one message (@a msg: a number that differs between messages of one
 * source) of @a source / @a domain whose newest record starts at @a newest_ms
 * to a clock now at @a watermark_ms (INT64_MIN: not started), at host time
 * @a now_s (monotonic seconds). Sets *@a limit_ms: records starting after it
 * must be held back (INT64_MAX: none).
 */
tt_clock_verdict tt_clock_offer(tt_clock_state *c, const tt_clock_rules *rules,
                                int64_t watermark_ms, const void *source, uint32_t domain,
                                uint64_t msg, int64_t newest_ms, int64_t now_s, int64_t *limit_ms);

/**
 * A jump being corroborated whose source has sent `confirm` messages and has
 * not been contradicted since: TRUE (and the clock is anchored there) once
 * `confirm_s` host seconds have passed since its first message, or at once
 * when @a final (the stop: no later message can contradict it, and a replay
 * sends a month in seconds). The caller then releases the records it held.
 */
bool tt_clock_settle(tt_clock_state *c, const tt_clock_rules *rules, int64_t now_s, bool final);

#endif
