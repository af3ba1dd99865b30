/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * geo.c - source country lookup through libmaxminddb; the only file that
 * includes <maxminddb.h>, so libmaxminddb's status codes end here as GError.
 *
 * Schema detection reads the data, never the database_type (DB-IP, IPinfo and
 * ip-location-db name their files freely): a bounded depth-first walk of the
 * search tree from node 0 visits data records in address order until one holds
 * country.iso_code or registered_country.iso_code (MaxMind / DB-IP) or a flat
 * country_code (IPinfo / ip-location-db). Probing a few well-known addresses
 * was rejected: a small or regional database need not cover any of them, and a
 * first record may lack a country (anonymous or continent-only networks).
 *
 * Lookups are read-only on an mmap'ed file and safe on any thread. IPv4 lookups
 * first read a flat table of every /24 (2^24 x 2 bytes = 32 MiB of anonymous
 * memory): an entry is the country of the whole /24, or GEO_V4_MIXED where the
 * database splits that /24 (or its tree is unreadable there); only those take
 * the paths below, so answers stay MMDB_lookup's. The table is filled one /16 at
 * a time, at the first lookup that lands in it, by walking that /16's part of the
 * search tree with MMDB_read_node (at most 16 nodes down to it, then its subtree):
 * a darknet hears from a fraction of the /16s in its first minutes, most of the
 * table is never touched by a short backfill, and what is never touched is never
 * resident. Building all of it at open cost 12.7 M instructions on the dispatch
 * thread with the test database (635 a record of bench/micro/run's 20,000, issue
 * 14) and 20-110 ms with real ones, before the first datagram was read. A /16 is
 * claimed by one thread (an atomic state byte: not walked, being walked, walked);
 * a lookup meeting a /16 another thread is walking takes the cache path below, and
 * entries are written and read with relaxed atomics, only ever from "not walked"
 * to their final value, so a reader sees either. The table lives in the handle: a
 * SIGHUP reload swaps it with the database. Rejected: a sorted range array (a
 * binary search over the ~400 000 IPv4 ranges of a real database is ~19 dependent
 * misses), and a bigger cache (a hit already cost a hash, a mask check and, with
 * the plugins' sets around it, a likely miss into 2 MiB; every first sight of a
 * /24, i.e. a scan, still paid a libmaxminddb lookup, ~200-500 ns).
 *
 * Mixed /24s go through a direct-mapped cache indexed by a hash of the /24 (a
 * /16 index missed constantly where a /16 is split between countries). An entry
 * holds what libmaxminddb answered: the network found (address and netmask) and
 * its country, packed into one 64-bit word written and read atomically, so
 * threads share it without locks; a hit is used only if the address lies inside
 * the cached network, which makes it exact for a /24 split between countries; a
 * collision only costs a lookup.
 */
#include "geo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include <teiten/flow.h>

G_DEFINE_QUARK(tt_geo_error_quark, tt_geo_error)

#define GEO_CACHE_BITS 18
#define GEO_CACHE_SLOTS (1u << GEO_CACHE_BITS) /* 2 MiB */
#define GEO_CACHE_VALID (UINT64_C(1) << 63)
#define GEO_PROBE_MAX_NODES (1u << 20)
#define GEO_PROBE_MAX_RECORDS 4096u
#define GEO_PROBE_STACK 160 /* > 128 levels of an IPv6 tree, plus pending right children */
#define GEO_V4_SLASH24 (1u << 24)
#define GEO_V4_SLASH16 (1u << 16)
#define GEO_V4_UNWALKED 0 /* its /16 not walked yet: anonymous pages come zeroed */
#define GEO_V4_MIXED 1    /* split or unreadable: no two-letter code packs to 0 or 1 */
#define GEO_V4_BYTES (GEO_V4_SLASH24 * sizeof(uint16_t)) /* 32 MiB */
#define GEO_CODES_SLOTS 64                               /* a walk's memo of data offset -> code */

enum { GEO_SLASH16_UNWALKED, GEO_SLASH16_WALKING, GEO_SLASH16_WALKED };

typedef enum { GEO_SCHEMA_ISO, GEO_SCHEMA_FLAT } geo_schema;

