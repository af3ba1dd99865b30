/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decode.h - exporters and their sessions: IPFIX (and v9 rewritten to IPFIX)
 * messages in, tt_flow batches out; the only code besides tools/ that
 * includes <fixbuf/public.h>.
 *
 * One tt_exporter per (listener, exporter address, source port) for UDP, per
 * connection for TCP, per file for --read. Each owns one libfixbuf session in
 * buffer mode; observation domains stay apart inside it and each domain keeps
 * its own state (system init time, announced sampling, sequence tracking,
 * sensor). Messages are walked by wire.c before libfixbuf sees them.
 */
#ifndef TT_DECODE_H
#define TT_DECODE_H

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#include <teiten/flow.h>

#include "config.h"
#include "wire.h"

/** Why a template was refused (counted per exporter). */
typedef enum {
    TT_TREFUSE_FIELD_LENGTH, /* a field we read has a length we cannot trust */
    TT_TREFUSE_VARLEN_FIELD, /* a field we read is variable-length */
    TT_TREFUSE_ZERO_LENGTH,  /* records would be zero bytes long */
    TT_TREFUSE_CAP,          /* the session's template cap was reached */
    TT_TREFUSE_COUNT
} tt_template_refusal;

/** Why a whole message was dropped (counted per exporter or per listener). */
typedef enum {
    TT_DROP_WIRE,             /* structural check failed (see wire_reasons) */
    TT_DROP_DECODE,           /* libfixbuf refused the message */
    TT_DROP_TEMPLATE_CAP,     /* would add templates beyond the cap */
    TT_DROP_UNKNOWN_EXPORTER, /* exporter/domain matches no sensor */
    TT_DROP_V5,               /* malformed NetFlow v5 */
    TT_DROP_DOMAIN_CAP,       /* a new observation domain beyond `max-domains` */
    TT_DROP_COUNT
} tt_drop_reason;

typedef struct tt_exporter_stats {
    uint64_t messages;        /* messages accepted for decoding */
    uint64_t records;         /* data records decoded into flows */
    uint64_t options_records; /* options records read */
    uint64_t templates;       /* templates accepted */
    uint64_t templates_refused[TT_TREFUSE_COUNT];
    uint64_t unknown_template_sets; /* data sets without a template */
    uint64_t seq_lost; /* sequence-loss estimate (IPFIX: records, v9: packets, v5: flows) */
    uint64_t dropped[TT_DROP_COUNT];
    uint64_t wire_reasons[TT_WIRE_REASON_COUNT];
    uint64_t future_records;  /* start past the export time by more than `clamp-max`: refused */
    uint64_t clock_ahead;     /* messages whose export time is beyond `export-ahead-max`: dropped */
    uint64_t time_clamped;    /* start past the export time, up to `clamp-max`: timed at it */
    uint64_t time_impossible; /* times beyond 9999, before 1970, or end a day before start */
    uint64_t value_range;     /* a port, protocol, flags or ICMP value too large for its type */
    uint64_t absurd_counts;   /* more than 2^40 packets or 2^56 bytes in one record */
    int64_t clock_offset_s;   /* export time - host clock, latest message */
    gboolean clock_offset_known;
    uint64_t withdrawals_ignored; /* template withdrawals over UDP (RFC 7011 8.4): not honoured */
    uint32_t sampling;            /* last sampling rate applied (1 = none) */
    int64_t first_seen;           /* host time, seconds */
    int64_t last_seen;            /* host time, seconds */
} tt_exporter_stats;

typedef struct tt_decoder tt_decoder;
typedef struct tt_exporter tt_exporter;

/**
 * Receives the flows of one message. @a addr is the exporter's address
 * (16 bytes, IPv4-mapped), @a domain the observation domain, @a export_ms the
 * message's export time. The flows are borrowed for the call and may be
 * modified (enrichment happens in place).
 */
typedef void (*tt_flow_sink)(void *sink_data, tt_exporter *exporter, uint32_t domain,
                             tt_flow *flows, size_t n);

/**
 * Per-exporter hook to find the sensor of (exporter address, domain).
 * Returns TT_SENSOR_NONE (UINT32_MAX) to refuse.
 */
typedef uint32_t (*tt_sensor_resolver)(void *data, const uint8_t addr[16], uint32_t domain);

/** Create a decoder (one libfixbuf info model, one base session). (transfer full) */
tt_decoder *tt_decoder_new(const tt_config *config, tt_flow_sink sink, void *sink_data,
                           GError **error);
void tt_decoder_free(tt_decoder *decoder);
/**
 * Take @a config's decoder keys: the caps (max-templates, max-exporters, max-sessions,
 * max-domains; what exists already stays) and the time policy's export-time-tolerance,
 * clamp-max and export-ahead-max. At creation and on every reload (SIGHUP).
 */
