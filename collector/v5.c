/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * v5.c - NetFlow v5 decoder. libfixbuf reads no v5, and the format is fixed
 * (24-byte header, 48-byte records), so a small decoder of our own writes
 * tt_flow records directly.
 *
 * Approach: validate the header completely (version, count 1..30, all count
 * records inside the datagram) before writing a single flow, so a datagram is
 * either decoded whole or refused whole. Reads are byte shifts, never
 * unaligned casts. Bytes after the last record are ignored (some exporters
 * pad datagrams).
 *
 * Times: First/Last are sysUpTime milliseconds; they become UTC milliseconds
 * through the header's clock (unix_secs, unix_nsecs, sys_uptime) in signed
 * 64-bit arithmetic; the age uptime - First is a signed 32-bit difference, so
 * an uptime wrap (every 49.7 days) between a flow's start and the export is
 * repaired, and a First slightly after the header's uptime (clock jitter) stays
 * slightly in the future rather than 49 days in the past. Records stamped after
 * their export beyond the tolerance are refused by the decoder, as for IPFIX.
 * A record whose Last lies before its First is given end = start so that the
 * end >= start promise of tt_flow holds.
 * Rejected: translating v5 into IPFIX for libfixbuf. It would cost a template
 * per exporter and a second pass for no field libfixbuf could add.
 */
#include "v5.h"

#include <glib.h>
#include <string.h>

#define V5_HDR_LEN 24
#define V5_REC_LEN 48

static inline uint16_t v5_rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t v5_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

const char *tt_v5_strerror(tt_v5_status status)
{
    switch (status) {
    case TT_V5_OK:
        return "no error";
    case TT_V5_SHORT_HEADER:
        return "shorter than the 24-byte NetFlow v5 header";
    case TT_V5_BAD_VERSION:
        return "version is not 5";
    case TT_V5_BAD_COUNT:
        return "record count is 0 or above 30";
    case TT_V5_TRUNCATED:
        return "records run past the end of the datagram";
    }
    return "unknown NetFlow v5 status";
}

static void v5_record(const uint8_t *r, int64_t export_ms, uint32_t uptime, tt_flow *f)
{
    memset(f, 0, sizeof(*f));
    tt_addr_set_v4(f->src, v5_rd32(r));
    tt_addr_set_v4(f->dst, v5_rd32(r + 4));
    f->raw_packets = f->packets = v5_rd32(r + 16);
    f->raw_bytes = f->bytes = v5_rd32(r + 20);
    /* ages in serial-number arithmetic (RFC 1982): a First taken before the
     * 2^32 ms uptime wrap and exported after it is still seconds old */
    f->start_ms = export_ms - (int32_t)(uptime - v5_rd32(r + 24));
    f->end_ms = export_ms - (int32_t)(uptime - v5_rd32(r + 28));
    if (f->end_ms < f->start_ms)
        f->end_ms = f->start_ms;
    f->tcp_flags = r[37];
    f->proto = r[38];
    if (f->proto == TT_PROTO_ICMP) {
        /* v5 exporters carry ICMP type*256+code in dstport, which is
         * already tt_flow's convention; the source port means nothing. */
        f->src_port = 0;
    } else {
        f->src_port = v5_rd16(r + 32);
    }
    f->dst_port = v5_rd16(r + 34);
    f->family = 4;
    f->has_dst = 1;
    f->sampling = 1;
    f->cls = TT_CLASS_OTHER;
    f->country[0] = 'Z';
    f->country[1] = 'Z';
}

tt_v5_status tt_v5_decode(const uint8_t *buf, size_t len, tt_v5_header *hdr, tt_flow *out,
                          size_t max, size_t *nflows)
{
    g_return_val_if_fail(buf != NULL || len == 0, TT_V5_SHORT_HEADER);
    g_return_val_if_fail(hdr != NULL, TT_V5_SHORT_HEADER);
    g_return_val_if_fail(out != NULL || max == 0, TT_V5_SHORT_HEADER);
    g_return_val_if_fail(nflows != NULL, TT_V5_SHORT_HEADER);

    if (len < V5_HDR_LEN)
        return TT_V5_SHORT_HEADER;
    if (v5_rd16(buf) != 5)
        return TT_V5_BAD_VERSION;
    uint16_t count = v5_rd16(buf + 2);
    if (count == 0 || count > TT_V5_MAX_RECORDS)
        return TT_V5_BAD_COUNT;
    if ((size_t)count * V5_REC_LEN > len - V5_HDR_LEN)
        return TT_V5_TRUNCATED;

    uint16_t sampling = v5_rd16(buf + 22);
    memset(hdr, 0, sizeof(*hdr));
    hdr->count = count;
    hdr->sys_uptime_ms = v5_rd32(buf + 4);
    hdr->unix_secs = v5_rd32(buf + 8);
    hdr->unix_nsecs = v5_rd32(buf + 12);
    hdr->flow_sequence = v5_rd32(buf + 16);
    hdr->engine_type = buf[20];
    hdr->engine_id = buf[21];
    hdr->sampling_mode = sampling >> 14;
    hdr->sampling_interval = sampling & 0x3fffu;

    int64_t export_ms = (int64_t)hdr->unix_secs * 1000 + (int64_t)(hdr->unix_nsecs / 1000000u);
    size_t n = MIN((size_t)count, max);
    for (size_t i = 0; i < n; i++)
        v5_record(buf + V5_HDR_LEN + i * V5_REC_LEN, export_ms, hdr->sys_uptime_ms, &out[i]);
    *nflows = n;
    return TT_V5_OK;
}
