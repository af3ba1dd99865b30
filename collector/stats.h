/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.h - the collector's self-statistics as one JSON document (stats.c).
 */
#ifndef TT_STATS_H
#define TT_STATS_H

#include <glib.h>
#include <stdint.h>

#include "counters.h"

/**
 * Build the stats document (JSON) from @a c, which needs its listeners_json
 * and listener_losses. (transfer full)
 */
char *tt_stats_json(const tt_counters *c);

/*
 * stats.json is written from two places. At the stop, as a writer job, so
 * that it lands after the jobs queued before it and its store counters tell
 * what they did. At most once a second from the tick, on the core
 * thread itself, because a writer busy with a step of 131 325 RRD updates would
 * otherwise leave it seconds stale exactly when an operator (or bench/run's
 * loss timeline) watches it. Every snapshot carries a sequence number and an
 * older one never replaces a newer one, so no counter on disk goes back.
 * Atomic (a temporary file renamed over it), not durable: GLib's CONSISTENT
 * mode fsyncs before the rename when the file exists, and a slow disk would
 * then hold the receiving thread (kernel drops) and make a --read of a year
 * wait for the disk; a write of a few KiB to the page cache costs
 * microseconds. After a crash the file may be older, never torn. The Prometheus
 * file (`prometheus-file`) follows the same rules, written right after stats.json
 * from the same document: node_exporter reads it whole or not at all, and exports
 * its mtime (node_textfile_mtime_seconds) for a staleness alert.
 */
typedef struct tt_stats_file {
    char *path;         /* DATA/stats.json */
    char *prom_path;    /* `prometheus-file` (prom.c), or NULL */
    int64_t started;    /* Unix time of tt_stats_file_init: the process's start */
    uint64_t seq;       /* documents numbered (core thread) */
    GMutex lock;        /* orders the writes of documents from two threads */
    uint64_t landed;    /* newest document on disk, under lock */
    gboolean prom_fail; /* the last write of prom_path failed (logged once), under lock */
    int64_t prom_at;    /* monotonic µs of its last write (0: none yet), under lock */
} tt_stats_file;

/*
 * The Prometheus file is rewritten at most every TT_PROM_EVERY_S seconds, and with the last
 * document (the stop's): node_exporter is scraped every 15-60 s, and with a thousand
 * exporters a rewrite costs ~30 ms of CPU on the thread that reads the sockets.
 */
#define TT_PROM_EVERY_S 10

/** One numbered document, for tt_stats_doc_write (a tt_job_fn) and tt_stats_doc_free. */
typedef struct tt_stats_doc tt_stats_doc;

/**
 * DATA/stats.json and, unless @a prom_path is NULL, its Prometheus text (prom.h) at
 * @a prom_path, written with it, from the same document.
 */
void tt_stats_file_init(tt_stats_file *file, const char *data_dir, const char *prom_path);
void tt_stats_file_clear(tt_stats_file *file);
/**
 * Number @a json (transfer full) for @a file, which must outlive it; @a last: the stop's
 * document (the Prometheus file is written with it, whenever the previous write was).
 * Core thread.
 */
tt_stats_doc *tt_stats_doc_new(tt_stats_file *file, char *json, gboolean last);
/** Write it unless a newer document landed already. Any thread. */
void tt_stats_doc_write(void *doc);
void tt_stats_doc_free(void *doc);

#endif
