/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_common.c - the shared harness of the decoder fuzz targets (see
 * fuzz_common.h for the input format and the invariants).
 *
 * The harness mirrors what teitend's listeners do with a datagram
 * (collector/listen.c): find the exporter for the peer address with
 * tt_decoder_exporter(), then hand the bytes to the decoder for the
 * listener's format. Peers are fake sockaddrs, nothing touches a socket.
 * Each exporter the decoder hands out is shadowed by a slot that counts what
 * the harness fed it and what the sink got back from it; when the decoder
 * evicts an exporter (tt_decoder_evictions() moves), the slots whose exporter
 * is gone fold into the retired totals, which must then agree with
 * tt_decoder_retired_stats(). Every datagram is copied into a buffer of exactly
 * its size, so AddressSanitizer sees any read past its end (the decoder also
 * rewrites messages in place, which libFuzzer's const input must not see;
 * NetFlow v9 is rewritten into the decoder's own larger buffer, so there ASan
 * only sees reads past that). A crash that needs the state earlier inputs left
 * behind does not reproduce from its input alone: run the target over its
 * corpus with FUZZ_TRACE=1, which prints every datagram, and cut that down.
 *
 * Rejected: resetting the decoder per input (reproducible, but a template in
 * one input and its data in the next is how real exporters behave, and the
 * caps only bite on accumulated state) and checking only at the end of an
 * input (a counter that dips and recovers inside one input would go unseen).
 */
#include "fuzz_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor.h"

#define FUZZ_MAX_TEMPLATES 64
#define FUZZ_MAX_SESSIONS 6
#define FUZZ_MAX_EXPORTERS 8
#define FUZZ_MAX_DOMAINS 4
#define FUZZ_LISTENERS 2
#define FUZZ_PEERS 32 /* 8 addresses x 2 ports x 2 listeners */
#define FUZZ_FILE_SLOT FUZZ_PEERS

const char fuzz_config_text[] =
    "[collector]\n"
    "listen = ipfix+udp://127.0.0.1:4739; netflow9+udp://127.0.0.1:2055\n"
    "data-dir = /nonexistent/teiten-fuzz\n"
    "max-templates = 64\n"
    "max-sessions = 6\n"
    "max-exporters = 8\n"
    "max-domains = 4\n"
    "export-time-tolerance = 600\n"
    "\n"
    "[sensor:domain-bound]\n"
    "exporters = 127.0.0.5@0; 127.0.0.5@1; 127.0.1.5@256\n"
    "darknet = 203.0.113.0/24; 2001:db8::/32\n"
    "sampling = 10\n"
    "\n"
    "[sensor:wide]\n"
    "exporters = 127.0.0.0/30; 127.0.1.0/30; 127.0.0.7\n"
    "darknet = 0.0.0.0/0; ::/0\n"
    "\n"
    "[sensor:lit]\n"
    "exporters = 127.0.0.6; 127.0.1.6\n"
    "darknet = 198.51.100.0/24\n";

/* What the harness knows about one exporter the decoder handed out. */
typedef struct {
    tt_exporter *e; /* NULL: no live exporter for this peer */
    char label[96];
    uint64_t fed;   /* datagrams handed to the decoder */
    uint64_t flows; /* flows the sink received */
    tt_exporter_stats prev;
} fuzz_slot;

typedef struct {
    tt_config *config;
    tt_sensor_table *sensors;
    tt_decoder *decoder;
    fuzz_slot slots[FUZZ_PEERS + 1];
    uint64_t evictions_seen;
    uint64_t retired_fed, retired_flows;
    tt_exporter_stats retired_prev;
    int64_t clock;  /* fake host time: one second per datagram, so LRU order is defined */
    gboolean trace; /* FUZZ_TRACE set: print every datagram (to replay a state-dependent crash) */
} fuzz_state;

static fuzz_state state;

static fuzz_slot *slot_of(const tt_exporter *e)
{
    for (size_t i = 0; i < G_N_ELEMENTS(state.slots); i++)
        if (state.slots[i].e == e)
            return &state.slots[i];
    return NULL;
}

