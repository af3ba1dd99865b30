/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.h - the collector's self-statistics as one JSON document (stats.c).
 */
#ifndef TT_STATS_H
#define TT_STATS_H

#include "counters.h"

/**
 * Build the stats document (JSON) from @a c, which needs its listeners_json
 * and listener_losses. (transfer full)
 */
char *tt_stats_json(const tt_counters *c);

#endif
