/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * total.c - the total plugin: rrd/total.rrd (everything observed, every
 * protocol) and rrd/sensor/NAME/total.rrd for each sensor (always).
 * One key; distinct sources in total.rrd are merged across sensors.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "total"
#endif

#include "rrdplug.h"

static uint32_t total_key(const tt_flow *flow)
{
    (void)flow;
    return 0;
}

static void total_path(uint32_t key, char *buf, size_t size)
{
    (void)key;
    g_strlcpy(buf, "total.rrd", size);
}

static const rrdplug_dim total_dim = {
    .name = "total",
    .nkeys = 1,
    .always_per_sensor = TRUE,
    .kind = TT_RRD_TOTAL,
    .sensor_kind = TT_RRD_SENSOR,
    .key = total_key,
    .by = RRDPLUG_BY_NONE,
    .path = total_path,
};

RRDPLUG_DEFINE(total, "total", "total and per-sensor RRD files", total_dim)
