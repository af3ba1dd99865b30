/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_normalise.c - one decoded record to one tt_flow (collector/normalise.c),
 * without libfixbuf: records are built as the transcoder leaves them (every
 * counter widened to 64 bits, absent fields zero) and the verdicts and flows
 * checked field by field. Covers reduced and widened integers, times from
 * every kind of time field (milliseconds, NTP, seconds, uptimes against a boot
 * time and against a v9 header clock that wrapped), a missing end time, the
 * export time as the last resort, sampling rates from the record, the domain
 * and the options records, IPv4-mapped addresses, ICMP type/code in the
 * destination port and records without addresses.
 */
#include <glib.h>
#include <string.h>

#include "normalise.h"

#define DAY_MS INT64_C(86400000)
/* 2026-12-01 00:00:00 UTC */
#define T2026 INT64_C(1796083200000)

static const tt_time_rules rules = {.tolerance_ms = 600000, .clamp_max_ms = 8 * DAY_MS};

typedef struct {
    tt_raw_record r;
    tt_raw_shape shape;
    tt_norm_domain dom;
    tt_flow out;
    tt_norm_note note;
} fixture;

/* A TCP record with millisecond times, IPv4 addresses and delta counters. */
static void fixture_basic(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    fx->shape.fields = TT_F_START_MS | TT_F_END_MS | TT_F_SRC4 | TT_F_DST4 | TT_F_SRC_PORT |
                       TT_F_DST_PORT | TT_F_PROTO | TT_F_FLAGS | TT_F_PKT_DELTA | TT_F_OCT_DELTA;
    fx->r.start_ms = (uint64_t)(T2026 - 5000);
    fx->r.end_ms = (uint64_t)(T2026 - 1000);
    fx->r.src4 = 0xC0000201; /* 192.0.2.1 */
    fx->r.dst4 = 0xCB007105; /* 203.0.113.5 */
    fx->r.src_port = 40000;
    fx->r.dst_port = 23;
    fx->r.proto = 6;
    fx->r.tcp_flags = 0x02;
    fx->r.packet_delta = 1;
    fx->r.octet_delta = 40;
}

static tt_norm_status run(fixture *fx)
{
    return tt_normalise(&fx->shape, &fx->r, &fx->dom, &rules, T2026, &fx->out, &fx->note);
}

static void test_basic_v4(void)
{
    fixture fx;
    fixture_basic(&fx);
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 - 5000);
    g_assert_cmpint(fx.out.end_ms, ==, T2026 - 1000);
    g_assert_cmpint(fx.out.family, ==, 4);
    g_assert_true(fx.out.has_dst);
    static const uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    static const uint8_t dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 5};
    g_assert_cmpmem(fx.out.src, 16, src, 16);
    g_assert_cmpmem(fx.out.dst, 16, dst, 16);
    g_assert_cmpuint(fx.out.src_port, ==, 40000);
    g_assert_cmpuint(fx.out.dst_port, ==, 23);
    g_assert_cmpuint(fx.out.proto, ==, 6);
    g_assert_cmpuint(fx.out.tcp_flags, ==, 0x02);
    g_assert_cmpuint(fx.out.raw_packets, ==, 1);
    g_assert_cmpuint(fx.out.packets, ==, 1);
    g_assert_cmpuint(fx.out.raw_bytes, ==, 40);
    g_assert_cmpuint(fx.out.bytes, ==, 40);
    g_assert_cmpuint(fx.out.sampling, ==, 1);
    g_assert_cmpuint(fx.out.sensor, ==, 0); /* the caller attributes it */
    g_assert_cmpmem(fx.out.country, 2, "ZZ", 2);
    g_assert_false(fx.note.clamped);
}

