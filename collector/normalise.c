/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * normalise.c - one decoded record to one tt_flow (design in normalise.h).
 *
 * Times come from the most precise field a record has: milliseconds, NTP
 * micro- or nanoseconds, seconds, or SysUpTime offsets against the domain's
 * boot time (or, for NetFlow v9, against the message header's clock, which
 * survives a 49.7-day uptime wrap). A record with no time at all is timed at
 * its observation time, else at its message's export time; one with no end
 * ends where it starts. timepolicy.c then judges the result against the
 * message. The sampling rate is the record's own (Huawei), else the domain's
 * sampler named by the record, else the domain's latest announcement.
 *
 * Rejected: counting and logging here. The verdict goes back to decode.c,
 * which owns the per-exporter counters and the once-per-exporter logs, so
 * that this file has no state and can be tested without libfixbuf.
 */
#include "normalise.h"

#include <string.h>

int64_t tt_ntp_to_ms(uint64_t ntp)
{
    /* never overflows (the seconds are 32 bits); before 1970 it is negative, refused later */
    uint64_t secs = ntp >> 32;
    uint64_t frac = ntp & 0xffffffffu;
    return ((int64_t)secs - (int64_t)TT_NTP_EPOCH_OFFSET) * 1000 + (int64_t)((frac * 1000) >> 32);
}

uint64_t tt_packet_rate(uint64_t interval, uint64_t space)
{
    if (space == 0 || interval == 0)
        return interval;
    if (interval > UINT32_MAX || space > UINT32_MAX)
        return 0; /* a rate no 32-bit field announces: nonsense */
    return (interval + space) / interval;
}

uint32_t tt_sane_rate(uint64_t rate)
{
    return rate == 0 || rate > TT_MAX_SANE_RATE ? 0 : (uint32_t)rate;
}

static void domain_set_rate(tt_norm_domain *dom, uint64_t id, uint32_t rate)
{
    for (guint i = 0; i < dom->nsamplers; i++) {
        if (dom->samplers[i].id == id) {
            dom->samplers[i].rate = rate;
            dom->last_rate = rate;
            return;
        }
    }
    guint slot = dom->nsamplers < TT_SAMPLERS_PER_DOMAIN ? dom->nsamplers++
                                                         : (guint)(id % TT_SAMPLERS_PER_DOMAIN);
    dom->samplers[slot].id = id;
    dom->samplers[slot].rate = rate;
    dom->last_rate = rate;
}

static uint32_t domain_rate(const tt_norm_domain *dom, gboolean has_id, uint64_t id)
{
    if (has_id) {
        for (guint i = 0; i < dom->nsamplers; i++)
            if (dom->samplers[i].id == id)
                return dom->samplers[i].rate;
    }
    return dom->last_rate;
}

void tt_normalise_options(tt_norm_domain *dom, const tt_raw_options *o)
{
    uint64_t rate = 0;
    int64_t sys_init;

    if (o->sys_init_ms != 0 && tt_time_from_ms(o->sys_init_ms, &sys_init))
        dom->sys_init_ms = sys_init;
    if (o->sampling_interval != 0)
        rate = o->sampling_interval;
    else if (o->sampler_random != 0)
        rate = o->sampler_random;
    else if (o->packet_interval != 0)
        rate = tt_packet_rate(o->packet_interval, o->packet_space);
    if (tt_sane_rate(rate) == 0)
        return;
    uint64_t id = o->sampler_id != 0 ? o->sampler_id : o->selector_id;
    domain_set_rate(dom, id, tt_sane_rate(rate));
}

/*
 * Absolute time of a SysUpTime-relative field. With a v9 header at hand the
 * flow's age is the 32-bit difference between the header's uptime and the
 * field, so a counter that wrapped (every 49.7 days) between the two still
 * gives the right time; otherwise the exporter's boot time is added. FALSE
 * when the sum leaves the representable range (a forged boot time).
 */
static gboolean uptime_to_ms(const tt_norm_domain *dom, int64_t sys_init, uint32_t uptime,
                             int64_t *out)
{
    if (dom->uptime_ref && sys_init == dom->sys_init_ms)
        return tt_time_add(dom->ref_ms, -(int64_t)(int32_t)(dom->ref_uptime_ms - uptime), out);
    return tt_time_add(sys_init, (int64_t)uptime, out);
}

/*
 * The start or end time of a record, from the most precise field it has.
 * Returns 0 when it has none, 1 with *out set, -1 when the time is impossible
 * (beyond 9999 after conversion: 2^63 + 1 ms, 2^64 - 1 ms, a forged boot time).
 */
