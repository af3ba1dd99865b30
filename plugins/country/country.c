/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * country.c - the country plugin: one RRD file per source country.
 *
 * rrd/country/CC.rrd (ISO 3166 alpha-2 as the collector's GeoIP lookup gave
 * it; ZZ when unknown or without a database), with MAX archives beside the
 * AVERAGE ones. With `per-sensor = true` also rrd/sensor/NAME/country/CC.rrd.
 * Keys are tt_country_index() (676 slots), so the accumulator is 676 counters.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "country"
#endif

#include "rrdplug.h"

static uint32_t country_key(const tt_flow *flow)
{
    return tt_country_index(flow->country);
}

static void country_path(uint32_t key, char *buf, size_t size)
{
    char cc[2];

    tt_country_code(key, cc);
    g_snprintf(buf, size, "country/%c%c.rrd", cc[0], cc[1]);
}

static const rrdplug_dim country_dim = {
    .name = "country",
    .nkeys = TT_COUNTRY_SLOTS,
    .kind = TT_RRD_COUNTRY,
    .sensor_kind = TT_RRD_COUNTRY,
    .key = country_key,
    .by = RRDPLUG_BY_COUNTRY,
    .path = country_path,
};

RRDPLUG_DEFINE(country, "country", "per-country RRD files (rrd/country/CC.rrd)", country_dim)
