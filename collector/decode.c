/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decode.c - from IPFIX messages to tt_flow, through libfixbuf's buffer mode.
 *
 * Every message (a UDP datagram read by our own socket, a framed TCP or file
 * message, or a NetFlow v9 datagram rewritten to IPFIX by wire.c) is first
 * walked by tt_ipfix_check(); a message in which anything overruns is dropped
 * whole. Then the exporter's libfixbuf session decodes it: a new-template
 * callback inspects every template once and either pairs it with one of our
 * two internal templates (flow, options) or refuses it (template pair to 0,
 * so libfixbuf skips its records) when a field we read has a length we cannot
 * trust. libfixbuf then transcodes each record into a fixed C struct
 * (every counter and identifier in 64 bits, whatever its length on the wire;
 * byte order fixed), and tt_normalise() (normalise.c) turns that into a tt_flow: UTC
 * milliseconds from whichever time fields the exporter sent, checked and
 * clamped against the message by timepolicy.c, values checked against their
 * types, IPv4-mapped addresses, ICMP type/code in the destination port.
 *
 * Rejected: libfixbuf's own UDP listener (no control of the receive buffer, no
 * chance to validate a datagram before it is decoded, sessions we cannot cap)
 * and its NetFlow v9 translator (it only runs inside that listener's read
 * path); hand-decoding IPFIX records (libfixbuf's transcoder is well tested and
 * handles reduced-size encoding and every data type).
 */
#include "decode.h"

#include <arpa/inet.h>
#include <fixbuf/public.h>
#include <netinet/in.h>
#include <string.h>

#include "normalise.h"
#include "timepolicy.h"
#include "v5.h"

#define TID_FLOW 0xF001
#define TID_OPTS 0xF002
#define FLOW_BATCH 512
#define V9BUF_SIZE (65536 + 64)

static fbInfoElementSpec_t flow_spec[] = {{"flowStartMilliseconds", 8, 0},
                                          {"flowEndMilliseconds", 8, 0},
                                          {"flowStartMicroseconds", 8, 0},
                                          {"flowEndMicroseconds", 8, 0},
                                          {"flowStartNanoseconds", 8, 0},
                                          {"flowEndNanoseconds", 8, 0},
                                          {"systemInitTimeMilliseconds", 8, 0},
                                          {"packetDeltaCount", 8, 0},
                                          {"packetTotalCount", 8, 0},
                                          {"octetDeltaCount", 8, 0},
                                          {"octetTotalCount", 8, 0},
                                          {"initiatorOctets", 8, 0},
                                          {"initiatorPackets", 8, 0},
                                          {"observationTimeMilliseconds", 8, 0},
                                          {"selectorId", 8, 0},
                                          {"samplingInterval", 8, 0},
                                          {"samplerRandomInterval", 8, 0},
                                          {"samplingPacketInterval", 8, 0},
                                          {"samplingPacketSpace", 8, 0},
                                          {"sourceTransportPort", 8, 0},
                                          {"destinationTransportPort", 8, 0},
                                          {"icmpTypeCodeIPv4", 8, 0},
                                          {"icmpTypeCodeIPv6", 8, 0},
                                          {"tcpControlBits", 8, 0},
                                          {"protocolIdentifier", 8, 0},
                                          {"ipVersion", 8, 0},
                                          {"icmpTypeIPv4", 8, 0},
                                          {"icmpCodeIPv4", 8, 0},
                                          {"icmpTypeIPv6", 8, 0},
                                          {"icmpCodeIPv6", 8, 0},
                                          {"samplerId", 8, 0},
                                          {"sourceIPv6Address", 16, 0},
                                          {"destinationIPv6Address", 16, 0},
                                          {"flowStartSeconds", 4, 0},
                                          {"flowEndSeconds", 4, 0},
                                          {"flowStartSysUpTime", 4, 0},
                                          {"flowEndSysUpTime", 4, 0},
                                          {"sourceIPv4Address", 4, 0},
                                          {"destinationIPv4Address", 4, 0},
                                          FB_IESPEC_NULL};

static fbInfoElementSpec_t opts_spec[] = {{"systemInitTimeMilliseconds", 8, 0},
                                          {"selectorId", 8, 0},
                                          {"samplingInterval", 8, 0},
                                          {"samplerRandomInterval", 8, 0},
                                          {"samplingPacketInterval", 8, 0},
                                          {"samplingPacketSpace", 8, 0},
                                          {"samplerId", 8, 0},
                                          FB_IESPEC_NULL};

/*
 * One IE we read: number, presence bit, and the lengths we accept (min..max).
 * Counters and identifiers: any length from 1 to 8 (reduced-size encoding,
 * RFC 7011 6.2, and the widened fields some exporters send, e.g. Cisco NBAR's
 * 4-byte FLOW_SAMPLER_ID); tt_normalise() refuses a record whose value does not
 * fit. Addresses and absolute timestamps: their exact length. Uptimes
 * (unsigned32) may be reduced. The table is in docs/security.md.
 */
typedef struct {
    uint16_t num;
    uint64_t bit;
    uint16_t min_len, max_len;
} read_field;

static const read_field read_fields[] = {
    {152, TT_F_START_MS, 8, 8},
    {153, TT_F_END_MS, 8, 8},
    {154, TT_F_START_US, 8, 8},
    {155, TT_F_END_US, 8, 8},
    {156, TT_F_START_NS, 8, 8},
    {157, TT_F_END_NS, 8, 8},
    {160, TT_F_SYSINIT, 8, 8},
    {2, TT_F_PKT_DELTA, 1, 8},
    {86, TT_F_PKT_TOTAL, 1, 8},
    {1, TT_F_OCT_DELTA, 1, 8},
    {85, TT_F_OCT_TOTAL, 1, 8},
    {231, TT_F_INIT_OCT, 1, 8},
    {298, TT_F_INIT_PKT, 1, 8},
    {323, TT_F_OBS_MS, 8, 8},
    {302, TT_F_SELECTOR, 1, 8},
    {27, TT_F_SRC6, 16, 16},
    {28, TT_F_DST6, 16, 16},
    {150, TT_F_START_S, 4, 4},
    {151, TT_F_END_S, 4, 4},
    {22, TT_F_START_UP, 1, 4},
    {21, TT_F_END_UP, 1, 4},
    {8, TT_F_SRC4, 4, 4},
    {12, TT_F_DST4, 4, 4},
    {34, TT_F_SAMPLING, 1, 8},
    {50, TT_F_SAMPLER_RANDOM, 1, 8},
    {7, TT_F_SRC_PORT, 1, 8},
    {11, TT_F_DST_PORT, 1, 8},
    {32, TT_F_ICMP4, 1, 8},
    {139, TT_F_ICMP6, 1, 8},
    {6, TT_F_FLAGS, 1, 8},
    {4, TT_F_PROTO, 1, 8},
    {48, TT_F_SAMPLER_ID, 1, 8},
    {60, 0, 1, 8},
    {176, 0, 1, 8},
    {177, 0, 1, 8},
    {178, 0, 1, 8},
    {179, 0, 1, 8},
    {305, TT_F_PKT_INTERVAL, 1, 8},
    {306, TT_F_PKT_SPACE, 1, 8},
};

typedef enum { TMPL_FLOW, TMPL_OPTIONS, TMPL_REFUSED } tmpl_kind;

typedef struct {
    tmpl_kind kind;
    tt_raw_shape shape;
} tmpl_info;

