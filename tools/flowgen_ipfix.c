/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen_ipfix.c - IPFIX export of the scenario through libfixbuf.
 *
 * libfixbuf encodes everything: templates, options records, data records and
 * sequence numbers. Its buffer exporter (fbExporterAllocBuffer) hands us each
 * finished message and flowgen_net.c sends it, because libfixbuf 2.4 cannot
 * bind its own exporter socket. The buffer runs in manual mode so that we cut
 * messages ourselves: each one carries records of one emission second and is
 * stamped (fBufSetExportTime) with the stream's clock, never the host's.
 *
 * One internal record carries every field any variant needs (both address
 * families, the three pairs of time fields); the external templates (256 for
 * IPv4, 257 for IPv6) pick theirs through spec flags and libfixbuf transcodes.
 * Options: 258 announces sampling (observationDomainId scope,
 * samplingPacketInterval 1, samplingPacketSpace N-1), 259 carries
 * systemInitTimeMilliseconds for the SysUpTime time fields, as softflowd does.
 * Templates, then options records, go in messages of their own (libfixbuf
 * forces a message boundary between template and data sets), first and over
 * UDP again every 1000 messages. Rejected: one template per family and time
 * variant (six structs), and letting libfixbuf cut messages (automatic mode
 * stamps a message before we know which records it will hold).
 */
#include "flowgen.h"

#include <fixbuf/public.h>
#include <string.h>

#define FLOWGEN_TID_V4 256
#define FLOWGEN_TID_V6 257
#define FLOWGEN_TID_SAMPLING 258
#define FLOWGEN_TID_SYSINIT 259
#define FLOWGEN_TID_SYSINIT_INT 260

#define FLOWGEN_F_V4 0x01
#define FLOWGEN_F_V6 0x02
#define FLOWGEN_F_MS 0x04
#define FLOWGEN_F_SEC 0x08
#define FLOWGEN_F_UP 0x10
#define FLOWGEN_F_NEVER 0x80

#define FLOWGEN_IPFIX_HEADER 16
#define FLOWGEN_IPFIX_SET_HEADER 4
#define FLOWGEN_TEMPLATE_EVERY 1000

typedef struct flowgen_ipfix_rec {
    uint64_t start_ms;
    uint64_t end_ms;
    uint64_t packets;
    uint64_t octets;
    uint8_t src6[16];
    uint8_t dst6[16];
    uint32_t start_s;
    uint32_t end_s;
    uint32_t start_up;
    uint32_t end_up;
    uint32_t src4;
    uint32_t dst4;
    uint16_t sport;
    uint16_t dport;
    uint16_t icmp4;
    uint16_t icmp6;
    uint16_t tcp_flags;
    uint8_t proto;
    uint8_t pad[5];
} flowgen_ipfix_rec;
G_STATIC_ASSERT(sizeof(flowgen_ipfix_rec) == 104);

/* In flowgen_ipfix_rec order; paddingOctets keeps it out of every external template. */
static fbInfoElementSpec_t flowgen_flow_spec[] = {
    {"flowStartMilliseconds", 8, FLOWGEN_F_MS},
    {"flowEndMilliseconds", 8, FLOWGEN_F_MS},
    {"packetDeltaCount", 8, 0},
    {"octetDeltaCount", 8, 0},
    {"sourceIPv6Address", 16, FLOWGEN_F_V6},
    {"destinationIPv6Address", 16, FLOWGEN_F_V6},
    {"flowStartSeconds", 4, FLOWGEN_F_SEC},
    {"flowEndSeconds", 4, FLOWGEN_F_SEC},
    {"flowStartSysUpTime", 4, FLOWGEN_F_UP},
    {"flowEndSysUpTime", 4, FLOWGEN_F_UP},
    {"sourceIPv4Address", 4, FLOWGEN_F_V4},
    {"destinationIPv4Address", 4, FLOWGEN_F_V4},
    {"sourceTransportPort", 2, 0},
    {"destinationTransportPort", 2, 0},
    {"icmpTypeCodeIPv4", 2, FLOWGEN_F_V4},
    {"icmpTypeCodeIPv6", 2, FLOWGEN_F_V6},
    {"tcpControlBits", 2, 0},
    {"protocolIdentifier", 1, 0},
    {"paddingOctets", 5, FLOWGEN_F_NEVER},
    FB_IESPEC_NULL,
};

