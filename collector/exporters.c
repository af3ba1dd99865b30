/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exporters.c - the exporter table, observation domains, sequence tracking
 * and per-exporter stats (design in exporters.h).
 *
 * Shared (UDP) exporters live in a hash table keyed by (kind, listener,
 * address, port); private ones (TCP connections, files) in an array. Under
 * the caps a new shared exporter evicts the junk first: among exporters that
 * never delivered a decodable record the least recently heard, else the least
 * recently heard of all. An exporter that goes leaves its stats in the
 * retired totals, so counters never run backwards in stats.json.
 *
 * Rejected: evicting observation domains (libfixbuf has no call that frees a
 * domain's template table, so it would not give the memory back) and an LRU
 * list for eviction (a scan at the cap is cheap next to what a new exporter
 * costs, and keeps the hot path free of list updates).
 */
#include "exporters.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "sensor.h"

/* Sequence gaps this large or larger are a reset or reordering, not loss. */
#define SEQ_GAP_MAX (1 << 30)

typedef struct {
    tt_listen_kind kind;
    guint listener_id;
    uint16_t port;
    uint8_t addr[16];
} exporter_key;

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

void tt_decoder_count_malformed(tt_exporter *exporter, tt_wire_status status)
{
    g_return_if_fail(exporter != NULL && status > TT_WIRE_OK && status < TT_WIRE_REASON_COUNT);
    exporter->stats.dropped[TT_DROP_WIRE]++;
    exporter->stats.wire_reasons[status]++;
}

/* ---- exporters ----------------------------------------------------------- */

static tt_exporter *exporter_new(tt_exporter_table *t, tt_listen_kind kind, const uint8_t addr[16],
                                 uint16_t port, const char *label, int64_t now)
{
    tt_exporter *e = g_new0(tt_exporter, 1);

    e->table = t;
    e->kind = kind;
    memcpy(e->addr, addr, 16);
    e->port = port;
    g_strlcpy(e->label, label, sizeof e->label);
    e->domains = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    e->tids = g_hash_table_new(g_direct_hash, g_direct_equal);
    e->stats.first_seen = now;
    e->stats.last_seen = now;
    e->stats.sampling = 1;
    e->forced_sensor = TT_SENSOR_NONE;
    t->attach(t->hook_data, e);
    return e;
}

/* The retired stats of @a sensor's slot (the last slot: TT_SENSOR_NONE), grown on demand. */
static tt_exporter_stats *retired_slot(tt_exporter_table *t, uint32_t sensor)
{
    GArray *a = t->retired_by_sensor;
    /* sensors keep their index across reloads (sensor.c): a slot is always the same one */
    guint i = sensor == TT_SENSOR_NONE ? 0 : sensor + 1;
    if (i >= a->len)
        g_array_set_size(a, i + 1);
    return &g_array_index(a, tt_exporter_stats, i);
}

static void exporter_free(gpointer p)
{
    tt_exporter *e = p;
    if (e == NULL)
        return;
    stats_add(&e->table->retired, &e->stats);
    stats_add(retired_slot(e->table, tt_exporter_sensor(e)), &e->stats);
    e->table->detach(e->table->hook_data, e);
    g_hash_table_destroy(e->domains);
    g_hash_table_destroy(e->tids);
    if (e->refusals_logged != NULL)
        g_hash_table_destroy(e->refusals_logged);
    g_free(e);
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

void tt_exporters_init(tt_exporter_table *t, tt_exporter_hook attach, tt_exporter_hook detach,
                       void *hook_data)
{
    memset(t, 0, sizeof *t);
    t->sensor_gen = 1;
    t->attach = attach;
    t->detach = detach;
    t->hook_data = hook_data;
    t->sessions = g_array_new(FALSE, TRUE, sizeof(guint));
    t->retired_by_sensor = g_array_new(FALSE, TRUE, sizeof(tt_exporter_stats));
    t->shared = g_hash_table_new_full(exporter_key_hash, exporter_key_equal, g_free, exporter_free);
    t->privates = g_ptr_array_new_with_free_func(exporter_free);
}

void tt_exporters_clear(tt_exporter_table *t)
{
    g_hash_table_destroy(t->shared);
    g_ptr_array_free(t->privates, TRUE);
    g_array_free(t->sessions, TRUE);
    g_array_free(t->retired_by_sensor, TRUE);
}

/*
 * Make room for one exporter, on @a listener_id only when @a listener_only.
 * Junk goes first: among exporters that never delivered a decodable record
 * (spoofed sources, scanners poking the port) the least recently heard; only
 * when there is none, the least recently heard exporter of all.
 */
static gboolean exporters_evict_one(tt_exporter_table *t, gboolean listener_only, guint listener_id)
{
    GHashTableIter it;
    gpointer k, v;
    gpointer victim_key = NULL;
    gboolean victim_real = TRUE;
    int64_t oldest = INT64_MAX;

    g_hash_table_iter_init(&it, t->shared);
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
    const tt_exporter *victim = g_hash_table_lookup(t->shared, victim_key);
    if (victim->listener_id < t->sessions->len)
        g_array_index(t->sessions, guint, victim->listener_id)--;
    g_hash_table_remove(t->shared, victim_key);
    t->evictions++;
    return TRUE;
}

tt_exporter *tt_exporters_shared(tt_exporter_table *t, tt_listen_kind kind, guint listener_id,
                                 const struct sockaddr *peer, int64_t now)
{
    exporter_key key;
    memset(&key, 0, sizeof key);
    key.kind = kind;
    key.listener_id = listener_id;
    tt_addr16_from_sockaddr(peer, key.addr, &key.port);

    tt_exporter *e = g_hash_table_lookup(t->shared, &key);
    if (e != NULL) {
        e->stats.last_seen = now;
        return e;
    }
    if (listener_id >= t->sessions->len)
        g_array_set_size(t->sessions, listener_id + 1);
    guint *sessions = &g_array_index(t->sessions, guint, listener_id);
    if (*sessions >= t->max_sessions && !exporters_evict_one(t, TRUE, listener_id))
        return NULL;
    if (g_hash_table_size(t->shared) + t->privates->len >= t->max_exporters &&
        !exporters_evict_one(t, FALSE, 0))
        return NULL;

    char host[INET6_ADDRSTRLEN], label[96];
    tt_addr16_format(key.addr, host, sizeof host);
    g_snprintf(label, sizeof label, tt_addr_is_v4(key.addr) ? "%s:%u" : "[%s]:%u", host, key.port);
    e = exporter_new(t, kind, key.addr, key.port, label, now);
    e->listener_id = listener_id;
    g_hash_table_insert(t->shared, g_memdup2(&key, sizeof key), e);
    (*sessions)++;
    return e;
}

gboolean tt_exporters_room(const tt_exporter_table *t)
{
    return g_hash_table_size(t->shared) + t->privates->len < t->max_exporters;
}

tt_exporter *tt_exporters_private(tt_exporter_table *t, tt_listen_kind kind, const char *label,
                                  const uint8_t addr[16], int64_t now)
{
    tt_exporter *e = exporter_new(t, kind, addr, 0, label, now);
    e->is_private = TRUE;
    g_ptr_array_add(t->privates, e);
    return e;
}

void tt_exporters_release(tt_exporter_table *t, tt_exporter *e)
{
    if (e->is_private)
        g_ptr_array_remove_fast(t->privates, e); /* frees through the destroy notifier */
}

void tt_exporters_foreach(tt_exporter_table *t, void (*fn)(const tt_exporter *, void *), void *data)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, t->shared);
    while (g_hash_table_iter_next(&it, NULL, &v))
        fn(v, data);
    for (guint i = 0; i < t->privates->len; i++)
        fn(g_ptr_array_index(t->privates, i), data);
}

