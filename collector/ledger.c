/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger.c - the ingest ledger of `teitend --read` (see ledger.h).
 *
 * A file is known by a hash of its contents, not by its name: a renamed or
 * copied capture is still the same data, and a file rewritten in place is new
 * data. The hash is XXH3-128 (libxxhash), at memory speed: issue 14's bar is
 * measured by `bench/micro/run --records 20000` (callgrind, instructions per
 * record on the dispatch thread, at most 2,500), and under callgrind OpenSSL's
 * SHA-256 cannot use the CPU's SHA instructions: it was 34.7 M of the dispatch
 * thread's 94.6 M instructions with every plugin, 1,737 a record (GLib's
 * GChecksum before it ~2,800); XXH3-128 is 1.16 M, 58 a record. On top of
 * 2832e29 the thread went from 4,143 to 2,467 with every plugin (jsonl alone
 * 3,057 -> 1,377), under the bar. Natively, over 256 MB
 * in memory at load ~7: SHA-256 0.75 GB/s, XXH3-128 6-7 GB/s. 128 bits, not
 * XXH3's 64: accidental collisions stay out of reach for any archive.
 *
 * XXH3 is not collision resistant, and the ledger does not need it to be: it
 * decides only whether a file is read, never what is counted. The attack:
 * someone able to place files in the operator's backfill archive crafts a file
 * with the XXH3-128 of a file already read (or of another file of the same
 * run); `--read` then refuses it as "already read whole" (or "same contents
 * as"), naming the earlier file's path, so its records are not counted until
 * the operator looks. `--force` reads it anyway, in replay mode, where each
 * store skips the buckets it holds: nothing is ever counted twice; a crafted
 * file's records in buckets the stores already hold are skipped, as for any
 * re-read. Someone who can write the archive can already change what is
 * counted by changing the captures; the ledger trusts the archive exactly as
 * far as the decoder does (docs/security.md, "The ingest ledger's hash").
 *
 * Ledgers written before (SHA-256, `[sha256:HEX]` groups, batches of bare hex
 * digests) still read: a bare batch item is a legacy SHA-256 id, and when the
 * ledger holds any `sha256:` group at open, each file given is hashed with
 * SHA-256 too (OpenSSL, the CPU's SHA extensions: a cost paid only on
 * installs with old ledgers). A file found under its legacy group keeps that
 * id for its whole life (states, batch, resume, --force); any other file is
 * new under xxh3. Batches are written as ids with their prefix. One key-file
 * group per id:
 *
 *   [xxh3:a1b2c3...]
 *   path=/archive/2019-01-02.ipfix
 *   size=1048576
 *   sensor=tokyo-1
 *   state=done
 *   started=2024-05-01T10:00:00Z
 *   finished=2024-05-01T10:00:12Z
 *   batch=xxh3:a1b2c3...;xxh3:9f86d0...;
 *   reads=1
 *   buckets-until=2019-01-03T00:00:00Z
 *
 * A run during which a store failed (a rolled-back rollup transaction, a
 * refused RRD update, a short jsonl write: tt_host.job_failed) leaves its
 * files `reading`, with `store-error` (the first failure) and `failed` (when):
 * the next run of the same batch is a resume, in replay mode, so what the
 * stores did commit is skipped and what they lack is stored. Every file of
 * the run is kept out, not only those whose records reached the failed
 * bucket: a bucket spans files, late records ride in a later bucket's commit
 * (rollup), and replay is exact only for the same stream (docs/operations.md).
 *
 * The whole file is rewritten on every change (temporary file, fsync, rename:
 * GLib's CONSISTENT | DURABLE), twice per run; it grows by one short group
 * per file ever read, which stays small next to the stores. Rejected: one
 * file per digest under DATA/ledger/ (a batch spans files, and its states
 * must change together) and SQLite (the collector does not link it).
 */
#include "ledger.h"
#include "populate.h"

#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>
#include <xxhash.h>

#define LEDGER_NAME "ingest-ledger.ini"
#define LEDGER_XXH3 "xxh3:"     /* the id of a file: this and XXH3-128, 32 hex digits */
#define LEDGER_SHA256 "sha256:" /* a legacy id: this and SHA-256, 64 hex digits */

G_DEFINE_QUARK(tt_ledger_error_quark, tt_ledger_error)

struct tt_ledger {
    char *path; /* DATA/ingest-ledger.ini */
    GKeyFile *kf;
    gboolean legacy; /* holds a `sha256:` group: files given are looked up under SHA-256 too */
};

static const char *const state_names[] = {"new", "reading", "done"};

tt_ledger *tt_ledger_open(const char *data_dir, GError **error)
{
    g_return_val_if_fail(data_dir != NULL, NULL);
    tt_ledger *ledger = g_new0(tt_ledger, 1);
    ledger->path = g_build_filename(data_dir, LEDGER_NAME, NULL);
    ledger->kf = g_key_file_new();
    g_key_file_set_list_separator(ledger->kf, ';');
    GError *local = NULL;
    if (!g_key_file_load_from_file(ledger->kf, ledger->path, G_KEY_FILE_KEEP_COMMENTS, &local) &&
        !g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        /* never start over silently: that would read every file again */
        g_set_error(error, TT_LEDGER_ERROR, TT_LEDGER_ERROR_FILE,
                    "%s: %s (repair it or move it away; without it every file counts as new)",
                    ledger->path, local->message);
        g_error_free(local);
        tt_ledger_free(ledger);
        return NULL;
    }
    g_clear_error(&local);
    g_auto(GStrv) groups = g_key_file_get_groups(ledger->kf, NULL);
    for (char **g = groups; *g != NULL && !ledger->legacy; g++)
        ledger->legacy = g_str_has_prefix(*g, LEDGER_SHA256);
    return ledger;
}

void tt_ledger_free(tt_ledger *ledger)
{
    if (ledger == NULL)
        return;
    if (ledger->kf != NULL)
        g_key_file_free(ledger->kf);
    g_free(ledger->path);
    g_free(ledger);
}

static void ledger_file_free(gpointer p)
{
    tt_ledger_file *f = p;
    g_free(f->path);
    g_free(f->sensor);
    g_free(f->started);
    g_free(f->finished);
    g_free(f->read_error);
    g_free(f);
}

/* The ledger id of a batch item: "xxh3:HEX" or "sha256:HEX" as is; a bare hex
 * digest (batches written before the ids had a prefix) is a legacy SHA-256. (transfer full) */
static char *ledger_batch_id(const char *item)
{
    return strchr(item, ':') != NULL ? g_strdup(item) : g_strconcat(LEDGER_SHA256, item, NULL);
}

/* "xxh3 HEX" or "sha256 HEX", for messages. (transfer full) */
static char *ledger_id_words(const char *id)
{
    char *s = g_strdup(id);
    char *colon = strchr(s, ':');
    if (colon != NULL)
        *colon = ' ';
    return s;
}

static void ledger_hex(char *out, const unsigned char *bytes, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

static char *ledger_now(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

static gboolean ledger_save(tt_ledger *ledger, GError **error)
{
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(ledger->kf, &len, NULL);
    if (!g_file_set_contents_full(ledger->path, data, (gssize)len,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0644, error)) {
        g_prefix_error(error, "ingest ledger: ");
        return FALSE;
    }
    return TRUE;
}

/*
 * Id and size of @a path, the file's ledger record filled in. On a ledger
 * with legacy groups, a file found under its SHA-256 keeps that id; every
 * other file is known by its XXH3-128. (transfer full)
 */
static tt_ledger_file *ledger_lookup(tt_ledger *ledger, const char *path, GError **error)
{
    g_autoptr(GMappedFile) map = g_mapped_file_new(path, FALSE, error);
    if (map == NULL)
        return NULL;
    gsize size = g_mapped_file_get_length(map);
    /* an empty file maps to NULL contents; OpenSSL and xxHash take NULL with a 0 length */
    const char *data = g_mapped_file_get_contents(map);
    tt_map_populate((void *)data, size);
    char hex[2 * 32 + 1];
    tt_ledger_file *f = g_new0(tt_ledger_file, 1);
    f->size = size;
    if (ledger->legacy) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;
        if (EVP_Digest(data, size, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: SHA-256 failed (OpenSSL)",
                        path);
            g_free(f);
            return NULL;
        }
        ledger_hex(hex, md, 32);
        g_snprintf(f->digest, sizeof f->digest, LEDGER_SHA256 "%s", hex);
    }
    if (!ledger->legacy || !g_key_file_has_group(ledger->kf, f->digest)) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits(data, size));
        ledger_hex(hex, c.digest, sizeof c.digest);
        g_snprintf(f->digest, sizeof f->digest, LEDGER_XXH3 "%s", hex);
    }
    f->path = g_canonicalize_filename(path, NULL);

    const char *group = f->digest;
    if (!g_key_file_has_group(ledger->kf, group))
        return f;
    g_autofree char *state = g_key_file_get_string(ledger->kf, group, "state", NULL);
    /* anything but a clean `done` is treated as unfinished: a re-read is always safe */
    f->state = g_strcmp0(state, "done") == 0 ? TT_LEDGER_DONE : TT_LEDGER_READING;
    f->sensor = g_key_file_get_string(ledger->kf, group, "sensor", NULL);
    f->started = g_key_file_get_string(ledger->kf, group, "started", NULL);
    f->finished = g_key_file_get_string(ledger->kf, group, "finished", NULL);
    return f;
}

/* "a.ipfix b.ipfix" for the ids of a batch, as the ledger names them. */
static char *ledger_batch_paths(tt_ledger *ledger, char **batch)
{
    GString *s = g_string_new(NULL);
    for (char **d = batch; d != NULL && *d != NULL; d++) {
        g_autofree char *group = ledger_batch_id(*d);
        g_autofree char *path = g_key_file_get_string(ledger->kf, group, "path", NULL);
        g_string_append_printf(s, "%s%s", s->len > 0 ? " " : "", path != NULL ? path : *d);
    }
    return g_string_free(s, FALSE);
}

/* Is @a batch (the ledger's) exactly the ids of @a files, in order? */
static gboolean ledger_same_batch(char **batch, GPtrArray *files)
{
    if (batch == NULL || g_strv_length(batch) != files->len)
        return FALSE;
    for (guint i = 0; i < files->len; i++) {
        const tt_ledger_file *f = g_ptr_array_index(files, i);
        g_autofree char *id = ledger_batch_id(batch[i]);
        if (strcmp(id, f->digest) != 0)
            return FALSE;
    }
    return TRUE;
}

gboolean tt_ledger_plan_new(tt_ledger *ledger, char **paths, gboolean force, tt_ledger_plan *plan,
                            GError **error)
{
    g_return_val_if_fail(ledger != NULL && paths != NULL && plan != NULL, FALSE);
    memset(plan, 0, sizeof *plan);
    plan->read = g_ptr_array_new_with_free_func(ledger_file_free);
    plan->refused = g_ptr_array_new_with_free_func(g_free);
    const tt_ledger_file *first_new = NULL, *first_again = NULL;

    for (char **p = paths; *p != NULL; p++) {
        GError *local = NULL;
        tt_ledger_file *f = ledger_lookup(ledger, *p, &local);
        if (f == NULL) {
            g_ptr_array_add(plan->refused, g_strdup(local->message));
            g_error_free(local);
            plan->failed = TRUE;
            continue;
        }
        const tt_ledger_file *twin = NULL;
        for (guint i = 0; i < plan->read->len && twin == NULL; i++) {
            const tt_ledger_file *o = g_ptr_array_index(plan->read, i);
            if (strcmp(o->digest, f->digest) == 0)
                twin = o;
        }
        if (twin != NULL) {
            g_ptr_array_add(plan->refused,
                            g_strdup_printf("%s: not read: same contents as %s, given before it",
                                            f->path, twin->path));
            ledger_file_free(f);
            continue;
        }
        if (f->state == TT_LEDGER_DONE && !force) {
            g_autofree char *id = ledger_id_words(f->digest);
            g_ptr_array_add(
                plan->refused,
                g_strdup_printf("%s: not read: already read whole (finished %s, sensor %s, %s); "
                                "--force reads it again, counting only what the stores lack",
                                f->path, f->finished != NULL ? f->finished : "?",
                                f->sensor != NULL ? f->sensor : "?", id));
            ledger_file_free(f);
            continue;
        }
        if (f->state == TT_LEDGER_NEW) {
            if (first_new == NULL)
                first_new = f;
        } else if (first_again == NULL) {
            first_again = f;
        }
        g_ptr_array_add(plan->read, f);
    }

    if (first_new != NULL && first_again != NULL) {
        g_set_error(error, TT_LEDGER_ERROR, TT_LEDGER_ERROR_MIXED,
                    "%s is new and %s is read again (%s); read new files in a run of their own: "
                    "a re-read skips every bucket the stores already hold, and with it a new "
                    "file's share of such a bucket",
                    first_new->path, first_again->path,
                    first_again->state == TT_LEDGER_DONE ? "--force" : "a run that stopped early");
        goto err_clear;
    }
    plan->replay = first_again != NULL;
    for (guint i = 0; i < plan->read->len && !force; i++) {
        const tt_ledger_file *f = g_ptr_array_index(plan->read, i);
        if (f->state != TT_LEDGER_READING)
            continue;
        const char *group = f->digest;
        g_auto(GStrv) batch = g_key_file_get_string_list(ledger->kf, group, "batch", NULL, NULL);
        if (ledger_same_batch(batch, plan->read))
            continue;
        /* buckets spanning two files of the batch hold both: resume the same stream */
        g_autofree char *names = ledger_batch_paths(ledger, batch);
        g_autofree char *failed = g_key_file_get_string(ledger->kf, group, "store-error", NULL);
        g_autofree char *why = failed != NULL
                                   ? g_strdup_printf("could not store all of it (%s)", failed)
                                   : g_strdup("stopped while reading it");
        g_set_error(error, TT_LEDGER_ERROR, TT_LEDGER_ERROR_BATCH,
                    "%s: a run that started %s %s with: %s; read exactly "
                    "those files again, in that order, in one run (or --force)",
                    f->path, f->started != NULL ? f->started : "?", why, names);
        goto err_clear;
    }
    return TRUE;

err_clear:
    tt_ledger_plan_clear(plan);
    return FALSE;
}

void tt_ledger_plan_clear(tt_ledger_plan *plan)
{
    if (plan->read != NULL)
        g_ptr_array_free(plan->read, TRUE);
    if (plan->refused != NULL)
        g_ptr_array_free(plan->refused, TRUE);
    memset(plan, 0, sizeof *plan);
}

gboolean tt_ledger_begin(tt_ledger *ledger, const tt_ledger_plan *plan, const char *sensor,
                         GError **error)
{
    g_return_val_if_fail(ledger != NULL && plan != NULL, FALSE);
    g_autofree char *now = ledger_now();
    g_autofree const char **batch = g_new0(const char *, plan->read->len + 1);
    for (guint i = 0; i < plan->read->len; i++)
        batch[i] = ((const tt_ledger_file *)g_ptr_array_index(plan->read, i))->digest;
    for (guint i = 0; i < plan->read->len; i++) {
        const tt_ledger_file *f = g_ptr_array_index(plan->read, i);
        const char *group = f->digest;
        GKeyFile *kf = ledger->kf;
        gint64 reads = g_key_file_get_int64(kf, group, "reads", NULL);
        g_key_file_set_string(kf, group, "path", f->path);
        g_key_file_set_uint64(kf, group, "size", f->size);
        g_key_file_set_string(kf, group, "sensor", sensor);
        g_key_file_set_string(kf, group, "state", state_names[TT_LEDGER_READING]);
        g_key_file_set_string(kf, group, "started", now);
        g_key_file_remove_key(kf, group, "finished", NULL);
        g_key_file_remove_key(kf, group, "error", NULL);
        g_key_file_remove_key(kf, group, "store-error", NULL);
        g_key_file_remove_key(kf, group, "failed", NULL);
        g_key_file_set_string_list(kf, group, "batch", batch, plan->read->len);
        g_key_file_set_int64(kf, group, "reads", reads + 1);
    }
    return ledger_save(ledger, error);
}

gboolean tt_ledger_finish(tt_ledger *ledger, const tt_ledger_plan *plan, int64_t closed_until,
                          GError **error)
{
    g_return_val_if_fail(ledger != NULL && plan != NULL, FALSE);
    g_autofree char *now = ledger_now();
    g_autofree char *until = NULL;
    if (closed_until != INT64_MIN) {
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(closed_until);
        if (t != NULL)
            until = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
    }
    for (guint i = 0; i < plan->read->len; i++) {
        const tt_ledger_file *f = g_ptr_array_index(plan->read, i);
        const char *group = f->digest;
        g_key_file_set_string(ledger->kf, group, "state", state_names[TT_LEDGER_DONE]);
        g_key_file_set_string(ledger->kf, group, "finished", now);
        /* a file that stops being IPFIX counted up to there: re-reading it adds nothing */
        if (f->read_error != NULL)
            g_key_file_set_string(ledger->kf, group, "error", f->read_error);
        if (until != NULL)
            g_key_file_set_string(ledger->kf, group, "buckets-until", until);
    }
    return ledger_save(ledger, error);
}

gboolean tt_ledger_fail(tt_ledger *ledger, const tt_ledger_plan *plan, const char *why,
                        GError **error)
{
    g_return_val_if_fail(ledger != NULL && plan != NULL && why != NULL, FALSE);
    g_autofree char *now = ledger_now();
    for (guint i = 0; i < plan->read->len; i++) {
        const tt_ledger_file *f = g_ptr_array_index(plan->read, i);
        const char *group = f->digest;
        g_key_file_set_string(ledger->kf, group, "state", state_names[TT_LEDGER_READING]);
        g_key_file_set_string(ledger->kf, group, "failed", now);
        g_key_file_set_string(ledger->kf, group, "store-error", why);
        if (f->read_error != NULL)
            g_key_file_set_string(ledger->kf, group, "error", f->read_error);
    }
    return ledger_save(ledger, error);
}
