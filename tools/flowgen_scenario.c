/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen_scenario.c - the seeded scenario and its exact expectation.
 *
 * One GRand seeded with --seed drives every choice, in a fixed order: first
 * the source pools (country by country, in the order of --countries, v4 then
 * v6), then each record (time, port mix entry, family, country, source, leak,
 * destination, ports and flags, packets, duration, jitter). Nothing depends on
 * the host clock or on the transport, so the same seed gives byte-identical
 * files and identical expectations.
 *
 * Records are emitted sorted by start time plus a seeded jitter below one
 * second, as a probe exports them: almost ordered, never exactly.
 *
 * The expectation is computed from the records themselves, not from the
 * weights, so it is exact by construction; it mirrors the collector's jsonl
 * plugin line for line (one line per step, dimension and key with flows) so a
 * test compares them with sort + diff. Rejected: deriving counts from the
 * weights (rounding), and a per-dimension file layout (harder to diff).
 */
#include "flowgen.h"
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

const char tt_flowgen_default_ports[] = "23/tcp:40,2323/tcp:8,22/tcp:8,445/tcp:7,80/tcp:6,"
                                        "8080/tcp:4,1433/tcp:3,3389/tcp:3,5555/tcp:2,53/udp:3,"
                                        "123/udp:1,icmp:5,tail:10";

#define FLOWGEN_PROTO_ICMP 1
#define FLOWGEN_PROTO_TCP 6
#define FLOWGEN_PROTO_UDP 17
#define FLOWGEN_PROTO_ICMP6 58
#define FLOWGEN_TCP_SYN 0x02
#define FLOWGEN_TCP_ACK 0x10

typedef enum flowgen_port_kind {
    FLOWGEN_PORT_FIXED,
    FLOWGEN_PORT_ICMP,
    FLOWGEN_PORT_ICMP6,
    FLOWGEN_PORT_TAIL,
} flowgen_port_kind;

typedef struct flowgen_port_item {
    flowgen_port_kind kind;
    uint8_t proto;
    uint16_t port;
    double cumulative;
} flowgen_port_item;

typedef struct flowgen_country {
    char cc[3];
    double cumulative;
    GArray *pool[2]; /* [0] IPv4, [1] IPv6 sources: uint8_t[16] each */
} flowgen_country;

static gboolean flowgen_weight_parse(const char *item, char **name, double *weight, GError **error)
{
    const char *colon = strrchr(item, ':');
    char *end = NULL;
    if (colon == NULL || colon == item)
        goto err_syntax;
    *weight = g_ascii_strtod(colon + 1, &end);
    if (end == colon + 1 || *end != '\0' || !(*weight >= 0) || isinf(*weight))
        goto err_syntax;
    *name = g_strstrip(g_strndup(item, (gsize)(colon - item)));
    return TRUE;

err_syntax:
    g_set_error(error, TT_FLOWGEN_ERROR, 1, "'%s' is not NAME:WEIGHT", item);
    return FALSE;
}

/*
 * One NAME of a NAME:WEIGHT list, checked and written into *@a item (zeroed; the
 * caller sets its cumulative weight); @a items holds the entries so far.
 */
typedef gboolean (*flowgen_entry_fn)(const char *name, const GArray *items, void *item,
                                     GError **error);

/*
 * The comma-separated NAME:WEIGHT list @a spec of @a option into @a items, whose
 * elements hold their cumulative weight as a double at @a offset. Every NAME is
 * checked by @a entry, also one of weight 0, which is then left out. FALSE, with
 * the option named, on a bad entry or when no weight is positive.
 */
static gboolean flowgen_weights_parse(const char *spec, const char *option, GArray *items,
                                      gsize offset, flowgen_entry_fn entry, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
    gsize size = g_array_get_element_size(items);
    g_autofree void *item = g_malloc(size);
    double total = 0;
    for (guint i = 0; parts[i] != NULL; i++) {
        g_autofree char *name = NULL;
        double weight;
        memset(item, 0, size);
        if (!flowgen_weight_parse(g_strstrip(parts[i]), &name, &weight, error) ||
            !entry(name, items, item, error)) {
            g_prefix_error(error, "%s: ", option);
            return FALSE;
        }
        if (weight == 0)
            continue;
        total += weight;
        memcpy((char *)item + offset, &total, sizeof total);
        g_array_append_vals(items, item, 1);
    }
    if (total <= 0) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "%s: no entry with a positive weight", option);
        return FALSE;
    }
    return TRUE;
}