void tt_decoder_apply_config(tt_decoder *decoder, const tt_config *config);

/** Bump when sensors change: every domain resolves its sensor again. */
void tt_decoder_invalidate_sensors(tt_decoder *decoder);
void tt_decoder_set_resolver(tt_decoder *decoder, tt_sensor_resolver resolver, void *data);

/**
 * Find or create the exporter for (@a kind, @a peer) on listener @a listener_id.
 * Returns NULL when the exporter cap is reached and nothing could be evicted.
 * (transfer none: the decoder owns exporters)
 */
tt_exporter *tt_decoder_exporter(tt_decoder *decoder, tt_listen_kind kind, guint listener_id,
                                 const struct sockaddr *peer, socklen_t peer_len, int64_t now);
/**
 * Whether one more exporter fits under max-exporters without evicting one: a TCP connection
 * is refused when not (tt_decoder_exporter_private() itself does not check: a --read file
 * always gets its exporter).
 */
gboolean tt_decoder_exporter_room(const tt_decoder *decoder);
/** An exporter for a file or a TCP connection: never shared, never evicted until released. */
tt_exporter *tt_decoder_exporter_private(tt_decoder *decoder, tt_listen_kind kind,
                                         const char *label, const uint8_t addr[16], int64_t now);
/** Forget an exporter (connection closed, file done). Its stats stay in the totals. */
void tt_decoder_exporter_release(tt_decoder *decoder, tt_exporter *exporter);

/** Decode one IPFIX message (exactly one, @a len bytes). Drops and counts what is bad. */
void tt_decoder_ipfix(tt_decoder *decoder, tt_exporter *exporter, uint8_t *msg, size_t len);
/** Decode one NetFlow v9 datagram. */
void tt_decoder_v9(tt_decoder *decoder, tt_exporter *exporter, const uint8_t *msg, size_t len);
/** Decode one NetFlow v5 datagram. */
void tt_decoder_v5(tt_decoder *decoder, tt_exporter *exporter, const uint8_t *msg, size_t len);
/**
 * Read the message libfixbuf's own listener has ready in @a fbuf (an fBuf_t*;
 * sFlow, whose translator only runs inside libfixbuf's UDP read path).
 */
void tt_decoder_fbuf(tt_decoder *decoder, tt_exporter *exporter, void *fbuf);
/**
 * A libfixbuf session (fbSession_t*) with our internal templates and template
 * inspection, for libfixbuf's own listener. (transfer full) */
void *tt_decoder_new_session(tt_decoder *decoder);
/** The decoder's fbInfoModel_t*. (transfer none) */
void *tt_decoder_info_model(tt_decoder *decoder);
/** Attribute every record of @a exporter to @a sensor (files given with --sensor). */
void tt_exporter_force_sensor(tt_exporter *exporter, uint32_t sensor);
/** Count a message that was dropped before it reached a decoder function. */
void tt_decoder_count_drop(tt_exporter *exporter, tt_drop_reason reason);
/** Count a datagram a listener's own wire check refused (sFlow: tt_sflow_check). */
void tt_decoder_count_malformed(tt_exporter *exporter, tt_wire_status status);

/** Stats and identity of an exporter. */
const tt_exporter_stats *tt_exporter_get_stats(const tt_exporter *exporter);
const char *tt_exporter_label(const tt_exporter *exporter);
tt_listen_kind tt_exporter_kind(const tt_exporter *exporter);
const uint8_t *tt_exporter_addr(const tt_exporter *exporter);
/** Templates the exporter holds now, all domains together (kept <= max-templates). */
guint tt_exporter_template_count(const tt_exporter *exporter);
/** Observation domains the exporter holds state for (kept <= max-domains). */
guint tt_exporter_domain_count(const tt_exporter *exporter);

/** Call @a fn for every live exporter. */
void tt_decoder_foreach_exporter(tt_decoder *decoder,
                                 void (*fn)(const tt_exporter *exporter, void *data), void *data);
/** Stats summed over exporters that are gone. */
const tt_exporter_stats *tt_decoder_retired_stats(const tt_decoder *decoder);
/** Number of live exporters; sessions evicted because of the caps. */
guint tt_decoder_exporter_count(const tt_decoder *decoder);
uint64_t tt_decoder_evictions(const tt_decoder *decoder);

/** The 16-byte address (IPv4-mapped for v4) and port of @a sa. */
void tt_addr16_from_sockaddr(const struct sockaddr *sa, uint8_t addr[16], uint16_t *port);
/** Text form of a 16-byte address: dotted quad for IPv4-mapped, RFC 5952 otherwise. */
void tt_addr16_format(const uint8_t addr[16], char *out, size_t cap);

const char *tt_template_refusal_key(tt_template_refusal reason);
const char *tt_drop_reason_key(tt_drop_reason reason);

#endif
