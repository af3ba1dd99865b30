/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.c - structural walk of IPFIX messages and the NetFlow v9 -> IPFIX
 * rewrite (design in wire.h).
 *
 * Approach: one bounds-checked cursor per message, every multi-byte read by
 * byte shifts (no unaligned casts, no host-order assumptions), no allocation
 * and no state, so the functions are safe to call from any reader thread and
 * are easy to fuzz. Every length is compared against the bytes remaining
 * before it is used; sizes are size_t, so nothing can wrap.
 *
 * Decisions worth knowing:
 * - IPFIX data records are not counted (info->data_records stays 0): that
 *   needs the session's templates, which this stateless walk does not have.
 * - A v9 datagram may end in a zero-filled tail (PAN-OS pads to a fixed
 *   size): an all-zero remainder after the last flowset is dropped, not read
 *   as a flowset of length 0. Trailing zero bytes inside template and options
 *   flowsets are padding too; data flowsets are copied with their padding.
 * - A v9 template with zero fields becomes an IPFIX withdrawal record of the
 *   same ID: v9 has no withdrawals, so it can only mean "forget it".
 * - Rejected: patching v9 scope types (System, Interface, ...) into IPFIX
 *   scope IEs. libfixbuf has no faithful equivalent and warns on their
 *   lengths; the scope values are never read, so paddingOctets is enough.
 */
#include "wire.h"

#include <glib.h>
#include <string.h>

#define WIRE_IPFIX_HDR 16
#define WIRE_V9_HDR 20
#define WIRE_SET_HDR 4
#define WIRE_IE_PADDING 210
#define WIRE_V9_MAX_TYPE 346

static const struct {
    const char *key;
    const char *text;
} wire_reasons[TT_WIRE_REASON_COUNT] = {
    [TT_WIRE_OK] = {"ok", "no error"},
    [TT_WIRE_SHORT_HEADER] = {"short_header", "shorter than the message header"},
    [TT_WIRE_BAD_VERSION] = {"bad_version", "unexpected version number"},
    [TT_WIRE_BAD_LENGTH] = {"bad_length", "message length field disagrees with the datagram"},
    [TT_WIRE_SET_SHORT] = {"set_short", "set length below the 4-byte set header"},
    [TT_WIRE_SET_OVERRUN] = {"set_overrun", "set runs past the end of the message"},
    [TT_WIRE_RESERVED_SET] = {"reserved_set", "reserved set ID"},
    [TT_WIRE_TEMPLATE_TRUNCATED] = {"template_truncated", "template record runs past its set"},
    [TT_WIRE_TEMPLATE_RESERVED_ID] = {"template_reserved_id", "template ID below 256"},
    [TT_WIRE_OPTIONS_SCOPE] = {"options_scope", "options template scope count invalid"},
    [TT_WIRE_TOO_BIG] = {"too_big", "rewritten message does not fit the output buffer"},
};

const char *tt_wire_strerror(tt_wire_status status)
{
    if ((unsigned)status >= TT_WIRE_REASON_COUNT)
        return "unknown wire status";
    return wire_reasons[status].text;
}

const char *tt_wire_reason_key(tt_wire_status status)
{
    if ((unsigned)status >= TT_WIRE_REASON_COUNT)
        return "unknown";
    return wire_reasons[status].key;
}

static inline uint16_t wire_rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t wire_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wire_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static gboolean wire_all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return FALSE;
    return TRUE;
}

/* Walk the records of one IPFIX template (2) or options template (3) set body. */
static tt_wire_status wire_ipfix_templates(uint16_t set_id, const uint8_t *p, size_t n)
{
    size_t off = 0;

    /* Fewer than 4 bytes cannot hold a record header: that is set padding. */
    while (n - off >= 4) {
        uint16_t tid = wire_rd16(p + off);
        uint16_t fields = wire_rd16(p + off + 2);
        uint16_t scope = 0;

        if (fields == 0) {
            /* Withdrawal; IDs 2 and 3 withdraw every (options) template. */
            if (tid < 256 && tid != set_id)
                return TT_WIRE_TEMPLATE_RESERVED_ID;
            off += 4;
            continue;
        }
        if (tid < 256)
            return TT_WIRE_TEMPLATE_RESERVED_ID;
        off += 4;
        if (set_id == 3) {
            if (n - off < 2)
                return TT_WIRE_TEMPLATE_TRUNCATED;
            scope = wire_rd16(p + off);
            off += 2;
            if (scope == 0 || scope > fields)
                return TT_WIRE_OPTIONS_SCOPE;
        }
        for (unsigned i = 0; i < fields; i++) {
            if (n - off < 4)
                return TT_WIRE_TEMPLATE_TRUNCATED;
            uint16_t ie = wire_rd16(p + off);
            off += 4;
            if (ie & 0x8000u) {
                if (n - off < 4)
                    return TT_WIRE_TEMPLATE_TRUNCATED;
                off += 4;
            }
        }
    }
    return TT_WIRE_OK;
}