/* The sink: count per exporter and check every flow the decoder hands out. */
static void fuzz_sink(void *data, tt_exporter *e, uint32_t domain, tt_flow *flows, size_t n)
{
    (void)data;
    fuzz_slot *slot = slot_of(e);
    FUZZ_ASSERT(slot != NULL, "flows from an exporter the harness never saw (%p)", (void *)e);
    FUZZ_ASSERT(n > 0, "%s: empty batch", slot->label);
    uint32_t sensor = slot == &state.slots[FUZZ_FILE_SLOT]
                          ? 0
                          : tt_sensor_lookup(state.sensors, tt_exporter_addr(e), domain);
    FUZZ_ASSERT(sensor != TT_SENSOR_NONE, "%s domain %u: flows from a refused exporter",
                slot->label, domain);
    for (size_t i = 0; i < n; i++) {
        const tt_flow *f = &flows[i];
        FUZZ_ASSERT(f->sensor == sensor, "%s domain %u: flow of sensor %u, expected %u",
                    slot->label, domain, f->sensor, sensor);
        FUZZ_ASSERT(f->family == 0 || f->family == 4 || f->family == 6, "%s: family %u",
                    slot->label, f->family);
        FUZZ_ASSERT(f->end_ms >= f->start_ms, "%s: flow ends before it starts", slot->label);
        FUZZ_ASSERT(f->sampling >= 1, "%s: sampling 0", slot->label);
    }
    slot->flows += n;
}

/* Counters that only ever grow: (offset, count) runs of uint64_t in tt_exporter_stats. */
static void check_monotone(const char *who, const tt_exporter_stats *now,
                           const tt_exporter_stats *prev)
{
#define MONO(field)                                                                                \
    FUZZ_ASSERT(now->field >= prev->field,                                                         \
                "%s: " #field " went down (%" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT ")", who,  \
                (guint64)prev->field, (guint64)now->field)
    MONO(messages);
    MONO(records);
    MONO(options_records);
    MONO(templates);
    MONO(unknown_template_sets);
    MONO(seq_lost);
    MONO(future_records);
    MONO(clock_ahead);
    MONO(time_clamped);
    MONO(time_impossible);
    MONO(value_range);
    MONO(absurd_counts);
    for (int i = 0; i < TT_TREFUSE_COUNT; i++)
        MONO(templates_refused[i]);
    for (int i = 0; i < TT_DROP_COUNT; i++)
        MONO(dropped[i]);
    for (int i = 0; i < TT_WIRE_REASON_COUNT; i++)
        MONO(wire_reasons[i]);
#undef MONO
}

/* Datagrams that reached a decoder function, as the stats count them: once each. */
static uint64_t accounted(const tt_exporter_stats *s)
{
    return s->messages + s->dropped[TT_DROP_WIRE] + s->dropped[TT_DROP_UNKNOWN_EXPORTER] +
           s->dropped[TT_DROP_TEMPLATE_CAP] + s->dropped[TT_DROP_V5] +
           s->dropped[TT_DROP_DOMAIN_CAP] + s->clock_ahead;
}

/* Records normalise() refused, each with its counter (docs/security.md). */
static uint64_t refused_records(const tt_exporter_stats *s)
{
    return s->future_records + s->time_impossible + s->value_range + s->absurd_counts;
}

static void check_totals(const char *who, const tt_exporter_stats *s, uint64_t fed, uint64_t flows)
{
    FUZZ_ASSERT(refused_records(s) <= s->records, "%s: more refused records than records", who);
    FUZZ_ASSERT(s->time_clamped <= s->records, "%s: more clamped records than records", who);
    FUZZ_ASSERT(s->records - refused_records(s) == flows,
                "%s: records %" G_GUINT64_FORMAT " - refused %" G_GUINT64_FORMAT
                " != %" G_GUINT64_FORMAT " flows received",
                who, (guint64)s->records, (guint64)refused_records(s), (guint64)flows);
    FUZZ_ASSERT(accounted(s) == fed,
                "%s: %" G_GUINT64_FORMAT " datagrams fed, %" G_GUINT64_FORMAT " accounted", who,
                (guint64)fed, (guint64)accounted(s));
    uint64_t reasons = 0;
    for (int i = 0; i < TT_WIRE_REASON_COUNT; i++)
        reasons += s->wire_reasons[i];
    FUZZ_ASSERT(reasons == s->dropped[TT_DROP_WIRE], "%s: wire reasons do not add up", who);
}