typedef struct {
    uint32_t domain;
    uint32_t sensor;
    guint sensor_gen;
    tt_norm_domain norm; /* boot time, header clock, samplers */
    gboolean seq_valid;
    gboolean seq_post;       /* numbers messages after counting their own records */
    uint32_t prev_seq;       /* sequence number of the previous message */
    uint32_t prev_records;   /* its data + options records */
    uint32_t prev_data;      /* its data records */
    uint32_t prev_templates; /* its template records */
    guint refused_gen;       /* sensor generation in which the refusal was last logged */
} tt_domain;

struct tt_exporter {
    tt_decoder *decoder;
    tt_listen_kind kind;
    guint listener_id;
    gboolean is_private;
    uint32_t forced_sensor; /* UINT32_MAX: resolve by address and domain */
    uint8_t addr[16];
    uint16_t port;
    char label[96];
    fbSession_t *session; /* owned by fbuf */
    fBuf_t *fbuf;
    GHashTable *domains; /* domain -> tt_domain* */
    tt_domain *last_domain;
    GHashTable *tids;            /* (domain << 16 | tid) of every template seen */
    GHashTable *refusals_logged; /* (domain << 16 | tid) of refused templates logged */
    gboolean clamp_logged, impossible_logged, offset_logged, ahead_logged, absurd_logged;
    tt_exporter_stats stats;
};

typedef struct {
    tt_listen_kind kind;
    guint listener_id;
    uint16_t port;
    uint8_t addr[16];
} exporter_key;

struct tt_decoder {
    fbInfoModel_t *model;
    tt_flow_sink sink;
    void *sink_data;
    tt_sensor_resolver resolver;
    void *resolver_data;
    guint sensor_gen;
    uint32_t max_templates;
    uint32_t max_exporters;
    uint32_t max_sessions; /* per listener */
    uint32_t max_domains;  /* per exporter */
    GArray *sessions;      /* guint per listener id: shared exporters on it */
    int64_t tolerance_ms;
    tt_time_rules time_rules; /* export-time-tolerance, clamp-max */
    int64_t ahead_max_ms;     /* export-ahead-max */
    GHashTable *exporters;    /* exporter_key* -> tt_exporter* (shared UDP exporters) */
    GPtrArray *privates;      /* tt_exporter* (files, TCP connections) */
    tt_exporter_stats retired;
    uint64_t evictions;
    guint template_gen; /* bumped by every template libfixbuf reads (decoder_drain) */
    /* the message being decoded, for the template callback */
    tt_exporter *current;
    tt_flow batch[FLOW_BATCH];
    size_t nbatch;
    tt_domain *batch_domain;
    tt_exporter *batch_exporter;
    uint8_t v9buf[V9BUF_SIZE];
};

static const char *const refusal_keys[TT_TREFUSE_COUNT] = {
    [TT_TREFUSE_FIELD_LENGTH] = "field_length",
    [TT_TREFUSE_VARLEN_FIELD] = "varlen_field",
    [TT_TREFUSE_ZERO_LENGTH] = "zero_length_record",
    [TT_TREFUSE_CAP] = "template_cap",
};

static const char *const drop_keys[TT_DROP_COUNT] = {
    [TT_DROP_WIRE] = "malformed",
    [TT_DROP_DECODE] = "decode_error",
    [TT_DROP_TEMPLATE_CAP] = "template_cap",
    [TT_DROP_UNKNOWN_EXPORTER] = "unknown_exporter",
    [TT_DROP_V5] = "netflow5_malformed",
    [TT_DROP_DOMAIN_CAP] = "domain_cap",
};

const char *tt_template_refusal_key(tt_template_refusal reason)
{
    return reason < TT_TREFUSE_COUNT ? refusal_keys[reason] : "unknown";
}

const char *tt_drop_reason_key(tt_drop_reason reason)
{
    return reason < TT_DROP_COUNT ? drop_keys[reason] : "unknown";
}

static guint exporter_key_hash(gconstpointer p)
{
    const exporter_key *k = p;
    guint h = (guint)k->kind * 31u + k->listener_id * 17u + k->port;
    for (int i = 0; i < 16; i++)
        h = h * 31u + k->addr[i];
    return h;
}

static gboolean exporter_key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(exporter_key)) == 0;
}

/* ---- statistics ---------------------------------------------------------- */

static void stats_add(tt_exporter_stats *into, const tt_exporter_stats *s)
{
    into->messages += s->messages;
    into->records += s->records;
    into->options_records += s->options_records;
    into->templates += s->templates;
    for (int i = 0; i < TT_TREFUSE_COUNT; i++)
        into->templates_refused[i] += s->templates_refused[i];
    into->unknown_template_sets += s->unknown_template_sets;
    into->seq_lost += s->seq_lost;
    for (int i = 0; i < TT_DROP_COUNT; i++)
        into->dropped[i] += s->dropped[i];
    for (int i = 0; i < TT_WIRE_REASON_COUNT; i++)
        into->wire_reasons[i] += s->wire_reasons[i];
    into->future_records += s->future_records;
    into->withdrawals_ignored += s->withdrawals_ignored;
    into->clock_ahead += s->clock_ahead;
    into->time_clamped += s->time_clamped;
    into->time_impossible += s->time_impossible;
    into->value_range += s->value_range;
    into->absurd_counts += s->absurd_counts;
}

void tt_decoder_count_drop(tt_exporter *exporter, tt_drop_reason reason)
{
    g_return_if_fail(exporter != NULL && reason < TT_DROP_COUNT);
    exporter->stats.dropped[reason]++;
}

void tt_decoder_count_malformed(tt_exporter *exporter, tt_wire_status status)
{
    g_return_if_fail(exporter != NULL && status > TT_WIRE_OK && status < TT_WIRE_REASON_COUNT);
    exporter->stats.dropped[TT_DROP_WIRE]++;
    exporter->stats.wire_reasons[status]++;
}

/* ---- templates ----------------------------------------------------------- */

static const read_field *read_field_find(uint16_t num)
{
    for (size_t i = 0; i < G_N_ELEMENTS(read_fields); i++)
        if (read_fields[i].num == num)
            return &read_fields[i];
    return NULL;
}

/* Decide once per template whether its records can be trusted. */
static tmpl_info *template_inspect(fbTemplate_t *tmpl, tt_template_refusal *why)
{
    tmpl_info *ti = g_new0(tmpl_info, 1);
    uint32_t n = fbTemplateCountElements(tmpl);
    size_t fixed_len = 0;
    gboolean varlen = FALSE;

    ti->kind = fbTemplateGetOptionsScope(tmpl) > 0 ? TMPL_OPTIONS : TMPL_FLOW;
    for (uint32_t i = 0; i < n; i++) {
        const fbInfoElement_t *ie = fbTemplateGetIndexedIE(tmpl, i);
        if (ie->len == FB_IE_VARLEN)
            varlen = TRUE;
        else
            fixed_len += ie->len;
        if (ie->ent != 0 || ie->midx != 0)
            continue; /* not ours, or a second copy we do not read */
        const read_field *rf = read_field_find(ie->num);
        if (rf == NULL)
            continue;
        if (ie->len == FB_IE_VARLEN) {
            *why = TT_TREFUSE_VARLEN_FIELD;
            ti->kind = TMPL_REFUSED;
            return ti;
        }
        if (ie->len < rf->min_len || ie->len > rf->max_len) {
            *why = TT_TREFUSE_FIELD_LENGTH;
            ti->kind = TMPL_REFUSED;
            return ti;
        }
        ti->shape.fields |= rf->bit;
        if (ie->num == 176 || ie->num == 177)
            ti->shape.icmp_fields |= TT_ICMP_FIELDS_V4;
        else if (ie->num == 178 || ie->num == 179)
            ti->shape.icmp_fields |= TT_ICMP_FIELDS_V6;
        else if (ie->num == 60)
            ti->shape.ip_version = 1;
    }
    if (fixed_len == 0 && !varlen) {
        *why = TT_TREFUSE_ZERO_LENGTH;
        ti->kind = TMPL_REFUSED;
    }
    return ti;
}

