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
 *   flowsets are padding too, and so are trailing bytes of any value shorter
 *   than the shortest record (4 bytes in a template flowset, 10 in an options
 *   template flowset: Cisco WLC pads with non-zero bytes); data flowsets are
 *   copied with their padding.
 * - A v9 template with zero fields becomes an IPFIX withdrawal record of the
 *   same ID: v9 has no withdrawals, so it can only mean "forget it".
 * - Rejected: patching v9 scope types (System, Interface, ...) into IPFIX
 *   scope IEs. libfixbuf has no faithful equivalent and warns on their
 *   lengths; the scope values are never read, so paddingOctets is enough.
 */
#include "wire.h"

#include <glib.h>
#include <string.h>

#define WIRE_IPFIX_HDR TT_IPFIX_HDR_LEN
#define WIRE_V9_HDR 20
#define WIRE_SET_HDR TT_IPFIX_SET_HDR_LEN
#define WIRE_ENTERPRISE_BIT 0x8000u /* field specifier: a 4-byte enterprise number follows */
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
    [TT_WIRE_RECORD_OVERRUN] = {"record_overrun", "a variable-length record runs past its set"},
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

void tt_wire_sets_init(tt_wire_sets *it, const uint8_t *msg, size_t len)
{
    memset(it, 0, sizeof *it);
    it->msg = msg;
    it->len = len;
    it->next = WIRE_IPFIX_HDR;
}

bool tt_wire_sets_next(tt_wire_sets *it, tt_wire_status *status)
{
    size_t off = it->next;

    *status = TT_WIRE_OK;
    if (off >= it->len)
        return false;
    if (it->len - off < WIRE_SET_HDR) {
        *status = TT_WIRE_SET_SHORT;
        return false;
    }
    uint16_t set_len = wire_rd16(it->msg + off + 2);
    if (set_len < WIRE_SET_HDR) {
        *status = TT_WIRE_SET_SHORT;
        return false;
    }
    if (set_len > it->len - off) {
        *status = TT_WIRE_SET_OVERRUN;
        return false;
    }
    it->set.id = wire_rd16(it->msg + off);
    it->set.off = off;
    it->set.len = set_len;
    it->next = off + set_len;
    return true;
}

void tt_wire_templates_init(tt_wire_templates *it, const tt_wire_sets *sets)
{
    memset(it, 0, sizeof *it);
    it->msg = sets->msg;
    it->set_id = sets->set.id;
    it->next = sets->set.off + WIRE_SET_HDR;
    it->end = sets->set.off + sets->set.len;
}

static bool wire_template_fail(tt_wire_status *status, tt_wire_status why)
{
    *status = why;
    return false;
}

bool tt_wire_templates_next(tt_wire_templates *it, tt_wire_status *status)
{
    const uint8_t *p = it->msg;
    size_t off = it->next, end = it->end;
    tt_wire_template *t = &it->t;

    *status = TT_WIRE_OK;
    /* Fewer than 4 bytes cannot hold a record header: that is set padding. */
    if (end - off < 4)
        return false;
    memset(t, 0, sizeof *t);
    t->off = off;
    t->tid = wire_rd16(p + off);
    t->nfields = wire_rd16(p + off + 2);
    off += 4;
    if (t->nfields == 0) {
        /* Withdrawal; IDs 2 and 3 withdraw every (options) template. */
        if (t->tid < TT_IPFIX_SET_DATA_MIN && t->tid != it->set_id)
            return wire_template_fail(status, TT_WIRE_TEMPLATE_RESERVED_ID);
        t->spec = off;
        t->len = 4;
        it->next = off;
        return true;
    }
    if (t->tid < TT_IPFIX_SET_DATA_MIN)
        return wire_template_fail(status, TT_WIRE_TEMPLATE_RESERVED_ID);
    if (it->set_id == TT_IPFIX_SET_OPTIONS) {
        if (end - off < 2)
            return wire_template_fail(status, TT_WIRE_TEMPLATE_TRUNCATED);
        uint16_t scope = wire_rd16(p + off);
        off += 2;
        if (scope == 0 || scope > t->nfields)
            return wire_template_fail(status, TT_WIRE_OPTIONS_SCOPE);
    }
    t->spec = off;
    for (unsigned i = 0; i < t->nfields; i++) {
        if (end - off < 4)
            return wire_template_fail(status, TT_WIRE_TEMPLATE_TRUNCATED);
        uint16_t ie = wire_rd16(p + off);
        uint16_t flen = wire_rd16(p + off + 2);
        off += 4;
        if (ie & WIRE_ENTERPRISE_BIT) {
            if (end - off < 4)
                return wire_template_fail(status, TT_WIRE_TEMPLATE_TRUNCATED);
            off += 4;
        }
        t->varlen |= flen == TT_IPFIX_VARLEN;
        t->min_record += flen == TT_IPFIX_VARLEN ? 1 : flen;
    }
    t->len = off - t->off;
    it->next = off;
    return true;
}