static gboolean flowgen_port_entry(const char *name, const GArray *items, void *item,
                                   GError **error)
{
    (void)items;
    flowgen_port_item *it = item;
    guint64 port;
    const char *slash = strchr(name, '/');
    if (g_ascii_strcasecmp(name, "icmp") == 0) {
        it->kind = FLOWGEN_PORT_ICMP;
    } else if (g_ascii_strcasecmp(name, "icmp6") == 0) {
        it->kind = FLOWGEN_PORT_ICMP6;
    } else if (g_ascii_strcasecmp(name, "tail") == 0) {
        it->kind = FLOWGEN_PORT_TAIL;
    } else if (slash != NULL &&
               (g_ascii_strcasecmp(slash, "/tcp") == 0 || g_ascii_strcasecmp(slash, "/udp") == 0)) {
        g_autofree char *num = g_strndup(name, (gsize)(slash - name));
        if (!g_ascii_string_to_unsigned(num, 10, 0, 65535, &port, NULL))
            goto err_entry;
        it->kind = FLOWGEN_PORT_FIXED;
        it->port = (uint16_t)port;
        it->proto = g_ascii_strcasecmp(slash, "/tcp") == 0 ? FLOWGEN_PROTO_TCP : FLOWGEN_PROTO_UDP;
    } else {
        goto err_entry;
    }
    return TRUE;

err_entry:
    g_set_error(error, TT_FLOWGEN_ERROR, 1, "'%s' is not PORT/tcp, PORT/udp, icmp, icmp6 or tail",
                name);
    return FALSE;
}

static GArray *flowgen_ports_parse(const char *spec, GError **error)
{
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(flowgen_port_item));
    if (!flowgen_weights_parse(spec, "--ports", items,
                               G_STRUCT_OFFSET(flowgen_port_item, cumulative), flowgen_port_entry,
                               error))
        return NULL;
    return g_steal_pointer(&items);
}

static void flowgen_country_clear(gpointer data)
{
    flowgen_country *c = data;
    g_clear_pointer(&c->pool[0], g_array_unref);
    g_clear_pointer(&c->pool[1], g_array_unref);
}

static gboolean flowgen_country_entry(const char *name, const GArray *items, void *item,
                                      GError **error)
{
    flowgen_country *c = item;
    if (strlen(name) != 2 || !g_ascii_isalpha(name[0]) || !g_ascii_isalpha(name[1])) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "'%s' is not a country code", name);
        return FALSE;
    }
    for (guint j = 0; j < items->len; j++)
        if (g_ascii_strcasecmp(g_array_index(items, flowgen_country, j).cc, name) == 0) {
            g_set_error(error, TT_FLOWGEN_ERROR, 1, "%s given twice", name);
            return FALSE;
        }
    c->cc[0] = g_ascii_toupper(name[0]);
    c->cc[1] = g_ascii_toupper(name[1]);
    return TRUE;
}

static GArray *flowgen_countries_parse(const char *spec, GError **error)
{
    g_autoptr(GArray) items = g_array_new(FALSE, TRUE, sizeof(flowgen_country));
    g_array_set_clear_func(items, flowgen_country_clear);
    if (!flowgen_weights_parse(spec, "--countries", items,
                               G_STRUCT_OFFSET(flowgen_country, cumulative), flowgen_country_entry,
                               error))
        return NULL;
    return g_steal_pointer(&items);
}

/* The cumulative weight of item @a i: the double at @a offset in it (copied out:
 * no cast of the byte pointer). */
static double flowgen_cumulative(const void *items, guint i, gsize size, gsize offset)
{
    double c;
    memcpy(&c, (const char *)items + i * size + offset, sizeof c);
    return c;
}

static guint flowgen_pick(GRand *rand, const void *items, guint n, gsize size, gsize offset)
{
    double r = g_rand_double(rand) * flowgen_cumulative(items, n - 1, size, offset);
    for (guint i = 0; i < n; i++)
        if (r < flowgen_cumulative(items, i, size, offset))
            return i;
    return n - 1;
}

static guint flowgen_addr_hash(gconstpointer key)
{
    const uint8_t *a = key;
    guint h = 5381;
    for (guint i = 0; i < 16; i++)
        h = h * 33 + a[i];
    return h;
}

static gboolean flowgen_addr_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

