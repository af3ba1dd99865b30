/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rewrite.c - the decoder's passes over a checked IPFIX message before
 * libfixbuf reads it (design in rewrite.h).
 *
 * libfixbuf 2.4 has three weaknesses a hostile or careless exporter can hit:
 * no cap on templates, no template withdrawal (a template without fields, or
 * with only 0-byte fields, makes its reader spin forever on 0-byte records),
 * and a data set shorter than one record is read past its end. Each pass
 * below cuts what would hurt out of the message, counting what it did, so
 * that libfixbuf only ever sees what it reads correctly. Every walk is
 * wire.c's cursor; every cut keeps the set and message headers right.
 *
 * Rejected: patching libfixbuf (the distribution's build is what we run) and
 * dropping such messages whole (their other sets are good data).
 */
#include "rewrite.h"

#include <fixbuf/public.h>
#include <string.h>

/* Template IDs are remembered per (domain, ID): one key for both. */
#define TID_KEY(domain, tid) GSIZE_TO_POINTER(((gsize)(domain) << 16) | (tid))

static gboolean is_template_set(uint16_t set_id)
{
    return set_id == TT_IPFIX_SET_TEMPLATE || set_id == TT_IPFIX_SET_OPTIONS;
}

gboolean tt_rewrite_template_cap(tt_exporter *e, uint32_t max_templates, const uint8_t *msg,
                                 size_t len, uint32_t domain, uint32_t *template_records)
{
    tt_wire_all_templates it;
    tt_wire_status st;
    guint fresh = 0;

    *template_records = 0;
    tt_wire_all_templates_init(&it, msg, len);
    while (tt_wire_all_templates_next(&it, &st)) {
        (*template_records)++;
        if (it.tmpls.t.nfields == 0)
            continue; /* a withdrawal adds nothing */
        if (!g_hash_table_contains(e->tids, TID_KEY(domain, it.tmpls.t.tid))) {
            if (g_hash_table_size(e->tids) + fresh >= max_templates)
                return FALSE;
            fresh++;
        }
    }
    if (fresh == 0)
        return TRUE;
    /* second pass records them, now that the message is admitted */
    tt_wire_all_templates_init(&it, msg, len);
    while (tt_wire_all_templates_next(&it, &st))
        if (it.tmpls.t.nfields > 0)
            g_hash_table_add(e->tids, TID_KEY(domain, it.tmpls.t.tid));
    return TRUE;
}

typedef struct {
    fbSession_t *session;
    uint32_t domain;
} forget_ctx;

static gboolean template_forget_one(gpointer key, gpointer value, gpointer data)
{
    const forget_ctx *fc = data;
    (void)value;
    gsize k = GPOINTER_TO_SIZE(key);
    if ((uint32_t)(k >> 16) != fc->domain)
        return FALSE;
    (void)fbSessionRemoveTemplate(fc->session, FALSE, (uint16_t)(k & 0xffff), NULL);
    return TRUE;
}

/* Drop template @a tid of @a domain (2 or 3: every template of the domain). */
static void template_forget(tt_exporter *e, uint32_t domain, uint16_t tid)
{
    forget_ctx fc = {e->session, domain};
    fbSessionSetDomain(e->session, domain);
    if (tid == TT_IPFIX_SET_TEMPLATE || tid == TT_IPFIX_SET_OPTIONS) {
        g_hash_table_foreach_remove(e->tids, template_forget_one, &fc);
        return;
    }
    (void)fbSessionRemoveTemplate(e->session, FALSE, tid, NULL);
    g_hash_table_remove(e->tids, TID_KEY(domain, tid));
}

/*
 * libfixbuf 2.4 has no template withdrawal: a template record without fields
 * becomes an empty template, and one whose fields are all 0 bytes long is
 * kept as it is; a data set read against either never advances (its records
 * are 0 bytes long) and the reader spins forever. Such records are therefore
 * cut out of the checked message before libfixbuf sees it, and the template
 * they name is removed from the session, so that its data sets count as data
 * without a template. An all-fields-0-bytes template counts as refused
 * (zero_length_record). Over UDP a withdrawal is not honoured (RFC 7011
 * 8.4: a spoofed datagram must not be able to unset a template, and
 * NetFlow v9 has no withdrawal at all): the record is cut out, the template
 * kept, the withdrawal counted.
 */
size_t tt_rewrite_withdrawals(tt_exporter *e, uint8_t *msg, size_t len, uint32_t domain)
{
    tt_wire_all_templates it;
    tt_wire_status st;

    tt_wire_all_templates_init(&it, msg, len);
    while (tt_wire_all_templates_next(&it, &st)) {
        const tt_wire_template *t = &it.tmpls.t;
        if (t->nfields > 0 && t->min_record > 0)
            continue;
        if (t->nfields > 0)
            e->stats.templates_refused[TT_TREFUSE_ZERO_LENGTH]++;
        if (t->nfields == 0 && (e->kind == TT_LISTEN_IPFIX_UDP || e->kind == TT_LISTEN_NF9_UDP))
            e->stats.withdrawals_ignored++;
        else
            template_forget(e, domain, t->tid);
        tt_wire_cut_template(&it.sets, &it.tmpls, msg);
    }
    return it.sets.len;
}

/* Shortest record of a session template: fixed lengths, and 1 byte per variable-length field. */
static size_t template_min_record(fbTemplate_t *tmpl, gboolean *varlen)
{
    size_t min = 0;
    uint32_t n = fbTemplateCountElements(tmpl);
    *varlen = FALSE;
    for (uint32_t i = 0; i < n; i++) {
        const fbInfoElement_t *ie = fbTemplateGetIndexedIE(tmpl, i);
        if (ie->len == FB_IE_VARLEN)
            *varlen = TRUE;
        min += ie->len == FB_IE_VARLEN ? 1 : ie->len;
    }
    return min;
}

/*
 * Do the records of a data set body (@a n bytes) of a template with variable-length
 * fields all fit it? The field lengths come from the template record's specifiers in
 * the message (@a spec, @a nfields) or from the session's @a tmpl. Trailing bytes
 * shorter than @a min (the shortest record) are padding. A length that runs past the
 * set is a lie libfixbuf 2.4 does not report: it ends the whole message there, and
 * every later set of it would be lost without a count.
 */
static gboolean data_set_records_fit(const uint8_t *spec, uint16_t nfields, fbTemplate_t *tmpl,
                                     const uint8_t *body, size_t n, size_t min)
{
    size_t off = 0;

    while (n - off >= min && n > off) {
        const uint8_t *q = spec;
        for (uint16_t i = 0; i < nfields; i++) {
            size_t flen;
            if (q != NULL) {
                flen = (size_t)(q[2] << 8 | q[3]);
                q += (q[0] & 0x80) ? 8 : 4; /* the enterprise bit: a 4-byte number follows */
            } else {
                flen = fbTemplateGetIndexedIE(tmpl, i)->len;
            }
            if (flen == TT_IPFIX_VARLEN) {
                if (n - off < 1)
                    return FALSE;
                flen = body[off++];
                if (flen == TT_IPFIX_VARLEN_LONG) {
                    if (n - off < 2)
                        return FALSE;
                    flen = (size_t)(body[off] << 8 | body[off + 1]);
                    off += 2;
                }
            }
            if (n - off < flen)
                return FALSE;
            off += flen;
        }
    }
    return TRUE;
}

/*
 * libfixbuf 2.4 checks that a data set holds at least one more record only in
 * the set it is already reading: a set it advances into is transcoded at once,
 * so a data set shorter than one record of its template is read past its end
 * (found by tests/fuzz: a heap over-read into whatever follows the message).
 * Such a set holds nothing but padding (RFC 7011 3.3.1) and no record, so it
 * is cut out of the checked message before libfixbuf sees it: nothing is lost.
 * Record lengths come from the template sets earlier in the message, which
 * libfixbuf will have read by then, else from the session.
 */
size_t tt_rewrite_data_sets(tt_exporter *e, uint8_t *msg, size_t len, uint32_t domain,
                            tt_wire_status *status)
{
    /* tid -> shortest record; with variable-length fields also (bits 32..47) the offset
     * of the template's first field specifier in @msg and (bits 48..63) its field count.
     * Cutting a data set moves only bytes after it, so earlier offsets stay valid. */
    g_autoptr(GHashTable) defined = NULL;
    tt_wire_sets sets;
    tt_wire_status st;

    G_STATIC_ASSERT(sizeof(gsize) >= 8);
    *status = TT_WIRE_OK;

    fbSessionSetDomain(e->session, domain);
    tt_wire_sets_init(&sets, msg, len);
    while (tt_wire_sets_next(&sets, &st)) {
        const tt_wire_set *set = &sets.set;
        if (is_template_set(set->id)) {
            tt_wire_templates tmpls;
            tt_wire_templates_init(&tmpls, &sets);
            /* withdrawals are gone: a record without fields is only padding */
            while (tt_wire_templates_next(&tmpls, &st) && tmpls.t.nfields > 0) {
                const tt_wire_template *t = &tmpls.t;
                if (defined == NULL)
                    defined = g_hash_table_new(g_direct_hash, g_direct_equal);
                gsize val = t->min_record & 0xffffffffu;
                if (t->varlen)
                    val |= (gsize)t->spec << 32 | (gsize)t->nfields << 48;
                g_hash_table_insert(defined, GUINT_TO_POINTER(t->tid), GSIZE_TO_POINTER(val));
            }
        } else if (set->id >= TT_IPFIX_SET_DATA_MIN) {
            gpointer v = NULL;
            size_t min = 0, spec = 0;
            uint16_t nfields = 0;
            fbTemplate_t *tmpl = NULL;
            gboolean varlen = FALSE;
            if (defined != NULL &&
                g_hash_table_lookup_extended(defined, GUINT_TO_POINTER(set->id), NULL, &v)) {
                min = GPOINTER_TO_SIZE(v) & 0xffffffffu;
                spec = (GPOINTER_TO_SIZE(v) >> 32) & 0xffffu;
                nfields = (uint16_t)(GPOINTER_TO_SIZE(v) >> 48);
                varlen = spec != 0;
            } else {
                tmpl = fbSessionGetTemplate(e->session, FALSE, set->id, NULL);
                if (tmpl != NULL) {
                    min = template_min_record(tmpl, &varlen);
                    nfields = (uint16_t)fbTemplateCountElements(tmpl);
                }
            }
            if (set->len - TT_IPFIX_SET_HDR_LEN < min) {
                tt_wire_cut_set(&sets, msg);
                continue;
            }
            const uint8_t *body = msg + set->off + TT_IPFIX_SET_HDR_LEN;
            if (varlen && !data_set_records_fit(spec != 0 ? msg + spec : NULL, nfields, tmpl, body,
                                                set->len - TT_IPFIX_SET_HDR_LEN, min)) {
                *status = TT_WIRE_RECORD_OVERRUN;
                return sets.len;
            }
        }
    }
    return sets.len;
}
