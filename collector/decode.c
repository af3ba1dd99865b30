/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decode.c - from IPFIX messages to tt_flow, through libfixbuf's buffer mode.
 *
 * Every message (a UDP datagram read by our own socket, a framed TCP or file
 * message, or a NetFlow v9 datagram rewritten to IPFIX by wire.c) is first
 * walked by tt_ipfix_check(); a message in which anything overruns is dropped
 * whole. A message of data sets only, each of a fixed-length flow template,
 * takes the fast path: each template was compiled once, when libfixbuf
 * learnt it (fastdecode.c), into the offset, length and destination of each
 * field we read, and its records are read straight from the message into the
 * same tt_raw_record libfixbuf's transcoder fills (every counter and
 * identifier in 64 bits whatever its wire length, byte order fixed, fields
 * the template lacks zero). Every other message is libfixbuf's, as before:
 * rewrite.c admits it under the template cap and cuts out what libfixbuf 2.4
 * would misread (withdrawals, 0-byte templates, data sets shorter than a
 * record); the exporter's session reads template sets (a new-template
 * callback inspects each once and refuses it, so that its records are read
 * past, when a field we read has a length we cannot trust) and transcodes
 * options records, records of variable-length templates and everything of a
 * message that also carries templates. Either way tt_normalise()
 * (normalise.c) turns the record into a tt_flow: UTC milliseconds from
 * whichever time fields the exporter sent, checked and clamped against the
 * message by timepolicy.c, values checked against their types, IPv4-mapped
 * addresses, ICMP type/code in the destination port. Flows go to the sink in
 * batches. The exporters themselves, their domains, sequence tracking and
 * counters are exporters.c's; this file is the libfixbuf glue (sessions, the
 * template callback, the read loop), the fast path's message loop and the
 * entry points.
 *
 * Rejected: libfixbuf's own UDP listener (no control of the receive buffer, no
 * chance to validate a datagram before it is decoded, sessions we cannot cap)
 * and its NetFlow v9 translator (it only runs inside that listener's read
 * path). Hand-decoding was once rejected here too (libfixbuf's transcoder is
 * well tested and handles reduced-size encoding and every data type); the
 * measurement overturned it: libfixbuf's transcoder copied or zero-filled all
 * 39 fields of our internal template for every record, 39 % of the dispatch
 * thread under load, and `bench/micro/run --records 20000` counted ~4,250
 * instructions per record in decode's own work (without the sink). With the
 * fast path it is ~500 (docs/benchmarks.md, "Decode fast path"). Exactness is
 * kept by test, not by trust: test_fastdecode and fuzz_fastdecode decode
 * every capture, the fuzz corpora and arbitrary input both ways and compare
 * every flow and counter; libfixbuf keeps everything the fast path does not
 * take. One of its quirks is corrected on both paths: a 1-byte type
 * (protocolIdentifier, ipVersion, the ICMP type and code, samplerId) has no
 * endian flag in its info model, so sent widened (00 06 for TCP, Cisco's
 * 4-byte samplerId) it was copied unswapped (protocol 1536, refused as
 * value_range). The template callback notes such fields (tt_tmpl_info.widen),
 * decoder_drain() turns libfixbuf's copy into the big-endian integer it is
 * (tt_tmpl_widen, only for those templates), and the fast path reads them as
 * integers of their wire length like every other (RFC 7011 6.2).
 */
#include "decode.h"

#include <fixbuf/public.h>
#include <string.h>

#include "fastdecode.h"
#include "normalise.h"
#include "rewrite.h"
#include "sensor.h"
#include "timepolicy.h"
#include "v5.h"

/* IDs of our two internal templates (flow_spec, opts_spec) in every session: libfixbuf
 * keeps internal and external templates apart, so an exporter's IDs never collide. */
#define TID_FLOW 0xF001
#define TID_OPTS 0xF002
/* Flows handed to the sink per call (one tt_flow batch; a domain change flushes early). */
#define FLOW_BATCH 512
/* The IPFIX rewrite of one NetFlow v9 datagram: never more than 65535 bytes (wire.h), plus
 * slack so that a rewrite which would overflow is refused by wire.c, not cut short. */
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

