/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * classify.h - scan / backscatter / other, from a flow's own fields.
 *
 * scan:        TCP with SYN and without ACK (and without RST); ICMP/ICMPv6 echo request
 * backscatter: TCP SYN+ACK, or RST (with or without ACK); ICMP echo reply and
 *              ICMP errors (unreachable, time exceeded, ...); ICMPv6 likewise;
 *              UDP whose *source* port is a well-known reflector/service port
 *              (53, 123, 161, 19, 1900, 11211, 389, ...): answers to spoofed queries
 * other:       everything else (UDP to arbitrary ports counts as other, not scan,
 *              because a UDP probe and UDP junk look the same in a flow record)
 */
#ifndef TT_CLASSIFY_H
#define TT_CLASSIFY_H

#include <teiten/flow.h>

tt_class tt_classify(const tt_flow *flow);

#endif
