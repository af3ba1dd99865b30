/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonl.c - the jsonl plugin: one JSON object per line per closed bucket,
 * sensor, dimension (total, port, country) and key with a non-zero count.
 *
 * Approach: an accumulator per open bucket made of flat arrays indexed by
 * what on_flow already has in hand (tcp[port], udp[port], proto[number],
 * country[tt_country_index]), so on_flow is a handful of additions with no
 * lookup, no allocation and no branch that can fail. bucket_close only stamps
 * the accumulator with the bucket and hands it to the writer thread, where a
 * job formats the lines, appends them to the file and recycles the
 * accumulator into a small spare list (shared by both threads, so behind a
 * mutex, and refcounted with the file name so jobs still queued at fini
 * outlive the instance). Formatting walks 131 000 port slots; doing it on the
 * writer keeps that off the dispatch path. Slots are cleared as they are
 * read and only when non-zero, so a sparse bucket never dirties the pages it
 * did not use.
 *
 * Rejected: hash tables per bucket (an allocation per new key on the hot
 * path); keeping the file open across buckets (logrotate would have us write
 * into a deleted file; one open per bucket is nothing).
 * Late records (on_late_flow) are rare: they are formatted at once into a
 * buffer that travels with the next closed bucket, or is written at fini.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "jsonl"
#endif

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <teiten/plugin.h>

#define JSONL_GROUP_KEY_PATH "path"
/* Spare accumulators kept for reuse (about 3 MiB each). */
#define JSONL_SPARE_MAX 4

typedef struct jsonl_counter {
    guint64 flows;
    guint64 packets;
    guint64 bytes;
} jsonl_counter;

/* What outlives the instance while jobs are queued: the file and the spares. */
typedef struct jsonl_sink {
    char *path;
    GMutex lock;
    GSList *spare; /* of jsonl_acc *, protected by lock */
    guint n_spare; /* protected by lock */
} jsonl_sink;

typedef struct jsonl_acc {
    jsonl_counter tcp[65536];
    jsonl_counter udp[65536];
    jsonl_counter proto[256]; /* every protocol but TCP and UDP, ICMP and ICMPv6 included */
    jsonl_counter country[TT_COUNTRY_SLOTS];
    jsonl_counter total;
    /* Set at bucket_close, for the writer job. */
    gboolean dirty; /* counters may be non-zero */
    gint64 start;
    gint64 end;
    char *sensor_json; /* the sensor name, JSON-escaped */
    GString *late;     /* late lines to write first, or NULL */
    GString *text;     /* formatting buffer, kept across reuses */
    jsonl_sink *sink;  /* a reference while the job is queued */
} jsonl_acc;

typedef struct jsonl_state {
    const tt_host *host;
    jsonl_sink *sink; /* a reference */
    GString *late;    /* late lines not yet handed to the writer */
} jsonl_state;

typedef struct jsonl_late_job {
    jsonl_sink *sink;
    GString *text;
} jsonl_late_job;

static void jsonl_acc_destroy(gpointer data)
{
    jsonl_acc *acc = data;
    g_free(acc->sensor_json);
    if (acc->late != NULL)
        g_string_free(acc->late, TRUE);
    if (acc->text != NULL)
        g_string_free(acc->text, TRUE);
    g_free(acc);
}

static void jsonl_sink_clear(gpointer data)
{
    jsonl_sink *sink = data;
    g_slist_free_full(sink->spare, jsonl_acc_destroy);
    g_mutex_clear(&sink->lock);
    g_free(sink->path);
}

static void jsonl_sink_unref(jsonl_sink *sink)
{
    g_atomic_rc_box_release_full(sink, jsonl_sink_clear);
}

/* Append @text to the file; runs on the writer thread. */
static void jsonl_sink_write(jsonl_sink *sink, const GString *text)
{
    if (text->len == 0)
        return;
    FILE *f = fopen(sink->path, "ae");
    if (f == NULL) {
        g_warning("cannot open %s for appending: %s; %zu bytes of lines lost", sink->path,
                  g_strerror(errno), text->len);
        return;
    }
    size_t n = fwrite(text->str, 1, text->len, f);
    int saved = errno;
    if (fclose(f) != 0 && n == text->len) {
        n = 0;
        saved = errno;
    }
    if (n != text->len)
        g_warning("cannot append to %s: %s; lines of this bucket may be incomplete", sink->path,
                  g_strerror(saved));
}

