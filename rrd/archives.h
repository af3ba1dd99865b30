/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * archives.h - the RRD archive layout (`[collector] rrd-archives`): the type,
 * its default and its parser. Apart from store.h so that the configuration
 * (collector/config.h) can hold a layout without pulling in the whole store.
 */
#ifndef TT_RRD_ARCHIVES_H
#define TT_RRD_ARCHIVES_H

#include <glib.h>
#include <stdint.h>

/** Most archives (consolidation resolutions) a layout may have. */
#define TT_RRD_ARCHIVES_MAX 8

/**
 * Archive layout of the files: `[collector] rrd-archives` (DESIGN.md §3), by
 * default 1 step for 2 days, 1 hour for 90 days, 1 day for 3 years. Every
 * resolution gets an AVERAGE archive; those coarser than the step also get a
 * MAX archive in total, country, sensor and self files.
 */
typedef struct tt_rrd_archives {
    int64_t step; /* seconds */
    guint n;      /* archives in use, 1..TT_RRD_ARCHIVES_MAX, finest first */
    struct {
        uint32_t steps; /* steps per row: resolution / step */
        uint32_t rows;  /* rows kept: ceil(retention / resolution) */
    } rra[TT_RRD_ARCHIVES_MAX];
} tt_rrd_archives;

/** The default archives for @a step (which must divide 3600). */
tt_rrd_archives tt_rrd_archives_default(int64_t step);
/**
 * Parse "RES:KEEP; RES:KEEP; ..." for @a step: RES a resolution, KEEP how
 * long it is kept; both a number of seconds or a number with s, m, h, d, w or
 * y (365.25 days), and RES may be the word `step`. Each RES must be a multiple
 * of @a step, KEEP at least RES; resolutions distinct; sorted finest first.
 * The message of *@a error says what is wrong, without file/group/key.
 */
gboolean tt_rrd_archives_parse(const char *text, int64_t step, tt_rrd_archives *out,
                               GError **error);
/** Seconds the longest-kept archive covers. */
int64_t tt_rrd_archives_span(const tt_rrd_archives *archives);

#endif
