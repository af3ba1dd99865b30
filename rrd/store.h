/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.h - teiten's RRD files: schema, create on first use, exact updates,
 * directly through librrd or through an rrdcached daemon.
 *
 * The store is the only writer of DATA/rrd. It runs on the writer thread
 * (every call but tt_rrd_store_new/free comes from writer jobs), so it takes
 * no lock. See store.c for the update protocol that makes idle steps read 0,
 * downtime read unknown and replays harmless, and docs/storage.md for the
 * operator's view.
 */
#ifndef TT_RRD_STORE_H
#define TT_RRD_STORE_H

#include <glib.h>
#include <stdint.h>

#include <teiten/plugin.h>

#include "archives.h"

#define TT_RRD_ERROR (tt_rrd_error_quark())
GQuark tt_rrd_error_quark(void);

typedef enum {
    TT_RRD_ERROR_LIBRRD, /* librrd refused (message from rrd_get_error) */
    TT_RRD_ERROR_SCHEMA, /* an existing file has another schema: never overwritten */
    TT_RRD_ERROR_IO,     /* file system */
    TT_RRD_ERROR_DAEMON, /* rrdcached unreachable or refused */
} tt_rrd_error;

/** Bytes a file of @a kind takes on disk with @a archives (measured layout, see docs). */
uint64_t tt_rrd_file_size(const tt_rrd_archives *archives, tt_rrd_kind kind);

/** Counters of the store, for logs, the self RRD and tests. */
typedef struct tt_rrd_store_stats {
    uint64_t updates;       /* steps stored */
    uint64_t past;          /* steps older than their file's last update: skipped */
    uint64_t refused;       /* steps lost: a file that cannot be written (schema, I/O), a line
                               librrd or rrdcached refused */
    uint64_t created;       /* files created */
    uint64_t unknown_gaps;  /* restart gaps written as U */
    uint64_t pending;       /* update lines not yet accepted (rrdcached down, or queued) */
    uint64_t daemon_errors; /* rrdcached connection failures and refused lines */
    uint64_t journaled;     /* lines written to the journal at the last stop */
    uint64_t reconnects;    /* times rrdcached answered again after being unreachable */
    uint64_t replayed;      /* journal lines found at start (replayed first) */
    uint64_t set_aside;     /* corrupt files renamed to NAME.corrupt-TIME and created anew */
    uint64_t saturated;     /* steps whose flows, packets or bytes were held at 2^53 */
    uint64_t indexed;       /* files whose rrdcached last update the last clean end's index gave */
    uint64_t unasked;       /* files first touched with no LAST: rrdcached held nothing at start */
} tt_rrd_store_stats;

/**
 * Data sources of the self RRD (self/collector.rrd), in the order
 * tt_rrd_store_update_self takes them. Counters (ABSOLUTE: the value of a
 * step is what happened since the previous self step) but for EXPORTERS and
 * WRITER_LAG (GAUGE). DROP_* follow collector/decode.h's tt_drop_reason.
 */
enum {
    TT_RRD_SELF_RECORDS,
    TT_RRD_SELF_OBSERVED,
    TT_RRD_SELF_LEAKS,
    TT_RRD_SELF_LATE,
    TT_RRD_SELF_DROP_FIRST, /* six drop reasons from here */
    TT_RRD_SELF_EXPORTERS = TT_RRD_SELF_DROP_FIRST + 6,
    TT_RRD_SELF_WRITER_LAG, /* closed steps queued and not yet written */
    TT_RRD_SELF_RRD_PAST,   /* steps skipped as already stored */
    TT_RRD_SELF_DS_COUNT
};

typedef struct tt_rrd_store tt_rrd_store;

/**
 * Open the store rooted at @a rrd_dir (created when missing). @a rrdcached
 * is NULL (librrd directly), "unix:/PATH" or "HOST:PORT". Replays the
 * journal left by a stop that could not finish. (transfer full)
 */
tt_rrd_store *tt_rrd_store_new(const char *rrd_dir, const tt_rrd_archives *archives,
                               const char *rrdcached, GError **error);
/** Push what is pending (bounded wait), journal the rest, close. NULL is a no-op. */
void tt_rrd_store_free(tt_rrd_store *store);

/** See tt_host.rrd_update. Writer thread only. */
gboolean tt_rrd_store_update(tt_rrd_store *store, tt_rrd_kind kind, const char *scope,
                             const char *path, int64_t start, int64_t end,
                             const tt_rrd_values *values, GError **error);
/**
 * Store one step of the self RRD (self/collector.rrd): @a n (TT_RRD_SELF_DS_COUNT)
 * values in the order of the TT_RRD_SELF_* indexes. The self file has its own
 * clock scope ("self" in .clock) and does not move the newest step that a
 * clean stop fills the other files to.
 */