struct tt_geo {
    MMDB_s mmdb;
    geo_schema schema;
    char *path;
    /* Per /24: cc[0] | cc[1] << 8 of the whole /24, GEO_V4_MIXED or GEO_V4_UNWALKED. */
    _Atomic uint16_t *v4;
    _Atomic uint8_t v4_walked[GEO_V4_SLASH16]; /* per /16: GEO_SLASH16_* */
    /* The record deciding 0.0.0.0/0: IPv4's root node, or one record above ::/96. */
    uint8_t v4_root_type;
    uint64_t v4_root_record;
    MMDB_entry_s v4_root_entry;
    /* Bits 0-31 network, 32-37 prefix length, 48-57 country index, 63 valid. */
    _Atomic uint64_t cache[GEO_CACHE_SLOTS];
};

static inline uint32_t geo_slot(uint32_t v4)
{
    return ((v4 >> 8) * 0x9E3779B1u) >> (32 - GEO_CACHE_BITS);
}

/* Copy a two-letter code at @path of @entry, upper-cased, into @cc. */
static gboolean geo_get_code(MMDB_entry_s *entry, char cc[2], const char *const *path)
{
    MMDB_entry_data_s data;
    const char *s;

    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2)
        return FALSE;
    s = data.utf8_string;
    if (!g_ascii_isalpha(s[0]) || !g_ascii_isalpha(s[1]))
        return FALSE;
    cc[0] = g_ascii_toupper(s[0]);
    cc[1] = g_ascii_toupper(s[1]);
    return TRUE;
}

static const char *const geo_path_iso[] = {"country", "iso_code", NULL};
static const char *const geo_path_registered[] = {"registered_country", "iso_code", NULL};
static const char *const geo_path_flat[] = {"country_code", NULL};

static inline void geo_set_zz(char cc[2])
{
    cc[0] = 'Z';
    cc[1] = 'Z';
}

static gboolean geo_entry_country(const tt_geo *geo, MMDB_entry_s *entry, char cc[2])
{
    if (geo->schema == GEO_SCHEMA_FLAT)
        return geo_get_code(entry, cc, geo_path_flat);
    return geo_get_code(entry, cc, geo_path_iso) || geo_get_code(entry, cc, geo_path_registered);
}

static gboolean geo_probe_record(MMDB_entry_s *entry, geo_schema *schema)
{
    char cc[2];

    if (geo_get_code(entry, cc, geo_path_iso) || geo_get_code(entry, cc, geo_path_registered)) {
        *schema = GEO_SCHEMA_ISO;
        return TRUE;
    }
    if (geo_get_code(entry, cc, geo_path_flat)) {
        *schema = GEO_SCHEMA_FLAT;
        return TRUE;
    }
    return FALSE;
}

static gboolean geo_probe(tt_geo *geo, GError **error)
{
    uint32_t stack[GEO_PROBE_STACK];
    guint depth = 0, nodes = 0, records = 0;

    stack[depth++] = 0;
    while (depth > 0 && nodes < GEO_PROBE_MAX_NODES && records < GEO_PROBE_MAX_RECORDS) {
        MMDB_search_node_s node;
        int status = MMDB_read_node(&geo->mmdb, stack[--depth], &node);

        if (status != MMDB_SUCCESS) {
            g_set_error(error, TT_GEO_ERROR, 0, "%s: reading the search tree: %s", geo->path,
                        MMDB_strerror(status));
            return FALSE;
        }
        nodes++;
        /* Left before right: records come out in address order. */
        if (node.left_record_type == MMDB_RECORD_TYPE_DATA) {
            records++;
            if (geo_probe_record(&node.left_record_entry, &geo->schema))
                return TRUE;
        }
        if (node.right_record_type == MMDB_RECORD_TYPE_DATA) {
            records++;
            if (geo_probe_record(&node.right_record_entry, &geo->schema))
                return TRUE;
        }
        if (node.right_record_type == MMDB_RECORD_TYPE_SEARCH_NODE && depth < GEO_PROBE_STACK)
            stack[depth++] = (uint32_t)node.right_record;
        if (node.left_record_type == MMDB_RECORD_TYPE_SEARCH_NODE && depth < GEO_PROBE_STACK)
            stack[depth++] = (uint32_t)node.left_record;
    }
    g_set_error(error, TT_GEO_ERROR, 0,
                "%s: no country data found (neither country.iso_code nor country_code)", geo->path);
    return FALSE;
}

