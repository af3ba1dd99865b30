/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap_reader.c - test helper: UDP payloads out of classic pcap files.
 *
 * The whole file is read into memory (captures used by tests are small) and
 * walked with explicit bounds; a malformed packet is skipped, a malformed file
 * header is an error. Classic pcap and pcapng (as tshark/dumpcap write it)
 * are both read. Rejected: libpcap, a dependency CI would have to install
 * for a 150-line job, and tshark, which is slow and not always present.
 */
#include "pcap_reader.h"

#include <string.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_LINK_ETHERNET 1
#define PCAP_LINK_RAW 101
#define PCAP_LINK_IPV4 228
#define PCAP_LINK_IPV6 229
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 1u
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u
#define PCAPNG_BOM 0x1a2b3c4du

static uint32_t pcap_rd32(const uint8_t *p, gboolean swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? GUINT32_SWAP_LE_BE(v) : v;
}

static uint16_t pcap_rd16(const uint8_t *p, gboolean swap)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return swap ? GUINT16_SWAP_LE_BE(v) : v;
}

static uint16_t pcap_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* IP packet (v4 or v6) -> datagram, or NULL when it is not plain UDP. */
static tt_pcap_datagram *pcap_ip_udp(const uint8_t *p, size_t n, int64_t ts_us)
{
    uint8_t src[16] = {0}, dst[16] = {0};
    const uint8_t *udp;
    size_t room;

    if (n < 1)
        return NULL;
    if (p[0] >> 4 == 4) {
        size_t ihl = (size_t)(p[0] & 0x0f) * 4;
        if (n < 20 || ihl < 20 || n < ihl || p[9] != 17)
            return NULL;
        if ((pcap_be16(p + 6) & 0x3fff) != 0) /* MF or a fragment offset */
            return NULL;
        size_t total = pcap_be16(p + 2);
        if (total < ihl || total > n)
            return NULL;
        src[10] = src[11] = dst[10] = dst[11] = 0xff;
        memcpy(src + 12, p + 12, 4);
        memcpy(dst + 12, p + 16, 4);
        udp = p + ihl;
        room = total - ihl;
    } else if (p[0] >> 4 == 6) {
        if (n < 40 || p[6] != 17)
            return NULL;
        size_t plen = pcap_be16(p + 4);
        if (plen > n - 40)
            return NULL;
        memcpy(src, p + 8, 16);
        memcpy(dst, p + 24, 16);
        udp = p + 40;
        room = plen;
    } else {
        return NULL;
    }
    if (room < 8)
        return NULL;
    size_t ulen = pcap_be16(udp + 4);
    if (ulen < 8 || ulen > room)
        return NULL;

    tt_pcap_datagram *d = g_malloc(sizeof(*d) + ulen - 8);
    d->ts_us = ts_us;
    memcpy(d->src, src, 16);
    memcpy(d->dst, dst, 16);
    d->sport = pcap_be16(udp);
    d->dport = pcap_be16(udp + 2);
    d->len = ulen - 8;
    memcpy(d->data, udp + 8, d->len);
    return d;
}

static tt_pcap_datagram *pcap_frame(uint32_t link, const uint8_t *p, size_t n, int64_t ts_us)
{
    if (link == PCAP_LINK_RAW || link == PCAP_LINK_IPV4 || link == PCAP_LINK_IPV6)
        return pcap_ip_udp(p, n, ts_us);
    if (link != PCAP_LINK_ETHERNET || n < 14)
        return NULL;
    size_t off = 12;
    uint16_t type = pcap_be16(p + off);
    while ((type == 0x8100 || type == 0x88a8) && n - off >= 6) {
        off += 4;
        type = pcap_be16(p + off);
    }
    off += 2;
    if (type != 0x0800 && type != 0x86dd)
        return NULL;
    return pcap_ip_udp(p + off, n - off, ts_us);
}

/* Classic pcap: 24-byte file header, then 16-byte record headers. */
static gboolean pcap_classic(const uint8_t *buf, size_t size, GPtrArray *out)
{
    uint32_t magic;
    gboolean swap = FALSE, nano = FALSE;

    memcpy(&magic, buf, 4);
    if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
        nano = magic == PCAP_MAGIC_NS;
    } else if (GUINT32_SWAP_LE_BE(magic) == PCAP_MAGIC_US ||
               GUINT32_SWAP_LE_BE(magic) == PCAP_MAGIC_NS) {
        swap = TRUE;
        nano = GUINT32_SWAP_LE_BE(magic) == PCAP_MAGIC_NS;
    } else {
        return FALSE;
    }
    uint32_t link = pcap_rd32(buf + 20, swap) & 0x0fffffffu;
    for (size_t off = 24; size - off >= 16;) {
        uint32_t sec = pcap_rd32(buf + off, swap);
        uint32_t frac = pcap_rd32(buf + off + 4, swap);
        size_t caplen = pcap_rd32(buf + off + 8, swap);
        off += 16;
        if (caplen > size - off)
            break; /* truncated capture: keep what was whole */
        int64_t ts_us = (int64_t)sec * 1000000 + (nano ? frac / 1000 : frac);
        tt_pcap_datagram *d = pcap_frame(link, buf + off, caplen, ts_us);
        if (d != NULL)
            g_ptr_array_add(out, d);
        off += caplen;
    }
    return TRUE;
}

