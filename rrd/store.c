/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.c - exact steps into RRD files, cheaply, and safely across restarts.
 *
 * Update protocol, per file (a file's last update is `last`):
 *   - a step [start, end) with data: when last < start, write 0 at start
 *     (the idle gap reads 0: heartbeats are 400 days), then the counts at end;
 *     when last > start the step is already stored: skipped and counted
 *     (a replay, or data older than the file), never an "illegal attempt".
 *   - first touch in this process, after a restart: the previous run's
 *     last closed step per scope (sensor, or "*" for all-sensor files) is in
 *     DATA/rrd/.clock; when this run's first step of that scope is later,
 *     the file gets 0 up to the old mark and U from there to the first new
 *     step, so downtime reads unknown and idle time 0.
 *   - clean stop (tt_rrd_store_finish): every file written in this run gets
 *     0 up to the UTC midnight after the newest stored step, but never past
 *     the host clock, so the last day's row is complete; .clock is written.
 *   - first touch through a local rrdcached: the file's header is checked
 *     (schema; a corrupt file is set aside) and its last update is the later
 *     of the file's and rrdcached's (which may hold updates the file lacks).
 *     rrdcached's comes from the last-update index, DATA/rrd/.last, when it
 *     names the file with the same kind and archives, else from a LAST round
 *     trip (one per file: ~130,000 for a full port space, issue 14). At every
 *     end that left nothing unaccounted (the lines sent, or journaled), each
 *     file's kind and last update (queued or written) are saved there; the
 *     next start reads the index and deletes it at once, so only a run that
 *     ended cleanly leaves one, and after a crash every file is asked again.
 *     The index names the rrdcached process (PID and start time) that held
 *     the updates from the run's start to its end; another process, or the
 *     same one restarted, may have lost what it held in memory (no -j), so
 *     then every file is asked again too. Not with a remote rrdcached (its
 *     files live on another host, where another collector may share them).
 * Idle files are never touched: a step costs one update per file with data.
 *
 * Every update is first a line ("UPDATE path t:v... t:v...") in a pending
 * queue; tt_rrd_store_commit (when the writer's queue runs dry, and once
 * CORE_RRD_BATCH lines wait: collector/host.c) runs the queue: with
 * librrd, one rrd_updatex_r per line (RRD_SKIP_PAST_UPDATES); with rrdcached,
 * one BATCH; in a --read (tt_rrd_store_set_overlap) the BATCH goes out from a
 * sender thread of its own while the writer makes the next lines, which queue
 * behind it until rrdcached has answered, so rrdcached's work (a first touch:
 * an rrd_open per file) overlaps ours; its refusals are taken at the next
 * commit and drop the refused file's lines queued meanwhile, as store_put
 * would have. Each file's last update is tracked here (rrdcached would refuse
 * a past update with an error). When rrdcached is down the lines stay queued
 * in memory, in order, and are retried with back-off (1 s doubling to 60 s);
 * reception never notices. Lines still queued at the stop are written to
 * DATA/rrd/.journal and replayed before anything else at the next start.
 * Near the stop's deadline (`stop-timeout`) the core abandons the backend
 * (tt_rrd_store_abandon, from its own thread): a wait on rrdcached in progress
 * ends, nothing more is sent, and every line made from then on (the last
 * buckets, the stop's fill to midnight) goes to the journal; a file to create
 * then is a TT-CREATE line, and through librrd an existing file is not opened
 * (store_open_file: the line holds what its check could have left out, and
 * the replay skips what the file holds), so the stop's last buckets cost
 * microseconds a file, not a header check each (issue 11). The files whose
 * TT-CREATE line is queued (the journal's, or this stop's) are a set: a step
 * that reaches one waits behind its line, and no file is created ahead of it
 * or journaled twice (a journal that grew that way under an earlier version
 * is read with each file once). Replaying is exactly-once because every line
 * carries its times: a line rrdcached did take before the deadline is refused
 * as a past update and counted as such.
 */
#include "store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rrd_private.h"

#define STORE_BACKOFF_MAX 60
/* a journal line "TT-CREATE KIND DAY REL": a file to create (local) before the lines after it */
#define STORE_JOURNAL_CREATE "TT-CREATE"
/* update lines queued behind a batch in flight before a commit waits for its answer:
 * eight steps of a full port space, ~80 bytes each */
#define STORE_OVERLAP_MAX (1u << 20)
#define STORE_CREATE_RETRY 10 /* seconds before a file that could not be created is tried again */

/* the last-update index (above): its file, and the version and layout its first line names */
#define STORE_INDEX ".last"
#define STORE_INDEX_MAGIC "# teitend rrd last-update index 1"

typedef struct store_known {
    tt_rrd_kind kind;
    int64_t last;
} store_known;

/* a BATCH sent by the sender thread while the writer goes on (tt_rrd_store_set_overlap) */
typedef struct store_batch {
    tt_cached *cached;
    GPtrArray *lines; /* of char*, the batch, in queue order */
    gboolean ok;      /* rrdcached answered */
    GPtrArray *failed;
    GError *error;
    gint done;       /* atomic: the sender has the answer */
    GThread *thread; /* the sender, joined by tt_rrd_store_sync */
} store_batch;

typedef struct store_file {
    int64_t last;     /* the file's last update (queued or written) */
    gboolean refused; /* another schema or unwritable: left alone */
    tt_rrd_kind kind;
    int64_t retry_at; /* monotonic seconds; 0: refused for good (schema) */
} store_file;

struct tt_rrd_store {
    char *dir;
    tt_rrd_archives archives;
    tt_cached *cached;       /* NULL: librrd directly */
    GHashTable *files;       /* relative path -> store_file */
    GHashTable *known;       /* relative path -> store_known: the last clean end's index */
    gboolean known_same;     /* the index names the rrdcached process listening now */
    gboolean cached_empty;   /* the local rrdcached held nothing at the start (STATS) */
    char *cached_id;         /* the local rrdcached at the start (tt_cached_identity), or NULL */
    GHashTable *prev_mark;   /* scope -> int64_t*: last closed step end of the previous run */
    GHashTable *first_start; /* scope -> int64_t*: first step start in this run */
    GHashTable *mark;        /* scope -> int64_t*: newest step end in this run */
    int64_t newest;          /* newest step end stored in this run */
    GPtrArray *pending;      /* of char*: commands not yet accepted */
    guint creates;           /* TT-CREATE lines among them (the journal's, or the stop's) */
    GHashTable *queued;      /* relative path -> int64_t* DAY: the files those lines create */
    gboolean journal_open;   /* DATA/rrd/.journal read at the start, not yet all sent */
    int64_t retry_at;        /* monotonic seconds: no reconnect before this */
    int backoff;             /* seconds */
    gboolean down_logged;
    gint abandoned;      /* atomic: the stop's deadline is near, journal everything */
    gint down;           /* atomic: rrdcached's last answer was a failure */
    gint retry;          /* atomic: a refused file is tried again after STORE_CREATE_RETRY */
    gint overlap;        /* atomic: a commit sends its BATCH from the sender thread */
    store_batch *flying; /* the batch in flight, or NULL */
    GString *line;       /* the update line being made (store_put), kept across lines */
    tt_rrd_store_stats st;
};

static int64_t mono_s(void)
{
    return g_get_monotonic_time() / G_USEC_PER_SEC;
}

static int64_t *int64_dup(int64_t v)
{
    return g_memdup2(&v, sizeof v);
}

static int64_t *scope_get(GHashTable *t, const char *scope)
{
    return g_hash_table_lookup(t, scope);
}

static void scope_set_max(GHashTable *t, const char *scope, int64_t v)
{
    int64_t *cur = g_hash_table_lookup(t, scope);
    if (cur == NULL)
        g_hash_table_insert(t, g_strdup(scope), int64_dup(v));
    else if (v > *cur)
        *cur = v;
}

/* DIR/REL appended to @a out: what g_build_filename makes (store->dir has no trailing
 * separator), at a line's rate: it was 3 % of a --read's writer thread */
static void store_abs_append(tt_rrd_store *store, GString *out, const char *rel)
{
    while (*rel == G_DIR_SEPARATOR)
        rel++;
    g_string_append(out, store->dir);
    g_string_append_c(out, G_DIR_SEPARATOR);
    g_string_append(out, rel);
}

static char *store_abs(tt_rrd_store *store, const char *rel)
{
    GString *p = g_string_sized_new(128);
    store_abs_append(store, p, rel);
    return g_string_free(p, FALSE);
}

/* The path as a line names it, appended to @a out: rrdcached over TCP resolves it
 * itself (-b), a local one gets the absolute path. */
static void store_line_path_append(tt_rrd_store *store, GString *out, const char *rel)
{
    if (store->cached != NULL && tt_cached_is_remote(store->cached))
        g_string_append(out, rel);
    else
        store_abs_append(store, out, rel);
}

static char *store_line_path(tt_rrd_store *store, const char *rel)
{
    if (store->cached != NULL && tt_cached_is_remote(store->cached))
        return g_strdup(rel);
    return store_abs(store, rel);
}

/* ---- persistence: .clock and .journal ----------------------------------- */

static void store_load_clock(tt_rrd_store *store)
{
    g_autofree char *path = g_build_filename(store->dir, ".clock", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
        return;
    g_auto(GStrv) keys = g_key_file_get_keys(kf, "closed", NULL, NULL);
    for (char **k = keys; k != NULL && *k != NULL; k++) {
        gint64 v = g_key_file_get_int64(kf, "closed", *k, NULL);
        g_hash_table_insert(store->prev_mark, g_strdup(*k), int64_dup(v));
    }
}

static void store_save_clock(tt_rrd_store *store)
{
    g_autofree char *path = g_build_filename(store->dir, ".clock", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    GHashTableIter it;
    gpointer k, v;
    g_key_file_set_comment(
        kf, NULL, NULL, " teitend: end of the last closed step per sensor (* = all sensors)", NULL);
    g_hash_table_iter_init(&it, store->prev_mark);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (scope_get(store->mark, k) == NULL)
            g_key_file_set_int64(kf, "closed", k, *(int64_t *)v);
    g_hash_table_iter_init(&it, store->mark);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_key_file_set_int64(kf, "closed", k, *(int64_t *)v);
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
    if (!g_file_set_contents(path, data, (gssize)len, &error))
        g_warning("rrd: %s", error->message);
}

/* The index's first line: the archives the files were made with, and the rrdcached process
 * that held their updates (what one holds in memory dies with it: another process, or the
 * same one restarted, may lack what the index says it took). */
static char *store_index_header(const tt_rrd_archives *a, const char *cached_id)
{
    GString *h = g_string_new(STORE_INDEX_MAGIC);
    g_string_append_printf(h, " step=%" G_GINT64_FORMAT " rra=", a->step);
    for (guint i = 0; i < a->n; i++)
        g_string_append_printf(h, "%s%" PRIu32 "x%" PRIu32, i > 0 ? "," : "", a->rra[i].steps,
                               a->rra[i].rows);
    g_string_append_printf(h, " rrdcached=%s", cached_id);
    return g_string_free(h, FALSE);
}

/* Read DATA/rrd/.last ("KIND LAST REL" lines) and delete it: it holds for this start only. */
static void store_load_index(tt_rrd_store *store)
{
    g_autofree char *path = g_build_filename(store->dir, STORE_INDEX, NULL);
    g_autofree char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, NULL))
        return;
    if (g_remove(path) != 0) {
        /* an index that outlives this run could be stale after a crash: not used */
        g_warning("rrd: %s: cannot remove: %s; not used", path, g_strerror(errno));
        return;
    }
    if (store->cached_id == NULL)
        return; /* librrd directly, a remote or unreachable rrdcached: nothing to vouch for */
    g_autofree char *header = store_index_header(&store->archives, store->cached_id);
    g_autofree char *layout = store_index_header(&store->archives, "");
    g_auto(GStrv) lines =
        g_strsplit_set(data, "\n", -1); /* not g_strsplit: its strstr is quadratic under ASan */
    if (lines[0] == NULL || !g_str_has_prefix(lines[0], layout))
        return; /* another version or archives: every file is checked */
    /* another rrdcached process (restarted, or another one): what the old one held was
     * flushed at its end or lost with it; store_open_file takes a file's entry only
     * when the file itself has caught up with it */
    store->known_same = strcmp(lines[0], header) == 0;
    for (char **l = lines + 1; *l != NULL; l++) {
        char *end = NULL;
        guint64 kind = g_ascii_strtoull(*l, &end, 10);
        if (end == *l || *end != ' ' || kind > TT_RRD_SELF)
            continue;
        const char *p = end + 1;
        gint64 last = g_ascii_strtoll(p, &end, 10);
        if (end == p || *end != ' ' || end[1] == '\0')
            continue;
        store_known *k = g_new(store_known, 1);
        *k = (store_known){(tt_rrd_kind)kind, last};
        g_hash_table_replace(store->known, g_strdup(end + 1), k);
    }
}

static void store_index_line(GString *out, tt_rrd_kind kind, int64_t last, const char *rel)
{
    g_string_append_printf(out, "%d %" G_GINT64_FORMAT " %s\n", (int)kind, last, rel);
}

/* At an end that left nothing unaccounted: every file's kind and last update, for the next start.
 */
static void store_save_index(tt_rrd_store *store)
{
    if (store->cached_id == NULL)
        return;
    /* the same rrdcached process from start to end, or it may have lost what it held */
    g_autofree char *now = tt_cached_identity(store->cached);
    if (g_strcmp0(now, store->cached_id) != 0)
        return;
    g_autofree char *header = store_index_header(&store->archives, store->cached_id);
    GString *out = g_string_new(header);
    g_string_append_c(out, '\n');
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, store->files);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const store_file *f = v;
        if (!f->refused)
            store_index_line(out, f->kind, f->last, k);
    }
    /* files the index named that this run never touched are as the last run left them,
     * when the index was this rrdcached's (else they were never checked against the disk) */
    g_hash_table_iter_init(&it, store->known);
    while (store->known_same && g_hash_table_iter_next(&it, &k, &v)) {
        const store_known *kn = v;
        if (!g_hash_table_contains(store->files, k))
            store_index_line(out, kn->kind, kn->last, k);
    }
    g_autofree char *path = g_build_filename(store->dir, STORE_INDEX, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(path, out->str, (gssize)out->len, &error))
        g_message("rrd: %s (the next start checks every file)", error->message);
    g_string_free(out, TRUE);
}

