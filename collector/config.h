/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - teitend's configuration: one GLib key file (DESIGN.md §5).
 *
 * tt_config_load() parses and validates everything the core owns
 * ([collector] and every [sensor:NAME] group) and lists the [plugin:NAME]
 * groups; each plugin validates its own group later from the kept GKeyFile.
 * Every error names the file, the group and the key ("teiten.conf: [collector]
 * step: must be a positive integer that divides 900"). Unknown groups and keys
 * are errors: a typo must never silently become a default.
 */
#ifndef TT_CONFIG_H
#define TT_CONFIG_H

#include <glib.h>
#include <stdint.h>

#include "archives.h" /* tt_rrd_archives */

#define TT_CONFIG_ERROR (tt_config_error_quark())
GQuark tt_config_error_quark(void);

typedef enum {
    TT_CONFIG_ERROR_PARSE, /* the key file itself is malformed, or unreadable */
    TT_CONFIG_ERROR_GROUP, /* unknown or missing group */
    TT_CONFIG_ERROR_KEY,   /* unknown key */
    TT_CONFIG_ERROR_VALUE, /* a key's value is invalid */
} tt_config_error;

/** Transport and wire format of one listen spec. */
typedef enum {
    TT_LISTEN_IPFIX_UDP, /* ipfix+udp://HOST:PORT */
    TT_LISTEN_IPFIX_TCP, /* ipfix+tcp://HOST:PORT */
    TT_LISTEN_NF9_UDP,   /* netflow9+udp://HOST:PORT */
    TT_LISTEN_SFLOW_UDP, /* sflow+udp://HOST:PORT */
    TT_LISTEN_NF5_UDP,   /* netflow5+udp://HOST:PORT */
} tt_listen_kind;

typedef struct tt_listen_spec {
    tt_listen_kind kind;
    char *host; /* literal address without brackets: "::", "127.0.0.1", "::1" */
    uint16_t port;
    char *spec; /* the original text, for messages */
} tt_listen_spec;

/** An address prefix. IPv4 prefixes are stored IPv4-mapped with len + 96. */
typedef struct tt_prefix {
    uint8_t addr[16]; /* host bits cleared */
    uint8_t len;      /* 0..128 */
} tt_prefix;

/** One item of a sensor's `exporters` list: ADDR[/LEN][@DOMAIN]. */
typedef struct tt_exporter_match {
    tt_prefix prefix;
    gboolean any_domain;
    uint32_t domain;
} tt_exporter_match;

typedef struct tt_sensor_conf {
    char *name;        /* the NAME of [sensor:NAME] */
    GArray *exporters; /* of tt_exporter_match, at least one */
    GArray *darknet;   /* of tt_prefix, at least one */
    uint32_t sampling; /* 0 = auto (what the exporter announces), else fixed 1-in-N */
} tt_sensor_conf;

/** Default `writer-backlog`: bytes of closed buckets the writer may hold queued. */
#define TT_CONFIG_WRITER_BACKLOG (G_GUINT64_CONSTANT(256) << 20)

typedef struct tt_config {
    char *path;   /* file name used in messages */
    GKeyFile *kf; /* the whole file, kept for the plugins' groups */

    /* [collector] */
    GPtrArray *listen;             /* of tt_listen_spec*; `listen` */
    char *data_dir;                /* `data-dir`, default "/var/lib/teiten" */
    char *plugin_dir;              /* `plugin-dir`, default the build's TT_PLUGIN_DIR */
    int64_t step;                  /* `step` seconds, default 300; must divide 900 */
    int64_t grace;                 /* `grace` seconds, default 120, >= 0 */
    char *timezone;                /* `timezone`, default "UTC"; must be a valid zone */
    char *geoip;                   /* `geoip`, optional path, NULL when unset */
    char *rrdcached;               /* `rrdcached`, optional: unix:/path or host:port */
    char *user;                    /* `user`, optional */
    char *pidfile;                 /* `pidfile`, optional */
    char *prometheus_file;         /* `prometheus-file` as a path; NULL: `none` */
    uint32_t rcvbuf;               /* `rcvbuf` bytes for UDP sockets, default 4 MiB */
    uint32_t max_templates;        /* `max-templates` per session, default 4096 */
    uint32_t max_sessions;         /* `max-sessions` per listener, default 4096 */
    uint32_t max_exporters;        /* `max-exporters`, default 1024 */
    uint32_t max_domains;          /* `max-domains` per exporter, default 64 */
    uint32_t max_tcp_connections;  /* `max-tcp-connections`, default 256 */
    int64_t tcp_idle_timeout;      /* `tcp-idle-timeout` s, default 3600; 0: never */
    int64_t export_time_tolerance; /* `export-time-tolerance` s, default 600 */
    int64_t export_ahead_max;      /* `export-ahead-max` s, default 54000 (15 h) */
    int64_t clamp_max;             /* `clamp-max` s, default 691200 (8 days) */
    int64_t clock_corroborate;     /* `clock-corroborate` s, default 60 */
    int64_t silent_after;          /* `silent-after` s of host time without data, default 900 */
    uint32_t writer_lag_warn;      /* `writer-lag-warn` buckets, default 3 */
    tt_rrd_archives rrd_archives;  /* `rrd-archives`, default from the step */
    uint64_t writer_backlog; /* `writer-backlog` bytes queued for the writer, default 256 MiB */
    int64_t stop_timeout;    /* `stop-timeout` s from SIGTERM to exit, default 10 */

    GPtrArray *sensors; /* of tt_sensor_conf*, in file order */
    GPtrArray *plugins; /* of char*: NAME of each [plugin:NAME], in file order */
} tt_config;

/** Parse and validate @a path. (transfer full) */
tt_config *tt_config_load(const char *path, GError **error);
/** Same from memory; @a name stands for the file in messages. (transfer full) */
tt_config *tt_config_load_data(const char *data, gsize len, const char *name, GError **error);
void tt_config_free(tt_config *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(tt_config, tt_config_free)

/** Parse "ADDR[/LEN]" (v4 or v6). */
gboolean tt_prefix_parse(const char *text, tt_prefix *out, GError **error);
/** Does @a prefix contain the 16-byte (IPv4-mapped for v4) address @a addr? */
gboolean tt_prefix_contains(const tt_prefix *prefix, const uint8_t addr[16]);
/** Parse one listen spec such as "ipfix+udp://[::]:4739". */
gboolean tt_listen_spec_parse(const char *text, tt_listen_spec *out, GError **error);
void tt_listen_spec_clear(tt_listen_spec *spec);
/** Whether @a kind is a TCP listener (config_values.c). */
gboolean tt_listen_kind_is_tcp(tt_listen_kind kind);
/** PREFIX or PREFIX@DOMAIN: an exporter match of a [sensor:NAME] group (config_values.c). */
gboolean tt_exporter_match_parse(const char *text, tt_exporter_match *out, GError **error);
/** Plain decimal digits only: no sign, no spaces, no "0x", no trailing junk (config_values.c). */
gboolean tt_config_parse_decimal(const char *text, guint64 *out);

/**
 * A reload: warn once, naming every [collector] key a reload does not apply
 * and every [plugin:*] group that differs between @a old_kf and @a new_kf
 * (config_diff.c; docs/operations.md lists them).
 */
void tt_config_warn_restart_keys(GKeyFile *old_kf, GKeyFile *new_kf);

#endif