static void jsonl_escape(GString *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            g_string_append_c(g_string_append_c(out, '\\'), (char)c);
        else if (c < 0x20)
            g_string_append_printf(out, "\\u%04x", c);
        else
            g_string_append_c(out, (char)c);
    }
}

static char *jsonl_sensor_json(const jsonl_state *state, const tt_bucket *bucket)
{
    const char *name = bucket->sensor_name;
    if (name == NULL && state->host->sensor_name != NULL)
        name = state->host->sensor_name(state->host, bucket->sensor);
    if (name == NULL)
        return g_strdup_printf("sensor-%u", bucket->sensor);

    GString *out = g_string_new(NULL);
    jsonl_escape(out, name);
    return g_string_free(out, FALSE);
}

static void jsonl_line(GString *out, gint64 start, gint64 end, const char *sensor_json,
                       const char *dim, const char *key, const jsonl_counter *c, gboolean late)
{
    g_string_append_printf(
        out,
        "{\"start\":%" G_GINT64_FORMAT ",\"end\":%" G_GINT64_FORMAT
        ",\"sensor\":\"%s\",\"dim\":\"%s\",\"key\":\"%s\",\"flows\":%" G_GUINT64_FORMAT
        ",\"packets\":%" G_GUINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT "%s}\n",
        start, end, sensor_json, dim, key, c->flows, c->packets, c->bytes,
        late ? ",\"late\":true" : "");
}

static void jsonl_proto_key(char *buf, size_t size, unsigned proto)
{
    if (proto == TT_PROTO_ICMP)
        g_strlcpy(buf, "icmp", size);
    else if (proto == TT_PROTO_ICMP6)
        g_strlcpy(buf, "icmp6", size);
    else
        g_snprintf(buf, size, "proto-%u", proto);
}

/* Where on_flow and on_late_flow count a flow in the port dimension. */
static jsonl_counter *jsonl_port_slot(jsonl_acc *acc, const tt_flow *flow)
{
    if (flow->proto == TT_PROTO_TCP)
        return &acc->tcp[flow->dst_port];
    if (flow->proto == TT_PROTO_UDP)
        return &acc->udp[flow->dst_port];
    return &acc->proto[flow->proto];
}

static inline void jsonl_count(jsonl_counter *c, const tt_flow *flow)
{
    c->flows++;
    c->packets += flow->packets;
    c->bytes += flow->bytes;
}

/* One line for a non-zero slot, which is cleared for the next bucket. */
static void jsonl_emit(jsonl_acc *acc, const char *dim, const char *key, jsonl_counter *c)
{
    if (c->flows == 0 && c->packets == 0 && c->bytes == 0)
        return;
    jsonl_line(acc->text, acc->start, acc->end, acc->sensor_json, dim, key, c, FALSE);
    memset(c, 0, sizeof(*c));
}

static void jsonl_emit_ports(jsonl_acc *acc, jsonl_counter *ports, const char *suffix)
{
    char key[16];
    for (unsigned port = 0; port < 65536; port++) {
        if (ports[port].flows == 0 && ports[port].packets == 0 && ports[port].bytes == 0)
            continue;
        g_snprintf(key, sizeof(key), "%u/%s", port, suffix);
        jsonl_emit(acc, "port", key, &ports[port]);
    }
}

/* Total, then ports by protocol number and port, then countries A..Z. */
static void jsonl_format(jsonl_acc *acc)
{
    char key[16];

    jsonl_emit(acc, "total", "all", &acc->total);
    for (unsigned proto = 0; proto < 256; proto++) {
        if (proto == TT_PROTO_TCP) {
            jsonl_emit_ports(acc, acc->tcp, "tcp");
        } else if (proto == TT_PROTO_UDP) {
            jsonl_emit_ports(acc, acc->udp, "udp");
        } else {
            jsonl_proto_key(key, sizeof(key), proto);
            jsonl_emit(acc, "port", key, &acc->proto[proto]);
        }
    }
    for (unsigned i = 0; i < TT_COUNTRY_SLOTS; i++) {
        key[0] = (char)('A' + i / 26);
        key[1] = (char)('A' + i % 26);
        key[2] = '\0';
        jsonl_emit(acc, "country", key, &acc->country[i]);
    }
    acc->dirty = FALSE;
}

