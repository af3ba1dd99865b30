/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sensor.c - the exporter allow-list, sensor lookup and the darknet filter.
 *
 * A table is built once from a tt_config and never changes; a reload builds a
 * new one and the caller swaps it in. Sensors sit in an array by index, so the
 * per-flow calls (tt_sensor_is_dark, tt_sensor_sampling) are an array access.
 * Prefixes are kept as two host-order 64-bit words plus precomputed masks: a
 * membership test is two AND and two compares, with no byte loops. A sensor
 * has a handful of prefixes, so a linear scan beats any trie here.
 *
 * Exporter lookup takes the first sensor, in file order, with a matching entry
 * (not the longest prefix): the order is what the operator wrote, and it is
 * documented in docs/configuration.md.
 *
 * Index stability: a name present in the previous table keeps its index; a new
 * name gets the next index never handed out in this process (next_index is
 * carried from table to table), so per-sensor state held by plugins and RRD
 * paths never silently changes owner across a SIGHUP.
 */
#include "sensor.h"

#include <string.h>

typedef struct sensor_net {
    uint64_t hi, lo;   /* network, host order, host bits cleared */
    uint64_t mhi, mlo; /* netmask */
} sensor_net;

typedef struct sensor_exporter {
    sensor_net net;
    gboolean any_domain;
    uint32_t domain;
} sensor_exporter;

typedef struct sensor_entry {
    char *name; /* NULL: index not used by this table */
    sensor_exporter *exporters;
    guint n_exporters;
    sensor_net *dark;
    guint n_dark;
    uint32_t sampling;
    uint64_t dark_size;
} sensor_entry;

struct tt_sensor_table {
    sensor_entry *entries; /* by index, count of them */
    uint32_t count;        /* one past the highest index in use */
    uint32_t *order;       /* indexes in config order, for exporter lookup */
    uint32_t n_order;
    uint32_t next_index; /* lowest index never handed out in this process */
};

static inline void sensor_words(const uint8_t addr[16], uint64_t *hi, uint64_t *lo)
{
    uint64_t w[2];

    memcpy(w, addr, 16);
    *hi = GUINT64_FROM_BE(w[0]);
    *lo = GUINT64_FROM_BE(w[1]);
}

static inline gboolean sensor_net_contains(const sensor_net *net, uint64_t hi, uint64_t lo)
{
    return (hi & net->mhi) == net->hi && (lo & net->mlo) == net->lo;
}

static void sensor_net_init(sensor_net *net, const tt_prefix *prefix)
{
    guint len = MIN(prefix->len, 128);
    uint64_t hi, lo;

    /* Shifts by 64 are undefined in C, so the edge lengths are spelt out. */
    net->mhi = len == 0 ? 0 : (len >= 64 ? G_MAXUINT64 : G_MAXUINT64 << (64 - len));
    net->mlo = len <= 64 ? 0 : (len == 128 ? G_MAXUINT64 : G_MAXUINT64 << (128 - len));
    sensor_words(prefix->addr, &hi, &lo);
    net->hi = hi & net->mhi;
    net->lo = lo & net->mlo;
}

/* Is @inner inside @outer (or equal to it)? */
static gboolean sensor_prefix_within(const tt_prefix *inner, const tt_prefix *outer)
{
    return outer->len <= inner->len && tt_prefix_contains(outer, inner->addr);
}

/*
 * Addresses in the union of @prefixes. Two prefixes are either disjoint or one
 * contains the other, so counting only the prefixes not inside an earlier-equal
 * or wider one gives the exact union. Saturates at UINT64_MAX.
 */
static uint64_t sensor_dark_size(const GArray *prefixes)
{
    uint64_t total = 0;

    for (guint i = 0; i < prefixes->len; i++) {
        const tt_prefix *p = &g_array_index(prefixes, tt_prefix, i);
        gboolean covered = FALSE;
        uint64_t size;

        for (guint j = 0; j < prefixes->len && !covered; j++) {
            const tt_prefix *q = &g_array_index(prefixes, tt_prefix, j);

            if (i == j || !sensor_prefix_within(p, q))
                continue;
            /* Identical prefixes: only the first one counts. */
            covered = q->len < p->len || j < i;
        }
        if (covered)
            continue;
        if (p->len <= 64)
            return UINT64_MAX;
        size = (uint64_t)1 << (128 - p->len);
        if (total > UINT64_MAX - size)
            return UINT64_MAX;
        total += size;
    }
    return total;
}

static void sensor_entry_fill(sensor_entry *entry, const tt_sensor_conf *conf)
{
    entry->name = g_strdup(conf->name);
    entry->sampling = conf->sampling;
    entry->n_exporters = conf->exporters->len;
    entry->exporters = g_new0(sensor_exporter, MAX(entry->n_exporters, 1));
    for (guint i = 0; i < entry->n_exporters; i++) {
        const tt_exporter_match *m = &g_array_index(conf->exporters, tt_exporter_match, i);

        sensor_net_init(&entry->exporters[i].net, &m->prefix);
        entry->exporters[i].any_domain = m->any_domain;
        entry->exporters[i].domain = m->domain;
    }
    entry->n_dark = conf->darknet->len;
    entry->dark = g_new0(sensor_net, MAX(entry->n_dark, 1));
    for (guint i = 0; i < entry->n_dark; i++)
        sensor_net_init(&entry->dark[i], &g_array_index(conf->darknet, tt_prefix, i));
    entry->dark_size = sensor_dark_size(conf->darknet);
}

