/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen_v9.c - NetFlow v9 (RFC 3954) export of the scenario, over UDP.
 *
 * libfixbuf only exports IPFIX, so this is a small encoder of its own: a
 * packet is the 20-byte header (version 9, record count, sysUptime,
 * unixSecs, packet sequence number, source ID) and flowsets. Times follow a
 * router's clock on the stream's time line: the router "booted" one day
 * before --start, each packet's unixSecs is its export time and sysUptime the
 * milliseconds since boot at that second, and FIRST_SWITCHED/LAST_SWITCHED
 * are sysUptime milliseconds, so a collector recovers exact flow times.
 *
 * Templates 256 (IPv4, 32-byte records) and 257 (IPv6, 56 bytes) and, with
 * --sampling, the options template 258 (scope System, SAMPLING_INTERVAL) plus
 * its options record travel in a packet of their own, first and then every
 * 20 packets. Both record sizes are multiples of four, so flowsets need no
 * padding. Rejected: mixing templates into data packets (the batching would
 * need to know when a template is due).
 */
#include "flowgen.h"

#include <string.h>

#define FLOWGEN_V9_HEADER 20
#define FLOWGEN_V9_SET_HEADER 4
#define FLOWGEN_V9_BUDGET 1400
#define FLOWGEN_V9_TEMPLATE_EVERY 20
#define FLOWGEN_V9_TID_V4 256
#define FLOWGEN_V9_TID_V6 257
#define FLOWGEN_V9_TID_SAMPLING 258

typedef struct flowgen_v9_field {
    uint16_t type;
    uint16_t len;
} flowgen_v9_field;

