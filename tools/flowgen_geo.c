/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen_geo.c - where flowgen's source addresses come from.
 *
 * The generator promises that the country it draws a source from is the
 * country the collector's GeoIP lookup of that address returns. So sources
 * are drawn only from networks of the very table or database the test gives
 * the collector, and every drawn address is checked by a lookup before it is
 * used: a longest-prefix match over the table (overlapping networks are
 * legal in a table, and the most specific one wins in the .mmdb built from
 * it), or a real MMDB_lookup_sockaddr against the database. ZZ sources come
 * from documentation ranges (192.0.2.0/24, 2001:db8:ffff::/48) and are checked
 * to look up as nothing.
 *
 * An .mmdb is read by walking its search tree with MMDB_read_node in address
 * order, keeping the first 4096 networks per wanted country and stopping as
 * soon as every wanted country is full, so a 10+ MB database costs a fraction
 * of a second. Rejected: iterating over all data records (the format has no
 * index from data to networks) and expanding networks into address lists.
 * The v6 walk skips ::/8 and 2002::/16, where databases alias the IPv4 tree.
 */
#include "flowgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <string.h>

#define FLOWGEN_GEO_CAP 4096

G_DEFINE_QUARK(tt_flowgen_error, tt_flowgen_error)

typedef struct flowgen_net {
    flowgen_prefix prefix;
    char cc[3];
} flowgen_net;

struct flowgen_geo {
    GArray *nets;           /* flowgen_net: every network of the table (for lookups) */
    GHashTable *by_country; /* "RU4" / "RU6" -> GArray of flowgen_prefix */
    MMDB_s mmdb;
    gboolean has_mmdb;
};

gboolean tt_flowgen_prefix_parse(const char *text, flowgen_prefix *out, GError **error)
{
    g_return_val_if_fail(text != NULL && out != NULL, FALSE);
    g_autofree char *copy = g_strstrip(g_strdup(text));
    char *slash = strchr(copy, '/');
    guint64 len = 0;
    if (slash != NULL) {
        *slash = '\0';
        if (!g_ascii_string_to_unsigned(slash + 1, 10, 0, 128, &len, NULL))
            goto err_syntax;
    }
    flowgen_prefix p = {0};
    struct in_addr v4;
    if (inet_pton(AF_INET, copy, &v4) == 1) {
        if (slash == NULL)
            len = 32;
        if (len > 32)
            goto err_syntax;
        p.addr[10] = p.addr[11] = 0xff;
        memcpy(p.addr + 12, &v4, 4);
        p.len = (guint)len + 96;
        p.family = 4;
    } else if (inet_pton(AF_INET6, copy, p.addr) == 1) {
        p.len = slash == NULL ? 128 : (guint)len;
        p.family = 6;
    } else {
        goto err_syntax;
    }
    for (guint bit = p.len; bit < 128; bit++)
        p.addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    *out = p;
    return TRUE;

err_syntax:
    g_set_error(error, TT_FLOWGEN_ERROR, 1, "'%s' is not an address prefix", text);
    return FALSE;
}

static gboolean flowgen_bits_equal(const uint8_t *a, const uint8_t *b, guint bits)
{
    if (memcmp(a, b, bits / 8) != 0)
        return FALSE;
    if (bits % 8 == 0)
        return TRUE;
    uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));
    return (a[bits / 8] & mask) == (b[bits / 8] & mask);
}

static gboolean flowgen_prefix_contains(const flowgen_prefix *prefix, const uint8_t addr[16])
{
    return flowgen_bits_equal(prefix->addr, addr, prefix->len);
}

gboolean tt_flowgen_prefix_overlaps(const flowgen_prefix *a, const flowgen_prefix *b)
{
    return flowgen_bits_equal(a->addr, b->addr, MIN(a->len, b->len));
}

void tt_flowgen_prefix_random(const flowgen_prefix *prefix, GRand *rand, gboolean hosts_only,
                              uint8_t out[16])
{
    guint host_bits = 128 - prefix->len;
    /* v4 loses network and broadcast, v6 the subnet-router anycast address */
    gboolean avoid_zero = hosts_only && host_bits >= 2;
    gboolean avoid_ones = hosts_only && host_bits >= 2 && prefix->family == 4;
    for (;;) {
        memcpy(out, prefix->addr, 16);
        gboolean zero = TRUE, ones = TRUE;
        for (guint byte = prefix->len / 8; byte < 16; byte++) {
            uint8_t mask = byte == prefix->len / 8 ? (uint8_t)(0xffu >> (prefix->len % 8)) : 0xff;
            uint8_t r = (uint8_t)g_rand_int_range(rand, 0, 256) & mask;
            out[byte] = (uint8_t)((out[byte] & ~mask) | r);
            zero = zero && r == 0;
            ones = ones && r == mask;
        }
        if ((avoid_zero && zero) || (avoid_ones && ones))
            continue;
        return;
    }
}

