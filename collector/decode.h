/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decode.h - exporters and their sessions: IPFIX (and v9 rewritten to IPFIX)
 * messages in, tt_flow batches out; with rewrite.c and fastdecode.c the only
 * code besides tools/ that includes <fixbuf/public.h>. The exporter table is exporters.h's.
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
#include "exporters.h"
#include "wire.h"

typedef struct tt_decoder tt_decoder;
/**
 * Receives the flows of one message. @a addr is the exporter's address
 * (16 bytes, IPv4-mapped), @a domain the observation domain, @a export_ms the
 * message's export time. The flows are borrowed for the call and may be
 * modified (enrichment happens in place).
 */
typedef void (*tt_flow_sink)(void *sink_data, tt_exporter *exporter, uint32_t domain,
                             tt_flow *flows, size_t n);

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
/**
 * Tests only: with @a on FALSE libfixbuf reads every record, as before the fast
 * path (decode.c, "Fast path"); the differential test runs both and compares.
 */
void tt_decoder_set_fast(tt_decoder *decoder, gboolean on);
/** Tests only: data records the fast path has read so far. */
uint64_t tt_decoder_fast_records(const tt_decoder *decoder);
/** Call @a fn for every live exporter. */
void tt_decoder_foreach_exporter(tt_decoder *decoder,
                                 void (*fn)(const tt_exporter *exporter, void *data), void *data);
/** Stats summed over exporters that are gone. */
const tt_exporter_stats *tt_decoder_retired_stats(const tt_decoder *decoder);
/** The retired exporters' stats of one sensor (tt_exporters_retired_for), or NULL. */
const tt_exporter_stats *tt_decoder_retired_sensor_stats(const tt_decoder *decoder,
                                                         uint32_t sensor);
/** Number of live exporters; sessions evicted because of the caps. */
guint tt_decoder_exporter_count(const tt_decoder *decoder);
uint64_t tt_decoder_evictions(const tt_decoder *decoder);

#endif
