/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suggest.c - what the `teiten` subcommands share about their command lines:
 * the nearest valid name for a mistyped one, one-line errors that name what
 * is wrong, and option parsing that turns GOption's "Unknown option" into a
 * suggestion.
 *
 * The nearest name is common/nearest.c's (teitend suggests plugin names with
 * it too). Rejected: printing every valid name on each error (the short
 * lists are printed; the long ones, sensors and services, only the nearest).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void tt_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (cmd != NULL)
        fprintf(stderr, "teiten %s: %s\n", cmd, msg);
    else
        fprintf(stderr, "teiten: %s\n", msg);
}

/* "a, b or c" */
static char *choice_list(const char *const *choices)
{
    GString *s = g_string_new(NULL);
    guint n = g_strv_length((char **)choices);
    for (guint i = 0; i < n; i++)
        g_string_append_printf(s, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", choices[i]);
    return g_string_free(s, FALSE);
}

gboolean tt_cli_choice(const char *cmd, const char *opt, const char *value,
                       const char *const *choices)
{
    for (guint i = 0; choices[i] != NULL; i++)
        if (strcmp(value, choices[i]) == 0)
            return TRUE;
    g_autofree char *list = choice_list(choices);
    const char *near = tt_nearest(value, choices, -1);
    if (near != NULL)
        tt_cli_error(cmd, "%s %s: unknown; did you mean %s? (valid: %s)", opt, value, near, list);
    else
        tt_cli_error(cmd, "%s %s: unknown; valid: %s", opt, value, list);
    return FALSE;
}

/* The option a hidden alias stands for: the visible entry that sets the same variable. */
static const GOptionEntry *option_visible(const GOptionEntry *const *groups, const GOptionEntry *e)
{
    if ((e->flags & G_OPTION_FLAG_HIDDEN) == 0)
        return e;
    for (; *groups != NULL; groups++)
        for (const GOptionEntry *v = *groups; v->long_name != NULL; v++)
            if (v->arg_data == e->arg_data && (v->flags & G_OPTION_FLAG_HIDDEN) == 0)
                return v;
    return e;
}

/*
 * The long names of @a groups' entries, hidden aliases included (a typo of an old spelling is
 * still found), each as "--name"; @a canon gets the visible spelling to suggest for each.
 */
static GPtrArray *option_names(const GOptionEntry *const *groups, GPtrArray *canon)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (const GOptionEntry *const *g = groups; *g != NULL; g++) {
        for (const GOptionEntry *e = *g; e->long_name != NULL; e++) {
            g_ptr_array_add(names, g_strconcat("--", e->long_name, NULL));
            g_ptr_array_add(canon, g_strconcat("--", option_visible(groups, e)->long_name, NULL));
        }
    }
    g_ptr_array_add(names, g_strdup("--help"));
    g_ptr_array_add(canon, g_strdup("--help"));
    return names;
}

gboolean tt_cli_parse(GOptionContext *ctx, const char *cmd, const GOptionEntry *const *groups,
                      int *argc, char ***argv)
{
    g_autoptr(GError) error = NULL;
    if (g_option_context_parse(ctx, argc, argv, &error))
        return TRUE;
    /* GLib: "Unknown option --data-dri" */
    const char *unknown = NULL;
    if (g_error_matches(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION))
        unknown = strstr(error->message, "--");
    if (unknown != NULL) {
        g_autofree char *word = g_strdup(unknown);
        char *eq = strchr(word, '=');
        if (eq != NULL)
            *eq = '\0';
        g_autoptr(GPtrArray) canon = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) names = option_names(groups, canon);
        const char *near = tt_nearest(word, (const char *const *)names->pdata, names->len);
        for (guint i = 0; near != NULL && i < names->len; i++)
            if (near == g_ptr_array_index(names, i))
                near = g_ptr_array_index(canon, i);
        if (near != NULL) {
            tt_cli_error(cmd, "unknown option %s; did you mean %s? (see teiten %s --help)", word,
                         near, cmd);
            return FALSE;
        }
        tt_cli_error(cmd, "unknown option %s (see teiten %s --help)", word, cmd);
        return FALSE;
    }
    tt_cli_error(cmd, "%s", error->message);
    return FALSE;
}
