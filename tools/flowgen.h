/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen.h - shared types of the seeded flow generator (tools/flowgen_*.c).
 *
 * flowgen builds a whole scenario in memory first (every record, already in
 * emission order), writes the exact expected aggregates, and only then sends
 * the records through one of two encoders (IPFIX via libfixbuf, NetFlow v9 of
 * our own) into one sink (IPFIX file, UDP or TCP on loopback). Generating
 * everything up front costs ~100 bytes per record but makes the expectation
 * independent of the transport and the random stream independent of timing.
 *
 * Addresses are 16 bytes everywhere, IPv4 stored IPv4-mapped (as tt_flow does),
 * and prefixes are kept as 128-bit prefixes (an IPv4 /24 is a ::ffff:0:0/96
 * based /120), so one set of helpers serves both families.
 */
#ifndef TT_FLOWGEN_H
#define TT_FLOWGEN_H

#include <glib.h>
#include <stdint.h>

#define TT_FLOWGEN_ERROR (tt_flowgen_error_quark())
GQuark tt_flowgen_error_quark(void);

typedef enum flowgen_time_field {
    FLOWGEN_TIME_MS,
    FLOWGEN_TIME_SEC,
    FLOWGEN_TIME_SYSUPTIME,
} flowgen_time_field;

typedef enum flowgen_out_kind {
    FLOWGEN_OUT_FILE,
    FLOWGEN_OUT_UDP,
    FLOWGEN_OUT_TCP,
} flowgen_out_kind;

/** A prefix over the 128-bit space; IPv4 prefixes are IPv4-mapped (len >= 96). */
typedef struct flowgen_prefix {
    uint8_t addr[16];
    guint len;
    uint8_t family; /* 4 or 6 */
} flowgen_prefix;

/** One generated record, in emission order once the scenario is built. */
typedef struct flowgen_flow {
    int64_t start_ms;
    int64_t end_ms;
    int64_t order_ms; /* start plus jitter: the emission order key */
    uint64_t packets;
    uint64_t bytes;
    uint8_t src[16];
    uint8_t dst[16];
    uint16_t src_port;
    uint16_t dst_port; /* ICMP: type * 256 + code */
    uint8_t family;
    uint8_t proto;
    uint8_t tcp_flags;
    uint8_t leak;
    char country[2];
} flowgen_flow;

/** Where the records go. */
typedef struct flowgen_target {
    flowgen_out_kind kind;
    char *path; /* file */
    char *host; /* udp/tcp: numeric loopback address, no brackets */
    guint16 port;
} flowgen_target;

/** Everything the encoders need besides the records. */
typedef struct flowgen_export_config {
    flowgen_target target;
    char *bind;       /* source address for udp/tcp */
    double rate;      /* records per second, 0 = unpaced */
    guint32 domain;   /* observation domain / v9 source id */
    guint32 sampling; /* 1-in-N announced; 1 = none */
    flowgen_time_field time_field;
    int64_t boot_ms; /* sysUpTime origin (SysUpTime modes and v9) */
} flowgen_export_config;

/* Address and prefix helpers (flowgen_geo.c). */
gboolean tt_flowgen_prefix_parse(const char *text, flowgen_prefix *out, GError **error);
gboolean tt_flowgen_prefix_overlaps(const flowgen_prefix *a, const flowgen_prefix *b);
/** A seeded address inside @a prefix; network and broadcast excluded when the prefix allows. */
void tt_flowgen_prefix_random(const flowgen_prefix *prefix, GRand *rand, gboolean hosts_only,
                              uint8_t out[16]);

/* Source networks per country (flowgen_geo.c). */
typedef struct flowgen_geo flowgen_geo;
/** Read a "network<TAB>CC" table. (transfer full) */
flowgen_geo *tt_flowgen_geo_load_table(const char *path, GError **error);
/** Walk an .mmdb's search tree for the networks of @a countries. (transfer full) */
flowgen_geo *tt_flowgen_geo_load_mmdb(const char *path, GStrv countries, gboolean v6,
                                      GError **error);
