/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config_diff.c - what a reload (SIGHUP) cannot apply: the keys and plugin
 * groups that changed between the running configuration and the new one and
 * need a restart, named in one warning. The core applies the rest.
 */
#include "config.h"

/* [collector] keys a reload cannot apply: bound sockets, opened stores, cut buckets and days */
static const char *const config_restart_keys[] = {
    "listen",
    "data-dir",
    "plugin-dir",
    "step",
    "grace",
    "timezone",
    "rrdcached",
    "user",
    "pidfile",
    "prometheus-file",
    "rcvbuf",
    "rrd-archives",
    "max-tcp-connections",
    "tcp-idle-timeout",
    NULL,
};

static gboolean config_kf_value_differs(GKeyFile *a, GKeyFile *b, const char *group,
                                        const char *key)
{
    g_autofree char *va = g_key_file_get_value(a, group, key, NULL);
    g_autofree char *vb = g_key_file_get_value(b, group, key, NULL);
    if (va != NULL)
        g_strstrip(va);
    if (vb != NULL)
        g_strstrip(vb);
    return g_strcmp0(va, vb) != 0;
}

/* Whether [@a group] differs between @a a and @a b, in any key. */
static gboolean config_kf_group_differs(GKeyFile *a, GKeyFile *b, const char *group)
{
    GKeyFile *files[] = {a, b};
    for (guint f = 0; f < 2; f++) {
        g_auto(GStrv) keys = g_key_file_get_keys(files[f], group, NULL, NULL);
        if (keys == NULL && g_key_file_has_group(files[1 - f], group))
            return TRUE;
        for (char **k = keys; k != NULL && *k != NULL; k++)
            if (config_kf_value_differs(a, b, group, *k))
                return TRUE;
    }
    return FALSE;
}

/*
 * Name every changed key a reload does not apply (docs/operations.md lists them): a restart
 * applies them; until then the running values stay.
 */
void tt_config_warn_restart_keys(GKeyFile *old_kf, GKeyFile *new_kf)
{
    g_autoptr(GString) changed = g_string_new(NULL);
    for (const char *const *k = config_restart_keys; *k != NULL; k++)
        if (config_kf_value_differs(old_kf, new_kf, "collector", *k))
            g_string_append_printf(changed, "%s%s", changed->len ? ", " : "", *k);
    GKeyFile *files[] = {old_kf, new_kf};
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint f = 0; f < 2; f++) {
        g_auto(GStrv) groups = g_key_file_get_groups(files[f], NULL);
        for (char **g = groups; g != NULL && *g != NULL; g++) {
            if (!g_str_has_prefix(*g, "plugin:") || g_hash_table_contains(seen, *g))
                continue;
            g_hash_table_add(seen, g_strdup(*g));
            if (config_kf_group_differs(old_kf, new_kf, *g))
                g_string_append_printf(changed, "%s[%s]", changed->len ? ", " : "", *g);
        }
    }
    if (changed->len > 0)
        g_warning("reload: %s changed: a restart is needed to apply them; the running values "
                  "stay until then",
                  changed->str);
}
