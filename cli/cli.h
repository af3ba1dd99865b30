/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.h - the `teiten` command's subcommands. Each lives in its own file and
 * takes the arguments after its name (argv[0] is the subcommand). Each returns
 * the process exit status: 0 success, 1 runtime failure, 2 usage error.
 * The CLI reads the RRD files, the rollup database and stats.json; it never
 * talks to the daemon.
 */
#ifndef TT_CLI_H
#define TT_CLI_H

#include <glib.h>

#include "nearest.h"

int tt_cli_rank(int argc, char **argv);   /* cli/rank.c: quarterly rank tables (issue: rollups) */
int tt_cli_graph(int argc, char **argv);  /* cli/graph.c: RRD graphs (issue: RRD archives) */
int tt_cli_report(int argc, char **argv); /* cli/report.c: the quarterly report (issue: report) */
int tt_cli_stats(int argc, char **argv);  /* cli/stats.c: DATA/stats.json as tables */

/* cli/graph.c: the graphs' Japanese words, shared with the report. (transfer full) */
char *tt_graph_vlabel_ja(const char *ds, int per); /* "パケット数 / 時" */
char *tt_graph_total_ja(const char *ds);           /* "合計 %.0lf パケット" */

/* cli/suggest.c: what the subcommands share about their command lines. */

/** Print "teiten CMD: MESSAGE" once, on stderr (@a cmd NULL: "teiten: MESSAGE"). */
void tt_cli_error(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/**
 * TRUE when @a value is one of @a choices (NULL-terminated); else prints one error
 * naming @a opt, the nearest choice and the valid ones, and returns FALSE.
 */
gboolean tt_cli_choice(const char *cmd, const char *opt, const char *value,
                       const char *const *choices);
/**
 * g_option_context_parse, with one error line on failure: an unknown option gets the
 * nearest option of @a groups (NULL-terminated list of entry arrays, hidden ones included).
 */
gboolean tt_cli_parse(GOptionContext *ctx, const char *cmd, const GOptionEntry *const *groups,
                      int *argc, char ***argv);

#endif