/*
 * A refused template is logged once per exporter, domain and template ID
 * (exporters resend their templates every few seconds), with the field whose
 * length we cannot use. The set of logged IDs is bounded by max-templates.
 */
static void template_log_refusal(tt_exporter *e, uint32_t domain, uint16_t tid, fbTemplate_t *tmpl,
                                 tt_template_refusal why)
{
    gpointer key = GSIZE_TO_POINTER(((gsize)domain << 16) | tid);
    if (e->refusals_logged == NULL)
        e->refusals_logged = g_hash_table_new(g_direct_hash, g_direct_equal);
    if (g_hash_table_contains(e->refusals_logged, key))
        return;
    g_hash_table_add(e->refusals_logged, key);
    char field[64] = "";
    for (uint32_t i = 0; i < fbTemplateCountElements(tmpl); i++) {
        const fbInfoElement_t *ie = fbTemplateGetIndexedIE(tmpl, i);
        const read_field *rf = ie->ent == 0 && ie->midx == 0 ? read_field_find(ie->num) : NULL;
        if (rf != NULL &&
            (ie->len == FB_IE_VARLEN || ie->len < rf->min_len || ie->len > rf->max_len)) {
            g_snprintf(field, sizeof field, ": IE %u is %u bytes long (we read %u..%u)", ie->num,
                       ie->len, rf->min_len, rf->max_len);
            break;
        }
    }
    g_warning("%s (domain %u): template %u refused (%s%s); its records are skipped", e->label,
              domain, tid, tt_template_refusal_key(why), field);
}

static void template_ctx_free(void *tmpl_ctx, void *app_ctx)
{
    g_free(tmpl_ctx);
}

static void decoder_new_template(fbSession_t *session, uint16_t tid, fbTemplate_t *tmpl,
                                 void *app_ctx, void **tmpl_ctx, fbTemplateCtxFree_fn *free_fn)
{
    tt_decoder *d = app_ctx;
    tt_exporter *e = d->current;
    tt_template_refusal why = TT_TREFUSE_COUNT;
    tmpl_info *ti = template_inspect(tmpl, &why);

    d->template_gen++;
    if (ti->kind == TMPL_REFUSED) {
        if (e != NULL) {
            e->stats.templates_refused[why]++;
            template_log_refusal(e, fbSessionGetDomain(session), tid, tmpl, why);
        }
    } else if (e != NULL) {
        e->stats.templates++;
    }
    /*
     * No template pair is set: the reader picks the internal template before
     * every record (decoder_drain), and libfixbuf's pair table costs 128 KiB
     * per session, most of an exporter's memory.
     */
    *tmpl_ctx = ti;
    *free_fn = template_ctx_free;
}

/*
 * Walk the template sets of a checked message: a message that would take the
 * exporter past its template cap is dropped whole, so a flood of template IDs
 * cannot grow memory. Template IDs are remembered per (domain, ID).
 */
static gboolean template_cap_admit(tt_decoder *d, tt_exporter *e, const uint8_t *msg, size_t len,
                                   uint32_t domain, uint32_t *template_records)
{
    size_t off = 16;
    guint fresh = 0;

    *template_records = 0;
    while (off + 4 <= len) {
        uint16_t set_id = (uint16_t)(msg[off] << 8 | msg[off + 1]);
        uint16_t set_len = (uint16_t)(msg[off + 2] << 8 | msg[off + 3]);
        if (set_id == 2 || set_id == 3) {
            size_t p = off + 4, end = off + set_len;
            size_t hdr = set_id == 3 ? 6 : 4;
            while (p + hdr <= end) {
                uint16_t tid = (uint16_t)(msg[p] << 8 | msg[p + 1]);
                uint16_t nfields = (uint16_t)(msg[p + 2] << 8 | msg[p + 3]);
                (*template_records)++;
                if (nfields == 0) {
                    p += 4; /* a withdrawal carries no scope count */
                    continue;
                }
                gpointer key = GSIZE_TO_POINTER(((gsize)domain << 16) | tid);
                if (!g_hash_table_contains(e->tids, key)) {
                    if (g_hash_table_size(e->tids) + fresh >= d->max_templates)
                        return FALSE;
                    fresh++;
                }
                p += hdr;
                for (uint16_t f = 0; f < nfields && p + 4 <= end; f++) {
                    gboolean ent = (msg[p] & 0x80) != 0;
                    p += ent ? 8 : 4;
                }
            }
        }
        off += set_len;
    }
    /* second pass records them, now that the message is admitted */
    off = 16;
    while (fresh > 0 && off + 4 <= len) {
        uint16_t set_id = (uint16_t)(msg[off] << 8 | msg[off + 1]);
        uint16_t set_len = (uint16_t)(msg[off + 2] << 8 | msg[off + 3]);
        if (set_id == 2 || set_id == 3) {
            size_t p = off + 4, end = off + set_len;
            size_t hdr = set_id == 3 ? 6 : 4;
            while (p + hdr <= end) {
                uint16_t tid = (uint16_t)(msg[p] << 8 | msg[p + 1]);
                uint16_t nfields = (uint16_t)(msg[p + 2] << 8 | msg[p + 3]);
                if (nfields == 0) {
                    p += 4;
                    continue;
                }
                g_hash_table_add(e->tids, GSIZE_TO_POINTER(((gsize)domain << 16) | tid));
                p += hdr;
                for (uint16_t f = 0; f < nfields && p + 4 <= end; f++)
                    p += (msg[p] & 0x80) ? 8 : 4;
            }
        }
        off += set_len;
    }
    return TRUE;
}

typedef struct {
    fbSession_t *session;
    uint32_t domain;
} forget_ctx;