tt_wire_status tt_ipfix_check(const uint8_t *msg, size_t len, tt_wire_info *info)
{
    tt_wire_info scratch;
    size_t off;

    g_return_val_if_fail(msg != NULL || len == 0, TT_WIRE_SHORT_HEADER);
    if (info == NULL)
        info = &scratch;
    memset(info, 0, sizeof(*info));

    if (len < WIRE_IPFIX_HDR)
        return TT_WIRE_SHORT_HEADER;
    if (wire_rd16(msg) != 10)
        return TT_WIRE_BAD_VERSION;
    if (wire_rd16(msg + 2) != len)
        return TT_WIRE_BAD_LENGTH;
    info->export_time = wire_rd32(msg + 4);
    info->sequence = wire_rd32(msg + 8);
    info->domain = wire_rd32(msg + 12);

    for (off = WIRE_IPFIX_HDR; off < len;) {
        if (len - off < WIRE_SET_HDR)
            return TT_WIRE_SET_SHORT;
        uint16_t set_id = wire_rd16(msg + off);
        uint16_t set_len = wire_rd16(msg + off + 2);
        if (set_len < WIRE_SET_HDR)
            return TT_WIRE_SET_SHORT;
        if (set_len > len - off)
            return TT_WIRE_SET_OVERRUN;
        if (set_id == 2 || set_id == 3) {
            tt_wire_status st =
                wire_ipfix_templates(set_id, msg + off + WIRE_SET_HDR, set_len - WIRE_SET_HDR);
            if (st != TT_WIRE_OK)
                return st;
            info->template_sets++;
        } else if (set_id >= 256) {
            info->data_sets++;
        } else {
            return TT_WIRE_RESERVED_SET;
        }
        off += set_len;
    }
    return TT_WIRE_OK;
}

tt_wire_status tt_ipfix_stream_frame(const uint8_t *buf, size_t avail, size_t *msglen)
{
    g_return_val_if_fail(buf != NULL || avail == 0, TT_WIRE_SHORT_HEADER);
    g_return_val_if_fail(msglen != NULL, TT_WIRE_SHORT_HEADER);

    /* Refuse garbage as soon as the bytes that show it are in, not only at 16. */
    if (avail >= 2 && wire_rd16(buf) != 10)
        return TT_WIRE_BAD_VERSION;
    if (avail >= 4 && wire_rd16(buf + 2) < WIRE_IPFIX_HDR)
        return TT_WIRE_BAD_LENGTH;
    if (avail < WIRE_IPFIX_HDR)
        return TT_WIRE_SHORT_HEADER;
    *msglen = wire_rd16(buf + 2);
    return TT_WIRE_OK;
}

/* v9 and IPFIX share IE numbers 1..346; anything else (type 0, vendor types)
 * must not reach libfixbuf under its own number. */
static inline uint16_t wire_v9_type(uint16_t type)
{
    return (type == 0 || type > WIRE_V9_MAX_TYPE) ? WIRE_IE_PADDING : type;
}

/* Output cursor for the rewrite: every write is checked against the capacity
 * and against the 16-bit IPFIX message length. */
typedef struct wire_out {
    uint8_t *buf;
    size_t cap;
    size_t len;
} wire_out;

static gboolean wire_out_room(const wire_out *o, size_t n)
{
    return n <= o->cap - o->len && o->len + n <= 65535;
}

/* Template flowset body -> IPFIX template set records. */
static tt_wire_status wire_v9_templates(const uint8_t *p, size_t n, wire_out *o)
{
    size_t off = 0;

    while (n - off >= 4 && !wire_all_zero(p + off, n - off)) {
        uint16_t tid = wire_rd16(p + off);
        uint16_t fields = wire_rd16(p + off + 2);
        size_t rec = 4 + (size_t)fields * 4;

        if (tid < 256)
            return TT_WIRE_TEMPLATE_RESERVED_ID;
        if (rec > n - off)
            return TT_WIRE_TEMPLATE_TRUNCATED;
        if (!wire_out_room(o, rec))
            return TT_WIRE_TOO_BIG;
        uint8_t *w = o->buf + o->len;
        wire_wr16(w, tid);
        wire_wr16(w + 2, fields);
        for (size_t i = 0; i < fields; i++) {
            const uint8_t *f = p + off + 4 + i * 4;
            wire_wr16(w + 4 + i * 4, wire_v9_type(wire_rd16(f)));
            wire_wr16(w + 6 + i * 4, wire_rd16(f + 2));
        }
        o->len += rec;
        off += rec;
    }
    if (n - off != 0 && !wire_all_zero(p + off, n - off))
        return TT_WIRE_TEMPLATE_TRUNCATED;
    return TT_WIRE_OK;
}