/* Reduced-size (1..8 bytes) and widened fields arrive in 64 bits: the value decides. */
static void test_integers(void)
{
    fixture fx;

    fixture_basic(&fx);
    fx.r.src_port = UINT16_MAX;
    fx.r.proto = UINT8_MAX;
    fx.r.tcp_flags = 0x1ff;                  /* 9 flag bits in 2 bytes: the low byte is kept */
    fx.r.packet_delta = (UINT64_C(1) << 40); /* 8-byte counter at the cap */
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.src_port, ==, 65535);
    g_assert_cmpuint(fx.out.proto, ==, 255);
    g_assert_cmpuint(fx.out.tcp_flags, ==, 0xff);
    g_assert_cmpuint(fx.out.raw_packets, ==, UINT64_C(1) << 40);

    /* a widened 4-byte port or a 2-byte protocol whose value does not fit: refused */
    fixture_basic(&fx);
    fx.r.dst_port = 65536;
    g_assert_cmpint(run(&fx), ==, TT_NORM_VALUE_RANGE);
    fixture_basic(&fx);
    fx.r.proto = 256;
    g_assert_cmpint(run(&fx), ==, TT_NORM_VALUE_RANGE);
    fixture_basic(&fx);
    fx.r.tcp_flags = 0x10000;
    g_assert_cmpint(run(&fx), ==, TT_NORM_VALUE_RANGE);
    fixture_basic(&fx);
    fx.r.icmp_type4 = 256;
    g_assert_cmpint(run(&fx), ==, TT_NORM_VALUE_RANGE);

    /* counts beyond 2^40 packets or 2^56 bytes */
    fixture_basic(&fx);
    fx.r.packet_delta = (UINT64_C(1) << 40) + 1;
    g_assert_cmpint(run(&fx), ==, TT_NORM_ABSURD_COUNTS);
    g_assert_cmpuint(fx.out.raw_packets, ==, (UINT64_C(1) << 40) + 1);
    fixture_basic(&fx);
    fx.r.octet_delta = (UINT64_C(1) << 56) + 1;
    g_assert_cmpint(run(&fx), ==, TT_NORM_ABSURD_COUNTS);

    /* total and initiator counters when there is no delta */
    fixture_basic(&fx);
    fx.shape.fields &= ~(TT_F_PKT_DELTA | TT_F_OCT_DELTA);
    fx.shape.fields |= TT_F_PKT_TOTAL | TT_F_INIT_OCT;
    fx.r.packet_total = 7;
    fx.r.initiator_octets = 700;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.raw_packets, ==, 7);
    g_assert_cmpuint(fx.out.raw_bytes, ==, 700);
}

/* Uptimes: boot time + uptime; with a v9 header clock, the 32-bit age survives a wrap. */
static void test_uptime(void)
{
    fixture fx;

    fixture_basic(&fx);
    fx.shape.fields &= ~(TT_F_START_MS | TT_F_END_MS);
    fx.shape.fields |= TT_F_START_UP | TT_F_END_UP;
    fx.dom.sys_init_ms = T2026 - 100000; /* booted 100 s before the export */
    fx.r.start_up = 90000;
    fx.r.end_up = 95000;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 - 10000);
    g_assert_cmpint(fx.out.end_ms, ==, T2026 - 5000);

    /* boot time unknown: no uptime can be placed, the export time is taken */
    fx.dom.sys_init_ms = 0;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026);
    g_assert_cmpint(fx.out.end_ms, ==, T2026);

    /* v9: header sysUptime wrapped to 1000 ms; the record's uptimes are from before the wrap */
    fixture_basic(&fx);
    fx.shape.fields &= ~(TT_F_START_MS | TT_F_END_MS);
    fx.shape.fields |= TT_F_START_UP | TT_F_END_UP;
    fx.dom.uptime_ref = TRUE;
    fx.dom.ref_ms = T2026;
    fx.dom.ref_uptime_ms = 1000;
    fx.dom.sys_init_ms = T2026 - 1000; /* as decode.c derives it from the header */
    fx.r.start_up = UINT32_MAX - 8999; /* 10 s before the header */
    fx.r.end_up = UINT32_MAX - 3999;   /* 5 s before */
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 - 10000);
    g_assert_cmpint(fx.out.end_ms, ==, T2026 - 5000);

    /* skewed: the record's uptime runs 2 s ahead of the header's (within tolerance) */
    fx.r.start_up = 3000;
    fx.r.end_up = 3000;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 + 2000);

    /* ... or 1 hour ahead: clamped to the export time and noted */
    fx.r.start_up = 1000 + 3600000;
    fx.r.end_up = 1000 + 3600000;
    g_assert_cmpint(run(&fx), ==, TT_NORM_CLAMPED);
    g_assert_true(fx.note.clamped);
    g_assert_cmpint(fx.note.skew_ms, ==, 3600000);
    g_assert_cmpint(fx.out.start_ms, ==, T2026);

    /* a systemInitTime in the record overrides the domain's */
    fixture_basic(&fx);
    fx.shape.fields &= ~(TT_F_START_MS | TT_F_END_MS);
    fx.shape.fields |= TT_F_START_UP | TT_F_SYSINIT;
    fx.dom.sys_init_ms = T2026 - 500000;
    fx.r.sys_init_ms = (uint64_t)(T2026 - 60000);
    fx.r.start_up = 30000;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 - 30000);
    g_assert_cmpint(fx.out.end_ms, ==, T2026 - 30000); /* no end: ends where it starts */

    /* a forged boot time beyond 9999 */
    fx.r.sys_init_ms = UINT64_MAX;
    g_assert_cmpint(run(&fx), ==, TT_NORM_BEYOND_9999);
}