/* "a.b.c.d" or the IPv6 text of @a addr into @a buf (>= 46 bytes). */
static const char *flowgen_addr_string(const uint8_t addr[16], char *buf, gsize size)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, mapped, 12) == 0)
        inet_ntop(AF_INET, addr + 12, buf, (socklen_t)size);
    else
        inet_ntop(AF_INET6, addr, buf, (socklen_t)size);
    return buf;
}

static flowgen_geo *flowgen_geo_alloc(void)
{
    flowgen_geo *geo = g_new0(flowgen_geo, 1);
    geo->nets = g_array_new(FALSE, FALSE, sizeof(flowgen_net));
    geo->by_country =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    return geo;
}

flowgen_geo *tt_flowgen_geo_new_empty(void)
{
    return flowgen_geo_alloc();
}

void tt_flowgen_geo_free(flowgen_geo *geo)
{
    if (geo == NULL)
        return;
    if (geo->has_mmdb)
        MMDB_close(&geo->mmdb);
    g_array_unref(geo->nets);
    g_hash_table_unref(geo->by_country);
    g_free(geo);
}

static GArray *flowgen_geo_list(flowgen_geo *geo, const char *cc, int family, gboolean create)
{
    char key[4] = {cc[0], cc[1], family == 4 ? '4' : '6', '\0'};
    GArray *list = g_hash_table_lookup(geo->by_country, key);
    if (list == NULL && create) {
        list = g_array_new(FALSE, FALSE, sizeof(flowgen_prefix));
        g_hash_table_insert(geo->by_country, g_strdup(key), list);
    }
    return list;
}

static gboolean flowgen_cc_valid(const char *cc)
{
    return g_ascii_isupper(cc[0]) && g_ascii_isupper(cc[1]) && cc[2] == '\0';
}

flowgen_geo *tt_flowgen_geo_load_table(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    g_autoptr(flowgen_geo) geo = flowgen_geo_alloc();
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        char *line = g_strstrip(lines[i]);
        if (*line == '\0' || *line == '#')
            continue;
        g_auto(GStrv) cols = g_strsplit(line, "\t", 3);
        flowgen_net net = {0};
        if (g_strv_length(cols) < 2 || !flowgen_cc_valid(g_strstrip(cols[1]))) {
            g_set_error(error, TT_FLOWGEN_ERROR, 1, "%s:%u: expected NETWORK<TAB>CC", path, i + 1);
            return NULL;
        }
        if (!tt_flowgen_prefix_parse(cols[0], &net.prefix, error)) {
            g_prefix_error(error, "%s:%u: ", path, i + 1);
            return NULL;
        }
        memcpy(net.cc, cols[1], 3);
        g_array_append_val(geo->nets, net);
        g_array_append_val(flowgen_geo_list(geo, net.cc, net.prefix.family, TRUE), net.prefix);
    }
    return g_steal_pointer(&geo);
}

/* The collector's order: country.iso_code, registered_country.iso_code, country_code. */
static gboolean flowgen_mmdb_country(MMDB_entry_s *entry, char cc[3])
{
    static const char *const paths[][3] = {
        {"country", "iso_code", NULL},
        {"registered_country", "iso_code", NULL},
        {"country_code", NULL, NULL},
    };
    for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
        MMDB_entry_data_s data;
        if (MMDB_aget_value(entry, &data, paths[i]) != MMDB_SUCCESS || !data.has_data ||
            data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2)
            continue;
        cc[0] = g_ascii_toupper(data.utf8_string[0]);
        cc[1] = g_ascii_toupper(data.utf8_string[1]);
        cc[2] = '\0';
        return flowgen_cc_valid(cc);
    }
    return FALSE;
}

typedef struct flowgen_walk {
    flowgen_geo *geo;
    GHashTable *wanted;  /* "RU" -> GUINT count of networks kept */
    GHashTable *by_data; /* data offset -> "RU" or "" (no country) */
    guint full;          /* wanted countries at the cap */
    int family;
    gboolean failed;
} flowgen_walk;

