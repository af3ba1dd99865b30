/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen_telescope.c - the built-in "telescope" scenario.
 *
 * `--scenario telescope:M` (M = 0..5, the months of two consecutive quarters)
 * gives the destination mix and the source countries of a /24 darknet as
 * published observation reports show it: a heavy head of worm and scanner
 * ports (23, 445, 1433, 22, 3389, 2323, 5555, 37215, 52869, 8080, 80, 443,
 * ICMP, a little DNS and NTP) over a long tail across every port, each head
 * weight moving linearly from its first-month to its last-month value so the
 * ranks shift between the quarters the way they do in real reports. Sources
 * are drawn, as always, from the GeoIP database's own ranges; `--countries`
 * and `--ports` given explicitly win. Two country mixes exist (`telescope` and
 * `telescope-b`, for a second sensor that sees a different population).
 * Kept as data here rather than as a shell function in the demo so the demo,
 * the tests and the benchmark draw from the same scenario.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "flowgen.h"

typedef struct {
    const char *key;
    double first, last; /* weight in month 0 and month 5 */
} telescope_port;

static const telescope_port telescope_ports[] = {
    {"23/tcp", 34, 30},  {"445/tcp", 18, 12}, {"1433/tcp", 9, 7},    {"22/tcp", 7, 8},
    {"3389/tcp", 4, 6},  {"2323/tcp", 6, 4},  {"5555/tcp", 5, 2},    {"37215/tcp", 2, 6},
    {"52869/tcp", 3, 9}, {"8080/tcp", 3, 4},  {"80/tcp", 3, 3},      {"443/tcp", 1.5, 2},
    {"icmp", 3, 3},      {"53/udp", 1, 1},    {"123/udp", 0.5, 0.8}, {"tail", 0.4, 0.4},
};

static const char telescope_countries[] = "CN:22,US:18,RU:12,NL:6,BR:6,IN:5,KR:5,TW:4,VN:4,DE:4,"
                                          "FR:3,GB:3,UA:3,ID:2,JP:2,IR:2,TR:1,EG:1,HK:1,SG:1";
static const char telescope_b_countries[] =
    "US:20,CN:20,RU:10,BR:8,IN:6,VN:6,KR:5,TW:4,NL:4,DE:3,ID:3,JP:3,TH:2,MX:2,AR:2,GB:2";

gboolean tt_flowgen_scenario(const char *spec, char **ports, char **countries, GError **error)
{
    g_return_val_if_fail(spec != NULL, FALSE);
    const char *colon = strchr(spec, ':');
    g_autofree char *name = colon != NULL ? g_strndup(spec, (gsize)(colon - spec)) : g_strdup(spec);
    gint64 month = 0;

    if (strcmp(name, "telescope") != 0 && strcmp(name, "telescope-b") != 0) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--scenario %s: unknown scenario (known: telescope[:M], telescope-b[:M])",
                    spec);
        return FALSE;
    }
    if (colon != NULL) {
        char *end = NULL;
        month = g_ascii_strtoll(colon + 1, &end, 10);
        if (end == colon + 1 || *end != '\0' || month < 0 || month > 5) {
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--scenario %s: the month must be 0..5", spec);
            return FALSE;
        }
    }
    if (*ports == NULL) {
        GString *mix = g_string_new(NULL);
        for (gsize i = 0; i < G_N_ELEMENTS(telescope_ports); i++) {
            const telescope_port *p = &telescope_ports[i];
            double w = p->first + (p->last - p->first) * (double)month / 5.0;
            char num[G_ASCII_DTOSTR_BUF_SIZE];
            g_ascii_formatd(num, sizeof num, "%.3f", w);
            g_string_append_printf(mix, "%s%s:%s", i > 0 ? "," : "", p->key, num);
        }
        *ports = g_string_free(mix, FALSE);
    }
    if (*countries == NULL)
        *countries =
            g_strdup(strcmp(name, "telescope") == 0 ? telescope_countries : telescope_b_countries);
    return TRUE;
}