typedef struct flowgen_sampling_rec {
    uint32_t domain;
    uint32_t interval;
    uint32_t space;
} flowgen_sampling_rec;

static fbInfoElementSpec_t flowgen_sampling_spec[] = {
    {"observationDomainId", 4, 0},
    {"samplingPacketInterval", 4, 0},
    {"samplingPacketSpace", 4, 0},
    FB_IESPEC_NULL,
};

typedef struct flowgen_sysinit_rec {
    uint32_t domain;
    uint8_t pad[4];
    uint64_t init_ms;
} flowgen_sysinit_rec;

static fbInfoElementSpec_t flowgen_sysinit_spec[] = {
    {"observationDomainId", 4, 0},
    {"paddingOctets", 4, FLOWGEN_F_NEVER},
    {"systemInitTimeMilliseconds", 8, 0},
    FB_IESPEC_NULL,
};

typedef struct flowgen_ipfix {
    fbInfoModel_t *model;
    fBuf_t *fbuf; /* owns the session and the exporter */
    fbExporter_t *exporter;
    uint8_t msg[65535];
    gsize budget;
    gsize rec_size[2]; /* external record size, [0] v4, [1] v6 */
    const flowgen_export_config *config;
    flowgen_sink *sink;
} flowgen_ipfix;

static gboolean flowgen_ipfix_add(fbSession_t *session, fbInfoModel_t *model,
                                  fbInfoElementSpec_t *spec, uint32_t flags, uint16_t scope,
                                  gboolean internal, uint16_t tid, gsize *size, GError **error)
{
    fbTemplate_t *tmpl = fbTemplateAlloc(model);
    if (!fbTemplateAppendSpecArray(tmpl, spec, flags, error)) {
        fbTemplateFreeUnused(tmpl);
        return FALSE;
    }
    if (scope > 0)
        fbTemplateSetOptionsScope(tmpl, scope);
    if (size != NULL) {
        *size = 0;
        for (fbInfoElementSpec_t *s = spec; s->name != NULL; s++)
            if (s->flags == 0 || (s->flags & flags) == s->flags)
                *size += s->len_override;
    }
    if (fbSessionAddTemplate(session, internal, tid, tmpl, error) == 0) {
        fbTemplateFreeUnused(tmpl);
        return FALSE;
    }
    return TRUE;
}

static gboolean flowgen_ipfix_templates(flowgen_ipfix *x, fbSession_t *session, GError **error)
{
    uint32_t time_flag = x->config->time_field == FLOWGEN_TIME_MS    ? FLOWGEN_F_MS
                         : x->config->time_field == FLOWGEN_TIME_SEC ? FLOWGEN_F_SEC
                                                                     : FLOWGEN_F_UP;
    fbSessionSetDomain(session, x->config->domain);
    return flowgen_ipfix_add(session, x->model, flowgen_flow_spec, UINT32_MAX, 0, TRUE,
                             FLOWGEN_TID_V4, NULL, error) &&
           flowgen_ipfix_add(session, x->model, flowgen_flow_spec, FLOWGEN_F_V4 | time_flag, 0,
                             FALSE, FLOWGEN_TID_V4, &x->rec_size[0], error) &&
           flowgen_ipfix_add(session, x->model, flowgen_flow_spec, FLOWGEN_F_V6 | time_flag, 0,
                             FALSE, FLOWGEN_TID_V6, &x->rec_size[1], error) &&
           (x->config->sampling <= 1 ||
            (flowgen_ipfix_add(session, x->model, flowgen_sampling_spec, 0, 1, TRUE,
                               FLOWGEN_TID_SAMPLING, NULL, error) &&
             flowgen_ipfix_add(session, x->model, flowgen_sampling_spec, 0, 1, FALSE,
                               FLOWGEN_TID_SAMPLING, NULL, error))) &&
           (x->config->time_field != FLOWGEN_TIME_SYSUPTIME ||
            (flowgen_ipfix_add(session, x->model, flowgen_sysinit_spec, UINT32_MAX, 1, TRUE,
                               FLOWGEN_TID_SYSINIT_INT, NULL, error) &&
             flowgen_ipfix_add(session, x->model, flowgen_sysinit_spec, 0, 1, FALSE,
                               FLOWGEN_TID_SYSINIT, NULL, error)));
}