guint tt_exporters_count(const tt_exporter_table *t)
{
    return g_hash_table_size(t->shared) + t->privates->len;
}

/* ---- domains ------------------------------------------------------------- */

/*
 * Each domain costs our tt_domain and a template table inside libfixbuf's
 * session that libfixbuf never frees, so a sender cycling observation domain
 * IDs (32 bits of them) must not create one per message. Refusing the new
 * domain, not evicting an old one, keeps the domains that were there first.
 */
tt_domain *tt_exporter_domain(tt_exporter *e, uint32_t domain)
{
    tt_exporter_table *t = e->table;
    tt_domain *dom = e->last_domain;
    if (dom == NULL || dom->domain != domain) {
        dom = g_hash_table_lookup(e->domains, GUINT_TO_POINTER(domain));
        if (dom == NULL) {
            if (g_hash_table_size(e->domains) >= t->max_domains) {
                e->stats.dropped[TT_DROP_DOMAIN_CAP]++;
                return NULL;
            }
            dom = g_new0(tt_domain, 1);
            dom->domain = domain;
            dom->sensor_gen = t->sensor_gen - 1; /* resolve on first use */
            g_hash_table_insert(e->domains, GUINT_TO_POINTER(domain), dom);
        }
        e->last_domain = dom;
    }
    if (dom->sensor_gen != t->sensor_gen) {
        if (e->forced_sensor != TT_SENSOR_NONE)
            dom->sensor = e->forced_sensor;
        else
            dom->sensor = t->resolver != NULL ? t->resolver(t->resolver_data, e->addr, domain)
                                              : TT_SENSOR_NONE;
        dom->sensor_gen = t->sensor_gen;
    }
    return dom;
}

