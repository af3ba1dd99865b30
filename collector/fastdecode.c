/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fastdecode.c - template inspection and the compiled record readers
 * (design in fastdecode.h).
 *
 * A template is walked once, field by field, as libfixbuf lays it out: the
 * offset of each field is the sum of the lengths before it. A field we read
 * (IANA, first occurrence: libfixbuf's transcoder also takes the first copy
 * of an IE) becomes one step; everything else (enterprise fields, second
 * copies, fields we ignore) is skipped by its length. A step reads what
 * libfixbuf's fixed-length decode gives for that field of our internal
 * template: an integer is read big-endian in its wire length, 1 to 8 bytes,
 * and stored whole in the member's width (reduced-size encoding widened);
 * anything else (IPv6 addresses) is copied as it is. Integers include the
 * 1-byte types (protocolIdentifier, ipVersion, the ICMP type and code,
 * samplerId), which libfixbuf's info model leaves without the endian flag:
 * sent widened (protocol as 00 06, Cisco's 4-byte samplerId) libfixbuf copies
 * them unswapped, so the template notes them (tt_widen_fix) and decode.c
 * fixes libfixbuf's copy after each read (tt_tmpl_widen); both paths then
 * read them as big-endian integers of their wire length (RFC 7011 6.2). A
 * template with a variable-length field gets no reader, nor does an options
 * template: libfixbuf reads those.
 *
 * The reader (tt_fast_read, inline in fastdecode.h) groups the steps by how
 * they store: an integer is one unaligned 8-byte load ending where the field
 * ends, a byte swap and a mask, whatever its length, so no step branches on
 * it. The 1-byte types take that path too, at any length.
 *
 * Rejected: one generated function per template shape (a JIT or a table of
 * specialisations): the reader costs ~8 instructions a field, and the shapes
 * exporters send are not known in advance.
 */
#include "fastdecode.h"

#include <fixbuf/public.h>
#include <stddef.h>
#include <string.h>

/* IEs whose presence is noted in the template's shape instead of a TT_F_ bit. */
#define IE_IP_VERSION 60
#define IE_ICMP_TYPE_V4 176
#define IE_ICMP_CODE_V4 177
#define IE_ICMP_TYPE_V6 178
#define IE_ICMP_CODE_V6 179

/*
 * One IE we read: number, presence bit, the lengths we accept (min..max) and
 * its member of tt_raw_record. Counters and identifiers: any length from 1 to
 * 8 (reduced-size encoding, RFC 7011 6.2, and the widened fields some
 * exporters send, e.g. Cisco NBAR's 4-byte FLOW_SAMPLER_ID); tt_normalise()
 * refuses a record whose value does not fit. Addresses and absolute
 * timestamps: their exact length. Uptimes (unsigned32) may be reduced. The
 * table is in docs/security.md.
 */
typedef struct {
    uint16_t num;
    uint64_t bit;
    uint16_t min_len, max_len;
    uint16_t dst, dst_len;
} read_field;

#define RF(num, bit, min, max, member)                                                             \
    {                                                                                              \
        num, bit, min, max, offsetof(tt_raw_record, member),                                       \
            sizeof(((tt_raw_record *)NULL)->member)                                                \
    }

static const read_field read_fields[] = {
    RF(152, TT_F_START_MS, 8, 8, start_ms),
    RF(153, TT_F_END_MS, 8, 8, end_ms),
    RF(154, TT_F_START_US, 8, 8, start_us),
    RF(155, TT_F_END_US, 8, 8, end_us),
    RF(156, TT_F_START_NS, 8, 8, start_ns),
    RF(157, TT_F_END_NS, 8, 8, end_ns),
    RF(160, TT_F_SYSINIT, 8, 8, sys_init_ms),
    RF(2, TT_F_PKT_DELTA, 1, 8, packet_delta),
    RF(86, TT_F_PKT_TOTAL, 1, 8, packet_total),
    RF(1, TT_F_OCT_DELTA, 1, 8, octet_delta),
    RF(85, TT_F_OCT_TOTAL, 1, 8, octet_total),
    RF(231, TT_F_INIT_OCT, 1, 8, initiator_octets),
    RF(298, TT_F_INIT_PKT, 1, 8, initiator_packets),
    RF(323, TT_F_OBS_MS, 8, 8, observation_ms),
    RF(302, TT_F_SELECTOR, 1, 8, selector_id),
    RF(27, TT_F_SRC6, 16, 16, src6),
    RF(28, TT_F_DST6, 16, 16, dst6),
    RF(150, TT_F_START_S, 4, 4, start_s),
    RF(151, TT_F_END_S, 4, 4, end_s),
    RF(22, TT_F_START_UP, 1, 4, start_up),
    RF(21, TT_F_END_UP, 1, 4, end_up),
    RF(8, TT_F_SRC4, 4, 4, src4),
    RF(12, TT_F_DST4, 4, 4, dst4),
    RF(34, TT_F_SAMPLING, 1, 8, sampling_interval),
    RF(50, TT_F_SAMPLER_RANDOM, 1, 8, sampler_random),
    RF(7, TT_F_SRC_PORT, 1, 8, src_port),
    RF(11, TT_F_DST_PORT, 1, 8, dst_port),
    RF(32, TT_F_ICMP4, 1, 8, icmp4),
    RF(139, TT_F_ICMP6, 1, 8, icmp6),
    RF(6, TT_F_FLAGS, 1, 8, tcp_flags),
    RF(4, TT_F_PROTO, 1, 8, proto),
    RF(48, TT_F_SAMPLER_ID, 1, 8, sampler_id),
    RF(IE_IP_VERSION, 0, 1, 8, ip_version),
    RF(IE_ICMP_TYPE_V4, 0, 1, 8, icmp_type4),
    RF(IE_ICMP_CODE_V4, 0, 1, 8, icmp_code4),
    RF(IE_ICMP_TYPE_V6, 0, 1, 8, icmp_type6),
    RF(IE_ICMP_CODE_V6, 0, 1, 8, icmp_code6),
    RF(305, TT_F_PKT_INTERVAL, 1, 8, packet_interval),
    RF(306, TT_F_PKT_SPACE, 1, 8, packet_space),
};
G_STATIC_ASSERT(G_N_ELEMENTS(read_fields) <= TT_FAST_MAX_STEPS);

/* Where a step goes: widened into 64 or 32 bits, or copied as sent (IPv6 addresses). */
enum { FAST_U64, FAST_U32, FAST_COPY };

static const read_field *read_field_find(uint16_t num)
{
    for (size_t i = 0; i < G_N_ELEMENTS(read_fields); i++)
        if (read_fields[i].num == num)
            return &read_fields[i];
    return NULL;
}

static gboolean read_field_refused(const fbInfoElement_t *ie, const read_field *rf)
{
    return ie->len == FB_IE_VARLEN || ie->len < rf->min_len || ie->len > rf->max_len;
}

/*
 * Whether libfixbuf byte-swaps @a rf into our internal template: its fixed-length
 * decode swaps by the endian flag of the internal template's IE, which is the
 * info model's. The 1-byte types have none.
 */
static gboolean read_field_swapped(fbInfoModel_t *model, const read_field *rf)
{
    const fbInfoElement_t *canon = fbInfoModelGetElementByID(model, rf->num, 0);
    return canon != NULL && (canon->flags & FB_IE_F_ENDIAN) != 0;
}

/* Where IE @a num goes in tt_raw_options (decode.c's opts_spec), or -1. */
static int options_member(uint16_t num)
{
    switch (num) {
    case 160:
        return offsetof(tt_raw_options, sys_init_ms);
    case 302:
        return offsetof(tt_raw_options, selector_id);
    case 34:
        return offsetof(tt_raw_options, sampling_interval);
    case 50:
        return offsetof(tt_raw_options, sampler_random);
    case 305:
        return offsetof(tt_raw_options, packet_interval);
    case 306:
        return offsetof(tt_raw_options, packet_space);
    case 48:
        return offsetof(tt_raw_options, sampler_id);
    default:
        return -1;
    }
}

/*
 * Note field @a rf (@a len bytes on the wire) for tt_tmpl_widen() when it is an
 * integer libfixbuf does not byte-swap and its copy is not already the value: longer
 * than a byte, or any length on a big-endian host.
 */
static void widen_note(tt_tmpl_info *ti, fbInfoModel_t *model, const read_field *rf, unsigned len)
{
    if (rf->dst_len > 8 || read_field_swapped(model, rf) ||
        (len == 1 && G_BYTE_ORDER == G_LITTLE_ENDIAN))
        return;
    int dst = ti->kind == TT_TMPL_OPTIONS ? options_member(rf->num) : rf->dst;
    if (dst < 0) /* an options field we do not keep */
        return;
    g_return_if_fail(ti->nwiden < TT_WIDEN_MAX); /* TT_WIDEN_MAX counts the 1-byte types */
    ti->widen[ti->nwiden++] = (tt_widen_fix){(uint16_t)dst, (uint8_t)len, (uint8_t)rf->dst_len};
}

/* A step for field @a rf, @a len bytes at @a at in the record (fastdecode.h: tt_fast_step). */
static void fast_step_add(tt_fast_step by_kind[3][TT_FAST_MAX_STEPS], uint8_t nkind[3], int32_t at,
                          unsigned len, const read_field *rf)
{
    /* every member up to 8 bytes is an integer (the 1-byte types too: tt_tmpl_widen) */
    gboolean integer = rf->dst_len <= 8;
    int kind = !integer ? FAST_COPY : rf->dst_len == 8 ? FAST_U64 : FAST_U32;
    tt_fast_step *s = &by_kind[kind][nkind[kind]++];
    s->dst = rf->dst;
    if (kind == FAST_COPY) {
        s->src = at;
        s->mask = len;
    } else {
        s->src = at + (int32_t)len - 8;
        s->mask = len == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * len)) - 1;
    }
}