static inline __attribute__((always_inline)) int pick_time(const tt_raw_record *r, uint64_t f,
                                                           gboolean start,
                                                           const tt_norm_domain *dom,
                                                           int64_t sys_init, int64_t *out)
{
    uint64_t ms = start ? TT_F_START_MS : TT_F_END_MS, us = start ? TT_F_START_US : TT_F_END_US;
    uint64_t ns = start ? TT_F_START_NS : TT_F_END_NS, s = start ? TT_F_START_S : TT_F_END_S;
    uint64_t up = start ? TT_F_START_UP : TT_F_END_UP;

    if (f & ms)
        return tt_time_from_ms(start ? r->start_ms : r->end_ms, out) ? 1 : -1;
    if (f & us)
        *out = tt_ntp_to_ms(start ? r->start_us : r->end_us);
    else if (f & ns)
        *out = tt_ntp_to_ms(start ? r->start_ns : r->end_ns);
    else if (f & s)
        *out = (int64_t)(start ? r->start_s : r->end_s) * 1000;
    else if ((f & up) && sys_init != 0)
        return uptime_to_ms(dom, sys_init, start ? r->start_up : r->end_up, out) ? 1 : -1;
    else
        return 0;
    return 1;
}

static inline tt_norm_status normalise_times(const tt_time_rules *rules, int64_t export_ms,
                                             int64_t *start, int64_t *end, int64_t *skew_ms)
{
    *skew_ms = 0;
    switch (tt_time_record(rules, export_ms, start, end, skew_ms)) {
    case TT_RTIME_OK:
        return TT_NORM_OK;
    case TT_RTIME_CLAMPED:
        return TT_NORM_CLAMPED;
    case TT_RTIME_FUTURE:
        return TT_NORM_FUTURE;
    case TT_RTIME_IMPOSSIBLE:
        break;
    }
    return TT_NORM_IMPOSSIBLE;
}

tt_norm_status tt_normalise_times(const tt_time_rules *rules, int64_t export_ms, int64_t *start,
                                  int64_t *end, int64_t *skew_ms)
{
    return normalise_times(rules, export_ms, start, end, skew_ms);
}

/* Both address families in one template (Nokia): which one does this record use? */
static void pick_family(const tt_raw_shape *shape, const tt_raw_record *r, gboolean *v4,
                        gboolean *v6)
{
    static const uint8_t zero16[16];

    if (shape->ip_version && r->ip_version == 6)
        *v4 = FALSE;
    else if (shape->ip_version && r->ip_version == 4)
        *v6 = FALSE;
    else if (r->dst4 == 0 && r->src4 == 0 &&
             (memcmp(r->dst6, zero16, 16) != 0 || memcmp(r->src6, zero16, 16) != 0))
        *v4 = FALSE; /* the one with a non-zero address wins */
    else
        *v6 = FALSE;
}

static void set_ports(const tt_raw_shape *shape, const tt_raw_record *r, tt_flow *out)
{
    uint64_t f = shape->fields;

    if (r->proto != TT_PROTO_ICMP && r->proto != TT_PROTO_ICMP6) {
        out->src_port = (uint16_t)r->src_port;
        out->dst_port = (uint16_t)r->dst_port;
        return;
    }
    gboolean six = r->proto == TT_PROTO_ICMP6;
    if (!six && (f & TT_F_ICMP4))
        out->dst_port = (uint16_t)r->icmp4;
    else if (six && (f & TT_F_ICMP6))
        out->dst_port = (uint16_t)r->icmp6;
    else if (!six && (shape->icmp_fields & TT_ICMP_FIELDS_V4))
        out->dst_port = (uint16_t)(r->icmp_type4 << 8 | r->icmp_code4);
    else if (six && (shape->icmp_fields & TT_ICMP_FIELDS_V6))
        out->dst_port = (uint16_t)(r->icmp_type6 << 8 | r->icmp_code6);
    else
        out->dst_port = (uint16_t)r->dst_port; /* type*256+code, as pmacct and nfdump export */
    out->src_port = 0;
}

static uint32_t record_rate(const tt_raw_shape *shape, const tt_raw_record *r,
                            const tt_norm_domain *dom)
{
    uint64_t f = shape->fields;
    uint32_t rate;

    if ((f & TT_F_SAMPLING) && r->sampling_interval != 0)
        rate = tt_sane_rate(r->sampling_interval); /* Huawei: the rate rides in every record */
    else if ((f & TT_F_SAMPLER_RANDOM) && r->sampler_random != 0)
        rate = tt_sane_rate(r->sampler_random);
    else if ((f & TT_F_PKT_INTERVAL) && r->packet_interval != 0)
        rate = tt_sane_rate(
            tt_packet_rate(r->packet_interval, (f & TT_F_PKT_SPACE) ? r->packet_space : 0));
    else
        rate = domain_rate(dom, (f & (TT_F_SAMPLER_ID | TT_F_SELECTOR)) != 0,
                           (f & TT_F_SAMPLER_ID) ? r->sampler_id : r->selector_id);
    return rate == 0 ? 1 : rate;
}