static gboolean template_forget_one(gpointer key, gpointer value, gpointer data)
{
    const forget_ctx *fc = data;
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
    if (tid == 2 || tid == 3) {
        g_hash_table_foreach_remove(e->tids, template_forget_one, &fc);
        return;
    }
    (void)fbSessionRemoveTemplate(e->session, FALSE, tid, NULL);
    g_hash_table_remove(e->tids, GSIZE_TO_POINTER(((gsize)domain << 16) | tid));
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
 * kept, the withdrawal counted. Returns the message's new length.
 */
static size_t template_withdraw(tt_exporter *e, uint8_t *msg, size_t len, uint32_t domain)
{
    size_t off = 16;

    while (off + 4 <= len) {
        uint16_t set_id = (uint16_t)(msg[off] << 8 | msg[off + 1]);
        size_t set_len = (size_t)(msg[off + 2] << 8 | msg[off + 3]);
        size_t p = off + 4;
        while ((set_id == 2 || set_id == 3) && p + 4 <= off + set_len) {
            uint16_t tid = (uint16_t)(msg[p] << 8 | msg[p + 1]);
            uint16_t nfields = (uint16_t)(msg[p + 2] << 8 | msg[p + 3]);
            size_t rec = 4, fixed = 0;
            gboolean varlen = FALSE;
            if (nfields > 0 && set_id == 3)
                rec = 6;
            /* tt_ipfix_check() has walked these field specifiers: they fit */
            for (uint16_t f = 0; f < nfields; f++) {
                uint16_t flen = (uint16_t)(msg[p + rec + 2] << 8 | msg[p + rec + 3]);
                if (flen == FB_IE_VARLEN)
                    varlen = TRUE;
                else
                    fixed += flen;
                rec += (msg[p + rec] & 0x80) ? 8 : 4;
            }
            if (nfields > 0 && (fixed > 0 || varlen)) {
                p += rec;
                continue;
            }
            if (nfields > 0)
                e->stats.templates_refused[TT_TREFUSE_ZERO_LENGTH]++;
            if (nfields == 0 && (e->kind == TT_LISTEN_IPFIX_UDP || e->kind == TT_LISTEN_NF9_UDP))
                e->stats.withdrawals_ignored++;
            else
                template_forget(e, domain, tid);
            memmove(msg + p, msg + p + rec, len - (p + rec));
            len -= rec;
            set_len -= rec;
            msg[off + 2] = (uint8_t)(set_len >> 8);
            msg[off + 3] = (uint8_t)set_len;
        }
        off += set_len;
    }
    msg[2] = (uint8_t)(len >> 8);
    msg[3] = (uint8_t)len;
    return len;
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
                q += (q[0] & 0x80) ? 8 : 4;
            } else {
                flen = fbTemplateGetIndexedIE(tmpl, i)->len;
            }
            if (flen == FB_IE_VARLEN) {
                if (n - off < 1)
                    return FALSE;
                flen = body[off++];
                if (flen == 255) {
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
 * libfixbuf will have read by then, else from the session. A data set whose
 * variable-length record runs past its end makes the message malformed
 * (*@a status = TT_WIRE_RECORD_OVERRUN). Returns the message's new length.
 */
static size_t data_sets_trim(tt_exporter *e, uint8_t *msg, size_t len, uint32_t domain,
                             tt_wire_status *status)
{
    /* tid -> shortest record; with variable-length fields also (bits 32..47) the offset
     * of the template's first field specifier in @msg and (bits 48..63) its field count.
     * Cutting a data set moves only bytes after it, so earlier offsets stay valid. */
    g_autoptr(GHashTable) defined = NULL;
    size_t off = 16;

    G_STATIC_ASSERT(sizeof(gsize) >= 8);
    *status = TT_WIRE_OK;

    fbSessionSetDomain(e->session, domain);
    while (off + 4 <= len) {
        uint16_t set_id = (uint16_t)(msg[off] << 8 | msg[off + 1]);
        size_t set_len = (size_t)(msg[off + 2] << 8 | msg[off + 3]);
        if (set_id == 2 || set_id == 3) {
            size_t p = off + 4;
            /* tt_ipfix_check() has walked these records; withdrawals are gone */
            while (p + 4 <= off + set_len) {
                uint16_t tid = (uint16_t)(msg[p] << 8 | msg[p + 1]);
                uint16_t nfields = (uint16_t)(msg[p + 2] << 8 | msg[p + 3]);
                size_t rec = set_id == 3 ? 6 : 4, min = 0, spec = p + rec;
                gboolean varlen = FALSE;
                if (nfields == 0)
                    break; /* only padding can look like this here */
                for (uint16_t f = 0; f < nfields; f++) {
                    uint16_t flen = (uint16_t)(msg[p + rec + 2] << 8 | msg[p + rec + 3]);
                    varlen |= flen == FB_IE_VARLEN;
                    min += flen == FB_IE_VARLEN ? 1 : flen;
                    rec += (msg[p + rec] & 0x80) ? 8 : 4;
                }
                if (defined == NULL)
                    defined = g_hash_table_new(g_direct_hash, g_direct_equal);
                gsize val = min & 0xffffffffu;
                if (varlen)
                    val |= (gsize)spec << 32 | (gsize)nfields << 48;
                g_hash_table_insert(defined, GUINT_TO_POINTER(tid), GSIZE_TO_POINTER(val));
                p += rec;
            }
        } else if (set_id >= 256) {
            gpointer v = NULL;
            size_t min = 0, spec = 0;
            uint16_t nfields = 0;
            fbTemplate_t *tmpl = NULL;
            gboolean varlen = FALSE;
            if (defined != NULL &&
                g_hash_table_lookup_extended(defined, GUINT_TO_POINTER(set_id), NULL, &v)) {
                min = GPOINTER_TO_SIZE(v) & 0xffffffffu;
                spec = (GPOINTER_TO_SIZE(v) >> 32) & 0xffffu;
                nfields = (uint16_t)(GPOINTER_TO_SIZE(v) >> 48);
                varlen = spec != 0;
            } else {
                tmpl = fbSessionGetTemplate(e->session, FALSE, set_id, NULL);
                if (tmpl != NULL) {
                    min = template_min_record(tmpl, &varlen);
                    nfields = (uint16_t)fbTemplateCountElements(tmpl);
                }
            }
            if (set_len - 4 < min) {
                memmove(msg + off, msg + off + set_len, len - (off + set_len));
                len -= set_len;
                continue;
            }
            if (varlen && !data_set_records_fit(spec != 0 ? msg + spec : NULL, nfields, tmpl,
                                                msg + off + 4, set_len - 4, min)) {
                *status = TT_WIRE_RECORD_OVERRUN;
                return len;
            }
        }
        off += set_len;
    }
    msg[2] = (uint8_t)(len >> 8);
    msg[3] = (uint8_t)len;
    return len;
}

/* ---- exporters ----------------------------------------------------------- */

static gboolean exporter_add_internal(fbSession_t *session, fbInfoModel_t *model, uint16_t tid,
                                      fbInfoElementSpec_t *spec, GError **error)
{
    fbTemplate_t *tmpl = fbTemplateAlloc(model);
    if (!fbTemplateAppendSpecArray(tmpl, spec, UINT32_MAX, error)) {
        fbTemplateFreeUnused(tmpl);
        return FALSE;
    }
    if (!fbSessionAddTemplate(session, TRUE, tid, tmpl, error)) {
        fbTemplateFreeUnused(tmpl);
        return FALSE;
    }
    return TRUE;
}

static void domain_free(gpointer p)
{
    g_free(p);
}

static tt_exporter *exporter_new(tt_decoder *d, tt_listen_kind kind, const uint8_t addr[16],
                                 uint16_t port, const char *label, int64_t now)
{
    tt_exporter *e = g_new0(tt_exporter, 1);

    e->decoder = d;
    e->kind = kind;
    memcpy(e->addr, addr, 16);
    e->port = port;
    g_strlcpy(e->label, label, sizeof e->label);
    e->session = tt_decoder_new_session(d);
    e->fbuf = fBufAllocForCollection(e->session, NULL);
    fBufSetAutomaticMode(e->fbuf, FALSE);
    e->domains = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, domain_free);
    e->tids = g_hash_table_new(g_direct_hash, g_direct_equal);
    e->stats.first_seen = now;
    e->stats.last_seen = now;
    e->stats.sampling = 1;
    e->forced_sensor = UINT32_MAX;
    return e;
}

static void exporter_free(tt_exporter *e)
{
    if (e == NULL)
        return;
    stats_add(&e->decoder->retired, &e->stats);
    fBufFree(e->fbuf); /* frees the session too */
    g_hash_table_destroy(e->domains);
    g_hash_table_destroy(e->tids);
    if (e->refusals_logged != NULL)
        g_hash_table_destroy(e->refusals_logged);
    g_free(e);
}

static void exporter_free_cb(gpointer p)
{
    exporter_free(p);
}

void tt_addr16_from_sockaddr(const struct sockaddr *sa, uint8_t addr[16], uint16_t *port)
{
    memset(addr, 0, 16);
    *port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        tt_addr_set_v4(addr, ntohl(in->sin_addr.s_addr));
        *port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(addr, &in6->sin6_addr, 16);
        *port = ntohs(in6->sin6_port);
    }
}

void tt_addr16_format(const uint8_t addr[16], char *out, size_t cap)
{
    if (tt_addr_is_v4(addr))
        inet_ntop(AF_INET, addr + 12, out, (socklen_t)cap);
    else
        inet_ntop(AF_INET6, addr, out, (socklen_t)cap);
}

/*
 * Make room for one exporter, on @a listener_id only when @a listener_only.
 * Junk goes first: among exporters that never delivered a decodable record
 * (spoofed sources, scanners poking the port) the least recently heard; only
 * when there is none, the least recently heard exporter of all.
 */
static gboolean decoder_evict_one(tt_decoder *d, gboolean listener_only, guint listener_id)
{
    GHashTableIter it;
    gpointer k, v;
    gpointer victim_key = NULL;
    gboolean victim_real = TRUE;
    int64_t oldest = INT64_MAX;

    g_hash_table_iter_init(&it, d->exporters);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const tt_exporter *e = v;
        if (listener_only && e->listener_id != listener_id)
            continue;
        gboolean real = e->stats.records > 0;
        if ((!real && victim_real) || (real == victim_real && e->stats.last_seen < oldest)) {
            oldest = e->stats.last_seen;
            victim_key = k;
            victim_real = real;
        }
    }
    if (victim_key == NULL)
        return FALSE;
    const tt_exporter *victim = g_hash_table_lookup(d->exporters, victim_key);
    if (victim->listener_id < d->sessions->len)
        g_array_index(d->sessions, guint, victim->listener_id)--;
    g_hash_table_remove(d->exporters, victim_key);
    d->evictions++;
    return TRUE;
}

