/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.h - structural checks of IPFIX messages and the NetFlow v9 -> IPFIX
 * message rewrite, before libfixbuf sees a byte.
 *
 * libfixbuf decodes records, but in buffer mode it reports a set overrun the
 * same way as the end of a message, warns only on lying field lengths, and
 * has no caps. So every datagram is walked here first: header, every set's
 * bounds, every template's field list. A message in which anything overruns
 * is dropped whole, with a reason.
 *
 * NetFlow v9 is rewritten into an IPFIX message so that one decode path (our
 * socket, recvmmsg, libfixbuf buffer mode) serves both: the 20-byte v9 header
 * becomes the 16-byte IPFIX header (the v9 sysUpTime and unix_secs are
 * returned to the caller, which keeps systemInitTime per exporter), template
 * flowsets (ID 0) become template sets (ID 2), options template flowsets
 * (ID 1, lengths in bytes) become options template sets (ID 3, counts in
 * fields; scope fields become paddingOctets (210) of the same length so
 * libfixbuf neither warns nor misreads them, except a v9 scope of type
 * "System" that stays attached to nothing), data flowsets are copied. Field
 * types 1..346 keep their number (v9 and IPFIX share them); larger ones are
 * mapped to paddingOctets. v9 padding at the end of a flowset is kept.
 */
#ifndef TT_WIRE_H
#define TT_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TT_WIRE_OK = 0,
    TT_WIRE_SHORT_HEADER,         /* shorter than the message header */
    TT_WIRE_BAD_VERSION,          /* not 10 (IPFIX) / not 9 (v9) */
    TT_WIRE_BAD_LENGTH,           /* IPFIX length field beyond or short of the datagram */
    TT_WIRE_SET_SHORT,            /* set length below the 4-byte set header (incl. 0) */
    TT_WIRE_SET_OVERRUN,          /* set length past the end of the message */
    TT_WIRE_RESERVED_SET,         /* set ID 0, 1, 4..255 in IPFIX */
    TT_WIRE_TEMPLATE_TRUNCATED,   /* a template record's field list runs past its set */
    TT_WIRE_TEMPLATE_RESERVED_ID, /* template ID below 256 */
    TT_WIRE_OPTIONS_SCOPE,        /* options template with scope count 0 or > field count */
    TT_WIRE_TOO_BIG,              /* rewritten message would not fit the output buffer */
    TT_WIRE_RECORD_OVERRUN,       /* a record's variable-length field runs past its data set
                                     (found by decode.c, which has the templates) */
    TT_WIRE_REASON_COUNT
} tt_wire_status;

const char *tt_wire_strerror(tt_wire_status status);
/** Short stable key for stats.json, e.g. "set_overrun". */
const char *tt_wire_reason_key(tt_wire_status status);

typedef struct tt_wire_info {
    uint32_t export_time;   /* seconds (IPFIX header, or v9 unix_secs) */
    uint32_t sequence;      /* IPFIX: records; v9: packets */
    uint32_t domain;        /* IPFIX observation domain, or v9 source ID */
    uint32_t sys_uptime_ms; /* v9 only */
    uint16_t v9_count;      /* v9 header count (records + templates) */
    uint32_t data_records;  /* data records counted by the walk (fixed-length templates only; best
                               effort) */
    uint32_t template_sets; /* number of template + options template sets */
    uint32_t data_sets;     /* number of data sets */
} tt_wire_info;

/**
 * Walk an IPFIX message of exactly @a len bytes (one datagram, or one framed
 * stream message). Checks the header (version 10, length == @a len, >= 16),
 * then every set: length >= 4, within the message, set ID 2, 3 or >= 256;
 * inside template and options template sets every record's header and
 * field specifiers (enterprise bit: 4 more bytes) fit the set, template IDs
 * are >= 256, options scope count is 1..field count (a withdrawal, field
 * count 0, is allowed). Fills @a info.
 */
tt_wire_status tt_ipfix_check(const uint8_t *msg, size_t len, tt_wire_info *info);

/**
 * Rewrite one NetFlow v9 datagram into an IPFIX message in @a out (capacity
 * @a cap; 65535 suffices for any datagram). Checks as tt_ipfix_check does,
 * with v9's rules: flowset length 0 or < 4 or past the datagram, options
 * template scope length 0 are errors. Sets *@a outlen and fills @a info.
 */
tt_wire_status tt_v9_to_ipfix(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                              size_t *outlen, tt_wire_info *info);

/**
 * Frame one IPFIX message at the start of a stream buffer (TCP, file).
 * Returns TT_WIRE_OK and sets *@a msglen (>= 16; the caller waits until that
 * many bytes are buffered, then calls tt_ipfix_check on exactly them);
 * TT_WIRE_SHORT_HEADER when fewer than 16 bytes are available (read more);
 * TT_WIRE_BAD_VERSION or TT_WIRE_BAD_LENGTH (length field below 16) for a
 * stream that is not IPFIX or lost its framing: drop it. Version and length
 * are judged as soon as their bytes are in, so garbage is refused early.
 */
tt_wire_status tt_ipfix_stream_frame(const uint8_t *buf, size_t avail, size_t *msglen);

/**
 * Walk one sFlow v5 datagram before libfixbuf's sFlow translator reads it:
 * every sample inside the datagram and filled exactly by its records, every
 * sample and record the translator decodes at least as long as what it reads
 * (it trusts fixed offsets), and the translation small enough for its 64 KiB
 * output buffer. TT_WIRE_SHORT_HEADER, TT_WIRE_BAD_VERSION, TT_WIRE_BAD_LENGTH
 * or TT_WIRE_TOO_BIG refuse the datagram; what the translator refuses by
 * itself (other enterprises, unknown formats) passes, as it reads no further.
 */
tt_wire_status tt_sflow_check(const uint8_t *dgram, size_t len);

#endif
