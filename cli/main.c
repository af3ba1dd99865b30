/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - `teiten`, the command-line front end: dispatch to a subcommand.
 *
 * One binary, git-style subcommands, each in its own file with its own
 * GOptionContext; this file only chooses. Subcommands that are not built
 * yet are simply absent from the table, never stubbed.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef TT_VERSION
#define TT_VERSION "0"
#endif

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
#ifdef TT_CLI_HAVE_RANK
    {"rank", tt_cli_rank, "quarterly (or monthly, yearly) rank tables of ports and countries"},
#endif
#ifdef TT_CLI_HAVE_GRAPH
    {"graph", tt_cli_graph, "draw RRD graphs of ports, countries, sensors or the total"},
#endif
#ifdef TT_CLI_HAVE_REPORT
    {"report", tt_cli_report, "the quarterly report: static HTML, graphs, CSV/JSON/Markdown"},
#endif
    {"stats", tt_cli_stats, "the collector's self-statistics (DATA/stats.json) as tables"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: teiten COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(subcommands); i++)
        fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\n`teiten COMMAND --help` describes each command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("teiten %s\n", TT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(subcommands); i++) {
        if (strcmp(argv[1], subcommands[i].name) == 0) {
            g_autofree char *prg = g_strconcat("teiten ", subcommands[i].name, NULL);
            g_set_prgname(prg);
            return subcommands[i].run(argc - 1, argv + 1);
        }
    }
    const char *names[G_N_ELEMENTS(subcommands)];
    for (size_t i = 0; i < G_N_ELEMENTS(subcommands); i++)
        names[i] = subcommands[i].name;
    const char *near = tt_nearest(argv[1], names, G_N_ELEMENTS(names));
    if (near != NULL)
        tt_cli_error(NULL, "unknown command %s; did you mean %s? (see teiten --help)", argv[1],
                     near);
    else
        tt_cli_error(NULL, "unknown command %s (see teiten --help)", argv[1]);
    return 2;
}
