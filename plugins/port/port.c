/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port.c - the port plugin: one RRD file per protocol and destination port.
 *
 * rrd/port/tcp/N.rrd and rrd/port/udp/N.rrd for every port with traffic in a
 * step, rrd/port/icmp.rrd for ICMP and ICMPv6 together (DESIGN.md §3: one
 * file for all ICMP; type and code are not split into files). Flows of other
 * protocols (GRE, ESP, ...) are in the total, not here. With `per-sensor =
 * true` the same tree is also written under rrd/sensor/NAME/port/.
 * Keys: 0..65535 TCP, 65536..131071 UDP, 131072 ICMP: a flat array of
 * 131 073 counters per bucket (rrdplug.c says why and what it costs).
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "port"
#endif

#include <stdio.h>

#include "rrdplug.h"

#define PORT_ICMP_KEY RRDPLUG_PORT_ICMP

static uint32_t port_key(const tt_flow *flow)
{
    switch (flow->proto) {
    case TT_PROTO_TCP:
        return flow->dst_port;
    case TT_PROTO_UDP:
        return 65536u + flow->dst_port;
    case TT_PROTO_ICMP:
    case TT_PROTO_ICMP6:
        return PORT_ICMP_KEY;
    default:
        return RRDPLUG_NO_KEY;
    }
}

static void port_path(uint32_t key, char *buf, size_t size)
{
    if (key == PORT_ICMP_KEY)
        g_strlcpy(buf, "port/icmp.rrd", size);
    else
        g_snprintf(buf, size, "port/%s/%u.rrd", key < 65536u ? "tcp" : "udp", key & 0xffffu);
}

static const rrdplug_dim port_dim = {
    .name = "port",
    .nkeys = PORT_ICMP_KEY + 1,
    .kind = TT_RRD_PORT,
    .sensor_kind = TT_RRD_PORT,
    .key = port_key,
    .by = RRDPLUG_BY_PORT,
    .path = port_path,
};

RRDPLUG_DEFINE(port, "port", "per-port RRD files (rrd/port/tcp|udp/N.rrd, icmp.rrd)", port_dim)