/*
 * "KIND DAY REL" of a TT-CREATE line: its file is now in store->queued, to be
 * created by store_commit_creates, or journaled again at the stop; FALSE: it
 * was already there (the line is dropped). A malformed line is kept: the
 * commit reports it.
 */
static gboolean store_queue_create(tt_rrd_store *store, const char *args)
{
    g_auto(GStrv) f = g_strsplit(args, " ", 3);
    if (g_strv_length(f) != 3)
        return TRUE;
    if (g_hash_table_contains(store->queued, f[2]))
        return FALSE;
    g_hash_table_insert(store->queued, g_strdup(f[2]), int64_dup(g_ascii_strtoll(f[1], NULL, 10)));
    return TRUE;
}

/* "KIND DAY REL" of a TT-CREATE journal line: create the file now, before its updates go out. */
static void store_journal_create(tt_rrd_store *store, const char *args)
{
    g_auto(GStrv) f = g_strsplit(args, " ", 3);
    g_autoptr(GError) error = NULL;
    gboolean created = FALSE;
    if (g_strv_length(f) != 3) {
        g_warning("rrd: journal: a malformed create line (%s) skipped", args);
        return;
    }
    g_hash_table_remove(store->queued, f[2]); /* done, or failed for good: no longer queued */
    g_autofree char *abs = store_abs(store, f[2]);
    if (!tt_rrd_create_file(abs, (tt_rrd_kind)g_ascii_strtoll(f[0], NULL, 10), &store->archives,
                            g_ascii_strtoll(f[1], NULL, 10), &created, &error))
        g_warning("rrd: journal: %s", error->message);
    else if (created)
        store->st.created++;
}

