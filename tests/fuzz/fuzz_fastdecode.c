/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_fastdecode.c - libFuzzer target: the decode fast path against libfixbuf.
 *
 * Each input is a sequence of datagrams in the harness's record format
 * (fuzz_common.h: selector byte, 16-bit length, payload); a datagram whose
 * version is 9 goes through the NetFlow v9 path, anything else through IPFIX.
 * The input is decoded twice, each time by a fresh decoder: with the fast path
 * off (libfixbuf reads every record) and on. Every flow must come out the same,
 * field by field and in the same order, from the same exporter and domain, and
 * every exporter's counters must end the same; a difference aborts. Fresh
 * decoders per input (not fuzz_common.c's long-lived one) because decode.c's
 * log filter, which counts libfixbuf's "missing template" warnings, is
 * process-wide, and so that a failing input reproduces by itself. Seeds: the
 * ipfix and v9 corpora (tests/fuzz/CMakeLists.txt).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sensor.h"

#define FZ_MAX_FLOWS 65536
#define FZ_MAX_EXPORTERS 64

typedef struct {
    tt_flow flow;
    uint32_t domain;
    char label[96];
} fz_flow;

typedef struct {
    char label[96];
    tt_exporter_stats stats;
} fz_stats;

static struct {
    gboolean fast;
    fz_flow *flows; /* the libfixbuf run's flows */
    size_t n, next;
    fz_stats exporters[FZ_MAX_EXPORTERS];
    size_t nexp;
    tt_config *config;
} fz;

static void fz_compare(const fz_flow *a, const fz_flow *b, size_t i)
{
    const tt_flow *x = &a->flow, *y = &b->flow;
    FUZZ_ASSERT(a->domain == b->domain && strcmp(a->label, b->label) == 0,
                "flow %zu: %s/%u vs %s/%u", i, a->label, a->domain, b->label, b->domain);
    FUZZ_ASSERT(x->start_ms == y->start_ms && x->end_ms == y->end_ms, "flow %zu: times", i);
    FUZZ_ASSERT(x->packets == y->packets && x->bytes == y->bytes &&
                    x->raw_packets == y->raw_packets && x->raw_bytes == y->raw_bytes,
                "flow %zu: counts", i);
    FUZZ_ASSERT(memcmp(x->src, y->src, 16) == 0 && memcmp(x->dst, y->dst, 16) == 0,
                "flow %zu: addresses", i);
    FUZZ_ASSERT(x->src_port == y->src_port && x->dst_port == y->dst_port, "flow %zu: ports", i);
    FUZZ_ASSERT(x->family == y->family && x->proto == y->proto && x->tcp_flags == y->tcp_flags &&
                    x->cls == y->cls && x->has_dst == y->has_dst,
                "flow %zu: family, protocol, flags, class", i);
    FUZZ_ASSERT(x->sampling == y->sampling && x->sensor == y->sensor &&
                    x->country[0] == y->country[0] && x->country[1] == y->country[1],
                "flow %zu: sampling, sensor, country", i);
}

static void fz_sink(void *data, tt_exporter *e, uint32_t domain, tt_flow *flows, size_t n)
{
    (void)data;
    for (size_t i = 0; i < n; i++) {
        fz_flow f;
        f.flow = flows[i];
        f.domain = domain;
        g_snprintf(f.label, sizeof f.label, "%d %s", (int)tt_exporter_kind(e),
                   tt_exporter_label(e));
        if (!fz.fast) {
            FUZZ_ASSERT(fz.n < FZ_MAX_FLOWS, "more than %d flows", FZ_MAX_FLOWS);
            fz.flows[fz.n++] = f;
            continue;
        }
        FUZZ_ASSERT(fz.next < fz.n, "the fast path gave a flow past libfixbuf's %zu", fz.n);
        fz_compare(&fz.flows[fz.next], &f, fz.next);
        fz.next++;
    }
}

static gboolean fz_stats_same(const tt_exporter_stats *a, const tt_exporter_stats *b)
{
    return memcmp(a, b, offsetof(tt_exporter_stats, clock_offset_s)) == 0 &&
           a->withdrawals_ignored == b->withdrawals_ignored && a->sampling == b->sampling;
}

static void fz_stats_one(const tt_exporter *e, void *data)
{
    (void)data;
    char label[96];
    g_snprintf(label, sizeof label, "%d %s", (int)tt_exporter_kind(e), tt_exporter_label(e));
    if (!fz.fast) {
        FUZZ_ASSERT(fz.nexp < FZ_MAX_EXPORTERS, "more than %d exporters", FZ_MAX_EXPORTERS);
        g_strlcpy(fz.exporters[fz.nexp].label, label, sizeof fz.exporters[0].label);
        fz.exporters[fz.nexp++].stats = *tt_exporter_get_stats(e);
        return;
    }
    for (size_t i = 0; i < fz.nexp; i++)
        if (strcmp(fz.exporters[i].label, label) == 0) {
            FUZZ_ASSERT(fz_stats_same(&fz.exporters[i].stats, tt_exporter_get_stats(e)),
                        "%s: counters differ", label);
            return;
        }
    FUZZ_ASSERT(FALSE, "%s: no such exporter in the libfixbuf run", label);
}

static uint32_t fz_resolve(void *data, const uint8_t addr[16], uint32_t domain)
{
    (void)data;
    (void)addr;
    return domain % 3 == 2 ? TT_SENSOR_NONE : domain % 3; /* some domains refused */
}

static void fz_quiet(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)domain;
    (void)level;
    (void)message;
    (void)data;
}