struct tt_decoder {
    fbInfoModel_t *model;
    tt_flow_sink sink;
    void *sink_data;
    tt_exporter_table table; /* every exporter, their domains and the caps on them */
    uint32_t max_templates;
    tt_time_rules time_rules; /* export-time-tolerance, clamp-max */
    int64_t ahead_max_ms;     /* export-ahead-max */
    guint template_gen;       /* bumped by every template libfixbuf reads (decoder_drain) */
    /* the message being decoded, for the template callback */
    tt_exporter *current;
    tt_flow batch[FLOW_BATCH];
    size_t nbatch;
    tt_domain *batch_domain;
    tt_exporter *batch_exporter;
    gboolean fast_off;      /* tt_decoder_set_fast(FALSE): libfixbuf reads every record */
    uint64_t fast_records;  /* records the fast path read (tests) */
    tt_raw_record fast_rec; /* the fast path's record, cleared when its template changes */
    uint64_t fast_rec_id;   /* the tt_fast_prog whose fields it holds (0: none) */
    uint8_t v9buf[V9BUF_SIZE];
};

/* ---- templates ----------------------------------------------------------- */

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
    char field[64];
    tt_template_refusal_field(tmpl, field, sizeof field);
    g_warning("%s (domain %u): template %u refused (%s%s); its records are skipped", e->label,
              domain, tid, tt_template_refusal_key(why), field);
}

static void template_ctx_free(void *tmpl_ctx, void *app_ctx)
{
    (void)app_ctx;
    tt_tmpl_info_free(tmpl_ctx);
}

