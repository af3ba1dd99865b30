/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen_blast.c - flowgen's blast mode: line-rate flow exports for the benchmark.
 *
 * The scenario mode builds every record up front and encodes through
 * libfixbuf, which tops out near a million records a second. Blast mode
 * builds a pool of finished messages once (IPFIX or NetFlow v9, IPv4 or
 * IPv6, 26 records of 52 bytes per IPFIX/IPv4 datagram by default) and then
 * only patches each message's header (sequence number, export time,
 * observation domain) and its records' time fields before handing batches
 * of them to sendmmsg, paced by records per second. Sequence numbers are kept
 * per (exporter, domain) stream as RFC 7011 and the v9 RFC 3954 want them, and
 * templates go out first and again every --template-every messages.
 *
 * Flow time is stream time: --start plus wall time since the first send,
 * times step/--step-every when that is given, so a benchmark can cross many
 * step boundaries in a few minutes. Every record of a message carries the
 * message's stamp, so the expectation is exact: how often each pool message
 * was sent into each bucket, times its records' aggregates.
 *
 * Ports are uniform (a shuffled walk over all 131 072 TCP and UDP ports, so a
 * pool of >= 5042 messages puts every port series in every step) or Zipf over
 * a shuffled rank order; sources come from the GeoIP database's networks
 * (flowgen_geo.c, each address checked by a lookup). Rejected: per-record
 * random generation at send time (costs the generator's single core what
 * the collector is being measured on) and libfixbuf encoding.
 */
#define _GNU_SOURCE /* sendmmsg */
#include "flowgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLAST_KEYS 131072u /* TCP ports, then UDP ports */
#define BLAST_BATCH 64
#define BLAST_TID 256

/* Information element ids (IPFIX and, where the same number, NetFlow v9). */
enum {
    IE_OCTETS = 1,
    IE_PACKETS = 2,
    IE_PROTO = 4,
    IE_TOS = 5,
    IE_TCP_FLAGS = 6,
    IE_SPORT = 7,
    IE_SRC4 = 8,
    IE_DPORT = 11,
    IE_DST4 = 12,
    IE_V9_LAST = 21,
    IE_V9_FIRST = 22,
    IE_SRC6 = 27,
    IE_DST6 = 28,
    IE_ICMP4 = 32,
    IE_VLAN = 58,
    IE_ICMP6 = 139,
    IE_START_MS = 152,
    IE_END_MS = 153,
};

typedef struct blast_field {
    uint16_t id;
    uint16_t len;
} blast_field;

static const blast_field blast_ipfix4[] = {
    {IE_START_MS, 8}, {IE_END_MS, 8}, {IE_PACKETS, 8}, {IE_OCTETS, 8}, {IE_SRC4, 4},
    {IE_DST4, 4},     {IE_SPORT, 2},  {IE_DPORT, 2},   {IE_ICMP4, 2},  {IE_TCP_FLAGS, 2},
    {IE_PROTO, 1},    {IE_TOS, 1},    {IE_VLAN, 2},    {0, 0}};
static const blast_field blast_ipfix6[] = {
    {IE_START_MS, 8}, {IE_END_MS, 8}, {IE_PACKETS, 8}, {IE_OCTETS, 8}, {IE_SRC6, 16},
    {IE_DST6, 16},    {IE_SPORT, 2},  {IE_DPORT, 2},   {IE_ICMP6, 2},  {IE_TCP_FLAGS, 2},
    {IE_PROTO, 1},    {IE_TOS, 1},    {IE_VLAN, 2},    {0, 0}};
static const blast_field blast_v9_4[] = {
    {IE_OCTETS, 8}, {IE_PACKETS, 8},   {IE_V9_FIRST, 4}, {IE_V9_LAST, 4},
    {IE_SRC4, 4},   {IE_DST4, 4},      {IE_SPORT, 2},    {IE_DPORT, 2},
    {IE_ICMP4, 2},  {IE_TCP_FLAGS, 1}, {IE_PROTO, 1},    {IE_TOS, 1},
    {0, 0}};
static const blast_field blast_v9_6[] = {
    {IE_OCTETS, 8}, {IE_PACKETS, 8},   {IE_V9_FIRST, 4}, {IE_V9_LAST, 4},
    {IE_SRC6, 16},  {IE_DST6, 16},     {IE_SPORT, 2},    {IE_DPORT, 2},
    {IE_ICMP4, 2},  {IE_TCP_FLAGS, 1}, {IE_PROTO, 1},    {IE_TOS, 1},
    {0, 0}};