tt_exporter *tt_decoder_exporter(tt_decoder *d, tt_listen_kind kind, guint listener_id,
                                 const struct sockaddr *peer, socklen_t peer_len, int64_t now)
{
    g_return_val_if_fail(d != NULL && peer != NULL, NULL);
    exporter_key key;
    memset(&key, 0, sizeof key);
    key.kind = kind;
    key.listener_id = listener_id;
    tt_addr16_from_sockaddr(peer, key.addr, &key.port);

    tt_exporter *e = g_hash_table_lookup(d->exporters, &key);
    if (e != NULL) {
        e->stats.last_seen = now;
        return e;
    }
    if (listener_id >= d->sessions->len)
        g_array_set_size(d->sessions, listener_id + 1);
    guint *sessions = &g_array_index(d->sessions, guint, listener_id);
    if (*sessions >= d->max_sessions && !decoder_evict_one(d, TRUE, listener_id))
        return NULL;
    if (g_hash_table_size(d->exporters) + d->privates->len >= d->max_exporters &&
        !decoder_evict_one(d, FALSE, 0))
        return NULL;

    char host[INET6_ADDRSTRLEN], label[96];
    tt_addr16_format(key.addr, host, sizeof host);
    g_snprintf(label, sizeof label, tt_addr_is_v4(key.addr) ? "%s:%u" : "[%s]:%u", host, key.port);
    e = exporter_new(d, kind, key.addr, key.port, label, now);
    e->listener_id = listener_id;
    g_hash_table_insert(d->exporters, g_memdup2(&key, sizeof key), e);
    (*sessions)++;
    return e;
}

gboolean tt_decoder_exporter_room(const tt_decoder *d)
{
    g_return_val_if_fail(d != NULL, FALSE);
    return g_hash_table_size(d->exporters) + d->privates->len < d->max_exporters;
}

tt_exporter *tt_decoder_exporter_private(tt_decoder *d, tt_listen_kind kind, const char *label,
                                         const uint8_t addr[16], int64_t now)
{
    g_return_val_if_fail(d != NULL && label != NULL && addr != NULL, NULL);
    tt_exporter *e = exporter_new(d, kind, addr, 0, label, now);
    e->is_private = TRUE;
    g_ptr_array_add(d->privates, e);
    return e;
}

void tt_decoder_exporter_release(tt_decoder *d, tt_exporter *e)
{
    g_return_if_fail(d != NULL);
    if (e == NULL)
        return;
    if (d->current == e)
        d->current = NULL;
    if (e->is_private)
        g_ptr_array_remove_fast(d->privates, e); /* frees through the destroy notifier */
}

/* ---- domains, sensors, sampling ------------------------------------------ */

/*
 * The domain state of @a domain, created on first use; NULL when the exporter
 * already has `max-domains` domains (its message is dropped as domain_cap).
 * Each domain costs our tt_domain and a template table inside libfixbuf's
 * session that libfixbuf never frees, so a sender cycling observation domain
 * IDs (32 bits of them) must not create one per message. Refusing the new
 * domain, not evicting an old one, keeps the domains that were there first:
 * libfixbuf has no call that drops a domain's table, so eviction would not
 * give the memory back anyway.
 */
static tt_domain *exporter_domain(tt_decoder *d, tt_exporter *e, uint32_t domain)
{
    tt_domain *dom = e->last_domain;
    if (dom == NULL || dom->domain != domain) {
        dom = g_hash_table_lookup(e->domains, GUINT_TO_POINTER(domain));
        if (dom == NULL) {
            if (g_hash_table_size(e->domains) >= d->max_domains) {
                e->stats.dropped[TT_DROP_DOMAIN_CAP]++;
                return NULL;
            }
            dom = g_new0(tt_domain, 1);
            dom->domain = domain;
            dom->sensor_gen = d->sensor_gen - 1; /* resolve on first use */
            g_hash_table_insert(e->domains, GUINT_TO_POINTER(domain), dom);
        }
        e->last_domain = dom;
    }
    if (dom->sensor_gen != d->sensor_gen) {
        if (e->forced_sensor != UINT32_MAX)
            dom->sensor = e->forced_sensor;
        else
            dom->sensor =
                d->resolver != NULL ? d->resolver(d->resolver_data, e->addr, domain) : UINT32_MAX;
        dom->sensor_gen = d->sensor_gen;
    }
    return dom;
}

/* ---- records ------------------------------------------------------------- */

/*
 * What tt_normalise() (or the v5 path's tt_normalise_times()) clamped or
 * refused: counted always, logged once per exporter. TRUE: keep the record.
 */
