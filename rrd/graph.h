/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * graph.h - draw teiten's RRD files with librrd's grapher (rrd_graph_v), and
 * say which plain `rrdtool graph` command draws the same picture.
 */
#ifndef TT_RRD_GRAPH_H
#define TT_RRD_GRAPH_H

#include <glib.h>
#include <stdint.h>

typedef struct tt_rrd_series {
    char *file;  /* absolute path of the .rrd */
    char *label; /* legend text, e.g. "23/TCP (telnet)" */
} tt_rrd_series;

typedef struct tt_rrd_graph_spec {
    const char *output; /* file to write */
    const char *format; /* "PNG" or "SVG" */
    int64_t start, end; /* epoch seconds */
    const char *ds;     /* "packets", "flows", "bytes" or "sources" */
    gboolean stacked;
    const char *title;
    int width, height;  /* of the plot area, pixels */
    const char *daemon; /* rrdcached address to flush through, or NULL */
    GPtrArray *series;  /* of tt_rrd_series* (transfer none) */
    /* rates are drawn per @a per seconds (3600: per hour, 86400: per day; 0 or 1: per second),
     * with no SI prefix on the axis (never "120 m") */
    int per;
    const char *vlabel;    /* the axis label, or NULL: "packets per hour" ... in English */
    const char *total_fmt; /* the legend's total, a printf format of one %%.0lf, or NULL */
} tt_rrd_graph_spec;

/** The rrdtool argv (without "rrdtool") that draws @a spec. (transfer full) */
GPtrArray *tt_rrd_graph_argv(const tt_rrd_graph_spec *spec);
/** Draw @a spec; *@a width / *@a height get the image size. */
gboolean tt_rrd_graph_draw(const tt_rrd_graph_spec *spec, int *width, int *height, GError **error);
/**
 * When @a spec->per is 0, set it from the data: 3600 (per hour) when the highest rate of
 * any series over the period reaches 10 an hour, else 86400 (per day).
 */
gboolean tt_rrd_graph_choose_per(tt_rrd_graph_spec *spec, GError **error);
/** A shell command line for @a argv, quoted. (transfer full) */
char *tt_rrd_graph_command(GPtrArray *argv);

#endif