static void decoder_new_template(fbSession_t *session, uint16_t tid, fbTemplate_t *tmpl,
                                 void *app_ctx, void **tmpl_ctx, fbTemplateCtxFree_fn *free_fn)
{
    tt_decoder *d = app_ctx;
    tt_exporter *e = d->current;
    tt_template_refusal why = TT_TREFUSE_COUNT;
    tt_tmpl_info *ti = tt_template_inspect(tmpl, &why);

    d->template_gen++;
    if (ti->kind == TT_TMPL_REFUSED) {
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

/* The table's hooks: each exporter owns one libfixbuf session, in buffer mode. */
static void decoder_attach(void *data, tt_exporter *e)
{
    e->session = tt_decoder_new_session(data);
    e->fbuf = fBufAllocForCollection(e->session, NULL);
    fBufSetAutomaticMode(e->fbuf, FALSE);
}

static void decoder_detach(void *data, tt_exporter *e)
{
    (void)data;
    fBufFree(e->fbuf); /* frees the session too */
}

tt_exporter *tt_decoder_exporter(tt_decoder *d, tt_listen_kind kind, guint listener_id,
                                 const struct sockaddr *peer, socklen_t peer_len, int64_t now)
{
    g_return_val_if_fail(d != NULL && peer != NULL, NULL);
    (void)peer_len; /* the family says how long it is */
    return tt_exporters_shared(&d->table, kind, listener_id, peer, now);
}

gboolean tt_decoder_exporter_room(const tt_decoder *d)
{
    g_return_val_if_fail(d != NULL, FALSE);
    return tt_exporters_room(&d->table);
}

tt_exporter *tt_decoder_exporter_private(tt_decoder *d, tt_listen_kind kind, const char *label,
                                         const uint8_t addr[16], int64_t now)
{
    g_return_val_if_fail(d != NULL && label != NULL && addr != NULL, NULL);
    return tt_exporters_private(&d->table, kind, label, addr, now);
}

void tt_decoder_exporter_release(tt_decoder *d, tt_exporter *e)
{
    g_return_if_fail(d != NULL);
    if (e == NULL)
        return;
    if (d->current == e)
        d->current = NULL;
    tt_exporters_release(&d->table, e);
}

/* ---- records ------------------------------------------------------------- */

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
 * Read every record libfixbuf finds in @a fbuf (one message in manual mode).
 * Returns the number of records read (data and options), for sequence tracking.
 */
/* An exporter that matches no sensor: counted always, logged once per configuration. */
static void refuse_unknown(tt_decoder *d, tt_exporter *e, tt_domain *dom)
{
    e->stats.dropped[TT_DROP_UNKNOWN_EXPORTER]++;
    if (dom->refused_gen == d->table.sensor_gen)
        return;
    dom->refused_gen = d->table.sensor_gen;
    g_warning("%s (domain %u) matches no [sensor:*] exporters; its messages are dropped", e->label,
              dom->domain);
}

/* One data record of a flow template, from either path, to the batch (or to its verdict). */
static inline void decoder_emit(tt_decoder *d, tt_exporter *e, tt_domain *dom,
                                const tt_raw_shape *shape, const tt_raw_record *rec,
                                int64_t export_ms)
{
    e->stats.records++;
    tt_flow *slot = batch_slot(d, e, dom);
    tt_norm_note note;
    tt_norm_status st =
        tt_normalise(shape, rec, &dom->norm, &d->time_rules, export_ms, slot, &note);
    if (G_LIKELY(st == TT_NORM_OK) ||
        tt_exporter_verdict(e, d->time_rules.clamp_max_ms, st, &note, slot)) {
        slot->sensor = dom->sensor;
        e->stats.sampling = slot->sampling;
        d->nbatch++;
    }
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
        const tt_tmpl_info *ti = fbTemplateGetContext(tmpl);
        /* A refused template's records are read and thrown away: libfixbuf
         * transcodes them safely, it only must not reach a tt_flow. */
        gboolean refused = ti == NULL || ti->kind == TT_TMPL_REFUSED;
        uint16_t want = !refused && ti->kind == TT_TMPL_OPTIONS ? TID_OPTS : TID_FLOW;
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
        /* cppcheck-suppress knownConditionTrueFalse ; fBufNext() runs the template callback */
        if (d->template_gen != gen) {
            /* fBufNextCollectionTemplate() may name the template of a set too
             * short for one record; fBufNext() then skips that set and reads
             * template sets beyond it, which can replace (and free) the
             * template looked at above. The record belongs to the template
             * current now; one transcoded for the other kind is unusable. */
            tmpl = fBufGetCollectionTemplate(fbuf, NULL);
            ti = tmpl != NULL ? fbTemplateGetContext(tmpl) : NULL;
            refused = ti == NULL || ti->kind == TT_TMPL_REFUSED;
            if (want != (!refused && ti->kind == TT_TMPL_OPTIONS ? TID_OPTS : TID_FLOW))
                continue;
        }
        if (want == TID_OPTS) {
            options++;
            e->stats.options_records++;
            if (G_UNLIKELY(ti->nwiden != 0))
                tt_tmpl_widen(ti, &opt);
            tt_normalise_options(&dom->norm, &opt);
            continue;
        }
        if (refused)
            continue;
        if (G_UNLIKELY(ti->nwiden != 0)) /* 1-byte types sent widened (fastdecode.h) */
            tt_tmpl_widen(ti, &rec);
        if (export_ms == 0)
            export_ms = (int64_t)fBufGetExportTime(fbuf) * 1000;
        decoder_emit(d, e, dom, &ti->shape, &rec, export_ms);
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
 * The fast path: a message whose every set is a data set of a template with a
 * compiled reader (fastdecode.h) is read here, record by record, straight from
 * @a msg; libfixbuf does not see it. Anything else (a template set, an options,
 * refused, variable-length or unknown template) leaves the whole message to
 * libfixbuf, so that templates and options records still take effect in message
 * order. Such a message has nothing for rewrite.c to cut (no templates; a data
 * set shorter than a record simply has none), so it skips those passes too.
 * Bytes past the last whole record of a set are padding, as libfixbuf reads them.
 */
#define FAST_MAX_SETS 64
typedef struct {
    size_t n;
    const tt_tmpl_info *tis[FAST_MAX_SETS];
    tt_wire_set sets[FAST_MAX_SETS];
} fast_plan;

static gboolean decoder_fast_plan(tt_decoder *d, tt_exporter *e, const uint8_t *msg, size_t len,
                                  uint32_t domain, fast_plan *plan)
{
    tt_wire_sets it;
    tt_wire_status st;

    if (d->fast_off)
        return FALSE;
    plan->n = 0;
    fbSessionSetDomain(e->session, domain);
    tt_wire_sets_init(&it, msg, len);
    while (tt_wire_sets_next(&it, &st)) {
        if (it.set.id < TT_IPFIX_SET_DATA_MIN || plan->n == FAST_MAX_SETS)
            return FALSE;
        fbTemplate_t *tmpl = fbSessionGetTemplate(e->session, FALSE, it.set.id, NULL);
        const tt_tmpl_info *ti = tmpl != NULL ? fbTemplateGetContext(tmpl) : NULL;
        if (ti == NULL || ti->prog == NULL || ti->kind != TT_TMPL_FLOW)
            return FALSE;
        plan->tis[plan->n] = ti;
        plan->sets[plan->n++] = it.set;
    }
    return TRUE;
}

static uint32_t decoder_fast_read(tt_decoder *d, tt_exporter *e, tt_domain *dom, const uint8_t *msg,
                                  const fast_plan *plan, int64_t export_ms)
{
    uint32_t records = 0;
    for (size_t i = 0; i < plan->n; i++) {
        const tt_tmpl_info *ti = plan->tis[i];
        const tt_fast_prog *prog = ti->prog;
        const uint8_t *p = msg + plan->sets[i].off + TT_IPFIX_SET_HDR_LEN;
        size_t left = plan->sets[i].len - TT_IPFIX_SET_HDR_LEN;
        if (d->fast_rec_id != prog->id) { /* zeros for the fields the template lacks */
            memset(&d->fast_rec, 0, sizeof d->fast_rec);
            d->fast_rec_id = prog->id;
        }
        for (; left >= prog->reclen; p += prog->reclen, left -= prog->reclen) {
            tt_fast_read(prog, p, &d->fast_rec);
            records++;
            decoder_emit(d, e, dom, &ti->shape, &d->fast_rec, export_ms);
        }
    }
    batch_flush(d);
    d->fast_records += records;
    return records;
}

void tt_decoder_set_fast(tt_decoder *d, gboolean on)
{
    g_return_if_fail(d != NULL);
    d->fast_off = !on;
}

uint64_t tt_decoder_fast_records(const tt_decoder *d)
{
    g_return_val_if_fail(d != NULL, 0);
    return d->fast_records;
}

/* libfixbuf reads the message. FALSE (counted) when it refuses it at once. */
static gboolean decoder_fixbuf(tt_decoder *d, tt_exporter *e, tt_domain *dom, uint8_t *msg,
                               size_t len, int64_t export_ms, uint32_t *records, uint32_t *options)
{
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
        return FALSE;
    }
    *records = decoder_drain(d, e, dom, e->fbuf, export_ms, options);
    return TRUE;
}

/* Decode a message that passed tt_ipfix_check(). */
static void decoder_run(tt_decoder *d, tt_exporter *e, uint8_t *msg, size_t len,
                        const tt_wire_info *info, int64_t v9_sys_init, gboolean v9)
{
    tt_domain *dom = tt_exporter_domain(e, info->domain);

    if (dom == NULL)
        return;
    if (dom->sensor == TT_SENSOR_NONE) {
        refuse_unknown(d, e, dom);
        return;
    }
    if (!tt_exporter_export_time(e, d->ahead_max_ms, (int64_t)info->export_time * 1000))
        return;
    dom->norm.uptime_ref = v9;
    if (v9) {
        dom->norm.sys_init_ms = v9_sys_init;
        dom->norm.ref_ms = (int64_t)info->export_time * 1000;
        dom->norm.ref_uptime_ms = info->sys_uptime_ms;
    }
    int64_t export_ms = (int64_t)info->export_time * 1000;
    uint32_t records = 0, options = 0;
    fast_plan plan;
    if (info->template_sets == 0 && decoder_fast_plan(d, e, msg, len, info->domain, &plan)) {
        e->stats.messages++;
        records = decoder_fast_read(d, e, dom, msg, &plan, export_ms);
        tt_exporter_sequence(e, dom, info->sequence, v9 ? 1 : records, v9 ? 1 : records, 0);
        return;
    }
    uint32_t template_records = 0;
    if (!tt_rewrite_template_cap(e, d->max_templates, msg, len, info->domain, &template_records)) {
        e->stats.dropped[TT_DROP_TEMPLATE_CAP]++;
        e->stats.templates_refused[TT_TREFUSE_CAP]++;
        return;
    }
    len = tt_rewrite_withdrawals(e, msg, len, info->domain);
    tt_wire_status st;
    len = tt_rewrite_data_sets(e, msg, len, info->domain, &st);
    if (st != TT_WIRE_OK) {
        /* malformed after all: dropped whole and not counted as a message, as the
         * wire walk's verdicts are (a withdrawal in it has taken effect) */
        e->stats.dropped[TT_DROP_WIRE]++;
        e->stats.wire_reasons[st]++;
        return;
    }
    e->stats.messages++;
    if (!decoder_fixbuf(d, e, dom, msg, len, export_ms, &records, &options))
        return;
    if (v9)
        tt_exporter_sequence(e, dom, info->sequence, 1, 1, 0); /* v9 counts packets */
    else
        tt_exporter_sequence(e, dom, info->sequence, records, records - options, template_records);
}

void tt_decoder_fbuf(tt_decoder *d, tt_exporter *e, void *fbuf_)
{
    g_return_if_fail(d != NULL && e != NULL && fbuf_ != NULL);
    fBuf_t *fbuf = fbuf_;
    /* libfixbuf's own listener (sFlow): the domain is known only once a message was read */
    tt_domain *dom = tt_exporter_domain(e, 0); /* the first domain: never over the cap */
    if (dom->sensor == TT_SENSOR_NONE)
        refuse_unknown(d, e, dom); /* the message is still consumed below */
    else
        e->stats.messages++;
    uint32_t sensor = dom->sensor;
    if (sensor == TT_SENSOR_NONE) {
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
    tt_flow flows[TT_V5_MAX_RECORDS];
    tt_v5_status st = tt_v5_decode(msg, len, &hdr, flows, G_N_ELEMENTS(flows), &n);
    if (st != TT_V5_OK) {
        e->stats.dropped[TT_DROP_V5]++;
        return;
    }
    uint32_t domain = (uint32_t)hdr.engine_type << 8 | hdr.engine_id;
    tt_domain *dom = tt_exporter_domain(e, domain);
    if (dom == NULL)
        return;
    if (dom->sensor == TT_SENSOR_NONE) {
        refuse_unknown(d, e, dom);
        return;
    }
    int64_t export_ms = (int64_t)hdr.unix_secs * 1000 + (int64_t)(hdr.unix_nsecs / 1000000u);
    if (!tt_exporter_export_time(e, d->ahead_max_ms, export_ms))
        return;
    e->stats.messages++;
    e->stats.records += n;
    tt_exporter_sequence(e, dom, hdr.flow_sequence, hdr.count, hdr.count, 0);
    uint32_t rate = hdr.sampling_interval > 1 ? hdr.sampling_interval : 1;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        /* as in tt_normalise(): a record stamped after its own message is clamped or
         * refused (softflowd -r without -a sends such uptimes) */
        tt_norm_note note = {0, FALSE};
        tt_norm_status nst = tt_normalise_times(&d->time_rules, export_ms, &flows[i].start_ms,
                                                &flows[i].end_ms, &note.skew_ms);
        note.clamped = nst == TT_NORM_CLAMPED;
        if (nst != TT_NORM_OK &&
            !tt_exporter_verdict(e, d->time_rules.clamp_max_ms, nst, &note, &flows[i]))
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
    d->table.max_exporters = config->max_exporters;
    d->table.max_sessions = config->max_sessions;
    d->table.max_domains = config->max_domains;
    d->time_rules.tolerance_ms = config->export_time_tolerance * 1000;
    d->time_rules.clamp_max_ms = config->clamp_max * 1000;
    d->ahead_max_ms = config->export_ahead_max * 1000;
}

tt_decoder *tt_decoder_new(const tt_config *config, tt_flow_sink sink, void *sink_data,
                           GError **error)
{
    g_return_val_if_fail(config != NULL && sink != NULL, NULL);
    (void)error; /* nothing can fail yet: the internal templates are checked per session */
    tt_decoder *d = g_new0(tt_decoder, 1);

    d->model = fbInfoModelAlloc();
    d->sink = sink;
    d->sink_data = sink_data;
    tt_exporters_init(&d->table, decoder_attach, decoder_detach, d);
    tt_decoder_apply_config(d, config);
    g_log_set_handler(NULL, G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, decoder_log_filter, d);
    return d;
}

void tt_decoder_free(tt_decoder *d)
{
    if (d == NULL)
        return;
    g_log_set_handler(NULL, G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, g_log_default_handler, NULL);
    tt_exporters_clear(&d->table);
    fbInfoModelFree(d->model);
    g_free(d);
}

void tt_decoder_invalidate_sensors(tt_decoder *d)
{
    g_return_if_fail(d != NULL);
    d->table.sensor_gen++;
}

void tt_decoder_set_resolver(tt_decoder *d, tt_sensor_resolver resolver, void *data)
{
    g_return_if_fail(d != NULL);
    d->table.resolver = resolver;
    d->table.resolver_data = data;
    d->table.sensor_gen++;
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

void tt_decoder_foreach_exporter(tt_decoder *d, void (*fn)(const tt_exporter *, void *), void *data)
{
    tt_exporters_foreach(&d->table, fn, data);
}

const tt_exporter_stats *tt_decoder_retired_stats(const tt_decoder *d)
{
    return &d->table.retired;
}

const tt_exporter_stats *tt_decoder_retired_sensor_stats(const tt_decoder *d, uint32_t sensor)
{
    return tt_exporters_retired_for(&d->table, sensor);
}

guint tt_decoder_exporter_count(const tt_decoder *d)
{
    return tt_exporters_count(&d->table);
}

uint64_t tt_decoder_evictions(const tt_decoder *d)
{
    return d->table.evictions;
}