static gboolean record_verdict(tt_decoder *d, tt_exporter *e, tt_norm_status st,
                               const tt_norm_note *note, const tt_flow *flow)
{
    if (note->clamped) {
        e->stats.time_clamped++;
        if (!e->clamp_logged) {
            e->clamp_logged = TRUE;
            g_message("%s: records start up to %" G_GINT64_FORMAT
                      " s after their message's export time (first seen); kept, timed at "
                      "the export time and counted as time_clamped (clamp-max %" G_GINT64_FORMAT
                      " s)",
                      e->label, note->skew_ms / 1000, d->time_rules.clamp_max_ms / 1000);
        }
    }
    switch (st) {
    case TT_NORM_OK:
    case TT_NORM_CLAMPED:
        return TRUE;
    case TT_NORM_FUTURE:
        e->stats.future_records++;
        if (!e->clamp_logged) {
            e->clamp_logged = TRUE;
            g_warning("%s: a record starts %" G_GINT64_FORMAT
                      " s after its message's export time, beyond clamp-max (%" G_GINT64_FORMAT
                      " s): refused as future_records",
                      e->label, note->skew_ms / 1000, d->time_rules.clamp_max_ms / 1000);
        }
        return FALSE;
    case TT_NORM_IMPOSSIBLE:
        e->stats.time_impossible++;
        if (!e->impossible_logged) {
            e->impossible_logged = TRUE;
            g_warning("%s: a record with impossible times (start %" G_GINT64_FORMAT
                      " ms, end %" G_GINT64_FORMAT " ms) refused as time_impossible",
                      e->label, flow->start_ms, flow->end_ms);
        }
        return FALSE;
    case TT_NORM_BEYOND_9999:
        e->stats.time_impossible++;
        if (!e->impossible_logged) {
            e->impossible_logged = TRUE;
            g_warning("%s: a record whose time lies beyond the year 9999 refused as "
                      "time_impossible",
                      e->label);
        }
        return FALSE;
    case TT_NORM_VALUE_RANGE:
        e->stats.value_range++;
        return FALSE;
    case TT_NORM_ABSURD_COUNTS:
        e->stats.absurd_counts++;
        if (!e->absurd_logged) {
            e->absurd_logged = TRUE;
            g_warning("%s: a record of %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
                      " bytes refused as absurd_counts (caps 2^40 packets, 2^56 bytes)",
                      e->label, flow->raw_packets, flow->raw_bytes);
        }
        return FALSE;
    }
    return FALSE;
}

static void batch_flush(tt_decoder *d)
{
    if (d->nbatch == 0)
        return;
    d->sink(d->sink_data, d->batch_exporter, d->batch_domain->domain, d->batch, d->nbatch);
    d->nbatch = 0;
}

static tt_flow *batch_slot(tt_decoder *d, tt_exporter *e, tt_domain *dom)
{
    if (d->nbatch == FLOW_BATCH || (d->nbatch > 0 && d->batch_domain != dom))
        batch_flush(d);
    d->batch_exporter = e;
    d->batch_domain = dom;
    return &d->batch[d->nbatch];
}

/*
 * Sequence-loss estimate: positive gaps only; a reset or reordering re-syncs.
 * RFC 7011 numbers a message with the data records sent *before* it. Some
 * exporters deviate, and a false loss alarm is worse than none: softflowd 1.1
 * numbers a message with the records sent *including* its own, and some count
 * template or options records too. Each message is checked against both
 * conventions; once an exporter has shown which one it follows, gaps are
 * measured in that one.
 */
static void sequence_account(tt_exporter *e, tt_domain *dom, uint32_t seq, uint32_t records,
                             uint32_t data_records, uint32_t template_records)
{
    if (dom->seq_valid) {
        uint32_t rfc = dom->prev_seq + dom->prev_records;
        gboolean rfc_ok =
            seq == rfc || seq == rfc + dom->prev_templates || seq == dom->prev_seq + dom->prev_data;
        gboolean post_ok = seq - data_records == dom->prev_seq || seq - records == dom->prev_seq ||
                           seq - records - template_records == dom->prev_seq;
        if (rfc_ok && !post_ok)
            dom->seq_post = FALSE;
        else if (post_ok && !rfc_ok)
            dom->seq_post = TRUE;
        if (!rfc_ok && !post_ok) {
            int32_t gap = dom->seq_post ? (int32_t)(seq - data_records - dom->prev_seq)
                                        : (int32_t)(seq - rfc);
            if (gap > 0 && gap < (1 << 30))
                e->stats.seq_lost += (uint64_t)gap;
        }
    }
    dom->seq_valid = TRUE;
    dom->prev_seq = seq;
    dom->prev_records = records;
    dom->prev_data = data_records;
    dom->prev_templates = template_records;
}

/*
 * Read every record libfixbuf finds in @a fbuf (one message in manual mode).
 * Returns the number of records read (data and options), for sequence tracking.
 */
/* An exporter that matches no sensor: counted always, logged once per configuration. */
static void refuse_unknown(tt_decoder *d, tt_exporter *e, tt_domain *dom)
{
    e->stats.dropped[TT_DROP_UNKNOWN_EXPORTER]++;
    if (dom->refused_gen == d->sensor_gen)
        return;
    dom->refused_gen = d->sensor_gen;
    g_warning("%s (domain %u) matches no [sensor:*] exporters; its messages are dropped", e->label,
              dom->domain);
}

static uint32_t decoder_drain(tt_decoder *d, tt_exporter *e, tt_domain *dom, fBuf_t *fbuf,
                              int64_t export_ms, uint32_t *options_read)
{
    g_autoptr(GError) error = NULL;
    tt_raw_record rec;
    tt_raw_options opt;
    uint16_t current_tid = 0;
    uint32_t records = 0, options = 0;

    d->current = e;
    for (;;) {
        uint16_t ext_tid = 0;
        fbTemplate_t *tmpl = fBufNextCollectionTemplate(fbuf, &ext_tid, &error);
        if (tmpl == NULL)
            break;
        const tmpl_info *ti = fbTemplateGetContext(tmpl);
        /* A refused template's records are read and thrown away: libfixbuf
         * transcodes them safely, it only must not reach a tt_flow. */
        gboolean refused = ti == NULL || ti->kind == TMPL_REFUSED;
        uint16_t want = !refused && ti->kind == TMPL_OPTIONS ? TID_OPTS : TID_FLOW;
        if (want != current_tid) {
            if (!fBufSetInternalTemplate(fbuf, want, &error))
                break;
            current_tid = want;
        }
        guint gen = d->template_gen;
        /* No clearing before the read: libfixbuf's transcoder writes every
         * byte of the internal template, zeros for a field the exporter's
         * template lacks (tt_normalise relies on those zeros), so only a tail
         * it did not reach is cleared. Clearing both structs per record
         * was 4 % of the dispatch thread (docs/benchmarks.md, "Profile"). */
        size_t olen = sizeof opt, rlen = sizeof rec;
        if (want == TID_OPTS ? !fBufNext(fbuf, (uint8_t *)&opt, &olen, &error)
                             : !fBufNext(fbuf, (uint8_t *)&rec, &rlen, &error))
            break;
        if (want == TID_OPTS && olen < sizeof opt)
            memset((uint8_t *)&opt + olen, 0, sizeof opt - olen);
        else if (want == TID_FLOW && rlen < sizeof rec)
            memset((uint8_t *)&rec + rlen, 0, sizeof rec - rlen);
        records++;
        if (d->template_gen != gen) {
            /* fBufNextCollectionTemplate() may name the template of a set too
             * short for one record; fBufNext() then skips that set and reads
             * template sets beyond it, which can replace (and free) the
             * template looked at above. The record belongs to the template
             * current now; one transcoded for the other kind is unusable. */
            tmpl = fBufGetCollectionTemplate(fbuf, NULL);
            ti = tmpl != NULL ? fbTemplateGetContext(tmpl) : NULL;
            refused = ti == NULL || ti->kind == TMPL_REFUSED;
            if (want != (!refused && ti->kind == TMPL_OPTIONS ? TID_OPTS : TID_FLOW))
                continue;
        }
        if (want == TID_OPTS) {
            options++;
            e->stats.options_records++;
            tt_normalise_options(&dom->norm, &opt);
            continue;
        }
        if (refused)
            continue;
        e->stats.records++;
        if (export_ms == 0)
            export_ms = (int64_t)fBufGetExportTime(fbuf) * 1000;
        tt_flow *slot = batch_slot(d, e, dom);
        tt_norm_note note;
        tt_norm_status st =
            tt_normalise(&ti->shape, &rec, &dom->norm, &d->time_rules, export_ms, slot, &note);
        if (G_LIKELY(st == TT_NORM_OK) || record_verdict(d, e, st, &note, slot)) {
            slot->sensor = dom->sensor;
            e->stats.sampling = slot->sampling;
            d->nbatch++;
        }
    }
    if (error != NULL && !g_error_matches(error, FB_ERROR_DOMAIN, FB_ERROR_EOM) &&
        !g_error_matches(error, FB_ERROR_DOMAIN, FB_ERROR_BUFSZ)) {
        e->stats.dropped[TT_DROP_DECODE]++;
        g_debug("%s: decode: %s", e->label, error->message);
    }
    batch_flush(d);
    d->current = NULL;
    if (options_read != NULL)
        *options_read = options;
    return records;
}

