/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_wire_captures.c - the IPFIX check and the v9 rewrite against every
 * datagram of the real exporter captures in the shared flowdata folder.
 *
 * Every IPFIX datagram must pass tt_ipfix_check; every v9 datagram must be
 * rewritten, the result must pass tt_ipfix_check, and it must carry exactly
 * the data flowsets of the input (counted here by a plain walk). The captures
 * are read at run time, never copied into the repository; without the folder
 * the cases are skipped with the path they looked for.
 */
#include <string.h>

#include <glib.h>

#include "pcap_reader.h"
#include "wire.h"

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Data flowsets of a v9 datagram, counted the simple way for comparison. */
static unsigned v9_data_flowsets(const uint8_t *p, size_t len)
{
    unsigned n = 0;
    for (size_t off = 20; len - off >= 4;) {
        size_t fl = get16(p + off + 2);
        if (fl < 4 || fl > len - off)
            break; /* zero-filled tail */
        if (get16(p + off) >= 256)
            n++;
        off += fl;
    }
    return n;
}

static const char *const capture_dirs[] = {"vendor", "local-exporters", "darknet"};

static void test_captures(void)
{
    unsigned files = 0, n_ipfix = 0, n_v9 = 0, n_v9_data_sets = 0;
    g_autofree gchar *probe = tt_pcap_flowdata_file("vendor");

    if (probe == NULL)
        return;
    for (size_t di = 0; di < G_N_ELEMENTS(capture_dirs); di++) {
        g_autofree gchar *dir = tt_pcap_flowdata_file(capture_dirs[di]);
        if (dir == NULL)
            return;
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_assert_nonnull(d);
        const char *name;
        while ((name = g_dir_read_name(d)) != NULL) {
            /* raw packet captures, not flow exports */
            if (!g_str_has_suffix(name, ".pcap") || strstr(name, "first1000") != NULL ||
                g_str_has_prefix(name, "input_") || strstr(name, "icmp-sweep") != NULL)
                continue;
            g_autofree gchar *path = g_build_filename(dir, name, NULL);
            g_autoptr(GError) error = NULL;
            g_autoptr(GPtrArray) dgs = tt_pcap_read_udp(path, &error);
            g_assert_no_error(error);
            g_assert_cmpuint(dgs->len, >, 0);
            files++;
            for (guint i = 0; i < dgs->len; i++) {
                const tt_pcap_datagram *dg = g_ptr_array_index(dgs, i);
                unsigned version = dg->len >= 2 ? get16(dg->data) : 0;
                tt_wire_info info;
                if (version == 10) {
                    tt_wire_status st = tt_ipfix_check(dg->data, dg->len, &info);
                    if (st != TT_WIRE_OK)
                        g_test_message("%s #%u: %s", name, i, tt_wire_strerror(st));
                    g_assert_cmpint(st, ==, TT_WIRE_OK);
                    g_assert_cmpuint(info.template_sets + info.data_sets, >, 0);
                    n_ipfix++;
                } else if (version == 9) {
                    uint8_t out[65535];
                    size_t outlen = 0;
                    tt_wire_info ci;
                    tt_wire_status st =
                        tt_v9_to_ipfix(dg->data, dg->len, out, sizeof(out), &outlen, &info);
                    if (st != TT_WIRE_OK)
                        g_test_message("%s #%u: %s", name, i, tt_wire_strerror(st));
                    g_assert_cmpint(st, ==, TT_WIRE_OK);
                    g_assert_cmpint(tt_ipfix_check(out, outlen, &ci), ==, TT_WIRE_OK);
                    g_assert_cmpuint(info.data_sets, ==, v9_data_flowsets(dg->data, dg->len));
                    g_assert_cmpuint(ci.data_sets, ==, info.data_sets);
                    g_assert_cmpuint(ci.template_sets, ==, info.template_sets);
                    g_assert_cmpuint(ci.domain, ==, get32(dg->data + 16));
                    n_v9++;
                    n_v9_data_sets += info.data_sets;
                } else {
                    /* NetFlow v5 (16-bit version) or sFlow v5 (32-bit version) */
                    g_assert_true(version == 5 || (dg->len >= 4 && get32(dg->data) == 5));
                }
            }
        }
    }
    g_test_message("%u files: %u IPFIX, %u v9 datagrams (%u data flowsets)", files, n_ipfix, n_v9,
                   n_v9_data_sets);
    g_assert_cmpuint(n_ipfix, >, 10);
    g_assert_cmpuint(n_v9, >, 10);
}

/* Named captures of the brief, asserted one by one so a missing file shows. */
static void test_capture_named(gconstpointer data)
{
    g_autofree gchar *rel = g_build_filename("vendor", (const char *)data, NULL);
    g_autofree gchar *path = tt_pcap_flowdata_file(rel);
    g_autoptr(GError) error = NULL;

    if (path == NULL)
        return;
    g_autoptr(GPtrArray) dgs = tt_pcap_read_udp(path, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(dgs->len, >, 0);
    for (guint i = 0; i < dgs->len; i++) {
        const tt_pcap_datagram *dg = g_ptr_array_index(dgs, i);
        uint8_t out[65535];
        size_t outlen = 0;
        if (get16(dg->data) == 10) {
            g_assert_cmpint(tt_ipfix_check(dg->data, dg->len, NULL), ==, TT_WIRE_OK);
        } else {
            g_assert_cmpuint(get16(dg->data), ==, 9);
            g_assert_cmpint(tt_v9_to_ipfix(dg->data, dg->len, out, sizeof(out), &outlen, NULL), ==,
                            TT_WIRE_OK);
            g_assert_cmpint(tt_ipfix_check(out, outlen, NULL), ==, TT_WIRE_OK);
        }
    }
}

static const char *const named_captures[] = {
    "akv_cisco-iosxr_v9_sampler-options.pcap",
    "ls_fortigate-fortios542_v9.pcap",
    "ls_cisco-asa_v9_nsel.pcap",
    "ls_h3c-netstream_v9_type0-field.pcap",
    "akv_juniper-mx960-msdpc_v9_tpl+data-in-one-packet.pcap",
    "ls_paloalto-panos81_v9_zero-padded.pcap",
    "ls_mikrotik-routeros6392_ipfix.pcap",
    "akv_nokia-7250ixr_ipfix_l2-physif.pcap",
    "ls_citrix-netscaler_ipfix_varlen.pcap",
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/wire/captures/all", test_captures);
    for (size_t i = 0; i < G_N_ELEMENTS(named_captures); i++) {
        g_autofree gchar *p = g_strdup_printf("/wire/captures/%s", named_captures[i]);
        g_test_add_data_func(p, named_captures[i], test_capture_named);
    }
    return g_test_run();
}