/*
 * The journal goes to the front of the queue as it is, TT-CREATE lines
 * included; nothing is sent or created here. The first commit, a job the host
 * puts first on the writer's queue, replays it (store_commit_creates, then the
 * lines): a stop that journaled a whole port space's file creations must not
 * hold the next start's reception for the minutes they take.
 */
static void store_load_journal(tt_rrd_store *store)
{
    g_autofree char *path = g_build_filename(store->dir, ".journal", NULL);
    g_autofree char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, NULL))
        return;
    g_auto(GStrv) lines =
        g_strsplit_set(data, "\n", -1); /* not g_strsplit: its strstr is quadratic under ASan */
    guint n = 0, again = 0;
    for (char **l = lines; *l != NULL; l++) {
        if (**l == '\0')
            continue;
        if (g_str_has_prefix(*l, STORE_JOURNAL_CREATE " ")) {
            /* a journal of an earlier version may name a file twice: created once */
            if (!store_queue_create(store, *l + strlen(STORE_JOURNAL_CREATE " "))) {
                again++;
                continue;
            }
            store->creates++;
        }
        n++;
        g_ptr_array_add(store->pending, g_strdup(*l));
    }
    store->st.replayed = n;
    store->journal_open = n > 0;
    g_message("rrd: replaying %u update lines journaled at the last stop (%u file creations; "
              "on the writer thread, reception does not wait)",
              n, store->creates);
    if (again > 0)
        g_message("rrd: journal: %u creations of files it already named dropped", again);
}