tt_tmpl_info *tt_template_inspect(fbTemplate_t *tmpl, tt_template_refusal *why)
{
    tt_tmpl_info *ti = g_new0(tt_tmpl_info, 1);
    uint32_t n = fbTemplateCountElements(tmpl);
    fbInfoModel_t *model = fbTemplateGetInfoModel(tmpl);
    tt_fast_step by_kind[3][TT_FAST_MAX_STEPS];
    uint8_t nkind[3] = {0, 0, 0};
    size_t fixed_len = 0;
    gboolean varlen = FALSE;

    ti->kind = fbTemplateGetOptionsScope(tmpl) > 0 ? TT_TMPL_OPTIONS : TT_TMPL_FLOW;
    for (uint32_t i = 0; i < n; i++) {
        const fbInfoElement_t *ie = fbTemplateGetIndexedIE(tmpl, i);
        size_t at = fixed_len;
        if (ie->len == FB_IE_VARLEN)
            varlen = TRUE;
        else
            fixed_len += ie->len;
        if (ie->ent != 0 || ie->midx != 0)
            continue; /* not ours, or a second copy we do not read */
        const read_field *rf = read_field_find(ie->num);
        if (rf == NULL)
            continue;
        if (read_field_refused(ie, rf)) {
            *why = ie->len == FB_IE_VARLEN ? TT_TREFUSE_VARLEN_FIELD : TT_TREFUSE_FIELD_LENGTH;
            ti->kind = TT_TMPL_REFUSED;
            return ti;
        }
        ti->shape.fields |= rf->bit;
        if (ie->num == IE_ICMP_TYPE_V4 || ie->num == IE_ICMP_CODE_V4)
            ti->shape.icmp_fields |= TT_ICMP_FIELDS_V4;
        else if (ie->num == IE_ICMP_TYPE_V6 || ie->num == IE_ICMP_CODE_V6)
            ti->shape.icmp_fields |= TT_ICMP_FIELDS_V6;
        else if (ie->num == IE_IP_VERSION)
            ti->shape.ip_version = 1;
        widen_note(ti, model, rf, ie->len);
        if (!varlen && at <= UINT16_MAX)
            fast_step_add(by_kind, nkind, (int32_t)at, ie->len, rf);
    }
    if (fixed_len == 0 && !varlen) {
        *why = TT_TREFUSE_ZERO_LENGTH;
        ti->kind = TT_TMPL_REFUSED;
        return ti;
    }
    if (ti->kind == TT_TMPL_FLOW && !varlen && fixed_len <= UINT16_MAX) {
        static uint64_t last_id;
        tt_fast_prog *prog = ti->prog = g_new0(tt_fast_prog, 1);
        prog->id = __atomic_add_fetch(&last_id, 1, __ATOMIC_RELAXED);
        prog->reclen = (uint32_t)fixed_len;
        prog->n64 = nkind[FAST_U64];
        prog->n32 = nkind[FAST_U32];
        prog->ncopy = nkind[FAST_COPY];
        size_t at = 0;
        for (int k = FAST_U64; k <= FAST_COPY; k++)
            for (uint8_t j = 0; j < nkind[k]; j++)
                prog->steps[at++] = by_kind[k][j];
    }
    return ti;
}

void tt_tmpl_info_free(tt_tmpl_info *info)
{
    if (info == NULL)
        return;
    g_free(info->prog);
    g_free(info);
}

void tt_template_refusal_field(fbTemplate_t *tmpl, char *buf, size_t size)
{
    buf[0] = '\0';
    for (uint32_t i = 0; i < fbTemplateCountElements(tmpl); i++) {
        const fbInfoElement_t *ie = fbTemplateGetIndexedIE(tmpl, i);
        const read_field *rf = ie->ent == 0 && ie->midx == 0 ? read_field_find(ie->num) : NULL;
        if (rf != NULL && read_field_refused(ie, rf)) {
            g_snprintf(buf, size, ": IE %u is %u bytes long (we read %u..%u)", ie->num, ie->len,
                       rf->min_len, rf->max_len);
            return;
        }
    }
}