static gboolean flowgen_ipfix_emit(flowgen_ipfix *x, guint records, GError **error)
{
    if (!fBufEmit(x->fbuf, error))
        return FALSE;
    gsize len = fbExporterGetMsgLen(x->exporter);
    if (len > x->budget) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "message of %zu bytes exceeds %zu", len, x->budget);
        return FALSE;
    }
    return tt_flowgen_sink_send(x->sink, x->msg, len, records, error);
}

/*
 * libfixbuf refuses the first template or record after a switch between
 * template and data sets with FB_ERROR_EOM, to force a message boundary; in
 * manual mode the caller retries once. A full message fails the retry again.
 */
static gboolean flowgen_ipfix_put(flowgen_ipfix *x, void *rec, gsize size, GError **error)
{
    GError *local = NULL;
    if (fBufAppend(x->fbuf, rec, size, &local))
        return TRUE;
    if (!g_error_matches(local, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
        g_propagate_error(error, local);
        return FALSE;
    }
    g_clear_error(&local);
    return fBufAppend(x->fbuf, rec, size, error);
}

static gboolean flowgen_ipfix_append(flowgen_ipfix *x, uint16_t int_tid, uint16_t ext_tid,
                                     void *rec, gsize size, GError **error)
{
    return fBufSetInternalTemplate(x->fbuf, int_tid, error) &&
           fBufSetExportTemplate(x->fbuf, ext_tid, error) && flowgen_ipfix_put(x, rec, size, error);
}

/* Templates, then options records, each in a message of their own stamped @a when. */
static gboolean flowgen_ipfix_control(flowgen_ipfix *x, int64_t when, GError **error)
{
    GError *local = NULL;
    fBufSetExportTime(x->fbuf, (uint32_t)when);
    if (!fbSessionExportTemplates(fBufGetSession(x->fbuf), &local)) {
        if (!g_error_matches(local, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
            g_propagate_error(error, local);
            return FALSE;
        }
        g_clear_error(&local);
        if (!fbSessionExportTemplates(fBufGetSession(x->fbuf), error))
            return FALSE;
    }
    if (!flowgen_ipfix_emit(x, 0, error))
        return FALSE;
    if (x->config->sampling > 1) {
        flowgen_sampling_rec rec = {x->config->domain, 1, x->config->sampling - 1};
        if (!flowgen_ipfix_append(x, FLOWGEN_TID_SAMPLING, FLOWGEN_TID_SAMPLING, &rec, sizeof rec,
                                  error))
            return FALSE;
    }
    if (x->config->time_field == FLOWGEN_TIME_SYSUPTIME) {
        flowgen_sysinit_rec rec = {.domain = x->config->domain,
                                   .init_ms = (uint64_t)x->config->boot_ms};
        if (!flowgen_ipfix_append(x, FLOWGEN_TID_SYSINIT_INT, FLOWGEN_TID_SYSINIT, &rec, sizeof rec,
                                  error))
            return FALSE;
    }
    if (x->config->sampling > 1 || x->config->time_field == FLOWGEN_TIME_SYSUPTIME)
        return flowgen_ipfix_emit(x, 0, error);
    return TRUE;
}

static void flowgen_ipfix_fill(flowgen_ipfix_rec *r, const flowgen_flow *f, int64_t boot_ms)
{
    memset(r, 0, sizeof *r);
    r->start_ms = (uint64_t)f->start_ms;
    r->end_ms = (uint64_t)f->end_ms;
    r->start_s = (uint32_t)(f->start_ms / 1000);
    r->end_s = (uint32_t)(f->end_ms / 1000);
    r->start_up = (uint32_t)(f->start_ms - boot_ms);
    r->end_up = (uint32_t)(f->end_ms - boot_ms);
    r->packets = f->packets;
    r->octets = f->bytes;
    if (f->family == 4) {
        r->src4 = (uint32_t)f->src[12] << 24 | (uint32_t)f->src[13] << 16 |
                  (uint32_t)f->src[14] << 8 | f->src[15];
        r->dst4 = (uint32_t)f->dst[12] << 24 | (uint32_t)f->dst[13] << 16 |
                  (uint32_t)f->dst[14] << 8 | f->dst[15];
        if (f->proto == 1)
            r->icmp4 = f->dst_port;
    } else {
        memcpy(r->src6, f->src, 16);
        memcpy(r->dst6, f->dst, 16);
        if (f->proto == 58)
            r->icmp6 = f->dst_port;
    }
    r->sport = f->src_port;
    r->dport = f->dst_port;
    r->tcp_flags = f->tcp_flags;
    r->proto = f->proto;
}

static gboolean flowgen_ipfix_run(flowgen_ipfix *x, GArray *flows, GError **error)
{
    gboolean resend = x->config->target.kind == FLOWGEN_OUT_UDP;
    int64_t when = flows->len > 0 ? (g_array_index(flows, flowgen_flow, 0).order_ms / 1000)
                                  : x->config->boot_ms / 1000;
    guint messages = 0;
    if (!flowgen_ipfix_control(x, when, error))
        return FALSE;
    for (guint pos = 0; pos < flows->len;) {
        guint n = tt_flowgen_batch(flows, pos, x->budget, FLOWGEN_IPFIX_HEADER, x->rec_size[0],
                                   x->rec_size[1], FLOWGEN_IPFIX_SET_HEADER);
        g_assert(n > 0);
        when = tt_flowgen_batch_time(flows, pos, n, when);
        if (resend && messages > 0 && messages % FLOWGEN_TEMPLATE_EVERY == 0 &&
            !flowgen_ipfix_control(x, when, error))
            return FALSE;
        fBufSetExportTime(x->fbuf, (uint32_t)when);
        if (!fBufSetInternalTemplate(x->fbuf, FLOWGEN_TID_V4, error))
            return FALSE;
        int family = 0;
        for (guint i = pos; i < pos + n; i++) {
            const flowgen_flow *f = &g_array_index(flows, flowgen_flow, i);
            flowgen_ipfix_rec rec;
            if (f->family != family &&
                !fBufSetExportTemplate(x->fbuf, f->family == 4 ? FLOWGEN_TID_V4 : FLOWGEN_TID_V6,
                                       error))
                return FALSE;
            family = f->family;
            flowgen_ipfix_fill(&rec, f, x->config->boot_ms);
            if (!flowgen_ipfix_put(x, &rec, sizeof rec, error))
                return FALSE;
        }
        if (!flowgen_ipfix_emit(x, n, error))
            return FALSE;
        messages++;
        pos += n;
    }
    return TRUE;
}

gboolean tt_flowgen_ipfix_send(GArray *flows, const flowgen_export_config *config, GError **error)
{
    g_return_val_if_fail(flows != NULL && config != NULL, FALSE);
    g_autofree flowgen_ipfix *x = g_new0(flowgen_ipfix, 1);
    x->config = config;
    x->budget = config->target.kind == FLOWGEN_OUT_UDP ? 1400 : 32768;
    x->model = fbInfoModelAlloc();
    fbSession_t *session = fbSessionAlloc(x->model);
    gboolean ok = FALSE;
    if (!flowgen_ipfix_templates(x, session, error)) {
        fbSessionFree(session);
        goto err_free_model;
    }
    x->exporter = fbExporterAllocBuffer(x->msg, (uint16_t)x->budget);
    x->fbuf = fBufAllocForExport(session, x->exporter);
    fBufSetAutomaticMode(x->fbuf, FALSE);
    x->sink = tt_flowgen_sink_open(config, error);
    if (x->sink == NULL)
        goto err_free_buf;
    ok = flowgen_ipfix_run(x, flows, error);
    if (!tt_flowgen_sink_close(x->sink, ok ? error : NULL))
        ok = FALSE;

err_free_buf:
    fBufFree(x->fbuf);
err_free_model:
    fbInfoModelFree(x->model);
    if (!ok && error != NULL && *error != NULL)
        g_prefix_error(error, "IPFIX export: ");
    return ok;
}
