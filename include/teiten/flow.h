/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * teiten/flow.h - the normalised flow record every plugin sees.
 *
 * Whatever the exporter spoke (IPFIX, NetFlow v9, NetFlow v5, sFlow v5), the
 * collector decodes each record once into a tt_flow and enriches it once
 * (sensor, darknet filter, sampling, source country, traffic class) before
 * plugins see it. Plugins never parse wire formats and never look anything up.
 *
 * Design choices:
 * - Addresses are always 16 bytes. IPv4 is stored IPv4-mapped
 *   (::ffff:a.b.c.d) so one code path serves both families; `family` says
 *   which one the exporter sent.
 * - Times are UTC milliseconds since the epoch, already corrected for
 *   SysUpTime-relative exporters.
 * - ICMP has no ports: the type and code travel in dst_port as
 *   type * 256 + code (the nfdump/pmacct convention), src_port is 0.
 * - packets and bytes are sampling-corrected estimates; raw_* keep what the
 *   exporter actually counted, so exact raw totals can always be stated.
 *
 * The struct only grows at its end; plugins built against an older minor
 * version keep working (see plugin.h).
 */
#ifndef TEITEN_FLOW_H
#define TEITEN_FLOW_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Traffic class decided by the collector from flags and ports. */
typedef enum tt_class {
    TT_CLASS_OTHER = 0,       /**< neither of the two below */
    TT_CLASS_SCAN = 1,        /**< TCP SYN without ACK, ICMP echo request, ... */
    TT_CLASS_BACKSCATTER = 2, /**< SYN+ACK, RST, ICMP replies/errors, UDP from reflector ports */
    TT_CLASS_COUNT = 3
} tt_class;

/** TCP control bits as carried in tcpControlBits. */
#define TT_TCP_FIN 0x01
#define TT_TCP_SYN 0x02
#define TT_TCP_RST 0x04
#define TT_TCP_PSH 0x08
#define TT_TCP_ACK 0x10
#define TT_TCP_URG 0x20

/** One flow record, decoded and enriched. */
typedef struct tt_flow {
    int64_t start_ms;     /**< flow start, UTC milliseconds */
    int64_t end_ms;       /**< flow end, UTC milliseconds (>= start_ms) */
    uint64_t packets;     /**< sampling-corrected packet estimate */
    uint64_t bytes;       /**< sampling-corrected byte estimate */
    uint64_t raw_packets; /**< packets as exported */
    uint64_t raw_bytes;   /**< bytes as exported */
    uint8_t src[16];      /**< source address; IPv4 is IPv4-mapped */
    uint8_t dst[16];      /**< destination address; IPv4 is IPv4-mapped */
    uint16_t src_port;    /**< source port (0 for ICMP and portless protocols) */
    uint16_t dst_port;    /**< destination port, or ICMP type*256+code */
    uint8_t family;       /**< 4 or 6; 0 when the record had no address */
    uint8_t proto;        /**< IP protocol number */
    uint8_t tcp_flags;    /**< TCP flags (initial flags where exported) */
    uint8_t cls;          /**< a tt_class value */
    uint32_t sampling;    /**< 1-in-N applied to the estimates (1 = unsampled) */
    uint32_t sensor;      /**< sensor index, see tt_host.sensor_name() */
    char country[2];      /**< ISO 3166 alpha-2 of the source, "ZZ" unknown */
    uint8_t has_dst;      /**< 1 when the record carried a destination address */
    uint8_t reserved[5];
} tt_flow;

/** Protocol numbers teiten names specially. */
#define TT_PROTO_ICMP 1
#define TT_PROTO_TCP 6
#define TT_PROTO_UDP 17
#define TT_PROTO_ICMP6 58