typedef struct {
    const tt_geo *geo;
    _Atomic uint16_t *table;
    /* data offset + 1 and packed code: records repeat a lot within a /16 */
    uint32_t memo_offset[GEO_CODES_SLOTS];
    uint16_t memo_code[GEO_CODES_SLOTS];
} geo_walk;

static inline uint16_t geo_pack(const char cc[2])
{
    return (uint16_t)((uint8_t)cc[0] | (uint16_t)(uint8_t)cc[1] << 8);
}

static uint16_t geo_walk_code(geo_walk *w, MMDB_entry_s *entry)
{
    uint32_t key = entry->offset + 1, slot = (key * 0x9E3779B1u) >> (32 - 6);
    char cc[2];

    if (w->memo_offset[slot] == key)
        return w->memo_code[slot];
    if (!geo_entry_country(w->geo, entry, cc))
        geo_set_zz(cc);
    w->memo_offset[slot] = key;
    w->memo_code[slot] = geo_pack(cc);
    return w->memo_code[slot];
}

/* @a count /24s from @a first get @a v (at most the 256 of one /16). */
static void geo_walk_fill(geo_walk *w, uint32_t first, uint32_t count, uint16_t v)
{
    for (uint32_t i = 0; i < count; i++)
        atomic_store_explicit(&w->table[first + i], v, memory_order_relaxed);
}

/*
 * One record of the tree that decides the IPv4 prefix @prefix of @len bits
 * (16..24). Whatever MMDB_lookup would answer for every address under it
 * goes into its /24s, except a search node at /24 (the database splits that
 * /24) and an unreadable record, which become GEO_V4_MIXED and so are looked
 * up in full, error handling included.
 */
static void geo_walk_record(geo_walk *w, uint8_t type, uint64_t record, MMDB_entry_s *entry,
                            uint32_t prefix, unsigned len)
{
    uint32_t first = prefix << (24 - len), count = 1u << (24 - len);
    MMDB_search_node_s node;

    switch (type) {
    case MMDB_RECORD_TYPE_DATA:
        geo_walk_fill(w, first, count, geo_walk_code(w, entry));
        return;
    case MMDB_RECORD_TYPE_EMPTY:
        geo_walk_fill(w, first, count, geo_pack("ZZ"));
        return;
    case MMDB_RECORD_TYPE_SEARCH_NODE:
        if (len == 24 ||
            MMDB_read_node((MMDB_s *)&w->geo->mmdb, (uint32_t)record, &node) != MMDB_SUCCESS)
            return;
        geo_walk_record(w, node.left_record_type, node.left_record, &node.left_record_entry,
                        prefix << 1, len + 1);
        geo_walk_record(w, node.right_record_type, node.right_record, &node.right_record_entry,
                        prefix << 1 | 1, len + 1);
        return;
    default:
        return;
    }
}

/*
 * Fill the 256 entries of the /16 @a slash16: down the tree from IPv4's root
 * along its 16 bits (a record met on the way covers the whole /16), then its
 * subtree; what the walk left unwalked is split or unreadable: GEO_V4_MIXED.
 */
static void geo_walk_slash16(const tt_geo *geo, uint32_t slash16)
{
    geo_walk w = {.geo = geo, .table = geo->v4};
    uint8_t type = geo->v4_root_type;
    uint64_t record = geo->v4_root_record;
    MMDB_entry_s entry = geo->v4_root_entry;
    MMDB_search_node_s node;
    unsigned len = 0;

    for (; len < 16 && type == MMDB_RECORD_TYPE_SEARCH_NODE; len++) {
        if (MMDB_read_node((MMDB_s *)&geo->mmdb, (uint32_t)record, &node) != MMDB_SUCCESS)
            break;
        gboolean right = (slash16 >> (15 - len)) & 1;
        type = right ? node.right_record_type : node.left_record_type;
        record = right ? node.right_record : node.left_record;
        entry = right ? node.right_record_entry : node.left_record_entry;
    }
    if (len == 16 || type != MMDB_RECORD_TYPE_SEARCH_NODE)
        geo_walk_record(&w, type, record, &entry, slash16, 16);
    for (uint32_t i = slash16 << 8; i < (slash16 + 1) << 8; i++)
        if (atomic_load_explicit(&w.table[i], memory_order_relaxed) == GEO_V4_UNWALKED)
            atomic_store_explicit(&w.table[i], GEO_V4_MIXED, memory_order_relaxed);
}

