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
    {"stats", tt_cli_stats, "print the collector's self-statistics (DATA/stats.json)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: teiten COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(subcommands); i++)
        fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\n`teiten COMMAND --help` describes each command's options.\n");
}

int tt_cli_stats(int argc, char **argv)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) error = NULL;
    GOptionEntry entries[] = {
        {"data", 'd', 0, G_OPTION_ARG_FILENAME, &data, "the collector's data directory", "DIR"},
        G_OPTION_ENTRY_NULL};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- print DATA/stats.json");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || data == NULL) {
        g_printerr("teiten stats: %s\n", error != NULL ? error->message : "--data DIR is required");
        return 2;
    }
    g_autofree char *path = g_build_filename(data, "stats.json", NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error)) {
        g_printerr("teiten stats: %s\n", error->message);
        return 1;
    }
    fputs(text, stdout);
    return 0;
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
            g_set_prgname(subcommands[i].name);
            return subcommands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "teiten: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
}