/*
 * A message's export time against the host clock. Ahead by more than
 * export-ahead-max: refused whole (dropped.clock_ahead), so nothing it carries
 * can reach a sensor's clock from the future; behind is fine (replays). The
 * offset is kept per exporter and logged once (a router on local time sits
 * hours off). FALSE: drop the message.
 */
static gboolean decoder_export_time(tt_decoder *d, tt_exporter *e, int64_t export_ms)
{
    int64_t host_ms = g_get_real_time() / 1000;
    int64_t offset_s = (export_ms - host_ms) / 1000;

    e->stats.clock_offset_s = offset_s;
    e->stats.clock_offset_known = TRUE;
    if (tt_time_export_ahead(export_ms, host_ms, d->ahead_max_ms)) {
        e->stats.clock_ahead++;
        if (!e->ahead_logged) {
            e->ahead_logged = TRUE;
            g_warning("%s: export time %" G_GINT64_FORMAT " s ahead of the host clock, beyond "
                      "export-ahead-max (%" G_GINT64_FORMAT " s): message refused as "
                      "clock_ahead",
                      e->label, offset_s, d->ahead_max_ms / 1000);
        }
        return FALSE;
    }
    if (!e->offset_logged) {
        e->offset_logged = TRUE;
        g_message("%s: clock offset %+" G_GINT64_FORMAT " s (export time - host clock)", e->label,
                  offset_s);
    }
    return TRUE;
}

/* Decode a message that passed tt_ipfix_check(). */
static void decoder_run(tt_decoder *d, tt_exporter *e, uint8_t *msg, size_t len,
                        const tt_wire_info *info, int64_t v9_sys_init, gboolean v9)
{
    tt_domain *dom = exporter_domain(d, e, info->domain);

    if (dom == NULL)
        return;
    if (dom->sensor == UINT32_MAX) {
        refuse_unknown(d, e, dom);
        return;
    }
    if (!decoder_export_time(d, e, (int64_t)info->export_time * 1000))
        return;
    uint32_t template_records = 0;
    if (!template_cap_admit(d, e, msg, len, info->domain, &template_records)) {
        e->stats.dropped[TT_DROP_TEMPLATE_CAP]++;
        e->stats.templates_refused[TT_TREFUSE_CAP]++;
        return;
    }
    dom->norm.uptime_ref = v9;
    if (v9) {
        dom->norm.sys_init_ms = v9_sys_init;
        dom->norm.ref_ms = (int64_t)info->export_time * 1000;
        dom->norm.ref_uptime_ms = info->sys_uptime_ms;
    }
    len = template_withdraw(e, msg, len, info->domain);
    tt_wire_status st;
    len = data_sets_trim(e, msg, len, info->domain, &st);
    if (st != TT_WIRE_OK) {
        /* malformed after all: dropped whole and not counted as a message, as the
         * wire walk's verdicts are (a withdrawal in it has taken effect) */
        e->stats.dropped[TT_DROP_WIRE]++;
        e->stats.wire_reasons[st]++;
        return;
    }
    e->stats.messages++;
    fBufSetBuffer(e->fbuf, msg, len);
    /* Start the message here: fBufNextMessage() rewinds the buffer first, which
     * libfixbuf does by itself only at the end of a message. Without it, a
     * message that failed halfway (a varlen value libfixbuf cannot transcode)
     * leaves its read state behind and every later message of the exporter
     * fails too. */
    g_autoptr(GError) error = NULL;
    if (!fBufNextMessage(e->fbuf, &error)) {
        e->stats.dropped[TT_DROP_DECODE]++;
        g_debug("%s: decode: %s", e->label, error->message);
        return;
    }
    uint32_t options = 0;
    uint32_t records =
        decoder_drain(d, e, dom, e->fbuf, (int64_t)info->export_time * 1000, &options);
    if (v9)
        sequence_account(e, dom, info->sequence, 1, 1, 0); /* v9 counts packets */
    else
        sequence_account(e, dom, info->sequence, records, records - options, template_records);
}

void tt_decoder_fbuf(tt_decoder *d, tt_exporter *e, void *fbuf_)
{
    g_return_if_fail(d != NULL && e != NULL && fbuf_ != NULL);
    fBuf_t *fbuf = fbuf_;
    /* libfixbuf's own listener (sFlow): the domain is known only once a message was read */
    tt_domain *dom = exporter_domain(d, e, 0); /* the first domain: never over the cap */
    if (dom->sensor == UINT32_MAX)
        refuse_unknown(d, e, dom); /* the message is still consumed below */
    else
        e->stats.messages++;
    uint32_t sensor = dom->sensor;
    if (sensor == UINT32_MAX) {
        g_autoptr(GError) error = NULL;
        uint8_t scratch[sizeof(tt_raw_record)];
        size_t rlen = sizeof scratch;
        d->current = e;
        if (fBufSetInternalTemplate(fbuf, TID_FLOW, &error))
            while (fBufNext(fbuf, scratch, &rlen, &error))
                rlen = sizeof scratch;
        d->current = NULL;
        return;
    }
    decoder_drain(d, e, dom, fbuf, 0, NULL);
}

void tt_decoder_ipfix(tt_decoder *d, tt_exporter *e, uint8_t *msg, size_t len)
{
    g_return_if_fail(d != NULL && e != NULL && msg != NULL);
    tt_wire_info info;
    tt_wire_status st = tt_ipfix_check(msg, len, &info);
    if (st != TT_WIRE_OK) {
        e->stats.dropped[TT_DROP_WIRE]++;
        e->stats.wire_reasons[st]++;
        return;
    }
    decoder_run(d, e, msg, len, &info, 0, FALSE);
}

void tt_decoder_v9(tt_decoder *d, tt_exporter *e, const uint8_t *msg, size_t len)
{
    g_return_if_fail(d != NULL && e != NULL && msg != NULL);
    uint8_t *out = d->v9buf;
    size_t outlen = 0;
    tt_wire_info v9info, check;
    tt_wire_status st = tt_v9_to_ipfix(msg, len, out, V9BUF_SIZE, &outlen, &v9info);
    if (st == TT_WIRE_OK)
        st = tt_ipfix_check(out, outlen, &check);
    if (st != TT_WIRE_OK) {
        e->stats.dropped[TT_DROP_WIRE]++;
        e->stats.wire_reasons[st]++;
        return;
    }
    int64_t sys_init = (int64_t)v9info.export_time * 1000 - (int64_t)v9info.sys_uptime_ms;
    decoder_run(d, e, out, outlen, &v9info, sys_init, TRUE);
}

