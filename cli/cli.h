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

int tt_cli_rank(int argc, char **argv);   /* cli/rank.c: quarterly rank tables (issue: rollups) */
int tt_cli_graph(int argc, char **argv);  /* cli/graph.c: RRD graphs (issue: RRD archives) */
int tt_cli_report(int argc, char **argv); /* cli/report.c: the quarterly report (issue: report) */
int tt_cli_stats(int argc, char **argv);  /* cli/main.c: print DATA/stats.json */

#endif