static gboolean flowgen_pools_draw(GArray *countries, const flowgen_scenario_config *config,
                                   flowgen_geo *geo, GRand *rand, GError **error)
{
    g_autoptr(GHashTable) taken =
        g_hash_table_new_full(flowgen_addr_hash, flowgen_addr_equal, g_free, NULL);
    for (guint i = 0; i < countries->len; i++) {
        flowgen_country *c = &g_array_index(countries, flowgen_country, i);
        for (int f = 0; f < (config->has_dark6 ? 2 : 1); f++) {
            int family = f == 0 ? 4 : 6;
            if (tt_flowgen_geo_count(geo, c->cc, family) == 0)
                continue;
            c->pool[f] = g_array_new(FALSE, FALSE, 16);
            if (!tt_flowgen_geo_draw(geo, rand, c->cc, family, config->sources, taken, c->pool[f],
                                     error))
                return FALSE;
        }
        if (c->pool[0] == NULL && c->pool[1] == NULL) {
            g_set_error(error, TT_FLOWGEN_ERROR, 1,
                        "country %s has no %snetwork in the GeoIP source", c->cc,
                        config->has_dark6 ? "" : "IPv4 ");
            return FALSE;
        }
    }
    return TRUE;
}

static gint flowgen_flow_cmp(gconstpointer a, gconstpointer b)
{
    const flowgen_flow *x = a, *y = b;
    return x->order_ms < y->order_ms ? -1 : x->order_ms > y->order_ms;
}

static void flowgen_flow_make(flowgen_flow *f, const flowgen_scenario_config *config, GArray *ports,
                              GArray *countries, const flowgen_prefix lit[2], GRand *rand)
{
    int64_t duration_ms = config->duration_s * 1000;
    f->start_ms = config->start_ms + (int64_t)(g_rand_double(rand) * (double)duration_ms);
    const flowgen_port_item *it =
        &g_array_index(ports, flowgen_port_item,
                       flowgen_pick(rand, ports->data, ports->len, sizeof(flowgen_port_item),
                                    G_STRUCT_OFFSET(flowgen_port_item, cumulative)));
    gboolean v6 = it->kind == FLOWGEN_PORT_ICMP6;
    if (it->kind != FLOWGEN_PORT_ICMP && it->kind != FLOWGEN_PORT_ICMP6)
        v6 = config->has_dark6 && g_rand_double(rand) < config->v6_fraction;
    const flowgen_country *c =
        &g_array_index(countries, flowgen_country,
                       flowgen_pick(rand, countries->data, countries->len, sizeof(flowgen_country),
                                    G_STRUCT_OFFSET(flowgen_country, cumulative)));
    /* a country without networks of the family sends from the other one */
    if (c->pool[v6] == NULL)
        v6 = !v6;
    GArray *pool = c->pool[v6];
    memcpy(f->src,
           &g_array_index(pool, uint8_t, 16 * (guint)g_rand_int_range(rand, 0, (gint32)pool->len)),
           16);
    memcpy(f->country, c->cc, 2);
    f->family = v6 ? 6 : 4;
    f->leak = g_rand_double(rand) < config->leak_fraction;
    tt_flowgen_prefix_random(f->leak ? &lit[v6]
                             : v6    ? &config->dark6
                                     : &config->dark,
                             rand, FALSE, f->dst);

    switch (it->kind) {
    case FLOWGEN_PORT_ICMP:
    case FLOWGEN_PORT_ICMP6:
        f->proto = v6 ? FLOWGEN_PROTO_ICMP6 : FLOWGEN_PROTO_ICMP;
        f->dst_port = v6 ? 128 * 256 : 8 * 256;
        break;
    case FLOWGEN_PORT_TAIL:
        f->proto = g_rand_boolean(rand) ? FLOWGEN_PROTO_TCP : FLOWGEN_PROTO_UDP;
        f->dst_port = (uint16_t)g_rand_int_range(rand, 0, 65536);
        break;
    case FLOWGEN_PORT_FIXED:
        f->proto = it->proto;
        f->dst_port = it->port;
        break;
    }
    if (f->proto == FLOWGEN_PROTO_TCP && g_rand_double(rand) < config->backscatter_fraction) {
        /* the answer of a victim whose address was spoofed: from its service port */
        f->tcp_flags = FLOWGEN_TCP_SYN | FLOWGEN_TCP_ACK;
        f->src_port = g_rand_boolean(rand) ? 80 : 443;
        f->dst_port = (uint16_t)g_rand_int_range(rand, 1024, 65536);
    } else if (f->proto == FLOWGEN_PROTO_TCP) {
        f->tcp_flags = FLOWGEN_TCP_SYN;
        f->src_port = (uint16_t)g_rand_int_range(rand, 1024, 65536);
    } else if (f->proto == FLOWGEN_PROTO_UDP) {
        f->src_port = (uint16_t)g_rand_int_range(rand, 1024, 65536);
    }
    f->packets = (uint64_t)g_rand_int_range(rand, 1, 4);
    uint64_t size = f->proto == FLOWGEN_PROTO_TCP ? 40 : f->proto == FLOWGEN_PROTO_UDP ? 60 : 84;
    f->bytes = f->packets * (size + (v6 ? 20 : 0));
    f->end_ms = f->start_ms + g_rand_int_range(rand, 0, 2001);
    f->order_ms = f->start_ms + g_rand_int_range(rand, 0, 1000);
}