/*
 * The queue's TT-CREATE lines done, in order, the others kept in theirs: a
 * created file precedes its updates either way. The stop's deadline ends it:
 * what is left is journaled again.
 */
static void store_commit_creates(tt_rrd_store *store)
{
    gsize n = 0;
    char **lines = (char **)g_ptr_array_steal(store->pending, &n); /* the queue is empty now */
    for (gsize i = 0; i < n; i++) {
        if (store->creates > 0 && g_str_has_prefix(lines[i], STORE_JOURNAL_CREATE " ") &&
            !g_atomic_int_get(&store->abandoned)) {
            store_journal_create(store, lines[i] + strlen(STORE_JOURNAL_CREATE " "));
            store->creates--;
            g_free(lines[i]);
            continue;
        }
        g_ptr_array_add(store->pending, lines[i]);
    }
    g_free(lines);
}

/* The lines still pending, to DATA/rrd/.journal; FALSE: some are lost (reported). */
static gboolean store_write_journal(tt_rrd_store *store)
{
    g_autofree char *path = g_build_filename(store->dir, ".journal", NULL);
    if (store->pending->len == 0) {
        (void)g_remove(path);
        return TRUE;
    }
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < store->pending->len; i++) {
        g_string_append(out, g_ptr_array_index(store->pending, i));
        g_string_append_c(out, '\n');
    }
    g_autoptr(GError) error = NULL;
    gboolean ok = g_file_set_contents(path, out->str, (gssize)out->len, &error);
    if (!ok)
        g_warning("rrd: journal: %s (%u update lines lost)", error->message, store->pending->len);
    else
        g_warning("rrd: %u update lines could not be written; journaled in %s for the next start",
                  store->pending->len, path);
    store->st.journaled = store->pending->len;
    g_hash_table_remove_all(store->queued); /* journaled: the next start creates them */
    g_string_free(out, TRUE);
    return ok;
}

/* ---- running the queue -------------------------------------------------- */

/*
 * A file librrd cannot read at all (truncated, overwritten) while we may read
 * and write it is corrupt, not someone else's: it is renamed to
 * NAME.corrupt-UNIXTIME (kept for a post-mortem) and the caller creates a new
 * one. A readable file of another schema is never touched.
 */
static gboolean store_set_aside(tt_rrd_store *store, const char *abs, tt_rrd_kind kind)
{
    g_autoptr(GError) why = NULL;
    int64_t last = 0;
    if (g_access(abs, R_OK | W_OK) != 0 ||
        tt_rrd_check_file(abs, kind, &store->archives, &last, &why) ||
        !g_error_matches(why, TT_RRD_ERROR, TT_RRD_ERROR_LIBRRD))
        return FALSE;
    /* locked by another process (rrdtool tune, a second daemon): in use, not corrupt */
    if (strstr(why->message, "could not lock") != NULL)
        return FALSE;
    int64_t now = g_get_real_time() / G_USEC_PER_SEC;
    g_autofree char *aside = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, abs, now);
    /* never over an earlier post-mortem copy (two set-asides within one second) */
    for (unsigned n = 1; g_file_test(aside, G_FILE_TEST_EXISTS); n++) {
        g_free(aside);
        aside = g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT "-%u", abs, now, n);
    }
    if (g_rename(abs, aside) != 0) {
        g_warning("rrd: %s is corrupt (%s) and cannot be set aside: %s", abs, why->message,
                  g_strerror(errno));
        return FALSE;
    }
    store->st.set_aside++;
    g_warning("rrd: %s is corrupt (%s): set aside as %s, a new file is created", abs, why->message,
              aside);
    return TRUE;
}

/* An update line failed: when its file was corrupt, set it aside, recreate it, try once more. */
static gboolean store_recover_line(tt_rrd_store *store, char **argv, int n)
{
    const char *abs = argv[1];
    gsize dl = strlen(store->dir);
    if (strncmp(abs, store->dir, dl) != 0 || abs[dl] != G_DIR_SEPARATOR)
        return FALSE;
    store_file *f = g_hash_table_lookup(store->files, abs + dl + 1);
    if (f == NULL || !store_set_aside(store, abs, f->kind))
        return FALSE;
    /* one step before the line's first time: an ABSOLUTE count must not spread over the gap */
    int64_t first = g_ascii_strtoll(argv[2], NULL, 10) - store->archives.step;
    gboolean created = FALSE;
    g_autoptr(GError) error = NULL;
    if (!tt_rrd_create_file(abs, f->kind, &store->archives, first, &created, &error) ||
        !tt_rrd_update_direct(abs, argv + 2, n - 2, &error)) {
        g_warning("rrd: %s", error->message);
        return FALSE;
    }
    store->st.created++;
    return TRUE;
}

/* The file an "UPDATE path ..." line writes, or NULL. */
static store_file *store_line_file(tt_rrd_store *store, const char *line)
{
    if (!g_str_has_prefix(line, "UPDATE "))
        return NULL;
    const char *path = line + strlen("UPDATE ");
    const char *end = strchr(path, ' ');
    g_autofree char *p = end != NULL ? g_strndup(path, (gsize)(end - path)) : g_strdup(path);
    const char *rel = p;
    gsize dl = strlen(store->dir);
    if (strncmp(p, store->dir, dl) == 0 && p[dl] == G_DIR_SEPARATOR)
        rel = p + dl + 1;
    return g_hash_table_lookup(store->files, rel);
}

/*
 * An update line was refused: its file is left alone (its later lines of the
 * same commit too) until STORE_CREATE_RETRY has passed, then opened afresh
 * (its last update read from the file again), or for the rest of a --read
 * (tt_rrd_store_set_retry). Without this the lines after it would go on from
 * a last update the file never reached, and a later step stored would make
 * the refused one a "past" update that a second `--read` could no longer
 * store.
 */
static void store_line_refused(tt_rrd_store *store, const char *line)
{
    store_file *f = store_line_file(store, line);
    if (f == NULL)
        return;
    f->refused = TRUE;
    f->retry_at = mono_s() + STORE_CREATE_RETRY;
}