static void flowgen_walk_add(flowgen_walk *walk, MMDB_entry_s *entry, const uint8_t *addr,
                             guint depth)
{
    const char *cc = g_hash_table_lookup(walk->by_data, GUINT_TO_POINTER(entry->offset + 1));
    if (cc == NULL) {
        char buf[3];
        cc = g_intern_string(flowgen_mmdb_country(entry, buf) ? buf : "");
        g_hash_table_insert(walk->by_data, GUINT_TO_POINTER(entry->offset + 1), (gpointer)cc);
    }
    gpointer count;
    if (*cc == '\0' || !g_hash_table_lookup_extended(walk->wanted, cc, NULL, &count) ||
        GPOINTER_TO_UINT(count) >= FLOWGEN_GEO_CAP)
        return;
    flowgen_prefix p = {.len = depth, .family = (uint8_t)walk->family};
    memcpy(p.addr, addr, 16);
    if (walk->family == 4)
        p.addr[10] = p.addr[11] = 0xff;
    g_array_append_val(flowgen_geo_list(walk->geo, cc, walk->family, TRUE), p);
    g_hash_table_insert(walk->wanted, (gpointer)cc, GUINT_TO_POINTER(GPOINTER_TO_UINT(count) + 1));
    if (GPOINTER_TO_UINT(count) + 1 == FLOWGEN_GEO_CAP)
        walk->full++;
}

static gboolean flowgen_walk_skip(const flowgen_walk *walk, const uint8_t *addr, guint depth)
{
    if (walk->family == 4)
        return FALSE;
    return (depth >= 8 && addr[0] == 0) || (depth >= 16 && addr[0] == 0x20 && addr[1] == 0x02);
}

static void flowgen_walk_node(flowgen_walk *walk, uint32_t node, uint8_t *addr, guint depth)
{
    MMDB_search_node_s n;
    if (depth >= 128 || MMDB_read_node(&walk->geo->mmdb, node, &n) != MMDB_SUCCESS) {
        walk->failed = TRUE;
        return;
    }
    for (guint bit = 0; bit < 2; bit++) {
        if (walk->failed || walk->full == g_hash_table_size(walk->wanted))
            return;
        if (bit)
            addr[depth / 8] |= (uint8_t)(0x80u >> (depth % 8));
        if (!flowgen_walk_skip(walk, addr, depth + 1)) {
            uint8_t type = bit ? n.right_record_type : n.left_record_type;
            if (type == MMDB_RECORD_TYPE_SEARCH_NODE)
                flowgen_walk_node(walk, (uint32_t)(bit ? n.right_record : n.left_record), addr,
                                  depth + 1);
            else if (type == MMDB_RECORD_TYPE_DATA)
                flowgen_walk_add(walk, bit ? &n.right_record_entry : &n.left_record_entry, addr,
                                 depth + 1);
            else if (type == MMDB_RECORD_TYPE_INVALID)
                walk->failed = TRUE;
        }
        if (bit)
            addr[depth / 8] &= (uint8_t) ~(0x80u >> (depth % 8));
    }
}

flowgen_geo *tt_flowgen_geo_load_mmdb(const char *path, GStrv countries, gboolean v6,
                                      GError **error)
{
    g_return_val_if_fail(path != NULL && countries != NULL, NULL);
    g_autoptr(flowgen_geo) geo = flowgen_geo_alloc();
    int status = MMDB_open(path, MMDB_MODE_MMAP, &geo->mmdb);
    if (status != MMDB_SUCCESS) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "%s: %s", path, MMDB_strerror(status));
        return NULL;
    }
    geo->has_mmdb = TRUE;

    for (int family = 4; family <= (v6 ? 6 : 4); family += 2) {
        if (family == 6 && geo->mmdb.metadata.ip_version != 6)
            break;
        g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) by_data = g_hash_table_new(NULL, NULL);
        for (guint i = 0; countries[i] != NULL; i++)
            if (strcmp(countries[i], "ZZ") != 0)
                g_hash_table_insert(wanted, (gpointer)g_intern_string(countries[i]), NULL);
        flowgen_walk walk = {geo, wanted, by_data, 0, family, FALSE};
        uint8_t addr[16] = {0};
        uint32_t node = 0;
        guint depth = 0;
        if (family == 4 && geo->mmdb.metadata.ip_version == 6) {
            /* the IPv4 tree hangs below ::/96 */
            for (; depth < 96; depth++) {
                MMDB_search_node_s n;
                if (MMDB_read_node(&geo->mmdb, node, &n) != MMDB_SUCCESS ||
                    n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE)
                    break;
                node = (uint32_t)n.left_record;
            }
            if (depth < 96)
                continue;
        } else if (family == 4) {
            depth = 96;
        }
        flowgen_walk_node(&walk, node, addr, depth);
        if (walk.failed) {
            g_set_error(error, TT_FLOWGEN_ERROR, 1, "%s: corrupt search tree", path);
            return NULL;
        }
    }
    return g_steal_pointer(&geo);
}