/* Options template flowset body -> IPFIX options template set records. */
static tt_wire_status wire_v9_options(const uint8_t *p, size_t n, wire_out *o)
{
    size_t off = 0;

    while (n - off >= 6 && !wire_all_zero(p + off, n - off)) {
        uint16_t tid = wire_rd16(p + off);
        size_t scope_len = wire_rd16(p + off + 2);
        size_t opt_len = wire_rd16(p + off + 4);

        if (tid < 256)
            return TT_WIRE_TEMPLATE_RESERVED_ID;
        if (scope_len == 0)
            return TT_WIRE_OPTIONS_SCOPE;
        if (scope_len % 4 != 0 || opt_len % 4 != 0 || 6 + scope_len + opt_len > n - off)
            return TT_WIRE_TEMPLATE_TRUNCATED;
        size_t nscope = scope_len / 4;
        size_t nfields = nscope + opt_len / 4;
        size_t rec = 6 + nfields * 4;
        if (!wire_out_room(o, rec))
            return TT_WIRE_TOO_BIG;
        uint8_t *w = o->buf + o->len;
        const uint8_t *f = p + off + 6;
        wire_wr16(w, tid);
        wire_wr16(w + 2, (uint16_t)nfields);
        wire_wr16(w + 4, (uint16_t)nscope);
        for (size_t i = 0; i < nfields; i++) {
            uint16_t type = wire_rd16(f + i * 4);
            wire_wr16(w + 6 + i * 4, i < nscope ? WIRE_IE_PADDING : wire_v9_type(type));
            wire_wr16(w + 8 + i * 4, wire_rd16(f + i * 4 + 2));
        }
        o->len += rec;
        off += rec;
        /* Records are 2 mod 4 long; exporters that pad each one to 4 bytes
         * leave a zero word, which can never start a record (IDs >= 256). */
        if (off % 4 != 0 && n - off >= 2 && wire_rd16(p + off) == 0)
            off += 2;
    }
    if (n - off != 0 && !wire_all_zero(p + off, n - off))
        return TT_WIRE_TEMPLATE_TRUNCATED;
    return TT_WIRE_OK;
}

tt_wire_status tt_v9_to_ipfix(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                              size_t *outlen, tt_wire_info *info)
{
    tt_wire_info scratch;
    wire_out o = {.buf = out, .cap = cap, .len = WIRE_IPFIX_HDR};
    size_t off;

    g_return_val_if_fail(in != NULL || len == 0, TT_WIRE_SHORT_HEADER);
    g_return_val_if_fail(out != NULL, TT_WIRE_TOO_BIG);
    g_return_val_if_fail(outlen != NULL, TT_WIRE_TOO_BIG);
    if (info == NULL)
        info = &scratch;
    memset(info, 0, sizeof(*info));

    if (len < WIRE_V9_HDR)
        return TT_WIRE_SHORT_HEADER;
    if (wire_rd16(in) != 9)
        return TT_WIRE_BAD_VERSION;
    info->v9_count = wire_rd16(in + 2);
    info->sys_uptime_ms = wire_rd32(in + 4);
    info->export_time = wire_rd32(in + 8);
    info->sequence = wire_rd32(in + 12);
    info->domain = wire_rd32(in + 16);
    if (cap < WIRE_IPFIX_HDR)
        return TT_WIRE_TOO_BIG;

    for (off = WIRE_V9_HDR; off < len;) {
        if (wire_all_zero(in + off, len - off))
            break;
        if (len - off < WIRE_SET_HDR)
            return TT_WIRE_SET_SHORT;
        uint16_t fs_id = wire_rd16(in + off);
        uint16_t fs_len = wire_rd16(in + off + 2);
        if (fs_len < WIRE_SET_HDR)
            return TT_WIRE_SET_SHORT;
        if (fs_len > len - off)
            return TT_WIRE_SET_OVERRUN;
        const uint8_t *body = in + off + WIRE_SET_HDR;
        size_t body_len = fs_len - WIRE_SET_HDR;

        if (fs_id == 0 || fs_id == 1) {
            size_t set_start = o.len;
            tt_wire_status st;
            if (!wire_out_room(&o, WIRE_SET_HDR))
                return TT_WIRE_TOO_BIG;
            o.len += WIRE_SET_HDR;
            st = fs_id == 0 ? wire_v9_templates(body, body_len, &o)
                            : wire_v9_options(body, body_len, &o);
            if (st != TT_WIRE_OK)
                return st;
            if (o.len == set_start + WIRE_SET_HDR) {
                /* Only padding: an empty set helps nobody. */
                o.len = set_start;
            } else {
                wire_wr16(out + set_start, fs_id == 0 ? 2 : 3);
                wire_wr16(out + set_start + 2, (uint16_t)(o.len - set_start));
                info->template_sets++;
            }
        } else if (fs_id >= 256) {
            if (!wire_out_room(&o, fs_len))
                return TT_WIRE_TOO_BIG;
            memcpy(out + o.len, in + off, fs_len);
            o.len += fs_len;
            info->data_sets++;
        } else {
            return TT_WIRE_RESERVED_SET;
        }
        off += fs_len;
    }

    wire_wr16(out, 10);
    wire_wr16(out + 2, (uint16_t)o.len);
    wire_wr32(out + 4, info->export_time);
    wire_wr32(out + 8, info->sequence);
    wire_wr32(out + 12, info->domain);
    *outlen = o.len;
    return TT_WIRE_OK;
}
