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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** IPFIX message header length (RFC 7011 3.1). */
#define TT_IPFIX_HDR_LEN 16
/** Set header length: set ID and length (RFC 7011 3.3.2). */
#define TT_IPFIX_SET_HDR_LEN 4
/** Set IDs: template set, options template set; data sets are 256 and above. */
#define TT_IPFIX_SET_TEMPLATE 2
#define TT_IPFIX_SET_OPTIONS 3
#define TT_IPFIX_SET_DATA_MIN 256
/** Field length meaning "variable length" (RFC 7011 7). */
#define TT_IPFIX_VARLEN 0xffff
/** A variable-length field's 1-byte length of 255 means a 2-byte length follows (RFC 7011 7). */
#define TT_IPFIX_VARLEN_LONG 255

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

/*
 * Walking a message set by set and template by template: tt_ipfix_check()
 * walks with these cursors, and so does every later pass over a checked
 * message (decode.c's template cap, rewrite.c's cuts), which may then ignore
 * the status: a checked message walks without error.
 */

/** One set: its ID, the offset of its header, its length (header included). */
typedef struct {
    uint16_t id;
    size_t off;
    size_t len;
} tt_wire_set;

/** Cursor over the sets of an IPFIX message. */
typedef struct {
    const uint8_t *msg;
    size_t len;      /* the message's length now (the cuts below shrink it) */
    size_t next;     /* offset of the next set's header */
    tt_wire_set set; /* the current set */
} tt_wire_sets;

/** Start at the first set of @a msg (@a len bytes, header included). */
void tt_wire_sets_init(tt_wire_sets *it, const uint8_t *msg, size_t len);
/**
 * Step to the next set (it->set). FALSE at the end (*@a status TT_WIRE_OK) or
 * at a set that does not fit (TT_WIRE_SET_SHORT, TT_WIRE_SET_OVERRUN).
 */
bool tt_wire_sets_next(tt_wire_sets *it, tt_wire_status *status);

/** One record of a template (2) or options template (3) set. */
typedef struct {
    uint16_t tid;
    uint16_t nfields;  /* 0: a withdrawal (4 bytes, no scope count) */
    size_t off;        /* offset of the record in the message */
    size_t len;        /* header, scope count and field specifiers */
    size_t spec;       /* offset of the first field specifier */
    size_t min_record; /* shortest data record: fixed lengths, 1 byte per variable-length field */
    bool varlen;       /* some field is variable-length */
} tt_wire_template;

/** Cursor over the records of the current template set of @a sets. */
typedef struct {
    const uint8_t *msg;
    uint16_t set_id;
    size_t next, end;
    tt_wire_template t; /* the current record */
} tt_wire_templates;

void tt_wire_templates_init(tt_wire_templates *it, const tt_wire_sets *sets);
/**
 * Step to the next template record (it->t). FALSE at the end of the set (fewer
 * than 4 bytes left are padding; *@a status TT_WIRE_OK) or at a record that is
 * wrong (TT_WIRE_TEMPLATE_TRUNCATED, TT_WIRE_TEMPLATE_RESERVED_ID,
 * TT_WIRE_OPTIONS_SCOPE); a withdrawal of ID 2 or 3 (every template) passes.
 */
bool tt_wire_templates_next(tt_wire_templates *it, tt_wire_status *status);

/** Cursor over every template record of every template and options set of a message. */
typedef struct {
    tt_wire_sets sets;
    tt_wire_templates tmpls; /* tmpls.t: the current record */
    bool in_set;             /* tmpls walks a set of sets */
} tt_wire_all_templates;

void tt_wire_all_templates_init(tt_wire_all_templates *it, const uint8_t *msg, size_t len);
/**
 * Step to the next template record (it->tmpls.t), across sets. FALSE at the end
 * of the message, or where a set or a record is wrong (*@a status, as
 * tt_wire_sets_next and tt_wire_templates_next say; a wrong record ends its set
 * only). The record may be cut (tt_wire_cut_template(&it->sets, &it->tmpls, msg)).
 */
bool tt_wire_all_templates_next(tt_wire_all_templates *it, tt_wire_status *status);

/**
 * Cut the current set out of @a msg (the message @a sets walks): later bytes
 * move up, the header's length follows and the next step reads the set that
 * moved in. Returns the message's new length.
 */
size_t tt_wire_cut_set(tt_wire_sets *sets, uint8_t *msg);
/** Cut the record @a tmpls stands on out of its set and the message, likewise. */
size_t tt_wire_cut_template(tt_wire_sets *sets, tt_wire_templates *tmpls, uint8_t *msg);

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