static void test_ntp(void)
{
    fixture fx;
    uint64_t secs = (uint64_t)(T2026 / 1000) + TT_NTP_EPOCH_OFFSET;

    g_assert_cmpint(tt_ntp_to_ms(secs << 32), ==, T2026);
    g_assert_cmpint(tt_ntp_to_ms(secs << 32 | 0x80000000u), ==, T2026 + 500);
    g_assert_cmpint(tt_ntp_to_ms(0), ==, -(int64_t)TT_NTP_EPOCH_OFFSET * 1000);

    fixture_basic(&fx);
    fx.shape.fields &= ~(TT_F_START_MS | TT_F_END_MS);
    fx.shape.fields |= TT_F_START_US | TT_F_END_NS;
    fx.r.start_us = (secs - 10) << 32 | 0x40000000u; /* .25 s */
    fx.r.end_ns = (secs - 2) << 32 | 0xC0000000u;    /* .75 s */
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 - 10000 + 250);
    g_assert_cmpint(fx.out.end_ms, ==, T2026 - 2000 + 750);

    /* an NTP time before 1970 is impossible */
    fx.r.start_us = 1000ULL << 32;
    fx.r.end_ns = 1000ULL << 32;
    g_assert_cmpint(run(&fx), ==, TT_NORM_IMPOSSIBLE);
}

static void test_missing_times(void)
{
    fixture fx;

    /* start only: the end is the start */
    fixture_basic(&fx);
    fx.shape.fields &= ~TT_F_END_MS;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 - 5000);
    g_assert_cmpint(fx.out.end_ms, ==, T2026 - 5000);

    /* seconds */
    fixture_basic(&fx);
    fx.shape.fields &= ~(TT_F_START_MS | TT_F_END_MS);
    fx.shape.fields |= TT_F_START_S;
    fx.r.start_s = (uint32_t)(T2026 / 1000 - 60);
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 - 60000);
    g_assert_cmpint(fx.out.end_ms, ==, T2026 - 60000);

    /* no time field: observation time, else the export time */
    fixture_basic(&fx);
    fx.shape.fields &= ~(TT_F_START_MS | TT_F_END_MS);
    fx.shape.fields |= TT_F_OBS_MS;
    fx.r.observation_ms = (uint64_t)(T2026 - 7000);
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026 - 7000);
    fx.shape.fields &= ~TT_F_OBS_MS;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.start_ms, ==, T2026);
    g_assert_cmpint(fx.out.end_ms, ==, T2026);

    /* milliseconds beyond 9999, and a start 9 days after its message */
    fixture_basic(&fx);
    fx.r.start_ms = (UINT64_C(1) << 63) + 1;
    g_assert_cmpint(run(&fx), ==, TT_NORM_BEYOND_9999);
    fixture_basic(&fx);
    fx.r.start_ms = (uint64_t)(T2026 + 9 * DAY_MS);
    fx.r.end_ms = fx.r.start_ms;
    g_assert_cmpint(run(&fx), ==, TT_NORM_FUTURE);
    g_assert_cmpint(fx.note.skew_ms, ==, 9 * DAY_MS);
}

