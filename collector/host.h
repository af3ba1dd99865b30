/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host.h - the services table handed to plugins (host.c).
 *
 * The core embeds one tt_services, starts it once its writer, store and
 * health exist, and gives plugins &services.host. The sensor facts and losses
 * are the core's: it hands them in as tt_host functions (tt_host_core_fns),
 * which find the core in tt_services.core.
 */
#ifndef TT_HOST_H
#define TT_HOST_H

#include <glib.h>
#include <teiten/plugin.h>

#include "config.h"
#include "store.h"
#include "writer.h"

typedef struct tt_health tt_health;

/** Jobs that could not store their data (tt_host.job_failed; RRD lines refused). */
typedef struct tt_core_failures {
    guint64 count;       /* failures reported */
    GPtrArray *messages; /* char *: the first TT_CORE_FAILURES_KEPT of them (owned) */
} tt_core_failures;
#define TT_CORE_FAILURES_KEPT 20
void tt_core_failures_clear(tt_core_failures *failures);

/** The core's part of the table. */
typedef struct tt_host_core_fns {
    uint32_t (*sensor_count)(const tt_host *host);
    const char *(*sensor_name)(const tt_host *host, uint32_t sensor);
    gboolean (*sensor_info)(const tt_host *host, uint32_t sensor, tt_sensor_info *info);
    void (*loss_foreach)(const tt_host *host, tt_loss_fn fn, void *data);
} tt_host_core_fns;

typedef struct tt_services {
    tt_host host;              /* given to plugins; host.ctx is this struct */
    void *core;                /* the core's functions' own context */
    tt_writer *writer;         /* borrowed */
    tt_rrd_store *rrd;         /* DATA/rrd, or NULL (--check-config); borrowed */
    tt_health *health;         /* borrowed */
    uint64_t writer_backlog;   /* `writer-backlog`, for the refusal warning */
    gboolean checking;         /* tt_host.checking */
    gboolean replay;           /* tt_host.replaying (tt_core_set_replay) */
    int64_t refusal_logged;    /* monotonic seconds of the last refusal warning; dispatch thread */
    uint64_t refusals_logged;  /* refused jobs already told in a warning */
    gint64 rrd_waiting_since;  /* monotonic µs: RRD lines wait since (writer thread); 0: none */
    GMutex fail_lock;          /* the job failures below; taken by the writer and stats threads */
    tt_core_failures failures; /* jobs that could not store their data (tt_host.job_failed) */
} tt_services;

/** The part a core that fails to start still frees: the failures. */
void tt_services_init(tt_services *sv, gboolean checking);
/** Fill the table and become the writer's idle callback (the RRD lines' timing). */
void tt_services_start(tt_services *sv, const tt_config *config, tt_writer *writer,
                       tt_rrd_store *rrd, tt_health *health, void *core,
                       const tt_host_core_fns *fns);
/** A reload: data-dir and timezone strings moved, writer-backlog may have changed. */
void tt_services_reconfigure(tt_services *sv, const tt_config *config);
/** After the writer is joined: hand the failures to *@a out (may be NULL) and free the rest. */
void tt_services_clear(tt_services *sv, tt_core_failures *out);
/** Failures reported so far (stats.json's store_failures). Any thread. */
guint64 tt_services_store_failures(tt_services *sv);

#endif