tt_sensor_table *tt_sensor_table_new(const tt_config *config, const tt_sensor_table *previous)
{
    tt_sensor_table *table;
    uint32_t next, n;
    g_autofree uint32_t *index_of = NULL;

    g_return_val_if_fail(config != NULL, NULL);

    n = config->sensors->len;
    index_of = g_new0(uint32_t, MAX(n, 1));
    next = previous != NULL ? previous->next_index : 0;
    for (uint32_t i = 0; i < n; i++) {
        const tt_sensor_conf *conf = config->sensors->pdata[i];
        uint32_t kept = TT_SENSOR_NONE;

        for (uint32_t j = 0; previous != NULL && j < previous->count; j++) {
            if (previous->entries[j].name != NULL &&
                strcmp(previous->entries[j].name, conf->name) == 0) {
                kept = j;
                break;
            }
        }
        index_of[i] = kept != TT_SENSOR_NONE ? kept : next++;
    }

    table = g_new0(tt_sensor_table, 1);
    table->next_index = next;
    for (uint32_t i = 0; i < n; i++)
        table->count = MAX(table->count, index_of[i] + 1);
    table->entries = g_new0(sensor_entry, MAX(table->count, 1));
    table->order = g_new0(uint32_t, MAX(n, 1));
    table->n_order = n;
    for (uint32_t i = 0; i < n; i++) {
        const tt_sensor_conf *conf = config->sensors->pdata[i];

        sensor_entry_fill(&table->entries[index_of[i]], conf);
        table->order[i] = index_of[i];
    }
    return table;
}

void tt_sensor_table_free(tt_sensor_table *table)
{
    if (table == NULL)
        return;
    for (uint32_t i = 0; i < table->count; i++) {
        g_free(table->entries[i].name);
        g_free(table->entries[i].exporters);
        g_free(table->entries[i].dark);
    }
    g_free(table->entries);
    g_free(table->order);
    g_free(table);
}

uint32_t tt_sensor_lookup(const tt_sensor_table *table, const uint8_t addr[16], uint32_t domain)
{
    uint64_t hi, lo;

    g_return_val_if_fail(table != NULL, TT_SENSOR_NONE);
    g_return_val_if_fail(addr != NULL, TT_SENSOR_NONE);

    sensor_words(addr, &hi, &lo);
    for (uint32_t i = 0; i < table->n_order; i++) {
        const sensor_entry *entry = &table->entries[table->order[i]];

        for (guint j = 0; j < entry->n_exporters; j++) {
            const sensor_exporter *e = &entry->exporters[j];

            if ((e->any_domain || e->domain == domain) && sensor_net_contains(&e->net, hi, lo))
                return table->order[i];
        }
    }
    return TT_SENSOR_NONE;
}

static inline const sensor_entry *sensor_get(const tt_sensor_table *table, uint32_t sensor)
{
    if (sensor >= table->count || table->entries[sensor].name == NULL)
        return NULL;
    return &table->entries[sensor];
}

gboolean tt_sensor_is_dark(const tt_sensor_table *table, uint32_t sensor, const uint8_t dst[16])
{
    const sensor_entry *entry;
    uint64_t hi, lo;

    g_return_val_if_fail(table != NULL, FALSE);
    g_return_val_if_fail(dst != NULL, FALSE);

    entry = sensor_get(table, sensor);
    if (entry == NULL)
        return FALSE;
    sensor_words(dst, &hi, &lo);
    for (guint i = 0; i < entry->n_dark; i++) {
        if (sensor_net_contains(&entry->dark[i], hi, lo))
            return TRUE;
    }
    return FALSE;
}

uint32_t tt_sensor_sampling(const tt_sensor_table *table, uint32_t sensor)
{
    const sensor_entry *entry;

    g_return_val_if_fail(table != NULL, 0);

    entry = sensor_get(table, sensor);
    return entry != NULL ? entry->sampling : 0;
}

const char *tt_sensor_name(const tt_sensor_table *table, uint32_t sensor)
{
    const sensor_entry *entry;

    g_return_val_if_fail(table != NULL, NULL);

    entry = sensor_get(table, sensor);
    return entry != NULL ? entry->name : NULL;
}

uint32_t tt_sensor_count(const tt_sensor_table *table)
{
    g_return_val_if_fail(table != NULL, 0);

    return table->count;
}

uint64_t tt_sensor_dark_size(const tt_sensor_table *table, uint32_t sensor)
{
    const sensor_entry *entry;

    g_return_val_if_fail(table != NULL, 0);

    entry = sensor_get(table, sensor);
    return entry != NULL ? entry->dark_size : 0;
}
