/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger.h - the ingest ledger: which files `teitend --read` has read.
 *
 * DATA/ingest-ledger.ini (a GLib key file, one group per file, keyed by the
 * XXH3-128 of its contents; SHA-256 in ledgers written before) records every file `--read` started:
 * path, size, sensor, state (`reading`, then `done` once every store holds it), start and finish
 * times, and the files read in the same run (the batch: they form one stream, so a resume must
 * replay them together). A file already `done` is refused (unless --force); a file left `reading`
 * by a crash is read again in replay mode, where each store skips what it already holds (RRD steps
 * already stored, rollup buckets already committed), so the file counts exactly once.
 *
 * The ledger does not hold a resume offset of its own: the stores commit on
 * another thread and know exactly what they hold, and a second record of it
 * could only disagree with them after a crash. The file is rewritten
 * atomically and durably (temporary file, fsync, rename); a lock file keeps
 * two `--read` runs on one data directory apart. No SQLite here: the
 * collector never links it.
 */
#ifndef TT_LEDGER_H
#define TT_LEDGER_H

#include <glib.h>
#include <stdint.h>

#define TT_LEDGER_ERROR (tt_ledger_error_quark())
GQuark tt_ledger_error_quark(void);

typedef enum {
    TT_LEDGER_ERROR_FILE,  /* the ledger or an input file cannot be read or written */
    TT_LEDGER_ERROR_MIXED, /* new files and files to re-read in one run */
    TT_LEDGER_ERROR_BATCH, /* a crashed run resumed with other files */
} tt_ledger_error;

typedef enum {
    TT_LEDGER_NEW = 0, /* never read */
    TT_LEDGER_READING, /* a run started it and did not finish: it crashed or was killed */
    TT_LEDGER_DONE,    /* read whole; every store holds it */
} tt_ledger_state;

/** One input file, as found on disk and in the ledger. */
typedef struct tt_ledger_file {
    /* the ledger id: "xxh3:" and the XXH3-128 of the contents in 32 lower-case hex digits,
     * or (a file of an older ledger) "sha256:" and the SHA-256 in 64 */
    char digest[sizeof "sha256:" + 64];
    guint64 size;
    char *path;            /* as given (made absolute) */
    tt_ledger_state state; /* in the ledger when looked up */
    char *sensor;          /* the ledger's: the sensor it was read for, or NULL */
    char *started;         /* the ledger's: ISO 8601 UTC, or NULL */
    char *finished;        /* the ledger's, or NULL */
    char *read_error;      /* set by the caller: why the read stopped early, or NULL */
} tt_ledger_file;

typedef struct tt_ledger tt_ledger;

/**
 * Open (creating) DATA/ingest-ledger.ini. The caller holds the data
 * directory's lock (main.c, DATA/teitend.lock): one process writes the
 * ledger at a time. (transfer full)
 */
tt_ledger *tt_ledger_open(const char *data_dir, GError **error);
/** Release the lock. NULL is a no-op. */
void tt_ledger_free(tt_ledger *ledger);

/** What one run of `--read` will do, decided by tt_ledger_plan(). */
typedef struct tt_ledger_plan {
    GPtrArray *read;    /* tt_ledger_file *, to read in this order (owned) */
    GPtrArray *refused; /* char *: one message per file not read (owned) */
    gboolean replay;    /* re-reading: the stores skip what they hold */
    gboolean failed;    /* a file could not be digested (its message is in refused) */
} tt_ledger_plan;

/**
 * Digest @a paths and decide: new files are read; a `done` file is refused
 * (with a message naming it and when it was read) unless @a force, which
 * re-reads it in replay mode; `reading` files (a crash) are re-read in replay
 * mode and must come with the rest of their batch, in its order (unless
 * @a force). New files cannot share a run with re-read ones (their share of a
 * bucket the stores already hold would be skipped): TT_LEDGER_ERROR_MIXED.
 * Returns FALSE (nothing to be read) on those run-wide errors.
 */
gboolean tt_ledger_plan_new(tt_ledger *ledger, char **paths, gboolean force, tt_ledger_plan *plan,
                            GError **error);
void tt_ledger_plan_clear(tt_ledger_plan *plan);

/** Mark every file of @a plan `reading` (one batch, for @a sensor) and save. */
gboolean tt_ledger_begin(tt_ledger *ledger, const tt_ledger_plan *plan, const char *sensor,
                         GError **error);
/**
 * Mark every file of @a plan `done` and save durably. Call only after every
 * store has the files: after tt_core_close_all() and tt_core_free() (which
 * runs and joins the writer and closes the stores). @a closed_until (epoch
 * seconds, or INT64_MIN) is recorded as the end of the newest bucket closed.
 */
gboolean tt_ledger_finish(tt_ledger *ledger, const tt_ledger_plan *plan, int64_t closed_until,
                          GError **error);

/**
 * A store failed while @a plan's files were read (tt_host.job_failed): leave
 * every file of the run `reading`, with @a why and the time in the ledger, so
 * the next `--read` of the same files (the same batch, in its order) replays
 * them: each store skips what it holds and stores what is missing. Call after
 * tt_core_free_failures(), as tt_ledger_finish.
 */
gboolean tt_ledger_fail(tt_ledger *ledger, const tt_ledger_plan *plan, const char *why,
                        GError **error);

#endif