/* Fold slots whose exporter the decoder has freed into the retired totals. */
typedef struct {
    const tt_exporter *live[64];
    guint n;
} live_set;

static void collect_live(const tt_exporter *e, void *data)
{
    live_set *ls = data;
    FUZZ_ASSERT(ls->n < G_N_ELEMENTS(ls->live), "more than %zu live exporters",
                G_N_ELEMENTS(ls->live));
    ls->live[ls->n++] = e;
}

static void retire_slot(fuzz_slot *slot)
{
    state.retired_fed += slot->fed;
    state.retired_flows += slot->flows;
    memset(slot, 0, sizeof *slot);
}

static void reconcile_evictions(void)
{
    uint64_t ev = tt_decoder_evictions(state.decoder);
    FUZZ_ASSERT(ev >= state.evictions_seen, "evictions went down");
    if (ev == state.evictions_seen)
        return;
    state.evictions_seen = ev;
    live_set ls = {.n = 0};
    tt_decoder_foreach_exporter(state.decoder, collect_live, &ls);
    for (size_t i = 0; i < G_N_ELEMENTS(state.slots); i++) {
        fuzz_slot *slot = &state.slots[i];
        if (slot->e == NULL)
            continue;
        gboolean alive = FALSE;
        /* a freed exporter's memory may already hold the newcomer: compare labels too */
        for (guint j = 0; j < ls.n && !alive; j++)
            alive =
                ls.live[j] == slot->e && strcmp(tt_exporter_label(ls.live[j]), slot->label) == 0;
        if (!alive)
            retire_slot(slot);
    }
}

void fuzz_check(void)
{
    guint live = 0, per_listener[FUZZ_LISTENERS] = {0};
    for (size_t i = 0; i < G_N_ELEMENTS(state.slots); i++) {
        fuzz_slot *slot = &state.slots[i];
        if (slot->e == NULL)
            continue;
        live++;
        if (i < FUZZ_PEERS)
            per_listener[(i >> 4) & 1]++;
        const tt_exporter_stats *s = tt_exporter_get_stats(slot->e);
        check_monotone(slot->label, s, &slot->prev);
        check_totals(slot->label, s, slot->fed, slot->flows);
        FUZZ_ASSERT(tt_exporter_domain_count(slot->e) <= FUZZ_MAX_DOMAINS,
                    "%u observation domains, cap %d", tt_exporter_domain_count(slot->e),
                    FUZZ_MAX_DOMAINS);
        FUZZ_ASSERT(tt_exporter_template_count(slot->e) <= FUZZ_MAX_TEMPLATES,
                    "%s: %u templates held, cap %d", slot->label,
                    tt_exporter_template_count(slot->e), FUZZ_MAX_TEMPLATES);
        slot->prev = *s;
    }
    FUZZ_ASSERT(live == tt_decoder_exporter_count(state.decoder),
                "harness sees %u exporters, decoder %u", live,
                tt_decoder_exporter_count(state.decoder));
    guint shared = live - (state.slots[FUZZ_FILE_SLOT].e != NULL);
    FUZZ_ASSERT(shared <= FUZZ_MAX_EXPORTERS, "%u exporters, cap %d", shared, FUZZ_MAX_EXPORTERS);
    for (int l = 0; l < FUZZ_LISTENERS; l++)
        FUZZ_ASSERT(per_listener[l] <= FUZZ_MAX_SESSIONS, "listener %d: %u sessions, cap %d", l,
                    per_listener[l], FUZZ_MAX_SESSIONS);
    const tt_exporter_stats *r = tt_decoder_retired_stats(state.decoder);
    check_monotone("retired", r, &state.retired_prev);
    check_totals("retired", r, state.retired_fed, state.retired_flows);
    state.retired_prev = *r;
}

