/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fastdecode.h - what decode.c knows about each template, decided once when
 * the template arrives: whether its records may be trusted (the lengths of
 * the fields we read), which fields it carries (tt_raw_shape), and for a
 * fixed-length flow template a compiled reader: one step per field we read
 * (offset in the record, wire length, where it goes in tt_raw_record and
 * how), so that its data records are read straight from the message into
 * the struct libfixbuf's transcoder would have filled, byte for byte.
 *
 * libfixbuf keeps the sessions and the templates; decode.c hands a data set
 * to the reader only when every set of the message is a data set of a
 * template that has one (docs/collector.md, "Decode fast path").
 */
#ifndef TT_FASTDECODE_H
#define TT_FASTDECODE_H

#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "exporters.h"
#include "normalise.h"

/** At most one step per IE of tt_raw_record (39 today). */
#define TT_FAST_MAX_STEPS 48

/**
 * One field read into tt_raw_record at @a dst. An integer is read as the 8
 * bytes that end where it ends (@a src, relative to the record, may be up to 7
 * bytes before it: every record lies at least 20 bytes into its message),
 * byte-swapped and masked to its wire length; a copy takes @a len bytes at @a src.
 */
typedef struct {
    int32_t src;
    uint32_t dst;
    uint64_t mask; /* integers: the low len bytes; copies: len */
} tt_fast_step;

/** The reader of one fixed-length template: 64-bit integers, then 32-bit ones, then copies. */
typedef struct {
    uint64_t id;     /* unique in the process: whose fields a reused tt_raw_record holds */
    uint32_t reclen; /* a record's length on the wire (> 0) */
    uint8_t n64, n32, ncopy;
    tt_fast_step steps[TT_FAST_MAX_STEPS];
} tt_fast_prog;

typedef enum { TT_TMPL_FLOW, TT_TMPL_OPTIONS, TT_TMPL_REFUSED } tt_tmpl_kind;

/**
 * A field of a 1-byte type (protocolIdentifier, ipVersion, the ICMP type and
 * code, samplerId: no endian flag in libfixbuf's info model) that the template
 * sends widened, @a len bytes. libfixbuf's transcoder copies it unswapped to
 * the start of the @a width-byte member at @a dst (of tt_raw_record, or of
 * tt_raw_options for an options template); tt_tmpl_widen() turns those bytes
 * into the big-endian integer they are (RFC 7011 6.2). On a big-endian host a
 * 1-byte one is noted too (the byte lands in the member's top byte there).
 */
typedef struct {
    uint16_t dst;
    uint8_t len, width;
} tt_widen_fix;

/** At most this many such fields per template (7 IEs of tt_raw_record are 1-byte types). */
#define TT_WIDEN_MAX 8

/** The context decode.c keeps on every external template (fbTemplateGetContext). */
typedef struct {
    tt_tmpl_kind kind;
    tt_raw_shape shape;
    tt_fast_prog *prog; /* NULL: libfixbuf reads the records (options, varlen, refused) */
    uint8_t nwiden;     /* fields libfixbuf copies unswapped: fixed after each of its reads */
    tt_widen_fix widen[TT_WIDEN_MAX];
} tt_tmpl_info;

struct fbTemplate_st;

/**
 * Inspect template @a tmpl (an fbTemplate_t of a session) once: its kind, its
 * shape, and for a fixed-length flow template its reader. A refused template
 * says why in *@a why. (transfer full: tt_tmpl_info_free)
 */
tt_tmpl_info *tt_template_inspect(struct fbTemplate_st *tmpl, tt_template_refusal *why);
void tt_tmpl_info_free(tt_tmpl_info *info);

/**
 * The first field of @a tmpl we read whose length we refuse, as ": IE n is m
 * bytes long (we read a..b)" into @a buf, or "" when there is none.
 */
void tt_template_refusal_field(struct fbTemplate_st *tmpl, char *buf, size_t size);

/**
 * Read one record (@a prog->reclen bytes at @a rec, which lies at least 8
 * bytes into its message: integers are loaded as the 8 bytes that end where
 * they end) into @a out. Only the
 * fields the template carries are written: the caller clears @a out when it
 * last held another reader's record (prog->id), the zeros of the fields the
 * template lacks then stay (as libfixbuf's transcoder writes them).
 */
static inline void tt_fast_read(const tt_fast_prog *prog, const uint8_t *rec, tt_raw_record *out)
{
    uint8_t *base = (uint8_t *)out;
    const tt_fast_step *s = prog->steps;
    for (const tt_fast_step *end = s + prog->n64; s < end; s++) {
        uint64_t v;
        memcpy(&v, rec + s->src, 8);
        v = GUINT64_FROM_BE(v) & s->mask;
        memcpy(base + s->dst, &v, 8);
    }
    for (const tt_fast_step *end = s + prog->n32; s < end; s++) {
        uint64_t v;
        memcpy(&v, rec + s->src, 8);
        uint32_t v32 = (uint32_t)(GUINT64_FROM_BE(v) & s->mask);
        memcpy(base + s->dst, &v32, 4);
    }
    for (const tt_fast_step *end = s + prog->ncopy; s < end; s++) {
        if (s->mask == 16)
            memcpy(base + s->dst, rec + s->src, 16); /* IPv6 addresses: inlined */
        else
            memcpy(base + s->dst, rec + s->src, (size_t)s->mask);
    }
}

/**
 * After libfixbuf transcoded a record of a template with @a ti->nwiden != 0
 * into @a rec (a tt_raw_record, or a tt_raw_options for an options template):
 * each widened 1-byte-type field becomes the unsigned integer its first
 * len bytes spell big-endian, as the fast path reads it.
 */
static inline void tt_tmpl_widen(const tt_tmpl_info *ti, void *rec)
{
    uint8_t *base = rec;
    for (uint8_t i = 0; i < ti->nwiden; i++) {
        const tt_widen_fix *w = &ti->widen[i];
        uint64_t v = 0;
        for (uint8_t j = 0; j < w->len; j++)
            v = v << 8 | base[w->dst + j];
        if (w->width == 8) {
            memcpy(base + w->dst, &v, 8);
        } else {
            uint32_t v32 = (uint32_t)v;
            memcpy(base + w->dst, &v32, 4);
        }
    }
}

#endif
