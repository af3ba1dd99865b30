/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap_reader.h - test helper: the UDP payloads of a classic pcap file.
 *
 * Tests replay real exporter captures (/work/shared/flowdata) straight into
 * the decoders without a socket. Only what those captures use is supported:
 * classic pcap (either byte order, micro- or nanosecond stamps) and pcapng
 * (enhanced and simple packet blocks, if_tsresol powers of ten), Ethernet
 * (with 802.1Q/802.1ad tags) or raw IP link types, IPv4 or IPv6 without
 * extension headers, unfragmented UDP. Anything else is skipped, not an error.
 */
#ifndef TT_TEST_PCAP_READER_H
#define TT_TEST_PCAP_READER_H

#include <glib.h>
#include <stdint.h>

typedef struct tt_pcap_datagram {
    int64_t ts_us;   /* capture time, microseconds since the epoch */
    uint8_t src[16]; /* IPv4 is IPv4-mapped, as in tt_flow */
    uint8_t dst[16];
    uint16_t sport;
    uint16_t dport;
    size_t len;     /* payload length */
    uint8_t data[]; /* UDP payload */
} tt_pcap_datagram;

/**
 * Read every UDP datagram of the pcap or pcapng file at @a path, in file
 * order.
 * Returns (transfer full) an array of tt_pcap_datagram * that frees its
 * elements, or NULL with @a error set when the file cannot be read or is not
 * a pcap.
 */
GPtrArray *tt_pcap_read_udp(const char *path, GError **error);

/**
 * Path (transfer full) of @a relative inside the shared flow capture folder
 * ($TT_FLOWDATA, else TT_TEST_SRC_DIR/../../shared/flowdata), or NULL after
 * calling g_test_skip() with the reason when the file is not there. Call it
 * from inside a test case and return when it gives NULL.
 */
gchar *tt_pcap_flowdata_file(const char *relative);

#endif