static void store_commit_direct(tt_rrd_store *store)
{
    guint i = 0;
    for (; i < store->pending->len; i++) {
        if (g_atomic_int_get(&store->abandoned))
            break; /* the rest goes to the journal */
        const char *line = g_ptr_array_index(store->pending, i);
        g_auto(GStrv) argv = g_strsplit(line, " ", -1);
        g_autoptr(GError) error = NULL;
        guint n = g_strv_length(argv);
        if (n < 3 || strcmp(argv[0], "UPDATE") != 0)
            continue;
        const store_file *f = store_line_file(store, line);
        if (f != NULL && f->refused) {
            store->st.refused++; /* an earlier line of this file failed: not past it */
            continue;
        }
        if (!tt_rrd_update_direct(argv[1], argv + 2, (int)n - 2, &error) &&
            !store_recover_line(store, argv, (int)n)) {
            store->st.refused++;
            store_line_refused(store, line);
            g_warning("rrd: %s", error->message);
        }
    }
    g_ptr_array_remove_range(store->pending, 0, i);
}

/*
 * rrdcached's answer to the BATCH of @a lines (@a ok: it answered; @a failed, the
 * lines it refused; both taken). @a lines is the queue itself, or a batch the
 * sender took from its head: what rrdcached did not take goes back there, ahead
 * of the lines queued since, and a file refused here loses those lines too, as
 * its later steps would be at store_put.
 */
static void store_cached_answer(tt_rrd_store *store, GPtrArray *lines, gboolean ok,
                                GPtrArray *failed, GError *error)
{
    if (!ok) {
        if (lines != store->pending) {
            g_ptr_array_extend_and_steal(lines, store->pending);
            store->pending = lines;
        }
        g_atomic_int_set(&store->down, 1);
        store->st.daemon_errors++;
        store->backoff = store->backoff == 0 ? 1 : MIN(store->backoff * 2, STORE_BACKOFF_MAX);
        store->retry_at = mono_s() + store->backoff;
        if (!store->down_logged)
            g_warning("rrd: %s; %u update lines kept in memory, retrying with back-off",
                      error->message, store->pending->len);
        store->down_logged = TRUE;
        g_error_free(error);
        return;
    }
    if (store->down_logged) {
        g_message("rrd: rrdcached is back; %u queued update lines sent", lines->len);
        store->st.reconnects++;
    }
    store->down_logged = FALSE;
    g_atomic_int_set(&store->down, 0);
    store->backoff = 0;
    guint marked = 0;
    for (guint i = 0; i < failed->len; i++) {
        const char *msg = g_ptr_array_index(failed, i);
        /* a journal replay may repeat what rrdcached already took: that is a skip */
        if (strstr(msg, "illegal attempt to update") != NULL ||
            strstr(msg, "minimum one second step") != NULL) {
            store->st.past++;
            continue;
        }
        store->st.daemon_errors++;
        store->st.refused++; /* a step lost, as one librrd refuses */
        /* "N message": N counts the batch's lines from 1 */
        guint64 no = g_ascii_strtoull(msg, NULL, 10);
        if (no >= 1 && no <= lines->len) {
            store_line_refused(store, g_ptr_array_index(lines, (guint)no - 1));
            marked++;
        }
        if (store->st.daemon_errors <= 10)
            g_warning("rrd: rrdcached refused batch line %s", msg);
    }
    g_ptr_array_unref(failed);
    if (lines == store->pending) {
        g_ptr_array_set_size(store->pending, 0);
        return;
    }
    g_ptr_array_unref(lines);
    if (marked == 0)
        return;
    gsize n = 0;
    char **queued = (char **)g_ptr_array_steal(store->pending, &n); /* the queue is empty now */
    for (gsize i = 0; i < n; i++) {
        const store_file *f = store_line_file(store, queued[i]);
        if (f != NULL && f->refused) {
            store->st.refused++;
            g_free(queued[i]);
        } else {
            g_ptr_array_add(store->pending, queued[i]);
        }
    }
    g_free(queued);
}

static gpointer store_sender_main(gpointer data)
{
    store_batch *b = data;
    b->ok = tt_cached_batch(b->cached, b->lines, &b->failed, &b->error);
    g_atomic_int_set(&b->done, 1);
    return NULL;
}

static void store_commit_cached(tt_rrd_store *store)
{
    if (store->retry_at > mono_s())
        return;
    if (g_atomic_int_get(&store->overlap)) {
        store_batch *b = g_new0(store_batch, 1);
        b->cached = store->cached;
        b->lines = store->pending;
        store->pending = g_ptr_array_new_with_free_func(g_free);
        store->flying = b;
        b->thread = g_thread_new("tt-rrd-send", store_sender_main, b);
        return;
    }
    GPtrArray *failed = NULL;
    GError *error = NULL;
    gboolean ok = tt_cached_batch(store->cached, store->pending, &failed, &error);
    store_cached_answer(store, store->pending, ok, failed, error);
}

void tt_rrd_store_set_retry(tt_rrd_store *store, gboolean retry)
{
    g_return_if_fail(store != NULL);
    g_atomic_int_set(&store->retry, retry ? 1 : 0);
}

void tt_rrd_store_set_overlap(tt_rrd_store *store, gboolean overlap)
{
    g_return_if_fail(store != NULL);
    g_atomic_int_set(&store->overlap, overlap ? 1 : 0);
}

/* After a commit or a batch's answer: the journal's lines all taken, it goes. */
static void store_settled(tt_rrd_store *store)
{
    store->st.pending = store->pending->len;
    if (store->journal_open && store->pending->len == 0 && store->flying == NULL) {
        g_autofree char *j = g_build_filename(store->dir, ".journal", NULL);
        (void)g_remove(j);
        store->journal_open = FALSE;
        g_message("rrd: the journal is replayed (%" G_GUINT64_FORMAT " files created so far)",
                  (guint64)store->st.created);
    }
}

