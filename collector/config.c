/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - load and validate teitend's key file (DESIGN.md §5, docs/configuration.md).
 *
 * Approach: GLib parses the syntax; everything else is ours. Each group is checked
 * against a table of the keys it may hold (nginx's command tables), so an unknown
 * key or group is an error naming the file, group and key, and a typo never
 * silently becomes a default. Values are read as strings and parsed here: GLib's
 * own integer getters accept "12abc"-like oddities and say nothing of ranges.
 * The GKeyFile is kept so each plugin can validate its own [plugin:NAME] group.
 *
 * GLib merges a repeated group and lets the last of a repeated key win; both
 * would hide mistakes, so a repeated group is found by a scan of the raw text
 * and a repeated key through g_key_file_get_keys(), which lists it twice.
 *
 * Rejected: defaults for the plugin directory here (teiten_core is built
 * without TT_PLUGIN_DIR; teitend's main fills plugin_dir when it is NULL);
 * resolving host names in listen specs (we bind literals only).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nearest.h"

G_DEFINE_QUARK(tt_config_error_quark, tt_config_error)

#define CONFIG_DEFAULT_LISTEN "ipfix+udp://[::]:4739"
#define CONFIG_DEFAULT_DATA_DIR "/var/lib/teiten"

static const char *const config_collector_keys[] = {
    "listen",
    "data-dir",
    "plugin-dir",
    "step",
    "grace",
    "timezone",
    "geoip",
    "rrdcached",
    "user",
    "pidfile",
    "rcvbuf",
    "max-templates",
    "max-sessions",
    "max-exporters",
    "max-domains",
    "export-time-tolerance",
    "silent-after",
    "writer-lag-warn",
    "rrd-archives",
    "writer-backlog",
    "stop-timeout",
    "export-ahead-max",
    "clamp-max",
    "clock-corroborate",
    "max-tcp-connections",
    "tcp-idle-timeout",
    "prometheus-file",
    NULL,
};

static const char *const config_sensor_keys[] = {"exporters", "darknet", "sampling", NULL};

static void config_free_listen(gpointer data)
{
    tt_listen_spec *spec = data;

    tt_listen_spec_clear(spec);
    g_free(spec);
}

static void config_free_sensor(gpointer data)
{
    tt_sensor_conf *sensor = data;

    g_free(sensor->name);
    g_array_unref(sensor->exporters);
    g_array_unref(sensor->darknet);
    g_free(sensor);
}

void tt_config_free(tt_config *config)
{
    if (config == NULL)
        return;
    g_free(config->path);
    if (config->kf != NULL)
        g_key_file_unref(config->kf);
    g_ptr_array_unref(config->listen);
    g_free(config->data_dir);
    g_free(config->plugin_dir);
    g_free(config->timezone);
    g_free(config->geoip);
    g_free(config->rrdcached);
    g_free(config->user);
    g_free(config->pidfile);
    g_free(config->prometheus_file);
    g_ptr_array_unref(config->sensors);
    g_ptr_array_unref(config->plugins);
    g_free(config);
}

static void config_prefix(GError **error, const char *name, const char *group, const char *key)
{
    g_prefix_error(error, "%s: [%s] %s: ", name, group, key);
}

static void config_value_error(GError **error, const char *name, const char *group, const char *key,
                               const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static void config_value_error(GError **error, const char *name, const char *group, const char *key,
                               const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE, "%s: [%s] %s: %s", name, group, key,
                msg);
}

/* The trimmed string value of @key, or NULL (no error) when the key is absent. */
static gboolean config_get_string(GKeyFile *kf, const char *name, const char *group,
                                  const char *key, char **out, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *value = NULL;

    *out = NULL;
    if (!g_key_file_has_key(kf, group, key, NULL))
        return TRUE;
    value = g_key_file_get_string(kf, group, key, &local);
    if (value == NULL) {
        config_value_error(error, name, group, key, "%s", local->message);
        return FALSE;
    }
    g_strstrip(value);
    if (*value == '\0') {
        config_value_error(error, name, group, key, "must not be empty");
        return FALSE;
    }
    *out = g_steal_pointer(&value);
    return TRUE;
}

/* Replace *@out with the value of @key when present; keep the default otherwise. */
static gboolean config_get_path(GKeyFile *kf, const char *name, const char *group, const char *key,
                                char **out, GError **error)
{
    char *value;

    if (!config_get_string(kf, name, group, key, &value, error))
        return FALSE;
    if (value != NULL) {
        g_free(*out);
        *out = value;
    }
    return TRUE;
}

static gboolean config_get_uint(GKeyFile *kf, const char *name, const char *group, const char *key,
                                guint64 min, guint64 max, guint64 *out, GError **error)
{
    g_autofree char *value = NULL;
    guint64 v;

    if (!config_get_string(kf, name, group, key, &value, error))
        return FALSE;
    if (value == NULL)
        return TRUE;
    if (value[0] == '-' && tt_config_parse_decimal(value + 1, &v)) {
        config_value_error(error, name, group, key,
                           "%s is out of range (%" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT ")",
                           value, min, max);
        return FALSE;
    }
    if (!tt_config_parse_decimal(value, &v)) {
        config_value_error(error, name, group, key, "\"%s\" is not an integer", value);
        return FALSE;
    }
    if (v < min || v > max) {
        config_value_error(error, name, group, key,
                           "%" G_GUINT64_FORMAT " is out of range (%" G_GUINT64_FORMAT
                           "..%" G_GUINT64_FORMAT ")",
                           v, min, max);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

/* A ';'-separated list, items trimmed, empty items dropped; NULL when the key is absent. */
static gboolean config_get_list(GKeyFile *kf, const char *name, const char *group, const char *key,
                                GPtrArray **out, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) items = NULL;
    g_autoptr(GPtrArray) list = NULL;

    *out = NULL;
    if (!g_key_file_has_key(kf, group, key, NULL))
        return TRUE;
    items = g_key_file_get_string_list(kf, group, key, NULL, &local);
    if (items == NULL && local != NULL) {
        config_value_error(error, name, group, key, "%s", local->message);
        return FALSE;
    }
    list = g_ptr_array_new_with_free_func(g_free);
    for (char **p = items; p != NULL && *p != NULL; p++) {
        g_strstrip(*p);
        if (**p != '\0')
            g_ptr_array_add(list, g_strdup(*p));
    }
    if (list->len == 0) {
        config_value_error(error, name, group, key, "must list at least one item");
        return FALSE;
    }
    *out = g_steal_pointer(&list);
    return TRUE;
}

/* Unknown and repeated keys; @allowed NULL-terminated. */
static gboolean config_check_keys(GKeyFile *kf, const char *name, const char *group,
                                  const char *const *allowed, GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (char **k = keys; k != NULL && *k != NULL; k++) {
        if (!g_strv_contains(allowed, *k)) {
            /* the nearest key, else every key of the group (docs/configuration.md has them) */
            const char *near = tt_nearest(*k, allowed, -1);
            if (near != NULL) {
                g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_KEY,
                            "%s: [%s] %s: unknown key; did you mean %s?", name, group, *k, near);
            } else {
                g_autofree char *all = g_strjoinv(", ", (char **)allowed);
                g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_KEY,
                            "%s: [%s] %s: unknown key (keys: %s)", name, group, *k, all);
            }
            return FALSE;
        }
        if (!g_hash_table_add(seen, *k)) {
            config_value_error(error, name, group, *k, "given more than once");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean config_check_rrdcached(const char *value)
{
    const char *colon, *host_end;
    guint64 port;

    if (g_str_has_prefix(value, "unix:"))
        return value[5] == '/' && value[6] != '\0';
    if (*value == '[') {
        guint8 buf[16];

        host_end = strchr(value, ']');
        if (host_end == NULL || host_end[1] != ':')
            return FALSE;
        g_autofree char *host = g_strndup(value + 1, (gsize)(host_end - value - 1));
        if (inet_pton(AF_INET6, host, buf) != 1)
            return FALSE;
        colon = host_end + 1;
    } else {
        colon = strrchr(value, ':');
        if (colon == NULL || colon == value)
            return FALSE;
        for (const char *p = value; p < colon; p++) {
            if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
                return FALSE;
        }
    }
    return tt_config_parse_decimal(colon + 1, &port) && port >= 1 && port <= 65535;
}

static gboolean config_load_listen(tt_config *config, const char *name, GError **error)
{
    g_autoptr(GPtrArray) items = NULL;

    if (!config_get_list(config->kf, name, "collector", "listen", &items, error))
        return FALSE;
    if (items == NULL) {
        items = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(items, g_strdup(CONFIG_DEFAULT_LISTEN));
    }
    for (guint i = 0; i < items->len; i++) {
        tt_listen_spec *spec = g_new0(tt_listen_spec, 1);

        if (!tt_listen_spec_parse(items->pdata[i], spec, error)) {
            g_free(spec);
            config_prefix(error, name, "collector", "listen");
            return FALSE;
        }
        g_ptr_array_add(config->listen, spec);
        /* Two sockets of one transport cannot bind the same address and port. */
        for (guint j = 0; j < config->listen->len - 1; j++) {
            const tt_listen_spec *other = config->listen->pdata[j];

            if (other->port == spec->port && strcmp(other->host, spec->host) == 0 &&
                tt_listen_kind_is_tcp(other->kind) == tt_listen_kind_is_tcp(spec->kind)) {
                config_value_error(error, name, "collector", "listen",
                                   "\"%s\" and \"%s\" use the same address and port", other->spec,
                                   spec->spec);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* "N", "NK", "NM" or "NG" (binary units) into bytes, without overflow. */
static gboolean config_parse_size(const char *text, guint64 *out)
{
    g_autofree char *digits = g_strdup(text);
    gsize n = strlen(digits);
    guint64 unit = 1, v = 0;

    if (n > 1) {
        switch (g_ascii_toupper(digits[n - 1])) {
        case 'K':
            unit = G_GUINT64_CONSTANT(1) << 10;
            break;
        case 'M':
            unit = G_GUINT64_CONSTANT(1) << 20;
            break;
        case 'G':
            unit = G_GUINT64_CONSTANT(1) << 30;
            break;
        default:
            break;
        }
    }
    if (unit != 1)
        digits[n - 1] = '\0';
    if (!tt_config_parse_decimal(digits, &v) || v > G_MAXUINT64 / unit)
        return FALSE;
    *out = v * unit;
    return TRUE;
}

/*
 * The time policy's keys: how far a message's export time may run ahead of
 * the host clock (routers on local time east of UTC sit up to 14 h ahead),
 * and how far a record may start past its message's export time and still be
 * kept at the export time (FortiOS 5.2.1 stamps about 7 days), and how
 * long a stream must keep a jump of a sensor's clock up before it is taken.
 */
static gboolean config_load_time_policy(tt_config *config, const char *name, GError **error)
{
    guint64 ahead = 54000, clamp = 691200, corroborate = 60;

    if (!config_get_uint(config->kf, name, "collector", "export-ahead-max", 0, 31536000, &ahead,
                         error) ||
        !config_get_uint(config->kf, name, "collector", "clamp-max", 0, 31536000, &clamp, error) ||
        !config_get_uint(config->kf, name, "collector", "clock-corroborate", 0, 86400, &corroborate,
                         error))
        return FALSE;
    config->clock_corroborate = (int64_t)corroborate;
    config->export_ahead_max = (int64_t)ahead;
    config->clamp_max = (int64_t)clamp;
    return TRUE;
}

/*
 * IPFIX/TCP: how many connections may be open at once (each also takes one of max-exporters'
 * places), and how long one may stay silent before it is closed. Anyone who can reach the
 * port can connect: without a cap, connections (a 128 KiB buffer and a session each) and
 * file descriptors are the attacker's to take. The idle default is generous: an exporter
 * with nothing to export sends nothing over TCP (templates are not resent), and a quiet
 * darknet at night is a legitimate silence of minutes.
 */
static gboolean config_load_tcp(tt_config *config, const char *name, GError **error)
{
    guint64 conns = 256, idle = 3600;

    if (!config_get_uint(config->kf, name, "collector", "max-tcp-connections", 1, 65536, &conns,
                         error) ||
        !config_get_uint(config->kf, name, "collector", "tcp-idle-timeout", 0, 31536000, &idle,
                         error))
        return FALSE;
    config->max_tcp_connections = (uint32_t)conns;
    config->tcp_idle_timeout = (int64_t)idle;
    return TRUE;
}

/*
 * `prometheus-file`: the self-statistics for node_exporter's textfile collector (stats.c,
 * prom.c). Default DATA/teiten.prom; a relative path is below data-dir; `none` writes none.
 * node_exporter reads *.prom files only: another name would be ignored without a word.
 */
static gboolean config_load_prometheus(tt_config *config, const char *name, GError **error)
{
    g_autofree char *value = NULL;

    if (!config_get_string(config->kf, name, "collector", "prometheus-file", &value, error))
        return FALSE;
    if (value != NULL && strcmp(value, "none") == 0)
        return TRUE;
    if (value != NULL) {
        g_autofree char *base = g_path_get_basename(value);
        if (!g_str_has_suffix(value, ".prom") || strcmp(base, ".prom") == 0) {
            config_value_error(error, name, "collector", "prometheus-file",
                               "\"%s\" must be a file name ending in .prom (node_exporter's "
                               "textfile collector reads only those), or none",
                               value);
            return FALSE;
        }
    }
    const char *file = value != NULL ? value : "teiten.prom";
    config->prometheus_file =
        g_path_is_absolute(file) ? g_strdup(file) : g_build_filename(config->data_dir, file, NULL);
    return TRUE;
}

static gboolean config_load_collector(tt_config *config, const char *name, GError **error)
{
    static const char *const group = "collector";
    GKeyFile *kf = config->kf;
    guint64 step = 300, grace = 120, rcvbuf = 4194304, max_templates = 4096;
    guint64 max_sessions = 4096, max_exporters = 1024, tolerance = 600, silent = 900;
    guint64 lag = 3, max_domains = 64, stop_timeout = 10, backlog = TT_CONFIG_WRITER_BACKLOG;
    g_autofree char *rcvbuf_text = NULL;
    g_autofree char *backlog_text = NULL;
    g_autofree char *archives_text = NULL;

    if (!config_check_keys(kf, name, group, config_collector_keys, error) ||
        !config_load_listen(config, name, error) ||
        !config_get_path(kf, name, group, "data-dir", &config->data_dir, error) ||
        !config_get_path(kf, name, group, "plugin-dir", &config->plugin_dir, error) ||
        !config_get_path(kf, name, group, "timezone", &config->timezone, error) ||
        !config_get_path(kf, name, group, "geoip", &config->geoip, error) ||
        !config_get_path(kf, name, group, "rrdcached", &config->rrdcached, error) ||
        !config_get_path(kf, name, group, "user", &config->user, error) ||
        !config_get_path(kf, name, group, "pidfile", &config->pidfile, error) ||
        !config_get_uint(kf, name, group, "step", 1, 900, &step, error) ||
        !config_get_uint(kf, name, group, "grace", 0, 604800, &grace, error) ||
        !config_get_uint(kf, name, group, "max-templates", 1, G_MAXUINT32, &max_templates, error) ||
        !config_get_uint(kf, name, group, "max-sessions", 1, G_MAXUINT32, &max_sessions, error) ||
        !config_get_uint(kf, name, group, "max-exporters", 1, G_MAXUINT32, &max_exporters, error) ||
        !config_get_uint(kf, name, group, "max-domains", 1, G_MAXUINT32, &max_domains, error) ||
        !config_get_uint(kf, name, group, "export-time-tolerance", 0, 31536000, &tolerance,
                         error) ||
        !config_get_uint(kf, name, group, "silent-after", 1, 31536000, &silent, error) ||
        !config_get_uint(kf, name, group, "writer-lag-warn", 1, G_MAXUINT32, &lag, error) ||
        !config_get_uint(kf, name, group, "stop-timeout", 1, 86400, &stop_timeout, error) ||
        !config_get_string(kf, name, group, "writer-backlog", &backlog_text, error) ||
        !config_get_string(kf, name, group, "rcvbuf", &rcvbuf_text, error) ||
        !config_get_string(kf, name, group, "rrd-archives", &archives_text, error))
        return FALSE;
    if (!config_load_time_policy(config, name, error) || !config_load_tcp(config, name, error) ||
        !config_load_prometheus(config, name, error))
        return FALSE;

    if (900 % step != 0) {
        config_value_error(error, name, group, "step",
                           "%" G_GUINT64_FORMAT " must be a positive integer that divides 900",
                           step);
        return FALSE;
    }
    if (rcvbuf_text != NULL) {
        g_autofree char *digits = g_strdup(rcvbuf_text);
        gsize n = strlen(digits);
        guint64 unit = 1;

        if (n > 1 && g_ascii_toupper(digits[n - 1]) == 'K')
            unit = 1024;
        else if (n > 1 && g_ascii_toupper(digits[n - 1]) == 'M')
            unit = 1024 * 1024;
        if (unit != 1)
            digits[n - 1] = '\0';
        if (!tt_config_parse_decimal(digits, &rcvbuf) || rcvbuf == 0 ||
            rcvbuf > G_MAXUINT32 / unit) {
            config_value_error(error, name, group, "rcvbuf",
                               "\"%s\" is not a size (bytes, or a number with K or M, "
                               "1 byte to 4 GiB - 1)",
                               rcvbuf_text);
            return FALSE;
        }
        rcvbuf *= unit;
    }
    if (backlog_text != NULL && !config_parse_size(backlog_text, &backlog)) {
        config_value_error(error, name, group, "writer-backlog",
                           "\"%s\" is not a size (bytes, or a number with K, M or G; "
                           "1 MiB to 1 TiB)",
                           backlog_text);
        return FALSE;
    }
    if (backlog < 1024 * 1024 || backlog > (G_GUINT64_CONSTANT(1) << 40)) {
        config_value_error(error, name, group, "writer-backlog",
                           "\"%s\" is out of range (1 MiB to 1 TiB)", backlog_text);
        return FALSE;
    }
    {
        GTimeZone *tz = g_time_zone_new_identifier(config->timezone);

        if (tz == NULL) {
            config_value_error(error, name, group, "timezone", "\"%s\" is not a known time zone",
                               config->timezone);
            return FALSE;
        }
        g_time_zone_unref(tz);
    }
    if (config->rrdcached != NULL && !config_check_rrdcached(config->rrdcached)) {
        config_value_error(error, name, group, "rrdcached",
                           "\"%s\" is neither unix:/PATH nor HOST:PORT", config->rrdcached);
        return FALSE;
    }

    /* the RRD archive layout: default from the step, or RES:KEEP; ... (rrd/schema.c) */
    config->rrd_archives = tt_rrd_archives_default((int64_t)step);
    if (archives_text != NULL) {
        g_autoptr(GError) local = NULL;

        if (!tt_rrd_archives_parse(archives_text, (int64_t)step, &config->rrd_archives, &local)) {
            config_value_error(error, name, group, "rrd-archives", "%s", local->message);
            return FALSE;
        }
    }

    config->step = (int64_t)step;
    config->grace = (int64_t)grace;
    config->rcvbuf = (uint32_t)rcvbuf;
    config->max_templates = (uint32_t)max_templates;
    config->max_sessions = (uint32_t)max_sessions;
    config->max_exporters = (uint32_t)max_exporters;
    config->max_domains = (uint32_t)max_domains;
    config->export_time_tolerance = (int64_t)tolerance;
    config->silent_after = (int64_t)silent;
    config->writer_lag_warn = (uint32_t)lag;
    config->writer_backlog = backlog;
    config->stop_timeout = (int64_t)stop_timeout;
    return TRUE;
}

static tt_sensor_conf *config_load_sensor(GKeyFile *kf, const char *name, const char *group,
                                          GError **error)
{
    g_autoptr(GPtrArray) exporters = NULL;
    g_autoptr(GPtrArray) darknet = NULL;
    g_autofree char *sampling = NULL;
    tt_sensor_conf *sensor;

    if (!config_check_keys(kf, name, group, config_sensor_keys, error) ||
        !config_get_list(kf, name, group, "exporters", &exporters, error) ||
        !config_get_list(kf, name, group, "darknet", &darknet, error) ||
        !config_get_string(kf, name, group, "sampling", &sampling, error))
        return NULL;
    if (exporters == NULL || darknet == NULL) {
        config_value_error(error, name, group, exporters == NULL ? "exporters" : "darknet",
                           "required key is missing");
        return NULL;
    }

    sensor = g_new0(tt_sensor_conf, 1);
    sensor->name = g_strdup(group + strlen("sensor:"));
    sensor->exporters = g_array_new(FALSE, TRUE, sizeof(tt_exporter_match));
    sensor->darknet = g_array_new(FALSE, TRUE, sizeof(tt_prefix));
    for (guint i = 0; i < exporters->len; i++) {
        tt_exporter_match match;

        if (!tt_exporter_match_parse(exporters->pdata[i], &match, error)) {
            config_prefix(error, name, group, "exporters");
            goto err_free_sensor;
        }
        g_array_append_val(sensor->exporters, match);
    }
    for (guint i = 0; i < darknet->len; i++) {
        tt_prefix prefix;

        if (!tt_prefix_parse(darknet->pdata[i], &prefix, error)) {
            config_prefix(error, name, group, "darknet");
            goto err_free_sensor;
        }
        g_array_append_val(sensor->darknet, prefix);
    }
    if (sampling != NULL && strcmp(sampling, "auto") != 0) {
        guint64 n;

        if (!tt_config_parse_decimal(sampling, &n) || n < 1 || n > G_MAXUINT32) {
            config_value_error(error, name, group, "sampling",
                               "\"%s\" is neither \"auto\" nor a positive integer", sampling);
            goto err_free_sensor;
        }
        sensor->sampling = (uint32_t)n;
    }
    return sensor;

err_free_sensor:
    config_free_sensor(sensor);
    return NULL;
}

static gboolean config_name_ok(const char *s, const char *extra, gboolean upper)
{
    if (*s == '\0')
        return FALSE;
    for (; *s != '\0'; s++) {
        if (!(g_ascii_islower(*s) || g_ascii_isdigit(*s) || (upper && g_ascii_isupper(*s)) ||
              strchr(extra, *s) != NULL))
            return FALSE;
    }
    return TRUE;
}

/* GLib merges a group given twice; find that in the raw text instead. */
static gboolean config_check_repeated_groups(const char *data, gsize len, const char *name,
                                             GError **error)
{
    g_autofree char *copy = g_strndup(data, len);
    g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (char **l = lines; *l != NULL; l++) {
        char *line = g_strstrip(*l);
        gsize n = strlen(line);

        if (n < 2 || line[0] != '[' || line[n - 1] != ']')
            continue;
        line[n - 1] = '\0';
        if (!g_hash_table_add(seen, g_strdup(line + 1))) {
            g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_GROUP,
                        "%s: [%s]: group given more than once", name, line + 1);
            return FALSE;
        }
    }
    return TRUE;
}

tt_config *tt_config_load_data(const char *data, gsize len, const char *name, GError **error)
{
    g_autoptr(tt_config) config = NULL;
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) groups = NULL;

    g_return_val_if_fail(data != NULL || len == 0, NULL);
    g_return_val_if_fail(name != NULL, NULL);

    config = g_new0(tt_config, 1);
    config->path = g_strdup(name);
    config->kf = g_key_file_new();
    config->listen = g_ptr_array_new_with_free_func(config_free_listen);
    config->data_dir = g_strdup(CONFIG_DEFAULT_DATA_DIR);
    config->timezone = g_strdup("UTC");
    config->sensors = g_ptr_array_new_with_free_func(config_free_sensor);
    config->plugins = g_ptr_array_new_with_free_func(g_free);

    g_key_file_set_list_separator(config->kf, ';');
    /* Translations are kept so that "key[ja]" is reported as an unknown key. */
    if (!g_key_file_load_from_data(config->kf, data != NULL ? data : "", len,
                                   G_KEY_FILE_KEEP_TRANSLATIONS, &local)) {
        g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_PARSE, "%s: %s", name, local->message);
        return NULL;
    }
    if (!config_check_repeated_groups(data != NULL ? data : "", len, name, error))
        return NULL;

    groups = g_key_file_get_groups(config->kf, NULL);
    for (char **g = groups; *g != NULL; g++) {
        if (strcmp(*g, "collector") == 0)
            continue;
        if (g_str_has_prefix(*g, "sensor:") && config_name_ok(*g + 7, "._-", TRUE)) {
            tt_sensor_conf *sensor = config_load_sensor(config->kf, name, *g, error);

            if (sensor == NULL)
                return NULL;
            g_ptr_array_add(config->sensors, sensor);
        } else if (g_str_has_prefix(*g, "plugin:") && config_name_ok(*g + 7, "_", FALSE)) {
            g_ptr_array_add(config->plugins, g_strdup(*g + 7));
        } else {
            g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_GROUP,
                        "%s: [%s]: unknown group (expected [collector], [sensor:NAME] with "
                        "NAME of A-Z a-z 0-9 . _ -, or [plugin:NAME] with NAME of a-z 0-9 _)",
                        name, *g);
            return NULL;
        }
    }
    if (!g_key_file_has_group(config->kf, "collector")) {
        g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_GROUP,
                    "%s: [collector]: required group is missing", name);
        return NULL;
    }
    if (!config_load_collector(config, name, error))
        return NULL;
    return g_steal_pointer(&config);
}

/* @a path's contents, NUL-terminated, into *@a data (transfer full); FALSE with errno set. */
static gboolean config_read(const char *path, char **data, gsize *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FALSE;
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int saved = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        errno = saved;
        return FALSE;
    }
    GString *buf = g_string_sized_new(S_ISREG(st.st_mode) ? (gsize)st.st_size + 1 : 4096);
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n == 0)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            g_string_free(buf, TRUE);
            close(fd);
            errno = saved;
            return FALSE;
        }
        g_string_append_len(buf, chunk, n);
    }
    close(fd);
    *len = buf->len;
    *data = g_string_free(buf, FALSE);
    return TRUE;
}

tt_config *tt_config_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;

    g_return_val_if_fail(path != NULL, NULL);

    /* our own words and the path as it is: GLib's message quotes it with U+201C/U+201D,
     * which a C locale prints as "?/etc/teiten.conf?" */
    if (!config_read(path, &data, &len)) {
        int saved = errno;
        g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_PARSE,
                    "%s: cannot read the configuration file: %s", path, g_strerror(saved));
        return NULL;
    }
    return tt_config_load_data(data, len, path, error);
}