static const flowgen_v9_field flowgen_v9_v4[] = {
    {8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {2, 4}, {1, 4}, {22, 4}, {21, 4}, {32, 2},
};
static const flowgen_v9_field flowgen_v9_v6[] = {
    {27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {2, 4}, {1, 4}, {22, 4}, {21, 4}, {139, 2},
};
#define FLOWGEN_V9_REC_V4 32
#define FLOWGEN_V9_REC_V6 56

typedef struct flowgen_v9 {
    uint8_t buf[FLOWGEN_V9_BUDGET];
    gsize len;
    gsize set_start; /* offset of the open flowset's header, 0 when none */
    uint16_t count;
    uint32_t sequence;
    const flowgen_export_config *config;
    flowgen_sink *sink;
} flowgen_v9;

static void flowgen_put16(flowgen_v9 *v, uint32_t x)
{
    v->buf[v->len++] = (uint8_t)(x >> 8);
    v->buf[v->len++] = (uint8_t)x;
}

static void flowgen_put32(flowgen_v9 *v, uint32_t x)
{
    flowgen_put16(v, x >> 16);
    flowgen_put16(v, x & 0xffff);
}

static void flowgen_v9_begin(flowgen_v9 *v)
{
    v->len = FLOWGEN_V9_HEADER;
    v->set_start = 0;
    v->count = 0;
}

static void flowgen_v9_set_close(flowgen_v9 *v)
{
    if (v->set_start == 0)
        return;
    gsize len = v->len - v->set_start;
    v->buf[v->set_start + 2] = (uint8_t)(len >> 8);
    v->buf[v->set_start + 3] = (uint8_t)len;
    v->set_start = 0;
}

static void flowgen_v9_set_open(flowgen_v9 *v, uint16_t id)
{
    flowgen_v9_set_close(v);
    v->set_start = v->len;
    flowgen_put16(v, id);
    flowgen_put16(v, 0);
}

static gboolean flowgen_v9_send(flowgen_v9 *v, int64_t when, guint records, GError **error)
{
    flowgen_v9_set_close(v);
    gsize len = v->len;
    v->len = 0;
    flowgen_put16(v, 9);
    flowgen_put16(v, v->count);
    flowgen_put32(v, (uint32_t)(when * 1000 - v->config->boot_ms));
    flowgen_put32(v, (uint32_t)when);
    flowgen_put32(v, v->sequence++);
    flowgen_put32(v, v->config->domain);
    return tt_flowgen_sink_send(v->sink, v->buf, len, records, error);
}

static void flowgen_v9_template(flowgen_v9 *v, uint16_t tid, const flowgen_v9_field *fields,
                                guint n)
{
    flowgen_put16(v, tid);
    flowgen_put16(v, n);
    for (guint i = 0; i < n; i++) {
        flowgen_put16(v, fields[i].type);
        flowgen_put16(v, fields[i].len);
    }
    v->count++;
}

static gboolean flowgen_v9_control(flowgen_v9 *v, int64_t when, GError **error)
{
    flowgen_v9_begin(v);
    flowgen_v9_set_open(v, 0);
    flowgen_v9_template(v, FLOWGEN_V9_TID_V4, flowgen_v9_v4, G_N_ELEMENTS(flowgen_v9_v4));
    flowgen_v9_template(v, FLOWGEN_V9_TID_V6, flowgen_v9_v6, G_N_ELEMENTS(flowgen_v9_v6));
    if (v->config->sampling > 1) {
        /* options template: scope System (1) of 4 bytes, SAMPLING_INTERVAL (34) of 4 */
        flowgen_v9_set_open(v, 1);
        flowgen_put16(v, FLOWGEN_V9_TID_SAMPLING);
        flowgen_put16(v, 4);
        flowgen_put16(v, 4);
        flowgen_put16(v, 1);
        flowgen_put16(v, 4);
        flowgen_put16(v, 34);
        flowgen_put16(v, 4);
        flowgen_put16(v, 0); /* pad the flowset to 32 bits */
        v->count++;
        flowgen_v9_set_open(v, FLOWGEN_V9_TID_SAMPLING);
        flowgen_put32(v, v->config->domain);
        flowgen_put32(v, v->config->sampling);
        v->count++;
    }
    return flowgen_v9_send(v, when, 0, error);
}

static void flowgen_v9_record(flowgen_v9 *v, const flowgen_flow *f)
{
    if (f->family == 4) {
        memcpy(v->buf + v->len, f->src + 12, 4);
        memcpy(v->buf + v->len + 4, f->dst + 12, 4);
        v->len += 8;
    } else {
        memcpy(v->buf + v->len, f->src, 16);
        memcpy(v->buf + v->len + 16, f->dst, 16);
        v->len += 32;
    }
    flowgen_put16(v, f->src_port);
    flowgen_put16(v, f->dst_port);
    v->buf[v->len++] = f->proto;
    v->buf[v->len++] = f->tcp_flags;
    flowgen_put32(v, (uint32_t)f->packets);
    flowgen_put32(v, (uint32_t)f->bytes);
    flowgen_put32(v, (uint32_t)(f->start_ms - v->config->boot_ms));
    flowgen_put32(v, (uint32_t)(f->end_ms - v->config->boot_ms));
    flowgen_put16(v, f->proto == 1 || f->proto == 58 ? f->dst_port : 0);
    v->count++;
}

static gboolean flowgen_v9_run(flowgen_v9 *v, GArray *flows, GError **error)
{
    int64_t when = flows->len > 0 ? g_array_index(flows, flowgen_flow, 0).order_ms / 1000
                                  : v->config->boot_ms / 1000;
    for (guint pos = 0; pos < flows->len;) {
        guint n = tt_flowgen_batch(flows, pos, FLOWGEN_V9_BUDGET, FLOWGEN_V9_HEADER,
                                   FLOWGEN_V9_REC_V4, FLOWGEN_V9_REC_V6, FLOWGEN_V9_SET_HEADER);
        g_assert(n > 0);
        when = tt_flowgen_batch_time(flows, pos, n, when);
        if (v->sequence % FLOWGEN_V9_TEMPLATE_EVERY == 0 && !flowgen_v9_control(v, when, error))
            return FALSE;
        flowgen_v9_begin(v);
        int family = 0;
        for (guint i = pos; i < pos + n; i++) {
            const flowgen_flow *f = &g_array_index(flows, flowgen_flow, i);
            if (f->family != family)
                flowgen_v9_set_open(v, f->family == 4 ? FLOWGEN_V9_TID_V4 : FLOWGEN_V9_TID_V6);
            family = f->family;
            flowgen_v9_record(v, f);
        }
        if (!flowgen_v9_send(v, when, n, error))
            return FALSE;
        pos += n;
    }
    return TRUE;
}

gboolean tt_flowgen_v9_send(GArray *flows, const flowgen_export_config *config, GError **error)
{
    g_return_val_if_fail(flows != NULL && config != NULL, FALSE);
    if (config->target.kind != FLOWGEN_OUT_UDP) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "NetFlow v9 is sent over udp:// only");
        return FALSE;
    }
    g_autofree flowgen_v9 *v = g_new0(flowgen_v9, 1);
    v->config = config;
    v->sink = tt_flowgen_sink_open(config, error);
    if (v->sink == NULL)
        return FALSE;
    gboolean ok = flowgen_v9_run(v, flows, error);
    if (!tt_flowgen_sink_close(v->sink, ok ? error : NULL))
        ok = FALSE;
    if (!ok)
        g_prefix_error(error, "NetFlow v9 export: ");
    return ok;
}
