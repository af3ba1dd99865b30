/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rrd_private.h - what the files of rrd/ share among themselves: the schema
 * helpers of schema.c and the small rrdcached client of cached.c. Not
 * installed, not used outside rrd/.
 */
#ifndef TT_RRD_PRIVATE_H
#define TT_RRD_PRIVATE_H

#include "store.h"

/** Number of data sources of the self RRD. */
guint tt_rrd_self_ds_count(void);
/** The rrdcached CREATE command for @a path (no overwrite). (transfer full) */
char *tt_rrd_create_line(const char *path, tt_rrd_kind kind, const tt_rrd_archives *a,
                         int64_t start);
/** rrd_updatex_r(@a path, RRD_SKIP_PAST_UPDATES, @a values). */
gboolean tt_rrd_update_direct(const char *path, char **values, int n, GError **error);

/* ---- cached.c: rrdcached's text protocol over our own socket ---- */
typedef struct tt_cached tt_cached;
/** @a addr is "unix:/PATH" or "HOST:PORT"; nothing is connected yet. (transfer full) */
tt_cached *tt_cached_new(const char *addr);
void tt_cached_free(tt_cached *c);
/** Deadline of every wait for the socket (default 30 s). */
void tt_cached_set_timeout(tt_cached *c, int ms);
/** Make every wait, current or later, fail at once. Any thread. */
void tt_cached_abort(tt_cached *c);
gboolean tt_cached_is_remote(const tt_cached *c);
/**
 * One command; returns rrdcached's status (< 0 is an error) and, when
 * @a reply is not NULL, the status line's message. FALSE on a broken connection.
 */
gboolean tt_cached_command(tt_cached *c, const char *line, int *status, char **reply,
                           GError **error);
/**
 * Send @a lines (commands without newline) as one BATCH. FALSE on a broken
 * connection (nothing can be assumed applied); otherwise *@a failed lists the
 * 0-based index and message of every refused line ("N message"). (transfer full)
 */
gboolean tt_cached_batch(tt_cached *c, GPtrArray *lines, GPtrArray **failed, GError **error);
/**
 * The local rrdcached process at the other end of the socket, "PID:STARTTIME"
 * (SO_PEERCRED, and /proc/PID/stat's start time against a reused PID); NULL
 * when remote, unreachable, or not visible (another PID namespace). Connects
 * if needed. Two equal answers mean the same process, so nothing it held
 * in memory was lost in between. (transfer full)
 */
char *tt_cached_identity(tt_cached *c);
/** One counter of rrdcached's STATS (e.g. "TreeNodesNumber"); FALSE when it cannot say. */
gboolean tt_cached_stat(tt_cached *c, const char *name, guint64 *value);

#endif