/*
 * TRUE when the /16 of @a v4 is in the table (walked now if nobody had);
 * FALSE while another thread walks it.
 */
static gboolean geo_v4_walked(const tt_geo *geo, uint32_t v4)
{
    _Atomic uint8_t *state = &((tt_geo *)geo)->v4_walked[v4 >> 16];
    uint8_t seen = atomic_load_explicit(state, memory_order_acquire);

    if (seen == GEO_SLASH16_UNWALKED &&
        atomic_compare_exchange_strong_explicit(state, &seen, GEO_SLASH16_WALKING,
                                                memory_order_acquire, memory_order_acquire)) {
        geo_walk_slash16(geo, v4 >> 16);
        atomic_store_explicit(state, GEO_SLASH16_WALKED, memory_order_release);
        return TRUE;
    }
    return seen == GEO_SLASH16_WALKED;
}

/*
 * IPv4's root is node 0 of an IPv4 database, or the end of 96 left turns
 * (::/96) in an IPv6 one; libmaxminddb's own lookup finds it the same way, so
 * a record met on the way covers all of IPv4 as it does there. The table is
 * reserved here and filled by lookups (geo_v4_walked).
 */
static void geo_map_v4(tt_geo *geo)
{
    MMDB_search_node_s node;
    uint32_t root = 0;
    unsigned turns = geo->mmdb.metadata.ip_version == 6 ? 96 : 0;

    geo->v4_root_type = MMDB_RECORD_TYPE_SEARCH_NODE;
    for (unsigned i = 0; i < turns; i++) {
        if (MMDB_read_node(&geo->mmdb, root, &node) != MMDB_SUCCESS)
            return;
        if (node.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
            geo->v4_root_type = node.left_record_type;
            geo->v4_root_record = node.left_record;
            geo->v4_root_entry = node.left_record_entry;
            break;
        }
        root = (uint32_t)node.left_record;
    }
    if (geo->v4_root_type == MMDB_RECORD_TYPE_SEARCH_NODE)
        geo->v4_root_record = root;
    /*
     * Transparent huge pages keep a source mix spread over the 32 MiB from
     * missing the TLB on every lookup (THP is "madvise" on Debian). Without a
     * table every IPv4 lookup takes the cache path, so a failure here costs
     * speed only.
     */
    void *table;
    /* cppcheck-suppress invalidFunctionArg ; fd -1 is what MAP_ANONYMOUS asks for */
    table = mmap(NULL, GEO_V4_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED) {
        g_warning("%s: no memory for the IPv4 table (%s); IPv4 lookups go through the cache",
                  geo->path, g_strerror(errno));
        /* cppcheck-suppress memleak ; MAP_FAILED is no mapping */
        return;
    }
    madvise(table, GEO_V4_BYTES, MADV_HUGEPAGE);
    geo->v4 = table;
}

tt_geo *tt_geo_open(const char *path, GError **error)
{
    tt_geo *geo;
    int status;

    g_return_val_if_fail(path != NULL, NULL);

    geo = g_new0(tt_geo, 1);
    geo->path = g_strdup(path);
    status = MMDB_open(path, MMDB_MODE_MMAP, &geo->mmdb);
    if (status != MMDB_SUCCESS) {
        int saved = errno;

        if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR)
            g_set_error(error, TT_GEO_ERROR, status, "%s: %s: %s", path, MMDB_strerror(status),
                        g_strerror(saved));
        else
            g_set_error(error, TT_GEO_ERROR, status, "%s: %s", path, MMDB_strerror(status));
        goto err_free_geo;
    }
    if (!geo_probe(geo, error))
        goto err_close_mmdb;
    geo_map_v4(geo);
    return geo;

err_close_mmdb:
    MMDB_close(&geo->mmdb);
err_free_geo:
    g_free(geo->path);
    g_free(geo);
    return NULL;
}

void tt_geo_free(tt_geo *geo)
{
    if (geo == NULL)
        return;
    MMDB_close(&geo->mmdb);
    if (geo->v4 != NULL)
        munmap((void *)geo->v4, GEO_V4_BYTES);
    g_free(geo->path);
    g_free(geo);
}