static void test_sampling(void)
{
    fixture fx;

    /* the record's own rate (Huawei) */
    fixture_basic(&fx);
    fx.shape.fields |= TT_F_SAMPLING;
    fx.r.sampling_interval = 100;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.sampling, ==, 100);
    g_assert_cmpuint(fx.out.packets, ==, fx.out.raw_packets); /* corrected later, by the core */

    /* nonsense rates count as unsampled */
    fx.r.sampling_interval = (uint64_t)TT_MAX_SANE_RATE + 1;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.sampling, ==, 1);

    /* PSAMP 1 of 1 + 99 */
    fixture_basic(&fx);
    fx.shape.fields |= TT_F_PKT_INTERVAL | TT_F_PKT_SPACE;
    fx.r.packet_interval = 1;
    fx.r.packet_space = 99;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.sampling, ==, 100);
    g_assert_cmpuint(tt_packet_rate(512, 0), ==, 512);
    g_assert_cmpuint(tt_packet_rate(UINT64_C(1) << 33, 1), ==, 0);
    g_assert_cmpuint(tt_sane_rate(0), ==, 0);
    g_assert_cmpuint(tt_sane_rate(TT_MAX_SANE_RATE), ==, TT_MAX_SANE_RATE);

    /* announced by options records: per sampler ID (a widened 4-byte ID), else the latest */
    fixture_basic(&fx);
    tt_raw_options o = {0};
    o.sampler_id = 0x10000002;
    o.sampling_interval = 64;
    tt_normalise_options(&fx.dom, &o);
    o.sampler_id = 7;
    o.sampling_interval = 0;
    o.packet_interval = 1;
    o.packet_space = 999;
    tt_normalise_options(&fx.dom, &o);
    g_assert_cmpuint(fx.dom.nsamplers, ==, 2);
    g_assert_cmpuint(fx.dom.last_rate, ==, 1000);
    fx.shape.fields |= TT_F_SAMPLER_ID;
    fx.r.sampler_id = 0x10000002;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.sampling, ==, 64);
    fx.r.sampler_id = 99; /* unknown sampler: the domain's latest rate */
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.sampling, ==, 1000);
    fx.shape.fields &= ~TT_F_SAMPLER_ID;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.sampling, ==, 1000);

    /* an options record's boot time */
    tt_raw_options boot = {0};
    boot.sys_init_ms = (uint64_t)(T2026 - 3000);
    tt_normalise_options(&fx.dom, &boot);
    g_assert_cmpint(fx.dom.sys_init_ms, ==, T2026 - 3000);
    g_assert_cmpuint(fx.dom.last_rate, ==, 1000); /* no rate in it: unchanged */
}

static void test_icmp(void)
{
    fixture fx;

    /* icmpTypeCodeIPv4 (32) */
    fixture_basic(&fx);
    fx.shape.fields |= TT_F_ICMP4;
    fx.r.proto = TT_PROTO_ICMP;
    fx.r.icmp4 = 0x0303;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.dst_port, ==, 0x0303);
    g_assert_cmpuint(fx.out.src_port, ==, 0);

    /* separate type and code (178/179) for ICMPv6 */
    fixture_basic(&fx);
    fx.r.proto = TT_PROTO_ICMP6;
    fx.shape.icmp_fields = TT_ICMP_FIELDS_V6;
    fx.r.icmp_type6 = 128;
    fx.r.icmp_code6 = 0;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.dst_port, ==, 128 << 8);
    g_assert_cmpuint(fx.out.src_port, ==, 0);

    /* neither: the destination port carries type*256+code (pmacct, nfdump) */
    fixture_basic(&fx);
    fx.r.proto = TT_PROTO_ICMP;
    fx.r.dst_port = 0x0800;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpuint(fx.out.dst_port, ==, 0x0800);
    g_assert_cmpuint(fx.out.src_port, ==, 0);
}

static void test_addresses(void)
{
    fixture fx;
    static const uint8_t zero16[16];
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    /* no address fields at all */
    fixture_basic(&fx);
    fx.shape.fields &= ~(TT_F_SRC4 | TT_F_DST4);
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.family, ==, 0);
    g_assert_false(fx.out.has_dst);
    g_assert_cmpmem(fx.out.src, 16, zero16, 16);
    g_assert_cmpmem(fx.out.dst, 16, zero16, 16);

    /* a source only */
    fixture_basic(&fx);
    fx.shape.fields &= ~TT_F_DST4;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.family, ==, 4);
    g_assert_false(fx.out.has_dst);

    /* both families in one template: the one with addresses wins, ipVersion decides first */
    fixture_basic(&fx);
    fx.shape.fields |= TT_F_SRC6 | TT_F_DST6;
    fx.r.src4 = 0;
    fx.r.dst4 = 0;
    memcpy(fx.r.dst6, v6, 16);
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.family, ==, 6);
    g_assert_true(fx.out.has_dst);
    g_assert_cmpmem(fx.out.dst, 16, v6, 16);
    fx.shape.ip_version = 1;
    fx.r.ip_version = 4;
    g_assert_cmpint(run(&fx), ==, TT_NORM_OK);
    g_assert_cmpint(fx.out.family, ==, 4);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/normalise/basic_v4", test_basic_v4);
    g_test_add_func("/normalise/integers", test_integers);
    g_test_add_func("/normalise/uptime", test_uptime);
    g_test_add_func("/normalise/ntp", test_ntp);
    g_test_add_func("/normalise/missing_times", test_missing_times);
    g_test_add_func("/normalise/sampling", test_sampling);
    g_test_add_func("/normalise/icmp", test_icmp);
    g_test_add_func("/normalise/addresses", test_addresses);
    return g_test_run();
}