void tt_exporter_force_sensor(tt_exporter *e, uint32_t sensor)
{
    g_return_if_fail(e != NULL);
    e->forced_sensor = sensor;
    e->last_domain = NULL;
    g_hash_table_remove_all(e->domains);
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
void tt_exporter_sequence(tt_exporter *e, tt_domain *dom, uint32_t seq, uint32_t records,
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
            if (gap > 0 && gap < SEQ_GAP_MAX)
                e->stats.seq_lost += (uint64_t)gap;
        }
    }
    dom->seq_valid = TRUE;
    dom->prev_seq = seq;
    dom->prev_records = records;
    dom->prev_data = data_records;
    dom->prev_templates = template_records;
}

/* ---- what records and messages were refused for -------------------------- */

/*
 * What tt_normalise() (or the v5 path's tt_normalise_times()) clamped or
 * refused: counted always, logged once per exporter. TRUE: keep the record.
 */
gboolean tt_exporter_verdict(tt_exporter *e, int64_t clamp_max_ms, tt_norm_status st,
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
                      e->label, note->skew_ms / 1000, clamp_max_ms / 1000);
        }
    }
    switch (st) {
    case TT_NORM_OK:
    case TT_NORM_CLAMPED:
        return TRUE;
    case TT_NORM_FUTURE:
        e->stats.future_records++;
        if (!e->future_logged) { /* not behind a clamp's line: an exporter often has both */
            e->future_logged = TRUE;
            g_warning("%s: a record starts %" G_GINT64_FORMAT
                      " s after its message's export time, beyond clamp-max (%" G_GINT64_FORMAT
                      " s): refused as future_records (logged once per exporter, all counted). "
                      "Likely cause: a capture replayed by softflowd -r without -A milli (its "
                      "times count from its own uptime and land far from the export time), or an "
                      "exporter clock that is wrong, as in a replay of old data; see "
                      "docs/quickstart.md (replaying captures) and clamp-max in "
                      "docs/configuration.md",
                      e->label, note->skew_ms / 1000, clamp_max_ms / 1000);
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

/*
 * A message's export time against the host clock. Ahead by more than
 * export-ahead-max: refused whole (dropped.clock_ahead), so nothing it carries
 * can reach a sensor's clock from the future; behind is fine (replays). The
 * offset is kept per exporter and logged once (a router on local time sits
 * hours off). FALSE: drop the message.
 */
gboolean tt_exporter_export_time(tt_exporter *e, int64_t ahead_max_ms, int64_t export_ms)
{
    int64_t host_ms = g_get_real_time() / 1000;
    int64_t offset_s = (export_ms - host_ms) / 1000;

    e->stats.clock_offset_s = offset_s;
    e->stats.clock_offset_known = TRUE;
    if (tt_time_export_ahead(export_ms, host_ms, ahead_max_ms)) {
        e->stats.clock_ahead++;
        if (!e->ahead_logged) {
            e->ahead_logged = TRUE;
            g_warning("%s: export time %" G_GINT64_FORMAT " s ahead of the host clock, beyond "
                      "export-ahead-max (%" G_GINT64_FORMAT " s): message refused as "
                      "clock_ahead",
                      e->label, offset_s, ahead_max_ms / 1000);
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

/* ---- accessors ------------------------------------------------------------ */

uint32_t tt_exporter_sensor(const tt_exporter *e)
{
    if (e->forced_sensor != TT_SENSOR_NONE)
        return e->forced_sensor;
    uint32_t sensor = TT_SENSOR_NONE;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, e->domains);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const tt_domain *dom = v;
        if (dom->sensor == TT_SENSOR_NONE)
            continue;
        if (sensor != TT_SENSOR_NONE && sensor != dom->sensor)
            return TT_SENSOR_NONE; /* several sensors: not one's to carry */
        sensor = dom->sensor;
    }
    return sensor;
}

const tt_exporter_stats *tt_exporters_retired_for(const tt_exporter_table *t, uint32_t sensor)
{
    guint i = sensor == TT_SENSOR_NONE ? 0 : sensor + 1;
    return i < t->retired_by_sensor->len
               ? &g_array_index(t->retired_by_sensor, tt_exporter_stats, i)
               : NULL;
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