static inline uint32_t geo_v4_mask(unsigned len)
{
    return len == 0 ? 0 : (uint32_t)(UINT32_MAX << (32 - len));
}

void tt_geo_prefetch(const tt_geo *geo, const uint8_t addr[16])
{
    if (geo == NULL || geo->v4 == NULL || !tt_addr_is_v4(addr))
        return;
    uint32_t v4 = (uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 | (uint32_t)addr[14] << 8;
    __builtin_prefetch(&geo->v4[v4 >> 8]);
}

void tt_geo_lookup(const tt_geo *geo, const uint8_t addr[16], char cc[2])
{
    MMDB_lookup_result_s result;
    union {
        struct sockaddr sa;
        struct sockaddr_in sin;
        struct sockaddr_in6 sin6;
    } sa;
    uint32_t v4 = 0;
    int mmdb_error;
    gboolean is_v4;

    g_return_if_fail(addr != NULL);
    g_return_if_fail(cc != NULL);

    if (geo == NULL) {
        geo_set_zz(cc);
        return;
    }

    is_v4 = tt_addr_is_v4(addr);
    if (is_v4) {
        uint64_t e;

        v4 = (uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 | (uint32_t)addr[14] << 8 |
             addr[15];
        if (geo->v4 != NULL) {
            uint16_t packed = atomic_load_explicit(&geo->v4[v4 >> 8], memory_order_relaxed);

            if (packed == GEO_V4_UNWALKED && geo_v4_walked(geo, v4))
                packed = atomic_load_explicit(&geo->v4[v4 >> 8], memory_order_relaxed);
            if (packed > GEO_V4_MIXED) {
                cc[0] = (char)(packed & 0xff);
                cc[1] = (char)(packed >> 8);
                return;
            }
        }
        e = atomic_load_explicit(&((tt_geo *)geo)->cache[geo_slot(v4)], memory_order_relaxed);
        if ((e & GEO_CACHE_VALID) &&
            (v4 & geo_v4_mask((unsigned)(e >> 32) & 0x3f)) == (uint32_t)e) {
            unsigned idx = (unsigned)(e >> 48) & 0x3ff;

            tt_country_code(idx, cc);
            return;
        }
        memset(&sa, 0, sizeof sa);
        sa.sin.sin_family = AF_INET;
        memcpy(&sa.sin.sin_addr, addr + 12, 4);
    } else {
        memset(&sa, 0, sizeof sa);
        sa.sin6.sin6_family = AF_INET6;
        memcpy(&sa.sin6.sin6_addr, addr, 16);
    }

    result = MMDB_lookup_sockaddr(&geo->mmdb, &sa.sa, &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS) {
        geo_set_zz(cc);
        return;
    }
    if (!result.found_entry || !geo_entry_country(geo, &result.entry, cc))
        geo_set_zz(cc);

    if (is_v4) {
        /*
         * In an IPv6 database the netmask counts from the IPv6 root (IPv4 lives
         * under ::/96); a record above bit 96 covers all of IPv4.
         */
        unsigned len = result.netmask;
        uint64_t e;

        if (geo->mmdb.metadata.ip_version == 6)
            len = len >= 96 ? len - 96 : 0;
        if (len > 32)
            return;
        e = GEO_CACHE_VALID | (uint64_t)tt_country_index(cc) << 48 | (uint64_t)len << 32 |
            (v4 & geo_v4_mask(len));
        atomic_store_explicit(&((tt_geo *)geo)->cache[geo_slot(v4)], e, memory_order_relaxed);
    }
}

const char *tt_geo_type(const tt_geo *geo)
{
    g_return_val_if_fail(geo != NULL, NULL);

    return geo->mmdb.metadata.database_type;
}

int64_t tt_geo_build_epoch(const tt_geo *geo)
{
    g_return_val_if_fail(geo != NULL, 0);

    return (int64_t)geo->mmdb.metadata.build_epoch;
}

const char *tt_geo_schema(const tt_geo *geo)
{
    g_return_val_if_fail(geo != NULL, NULL);

    return geo->schema == GEO_SCHEMA_FLAT ? "country_code" : "iso_code";
}