void tt_decoder_v5(tt_decoder *d, tt_exporter *e, const uint8_t *msg, size_t len)
{
    g_return_if_fail(d != NULL && e != NULL && msg != NULL);
    tt_v5_header hdr;
    size_t n = 0;
    tt_flow flows[30];
    tt_v5_status st = tt_v5_decode(msg, len, &hdr, flows, G_N_ELEMENTS(flows), &n);
    if (st != TT_V5_OK) {
        e->stats.dropped[TT_DROP_V5]++;
        return;
    }
    uint32_t domain = (uint32_t)hdr.engine_type << 8 | hdr.engine_id;
    tt_domain *dom = exporter_domain(d, e, domain);
    if (dom == NULL)
        return;
    if (dom->sensor == UINT32_MAX) {
        refuse_unknown(d, e, dom);
        return;
    }
    int64_t export_ms = (int64_t)hdr.unix_secs * 1000 + (int64_t)(hdr.unix_nsecs / 1000000u);
    if (!decoder_export_time(d, e, export_ms))
        return;
    e->stats.messages++;
    e->stats.records += n;
    sequence_account(e, dom, hdr.flow_sequence, hdr.count, hdr.count, 0);
    uint32_t rate = hdr.sampling_interval > 1 ? hdr.sampling_interval : 1;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        /* as in tt_normalise(): a record stamped after its own message is clamped or
         * refused (softflowd -r without -a sends such uptimes) */
        tt_norm_note note = {0, FALSE};
        tt_norm_status nst = tt_normalise_times(&d->time_rules, export_ms, &flows[i].start_ms,
                                                &flows[i].end_ms, &note.skew_ms);
        note.clamped = nst == TT_NORM_CLAMPED;
        if (nst != TT_NORM_OK && !record_verdict(d, e, nst, &note, &flows[i]))
            continue;
        flows[kept] = flows[i];
        flows[kept].sampling = rate;
        flows[kept].sensor = dom->sensor;
        kept++;
    }
    e->stats.sampling = rate;
    if (kept > 0)
        d->sink(d->sink_data, e, domain, flows, kept);
}

/* ---- decoder ------------------------------------------------------------- */

/* libfixbuf reports data sets without a template through a GLib warning only. */
static void decoder_log_filter(const gchar *domain, GLogLevelFlags level, const gchar *message,
                               gpointer data)
{
    tt_decoder *d = data;
    if (d->current != NULL && strstr(message, "Missing external template") != NULL) {
        d->current->stats.unknown_template_sets++;
        return;
    }
    /* we count these ourselves; the v9 rewrite carries packet, not record, sequence numbers */
    if (strstr(message, "Template warning") != NULL || strstr(message, "sequence number") != NULL ||
        strstr(message, "out of sequence") != NULL || strstr(message, "Illegal length") != NULL)
        return;
    g_log_default_handler(domain, level, message, NULL);
}

void tt_decoder_apply_config(tt_decoder *d, const tt_config *config)
{
    g_return_if_fail(d != NULL && config != NULL);
    /* caps bound what is created from now on: lowering one evicts nothing */
    d->max_templates = config->max_templates;
    d->max_exporters = config->max_exporters;
    d->max_sessions = config->max_sessions;
    d->max_domains = config->max_domains;
    d->tolerance_ms = config->export_time_tolerance * 1000;
    d->time_rules.tolerance_ms = d->tolerance_ms;
    d->time_rules.clamp_max_ms = config->clamp_max * 1000;
    d->ahead_max_ms = config->export_ahead_max * 1000;
}

tt_decoder *tt_decoder_new(const tt_config *config, tt_flow_sink sink, void *sink_data,
                           GError **error)
{
    g_return_val_if_fail(config != NULL && sink != NULL, NULL);
    tt_decoder *d = g_new0(tt_decoder, 1);

    d->model = fbInfoModelAlloc();
    d->sink = sink;
    d->sink_data = sink_data;
    d->sensor_gen = 1;
    d->sessions = g_array_new(FALSE, TRUE, sizeof(guint));
    tt_decoder_apply_config(d, config);
    d->exporters =
        g_hash_table_new_full(exporter_key_hash, exporter_key_equal, g_free, exporter_free_cb);
    d->privates = g_ptr_array_new_with_free_func(exporter_free_cb);
    g_log_set_handler(NULL, G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, decoder_log_filter, d);
    return d;
}

void tt_decoder_free(tt_decoder *d)
{
    if (d == NULL)
        return;
    g_log_set_handler(NULL, G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, g_log_default_handler, NULL);
    g_hash_table_destroy(d->exporters);
    g_ptr_array_free(d->privates, TRUE);
    g_array_free(d->sessions, TRUE);
    fbInfoModelFree(d->model);
    g_free(d);
}

void tt_decoder_invalidate_sensors(tt_decoder *d)
{
    g_return_if_fail(d != NULL);
    d->sensor_gen++;
}

void tt_decoder_set_resolver(tt_decoder *d, tt_sensor_resolver resolver, void *data)
{
    g_return_if_fail(d != NULL);
    d->resolver = resolver;
    d->resolver_data = data;
    d->sensor_gen++;
}

void tt_exporter_force_sensor(tt_exporter *e, uint32_t sensor)
{
    g_return_if_fail(e != NULL);
    e->forced_sensor = sensor;
    e->last_domain = NULL;
    g_hash_table_remove_all(e->domains);
}

void *tt_decoder_new_session(tt_decoder *d)
{
    g_return_val_if_fail(d != NULL, NULL);
    g_autoptr(GError) error = NULL;
    fbSession_t *session = fbSessionAlloc(d->model);
    fbSessionAddNewTemplateCallback(session, decoder_new_template, d);
    if (!exporter_add_internal(session, d->model, TID_FLOW, flow_spec, &error) ||
        !exporter_add_internal(session, d->model, TID_OPTS, opts_spec, &error))
        g_critical("internal template: %s", error->message);
    return session;
}

void *tt_decoder_info_model(tt_decoder *d)
{
    return d->model;
}

const tt_exporter_stats *tt_exporter_get_stats(const tt_exporter *e)
{
    return &e->stats;
}

const char *tt_exporter_label(const tt_exporter *e)
{
    return e->label;
}

tt_listen_kind tt_exporter_kind(const tt_exporter *e)
{
    return e->kind;
}

const uint8_t *tt_exporter_addr(const tt_exporter *e)
{
    return e->addr;
}

guint tt_exporter_template_count(const tt_exporter *e)
{
    return g_hash_table_size(e->tids);
}

guint tt_exporter_domain_count(const tt_exporter *e)
{
    return g_hash_table_size(e->domains);
}

void tt_decoder_foreach_exporter(tt_decoder *d, void (*fn)(const tt_exporter *, void *), void *data)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, d->exporters);
    while (g_hash_table_iter_next(&it, NULL, &v))
        fn(v, data);
    for (guint i = 0; i < d->privates->len; i++)
        fn(g_ptr_array_index(d->privates, i), data);
}

const tt_exporter_stats *tt_decoder_retired_stats(const tt_decoder *d)
{
    return &d->retired;
}

guint tt_decoder_exporter_count(const tt_decoder *d)
{
    return g_hash_table_size(d->exporters) + d->privates->len;
}

uint64_t tt_decoder_evictions(const tt_decoder *d)
{
    return d->evictions;
}
