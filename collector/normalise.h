/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * normalise.h - one decoded record to one tt_flow: times in UTC milliseconds,
 * values checked against their types, IPv4-mapped addresses, ICMP type/code
 * in the destination port, the sampling rate that applies.
 *
 * Pure functions: everything they need (the record as libfixbuf transcoded
 * it, which fields its template carries, the observation domain's clock and
 * sampling facts, the time rules, the message's export time) is passed in,
 * and what they refuse comes back as a verdict that the caller counts and
 * logs. No libfixbuf here: decode.c reads records into tt_raw_record through
 * an internal template whose field order matches it.
 */
#ifndef TT_NORMALISE_H
#define TT_NORMALISE_H

#include <glib.h>
#include <stdint.h>

#include <teiten/flow.h>

#include "timepolicy.h"

/** Samplers remembered per observation domain (a further one takes a slot by its ID). */
#define TT_SAMPLERS_PER_DOMAIN 16
/** Sampling rates above this are nonsense (counted as unsampled). */
#define TT_MAX_SANE_RATE 1000000000u
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (RFC 5905). */
#define TT_NTP_EPOCH_OFFSET 2208988800ULL

/*
 * The fields we read, as libfixbuf transcodes them into decode.c's internal
 * template (whose spec lists them in this order). Every counter and identifier
 * is read into 64 bits whatever its type says (libfixbuf widens a shorter
 * field and keeps the low bytes of a longer one), so a field sent in 1 to 8
 * bytes arrives whole and tt_normalise() checks that its value fits;
 * addresses and timestamps keep their lengths. A field the exporter's
 * template lacks arrives as zeros.
 */
typedef struct {
    uint64_t start_ms, end_ms;       /* 152, 153 */
    uint64_t start_us, end_us;       /* 154, 155 (NTP format) */
    uint64_t start_ns, end_ns;       /* 156, 157 (NTP format) */
    uint64_t sys_init_ms;            /* 160 */
    uint64_t packet_delta;           /* 2 */
    uint64_t packet_total;           /* 86 */
    uint64_t octet_delta;            /* 1 */
    uint64_t octet_total;            /* 85 */
    uint64_t initiator_octets;       /* 231 */
    uint64_t initiator_packets;      /* 298 */
    uint64_t observation_ms;         /* 323 */
    uint64_t selector_id;            /* 302 */
    uint64_t sampling_interval;      /* 34 */
    uint64_t sampler_random;         /* 50 */
    uint64_t packet_interval;        /* 305 (sFlow's N, Nokia's 1 of interval+space) */
    uint64_t packet_space;           /* 306 */
    uint64_t src_port, dst_port;     /* 7, 11 */
    uint64_t icmp4, icmp6;           /* 32, 139 */
    uint64_t tcp_flags;              /* 6 */
    uint64_t proto;                  /* 4 */
    uint64_t ip_version;             /* 60 */
    uint64_t icmp_type4, icmp_code4; /* 176, 177 */
    uint64_t icmp_type6, icmp_code6; /* 178, 179 */
    uint64_t sampler_id;             /* 48 */
    uint8_t src6[16];                /* 27 */
    uint8_t dst6[16];                /* 28 */
    uint32_t start_s, end_s;         /* 150, 151 */
    uint32_t start_up, end_up;       /* 22, 21 */
    uint32_t src4, dst4;             /* 8, 12 */
} tt_raw_record;
/* libfixbuf packs internal templates without padding: the struct must have none either */
G_STATIC_ASSERT(sizeof(tt_raw_record) == 8 * 31 + 32 + 4 * 6);

/** An options record: the fields that announce a boot time or a sampling rate. */
typedef struct {
    uint64_t sys_init_ms;       /* 160 */
    uint64_t selector_id;       /* 302 */
    uint64_t sampling_interval; /* 34 */
    uint64_t sampler_random;    /* 50 */
    uint64_t packet_interval;   /* 305 */
    uint64_t packet_space;      /* 306 */
    uint64_t sampler_id;        /* 48 */
} tt_raw_options;

/* Which fields a template carries (zero is a valid value, presence is not). */
#define TT_RAW_BIT(n) ((uint64_t)1 << (n))
#define TT_F_START_MS TT_RAW_BIT(0)
#define TT_F_END_MS TT_RAW_BIT(1)
#define TT_F_START_US TT_RAW_BIT(2)
#define TT_F_END_US TT_RAW_BIT(3)
#define TT_F_START_NS TT_RAW_BIT(4)
#define TT_F_END_NS TT_RAW_BIT(5)
#define TT_F_SYSINIT TT_RAW_BIT(6)
#define TT_F_PKT_DELTA TT_RAW_BIT(7)
#define TT_F_PKT_TOTAL TT_RAW_BIT(8)
#define TT_F_OCT_DELTA TT_RAW_BIT(9)
#define TT_F_OCT_TOTAL TT_RAW_BIT(10)
#define TT_F_INIT_OCT TT_RAW_BIT(11)
#define TT_F_INIT_PKT TT_RAW_BIT(12)
#define TT_F_OBS_MS TT_RAW_BIT(13)
#define TT_F_SELECTOR TT_RAW_BIT(14)
#define TT_F_SRC6 TT_RAW_BIT(15)
#define TT_F_DST6 TT_RAW_BIT(16)
#define TT_F_START_S TT_RAW_BIT(17)
#define TT_F_END_S TT_RAW_BIT(18)
#define TT_F_START_UP TT_RAW_BIT(19)
#define TT_F_END_UP TT_RAW_BIT(20)
#define TT_F_SRC4 TT_RAW_BIT(21)
#define TT_F_DST4 TT_RAW_BIT(22)
#define TT_F_SAMPLING TT_RAW_BIT(23)
#define TT_F_SAMPLER_RANDOM TT_RAW_BIT(24)
#define TT_F_SRC_PORT TT_RAW_BIT(25)
#define TT_F_DST_PORT TT_RAW_BIT(26)
#define TT_F_ICMP4 TT_RAW_BIT(27)
#define TT_F_ICMP6 TT_RAW_BIT(28)
#define TT_F_FLAGS TT_RAW_BIT(29)
#define TT_F_PROTO TT_RAW_BIT(30)
#define TT_F_SAMPLER_ID TT_RAW_BIT(31)
#define TT_F_PKT_INTERVAL TT_RAW_BIT(32)
#define TT_F_PKT_SPACE TT_RAW_BIT(33)

/** icmp_fields bits: which separate ICMP type/code pairs a template carries. */
#define TT_ICMP_FIELDS_V4 1 /* 176/177 */
#define TT_ICMP_FIELDS_V6 2 /* 178/179 */

/** What a template carries, decided once per template (decode.c's template callback). */
typedef struct {
    uint64_t fields;     /* TT_F_* */
    uint8_t icmp_fields; /* TT_ICMP_FIELDS_* */
    uint8_t ip_version;  /* 1 when IE 60 is present */
} tt_raw_shape;

typedef struct {
    uint64_t id;
    uint32_t rate;
} tt_sampler;

/** The facts of one observation domain that records are read against. */
typedef struct {
    int64_t sys_init_ms;    /* the exporter's boot time; 0 = unknown */
    gboolean uptime_ref;    /* NetFlow v9: the current message's header clock applies */
    uint32_t ref_uptime_ms; /* its sysUptime */
    int64_t ref_ms;         /* its unix_secs, in ms */
    tt_sampler samplers[TT_SAMPLERS_PER_DOMAIN];
    guint nsamplers;
    uint32_t last_rate; /* the latest rate announced in this domain */
} tt_norm_domain;

/** A record's fate. Everything but OK and CLAMPED refuses it. */
typedef enum {
    TT_NORM_OK,
    TT_NORM_CLAMPED,       /* started after its message's export time, up to clamp-max: kept */
    TT_NORM_FUTURE,        /* started after its message by more than clamp-max */
    TT_NORM_IMPOSSIBLE,    /* outside 1970..9999, or ending a day before it starts */
    TT_NORM_BEYOND_9999,   /* a time field or boot time that cannot be represented */
    TT_NORM_VALUE_RANGE,   /* a port, protocol, flags or ICMP value too large for its type */
    TT_NORM_ABSURD_COUNTS, /* more than 2^40 packets or 2^56 bytes */
} tt_norm_status;

/** What the caller counts and logs besides the verdict. */
typedef struct {
    int64_t skew_ms;  /* start - export time, as judged */
    gboolean clamped; /* the start was clamped to the export time (even if refused later) */
} tt_norm_note;

/** Whether @a status keeps the record. */
static inline gboolean tt_norm_kept(tt_norm_status status)
{
    return status == TT_NORM_OK || status == TT_NORM_CLAMPED;
}

/**
 * Turn record @a r (of a template of shape @a shape, in domain @a dom) into
 * @a out. @a export_ms is its message's export time. Sets every field of
 * @a out but the sensor (left 0: the caller attributes it) and the
 * country (ZZ: unknown until enriched). @a note says how far the start lay
 * past the export time and whether it was clamped (a clamped record may still
 * be refused for its values). From TT_NORM_CLAMPED on out->start_ms/end_ms are
 * the times judged; on TT_NORM_ABSURD_COUNTS out->raw_packets/raw_bytes are
 * the counts. A refused record's other fields are unspecified (no per-record
 * clearing of the whole flow).
 */
tt_norm_status tt_normalise(const tt_raw_shape *shape, const tt_raw_record *r,
                            const tt_norm_domain *dom, const tt_time_rules *rules,
                            int64_t export_ms, tt_flow *out, tt_norm_note *note);

/**
 * Check a record's start and end against its message's export time
 * (tt_time_record): TT_NORM_OK, CLAMPED (*@a start moved), FUTURE or
 * IMPOSSIBLE. For decoders that compute the times themselves (NetFlow v5).
 */
tt_norm_status tt_normalise_times(const tt_time_rules *rules, int64_t export_ms, int64_t *start,
                                  int64_t *end, int64_t *skew_ms);

/** Take what an options record announces (boot time, sampler rates) into @a dom. */
void tt_normalise_options(tt_norm_domain *dom, const tt_raw_options *o);

/** NTP timestamp (RFC 5905) to ms since 1970 (negative before 1970). */
int64_t tt_ntp_to_ms(uint64_t ntp);

/**
 * The 1-in-N rate of samplingPacketInterval/Space (305/306): PSAMP takes
 * @a interval packets out of every @a interval + @a space; without a space the
 * interval alone is the rate. 0 for nonsense.
 */
uint64_t tt_packet_rate(uint64_t interval, uint64_t space);

/** A rate as announced, or 0 when it is none or nonsense (above TT_MAX_SANE_RATE). */
uint32_t tt_sane_rate(uint64_t rate);

#endif