/** Is @a addr (16 bytes) an IPv4-mapped address? */
static inline int tt_addr_is_v4(const uint8_t addr[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(addr, prefix, 12) == 0;
}

/** Store the host-order IPv4 address @a v4 IPv4-mapped into @a addr. */
static inline void tt_addr_set_v4(uint8_t addr[16], uint32_t v4)
{
    memset(addr, 0, 10);
    addr[10] = 0xff;
    addr[11] = 0xff;
    addr[12] = (uint8_t)(v4 >> 24);
    addr[13] = (uint8_t)(v4 >> 16);
    addr[14] = (uint8_t)(v4 >> 8);
    addr[15] = (uint8_t)v4;
}

/** Number of country indexes: every pair of letters A..Z. */
#define TT_COUNTRY_SLOTS (26 * 26)

/** Country index of "ZZ", the code of a source without a country. */
#define TT_COUNTRY_UNKNOWN (TT_COUNTRY_SLOTS - 1)

/** Index 0..675 of a two-letter upper-case country code, or 675 ("ZZ") when invalid. */
static inline unsigned tt_country_index(const char cc[2])
{
    if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
        return TT_COUNTRY_UNKNOWN;
    return (unsigned)(cc[0] - 'A') * 26u + (unsigned)(cc[1] - 'A');
}

/**
 * The two letters of country index @a idx, the inverse of tt_country_index(), into
 * @a cc (not NUL-terminated); an index past TT_COUNTRY_SLOTS gives "ZZ".
 */
static inline void tt_country_code(unsigned idx, char cc[2])
{
    if (idx >= TT_COUNTRY_SLOTS)
        idx = TT_COUNTRY_UNKNOWN;
    cc[0] = (char)('A' + idx / 26u);
    cc[1] = (char)('A' + idx % 26u);
}

/**
 * (ABI 1.5) 64-bit hash of the 16-byte address @a addr: fixed forever (the
 * rollup plugin stores HyperLogLog registers set from it, and sketches of
 * every collector merge), good in every bit (a splitmix64 and a murmur3
 * finaliser over both halves).
 */
static inline uint64_t tt_addr_hash(const uint8_t addr[16])
{
    uint64_t a, b;
    memcpy(&a, addr, 8);
    memcpy(&b, addr + 8, 8);
    uint64_t h = a ^ (b * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    h ^= b;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/** (ABI 1.5) Port slots: TCP ports, then UDP ports, then every other protocol by number. */
#define TT_SLOT_UDP 65536u
#define TT_SLOT_PROTO (2u * 65536u)
#define TT_SLOTS (2u * 65536u + 256u)

/**
 * (ABI 1.5) The port slot of @a flow, < TT_SLOTS: its destination port for TCP,
 * TT_SLOT_UDP + its destination port for UDP, TT_SLOT_PROTO + its protocol
 * number for every other protocol (ICMP's type and code are not in it).
 */
static inline uint32_t tt_port_slot(const tt_flow *flow)
{
    return flow->proto == TT_PROTO_TCP   ? flow->dst_port
           : flow->proto == TT_PROTO_UDP ? TT_SLOT_UDP + flow->dst_port
                                         : TT_SLOT_PROTO + flow->proto;
}

/**
 * (ABI 1.5) What the collector derives from an enriched flow once, for every
 * plugin that takes on_flows_keyed() (plugin.h): each is the value the inline
 * function named beside it gives for the flow, so a plugin's on_flow() and its
 * late path can compute the same with tt_flow_keys_of().
 */
typedef struct tt_flow_keys {
    uint64_t src_hash; /**< tt_addr_hash(flow->src) */
    uint32_t slot;     /**< tt_port_slot(flow), 0 .. TT_SLOTS - 1 */
    uint16_t country;  /**< tt_country_index(flow->country), 0 .. 675 (675: "ZZ") */
    uint8_t cls;       /**< flow->cls, 0 .. TT_CLASS_COUNT - 1 (out of range: TT_CLASS_OTHER) */
    uint8_t reserved;  /**< 0 */
} tt_flow_keys;

/** (ABI 1.5) The keys of @a flow into @a keys, as the collector computes them. */
static inline void tt_flow_keys_of(const tt_flow *flow, tt_flow_keys *keys)
{
    keys->src_hash = tt_addr_hash(flow->src);
    keys->slot = tt_port_slot(flow);
    keys->country = (uint16_t)tt_country_index(flow->country);
    keys->cls = flow->cls < TT_CLASS_COUNT ? flow->cls : (uint8_t)TT_CLASS_OTHER;
    keys->reserved = 0;
}

#ifdef __cplusplus
}
#endif
#endif /* TEITEN_FLOW_H */
