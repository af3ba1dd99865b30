/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prefix16.c - the SDK's example plugin: for every closed bucket of every
 * sensor, the source /16 prefixes (IPv4) that sent the most flows, appended
 * as CSV rows to DIR/prefix16.csv. Built outside teiten's tree against the
 * installed SDK alone (CMakeLists.txt beside it); docs/plugin-abi.md,
 * "Write your first plugin", walks through it.
 *
 * Approach: an accumulator per open bucket is a flat array of 65,536 flow
 * counters indexed by the source's first two bytes, plus the list of the
 * prefixes it touched, in first-touch order (on_flow appends a prefix when
 * its counter leaves zero: one branch, no allocation). bucket_close copies
 * just the touched counters into a snapshot, clears just those, and keeps
 * the accumulator for the next bucket_open: a closed bucket costs what it
 * touched, never the 65,536 slots, and a bucket without an IPv4 source costs
 * nothing (no snapshot, no job). The writer job sorts the snapshot (flows
 * descending, then prefix ascending), keeps the first `top` and appends them.
 * IPv6 sources are skipped: a /16 of IPv6 says nothing, and a /32 table would
 * need a hash on the hot path. Late records (rare) become rows at once and
 * travel with the next job, or are written at fini.
 *
 * Built against any 1.x plugin.h from 1.2 on: a test builds it against the
 * ABI 1.2 headers (tests/fixtures/abi-1.2) and loads it into today's teitend.
 * Services added after 1.2 (submit_sized and checking in 1.3, job_failed in
 * 1.4) are used only when the headers it is compiled against have them; the
 * inline helpers of those headers check the running daemon's table in turn.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "prefix16"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <teiten/plugin.h>

#define P16_FILE "prefix16.csv"
#define P16_HEADER "start,end,sensor,rank,prefix,flows\n"
#define P16_DEFAULT_DIR "prefix16"
#define P16_DEFAULT_TOP 10
#define P16_SLOTS 65536u

static const char *const p16_keys[] = {"dir", "top", NULL};

/* What outlives the instance while jobs are queued (jobs may run after fini). */
typedef struct p16_sink {
    char *path;          /* DIR/prefix16.csv */
    const tt_host *host; /* outlives every job; only for reporting failures */
} p16_sink;

/* An open bucket; every counter is zero but those in touched[0..n). */
typedef struct p16_acc {
    guint64 flows[P16_SLOTS];
    guint32 n;
    guint16 touched[P16_SLOTS];
} p16_acc;

/* One touched prefix of a closed bucket. */
typedef struct p16_item {
    guint64 flows;
    guint32 prefix; /* the first two bytes of the source, a << 8 | b */
} p16_item;

/* A closed bucket (or only late rows, n = 0), on its way to the writer. */
typedef struct p16_snap {
    gint64 start, end;
    char *sensor;
    guint32 top; /* 0: every touched prefix */
    guint32 n;
    p16_item *items;
    GString *late; /* rows for late records, written first; or NULL */
    p16_sink *sink;
} p16_snap;

typedef struct p16_state {
    const tt_host *host;
    p16_sink *sink; /* a reference */
    guint32 top;
    GString *late;    /* late rows not yet handed to the writer, or NULL */
    GPtrArray *spare; /* of p16_acc *, cleared */
} p16_state;

/*
 * Services newer than 1.2, where the headers have them. Compiled against
 * 1.2, the plugin cannot name them: it submits plainly, logs a failure as a
 * warning, and creates its directory also under --check-config.
 */
static gboolean p16_submit(const tt_host *host, tt_job_fn run, void *data, GDestroyNotify free_fn,
                           size_t bytes)
{
#if TT_PLUGIN_ABI_MINOR >= 3
    return tt_host_submit_sized(host, run, data, free_fn, bytes);
#else
    (void)bytes;
    host->submit(host, run, data, free_fn);
    return TRUE;
#endif
}

static gboolean p16_checking(const tt_host *host)
{
#if TT_PLUGIN_ABI_MINOR >= 3
    return tt_host_checking(host);
#else
    (void)host;
    return FALSE;
#endif
}

static void p16_failed(const tt_host *host, const char *message)
{
#if TT_PLUGIN_ABI_MINOR >= 4
    tt_host_job_failed(host, "%s", message);
#else
    (void)host;
    g_warning("%s", message);
#endif
}

static void p16_sink_clear(gpointer data)
{
    p16_sink *sink = data;
    g_free(sink->path);
}

static void p16_sink_unref(p16_sink *sink)
{
    g_atomic_rc_box_release_full(sink, p16_sink_clear);
}