/* Remove @a n bytes at @a at from the message, and say so in its header. */
static void wire_cut(tt_wire_sets *sets, uint8_t *msg, size_t at, size_t n)
{
    g_assert(msg == sets->msg && at + n <= sets->len);
    memmove(msg + at, msg + at + n, sets->len - (at + n));
    sets->len -= n;
    wire_wr16(msg + 2, (uint16_t)sets->len);
}

size_t tt_wire_cut_set(tt_wire_sets *sets, uint8_t *msg)
{
    wire_cut(sets, msg, sets->set.off, sets->set.len);
    sets->next = sets->set.off;
    return sets->len;
}

size_t tt_wire_cut_template(tt_wire_sets *sets, tt_wire_templates *tmpls, uint8_t *msg)
{
    size_t n = tmpls->t.len;
    wire_cut(sets, msg, tmpls->t.off, n);
    sets->set.len -= n;
    sets->next -= n;
    wire_wr16(msg + sets->set.off + 2, (uint16_t)sets->set.len);
    tmpls->next = tmpls->t.off;
    tmpls->end -= n;
    return sets->len;
}

void tt_wire_all_templates_init(tt_wire_all_templates *it, const uint8_t *msg, size_t len)
{
    tt_wire_sets_init(&it->sets, msg, len);
    it->in_set = false;
}

bool tt_wire_all_templates_next(tt_wire_all_templates *it, tt_wire_status *status)
{
    for (;;) {
        if (it->in_set && tt_wire_templates_next(&it->tmpls, status))
            return true;
        it->in_set = false;
        if (!tt_wire_sets_next(&it->sets, status))
            return false;
        if (it->sets.set.id == TT_IPFIX_SET_TEMPLATE || it->sets.set.id == TT_IPFIX_SET_OPTIONS) {
            tt_wire_templates_init(&it->tmpls, &it->sets);
            it->in_set = true;
        }
    }
}

tt_wire_status tt_ipfix_check(const uint8_t *msg, size_t len, tt_wire_info *info)
{
    tt_wire_info scratch;
    tt_wire_sets sets;
    tt_wire_status st;

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

    tt_wire_sets_init(&sets, msg, len);
    while (tt_wire_sets_next(&sets, &st)) {
        uint16_t set_id = sets.set.id;
        if (set_id == TT_IPFIX_SET_TEMPLATE || set_id == TT_IPFIX_SET_OPTIONS) {
            tt_wire_templates tmpls;
            tt_wire_templates_init(&tmpls, &sets);
            while (tt_wire_templates_next(&tmpls, &st))
                ;
            if (st != TT_WIRE_OK)
                return st;
            info->template_sets++;
        } else if (set_id >= TT_IPFIX_SET_DATA_MIN) {
            info->data_sets++;
        } else {
            return TT_WIRE_RESERVED_SET;
        }
    }
    return st;
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
    /* fewer than 4 bytes hold no record: padding, whatever its bytes (RFC 3954 5.2
     * says it SHOULD be zero, not MUST) */
    return TT_WIRE_OK;
}

/* The shortest options template record: its header and one 4-byte scope field. */
#define WIRE_V9_OPTIONS_MIN 10

