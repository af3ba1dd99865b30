/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * v5.h - NetFlow v5 decoder (libfixbuf has none). Pure functions, no state.
 */
#ifndef TT_V5_H
#define TT_V5_H

#include <stddef.h>
#include <stdint.h>

#include <teiten/flow.h>

/** Records one NetFlow v5 datagram carries at most (the header's count is 1..30). */
#define TT_V5_MAX_RECORDS 30

typedef enum {
    TT_V5_OK = 0,
    TT_V5_SHORT_HEADER, /* fewer than 24 bytes */
    TT_V5_BAD_VERSION,  /* version field is not 5 */
    TT_V5_BAD_COUNT,    /* count is 0 or above 30 */
    TT_V5_TRUNCATED,    /* count records do not fit in the datagram */
} tt_v5_status;

typedef struct tt_v5_header {
    uint16_t count;
    uint32_t sys_uptime_ms;
    uint32_t unix_secs;
    uint32_t unix_nsecs;
    uint32_t flow_sequence;
    uint8_t engine_type;
    uint8_t engine_id;
    uint16_t sampling_mode;     /* top 2 bits of sampling_interval field */
    uint16_t sampling_interval; /* low 14 bits; 0 or 1 = unsampled */
} tt_v5_header;

/**
 * Decode one datagram. On TT_V5_OK, @a hdr is filled and up to @a max flows
 * are written to @a out (*@a nflows set). Flows get start/end in UTC ms from
 * the header's clock, addresses, ports (ICMP: dst_port = type*256+code as v5
 * exporters encode it), proto, tcp_flags, raw_packets/raw_bytes (packets and
 * bytes equal to the raw values), family 4, has_dst 1, sampling 1. The caller
 * applies sampling and enrichment.
 */
tt_v5_status tt_v5_decode(const uint8_t *buf, size_t len, tt_v5_header *hdr, tt_flow *out,
                          size_t max, size_t *nflows);
const char *tt_v5_strerror(tt_v5_status status);

#endif