static int p16_item_cmp(const void *a, const void *b)
{
    const p16_item *x = a, *y = b;
    if (x->flows != y->flows)
        return x->flows > y->flows ? -1 : 1;
    return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

static void p16_row(GString *out, gint64 start, gint64 end, const char *sensor, const char *rank,
                    guint32 prefix, guint64 flows)
{
    g_string_append_printf(out,
                           "%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%s,%s,%u.%u.0.0/16,"
                           "%" G_GUINT64_FORMAT "\n",
                           start, end, sensor, rank, prefix >> 8, prefix & 0xff, flows);
}

/* Append @a text to the file, the header first when the file is empty. Writer thread. */
static void p16_append(p16_sink *sink, const GString *text)
{
    FILE *f = fopen(sink->path, "ae");
    if (f == NULL) {
        g_autofree char *msg = g_strdup_printf("prefix16: cannot open %s for appending: %s; "
                                               "%zu bytes of rows lost",
                                               sink->path, g_strerror(errno), text->len);
        p16_failed(sink->host, msg);
        return;
    }
    struct stat st;
    gboolean ok = fstat(fileno(f), &st) == 0;
    if (ok && st.st_size == 0)
        ok = fputs(P16_HEADER, f) >= 0;
    if (ok)
        ok = fwrite(text->str, 1, text->len, f) == text->len;
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = FALSE;
        saved = errno;
    }
    if (!ok) {
        g_autofree char *msg =
            g_strdup_printf("prefix16: cannot append to %s: %s; rows of this bucket may be "
                            "incomplete",
                            sink->path, g_strerror(saved));
        p16_failed(sink->host, msg);
    }
}

static void p16_job(void *data)
{
    p16_snap *snap = data;
    GString *text = g_string_sized_new(64 * ((gsize)snap->n + 1));
    guint32 rows = snap->top == 0 ? snap->n : MIN(snap->top, snap->n);
    char rank[16];

    if (snap->late != NULL)
        g_string_append_len(text, snap->late->str, (gssize)snap->late->len);
    /* proportional to what the bucket touched: n log n over its prefixes */
    qsort(snap->items, snap->n, sizeof *snap->items, p16_item_cmp);
    for (guint32 i = 0; i < rows; i++) {
        g_snprintf(rank, sizeof rank, "%u", i + 1);
        p16_row(text, snap->start, snap->end, snap->sensor, rank, snap->items[i].prefix,
                snap->items[i].flows);
    }
    if (text->len > 0)
        p16_append(snap->sink, text);
    g_string_free(text, TRUE);
}

static void p16_snap_free(void *data)
{
    p16_snap *snap = data;
    g_free(snap->sensor);
    g_free(snap->items);
    if (snap->late != NULL)
        g_string_free(snap->late, TRUE);
    p16_sink_unref(snap->sink);
    g_free(snap);
}

static gboolean p16_check_keys(GKeyFile *config, const char *group, GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(config, group, NULL, NULL);
    for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
        if (!g_strv_contains(p16_keys, keys[i])) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                        "[%s] %s: unknown key (expected dir, top)", group, keys[i]);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean p16_read_top(GKeyFile *config, const char *group, guint32 *top, GError **error)
{
    g_autofree char *value = g_key_file_get_string(config, group, "top", NULL);
    if (value == NULL) {
        *top = P16_DEFAULT_TOP;
        return TRUE;
    }
    g_strstrip(value);
    guint64 n;
    if (!g_ascii_string_to_unsigned(value, 10, 0, P16_SLOTS, &n, NULL)) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "[%s] top: \"%s\" is not a number from 0 (every prefix) to %u", group, value,
                    P16_SLOTS);
        return FALSE;
    }
    *top = (guint32)n;
    return TRUE;
}

/* Create the directory and open the file for appending once: it must be writable now. */
static gboolean p16_check_writable(const char *dir, const char *path, const char *group,
                                   GError **error)
{
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "[%s] dir: cannot create directory %s: %s", group, dir, g_strerror(saved));
        return FALSE;
    }
    FILE *f = fopen(path, "ae");
    if (f == NULL) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "[%s] dir: cannot open %s for appending: %s", group, path, g_strerror(saved));
        return FALSE;
    }
    fclose(f);
    return TRUE;
}

static gboolean p16_init(const tt_host *host, GKeyFile *config, const char *group, void **state,
                         GError **error)
{
    guint32 top;
    if (!p16_check_keys(config, group, error) || !p16_read_top(config, group, &top, error))
        return FALSE;

    g_autofree char *value = g_key_file_get_string(config, group, "dir", NULL);
    if (value != NULL)
        g_strstrip(value);
    if (value != NULL && value[0] == '\0') {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "[%s] dir: empty (leave it out for %s)", group, P16_DEFAULT_DIR);
        return FALSE;
    }
    const char *rel = value != NULL ? value : P16_DEFAULT_DIR;
    g_autofree char *dir =
        g_path_is_absolute(rel)
            ? g_strdup(rel)
            : g_build_filename(host->data_dir != NULL ? host->data_dir : ".", rel, NULL);
    g_autofree char *path = g_build_filename(dir, P16_FILE, NULL);

    /* Fail at start-up, not at the first bucket; under --check-config create nothing. */
    if (!p16_checking(host) && !p16_check_writable(dir, path, group, error))
        return FALSE;

    p16_sink *sink = g_atomic_rc_box_new0(p16_sink);
    sink->path = g_steal_pointer(&path);
    sink->host = host;

    p16_state *s = g_new0(p16_state, 1);
    s->host = host;
    s->sink = sink;
    s->top = top;
    s->spare = g_ptr_array_new_with_free_func(g_free);
    *state = s;
    return TRUE;
}

