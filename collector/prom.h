/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prom.h - the self-statistics in Prometheus' text format (prom.c), for
 * node_exporter's textfile collector.
 */
#ifndef TT_PROM_H
#define TT_PROM_H

#include <glib.h>
#include <stdint.h>

/**
 * The Prometheus text exposition (format 0.0.4) of the stats document @a json
 * (tt_stats_json's), with the process's start time @a started (epoch seconds)
 * and the build's @a version. NULL with @a error when @a json does not parse.
 * (transfer full)
 */
char *tt_prom_text(const char *json, int64_t started, const char *version, GError **error);

#endif