static void jsonl_bucket_job(void *data)
{
    jsonl_acc *acc = data;

    g_string_truncate(acc->text, 0);
    if (acc->late != NULL)
        g_string_append_len(acc->text, acc->late->str, (gssize)acc->late->len);
    jsonl_format(acc);
    jsonl_sink_write(acc->sink, acc->text);
}

/* After the job ran (or if it never will): back to the spares, or freed. */
static void jsonl_acc_release(void *data)
{
    jsonl_acc *acc = data;
    jsonl_sink *sink = g_steal_pointer(&acc->sink);

    if (acc->dirty) {
        memset(acc, 0, offsetof(jsonl_acc, dirty));
        acc->dirty = FALSE;
    }
    g_clear_pointer(&acc->sensor_json, g_free);
    if (acc->late != NULL) {
        g_string_free(acc->late, TRUE);
        acc->late = NULL;
    }
    if (acc->text != NULL && acc->text->allocated_len > 1024 * 1024) {
        g_string_free(acc->text, TRUE);
        acc->text = NULL;
    }

    g_mutex_lock(&sink->lock);
    if (sink->n_spare < JSONL_SPARE_MAX) {
        sink->spare = g_slist_prepend(sink->spare, acc);
        sink->n_spare++;
        acc = NULL;
    }
    g_mutex_unlock(&sink->lock);
    if (acc != NULL)
        jsonl_acc_destroy(acc);
    jsonl_sink_unref(sink);
}

static void jsonl_late_job_run(void *data)
{
    jsonl_late_job *job = data;
    jsonl_sink_write(job->sink, job->text);
}

static void jsonl_late_job_free(void *data)
{
    jsonl_late_job *job = data;
    g_string_free(job->text, TRUE);
    jsonl_sink_unref(job->sink);
    g_free(job);
}

static gboolean jsonl_init(const tt_host *host, GKeyFile *config, const char *group, void **state,
                           GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(config, group, NULL, NULL);
    for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
        if (strcmp(keys[i], JSONL_GROUP_KEY_PATH) != 0) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                        "[%s] %s: unknown key", group, keys[i]);
            return FALSE;
        }
    }

    g_autofree char *value = g_key_file_get_string(config, group, JSONL_GROUP_KEY_PATH, NULL);
    if (value != NULL)
        g_strstrip(value);
    if (value == NULL || value[0] == '\0') {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                    "[%s] %s: missing (the file to append JSON lines to)", group,
                    JSONL_GROUP_KEY_PATH);
        return FALSE;
    }
    g_autofree char *path =
        g_path_is_absolute(value)
            ? g_strdup(value)
            : g_build_filename(host->data_dir != NULL ? host->data_dir : ".", value, NULL);

    /* Fail at start-up, not at the first bucket, when the file cannot be written. */
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "[%s] %s: cannot create directory %s: %s", group, JSONL_GROUP_KEY_PATH, dir,
                    g_strerror(saved));
        return FALSE;
    }
    FILE *f = fopen(path, "ae");
    if (f == NULL) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "[%s] %s: cannot open %s for appending: %s", group, JSONL_GROUP_KEY_PATH, path,
                    g_strerror(saved));
        return FALSE;
    }
    fclose(f);

    jsonl_sink *sink = g_atomic_rc_box_new0(jsonl_sink);
    sink->path = g_steal_pointer(&path);
    g_mutex_init(&sink->lock);

    jsonl_state *s = g_new0(jsonl_state, 1);
    s->host = host;
    s->sink = sink;
    *state = s;
    return TRUE;
}

static void jsonl_fini(void *state)
{
    jsonl_state *s = state;

    /* Late lines nobody carried out yet: the writer gets them last. */
    if (s->late != NULL && s->late->len > 0) {
        jsonl_late_job *job = g_new(jsonl_late_job, 1);
        job->sink = g_atomic_rc_box_acquire(s->sink);
        job->text = g_steal_pointer(&s->late);
        s->host->submit(s->host, jsonl_late_job_run, job, jsonl_late_job_free);
    }
    if (s->late != NULL)
        g_string_free(s->late, TRUE);
    jsonl_sink_unref(s->sink);
    g_free(s);
}

