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
 * first read a two-level table. The top level has one 32-bit entry per /16
 * (2^16 x 4 bytes = 256 KiB, in the handle): the country of a /16 that is one
 * country throughout, the common case, answered by that one load; or a
 * reference to a chunk of 256 per-/24 entries (512 bytes) for a /16 the
 * database splits; or GEO_TOP_MIXED (all of it split below /24, or unreadable)
 * or "not walked yet" / "being walked". A chunk entry is the country of the whole
 * /24, or GEO_V4_MIXED where the database splits that /24 (or its tree is
 * unreadable there); only those take the paths below, so answers stay
 * MMDB_lookup's. Chunks come from a pool reserved once (2^16 x 512 bytes = 32 MiB
 * of address space, MAP_NORESERVE) and handed out in order by an atomic counter,
 * so only the chunks used are ever touched. A /16 is walked at the first lookup
 * that lands in it, through its part of the search tree with MMDB_read_node (at
 * most 16 nodes down to it, then its subtree) into a buffer on the stack: a
 * darknet hears from a fraction of the /16s in its first minutes, and building
 * all of it at open cost 12.7 M instructions on the dispatch thread with the test
 * database (635 a record of bench/micro/run's 20,000, issue 14) and 20-110 ms
 * with real ones, before the first datagram was read. A /16 is claimed by one
 * thread (a compare-and-swap of its top entry from "not walked" to "being
 * walked"); a lookup meeting a /16 another thread is walking takes the cache path
 * below. The walker fills a chunk before the release store of its reference; a
 * reader loads the top entry relaxed and fences (acquire) only when it holds a
 * reference, so it sees the chunk whole; a top entry changes only from "not
 * walked" to its final value. The table lives in the handle: a SIGHUP reload
 * swaps it with the database.
 *
 * Why two levels (issue 14): the flat table before this, one entry per /24
 * (2^24 x 2 bytes = 32 MiB, transparent huge pages), cost ~12 % of the dispatch
 * thread in perf of `teitend --read` over 1 M records of random sources: ~5 %
 * zeroing fresh huge pages (clear_page_erms under lookups' page faults) and
 * ~6.5 % in tt_geo_prefetch/tt_geo_lookup, cache and TLB misses into 32 MiB.
 * The 256 KiB top table stays near the core and only the chunks used are
 * touched; a split /16 costs a second, dependent load, so the core prefetches
 * in two stages (tt_geo_prefetch, then tt_geo_prefetch_chunk 8 flows later,
 * which reads the top entry and prefetches the chunk's line): on the bench
 * database (1 /16 in 8 split) the chunk load was 85 % of tt_geo_lookup's
 * samples without it, and the GeoIP share of the dispatch thread fell from
 * 15.8 % to 10.1 % with it (perf, median of 5 pairs, shared machine) for ~27
 * instructions a record. Rejected: 16-bit top entries (128 KiB, but 676 codes
 * leave too few values to reference every chunk a /16 split everywhere could
 * need, so a cap and a fallback); a sorted range array (a binary search over the
 * ~400 000 IPv4 ranges of a real database is ~19 dependent misses), and a bigger
 * cache (a hit already cost a hash, a mask check and, with the plugins' sets
 * around it, a likely miss into 2 MiB; every first sight of a /24, i.e. a scan,
 * still paid a libmaxminddb lookup, ~200-500 ns). No madvise on the pool: it
 * is dense, touched in order, and Debian's THP default ("madvise") gives it
 * small pages. Figures: docs/benchmarks.md, "GeoIP: two levels".
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
#define GEO_V4_SLASH16 (1u << 16)
#define GEO_V4_MIXED 1 /* split or unreadable: no two-letter code packs to 0, 1 or 2 */
/* Top entries: GEO_TOP_*, a packed code (0x4141-0x5a5a) or GEO_TOP_CHUNK + chunk index. */
#define GEO_TOP_UNWALKED 0 /* not walked yet: calloc'ed memory comes zeroed */
#define GEO_TOP_MIXED GEO_V4_MIXED
#define GEO_TOP_WALKING 2
#define GEO_TOP_CHUNK (UINT32_C(1) << 16)
#define GEO_CHUNK_BYTES (256 * sizeof(uint16_t))
#define GEO_POOL_BYTES ((size_t)GEO_V4_SLASH16 * GEO_CHUNK_BYTES) /* 32 MiB reserved */
#define GEO_CODES_SLOTS 64 /* a walk's memo of data offset -> code */

typedef enum { GEO_SCHEMA_ISO, GEO_SCHEMA_FLAT } geo_schema;

struct tt_geo {
    MMDB_s mmdb;
    geo_schema schema;
    char *path;
    /*
     * Per /16: its country (cc[0] | cc[1] << 8) if it is one throughout, or
     * GEO_TOP_CHUNK + i for chunk i of the pool, or another GEO_TOP_*.
     */
    _Atomic uint32_t v4_top[GEO_V4_SLASH16];
    /* Chunks of 256 per-/24 entries (a code or GEO_V4_MIXED), handed out in order. */
    uint16_t (*v4_pool)[256];
    _Atomic uint32_t v4_chunks; /* chunks handed out */
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
    uint32_t first24; /* the /24 index of table[0] */
    uint16_t *table;  /* the 256 /24s of the /16 walked, written once it is split */
    uint16_t one;     /* the value of every /24 filled so far, while !split */
    gboolean split;
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

/*
 * @a count /24s from @a first get @a v (at most the 256 of one /16). Fills come
 * in address order and cover the /16, so while they agree nothing is written;
 * the first that differs writes out the common value before it.
 */
static void geo_walk_fill(geo_walk *w, uint32_t first, uint32_t count, uint16_t v)
{
    uint32_t at = first - w->first24;

    if (!w->split) {
        if (at == 0) {
            w->one = v;
            return;
        }
        if (v == w->one)
            return;
        w->split = TRUE;
        for (uint32_t i = 0; i < at; i++)
            w->table[i] = w->one;
    }
    for (uint32_t i = 0; i < count; i++)
        w->table[at + i] = v;
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
            MMDB_read_node((MMDB_s *)&w->geo->mmdb, (uint32_t)record, &node) != MMDB_SUCCESS) {
            geo_walk_fill(w, first, count, GEO_V4_MIXED);
            return;
        }
        geo_walk_record(w, node.left_record_type, node.left_record, &node.left_record_entry,
                        prefix << 1, len + 1);
        geo_walk_record(w, node.right_record_type, node.right_record, &node.right_record_entry,
                        prefix << 1 | 1, len + 1);
        return;
    default:
        geo_walk_fill(w, first, count, GEO_V4_MIXED);
        return;
    }
}

/*
 * The top entry of the /16 @a slash16: down the tree from IPv4's root along
 * its 16 bits (a record met on the way covers the whole /16), then its
 * subtree. One value throughout (a code, or GEO_V4_MIXED where it is all split
 * below /24 or unreadable) is the entry itself; else the /16 takes the next
 * chunk of the pool (GEO_TOP_MIXED when there is no pool).
 */
static uint32_t geo_walk_slash16(tt_geo *geo, uint32_t slash16)
{
    uint16_t table[256];
    geo_walk w = {.geo = geo, .first24 = slash16 << 8, .table = table};
    uint8_t type = geo->v4_root_type;
    uint64_t record = geo->v4_root_record;
    MMDB_entry_s entry = geo->v4_root_entry;
    MMDB_search_node_s node;
    unsigned len = 0;
    uint32_t chunk;

    for (; len < 16 && type == MMDB_RECORD_TYPE_SEARCH_NODE; len++) {
        if (MMDB_read_node(&geo->mmdb, (uint32_t)record, &node) != MMDB_SUCCESS)
            return GEO_TOP_MIXED;
        gboolean right = (slash16 >> (15 - len)) & 1;
        type = right ? node.right_record_type : node.left_record_type;
        record = right ? node.right_record : node.left_record;
        entry = right ? node.right_record_entry : node.left_record_entry;
    }
    geo_walk_record(&w, type, record, &entry, slash16, 16);
    if (!w.split)
        return w.one;
    if (geo->v4_pool == NULL)
        return GEO_TOP_MIXED;
    /* At most one chunk per /16 (its walk is claimed), so never past the pool. */
    chunk = atomic_fetch_add_explicit(&geo->v4_chunks, 1, memory_order_relaxed);
    g_assert(chunk < GEO_V4_SLASH16);
    memcpy(geo->v4_pool[chunk], table, sizeof table);
    return GEO_TOP_CHUNK + chunk;
}

/*
 * The top entry of the /16 of @a v4, walked now if nobody had; GEO_TOP_WALKING
 * while another thread walks it. The chunk is filled before the release store
 * that publishes its reference.
 */
static uint32_t geo_v4_walk(const tt_geo *geo, uint32_t v4)
{
    _Atomic uint32_t *top = &((tt_geo *)geo)->v4_top[v4 >> 16];
    uint32_t seen = GEO_TOP_UNWALKED, now;

    if (!atomic_compare_exchange_strong_explicit(top, &seen, GEO_TOP_WALKING, memory_order_acquire,
                                                 memory_order_acquire))
        return seen;
    now = geo_walk_slash16((tt_geo *)geo, v4 >> 16);
    atomic_store_explicit(top, now, memory_order_release);
    return now;
}

/*
 * IPv4's root is node 0 of an IPv4 database, or the end of 96 left turns
 * (::/96) in an IPv6 one; libmaxminddb's own lookup finds it the same way, so
 * a record met on the way covers all of IPv4 as it does there. The table is
 * reserved here and filled by lookups (geo_v4_walk).
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
     * Address space only: a chunk is touched when a split /16 is walked, so
     * what is resident is what the sources split. Without a pool, split /16s
     * take the cache path; a failure here costs speed only.
     */
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    void *pool;
    /* cppcheck-suppress invalidFunctionArg ; fd -1 is what MAP_ANONYMOUS asks for */
    pool = mmap(NULL, GEO_POOL_BYTES, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (pool == MAP_FAILED) {
        g_warning("%s: no memory for the IPv4 table (%s); split /16s go through the cache",
                  geo->path, g_strerror(errno));
        /* cppcheck-suppress memleak ; MAP_FAILED is no mapping */
        return;
    }
    geo->v4_pool = pool;
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
    if (geo->v4_pool != NULL)
        munmap(geo->v4_pool, GEO_POOL_BYTES);
    g_free(geo->path);
    g_free(geo);
}

static inline uint32_t geo_v4_mask(unsigned len)
{
    return len == 0 ? 0 : (uint32_t)(UINT32_MAX << (32 - len));
}

void tt_geo_prefetch(const tt_geo *geo, const uint8_t addr[16])
{
    if (geo == NULL || !tt_addr_is_v4(addr))
        return;
    __builtin_prefetch(&geo->v4_top[(uint32_t)addr[12] << 8 | addr[13]]);
}

void tt_geo_prefetch_chunk(const tt_geo *geo, const uint8_t addr[16])
{
    uint32_t top;

    if (geo == NULL || !tt_addr_is_v4(addr))
        return;
    /* A prefetch is no access: the reference, final once published, is enough. */
    top = atomic_load_explicit(&geo->v4_top[(uint32_t)addr[12] << 8 | addr[13]],
                               memory_order_relaxed);
    if (top >= GEO_TOP_CHUNK)
        __builtin_prefetch(&geo->v4_pool[top - GEO_TOP_CHUNK][addr[14]]);
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
        uint32_t top = atomic_load_explicit(&geo->v4_top[v4 >> 16], memory_order_relaxed);

        if (top == GEO_TOP_UNWALKED)
            top = geo_v4_walk(geo, v4);
        if (top >= GEO_TOP_CHUNK) {
            /* Pairs with the walker's release store: the chunk was filled before. */
            atomic_thread_fence(memory_order_acquire);
            top = geo->v4_pool[top - GEO_TOP_CHUNK][v4 >> 8 & 0xff];
        }
        if (top > GEO_TOP_WALKING) {
            cc[0] = (char)(top & 0xff);
            cc[1] = (char)(top >> 8);
            return;
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

guint tt_geo_v4_chunks(const tt_geo *geo)
{
    g_return_val_if_fail(geo != NULL, 0);

    return atomic_load_explicit(&((tt_geo *)geo)->v4_chunks, memory_order_relaxed);
}