void tt_rrd_store_sync(tt_rrd_store *store)
{
    g_return_if_fail(store != NULL);
    if (store->flying == NULL)
        return;
    store_batch *b = g_steal_pointer(&store->flying);
    g_thread_join(b->thread);
    store_cached_answer(store, b->lines, b->ok, b->failed, b->error);
    g_free(b);
    store_settled(store);
}

gboolean tt_rrd_store_sendable(const tt_rrd_store *store)
{
    g_return_val_if_fail(store != NULL, FALSE);
    if (store->flying != NULL)
        return g_atomic_int_get(&store->flying->done);
    return store->retry_at <= mono_s();
}

gboolean tt_rrd_store_in_flight(const tt_rrd_store *store)
{
    g_return_val_if_fail(store != NULL, FALSE);
    return store->flying != NULL;
}

void tt_rrd_store_commit(tt_rrd_store *store)
{
    g_return_if_fail(store != NULL);
    /* one batch in flight at a time, answered in order; while rrdcached works on it (a
     * first touch of a port space is seconds of its rrd_opens) the lines queue behind it,
     * up to STORE_OVERLAP_MAX */
    if (store->flying != NULL && !g_atomic_int_get(&store->flying->done) &&
        store->pending->len < STORE_OVERLAP_MAX && !g_atomic_int_get(&store->abandoned))
        return;
    tt_rrd_store_sync(store);
    if (store->pending->len == 0 || g_atomic_int_get(&store->abandoned))
        return;
    if (store->creates > 0)
        store_commit_creates(store);
    if (g_atomic_int_get(&store->abandoned))
        return; /* the stop's deadline fell during the creations: the rest is journaled */
    if (store->cached == NULL)
        store_commit_direct(store);
    else
        store_commit_cached(store);
    store_settled(store);
}

void tt_rrd_store_commit_wait(tt_rrd_store *store)
{
    g_return_if_fail(store != NULL);
    tt_rrd_store_sync(store);
    tt_rrd_store_commit(store);
    tt_rrd_store_sync(store);
}

guint tt_rrd_store_queued(const tt_rrd_store *store)
{
    g_return_val_if_fail(store != NULL, 0);
    return store->pending->len;
}

gboolean tt_rrd_store_is_cached(const tt_rrd_store *store)
{
    g_return_val_if_fail(store != NULL, FALSE);
    return store->cached != NULL;
}

/* ---- files -------------------------------------------------------------- */

/* The file's last update as rrdcached sees it (it may hold newer updates than the disk). */
static gboolean store_cached_last(tt_rrd_store *store, const char *rel, int64_t *last)
{
    g_autofree char *p = store_line_path(store, rel);
    g_autofree char *cmd = g_strdup_printf("LAST %s", p);
    g_autofree char *reply = NULL;
    int status = -1;
    tt_rrd_store_sync(store); /* the connection is the sender's while a batch is in flight */
    if (store->retry_at > mono_s() ||
        !tt_cached_command(store->cached, cmd, &status, &reply, NULL) || status != 0)
        return FALSE;
    *last = g_ascii_strtoll(reply, NULL, 10);
    return TRUE;
}

/* First touch of @a rel in this process: create it or check it, learn its last update. */
static store_file *store_open_file(tt_rrd_store *store, tt_rrd_kind kind, const char *rel,
                                   int64_t start, GError **error)
{
    store_file *f = g_new0(store_file, 1);
    f->kind = kind;
    g_hash_table_insert(store->files, g_strdup(rel), f);
    int64_t day = start - start % 86400; /* a new file starts at the UTC midnight before its data */
    g_autofree char *abs = store_abs(store, rel);
    if (store->cached != NULL && tt_cached_is_remote(store->cached)) {
        /* remote files: created by rrdcached itself (-O: never over an existing file) */
        if (store_cached_last(store, rel, &f->last))
            return f;
        g_ptr_array_add(store->pending, tt_rrd_create_line(rel, kind, &store->archives, day));
        f->last = day;
        store->st.created++;
        return f;
    }
    const int64_t *queued = g_hash_table_lookup(store->queued, rel);
    gboolean abandoned = g_atomic_int_get(&store->abandoned);
    if (queued != NULL || abandoned) {
        gboolean exists = g_file_test(abs, G_FILE_TEST_EXISTS);
        if (queued != NULL && !exists) {
            /* its TT-CREATE line (the journal's) is ahead in the queue: created there, at the
             * journal's DAY, before this step's line; at the stop, journaled with it, once */
            f->last = *queued;
            return f;
        }
        if (abandoned && !exists) {
            /* near the stop's deadline a file is not created (hundreds of ms each on a busy
             * disk): the journal says which, and the next start creates it before its updates */
            g_autofree char *args =
                g_strdup_printf("%d %" G_GINT64_FORMAT " %s", (int)kind, day, rel);
            (void)store_queue_create(store, args);
            g_ptr_array_add(store->pending, g_strdup_printf(STORE_JOURNAL_CREATE " %s", args));
            store->creates++;
            f->last = day;
            return f;
        }
    }
    if (abandoned && store->cached == NULL) {
        /* nor is an existing one opened (its header check, ~0.3 ms, times a port space was
         * most of a dense stop): its last update is taken as unknown, so its first line
         * carries every value a checked file could need (the restart gap's 0 and U, the
         * step's leading 0), and the replay's librrd skips those the file already holds
         * (RRD_SKIP_PAST_UPDATES). Not through rrdcached, which refuses such a line. */
        f->last = 0;
        return f;
    }
    /* an existing file that passes the header check is most first touches of a store that
     * has run before: checked first, it needs no existence test (an access(2) and its path
     * walk, 10 % of a backfill's writer); a new file fails it at the open */
    if (!tt_rrd_check_header(abs, kind, &store->archives, &f->last)) {
        gboolean created = FALSE;
        if (!tt_rrd_create_file(abs, kind, &store->archives, day, &created, error)) {
            f->refused = TRUE;
            f->retry_at = mono_s() + STORE_CREATE_RETRY; /* a full disk may get space back */
            return f;
        }
        if (created) {
            store->st.created++;
            f->last = day;
            return f;
        }
        if (!tt_rrd_check_file(abs, kind, &store->archives, &f->last, error)) {
            if (store_set_aside(store, abs, kind) &&
                tt_rrd_create_file(abs, kind, &store->archives, day, &created, NULL)) {
                g_clear_error(error);
                store->st.created++;
                f->last = day;
                return f;
            }
            f->refused = TRUE;
            return f;
        }
    }
    if (store->cached != NULL) {
        /* rrdcached may hold updates the file lacks: what the last clean end left
         * queued or written, from the index (an index of another rrdcached process only
         * where the file holds as much), else rrdcached's own answer */
        const store_known *known = g_hash_table_lookup(store->known, rel);
        int64_t l = 0;
        if (known != NULL && known->kind == kind && (store->known_same || known->last == f->last)) {
            l = known->last;
            store->st.indexed++;
        } else if (store->cached_empty) {
            store->st.unasked++;
        } else {
            (void)store_cached_last(store, rel, &l); /* l stays 0 when it cannot answer */
        }
        if (l > f->last)
            f->last = l;
    }
    return f;
}

