/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * report.h - `teiten report`'s model: everything the page says, gathered once
 * from the rollup databases and the RRD files (cli/report.c), then rendered
 * (cli/report_html.c). The page never computes: it prints the model, so what
 * the HTML shows and what the CSV/JSON/Markdown files beside it hold come from
 * the same tt_rank_table values.
 */
#ifndef TT_REPORT_H
#define TT_REPORT_H

#include <glib.h>

#include "rank_table.h"

typedef struct report_sensor {
    char *name;
    tt_rank_table *ports; /* this sensor's top ports */
    guint64 records, leaks, late, coverage_min;
    guint days_heard;
    GPtrArray *outages; /* of char*: "2019-02-10" or "2019-02-10 – 2019-02-12" */
    GArray *sampling;   /* of tt_rollup_fact */
    tt_rank_counts cls[3];
    char *graph; /* PNG beside the page, or NULL */
} report_sensor;

typedef struct report_model {
    gboolean ja;
    tt_period_kind kind;
    const tt_rank_period *cur, *prev;
    const char *tz;
    const char *metric;
    tt_rank_counts all;
    tt_rank_counts cls[3]; /* scan, backscatter, other */
    double sources;        /* < 0 unknown */
    guint days_observed, days_in_period, n_sensors;
    tt_rank_table *ports, *countries;
    GPtrArray *sensors;                                /* of report_sensor* */
    GArray *geoip;                                     /* of tt_rollup_fact */
    GHashTable *notes;                                 /* rank key ("52869/tcp") -> note */
    char *ports_graph, *countries_graph, *total_graph; /* PNG names, or NULL */
    char **files; /* the tables' files beside the page, NULL-terminated */
} report_model;

/** The page of @a m. (transfer full) */
char *tt_report_html(const report_model *m);

#endif
