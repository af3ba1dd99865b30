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
    .path = total_path,
};

static gboolean total_init(const tt_host *host, GKeyFile *config, const char *group, void **state,
                           GError **error)
{
    return rrdplug_init(&total_dim, host, config, group, state, error);
}

static const tt_plugin_info total_info = {
    TT_PLUGIN_HEADER("total", "1.0", "total and per-sensor RRD files"),
    .init = total_init,
    .fini = rrdplug_fini,
    .bucket_open = rrdplug_bucket_open,
    .on_flow = rrdplug_on_flow,
    .bucket_close = rrdplug_bucket_close,
    .all_closed = rrdplug_all_closed,
};

TT_PLUGIN_EXPORT const tt_plugin_info *tt_plugin_entry(void);
TT_PLUGIN_EXPORT const tt_plugin_info *tt_plugin_entry(void)
{
    return &total_info;
}