tt_norm_status tt_normalise(const tt_raw_shape *shape, const tt_raw_record *r,
                            const tt_norm_domain *dom, const tt_time_rules *rules,
                            int64_t export_ms, tt_flow *out, tt_norm_note *note)
{
    uint64_t f = shape->fields;
    int64_t sys_init = dom->sys_init_ms;
    int64_t start = 0, end = 0;
    int got;

    /* no memset of the whole flow (it was ~30 instructions a record): every field is
     * written below on the way to a kept record; these are the ones not always written */
    out->start_ms = out->end_ms = 0;
    out->raw_packets = out->raw_bytes = 0;
    out->family = out->cls = out->has_dst = 0;
    out->sensor = 0;
    memset(out->reserved, 0, sizeof out->reserved);
    note->skew_ms = 0;
    note->clamped = FALSE;
    if ((f & TT_F_SYSINIT) && r->sys_init_ms != 0 && !tt_time_from_ms(r->sys_init_ms, &sys_init)) {
        got = -1;
    } else if ((got = pick_time(r, f, TRUE, dom, sys_init, &start)) == 0) {
        if (f & TT_F_OBS_MS)
            got = tt_time_from_ms(r->observation_ms, &start) ? 1 : -1;
        else
            start = export_ms; /* MikroTik and friends: export time is all there is */
    }
    if (got >= 0) {
        int got_end = pick_time(r, f, FALSE, dom, sys_init, &end);
        if (got_end == 0)
            end = start;
        got = got_end;
    }
    if (got < 0)
        return TT_NORM_BEYOND_9999;
    tt_norm_status st = normalise_times(rules, export_ms, &start, &end, &note->skew_ms);
    note->clamped = st == TT_NORM_CLAMPED;
    out->start_ms = start;
    out->end_ms = end;
    if (!tt_norm_kept(st))
        return st;
    /* counters and identifiers arrive in 64 bits whatever their length on the wire */
    /* one test per width: a value is too large when it has a bit above it (OR keeps those) */
    if ((r->src_port | r->dst_port | r->icmp4 | r->icmp6 | r->tcp_flags) > UINT16_MAX ||
        (r->proto | r->ip_version | r->icmp_type4 | r->icmp_code4 | r->icmp_type6 | r->icmp_code6) >
            UINT8_MAX)
        return TT_NORM_VALUE_RANGE;

    gboolean v4 = (f & (TT_F_SRC4 | TT_F_DST4)) != 0, v6 = (f & (TT_F_SRC6 | TT_F_DST6)) != 0;
    if (v4 && v6)
        pick_family(shape, r, &v4, &v6);
    if (v4) {
        out->family = 4;
        tt_addr_set_v4(out->src, r->src4);
        tt_addr_set_v4(out->dst, r->dst4);
        out->has_dst = (f & TT_F_DST4) != 0;
    } else if (v6) {
        out->family = 6;
        memcpy(out->src, r->src6, 16);
        memcpy(out->dst, r->dst6, 16);
        out->has_dst = (f & TT_F_DST6) != 0;
    } else {
        memset(out->src, 0, sizeof out->src);
        memset(out->dst, 0, sizeof out->dst);
    }
    out->proto = (uint8_t)r->proto;
    out->tcp_flags = (uint8_t)r->tcp_flags;
    set_ports(shape, r, out);

    if (f & TT_F_PKT_DELTA)
        out->raw_packets = r->packet_delta;
    else if (f & TT_F_PKT_TOTAL)
        out->raw_packets = r->packet_total;
    else if (f & TT_F_INIT_PKT)
        out->raw_packets = r->initiator_packets;
    if (f & TT_F_OCT_DELTA)
        out->raw_bytes = r->octet_delta;
    else if (f & TT_F_OCT_TOTAL)
        out->raw_bytes = r->octet_total;
    else if (f & TT_F_INIT_OCT)
        out->raw_bytes = r->initiator_octets;
    if (out->raw_packets > TT_RECORD_PACKETS_MAX || out->raw_bytes > TT_RECORD_BYTES_MAX)
        return TT_NORM_ABSURD_COUNTS;

    out->sampling = record_rate(shape, r, dom);
    out->packets = out->raw_packets;
    out->bytes = out->raw_bytes;
    out->country[0] = 'Z';
    out->country[1] = 'Z';
    return st;
}