static const char *kind_zero(tt_rrd_kind kind, gboolean unknown)
{
    if (kind == TT_RRD_SELF)
        return unknown ? "U:U:U:U:U:U:U:U:U:U:U:U:U" : "0:0:0:0:0:0:0:0:0:0:0:0:0";
    return unknown ? "U:U:U:U" : "0:0:0:0";
}
G_STATIC_ASSERT(TT_RRD_SELF_DS_COUNT == 13); /* kind_zero's self strings */

static gboolean store_put(tt_rrd_store *store, tt_rrd_kind kind, const char *scope, const char *rel,
                          int64_t start, int64_t end, const char *values, GError **error)
{
    const char *sc = scope != NULL ? scope : "*";
    if (scope_get(store->first_start, sc) == NULL)
        g_hash_table_insert(store->first_start, g_strdup(sc), int64_dup(start));
    store_file *f = g_hash_table_lookup(store->files, rel);
    if (f != NULL && f->refused && f->retry_at != 0 && g_atomic_int_get(&store->retry) &&
        mono_s() >= f->retry_at) {
        g_hash_table_remove(store->files, rel);
        f = NULL;
    }
    /* the line is made in a buffer kept across lines and queued at its size: a --read
     * queues a million lines, and a GString of their own was three allocations a line
     * and a quarter of the run's page faults */
    GString *line = store->line;
    g_string_assign(line, "UPDATE ");
    store_line_path_append(store, line, rel);
    gsize bare = line->len;
    if (f == NULL) {
        f = store_open_file(store, kind, rel, start, error);
        if (f->refused) {
            store->st.refused++;
            return FALSE;
        }
        /* restart gap: 0 while the previous run was up, U while nobody was */
        const int64_t *prev = scope_get(store->prev_mark, sc);
        int64_t first = *scope_get(store->first_start, sc);
        if (prev != NULL && first > *prev) {
            if (f->last < *prev) {
                g_string_append_printf(line, " %" G_GINT64_FORMAT ":%s", *prev,
                                       kind_zero(kind, FALSE));
                f->last = *prev;
            }
            if (f->last < first) {
                g_string_append_printf(line, " %" G_GINT64_FORMAT ":%s", first,
                                       kind_zero(kind, TRUE));
                f->last = first;
                store->st.unknown_gaps++;
            }
        }
    }
    if (f->refused) {
        store->st.refused++;
        /* every step lost is a failure of its job (tt_host.job_failed), not only the first */
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_IO,
                    "%s: refused earlier in this run (see the first error)", rel);
        return FALSE;
    }
    if (f->last > start) {
        store->st.past++;
    } else {
        if (f->last < start)
            g_string_append_printf(line, " %" G_GINT64_FORMAT ":%s", start, kind_zero(kind, FALSE));
        g_string_append_printf(line, " %" G_GINT64_FORMAT ":%s", end, values);
        f->last = end;
        store->st.updates++;
        scope_set_max(store->mark, sc, end);
        /* the self file follows the flows' steps; it must not push the stop's fill */
        if (end > store->newest && kind != TT_RRD_SELF)
            store->newest = end;
    }
    if (line->len > bare)
        g_ptr_array_add(store->pending, g_strndup(line->str, line->len));
    return TRUE;
}

gboolean tt_rrd_store_update(tt_rrd_store *store, tt_rrd_kind kind, const char *scope,
                             const char *path, int64_t start, int64_t end, const tt_rrd_values *v,
                             GError **error)
{
    g_return_val_if_fail(store != NULL && path != NULL && v != NULL, FALSE);
    g_return_val_if_fail(kind != TT_RRD_SELF && end > start, FALSE);
    /* an RRD holds doubles: beyond 2^53 a count is no longer exact, so it is held there
     * (and counted) rather than stored rounded, or wrapped by a plugin's sum */
    const uint64_t max = (uint64_t)1 << 53;
    uint64_t flows = MIN(v->flows, max), packets = MIN(v->packets, max), bytes = MIN(v->bytes, max);
    if (flows != v->flows || packets != v->packets || bytes != v->bytes)
        store->st.saturated++;
    char values[128];
    if (isnan(v->sources))
        g_snprintf(values, sizeof values,
                   "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":U", flows,
                   packets, bytes);
    else
        g_snprintf(values, sizeof values,
                   "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%.0f", flows,
                   packets, bytes, v->sources);
    return store_put(store, kind, scope, path, start, end, values, error);
}