static void fz_run(const uint8_t *data, size_t size, tt_exporter_stats *retired)
{
    g_autoptr(GError) error = NULL;
    tt_decoder *d = tt_decoder_new(fz.config, fz_sink, NULL, &error);
    FUZZ_ASSERT(d != NULL, "decoder: %s", error->message);
    tt_decoder_set_resolver(d, fz_resolve, NULL);
    tt_decoder_set_fast(d, fz.fast);
    size_t off = 0;
    int64_t clock = 0;
    while (off < size) {
        uint8_t sel = data[off++];
        size_t len = 0;
        if (off + 2 <= size) {
            len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
        }
        len = MIN(len, size - off);
        gboolean v9 = len >= 2 && data[off] == 0 && data[off + 1] == 9;
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(0x7f000001u + (sel & 7));
        sin.sin_port = htons((uint16_t)(40000 + ((sel >> 3) & 3)));
        tt_exporter *e = tt_decoder_exporter(d, v9 ? TT_LISTEN_NF9_UDP : TT_LISTEN_IPFIX_UDP, v9,
                                             (const struct sockaddr *)&sin, sizeof sin, ++clock);
        if (e != NULL) {
            uint8_t *msg = g_malloc(MAX(len, 1)); /* the decoder cuts in place */
            memcpy(msg, data + off, len);
            if (v9)
                tt_decoder_v9(d, e, msg, len);
            else
                tt_decoder_ipfix(d, e, msg, len);
            g_free(msg);
        }
        off += len;
    }
    tt_decoder_foreach_exporter(d, fz_stats_one, NULL);
    *retired = *tt_decoder_retired_stats(d);
    tt_decoder_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz.config == NULL) {
        g_autoptr(GError) error = NULL;
        g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
        g_log_set_handler("teitend", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO,
                          fz_quiet, NULL);
        fz.config =
            tt_config_load_data(fuzz_config_text, strlen(fuzz_config_text), "fuzz.conf", &error);
        FUZZ_ASSERT(fz.config != NULL, "fuzz config: %s", error->message);
        fz.flows = g_new(fz_flow, FZ_MAX_FLOWS);
    }
    tt_exporter_stats ret_a, ret_b;
    fz.fast = FALSE;
    fz.n = fz.next = fz.nexp = 0;
    fz_run(data, size, &ret_a);
    fz.fast = TRUE;
    fz_run(data, size, &ret_b);
    FUZZ_ASSERT(fz.next == fz.n, "libfixbuf gave %zu flows, the fast path %zu", fz.n, fz.next);
    FUZZ_ASSERT(fz_stats_same(&ret_a, &ret_b), "retired counters differ");
    return 0;
}