/* libfixbuf's and the decoder's per-datagram warnings would drown libFuzzer's output. */
static void fuzz_log_quiet(const gchar *domain, GLogLevelFlags level, const gchar *message,
                           gpointer data)
{
    (void)domain;
    (void)level;
    (void)message;
    (void)data;
}

static uint32_t fuzz_resolve(void *data, const uint8_t addr[16], uint32_t domain)
{
    return tt_sensor_lookup(data, addr, domain);
}

tt_decoder *fuzz_decoder(void)
{
    if (state.decoder != NULL)
        return state.decoder;
    g_autoptr(GError) error = NULL;
    /* a g_return_if_fail() tripping inside the collector is a bug, not noise */
    g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
    g_log_set_handler("teitend", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO,
                      fuzz_log_quiet, NULL);
    state.config =
        tt_config_load_data(fuzz_config_text, sizeof fuzz_config_text - 1, "fuzz.conf", &error);
    FUZZ_ASSERT(state.config != NULL, "fuzz config: %s", error->message);
    FUZZ_ASSERT(state.config->max_templates == FUZZ_MAX_TEMPLATES &&
                    state.config->max_sessions == FUZZ_MAX_SESSIONS &&
                    state.config->max_exporters == FUZZ_MAX_EXPORTERS,
                "fuzz config caps not as the harness expects");
    state.trace = getenv("FUZZ_TRACE") != NULL;
    state.sensors = tt_sensor_table_new(state.config, NULL);
    state.decoder = tt_decoder_new(state.config, fuzz_sink, NULL, &error);
    FUZZ_ASSERT(state.decoder != NULL, "decoder: %s", error->message);
    tt_decoder_set_resolver(state.decoder, fuzz_resolve, state.sensors);
    return state.decoder;
}

/* The exporter for selector byte @a sel, as a listener would look it up. */
static fuzz_slot *fuzz_exporter(fuzz_path path, uint8_t sel)
{
    guint peer = sel % FUZZ_PEERS;
    guint listener = (peer >> 4) & 1;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0x7f000000u | listener << 8 | (1 + (peer & 7)));
    sin.sin_port = htons((uint16_t)(40000 + ((peer >> 3) & 1)));
    static const tt_listen_kind kinds[] = {
        [FUZZ_IPFIX] = TT_LISTEN_IPFIX_UDP,
        [FUZZ_V9] = TT_LISTEN_NF9_UDP,
        [FUZZ_V5] = TT_LISTEN_NF5_UDP,
        [FUZZ_SFLOW] = TT_LISTEN_SFLOW_UDP,
    };
    tt_exporter *e = tt_decoder_exporter(state.decoder, kinds[path], listener,
                                         (struct sockaddr *)&sin, sizeof sin, ++state.clock);
    reconcile_evictions();
    if (e == NULL)
        return NULL; /* cap reached and nothing evictable: a listener counts exporter_cap */
    fuzz_slot *slot = &state.slots[peer];
    if (slot->e != e) {
        FUZZ_ASSERT(slot->e == NULL, "peer %u changed exporter without an eviction", peer);
        FUZZ_ASSERT(slot_of(e) == NULL, "one exporter for two peers");
        slot->e = e;
        g_strlcpy(slot->label, tt_exporter_label(e), sizeof slot->label);
        const tt_exporter_stats *s = tt_exporter_get_stats(e);
        FUZZ_ASSERT(accounted(s) == 0 && s->records == 0, "%s: new exporter with counts",
                    slot->label);
        slot->prev = *s;
    }
    return slot;
}

/* FUZZ_TRACE=1: each datagram in hex, with the peer it came from. */
static void fuzz_trace_dgram(uint8_t sel, const uint8_t *msg, size_t len)
{
    if (!state.trace)
        return;
    fprintf(stderr, "DGRAM %u ", sel % FUZZ_PEERS);
    for (size_t k = 0; k < len; k++)
        fprintf(stderr, "%02x", msg[k]);
    fputc('\n', stderr);
}

/* The next record of an input (see fuzz_common.h): its selector, and its payload's length
 * (the payload starts at *off on return; the last record takes what is left). */