static void *jsonl_bucket_open(void *state, const tt_bucket *bucket)
{
    jsonl_state *s = state;
    jsonl_acc *acc = NULL;

    g_mutex_lock(&s->sink->lock);
    if (s->sink->spare != NULL) {
        acc = s->sink->spare->data;
        s->sink->spare = g_slist_delete_link(s->sink->spare, s->sink->spare);
        s->sink->n_spare--;
    }
    g_mutex_unlock(&s->sink->lock);

    if (acc == NULL)
        acc = g_new0(jsonl_acc, 1);
    return acc;
}

static void jsonl_on_flow(void *state, void *accp, const tt_flow *flow)
{
    jsonl_acc *acc = accp;

    jsonl_count(&acc->total, flow);
    jsonl_count(jsonl_port_slot(acc, flow), flow);
    jsonl_count(&acc->country[tt_country_index(flow->country)], flow);
}

/*
 * A run (ABI 1.2): the port and country counters of a chunk are asked for
 * first, then counted by the same code as on_flow. Ports arrive in any order,
 * and 2 x 65 536 counters of 24 bytes are 3 MiB: without the prefetch every
 * flow waits for a miss of its own.
 */
#define JSONL_BATCH 32

static void jsonl_on_flows(void *state, void *accp, const tt_flow *flows, size_t n)
{
    jsonl_acc *acc = accp;
    for (size_t base = 0; base < n; base += JSONL_BATCH) {
        size_t m = MIN(n - base, (size_t)JSONL_BATCH);
        for (size_t j = 0; j < m; j++) {
            __builtin_prefetch(jsonl_port_slot(acc, &flows[base + j]), 1);
            __builtin_prefetch(&acc->country[tt_country_index(flows[base + j].country)], 1);
        }
        for (size_t j = 0; j < m; j++)
            jsonl_on_flow(state, acc, &flows[base + j]);
    }
}

static void jsonl_bucket_close(void *state, void *accp, const tt_bucket *bucket)
{
    jsonl_state *s = state;
    jsonl_acc *acc = accp;

    acc->dirty = TRUE;
    acc->start = bucket->start;
    acc->end = bucket->end;
    acc->sensor_json = jsonl_sensor_json(s, bucket);
    acc->late = g_steal_pointer(&s->late);
    if (acc->text == NULL)
        acc->text = g_string_sized_new(4096);
    acc->sink = g_atomic_rc_box_acquire(s->sink);
    s->host->submit(s->host, jsonl_bucket_job, acc, jsonl_acc_release);
}

static void jsonl_on_late_flow(void *state, const tt_flow *flow, const tt_bucket *bucket)
{
    jsonl_state *s = state;
    jsonl_counter c = {.flows = 1, .packets = flow->packets, .bytes = flow->bytes};
    char port_key[16];
    char country_key[3];
    unsigned ci = tt_country_index(flow->country);
    g_autofree char *sensor_json = jsonl_sensor_json(s, bucket);

    if (flow->proto == TT_PROTO_TCP || flow->proto == TT_PROTO_UDP)
        g_snprintf(port_key, sizeof(port_key), "%u/%s", (unsigned)flow->dst_port,
                   flow->proto == TT_PROTO_TCP ? "tcp" : "udp");
    else
        jsonl_proto_key(port_key, sizeof(port_key), flow->proto);
    country_key[0] = (char)('A' + ci / 26);
    country_key[1] = (char)('A' + ci % 26);
    country_key[2] = '\0';

    if (s->late == NULL)
        s->late = g_string_new(NULL);
    jsonl_line(s->late, bucket->start, bucket->end, sensor_json, "total", "all", &c, TRUE);
    jsonl_line(s->late, bucket->start, bucket->end, sensor_json, "port", port_key, &c, TRUE);
    jsonl_line(s->late, bucket->start, bucket->end, sensor_json, "country", country_key, &c, TRUE);
}

static const tt_plugin_info jsonl_info = {
    TT_PLUGIN_HEADER("jsonl", "1.0", "JSON lines per bucket, sensor, dimension and key"),
    .init = jsonl_init,
    .fini = jsonl_fini,
    .bucket_open = jsonl_bucket_open,
    .on_flow = jsonl_on_flow,
    .bucket_close = jsonl_bucket_close,
    .on_late_flow = jsonl_on_late_flow,
    .all_closed = NULL,
    .on_flows = jsonl_on_flows,
};

TT_PLUGIN_EXPORT const tt_plugin_info *tt_plugin_entry(void);
const tt_plugin_info *tt_plugin_entry(void)
{
    return &jsonl_info;
}