/* pcapng: section header, interface descriptions (link type, time
 * resolution), enhanced and simple packet blocks; other blocks skipped. */
static gboolean pcap_ng(const uint8_t *buf, size_t size, GPtrArray *out)
{
    uint32_t links[64];
    uint64_t units[64]; /* timestamp units per second, per interface */
    unsigned nif = 0;
    gboolean swap = FALSE;

    for (size_t off = 0; size - off >= 12;) {
        uint32_t type = pcap_rd32(buf + off, FALSE);
        if (type == PCAPNG_SHB) {
            if (size - off < 28)
                return FALSE;
            uint32_t bom = pcap_rd32(buf + off + 8, FALSE);
            if (bom != PCAPNG_BOM && GUINT32_SWAP_LE_BE(bom) != PCAPNG_BOM)
                return FALSE;
            swap = bom != PCAPNG_BOM;
            nif = 0;
        } else {
            type = pcap_rd32(buf + off, swap);
        }
        size_t blen = pcap_rd32(buf + off + 4, swap);
        if (blen < 12 || blen % 4 != 0 || blen > size - off)
            return off > 0; /* truncated: keep what was whole */
        const uint8_t *body = buf + off + 8;
        size_t bl = blen - 12;

        if (type == PCAPNG_IDB && bl >= 8 && nif < G_N_ELEMENTS(links)) {
            links[nif] = pcap_rd16(body, swap);
            units[nif] = 1000000;
            for (size_t o = 8; bl - o >= 4;) {
                uint16_t code = pcap_rd16(body + o, swap);
                uint16_t olen = pcap_rd16(body + o + 2, swap);
                if (code == 0 || (size_t)olen > bl - o - 4)
                    break;
                if (code == 9 && olen >= 1 && !(body[o + 4] & 0x80) && body[o + 4] <= 18) {
                    units[nif] = 1;
                    for (unsigned i = 0; i < body[o + 4]; i++)
                        units[nif] *= 10;
                }
                o += 4 + (((size_t)olen + 3) & ~(size_t)3);
            }
            nif++;
        } else if (type == PCAPNG_EPB && bl >= 20) {
            uint32_t ifid = pcap_rd32(body, swap);
            uint64_t ts = (uint64_t)pcap_rd32(body + 4, swap) << 32 | pcap_rd32(body + 8, swap);
            size_t caplen = pcap_rd32(body + 12, swap);
            if (ifid < nif && caplen <= bl - 20) {
                int64_t ts_us = (int64_t)(ts / units[ifid] * 1000000 +
                                          ts % units[ifid] * 1000000 / units[ifid]);
                tt_pcap_datagram *d = pcap_frame(links[ifid], body + 20, caplen, ts_us);
                if (d != NULL)
                    g_ptr_array_add(out, d);
            }
        } else if (type == PCAPNG_SPB && bl >= 4 && nif > 0) {
            size_t caplen = MIN((size_t)pcap_rd32(body, swap), bl - 4);
            tt_pcap_datagram *d = pcap_frame(links[0], body + 4, caplen, 0);
            if (d != NULL)
                g_ptr_array_add(out, d);
        }
        off += blen;
    }
    return TRUE;
}

GPtrArray *tt_pcap_read_udp(const char *path, GError **error)
{
    g_autofree gchar *raw = NULL;
    gsize size = 0;

    g_return_val_if_fail(path != NULL, NULL);
    if (!g_file_get_contents(path, &raw, &size, error))
        return NULL;
    const uint8_t *buf = (const uint8_t *)raw;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = FALSE;
    if (size >= 24)
        ok = pcap_rd32(buf, FALSE) == PCAPNG_SHB ? pcap_ng(buf, size, out)
                                                 : pcap_classic(buf, size, out);
    if (!ok) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a pcap or pcapng file", path);
        return NULL;
    }
    return g_steal_pointer(&out);
}

gchar *tt_pcap_flowdata_file(const char *relative)
{
    const char *env = g_getenv("TT_FLOWDATA");
    g_autofree gchar *dir =
        env != NULL && *env != '\0'
            ? g_strdup(env)
            : g_build_filename(TT_TEST_SRC_DIR, "..", "..", "shared", "flowdata", NULL);
    g_autofree gchar *path = g_build_filename(dir, relative, NULL);

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_autofree gchar *msg =
            g_strdup_printf("shared flow capture %s not found (set TT_FLOWDATA)", path);
        g_test_skip(msg);
        return NULL;
    }
    return g_steal_pointer(&path);
}