static size_t fuzz_next_record(const uint8_t *data, size_t size, size_t *off, uint8_t *sel)
{
    *sel = data[(*off)++];
    size_t len = 0;
    if (*off + 2 <= size) {
        len = (size_t)data[*off] << 8 | data[*off + 1];
        *off += 2;
    }
    return MIN(len, size - *off);
}

void fuzz_feed_datagrams(fuzz_path path, const uint8_t *data, size_t size)
{
    tt_decoder *d = fuzz_decoder();
    size_t off = 0;
    while (off < size) {
        uint8_t sel = 0;
        size_t len = fuzz_next_record(data, size, &off, &sel);
        fuzz_slot *slot = fuzz_exporter(path, sel);
        if (slot != NULL) {
            /* exactly the datagram's size, so ASan sees reads past its end */
            uint8_t *msg = g_malloc(MAX(len, 1));
            memcpy(msg, data + off, len);
            slot->fed++;
            fuzz_trace_dgram(sel, msg, len);
            if (path == FUZZ_IPFIX)
                tt_decoder_ipfix(d, slot->e, msg, len);
            else if (path == FUZZ_V9)
                tt_decoder_v9(d, slot->e, msg, len);
            else
                tt_decoder_v5(d, slot->e, msg, len);
            g_free(msg);
        }
        off += len;
        fuzz_check();
    }
}

void fuzz_feed_file(const uint8_t *data, size_t size)
{
    tt_decoder *d = fuzz_decoder();
    static const uint8_t none[16];
    fuzz_slot *slot = &state.slots[FUZZ_FILE_SLOT];
    tt_exporter *e =
        tt_decoder_exporter_private(d, TT_LISTEN_IPFIX_TCP, "file:fuzz", none, ++state.clock);
    tt_exporter_force_sensor(e, 0);
    slot->e = e;
    g_strlcpy(slot->label, "file:fuzz", sizeof slot->label);
    slot->prev = *tt_exporter_get_stats(e);

    /* the loop of tt_read_file(): stop where the framing breaks */
    size_t off = 0;
    while (off < size) {
        size_t msglen = 0;
        tt_wire_status st = tt_ipfix_stream_frame(data + off, size - off, &msglen);
        if (st == TT_WIRE_OK && msglen > size - off)
            st = TT_WIRE_BAD_LENGTH;
        if (st != TT_WIRE_OK)
            break;
        FUZZ_ASSERT(msglen >= 16 && msglen <= 65535, "framed message of %zu bytes", msglen);
        uint8_t *msg = g_malloc(msglen);
        memcpy(msg, data + off, msglen);
        slot->fed++;
        tt_decoder_ipfix(d, e, msg, msglen);
        g_free(msg);
        off += msglen;
        fuzz_check();
    }
    tt_decoder_exporter_release(d, e);
    retire_slot(slot);
    fuzz_check();
}

/*
 * sFlow: the decoder functions are not called here; @a relay sends the bytes
 * through a loopback socket and listen.c reads them (libfixbuf translates
 * sFlow only inside its own UDP collector). The exporter is set up before
 * sending, exactly as sflow_ready() will look it up, so that the sink knows
 * the slot of the flows it gets while the listener runs. Datagrams whose
 * version word is not 5 must leave every exporter as it was (listen.c counts
 * them as listener noise). The datagram is not copied: it goes through the
 * kernel into libfixbuf's own buffer.
 */
void fuzz_feed_sflow(const uint8_t *data, size_t size, fuzz_relay relay)
{
    (void)fuzz_decoder();
    size_t off = 0;
    while (off < size) {
        uint8_t sel = 0;
        size_t len = fuzz_next_record(data, size, &off, &sel);
        const uint8_t *msg = data + off;
        gboolean sflow = len >= 4 && msg[0] == 0 && msg[1] == 0 && msg[2] == 0 && msg[3] == 5;
        fuzz_slot *slot = sflow ? fuzz_exporter(FUZZ_SFLOW, sel) : NULL;
        if (slot != NULL)
            slot->fed++;
        fuzz_trace_dgram(sel, msg, len);
        relay(sel % FUZZ_PEERS, msg, len);
        off += len;
        fuzz_check();
    }
}
