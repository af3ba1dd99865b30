/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exporters.h - who sends us flows: the exporter table and its caps, the
 * observation domains inside each exporter, sequence-loss tracking, and the
 * per-exporter stats.
 *
 * One tt_exporter per (listener, exporter address, source port) for UDP
 * ("shared": found by address, evicted under the caps), one per connection
 * for TCP and per file for --read ("private": never shared, never evicted).
 * Each keeps one state per observation domain (sensor, clock and sampling
 * facts, sequence tracking), created on first use up to max-domains.
 *
 * The table knows nothing of libfixbuf: the decoder gives it two hooks that
 * attach a session and buffer to a new exporter and free them again, so the
 * exporter struct only names the libfixbuf types. The first half of this
 * header is the public face (stats and identity of an exporter, for core.c,
 * stats.c, health.c, listen.c); the second half, from "Decoder side", is
 * for decode.c and rewrite.c only.
 */
#ifndef TT_EXPORTERS_H
#define TT_EXPORTERS_H

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "normalise.h"
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

typedef struct tt_exporter tt_exporter;

/**
 * Per-exporter hook to find the sensor of (exporter address, domain).
 * Returns TT_SENSOR_NONE (UINT32_MAX) to refuse.
 */
typedef uint32_t (*tt_sensor_resolver)(void *data, const uint8_t addr[16], uint32_t domain);

/** Attribute every record of @a exporter to @a sensor (files given with --sensor). */
void tt_exporter_force_sensor(tt_exporter *exporter, uint32_t sensor);
/** Count a datagram a listener's own wire check refused (sFlow: tt_sflow_check). */
void tt_decoder_count_malformed(tt_exporter *exporter, tt_wire_status status);

/** Stats and identity of an exporter. */
const tt_exporter_stats *tt_exporter_get_stats(const tt_exporter *exporter);
const char *tt_exporter_label(const tt_exporter *exporter);
tt_listen_kind tt_exporter_kind(const tt_exporter *exporter);
const uint8_t *tt_exporter_addr(const tt_exporter *exporter);
/**
 * The sensor every domain of @a exporter resolved to, whose losses its losses
 * are (sequence gaps, refused records and messages); TT_SENSOR_NONE when none
 * resolved (junk, spoofed sources) or when its domains feed several sensors.
 */
uint32_t tt_exporter_sensor(const tt_exporter *exporter);
/** Templates the exporter holds now, all domains together (kept <= max-templates). */
guint tt_exporter_template_count(const tt_exporter *exporter);
/** Observation domains the exporter holds state for (kept <= max-domains). */
guint tt_exporter_domain_count(const tt_exporter *exporter);

/** The 16-byte address (IPv4-mapped for v4) and port of @a sa. */
void tt_addr16_from_sockaddr(const struct sockaddr *sa, uint8_t addr[16], uint16_t *port);
/** Text form of a 16-byte address: dotted quad for IPv4-mapped, RFC 5952 otherwise. */
void tt_addr16_format(const uint8_t addr[16], char *out, size_t cap);

const char *tt_template_refusal_key(tt_template_refusal reason);
const char *tt_drop_reason_key(tt_drop_reason reason);

/* ---- Decoder side (decode.c, rewrite.c) ------------------------------------- */

/** The state of one observation domain of an exporter. */
typedef struct {
    uint32_t domain;
    uint32_t sensor;
    guint sensor_gen;
    tt_norm_domain norm; /* boot time, header clock, samplers: what records are read against */
    gboolean seq_valid;
    gboolean seq_post;       /* numbers messages after counting their own records */
    uint32_t prev_seq;       /* sequence number of the previous message */
    uint32_t prev_records;   /* its data + options records */
    uint32_t prev_data;      /* its data records */
    uint32_t prev_templates; /* its template records */
    guint refused_gen;       /* sensor generation in which the refusal was last logged */
} tt_domain;

typedef struct tt_exporter_table tt_exporter_table;

struct tt_exporter {
    tt_exporter_table *table;
    tt_listen_kind kind;
    guint listener_id;
    gboolean is_private;
    uint32_t forced_sensor; /* UINT32_MAX: resolve by address and domain */
    uint8_t addr[16];
    uint16_t port;
    char label[96];
    struct fbSession_st *session; /* owned by fbuf */
    struct fBuf_st *fbuf;         /* attached and freed by the table's hooks */
    GHashTable *domains;          /* domain -> tt_domain* */
    tt_domain *last_domain;
    GHashTable *tids;            /* (domain << 16 | tid) of every template seen */
    GHashTable *refusals_logged; /* (domain << 16 | tid) of refused templates logged */
    /* what was logged once: a clamp and a refusal as future each have their own line */
    gboolean clamp_logged, future_logged, impossible_logged, offset_logged, ahead_logged,
        absurd_logged;
    tt_exporter_stats stats;
};