static p16_snap *p16_snap_new(p16_state *s, const tt_bucket *bucket)
{
    p16_snap *snap = g_new0(p16_snap, 1);
    snap->start = bucket != NULL ? bucket->start : 0;
    snap->end = bucket != NULL ? bucket->end : 0;
    snap->top = s->top;
    snap->late = g_steal_pointer(&s->late);
    snap->sink = g_atomic_rc_box_acquire(s->sink);
    return snap;
}

static gsize p16_snap_bytes(const p16_snap *snap)
{
    return sizeof *snap + (gsize)snap->n * sizeof(p16_item) +
           (snap->late != NULL ? snap->late->allocated_len : 0);
}

static void p16_fini(void *state)
{
    p16_state *s = state;

    /* late rows nobody carried out yet: a job of their own, the last */
    if (s->late != NULL) {
        p16_snap *snap = p16_snap_new(s, NULL);
        p16_submit(s->host, p16_job, snap, p16_snap_free, p16_snap_bytes(snap));
    }
    g_ptr_array_free(s->spare, TRUE);
    p16_sink_unref(s->sink);
    g_free(s);
}

static void *p16_bucket_open(void *state, const tt_bucket *bucket)
{
    p16_state *s = state;
    (void)bucket;
    if (s->spare->len > 0)
        return g_ptr_array_steal_index_fast(s->spare, s->spare->len - 1);
    return g_new0(p16_acc, 1);
}

static void p16_on_flow(void *state, void *accp, const tt_flow *flow)
{
    p16_acc *acc = accp;
    (void)state;
    if (!tt_addr_is_v4(flow->src))
        return;
    guint16 prefix = (guint16)(flow->src[12] << 8 | flow->src[13]);
    if (acc->flows[prefix]++ == 0)
        acc->touched[acc->n++] = prefix;
}

static const char *p16_sensor(const p16_state *s, const tt_bucket *bucket, char *buf, size_t size)
{
    const char *name = bucket->sensor_name;
    if (name == NULL && s->host->sensor_name != NULL)
        name = s->host->sensor_name(s->host, bucket->sensor);
    if (name == NULL) {
        g_snprintf(buf, size, "sensor-%u", bucket->sensor);
        name = buf;
    }
    return name;
}

static void p16_bucket_close(void *state, void *accp, const tt_bucket *bucket)
{
    p16_state *s = state;
    p16_acc *acc = accp;
    char buf[32];

    if (acc->n == 0 && s->late == NULL) {
        /* only IPv6 sources: nothing to write, nothing to clear */
        g_ptr_array_add(s->spare, acc);
        return;
    }
    p16_snap *snap = p16_snap_new(s, bucket);
    snap->sensor = g_strdup(p16_sensor(s, bucket, buf, sizeof buf));
    snap->n = acc->n;
    snap->items = g_new(p16_item, MAX(acc->n, 1));
    for (guint32 i = 0; i < acc->n; i++) {
        guint16 prefix = acc->touched[i];
        snap->items[i].prefix = prefix;
        snap->items[i].flows = acc->flows[prefix];
        acc->flows[prefix] = 0;
    }
    acc->n = 0;
    g_ptr_array_add(s->spare, acc);
    p16_submit(s->host, p16_job, snap, p16_snap_free, p16_snap_bytes(snap));
}

static void p16_on_late_flow(void *state, const tt_flow *flow, const tt_bucket *bucket)
{
    p16_state *s = state;
    char buf[32];

    if (!tt_addr_is_v4(flow->src))
        return;
    if (s->late == NULL)
        s->late = g_string_new(NULL);
    p16_row(s->late, bucket->start, bucket->end, p16_sensor(s, bucket, buf, sizeof buf), "late",
            (guint32)flow->src[12] << 8 | flow->src[13], 1);
}

static const tt_plugin_info p16_info = {
    TT_PLUGIN_HEADER("prefix16", "1.0", "top source /16 prefixes per bucket, as CSV"),
    .init = p16_init,
    .fini = p16_fini,
    .bucket_open = p16_bucket_open,
    .on_flow = p16_on_flow,
    .bucket_close = p16_bucket_close,
    .on_late_flow = p16_on_late_flow,
};

TT_PLUGIN_EXPORT const tt_plugin_info *tt_plugin_entry(void);
const tt_plugin_info *tt_plugin_entry(void)
{
    return &p16_info;
}