GArray *tt_flowgen_scenario_build(const flowgen_scenario_config *config, flowgen_geo *geo,
                                  GError **error)
{
    g_return_val_if_fail(config != NULL && geo != NULL, NULL);
    g_autoptr(GArray) ports = flowgen_ports_parse(config->ports, error);
    if (ports == NULL)
        return NULL;
    g_autoptr(GArray) countries = flowgen_countries_parse(config->countries, error);
    if (countries == NULL)
        return NULL;
    for (guint i = 0; i < ports->len; i++)
        if (g_array_index(ports, flowgen_port_item, i).kind == FLOWGEN_PORT_ICMP6 &&
            !config->has_dark6) {
            g_set_error(error, TT_FLOWGEN_ERROR, 1, "--ports: icmp6 needs --dark6");
            return NULL;
        }

    flowgen_prefix lit[2];
    tt_flowgen_prefix_parse("198.51.100.0/24", &lit[0], NULL);
    tt_flowgen_prefix_parse("2001:db8:100::/48", &lit[1], NULL);
    if (tt_flowgen_prefix_overlaps(&lit[0], &config->dark) ||
        (config->has_dark6 && tt_flowgen_prefix_overlaps(&lit[1], &config->dark6))) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1,
                    "the darknet overlaps the lit space leaks go to (198.51.100.0/24, "
                    "2001:db8:100::/48)");
        return NULL;
    }

    g_autoptr(GRand) rand = g_rand_new_with_seed(config->seed);
    if (!flowgen_pools_draw(countries, config, geo, rand, error))
        return NULL;

    g_autoptr(GArray) flows =
        g_array_sized_new(FALSE, TRUE, sizeof(flowgen_flow), (guint)MIN(config->flows, G_MAXUINT));
    for (guint64 i = 0; i < config->flows; i++) {
        flowgen_flow f = {0};
        flowgen_flow_make(&f, config, ports, countries, lit, rand);
        g_array_append_val(flows, f);
    }
    /* g_array_sort is stable, so equal keys keep their generation order */
    g_array_sort(flows, flowgen_flow_cmp);
    return g_steal_pointer(&flows);
}

typedef struct flowgen_count {
    uint64_t flows, packets, bytes;
} flowgen_count;

static void flowgen_count_add(GHashTable *counts, int64_t bucket, int dim, const char *key,
                              const flowgen_flow *f, guint32 sampling)
{
    /* zero-padded so that sorting the keys sorts by start, dimension, key */
    char *k = g_strdup_printf("%020" PRId64 "\t%d\t%s", bucket, dim, key);
    flowgen_count *c = g_hash_table_lookup(counts, k);
    if (c == NULL) {
        c = g_new0(flowgen_count, 1);
        g_hash_table_insert(counts, k, c);
    } else {
        g_free(k);
    }
    c->flows++;
    c->packets += f->packets * sampling;
    c->bytes += f->bytes * sampling;
}

