/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_classify.c - every rule of tt_classify(), one table row per rule and edge.
 *
 * Rows are flows as the decoder produces them (ICMP type and code in dst_port as
 * type * 256 + code), so the encoding contract with the decoder is tested too.
 */
#include <glib.h>

#include "classify.h"

typedef struct {
    const char *what;
    uint8_t proto;
    uint8_t flags;
    uint16_t src_port;
    uint16_t dst_port;
    tt_class expect;
} classify_case;

#define ICMP(type, code) ((uint16_t)((type)*256 + (code)))

static const classify_case classify_cases[] = {
    /* TCP */
    {"tcp SYN", TT_PROTO_TCP, TT_TCP_SYN, 40000, 23, TT_CLASS_SCAN},
    {"tcp SYN+PSH+URG (odd scanner)", TT_PROTO_TCP, TT_TCP_SYN | TT_TCP_PSH | TT_TCP_URG, 1, 80,
     TT_CLASS_SCAN},
    {"tcp SYN+FIN (flow-aggregated)", TT_PROTO_TCP, TT_TCP_SYN | TT_TCP_FIN, 1, 80, TT_CLASS_SCAN},
    {"tcp SYN+ACK", TT_PROTO_TCP, TT_TCP_SYN | TT_TCP_ACK, 80, 40000, TT_CLASS_BACKSCATTER},
    {"tcp RST", TT_PROTO_TCP, TT_TCP_RST, 80, 40000, TT_CLASS_BACKSCATTER},
    {"tcp RST+ACK", TT_PROTO_TCP, TT_TCP_RST | TT_TCP_ACK, 80, 40000, TT_CLASS_BACKSCATTER},
    {"tcp SYN+RST", TT_PROTO_TCP, TT_TCP_SYN | TT_TCP_RST, 80, 40000, TT_CLASS_BACKSCATTER},
    {"tcp ACK only", TT_PROTO_TCP, TT_TCP_ACK, 80, 40000, TT_CLASS_OTHER},
    {"tcp FIN+ACK", TT_PROTO_TCP, TT_TCP_FIN | TT_TCP_ACK, 80, 40000, TT_CLASS_OTHER},
    {"tcp no flags exported", TT_PROTO_TCP, 0, 40000, 23, TT_CLASS_OTHER},
    {"tcp from port 53 is not UDP backscatter", TT_PROTO_TCP, TT_TCP_ACK, 53, 40000,
     TT_CLASS_OTHER},
    /* ICMP */
    {"icmp echo request", TT_PROTO_ICMP, 0, 0, ICMP(8, 0), TT_CLASS_SCAN},
    {"icmp echo reply", TT_PROTO_ICMP, 0, 0, ICMP(0, 0), TT_CLASS_BACKSCATTER},
    {"icmp port unreachable", TT_PROTO_ICMP, 0, 0, ICMP(3, 3), TT_CLASS_BACKSCATTER},
    {"icmp host unreachable", TT_PROTO_ICMP, 0, 0, ICMP(3, 1), TT_CLASS_BACKSCATTER},
    {"icmp source quench", TT_PROTO_ICMP, 0, 0, ICMP(4, 0), TT_CLASS_BACKSCATTER},
    {"icmp redirect", TT_PROTO_ICMP, 0, 0, ICMP(5, 1), TT_CLASS_BACKSCATTER},
    {"icmp time exceeded", TT_PROTO_ICMP, 0, 0, ICMP(11, 0), TT_CLASS_BACKSCATTER},
    {"icmp parameter problem", TT_PROTO_ICMP, 0, 0, ICMP(12, 0), TT_CLASS_BACKSCATTER},
    {"icmp timestamp reply", TT_PROTO_ICMP, 0, 0, ICMP(14, 0), TT_CLASS_BACKSCATTER},
    {"icmp timestamp request", TT_PROTO_ICMP, 0, 0, ICMP(13, 0), TT_CLASS_OTHER},
    {"icmp router solicitation", TT_PROTO_ICMP, 0, 0, ICMP(10, 0), TT_CLASS_OTHER},
    {"icmp type 128 is not ICMPv6", TT_PROTO_ICMP, 0, 0, ICMP(128, 0), TT_CLASS_OTHER},
    {"icmp code 8 of type 0 is not echo request", TT_PROTO_ICMP, 0, 0, ICMP(0, 8),
     TT_CLASS_BACKSCATTER},
    /* ICMPv6 */
    {"icmp6 echo request", TT_PROTO_ICMP6, 0, 0, ICMP(128, 0), TT_CLASS_SCAN},
    {"icmp6 echo reply", TT_PROTO_ICMP6, 0, 0, ICMP(129, 0), TT_CLASS_BACKSCATTER},
    {"icmp6 unreachable", TT_PROTO_ICMP6, 0, 0, ICMP(1, 4), TT_CLASS_BACKSCATTER},
    {"icmp6 packet too big", TT_PROTO_ICMP6, 0, 0, ICMP(2, 0), TT_CLASS_BACKSCATTER},
    {"icmp6 time exceeded", TT_PROTO_ICMP6, 0, 0, ICMP(3, 0), TT_CLASS_BACKSCATTER},
    {"icmp6 parameter problem", TT_PROTO_ICMP6, 0, 0, ICMP(4, 1), TT_CLASS_BACKSCATTER},
    {"icmp6 neighbour solicitation", TT_PROTO_ICMP6, 0, 0, ICMP(135, 0), TT_CLASS_OTHER},
    {"icmp6 type 8 is not ICMPv4", TT_PROTO_ICMP6, 0, 0, ICMP(8, 0), TT_CLASS_OTHER},
    /* UDP */
    {"udp from 17 (qotd)", TT_PROTO_UDP, 0, 17, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 19 (chargen)", TT_PROTO_UDP, 0, 19, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 53 (dns)", TT_PROTO_UDP, 0, 53, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 111 (portmap)", TT_PROTO_UDP, 0, 111, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 123 (ntp)", TT_PROTO_UDP, 0, 123, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 137 (netbios)", TT_PROTO_UDP, 0, 137, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 161 (snmp)", TT_PROTO_UDP, 0, 161, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 389 (cldap)", TT_PROTO_UDP, 0, 389, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 1900 (ssdp)", TT_PROTO_UDP, 0, 1900, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 3702 (ws-discovery)", TT_PROTO_UDP, 0, 3702, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 5353 (mdns)", TT_PROTO_UDP, 0, 5353, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 11211 (memcached)", TT_PROTO_UDP, 0, 11211, 40000, TT_CLASS_BACKSCATTER},
    {"udp from 27015 (game query)", TT_PROTO_UDP, 0, 27015, 40000, TT_CLASS_BACKSCATTER},
    {"udp to 53 is a query, not backscatter", TT_PROTO_UDP, 0, 40000, 53, TT_CLASS_OTHER},
    {"udp from 0", TT_PROTO_UDP, 0, 0, 53, TT_CLASS_OTHER},
    {"udp from 54 (next to 53)", TT_PROTO_UDP, 0, 54, 40000, TT_CLASS_OTHER},
    {"udp from 65535", TT_PROTO_UDP, 0, 65535, 40000, TT_CLASS_OTHER},
    /* others */
    {"gre", 47, 0, 0, 0, TT_CLASS_OTHER},
    {"sctp from 53", 132, 0, 53, 40000, TT_CLASS_OTHER},
    {"esp with stray flags", 50, TT_TCP_SYN, 0, 0, TT_CLASS_OTHER},
};

static void test_classify_table(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(classify_cases); i++) {
        const classify_case *c = &classify_cases[i];
        tt_flow flow = {0};
        tt_class got;

        flow.family = 4;
        flow.proto = c->proto;
        flow.tcp_flags = c->flags;
        flow.src_port = c->src_port;
        flow.dst_port = c->dst_port;
        got = tt_classify(&flow);
        if (got != c->expect)
            g_test_message("case \"%s\": got %d, expected %d", c->what, got, c->expect);
        g_assert_cmpint(got, ==, c->expect);
    }
}

/* The class depends on the fields named in classify.h only, not on family or counters. */
static void test_classify_ignores_other_fields(void)
{
    tt_flow flow = {0};

    flow.proto = TT_PROTO_TCP;
    flow.tcp_flags = TT_TCP_SYN;
    flow.family = 6;
    flow.packets = 1000;
    flow.sampling = 100;
    flow.cls = TT_CLASS_BACKSCATTER;
    g_assert_cmpint(tt_classify(&flow), ==, TT_CLASS_SCAN);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/classify/table", test_classify_table);
    g_test_add_func("/classify/ignores-other-fields", test_classify_ignores_other_fields);
    return g_test_run();
}
