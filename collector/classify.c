/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * classify.c - scan / backscatter / other from a flow's own fields (classify.h).
 *
 * A darknet receives two kinds of unsolicited traffic worth telling apart:
 * scans (someone probing the dark space: TCP SYN, ICMP echo request) and
 * backscatter (answers to packets someone sent with a dark source address
 * forged: SYN+ACK, RST, ICMP replies and errors, UDP answers from a service
 * port). The rules, per protocol:
 *
 *   TCP       SYN without ACK and RST: scan; SYN+ACK or any RST: backscatter;
 *             anything else, including flags 0 (exporters that send no flags): other
 *   ICMP      type 8 (echo request): scan; types 0, 3, 4, 5, 11, 12, 14: backscatter
 *   ICMPv6    type 128 (echo request): scan; 129 (echo reply) and 1..4 (errors): backscatter
 *   UDP       source port in config_reflector_ports below: backscatter
 *   others    other
 *
 * ICMP type and code travel in dst_port as type * 256 + code (flow.h).
 * A UDP flow *to* a service port stays "other": a UDP probe and UDP junk look
 * the same in a flow record, so calling it a scan would overstate scanning.
 */
#include "classify.h"

#include <glib.h>

/*
 * UDP services whose answers show up as backscatter or reflection traffic,
 * sorted (the scan stops early): chargen 19, qotd 17, DNS 53, NTP 123, portmap 111,
 * NetBIOS-NS 137, SNMP 161, CLDAP 389, SSDP 1900, WS-Discovery 3702,
 * mDNS 5353, memcached 11211, Steam/game query 27015.
 */
static const uint16_t classify_reflector_ports[] = {
    17, 19, 53, 111, 123, 137, 161, 389, 1900, 3702, 5353, 11211, 27015,
};

static gboolean classify_is_reflector(uint16_t port)
{
    for (gsize i = 0; i < G_N_ELEMENTS(classify_reflector_ports); i++) {
        if (classify_reflector_ports[i] >= port)
            return classify_reflector_ports[i] == port;
    }
    return FALSE;
}

static tt_class classify_tcp(uint8_t flags)
{
    gboolean syn = (flags & TT_TCP_SYN) != 0;
    gboolean ack = (flags & TT_TCP_ACK) != 0;

    if (flags & TT_TCP_RST)
        return TT_CLASS_BACKSCATTER;
    if (syn && ack)
        return TT_CLASS_BACKSCATTER;
    if (syn)
        return TT_CLASS_SCAN;
    return TT_CLASS_OTHER;
}

static tt_class classify_icmp(uint8_t type)
{
    switch (type) {
    case 8:
        return TT_CLASS_SCAN;
    case 0:  /* echo reply */
    case 3:  /* destination unreachable */
    case 4:  /* source quench */
    case 5:  /* redirect */
    case 11: /* time exceeded */
    case 12: /* parameter problem */
    case 14: /* timestamp reply */
        return TT_CLASS_BACKSCATTER;
    default:
        return TT_CLASS_OTHER;
    }
}

static tt_class classify_icmp6(uint8_t type)
{
    switch (type) {
    case 128:
        return TT_CLASS_SCAN;
    case 1:   /* destination unreachable */
    case 2:   /* packet too big */
    case 3:   /* time exceeded */
    case 4:   /* parameter problem */
    case 129: /* echo reply */
        return TT_CLASS_BACKSCATTER;
    default:
        return TT_CLASS_OTHER;
    }
}

tt_class tt_classify(const tt_flow *flow)
{
    g_return_val_if_fail(flow != NULL, TT_CLASS_OTHER);

    switch (flow->proto) {
    case TT_PROTO_TCP:
        return classify_tcp(flow->tcp_flags);
    case TT_PROTO_ICMP:
        return classify_icmp((uint8_t)(flow->dst_port >> 8));
    case TT_PROTO_ICMP6:
        return classify_icmp6((uint8_t)(flow->dst_port >> 8));
    case TT_PROTO_UDP:
        if (classify_is_reflector(flow->src_port))
            return TT_CLASS_BACKSCATTER;
        return TT_CLASS_OTHER;
    default:
        return TT_CLASS_OTHER;
    }
}
