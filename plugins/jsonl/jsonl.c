/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonl.c - the jsonl plugin: one JSON object per line per closed bucket,
 * sensor, dimension (total, port, country) and key with a non-zero count.
 *
 * Approach: an accumulator per open bucket made of flat arrays indexed by
 * what on_flow already has in hand (port[tt_port_slot]: TCP ports, UDP ports,
 * other protocols; country[tt_country_index]), so on_flow is a handful of
 * additions with no lookup, no allocation and no branch that can fail, plus
 * one branch that appends a slot to the touched lists the first time it
 * counts. With on_flows_keyed (ABI 1.5) the slot and the country index come
 * from the collector's keys, computed once for every plugin.
 * bucket_close costs what the bucket touched: it sorts the touched lists
 * (keys proto << 16 | port and country indexes, whose order is the line
 * order), copies those counters into a snapshot, clears exactly those slots
 * and puts the accumulator back on a spare list for the next bucket_open (the
 * dispatch thread's alone: no lock). The writer job formats the snapshot's
 * lines and appends them to the file; the sink (the file name) is refcounted
 * so jobs still queued at fini outlive the instance.
 *
 * The file stays open across buckets; each write first checks that the path
 * still names it (a stat), so logrotate's move-and-create is followed at the
 * next bucket. Rejected: hash tables per bucket (an allocation per new key on
 * the hot path); an fopen per bucket, as first built (open, fstat, close and a
 * stdio buffer for every bucket: 16,500 opens in a sparse half-year --read,
 * 1.3 s of its writer's 7 s); formatting from the
 * dense accumulator on the writer, as first built (every closed bucket walked
 * 131 000 port slots, and the writer's backlog held one 3 MiB accumulator per
 * queued bucket, freshly faulted in: 88 % of a sparse replay's time).
 * Late records (on_late_flow) are rare: they are formatted at once into a
 * buffer that travels with the next closed bucket, or is written at fini.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "jsonl"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <teiten/plugin.h>

#include "prefault.h"
#include "touched.h"

#define JSONL_GROUP_KEY_PATH "path"
/* Closed accumulators (about 3.5 MiB each) are all kept for reuse: see rollup.c's spares. */
/* Port-dimension keys: protocol << 16 | port (TCP, UDP), protocol << 16 (the rest). */
#define JSONL_PORT_KEYS (2 * 65536 + 256)

typedef struct jsonl_counter {
    guint64 flows;
    guint64 packets;
    guint64 bytes;
} jsonl_counter;

/* What outlives the instance while jobs are queued: the file. */
typedef struct jsonl_sink {
    char *path;
    const tt_host *host; /* for job_failed; outlives every job */
    int fd;              /* open for appending (writer thread), -1: not yet, or after an error */
    dev_t dev;           /* what the fd has open: the path is checked against it at each write */
    ino_t ino;
    GString *text; /* a bucket's lines, kept across jobs (writer thread): a fresh one per job
                    * was, for a full port space, a new 21 MB mapping and its page faults */
} jsonl_sink;

/* An open bucket (dispatch thread only); zero but for the slots in the touched lists. */
typedef struct jsonl_acc {
    jsonl_counter port[JSONL_PORT_KEYS]; /* by port slot (tt_port_slot): TCP ports, UDP ports,
                                          * then every other protocol, ICMP and ICMPv6 included */
    jsonl_counter country[TT_COUNTRY_SLOTS];
    jsonl_counter total;
    guint32 nports, ncountries;
    guint32 ports[JSONL_PORT_KEYS];      /* port keys in first-touch order */
    guint32 countries[TT_COUNTRY_SLOTS]; /* country indexes in first-touch order */
} jsonl_acc;

/* One non-zero slot of a closed bucket. */
typedef struct jsonl_item {
    guint32 key;
    jsonl_counter c;
} jsonl_item;

/* A closed bucket, on its way to the writer: what it touched, in line order. */
typedef struct jsonl_snap {
    gint64 start;
    gint64 end;
    char *sensor_json; /* the sensor name, JSON-escaped */
    GString *late;     /* late lines to write first, or NULL */
    jsonl_counter total;
    guint32 nports, ncountries;
    jsonl_item *ports;     /* by key: protocol, then port */
    jsonl_item *countries; /* by country index: A..Z */
    jsonl_sink *sink;      /* a reference while the job is queued */
} jsonl_snap;

typedef struct jsonl_state {
    const tt_host *host;
    jsonl_sink *sink; /* a reference */
    GString *late;    /* late lines not yet handed to the writer */
    GPtrArray *spare; /* of jsonl_acc *, cleared */
} jsonl_state;

typedef struct jsonl_late_job {
    jsonl_sink *sink;
    GString *text;
} jsonl_late_job;

static void jsonl_sink_clear(gpointer data)
{
    jsonl_sink *sink = data;
    if (sink->fd >= 0)
        close(sink->fd);
    if (sink->text != NULL)
        g_string_free(sink->text, TRUE);
    g_free(sink->path);
}

static void jsonl_sink_unref(jsonl_sink *sink)
{
    g_atomic_rc_box_release_full(sink, jsonl_sink_clear);
}

/*
 * The sink's file, open for appending: the descriptor is kept across buckets
 * while the path still names the file it has open (one stat a bucket), and
 * reopened when it does not (logrotate moved it away: the next bucket goes to
 * the new file, nothing to the rotated one after it). Writer thread.
 */
static gboolean jsonl_sink_open(jsonl_sink *sink)
{
    struct stat st;
    if (sink->fd >= 0) {
        if (stat(sink->path, &st) == 0 && st.st_dev == sink->dev && st.st_ino == sink->ino)
            return TRUE;
        close(sink->fd);
        sink->fd = -1;
    }
    int fd = open(sink->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return FALSE;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int saved = S_ISREG(st.st_mode) ? errno : EISDIR;
        close(fd);
        errno = saved;
        return FALSE;
    }
    sink->fd = fd;
    sink->dev = st.st_dev;
    sink->ino = st.st_ino;
    return TRUE;
}

/* Append @text to the file; runs on the writer thread. */
static void jsonl_sink_write(jsonl_sink *sink, const GString *text)
{
    if (text->len == 0)
        return;
    if (!jsonl_sink_open(sink)) {
        tt_host_job_failed(sink->host,
                           "jsonl: cannot open %s for appending: %s; %zu bytes of "
                           "lines lost",
                           sink->path, g_strerror(errno), text->len);
        return;
    }
    gsize done = 0;
    while (done < text->len) {
        ssize_t n = write(sink->fd, text->str + done, text->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : EIO;
            tt_host_job_failed(
                sink->host,
                "jsonl: cannot append to %s: %s; lines of this bucket may be incomplete",
                sink->path, g_strerror(saved));
            close(sink->fd); /* opened afresh for the next bucket */
            sink->fd = -1;
            return;
        }
        done += (gsize)n;
    }
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

/* @a v in decimal at @a p; returns the end. */
static char *jsonl_put_u64(char *p, guint64 v)
{
    char buf[20];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    memcpy(p, buf + i, sizeof buf - i);
    return p + (sizeof buf - i);
}

static char *jsonl_put_i64(char *p, gint64 v)
{
    if (v >= 0)
        return jsonl_put_u64(p, (guint64)v);
    *p++ = '-';
    return jsonl_put_u64(p, (guint64)0 - (guint64)v);
}

static char *jsonl_put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define JSONL_LIT(p, s) jsonl_put_str((p), (s), sizeof(s) - 1)

/*
 * One line, written straight into room made for it at the end of @a out: a
 * dense bucket is ~92,000 lines, and g_string_append_printf (a vasprintf, then
 * a copy), then one append per piece, were most of the writer's user time in a
 * --read of one (perf).
 */
static void jsonl_line(GString *out, gint64 start, gint64 end, const char *sensor_json,
                       const char *dim, const char *key, const jsonl_counter *c, gboolean late)
{
    size_t ls = strlen(sensor_json), ld = strlen(dim), lk = strlen(key);
    gsize at = out->len;
    /* the literal pieces (~100 bytes), five numbers of at most 20 digits and a sign */
    g_string_set_size(out, at + 128 + 5 * 21 + ls + ld + lk);
    char *p = out->str + at;
    p = JSONL_LIT(p, "{\"start\":");
    p = jsonl_put_i64(p, start);
    p = JSONL_LIT(p, ",\"end\":");
    p = jsonl_put_i64(p, end);
    p = JSONL_LIT(p, ",\"sensor\":\"");
    p = jsonl_put_str(p, sensor_json, ls);
    p = JSONL_LIT(p, "\",\"dim\":\"");
    p = jsonl_put_str(p, dim, ld);
    p = JSONL_LIT(p, "\",\"key\":\"");
    p = jsonl_put_str(p, key, lk);
    p = JSONL_LIT(p, "\",\"flows\":");
    p = jsonl_put_u64(p, c->flows);
    p = JSONL_LIT(p, ",\"packets\":");
    p = jsonl_put_u64(p, c->packets);
    p = JSONL_LIT(p, ",\"bytes\":");
    p = jsonl_put_u64(p, c->bytes);
    if (late)
        p = JSONL_LIT(p, ",\"late\":true");
    p = JSONL_LIT(p, "}\n");
    g_string_truncate(out, (gsize)(p - out->str));
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

/* The line-order key (protocol << 16 | port) of port slot @a slot (tt_port_slot). */
static inline guint32 jsonl_key_of_slot(guint32 slot)
{
    if (slot < TT_SLOT_UDP)
        return (guint32)TT_PROTO_TCP << 16 | slot;
    if (slot < TT_SLOT_PROTO)
        return (guint32)TT_PROTO_UDP << 16 | (slot - TT_SLOT_UDP);
    return (slot - TT_SLOT_PROTO) << 16;
}

static jsonl_counter *jsonl_port_of_key(jsonl_acc *acc, guint32 key)
{
    guint proto = key >> 16;
    if (proto == TT_PROTO_TCP)
        return &acc->port[key & 0xffff];
    if (proto == TT_PROTO_UDP)
        return &acc->port[TT_SLOT_UDP + (key & 0xffff)];
    return &acc->port[TT_SLOT_PROTO + proto];
}

static inline void jsonl_count(jsonl_counter *c, const tt_flow *flow)
{
    c->flows++;
    c->packets += flow->packets;
    c->bytes += flow->bytes;
}

/* One line for a non-zero counter. */
static void jsonl_emit(GString *out, const jsonl_snap *snap, const char *dim, const char *key,
                       const jsonl_counter *c)
{
    if (c->flows == 0 && c->packets == 0 && c->bytes == 0)
        return;
    jsonl_line(out, snap->start, snap->end, snap->sensor_json, dim, key, c, FALSE);
}

/* "PORT/tcp" into @a key (16 bytes), without a snprintf per line. */
static void jsonl_port_key(char key[16], guint port, const char *suffix)
{
    memcpy(jsonl_put_u64(key, port), suffix, 5); /* with its NUL */
}

/* Total, then ports by protocol number and port, then countries A..Z. */
static void jsonl_format(GString *out, const jsonl_snap *snap)
{
    char key[16];

    jsonl_emit(out, snap, "total", "all", &snap->total);
    for (guint32 i = 0; i < snap->nports; i++) {
        guint proto = snap->ports[i].key >> 16, port = snap->ports[i].key & 0xffff;
        if (proto == TT_PROTO_TCP || proto == TT_PROTO_UDP)
            jsonl_port_key(key, port, proto == TT_PROTO_TCP ? "/tcp" : "/udp");
        else
            jsonl_proto_key(key, sizeof(key), proto);
        jsonl_emit(out, snap, "port", key, &snap->ports[i].c);
    }
    for (guint32 i = 0; i < snap->ncountries; i++) {
        guint ci = snap->countries[i].key;
        tt_country_code(ci, key);
        key[2] = '\0';
        jsonl_emit(out, snap, "country", key, &snap->countries[i].c);
    }
}

static void jsonl_bucket_job(void *data)
{
    jsonl_snap *snap = data;
    gsize need = 256 + 160 * (gsize)(snap->nports + snap->ncountries);
    if (snap->sink->text == NULL)
        snap->sink->text = g_string_new(NULL);
    GString *text = snap->sink->text;
    if (text->allocated_len <= need)
        g_string_set_size(text, need); /* room for the bucket at once, not by doubling */
    g_string_truncate(text, 0);

    if (snap->late != NULL)
        g_string_append_len(text, snap->late->str, (gssize)snap->late->len);
    jsonl_format(text, snap);
    jsonl_sink_write(snap->sink, text);
}

static void jsonl_snap_free(void *data)
{
    jsonl_snap *snap = data;
    g_free(snap->sensor_json);
    if (snap->late != NULL)
        g_string_free(snap->late, TRUE);
    g_free(snap->ports);
    g_free(snap->countries);
    jsonl_sink_unref(snap->sink);
    g_free(snap);
}

/*
 * The touched slots of @a acc into @a snap, in line order, each cleared
 * behind it. A bucket that touched at least one port slot in JSONL_DENSE_RATIO
 * reads them in one ordered pass instead of sorting its list: still what the
 * bucket touched, and sequential.
 */
#define JSONL_DENSE_RATIO 8

static void jsonl_take_ports(jsonl_acc *acc, jsonl_snap *snap)
{
    guint32 n = acc->nports;
    snap->nports = n;
    snap->ports = g_new(jsonl_item, MAX(n, 1));
    if ((gsize)n * JSONL_DENSE_RATIO >= JSONL_PORT_KEYS) {
        guint32 i = 0;
        for (guint proto = 0; proto < 256; proto++) {
            guint ports = proto == TT_PROTO_TCP || proto == TT_PROTO_UDP ? 65536 : 1;
            for (guint port = 0; port < ports; port++) {
                guint32 key = (guint32)proto << 16 | port;
                jsonl_counter *c = jsonl_port_of_key(acc, key);
                if (c->flows == 0)
                    continue;
                snap->ports[i].key = key;
                snap->ports[i++].c = *c;
                memset(c, 0, sizeof *c);
            }
        }
        g_assert(i == n);
    } else {
        touched_sort_alloc(acc->ports, n);
        for (guint32 i = 0; i < n; i++) {
            jsonl_counter *c = jsonl_port_of_key(acc, acc->ports[i]);
            snap->ports[i].key = acc->ports[i];
            snap->ports[i].c = *c;
            memset(c, 0, sizeof *c);
        }
    }
    acc->nports = 0;

    n = acc->ncountries;
    snap->ncountries = n;
    snap->countries = g_new(jsonl_item, MAX(n, 1));
    touched_sort_alloc(acc->countries, n);
    for (guint32 i = 0; i < n; i++) {
        snap->countries[i].key = acc->countries[i];
        snap->countries[i].c = acc->country[acc->countries[i]];
        memset(&acc->country[acc->countries[i]], 0, sizeof acc->country[0]);
    }
    acc->ncountries = 0;
    snap->total = acc->total;
    memset(&acc->total, 0, sizeof acc->total);
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

/* Create the file's directory and open it for appending once: it must be writable now. */
static gboolean jsonl_check_writable(const char *path, const char *group, GError **error)
{
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
    return TRUE;
}

static gboolean jsonl_init(const tt_host *host, GKeyFile *config, const char *group, void **state,
                           GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(config, group, NULL, NULL);
    for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
        if (strcmp(keys[i], JSONL_GROUP_KEY_PATH) != 0) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                        "[%s] %s: unknown key (keys: %s)", group, keys[i], JSONL_GROUP_KEY_PATH);
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

    /* Fail at start-up, not at the first bucket, when the file cannot be written;
     * under --check-config create nothing (tt_host_checking). */
    if (!tt_host_checking(host) && !jsonl_check_writable(path, group, error))
        return FALSE;

    jsonl_sink *sink = g_atomic_rc_box_new0(jsonl_sink);
    sink->fd = -1;
    sink->path = g_steal_pointer(&path);
    sink->host = host;

    jsonl_state *s = g_new0(jsonl_state, 1);
    s->host = host;
    s->sink = sink;
    s->spare = g_ptr_array_new_with_free_func(g_free);
    if (!tt_host_checking(host)) {
        /* the first bucket's accumulator, mapped now (prefault.h) */
        jsonl_acc *acc = g_new0(jsonl_acc, 1);
        tt_prefault(acc, sizeof *acc);
        g_ptr_array_add(s->spare, acc);
    }
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
        tt_host_submit_sized(s->host, jsonl_late_job_run, job, jsonl_late_job_free,
                             sizeof *job + job->text->allocated_len);
    }
    if (s->late != NULL)
        g_string_free(s->late, TRUE);
    g_ptr_array_free(s->spare, TRUE);
    jsonl_sink_unref(s->sink);
    g_free(s);
}

static void *jsonl_bucket_open(void *state, const tt_bucket *bucket)
{
    jsonl_state *s = state;
    (void)bucket;
    if (s->spare->len > 0)
        return g_ptr_array_steal_index_fast(s->spare, s->spare->len - 1);
    return g_new0(jsonl_acc, 1);
}

/* The one place a flow is counted: under port slot @a slot and country index @a ci. */
static inline void jsonl_add(jsonl_acc *acc, const tt_flow *flow, guint32 slot, unsigned ci)
{
    jsonl_counter *port = &acc->port[slot];
    if (port->flows == 0)
        acc->ports[acc->nports++] = jsonl_key_of_slot(slot);
    if (acc->country[ci].flows == 0)
        acc->countries[acc->ncountries++] = ci;
    jsonl_count(&acc->total, flow);
    jsonl_count(port, flow);
    jsonl_count(&acc->country[ci], flow);
}

static void jsonl_on_flow(void *state, void *accp, const tt_flow *flow)
{
    (void)state;
    jsonl_add(accp, flow, tt_port_slot(flow), tt_country_index(flow->country));
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
            __builtin_prefetch(&acc->port[tt_port_slot(&flows[base + j])], 1);
            __builtin_prefetch(&acc->country[tt_country_index(flows[base + j].country)], 1);
        }
        for (size_t j = 0; j < m; j++)
            jsonl_on_flow(state, acc, &flows[base + j]);
    }
}

/* A run with the collector's keys (ABI 1.5): slot and country index come computed. */
static void jsonl_on_flows_keyed(void *state, void *accp, const tt_flow *flows,
                                 const tt_flow_keys *keys, size_t n)
{
    jsonl_acc *acc = accp;
    (void)state;
    for (size_t base = 0; base < n; base += JSONL_BATCH) {
        size_t m = MIN(n - base, (size_t)JSONL_BATCH);
        for (size_t j = 0; j < m; j++) {
            __builtin_prefetch(&acc->port[keys[base + j].slot], 1);
            __builtin_prefetch(&acc->country[keys[base + j].country], 1);
        }
        for (size_t j = 0; j < m; j++)
            jsonl_add(acc, &flows[base + j], keys[base + j].slot, keys[base + j].country);
    }
}

static void jsonl_bucket_close(void *state, void *accp, const tt_bucket *bucket)
{
    jsonl_state *s = state;
    jsonl_acc *acc = accp;
    jsonl_snap *snap = g_new0(jsonl_snap, 1);

    jsonl_take_ports(acc, snap);
    g_ptr_array_add(s->spare, acc);
    snap->start = bucket->start;
    snap->end = bucket->end;
    snap->sensor_json = jsonl_sensor_json(s, bucket);
    snap->late = g_steal_pointer(&s->late);
    snap->sink = g_atomic_rc_box_acquire(s->sink);
    tt_host_submit_sized(s->host, jsonl_bucket_job, snap, jsonl_snap_free,
                         sizeof *snap +
                             ((gsize)snap->nports + snap->ncountries) * sizeof(jsonl_item) +
                             (snap->late != NULL ? snap->late->allocated_len : 0));
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
    tt_country_code(ci, country_key);
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
    .on_flows_keyed = jsonl_on_flows_keyed,
};

TT_PLUGIN_EXPORT const tt_plugin_info *tt_plugin_entry(void);
const tt_plugin_info *tt_plugin_entry(void)
{
    return &jsonl_info;
}
