/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rank_table.h - one rank table (ports or countries over a period, with the
 * previous period's ranks), built from rollup databases and printed as
 * text, CSV, JSON or Markdown. Shared by `teiten rank` and `teiten report`
 * so that a published report and the rank command can never disagree:
 * both call tt_rank_table_build and tt_rank_table_format.
 */
#ifndef TT_RANK_TABLE_H
#define TT_RANK_TABLE_H

#include <glib.h>
#include <stdint.h>

#include "completeness.h"
#include "rollup_db.h"

typedef enum { TT_RANK_TEXT, TT_RANK_CSV, TT_RANK_JSON, TT_RANK_MD } tt_rank_format;
typedef enum { TT_PERIOD_QUARTER, TT_PERIOD_MONTH, TT_PERIOD_YEAR, TT_PERIOD_RANGE } tt_period_kind;

/** A range of local days, both included, and its label ("2019Q1"). */
typedef struct tt_rank_period {
    char from[11];
    char to[11];
    char *label;
} tt_rank_period;

typedef struct tt_rank_row {
    const char *key; /* (transfer none) owned by the table */
    tt_rank_counts c;
    guint64 value; /* the chosen metric */
    guint rank;
    guint prev_rank; /* 0: absent */
    double sources;  /* < 0: unknown */
} tt_rank_row;

/** What to rank; strings are borrowed for the table's life. */
typedef struct tt_rank_query {
    const char *by;     /* "port" or "country" */
    const char *metric; /* "packets", "flows" or "bytes" */
    const char *cls;    /* "scan", "backscatter", "other" or "all" */
    const char *sensor; /* NULL: every sensor */
    guint top;
} tt_rank_query;

typedef struct tt_rank_table {
    tt_rank_query q;
    tt_period_kind kind;
    const tt_rank_period *cur, *prev; /* (transfer none) */
    const char *tz;                   /* (transfer none) */
    guint64 total;                    /* the metric over everything in the period */
    double sources;                   /* distinct sources, < 0 unknown */
    GArray *rows;                     /* of tt_rank_row, the top N */
    GHashTable *sums;                 /* keeps the rows' keys alive */
    tt_completeness *complete;        /* losses counted in the period */
} tt_rank_table;

void tt_rank_period_clear(tt_rank_period *p);
/**
 * The seconds @a p covers: from local midnight of its first day to local midnight after its
 * last, in @a tz (an IANA zone; NULL or unknown: UTC). What `teiten rank` ranks, `teiten
 * report` draws and `teiten graph --quarter` draws are the same range.
 */
void tt_rank_period_range(const tt_rank_period *p, const char *tz, int64_t *start, int64_t *end);

/** The period options `teiten rank` and `teiten report` share. */
typedef struct {
    char *quarter, *month, *year, *from, *to;
} tt_period_opts;

/** Number of GOptionEntry tt_period_opts_entries() fills, its terminator included. */
#define TT_PERIOD_OPTS_ENTRIES 6

/** --quarter, --month, --year, --from and --to into @a p, then G_OPTION_ENTRY_NULL. */
void tt_period_opts_entries(tt_period_opts *p, GOptionEntry out[TT_PERIOD_OPTS_ENTRIES]);
/**
 * The period the options given name (exactly one of --quarter, --month, --year or
 * --from/--to), and the one before it. Labels in @a cur and @a prev are (transfer
 * full): free with tt_rank_period_clear.
 */
gboolean tt_period_opts_resolve(const tt_period_opts *p, tt_period_kind *kind, tt_rank_period *cur,
                                tt_rank_period *prev, GError **error);
void tt_period_opts_clear(tt_period_opts *p);

/**
 * Open every database of @a data (directories) and @a dbs (files); they must
 * cut days in one zone, and @a tz_assert (when not NULL) must be that zone.
 * *@a tz is borrowed from the first database. (transfer full: free the array)
 */
GPtrArray *tt_rank_open(char **data, char **dbs, const char *tz_assert, const char **tz,
                        GError **error);

/** Rank @a q over @a cur with previous ranks from @a prev. (transfer full) */
tt_rank_table *tt_rank_table_build(GPtrArray *dbs, const tt_rank_query *q, tt_period_kind kind,
                                   const tt_rank_period *cur, const tt_rank_period *prev,
                                   const char *tz, GError **error);
void tt_rank_table_free(tt_rank_table *t);

/** Append @a t in @a fmt to @a out; @a ja: Japanese headings and names. */
void tt_rank_table_format(const tt_rank_table *t, tt_rank_format fmt, gboolean ja, GString *out);

/** "23/TCP (telnet)", "ICMP" or a country's name. (transfer full) */
char *tt_rank_row_label(const char *by, const char *key, gboolean ja);
/** "up", "down", "same" or "new". (transfer none) */
const char *tt_rank_change_key(const tt_rank_row *r);
/** The change in the table's language. (transfer none) */
const char *tt_rank_change_word(const tt_rank_row *r, gboolean ja);
/** The heading of the previous-rank column for @a kind. (transfer none) */
const char *tt_rank_prev_heading(tt_period_kind kind, gboolean ja);
/** Share of @a row in the table's total, 0..1. */
double tt_rank_share(const tt_rank_table *t, const tt_rank_row *row);

#endif