/* Options template flowset body -> IPFIX options template set records. */
static tt_wire_status wire_v9_options(const uint8_t *p, size_t n, wire_out *o)
{
    size_t off = 0;

    while (n - off >= WIRE_V9_OPTIONS_MIN && !wire_all_zero(p + off, n - off)) {
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
    /* Bytes shorter than the shortest record are padding whatever their value: Cisco
     * WLC 5520/8510 end the flowset in 2 non-zero bytes, and refusing them dropped the
     * whole datagram with the data template after it (RFC 3954 5.2: SHOULD be zero). */
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

/* ---- sFlow v5 ------------------------------------------------------------- */

/*
 * libfixbuf's translator (fbsflow.c, 2.4 and 2.5) checks 28 header bytes but reads 40
 * for an IPv6 agent, subtracts a sample's and a flow record's header from an
 * unsigned remainder it never checked was that long, and reads known records
 * at fixed offsets whatever their length field says: a datagram of a few
 * hundred bytes made it read gigabytes away (a SEGV, found by fuzz_sflow).
 * It walks records, not samples, so a sample must be exactly its records.
 */
#define SFLOW_FLOW_REC_IPFIX 200 /* one translated flow record, set header included */
#define SFLOW_COUNTER_REC_IPFIX 110
#define SFLOW_IPFIX_BUDGET 65000 /* the translator's output buffer is 65496 */

/* Bytes the translator reads of flow record @a format (0: none, it skips it). */
static size_t sflow_flow_record_need(uint32_t format, const uint8_t *r, size_t len)
{
    switch (format) {
    case 1: /* raw packet header: protocol, frame length, ..., header from +16 */
        return 16;
    case 2: /* Ethernet frame data */
        return 18;
    case 3: /* IPv4 data */
        return 32;
    case 4: /* IPv6 data */
        return 56;
    case 1001: /* extended switch */
        return 12;
    case 1002: /* extended router: next hop by address type */
        if (len < 4)
            return 4;
        return wire_rd32(r) == 1 ? 16 : wire_rd32(r) == 2 ? 28 : 4;
    case 1003: /* extended gateway: the first destination AS when there is a path */
        if (len < 4)
            return 4;
        if (wire_rd32(r) == 1)
            return len < 24 ? 24 : wire_rd32(r + 20) != 0 ? 36 : 24;
        if (wire_rd32(r) == 2)
            return len < 36 ? 36 : wire_rd32(r + 32) != 0 ? 48 : 36;
        return 4;
    default:
        return 0;
    }
}

/* One sample of @a format (1 flow, 2 counters, 3 expanded flow, 4 expanded counters). */
static tt_wire_status sflow_sample_check(const uint8_t *s, size_t len, uint32_t format)
{
    static const size_t header[5] = {0, 32, 12, 44, 16}; /* sequence number included */
    gboolean flow = format == 1 || format == 3;
    if (len < header[format])
        return TT_WIRE_BAD_LENGTH;
    uint32_t records = wire_rd32(s + header[format] - 4);
    size_t off = header[format];
    for (uint32_t i = 0; i < records; i++) {
        if (len - off < 8)
            return TT_WIRE_BAD_LENGTH;
        uint32_t rformat = wire_rd32(s + off), rlen = wire_rd32(s + off + 4);
        off += 8;
        if (rformat >> 12 != 0)
            return TT_WIRE_OK; /* the translator refuses the datagram here */
        if (rlen > len - off)
            return TT_WIRE_BAD_LENGTH;
        size_t need = flow           ? sflow_flow_record_need(rformat, s + off, rlen)
                      : rformat == 1 ? 76 /* generic interface counters */
                                     : 0;
        if (rlen < need)
            return TT_WIRE_BAD_LENGTH;
        off += rlen;
    }
    return off == len ? TT_WIRE_OK : TT_WIRE_BAD_LENGTH;
}

tt_wire_status tt_sflow_check(const uint8_t *dgram, size_t len)
{
    if (len < 28)
        return TT_WIRE_SHORT_HEADER;
    if (wire_rd32(dgram) != 5)
        return TT_WIRE_BAD_VERSION;
    uint32_t agent_type = wire_rd32(dgram + 4);
    if (agent_type != 1 && agent_type != 2)
        return TT_WIRE_OK; /* refused by the translator before it reads on */
    size_t off = agent_type == 1 ? 28 : 40;
    if (len < off)
        return TT_WIRE_SHORT_HEADER;
    uint32_t samples = wire_rd32(dgram + off - 4);
    size_t ipfix = 16;
    for (uint32_t i = 0; i < samples; i++) {
        if (len - off < 8)
            return TT_WIRE_BAD_LENGTH;
        uint32_t format = wire_rd32(dgram + off), slen = wire_rd32(dgram + off + 4);
        off += 8;
        if (format >> 12 != 0 || format < 1 || format > 4)
            return TT_WIRE_OK; /* refused by the translator, which reads no further */
        if (slen > len - off)
            return TT_WIRE_BAD_LENGTH;
        tt_wire_status st = sflow_sample_check(dgram + off, slen, format);
        if (st != TT_WIRE_OK)
            return st;
        ipfix += format == 1 || format == 3 ? SFLOW_FLOW_REC_IPFIX : SFLOW_COUNTER_REC_IPFIX;
        if (ipfix > SFLOW_IPFIX_BUDGET)
            return TT_WIRE_TOO_BIG;
        off += slen;
    }
    return TT_WIRE_OK;
}