guint tt_flowgen_geo_count(const flowgen_geo *geo, const char *cc, int family)
{
    if (strcmp(cc, "ZZ") == 0)
        return 1;
    GArray *list = flowgen_geo_list((flowgen_geo *)geo, cc, family, FALSE);
    return list == NULL ? 0 : list->len;
}

/* What the collector would say about @a addr: "RU", or "" for no country. */
static void flowgen_geo_lookup(flowgen_geo *geo, const uint8_t addr[16], int family, char cc[3])
{
    cc[0] = '\0';
    if (geo->has_mmdb) {
        struct sockaddr_in sin = {.sin_family = AF_INET};
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
        const struct sockaddr *sa = (const struct sockaddr *)&sin6;
        if (family == 4) {
            memcpy(&sin.sin_addr, addr + 12, 4);
            sa = (const struct sockaddr *)&sin;
        } else {
            memcpy(&sin6.sin6_addr, addr, 16);
        }
        int mmdb_error = MMDB_SUCCESS;
        MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&geo->mmdb, sa, &mmdb_error);
        if (mmdb_error == MMDB_SUCCESS && res.found_entry && !flowgen_mmdb_country(&res.entry, cc))
            cc[0] = '\0';
        return;
    }
    guint best = 0;
    for (guint i = 0; i < geo->nets->len; i++) {
        const flowgen_net *net = &g_array_index(geo->nets, flowgen_net, i);
        if (net->prefix.family == family && net->prefix.len >= best &&
            flowgen_prefix_contains(&net->prefix, addr)) {
            best = net->prefix.len;
            memcpy(cc, net->cc, 3);
        }
    }
}

gboolean tt_flowgen_geo_draw(flowgen_geo *geo, GRand *rand, const char *cc, int family, guint n,
                             GHashTable *taken, GArray *pool, GError **error)
{
    g_return_val_if_fail(geo != NULL && rand != NULL && cc != NULL, FALSE);
    gboolean zz = strcmp(cc, "ZZ") == 0;
    flowgen_prefix zz_prefix;
    const flowgen_prefix *nets;
    guint count;
    if (zz) {
        tt_flowgen_prefix_parse(family == 4 ? "192.0.2.0/24" : "2001:db8:ffff::/48", &zz_prefix,
                                NULL);
        nets = &zz_prefix;
        count = 1;
    } else {
        GArray *list = flowgen_geo_list(geo, cc, family, FALSE);
        count = list == NULL ? 0 : list->len;
        nets = list == NULL ? NULL : (const flowgen_prefix *)(void *)list->data;
    }
    if (count == 0) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "no IPv%d network of %s in the GeoIP source",
                    family, cc);
        return FALSE;
    }
    guint got = 0;
    for (guint attempts = n * 50 + 100; got < n && attempts > 0; attempts--) {
        uint8_t addr[16];
        char found[3];
        tt_flowgen_prefix_random(&nets[g_rand_int_range(rand, 0, (gint32)count)], rand, TRUE, addr);
        if (g_hash_table_contains(taken, addr))
            continue;
        flowgen_geo_lookup(geo, addr, family, found);
        if (strcmp(found, zz ? "" : cc) != 0) {
            if (zz && found[0] != '\0') {
                char text[64];
                g_set_error(error, TT_FLOWGEN_ERROR, 1,
                            "%s is documentation space but looks up as %s",
                            flowgen_addr_string(addr, text, sizeof text), found);
                return FALSE;
            }
            continue;
        }
        g_array_append_vals(pool, addr, 1);
        g_hash_table_add(taken, g_memdup2(addr, 16));
        got++;
    }
    if (got == 0 && n > 0) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1,
                    "no IPv%d address drawn from %s's networks looks up as %s", family, cc, cc);
        return FALSE;
    }
    return TRUE;
}