/** Gives a new exporter its libfixbuf session and buffer (attach) or frees them (detach). */
typedef void (*tt_exporter_hook)(void *data, tt_exporter *exporter);

/** Every exporter of one decoder, with the caps. Embedded in the decoder. */
struct tt_exporter_table {
    tt_sensor_resolver resolver;
    void *resolver_data;
    guint sensor_gen;       /* bumped when sensors change: domains resolve again */
    uint32_t max_exporters; /* shared and private together */
    uint32_t max_sessions;  /* shared exporters per listener */
    uint32_t max_domains;   /* per exporter */
    GArray *sessions;       /* guint per listener id: shared exporters on it */
    GHashTable *shared;     /* exporter key -> tt_exporter* (UDP exporters) */
    GPtrArray *privates;    /* tt_exporter* (files, TCP connections) */
    tt_exporter_stats retired;
    GArray *retired_by_sensor; /* tt_exporter_stats by sensor index, TT_SENSOR_NONE's last */
    uint64_t evictions;
    tt_exporter_hook attach, detach;
    void *hook_data;
};

/** Set up an empty table whose exporters get their sessions from @a attach. */
void tt_exporters_init(tt_exporter_table *table, tt_exporter_hook attach, tt_exporter_hook detach,
                       void *hook_data);
/**
 * The retired exporters' stats of @a sensor (tt_exporter_sensor at their
 * retirement; TT_SENSOR_NONE: the unattributed), or NULL when there are none.
 */
const tt_exporter_stats *tt_exporters_retired_for(const tt_exporter_table *table, uint32_t sensor);
/** Free every exporter (through @a detach) and the table's own memory. */
void tt_exporters_clear(tt_exporter_table *table);
/**
 * Find or create the shared exporter for (@a kind, @a listener_id, @a peer);
 * NULL when a cap is reached and nothing could be evicted. (transfer none)
 */
tt_exporter *tt_exporters_shared(tt_exporter_table *table, tt_listen_kind kind, guint listener_id,
                                 const struct sockaddr *peer, int64_t now);
/** Whether one more exporter fits under max-exporters without evicting one. */
gboolean tt_exporters_room(const tt_exporter_table *table);
/** A private exporter (file, TCP connection): never evicted. (transfer none) */
tt_exporter *tt_exporters_private(tt_exporter_table *table, tt_listen_kind kind, const char *label,
                                  const uint8_t addr[16], int64_t now);
/** Forget a private exporter; its stats go to the retired totals. */
void tt_exporters_release(tt_exporter_table *table, tt_exporter *exporter);
/** Call @a fn for every live exporter. */
void tt_exporters_foreach(tt_exporter_table *table,
                          void (*fn)(const tt_exporter *exporter, void *data), void *data);
guint tt_exporters_count(const tt_exporter_table *table);

/**
 * The state of @a domain, created on first use with its sensor resolved again
 * whenever sensors changed; NULL when the exporter already has max-domains
 * (counted as dropped.domain_cap). (transfer none)
 */
tt_domain *tt_exporter_domain(tt_exporter *exporter, uint32_t domain);

/**
 * Account one message's sequence number @a seq: @a records (data + options),
 * @a data_records, @a template_records in it. Adds the estimated loss to
 * stats.seq_lost.
 */
void tt_exporter_sequence(tt_exporter *exporter, tt_domain *dom, uint32_t seq, uint32_t records,
                          uint32_t data_records, uint32_t template_records);

/**
 * Count (always) and log (once per exporter) what tt_normalise() or
 * tt_normalise_times() clamped or refused, @a flow being the record as judged.
 * TRUE: keep the record.
 */
gboolean tt_exporter_verdict(tt_exporter *exporter, int64_t clamp_max_ms, tt_norm_status st,
                             const tt_norm_note *note, const tt_flow *flow);

/**
 * Judge a message's export time against the host clock: ahead by more than
 * @a ahead_max_ms (export-ahead-max) it is refused whole (clock_ahead), so
 * nothing it carries can reach a sensor's clock from the future; behind is
 * fine (replays). Keeps the offset in the stats and logs it once (a router on
 * local time sits hours off). FALSE: drop the message.
 */
gboolean tt_exporter_export_time(tt_exporter *exporter, int64_t ahead_max_ms, int64_t export_ms);

#endif
