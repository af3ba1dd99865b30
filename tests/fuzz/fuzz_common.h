/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_common.h - one long-lived collector state per fuzzing process, fed
 * datagrams from several fake exporters, with its invariants checked after
 * every datagram.
 *
 * A fuzz input is a sequence of records: one selector byte (which exporter:
 * bits 0-2 pick 127.0.L.(1+n), bit 3 the source port, bit 4 the listener L),
 * a 16-bit big-endian length, then that many payload bytes (the last record
 * takes what is left). State is never reset between inputs, so a template
 * sent by one input is used by the data of a later one, exactly as in a
 * running teitend; the caps (8 exporters, 6 sessions per listener, 64
 * templates) are small so that eviction and refusal paths run all the time.
 *
 * After each datagram: no counter of any exporter (or of the retired totals)
 * went down; the flows the sink received from an exporter equal its records
 * minus its future_records (decode.c counts a record before normalise() may
 * refuse it as future, and refuses nothing else); every datagram was counted
 * exactly once as a message or as a message-level drop; every flow handed out
 * is sane; exporters, sessions and templates stay within their caps. A
 * violation aborts, which libFuzzer reports as a crash with the input.
 */
#ifndef TT_FUZZ_COMMON_H
#define TT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "decode.h"

/** An invariant: when @cond is false, print it and the message, then abort. */
#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant broken: %s\n  ", #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/** Which decoder entry point a datagram goes to. */
typedef enum {
    FUZZ_IPFIX, /* tt_decoder_ipfix, one datagram = one message */
    FUZZ_V9,    /* tt_decoder_v9 */
    FUZZ_V5,    /* tt_decoder_v5 */
    FUZZ_SFLOW, /* a real sFlow listener (listen.c, libfixbuf's translator), see fuzz_sflow.c */
} fuzz_path;

/** The configuration every fuzz target shares (also parsed by fuzz_config's seeds). */
extern const char fuzz_config_text[];

/** Build the process-wide state on first use; later calls return it. */
tt_decoder *fuzz_decoder(void);

/** Feed one input (the record format above) through @a path, checking after each datagram. */
void fuzz_feed_datagrams(fuzz_path path, const uint8_t *data, size_t size);

/**
 * Feed one input as an IPFIX file (RFC 5655 byte stream), framed as
 * tt_read_file() does, through a private exporter released at the end.
 */
void fuzz_feed_file(const uint8_t *data, size_t size);

/** Check every invariant now; abort with a message on the first violation. */
void fuzz_check(void);

/**
 * Sends @a len bytes from fake exporter @a peer (selector % 32, as fuzz_common.h
 * describes it) to a real listener and runs the listener until it has read
 * them; fuzz_sflow.c's loopback sockets.
 */
typedef void (*fuzz_relay)(unsigned peer, const uint8_t *msg, size_t len);

/**
 * Feed one input (the record format above) through real sFlow listeners: for
 * a datagram whose version word is 5, the exporter is looked up first as
 * listen.c's sflow_ready() will look it up (same kind, listener, address and
 * port, so listen.c finds that one), and the datagram must then be counted
 * once by it; anything else is noise that no exporter may count. Invariants
 * are checked after each datagram.
 */
void fuzz_feed_sflow(const uint8_t *data, size_t size, fuzz_relay relay);

#endif