gboolean tt_rrd_store_update_self(tt_rrd_store *store, int64_t start, int64_t end,
                                  const double *values, guint n, GError **error);
/**
 * A file that could not be created or written (a full disk, a refused update
 * line) is tried again STORE_CREATE_RETRY (10 s) later, opened afresh, when
 * @a retry (the default; live operation); never again in this process when
 * not (`--read`: a later step stored would make the refused one a past update
 * that the second read, which stores what the first could not, must skip).
 * Any thread.
 */
void tt_rrd_store_set_retry(tt_rrd_store *store, gboolean retry);
/**
 * With rrdcached and @a overlap (`--read`), a commit's BATCH is sent and answered
 * on a thread of its own while the writer goes on with its next jobs, so that
 * rrdcached's work on it (a first touch of each file: its rrd_open) overlaps
 * ours; one batch at a time, the lines queued meanwhile sent with the next
 * commit after its answer (tt_rrd_store_commit_wait, tt_rrd_store_sync: at once).
 * Without (the default; live), a commit waits for its answer.
 * Any thread.
 */
void tt_rrd_store_set_overlap(tt_rrd_store *store, gboolean overlap);
/**
 * Send the update lines queued so far (rrdcached: one BATCH; with overlap, after
 * the answer to the batch in flight). Writer thread.
 */
void tt_rrd_store_commit(tt_rrd_store *store);
/** Send everything queued and wait for rrdcached's answer to all of it. Writer thread. */
void tt_rrd_store_commit_wait(tt_rrd_store *store);
/** Wait for the batch in flight, if any, and take rrdcached's answer. Writer thread. */
void tt_rrd_store_sync(tt_rrd_store *store);
/**
 * Would a commit send at once? Nothing in flight, or rrdcached has answered the
 * batch in flight, and rrdcached is not in its back-off. Cheap: the writer asks
 * at each update once a batch's worth waits (collector/host.c). Writer thread.
 */
gboolean tt_rrd_store_sendable(const tt_rrd_store *store);
/** Is a batch in flight (sent by the sender thread, not yet answered)? Writer thread. */
gboolean tt_rrd_store_in_flight(const tt_rrd_store *store);
/** Lines queued, not yet sent (or kept while rrdcached is down). Writer thread. */
guint tt_rrd_store_queued(const tt_rrd_store *store);
/** Does the store send through rrdcached (lines batched) rather than librrd directly? */
gboolean tt_rrd_store_is_cached(const tt_rrd_store *store);
/**
 * The collector is stopping: from now on a hung rrdcached gets
 * TT_RRD_STOP_TIMEOUT_MS per wait instead of 30 s, so a stop with a stopped
 * daemon ends in seconds and journals what it could not send. Writer thread.
 */
void tt_rrd_store_stopping(tt_rrd_store *store);
#define TT_RRD_STOP_TIMEOUT_MS 3000
/**
 * The stop's deadline is near: end a wait on rrdcached in progress, send
 * nothing more; every update line queued or made from now on is journaled
 * by tt_rrd_store_free and replayed at the next start. Any thread (the core
 * calls it while the writer thread may be inside a job). NULL is a no-op.
 */
void tt_rrd_store_abandon(tt_rrd_store *store);
/** Was rrdcached's last answer a failure (unreachable, timed out)? Any thread. */
gboolean tt_rrd_store_is_down(tt_rrd_store *store);
/** See tt_host.rrd_finish; @a now is the host clock, seconds. */
void tt_rrd_store_finish(tt_rrd_store *store, int64_t now);
/** Copy the counters. Writer thread only (the store takes no lock). */
void tt_rrd_store_get_stats(tt_rrd_store *store, tt_rrd_store_stats *out);

/**
 * Create @a path (absolute) of @a kind, last update @a start, atomically and
 * never over an existing file (a temporary file published with link()).
 * Returns TRUE when the file exists afterwards, whoever created it;
 * *@a created says whether we did.
 */
gboolean tt_rrd_create_file(const char *path, tt_rrd_kind kind, const tt_rrd_archives *archives,
                            int64_t start, gboolean *created, GError **error);
/** Check that the existing @a path has the schema of @a kind; read its last update. */
gboolean tt_rrd_check_file(const char *path, tt_rrd_kind kind, const tt_rrd_archives *archives,
                           int64_t *last, GError **error);
/**
 * The two halves of tt_rrd_check_file, for the tests that hold them to each other:
 * the header read as librrd's on-disk structures (TRUE only for a file it can vouch
 * for), and librrd's rrd_info_r (the verdict, with the reason, for every other file).
 */
gboolean tt_rrd_check_header(const char *path, tt_rrd_kind kind, const tt_rrd_archives *archives,
                             int64_t *last);
gboolean tt_rrd_check_file_librrd(const char *path, tt_rrd_kind kind,
                                  const tt_rrd_archives *archives, int64_t *last, GError **error);

#endif