/* What one pool record contributes to the expectation. */
typedef struct blast_meta {
    uint32_t key;
    uint16_t cc;
    uint16_t packets;
    uint32_t bytes;
} blast_meta;

typedef struct blast_stream {
    uint32_t domain;
    uint32_t seq;
    guint64 msgs;
    guint64 records;
    guint64 datagrams;
    uint8_t tmpl[512];
    gsize tmpl_len;
} blast_stream;

typedef struct blast_bucket {
    int64_t start;
    guint32 *counts; /* per pool message */
} blast_bucket;

typedef struct blast {
    const flowgen_blast_config *cfg;
    const blast_field *fields;
    gsize rec_len, header_len, msg_len;
    gsize time_off[2]; /* offsets of the two time fields within a record */
    uint8_t *pool;     /* cfg->pool messages of msg_len bytes */
    blast_meta *meta;  /* cfg->pool * cfg->per_msg */
    GPtrArray *ccs;    /* char * country codes, index = blast_meta.cc */
    blast_stream *streams;
    guint nstreams;
    int *fds;
    struct sockaddr_storage dst;
    socklen_t dst_len;
    GArray *buckets; /* blast_bucket */
    guint64 records, datagrams, tmpl_datagrams, send_errors;
    double wall;
} blast;

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}
static void put_be(uint8_t *p, uint64_t v, gsize len)
{
    for (gsize i = 0; i < len; i++)
        p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

static gboolean blast_fail(GError **error, const char *message)
{
    g_set_error_literal(error, TT_FLOWGEN_ERROR, 1, message);
    return FALSE;
}

/* Parse "CC:W,CC:W": country codes into @a ccs, cumulative weights into @a cum. */
static gboolean blast_countries(const char *spec, GPtrArray *ccs, GArray *cum, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
    double total = 0;
    for (guint i = 0; parts[i] != NULL; i++) {
        g_strstrip(parts[i]);
        if (parts[i][0] == '\0')
            continue;
        char *colon = strchr(parts[i], ':');
        double w = 1;
        if (colon != NULL) {
            *colon = '\0';
            char *end = NULL;
            w = g_ascii_strtod(colon + 1, &end);
            if (end == colon + 1 || *end != '\0' || !(w > 0))
                return blast_fail(error, "--countries: weights must be positive numbers");
        }
        if (strlen(parts[i]) != 2)
            return blast_fail(error, "--countries: codes are two letters");
        if (ccs->len >= 65535)
            return blast_fail(error, "--countries: too many countries");
        g_ptr_array_add(ccs, g_ascii_strup(parts[i], -1));
        total += w;
        g_array_append_val(cum, total);
    }
    if (ccs->len == 0)
        return blast_fail(error, "--countries: no country");
    return TRUE;
}

static guint blast_pick(const double *cum, guint n, double r)
{
    guint lo = 0, hi = n - 1;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (cum[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Key of each pool record: a shuffled walk over the port space, or Zipf ranks. */
static uint32_t *blast_keys(const flowgen_blast_config *cfg, GRand *rand, guint n)
{
    uint32_t *perm = g_new(uint32_t, BLAST_KEYS);
    for (guint i = 0; i < BLAST_KEYS; i++)
        perm[i] = i;
    for (guint i = BLAST_KEYS - 1; i > 0; i--) {
        guint j = (guint)g_rand_int_range(rand, 0, (gint32)i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    uint32_t *keys = g_new(uint32_t, n);
    if (!cfg->zipf) {
        for (guint i = 0; i < n; i++)
            keys[i] = perm[i % BLAST_KEYS];
    } else {
        double *cum = g_new(double, BLAST_KEYS);
        double total = 0;
        for (guint r = 0; r < BLAST_KEYS; r++) {
            total += 1.0 / pow((double)r + 1, cfg->zipf_s);
            cum[r] = total;
        }
        for (guint i = 0; i < n; i++)
            keys[i] = perm[blast_pick(cum, BLAST_KEYS, g_rand_double(rand) * total)];
        g_free(cum);
    }
    g_free(perm);
    return keys;
}

static void blast_write_field(uint8_t *p, const blast_field *f, const uint8_t src[16],
                              const uint8_t dst[16], uint32_t key, const blast_meta *m)
{
    gboolean tcp = key < 65536;
    switch (f->id) {
    case IE_OCTETS:
        put_be(p, m->bytes, f->len);
        break;
    case IE_PACKETS:
        put_be(p, m->packets, f->len);
        break;
    case IE_PROTO:
        *p = tcp ? 6 : 17;
        break;
    case IE_TCP_FLAGS:
        put_be(p, tcp ? 0x02 : 0, f->len);
        break;
    case IE_SPORT:
        put16(p, 1024 + (key * 7919u) % 64000);
        break;
    case IE_DPORT:
        put16(p, key & 0xffffu);
        break;
    case IE_SRC4:
        memcpy(p, src + 12, 4);
        break;
    case IE_DST4:
        memcpy(p, dst + 12, 4);
        break;
    case IE_SRC6:
        memcpy(p, src, 16);
        break;
    case IE_DST6:
        memcpy(p, dst, 16);
        break;
    default: /* times are stamped at send time; ICMP, TOS, VLAN stay zero */
        memset(p, 0, f->len);
        break;
    }
}

/* tt_flowgen_geo_draw keeps the addresses already drawn in a set of 16-byte keys */
static guint blast_addr_hash(gconstpointer a)
{
    const uint8_t *p = a;
    guint h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static gboolean blast_addr_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

static gboolean blast_build(blast *b, GError **error)
{
    const flowgen_blast_config *cfg = b->cfg;
    gboolean v6 = cfg->family == 6;
    b->fields = cfg->v9 ? (v6 ? blast_v9_6 : blast_v9_4) : (v6 ? blast_ipfix6 : blast_ipfix4);
    b->header_len = cfg->v9 ? 20 : 16;
    gsize off = 0;
    guint t = 0;
    for (const blast_field *f = b->fields; f->id != 0; f++) {
        if (f->id == IE_START_MS || f->id == IE_END_MS || f->id == IE_V9_FIRST ||
            f->id == IE_V9_LAST)
            b->time_off[t++] = off;
        off += f->len;
    }
    b->rec_len = off;
    gsize body = 4 + cfg->per_msg * b->rec_len;
    if (cfg->v9)
        body = (body + 3) & ~(gsize)3; /* v9 flowsets are padded to 32 bits */
    b->msg_len = b->header_len + body;
    if (b->msg_len > 65507)
        return blast_fail(error, "--per-msg: message larger than a UDP datagram");

    g_autoptr(GRand) rand = g_rand_new_with_seed(cfg->seed);
    g_autoptr(GArray) cum = g_array_new(FALSE, FALSE, sizeof(double));
    b->ccs = g_ptr_array_new_with_free_func(g_free);
    if (!blast_countries(cfg->countries, b->ccs, cum, error))
        return FALSE;
    /* sources: cfg->sources per country, each checked to look up as its country */
    GArray **pools = g_new0(GArray *, b->ccs->len);
    gboolean ok = TRUE;
    g_autoptr(GHashTable) seen =
        g_hash_table_new_full(blast_addr_hash, blast_addr_equal, g_free, NULL);
    for (guint i = 0; i < b->ccs->len && ok; i++) {
        pools[i] = g_array_new(FALSE, FALSE, 16);
        ok = tt_flowgen_geo_draw(cfg->geo, rand, g_ptr_array_index(b->ccs, i), cfg->family,
                                 cfg->sources, seen, pools[i], error);
    }
    if (ok) {
        guint n = cfg->pool * cfg->per_msg;
        g_autofree uint32_t *keys = blast_keys(cfg, rand, n);
        b->pool = g_malloc0((gsize)cfg->pool * b->msg_len);
        b->meta = g_new0(blast_meta, n);
        const flowgen_prefix *dark = v6 ? &cfg->dark6 : &cfg->dark;
        for (guint m = 0; m < cfg->pool; m++) {
            uint8_t *msg = b->pool + (gsize)m * b->msg_len;
            uint8_t *set = msg + b->header_len;
            put16(set, BLAST_TID);
            put16(set + 2, (uint32_t)(b->msg_len - b->header_len));
            for (guint r = 0; r < cfg->per_msg; r++) {
                guint i = m * cfg->per_msg + r;
                blast_meta *meta = &b->meta[i];
                meta->key = keys[i];
                meta->cc = (uint16_t)blast_pick((const double *)(void *)cum->data, cum->len,
                                                g_rand_double(rand) *
                                                    g_array_index(cum, double, cum->len - 1));
                GArray *sp = pools[meta->cc];
                const uint8_t *src =
                    (const uint8_t *)sp->data + 16 * g_rand_int_range(rand, 0, (gint32)sp->len);
                uint8_t dst[16];
                tt_flowgen_prefix_random(dark, rand, TRUE, dst);
                meta->packets = (uint16_t)g_rand_int_range(rand, 1, 4);
                meta->bytes = meta->packets * (uint32_t)g_rand_int_range(rand, 40, 100);
                uint8_t *p = set + 4 + (gsize)r * b->rec_len;
                for (const blast_field *f = b->fields; f->id != 0; f++) {
                    blast_write_field(p, f, src, dst, meta->key, meta);
                    p += f->len;
                }
            }
        }
    }
    for (guint i = 0; i < b->ccs->len; i++)
        if (pools[i] != NULL)
            g_array_free(pools[i], TRUE);
    g_free(pools);
    return ok;
}

/* The template message of @a s, header fields filled at send time. */
static void blast_template(blast *b, blast_stream *s)
{
    uint8_t *p = s->tmpl + b->header_len;
    uint8_t *set = p;
    put16(set, b->cfg->v9 ? 0 : 2);
    p += 4;
    put16(p, BLAST_TID);
    guint n = 0;
    for (const blast_field *f = b->fields; f->id != 0; f++)
        n++;
    put16(p + 2, n);
    p += 4;
    for (const blast_field *f = b->fields; f->id != 0; f++) {
        put16(p, f->id);
        put16(p + 2, f->len);
        p += 4;
    }
    put16(set + 2, (uint32_t)(p - set));
    s->tmpl_len = (gsize)(p - s->tmpl);
}

/* Header of one message: @a count records (v9: flowset records), stream time @a ms. */
static void blast_header(blast *b, uint8_t *msg, gsize len, blast_stream *s, guint count,
                         int64_t ms)
{
    if (b->cfg->v9) {
        put16(msg, 9);
        put16(msg + 2, count);
        put32(msg + 4, (uint32_t)(ms - b->cfg->boot_ms));
        put32(msg + 8, (uint32_t)(ms / 1000));
        put32(msg + 12, s->seq++);
        put32(msg + 16, s->domain);
    } else {
        put16(msg, 10);
        put16(msg + 2, (uint32_t)len);
        put32(msg + 4, (uint32_t)((ms + 999) / 1000));
        put32(msg + 8, s->seq);
        put32(msg + 12, s->domain);
        s->seq += count;
    }
}

static void blast_stamp(blast *b, uint8_t *msg, int64_t ms)
{
    uint8_t *rec = msg + b->header_len + 4;
    gboolean v9 = b->cfg->v9;
    uint32_t up = (uint32_t)(ms - b->cfg->boot_ms);
    for (guint r = 0; r < b->cfg->per_msg; r++, rec += b->rec_len) {
        if (v9) {
            put32(rec + b->time_off[0], up);
            put32(rec + b->time_off[1], up);
        } else {
            put64(rec + b->time_off[0], (uint64_t)ms);
            put64(rec + b->time_off[1], (uint64_t)ms);
        }
    }
}

static guint32 *blast_counts(blast *b, int64_t ms)
{
    int64_t start = ms / 1000 / b->cfg->step * b->cfg->step;
    if (b->buckets->len > 0) {
        blast_bucket *last = &g_array_index(b->buckets, blast_bucket, b->buckets->len - 1);
        if (last->start == start)
            return last->counts;
    }
    blast_bucket nb = {start, g_new0(guint32, b->cfg->pool)};
    g_array_append_val(b->buckets, nb);
    return nb.counts;
}

static gboolean blast_open(blast *b, GError **error)
{
    const flowgen_blast_config *cfg = b->cfg;
    struct sockaddr_in *sin = (struct sockaddr_in *)&b->dst;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&b->dst;
    memset(&b->dst, 0, sizeof b->dst);
    gboolean dst6 = inet_pton(AF_INET, cfg->target.host, &sin->sin_addr) != 1;
    if (dst6) {
        if (inet_pton(AF_INET6, cfg->target.host, &sin6->sin6_addr) != 1)
            return blast_fail(error, "--out: not an address");
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(cfg->target.port);
        b->dst_len = sizeof *sin6;
    } else {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(cfg->target.port);
        b->dst_len = sizeof *sin;
    }
    b->fds = g_new(int, cfg->exporters);
    for (guint e = 0; e < cfg->exporters; e++)
        b->fds[e] = -1;
    struct in_addr base;
    if (inet_pton(AF_INET, cfg->bind != NULL ? cfg->bind : "127.0.0.1", &base) != 1 || dst6)
        if (cfg->exporters > 1 || cfg->bind != NULL)
            return blast_fail(error, "--exporters > 1 and --bind need an IPv4 loopback target");
    for (guint e = 0; e < cfg->exporters; e++) {
        int fd = socket(dst6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return blast_fail(error, g_strerror(errno));
        b->fds[e] = fd;
        int sndbuf = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        if (!dst6) {
            struct sockaddr_in src = {.sin_family = AF_INET};
            src.sin_addr.s_addr = htonl(ntohl(base.s_addr) + e);
            if ((ntohl(src.sin_addr.s_addr) >> 24) != 127)
                return blast_fail(error, "--bind: exporters must stay in 127.0.0.0/8");
            if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
                return blast_fail(error, g_strerror(errno));
        }
    }
    return TRUE;
}

static int64_t blast_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Send @a n prepared messages on exporter @a e, retrying partial sends. */
static void blast_sendmmsg(blast *b, guint e, struct mmsghdr *mm, guint n, guint *ok_msgs)
{
    guint done = 0;
    while (done < n) {
        int r = sendmmsg(b->fds[e], mm + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            b->send_errors++;
            ok_msgs[done] = 0; /* this one failed; skip it */
            done++;
            continue;
        }
        for (int i = 0; i < r; i++)
            ok_msgs[done + (guint)i] = 1;
        done += (guint)r;
    }
}

static gboolean blast_send(blast *b)
{
    const flowgen_blast_config *cfg = b->cfg;
    struct mmsghdr mm[BLAST_BATCH + 1];
    struct iovec iov[BLAST_BATCH + 1];
    guint ok_msgs[BLAST_BATCH + 1];
    guint pool_idx[BLAST_BATCH + 1];
    blast_stream *stream_of[BLAST_BATCH + 1];
    double compress = cfg->step_every > 0 ? (double)cfg->step / cfg->step_every : 1.0;
    guint per_batch = BLAST_BATCH;
    if (cfg->rate > 0) {
        /* about a millisecond of records per batch, so bursts stay small */
        double msgs_per_ms = cfg->rate / cfg->per_msg / 1000.0;
        per_batch = (guint)CLAMP(msgs_per_ms, 1, BLAST_BATCH);
    }
    guint64 limit = cfg->max_records > 0 ? cfg->max_records : G_MAXUINT64;
    int64_t t0 = blast_now_ns(), end = t0 + (int64_t)(cfg->seconds * 1e9);
    guint next = 0, exporter = 0;
    memset(mm, 0, sizeof mm);
    for (guint i = 0; i <= BLAST_BATCH; i++) {
        mm[i].msg_hdr.msg_name = &b->dst;
        mm[i].msg_hdr.msg_namelen = b->dst_len;
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    while (b->records < limit) {
        int64_t now = blast_now_ns();
        if (cfg->max_records == 0 && now >= end)
            break;
        if (cfg->rate > 0) {
            double due = cfg->rate * (double)(now - t0) / 1e9;
            if ((double)(b->records + (guint64)per_batch * cfg->per_msg) > due) {
                double wait_ns = ((double)(b->records + (guint64)per_batch * cfg->per_msg) - due) /
                                 cfg->rate * 1e9;
                if (wait_ns > 50000) {
                    struct timespec ts = {0, (long)MIN(wait_ns - 20000, 999999999.0)};
                    nanosleep(&ts, NULL);
                }
                continue;
            }
        }
        int64_t ms = cfg->start_ms + (int64_t)((double)(now - t0) / 1e6 * compress);
        guint32 *counts = blast_counts(b, ms);
        guint n = 0;
        guint want = per_batch;
        guint64 left = (limit - b->records) / cfg->per_msg + 1;
        if (want > left)
            want = (guint)left;
        for (guint i = 0; i < want; i++) {
            blast_stream *s = &b->streams[exporter * cfg->domains + (i % cfg->domains)];
            if (s->msgs % cfg->template_every == 0) {
                /* templates first and then every --template-every messages */
                blast_header(b, s->tmpl, s->tmpl_len, s, cfg->v9 ? 1 : 0, ms);
                iov[n].iov_base = s->tmpl;
                iov[n].iov_len = s->tmpl_len;
                pool_idx[n] = G_MAXUINT;
                stream_of[n] = s;
                n++;
                if (n > BLAST_BATCH - 1)
                    break;
            }
            uint8_t *msg = b->pool + (gsize)next * b->msg_len;
            blast_stamp(b, msg, ms);
            blast_header(b, msg, b->msg_len, s, cfg->per_msg, ms);
            s->msgs++;
            iov[n].iov_base = msg;
            iov[n].iov_len = b->msg_len;
            pool_idx[n] = next;
            stream_of[n] = s;
            n++;
            next = (next + 1) % cfg->pool;
            if (n >= BLAST_BATCH)
                break;
        }
        blast_sendmmsg(b, exporter, mm, n, ok_msgs);
        for (guint i = 0; i < n; i++) {
            if (!ok_msgs[i])
                continue;
            stream_of[i]->datagrams++;
            if (pool_idx[i] == G_MAXUINT) {
                b->tmpl_datagrams++;
                continue;
            }
            counts[pool_idx[i]]++;
            stream_of[i]->records += cfg->per_msg;
            b->records += cfg->per_msg;
            b->datagrams++;
        }
        exporter = (exporter + 1) % cfg->exporters;
    }
    b->wall = (double)(blast_now_ns() - t0) / 1e9;
    return TRUE;
}

static const char *blast_key_name(uint32_t key, char *buf, gsize size)
{
    g_snprintf(buf, size, "%u/%s", key & 0xffffu, key < 65536 ? "tcp" : "udp");
    return buf;
}

static gboolean blast_expect(blast *b, GError **error)
{
    const flowgen_blast_config *cfg = b->cfg;
    g_autoptr(GString) out = g_string_new(NULL);
    guint ncc = b->ccs->len;
    guint64 *port = g_new(guint64, BLAST_KEYS * 3);
    guint64 *cc = g_new(guint64, ncc * 3);
    for (guint bi = 0; bi < b->buckets->len; bi++) {
        blast_bucket *bk = &g_array_index(b->buckets, blast_bucket, bi);
        memset(port, 0, sizeof(guint64) * BLAST_KEYS * 3);
        memset(cc, 0, sizeof(guint64) * ncc * 3);
        guint64 tot[3] = {0};
        for (guint m = 0; m < cfg->pool; m++) {
            guint64 c = bk->counts[m];
            if (c == 0)
                continue;
            for (guint r = 0; r < cfg->per_msg; r++) {
                const blast_meta *mt = &b->meta[m * cfg->per_msg + r];
                const guint64 v[3] = {c, c * mt->packets, c * mt->bytes};
                for (int k = 0; k < 3; k++) {
                    port[mt->key * 3 + k] += v[k];
                    cc[mt->cc * 3 + k] += v[k];
                    tot[k] += v[k];
                }
            }
        }
        if (tot[0] == 0)
            continue;
#define BLAST_LINE(dim, key, v)                                                                    \
    do {                                                                                           \
        g_string_append_printf(out,                                                                \
                               "{\"start\":%" PRId64 ",\"end\":%" PRId64 ",\"sensor\":\"%s\",",    \
                               bk->start, bk->start + cfg->step, cfg->sensor);                     \
        g_string_append_printf(out,                                                                \
                               "\"dim\":\"%s\",\"key\":\"%s\",\"flows\":%" PRIu64                  \
                               ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}\n",                \
                               dim, key, (v)[0], (v)[1], (v)[2]);                                  \
    } while (0)
        BLAST_LINE("total", "all", tot);
        char name[16];
        for (guint k = 0; k < BLAST_KEYS; k++)
            if (port[k * 3] > 0)
                BLAST_LINE("port", blast_key_name(k, name, sizeof name), &port[k * 3]);
        for (guint k = 0; k < ncc; k++)
            if (cc[k * 3] > 0)
                BLAST_LINE("country", (const char *)g_ptr_array_index(b->ccs, k), &cc[k * 3]);
#undef BLAST_LINE
    }
    g_free(port);
    g_free(cc);
    return g_file_set_contents(cfg->expect, out->str, (gssize)out->len, error);
}

static gboolean blast_report(blast *b, GError **error)
{
    const flowgen_blast_config *cfg = b->cfg;
    guint64 packets = 0, bytes = 0;
    for (guint bi = 0; bi < b->buckets->len; bi++) {
        blast_bucket *bk = &g_array_index(b->buckets, blast_bucket, bi);
        for (guint m = 0; m < cfg->pool; m++)
            for (guint r = 0; r < cfg->per_msg && bk->counts[m] > 0; r++) {
                packets += (guint64)bk->counts[m] * b->meta[m * cfg->per_msg + r].packets;
                bytes += (guint64)bk->counts[m] * b->meta[m * cfg->per_msg + r].bytes;
            }
    }
    g_autoptr(GString) out = g_string_new(NULL);
    g_string_append_printf(
        out,
        "{\"records\":%" G_GUINT64_FORMAT ",\"packets\":%" G_GUINT64_FORMAT
        ",\"bytes\":%" G_GUINT64_FORMAT ",\"datagrams\":%" G_GUINT64_FORMAT
        ",\"template_datagrams\":%" G_GUINT64_FORMAT ",\"send_errors\":%" G_GUINT64_FORMAT
        ",\"seconds\":%.3f,\"rate\":%.0f,\"record_bytes\":%zu,\"records_per_datagram\":%u,"
        "\"datagram_bytes\":%zu,\"buckets\":%u,\"streams\":[",
        b->records, packets, bytes, b->datagrams, b->tmpl_datagrams, b->send_errors, b->wall,
        b->wall > 0 ? (double)b->records / b->wall : 0.0, b->rec_len, cfg->per_msg, b->msg_len,
        b->buckets->len);
    for (guint i = 0; i < b->nstreams; i++) {
        const blast_stream *s = &b->streams[i];
        g_string_append_printf(out,
                               "%s{\"exporter\":%u,\"domain\":%u,\"records\":%" G_GUINT64_FORMAT
                               ",\"datagrams\":%" G_GUINT64_FORMAT ",\"next_seq\":%u}",
                               i ? "," : "", i / cfg->domains, s->domain, s->records, s->datagrams,
                               s->seq);
    }
    g_string_append(out, "]}\n");
    if (cfg->report == NULL) {
        fputs(out->str, stdout);
        return TRUE;
    }
    return g_file_set_contents(cfg->report, out->str, (gssize)out->len, error);
}

gboolean tt_flowgen_blast_run(const flowgen_blast_config *cfg, GError **error)
{
    g_return_val_if_fail(cfg != NULL && cfg->geo != NULL, FALSE);
    if (cfg->target.kind != FLOWGEN_OUT_UDP)
        return blast_fail(error, "--blast sends over udp:// only");
    if (cfg->per_msg < 1 || cfg->pool < 2 * BLAST_BATCH || cfg->exporters < 1 || cfg->domains < 1 ||
        cfg->template_every < 1 || cfg->step < 1)
        return blast_fail(error, "--blast: --per-msg, --exporters, --domains, --template-every "
                                 "must be positive and --pool at least 128");
    if ((guint64)cfg->exporters * cfg->domains > 65536)
        return blast_fail(error, "--blast: at most 65536 exporter/domain streams");
    if (cfg->max_records == 0 && !(cfg->seconds > 0))
        return blast_fail(error, "--blast needs --seconds or --records");
    blast b = {.cfg = cfg};
    gboolean ok = FALSE;
    b.buckets = g_array_new(FALSE, FALSE, sizeof(blast_bucket));
    if (!blast_build(&b, error) || !blast_open(&b, error))
        goto err_free;
    b.nstreams = cfg->exporters * cfg->domains;
    b.streams = g_new0(blast_stream, b.nstreams);
    for (guint i = 0; i < b.nstreams; i++) {
        b.streams[i].domain = cfg->domain + i % cfg->domains;
        blast_template(&b, &b.streams[i]);
    }
    ok = blast_send(&b) && (cfg->expect == NULL || blast_expect(&b, error)) &&
         blast_report(&b, error);

err_free:
    for (guint i = 0; i < b.buckets->len; i++)
        g_free(g_array_index(b.buckets, blast_bucket, i).counts);
    g_array_free(b.buckets, TRUE);
    if (b.fds != NULL)
        for (guint e = 0; e < cfg->exporters; e++)
            if (b.fds[e] >= 0)
                close(b.fds[e]);
    g_free(b.fds);
    g_free(b.streams);
    g_free(b.pool);
    g_free(b.meta);
    if (b.ccs != NULL)
        g_ptr_array_free(b.ccs, TRUE);
    return ok;
}