static int flowgen_key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean flowgen_summary_write(GArray *flows, const char *path, guint32 sampling,
                                      GError **error)
{
    g_autoptr(GHashTable) sources =
        g_hash_table_new_full(flowgen_addr_hash, flowgen_addr_equal, NULL, NULL);
    g_autoptr(GHashTable) per_country = g_hash_table_new(g_str_hash, g_str_equal);
    uint64_t observed = 0;
    int64_t first = INT64_MAX, last = INT64_MIN, last_end = INT64_MIN;
    for (guint i = 0; i < flows->len; i++) {
        flowgen_flow *f = &g_array_index(flows, flowgen_flow, i);
        first = MIN(first, f->start_ms);
        last = MAX(last, f->start_ms);
        last_end = MAX(last_end, f->end_ms);
        if (f->leak)
            continue;
        observed++;
        if (g_hash_table_add(sources, f->src)) {
            char cc[3] = {f->country[0], f->country[1], '\0'};
            const char *key = g_intern_string(cc);
            guint n = GPOINTER_TO_UINT(g_hash_table_lookup(per_country, key));
            g_hash_table_insert(per_country, (gpointer)key, GUINT_TO_POINTER(n + 1));
        }
    }
    if (flows->len == 0)
        first = last = last_end = 0;

    g_autoptr(GString) out = g_string_new(NULL);
    g_string_append_printf(out,
                           "{\"records\":%u,\"observed\":%" PRIu64 ",\"leaks\":%" PRIu64
                           ",\"sampling\":%u,\"distinct_sources\":%u,\"per_country_sources\":{",
                           flows->len, observed, flows->len - observed, sampling,
                           g_hash_table_size(sources));
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(per_country, NULL);
    guint n = g_hash_table_size(per_country);
    qsort(keys, n, sizeof(gpointer), flowgen_key_cmp);
    for (guint i = 0; i < n; i++)
        g_string_append_printf(out, "%s\"%s\":%u", i ? "," : "", (const char *)keys[i],
                               GPOINTER_TO_UINT(g_hash_table_lookup(per_country, keys[i])));
    g_string_append_printf(
        out, "},\"first\":%" PRId64 ",\"last\":%" PRId64 ",\"last_end\":%" PRId64 "}\n", first,
        last, last_end);
    return g_file_set_contents(path, out->str, (gssize)out->len, error);
}

gboolean tt_flowgen_expect_write(GArray *flows, const char *path, int64_t step, const char *sensor,
                                 guint32 sampling, GError **error)
{
    g_return_val_if_fail(flows != NULL && path != NULL && step > 0 && sensor != NULL, FALSE);
    static const char *const dims[] = {"total", "port", "country"};
    g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < flows->len; i++) {
        const flowgen_flow *f = &g_array_index(flows, flowgen_flow, i);
        if (f->leak)
            continue;
        int64_t secs = f->start_ms / 1000;
        int64_t bucket = secs / step * step;
        char port[16], cc[3] = {f->country[0], f->country[1], '\0'};
        if (f->proto == FLOWGEN_PROTO_ICMP || f->proto == FLOWGEN_PROTO_ICMP6)
            g_strlcpy(port, f->proto == FLOWGEN_PROTO_ICMP ? "icmp" : "icmp6", sizeof port);
        else
            g_snprintf(port, sizeof port, "%u/%s", f->dst_port,
                       f->proto == FLOWGEN_PROTO_TCP ? "tcp" : "udp");
        flowgen_count_add(counts, bucket, 0, "all", f, sampling);
        flowgen_count_add(counts, bucket, 1, port, f, sampling);
        flowgen_count_add(counts, bucket, 2, cc, f, sampling);
    }

    guint n = 0;
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(counts, &n);
    qsort(keys, n, sizeof(gpointer), flowgen_key_cmp);
    g_autoptr(GString) out = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        const flowgen_count *c = g_hash_table_lookup(counts, keys[i]);
        g_auto(GStrv) parts = g_strsplit(keys[i], "\t", 3);
        int64_t bucket = g_ascii_strtoll(parts[0], NULL, 10);
        g_string_append_printf(
            out, "{\"start\":%" PRId64 ",\"end\":%" PRId64 ",\"sensor\":", bucket, bucket + step);
        tt_json_append_string(out, sensor);
        g_string_append_printf(out, ",\"dim\":\"%s\",\"key\":", dims[parts[1][0] - '0']);
        tt_json_append_string(out, parts[2]);
        g_string_append_printf(
            out, ",\"flows\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}\n",
            c->flows, c->packets, c->bytes);
    }
    if (!g_file_set_contents(path, out->str, (gssize)out->len, error))
        return FALSE;
    g_autofree char *summary = g_strconcat(path, ".summary.json", NULL);
    return flowgen_summary_write(flows, summary, sampling, error);
}