/** No database: only ZZ can be drawn. (transfer full) */
flowgen_geo *tt_flowgen_geo_new_empty(void);
void tt_flowgen_geo_free(flowgen_geo *geo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(flowgen_geo, tt_flowgen_geo_free)
/** Number of networks of @a cc in family @a family (ZZ always has one). */
guint tt_flowgen_geo_count(const flowgen_geo *geo, const char *cc, int family);
/**
 * Append up to @a n distinct addresses of country @a cc and family @a family to
 * @a pool (GArray of uint8_t[16]), each one verified to look up as @a cc (ZZ: as
 * no country). @a taken holds addresses already drawn for any country.
 */
gboolean tt_flowgen_geo_draw(flowgen_geo *geo, GRand *rand, const char *cc, int family, guint n,
                             GHashTable *taken, GArray *pool, GError **error);

/* The scenario (flowgen_scenario.c). */
typedef struct flowgen_scenario_config {
    guint32 seed;
    guint64 flows;
    int64_t start_ms;
    int64_t duration_s;
    const char *ports;
    const char *countries;
    guint sources;
    flowgen_prefix dark;
    flowgen_prefix dark6;
    gboolean has_dark6;
    double v6_fraction;
    double leak_fraction;
    double backscatter_fraction;
} flowgen_scenario_config;

/** Build all records, sorted by emission order. (transfer full: GArray of flowgen_flow) */
GArray *tt_flowgen_scenario_build(const flowgen_scenario_config *config, flowgen_geo *geo,
                                  GError **error);
/** Default port mix. */
extern const char tt_flowgen_default_ports[];

/** Write the expected aggregates (JSON lines) and @a path.summary.json. */
gboolean tt_flowgen_expect_write(GArray *flows, const char *path, int64_t step, const char *sensor,
                                 guint32 sampling, GError **error);

/* Sinks and message batching (flowgen_net.c). */
typedef struct flowgen_sink flowgen_sink;
/** Parse file:PATH, udp://HOST:PORT, tcp://HOST:PORT; HOST must be a loopback address. */
gboolean tt_flowgen_target_parse(const char *text, flowgen_target *out, GError **error);
void tt_flowgen_target_clear(flowgen_target *target);
flowgen_sink *tt_flowgen_sink_open(const flowgen_export_config *config, GError **error);
/** Send one message carrying @a records records (for pacing). */
gboolean tt_flowgen_sink_send(flowgen_sink *sink, const uint8_t *msg, gsize len, guint records,
                              GError **error);
/** Flush, close and free; returns FALSE when the final flush failed. */
gboolean tt_flowgen_sink_close(flowgen_sink *sink, GError **error);

/**
 * The next message: how many records from @a pos fit into @a budget bytes after a
 * @a header byte header, given per-family record sizes and a @a set_header per
 * family switch, keeping a message within one second of emission time.
 */
guint tt_flowgen_batch(GArray *flows, guint pos, gsize budget, gsize header, gsize rec_v4,
                       gsize rec_v6, gsize set_header);
/** Export time (epoch s) for the records [pos, pos + n): never before any record's end. */
int64_t tt_flowgen_batch_time(GArray *flows, guint pos, guint n, int64_t previous);

/* Encoders. */
gboolean tt_flowgen_ipfix_send(GArray *flows, const flowgen_export_config *config, GError **error);
gboolean tt_flowgen_v9_send(GArray *flows, const flowgen_export_config *config, GError **error);

/* Blast mode (flowgen_blast.c): a pool of prebuilt messages sent with sendmmsg. */
typedef struct flowgen_blast_config {
    flowgen_target target;
    const char *bind;      /* first exporter address; the others follow it */
    flowgen_geo *geo;      /* where sources come from */
    const char *countries; /* CC:W,... */
    const char *expect;    /* exact expected aggregates, jsonl shape; NULL: none */
    const char *report;    /* JSON summary; NULL: stdout */
    const char *sensor;
    flowgen_prefix dark, dark6;
    guint32 seed;
    guint32 domain; /* first observation domain / source id */
    int64_t start_ms;
    int64_t boot_ms; /* v9 sysUpTime origin */
    int64_t step;
    double rate;       /* records/s, 0 = unpaced */
    double seconds;    /* wall seconds to send (when max_records is 0) */
    double step_every; /* wall seconds per step of flow time, 0 = real time */
    double zipf_s;
    guint64 max_records;
    guint exporters, domains, per_msg, pool, template_every, sources;
    int family; /* 4 or 6 */
    gboolean v9, zipf;
} flowgen_blast_config;

gboolean tt_flowgen_blast_run(const flowgen_blast_config *config, GError **error);

/**
 * Fill *@a ports and *@a countries (each only when NULL) from the built-in
 * scenario @a spec ("telescope[:MONTH]", "telescope-b[:MONTH]"); flowgen_telescope.c.
 */
gboolean tt_flowgen_scenario(const char *spec, char **ports, char **countries, GError **error);

#endif