gboolean tt_rrd_store_update_self(tt_rrd_store *store, int64_t start, int64_t end,
                                  const double *values, guint n, GError **error)
{
    g_return_val_if_fail(store != NULL && n == tt_rrd_self_ds_count(), FALSE);
    GString *v = g_string_new(NULL);
    for (guint i = 0; i < n; i++)
        g_string_append_printf(v, "%s%.0f", i > 0 ? ":" : "", values[i]);
    gboolean ok =
        store_put(store, TT_RRD_SELF, "self", "self/collector.rrd", start, end, v->str, error);
    g_string_free(v, TRUE);
    return ok;
}

void tt_rrd_store_stopping(tt_rrd_store *store)
{
    g_return_if_fail(store != NULL);
    if (store->cached != NULL)
        tt_cached_set_timeout(store->cached, TT_RRD_STOP_TIMEOUT_MS);
}

void tt_rrd_store_abandon(tt_rrd_store *store)
{
    if (store == NULL)
        return;
    g_atomic_int_set(&store->abandoned, 1);
    if (store->cached != NULL)
        tt_cached_abort(store->cached);
}

gboolean tt_rrd_store_is_down(tt_rrd_store *store)
{
    return store != NULL && g_atomic_int_get(&store->down);
}

void tt_rrd_store_finish(tt_rrd_store *store, int64_t now)
{
    g_return_if_fail(store != NULL);
    if (store->newest == 0) {
        tt_rrd_store_commit_wait(store);
        return;
    }
    int64_t fill = (store->newest + 86399) / 86400 * 86400;
    int64_t clock = now / store->archives.step * store->archives.step;
    if (fill > clock)
        fill = clock;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, store->files);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        store_file *f = v;
        if (f->refused || f->last >= fill)
            continue;
        g_autofree char *lp = store_line_path(store, k);
        gboolean self = strcmp(k, "self/collector.rrd") == 0;
        g_ptr_array_add(store->pending,
                        g_strdup_printf("UPDATE %s %" G_GINT64_FORMAT ":%s", lp, fill,
                                        kind_zero(self ? TT_RRD_SELF : TT_RRD_PORT, FALSE)));
        f->last = fill;
    }
    g_hash_table_iter_init(&it, store->mark);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (*(int64_t *)v < fill)
            *(int64_t *)v = fill;
    tt_rrd_store_commit_wait(store);
    store_save_clock(store);
}

void tt_rrd_store_get_stats(tt_rrd_store *store, tt_rrd_store_stats *out)
{
    *out = store->st;
    out->pending = store->pending->len + (store->flying != NULL ? store->flying->lines->len : 0);
}

/* ---- life cycle --------------------------------------------------------- */

tt_rrd_store *tt_rrd_store_new(const char *rrd_dir, const tt_rrd_archives *archives,
                               const char *rrdcached, GError **error)
{
    g_return_val_if_fail(rrd_dir != NULL && archives != NULL, NULL);
    if (archives->step <= 0 || 3600 % archives->step != 0) {
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA,
                    "step %" G_GINT64_FORMAT " must divide 3600", archives->step);
        return NULL;
    }
    if (g_mkdir_with_parents(rrd_dir, 0755) != 0) {
        int saved = errno;
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_IO, "mkdir %s: %s", rrd_dir,
                    g_strerror(saved));
        return NULL;
    }
    tt_rrd_store *store = g_new0(tt_rrd_store, 1);
    store->retry = 1;
    store->dir = g_strdup(rrd_dir);
    for (gsize n = strlen(store->dir); n > 1 && store->dir[n - 1] == G_DIR_SEPARATOR; n--)
        store->dir[n - 1] = '\0'; /* store_abs adds one */
    store->archives = *archives;
    store->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    store->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    store->prev_mark = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    store->first_start = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    store->mark = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    store->pending = g_ptr_array_new_with_free_func(g_free);
    store->line = g_string_sized_new(256);
    store->queued = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (rrdcached != NULL) {
        store->cached = tt_cached_new(rrdcached);
        store->cached_id = tt_cached_identity(store->cached);
    }
    store_load_clock(store);
    store_load_index(store);
    store_load_journal(store); /* replayed by the first commit, on the writer thread */
    /* A local rrdcached that holds no file at all (started after our last end, or restarted:
     * what it held was written or lost) can hold updates of our files only from this run,
     * which the store tracks itself (only teitend writes DATA/rrd, under its lock): a first
     * touch then takes the file's own last update, without a LAST round trip each
     * (~130,000 for a port space). Not when a journal is replayed: its lines reach
     * rrdcached before some of their files are first touched. */
    guint64 nodes = 0;
    store->cached_empty = store->cached_id != NULL && !store->journal_open &&
                          tt_cached_stat(store->cached, "TreeNodesNumber", &nodes) && nodes == 0;
    return store;
}

void tt_rrd_store_free(tt_rrd_store *store)
{
    if (store == NULL)
        return;
    tt_rrd_store_sync(store);
    if (g_atomic_int_get(&store->abandoned)) {
        /* the stop's deadline: nothing more is sent, all of it is journaled */
    } else if (store->pending->len > 0 && store->cached != NULL) {
        /* one last try now, bypassing the back-off, with the short stop deadline */
        tt_rrd_store_stopping(store);
        store->retry_at = 0;
        tt_rrd_store_commit_wait(store);
    } else {
        tt_rrd_store_commit_wait(store);
    }
    if (store_write_journal(store))
        store_save_index(store);
    if (store->st.past > 0 || store->st.refused > 0)
        g_message("rrd: %" G_GUINT64_FORMAT " steps stored, %" G_GUINT64_FORMAT
                  " older than their file (rollups only), %" G_GUINT64_FORMAT " refused",
                  store->st.updates, store->st.past, store->st.refused);
    tt_cached_free(store->cached);
    g_ptr_array_unref(store->pending);
    g_string_free(store->line, TRUE);
    g_hash_table_unref(store->queued);
    g_hash_table_unref(store->files);
    g_hash_table_unref(store->known);
    g_free(store->cached_id);
    g_hash_table_unref(store->prev_mark);
    g_hash_table_unref(store->first_start);
    g_hash_table_unref(store->mark);
    g_free(store->dir);
    g_free(store);
}
