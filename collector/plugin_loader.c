/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plugin_loader.c - open DIR/NAME.so, validate its table, then publish it.
 *
 * GModule with G_MODULE_BIND_LOCAL (a plugin's symbols never satisfy another
 * plugin's references) and without G_MODULE_BIND_LAZY, so a plugin with an
 * unresolved symbol fails here, at start-up, rather than at its first call
 * on the data path. The table returned by tt_plugin_entry() is checked in
 * full before a tt_plugin exists: a non-NULL table, the ABI major, the
 * struct size, the name, the mandatory callbacks. Every refusal names the
 * file and what was wrong (yaf's loader, which publishes first and only warns
 * on a version mismatch, is what this avoids).
 *
 * Versions: the major must equal ours. A minor *higher* than ours is
 * accepted: minors only append optional members at the end of the table, and
 * the host reads nothing beyond the members of its own version; the 1.0
 * members are at the same offsets in every 1.x table. struct_size must cover
 * at least the 1.0 table (everything before `reserved`), and any member added
 * later must be read only when struct_size covers its offset. A lower minor
 * is accepted for the same reason, in the other direction.
 *
 * Unloading: a plugin that was initialised is made resident before its
 * GModule is closed, because jobs it queued on the writer (up to and
 * including fini's last one) point into its code and may still be pending.
 */
#include "plugin_loader.h"

#include <stddef.h>
#include <string.h>

#include "nearest.h"

G_DEFINE_QUARK(tt_plugin_error, tt_plugin_error)

/* The size of the version-1.0 table: every member before `reserved`. */
#define PLUGIN_INFO_SIZE_1_0 offsetof(tt_plugin_info, reserved)

static gboolean plugin_name_is_valid(const char *name)
{
    if (name[0] == '\0' || name[0] == '.')
        return FALSE;
    for (const char *p = name; *p != '\0'; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

/* Which mandatory callback is missing, or NULL when none is. */
static const char *plugin_missing_callback(const tt_plugin_info *info)
{
    if (info->init == NULL)
        return "init";
    if (info->fini == NULL)
        return "fini";
    if (info->bucket_open == NULL)
        return "bucket_open";
    if (info->on_flow == NULL)
        return "on_flow";
    if (info->bucket_close == NULL)
        return "bucket_close";
    return NULL;
}

static gboolean plugin_validate(const tt_plugin_info *info, const char *path, const char *name,
                                GError **error)
{
    if (info->abi_major != TT_PLUGIN_ABI_MAJOR) {
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_ABI,
                    "plugin %s: ABI major version %u, this teitend speaks %u", path,
                    (unsigned)info->abi_major, (unsigned)TT_PLUGIN_ABI_MAJOR);
        return FALSE;
    }
    if (info->struct_size < PLUGIN_INFO_SIZE_1_0) {
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_ABI,
                    "plugin %s: plugin table of %u bytes, at least %zu expected", path,
                    (unsigned)info->struct_size, (size_t)PLUGIN_INFO_SIZE_1_0);
        return FALSE;
    }
    if (info->name == NULL || strcmp(info->name, name) != 0) {
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_ABI,
                    "plugin %s: table names the plugin \"%s\", expected \"%s\"", path,
                    info->name != NULL ? info->name : "(null)", name);
        return FALSE;
    }
    const char *missing = plugin_missing_callback(info);
    if (missing != NULL) {
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_CALLBACK,
                    "plugin %s: mandatory callback %s is NULL", path, missing);
        return FALSE;
    }
    return TRUE;
}

tt_plugin *tt_plugin_load(const char *dir, const char *name, GError **error)
{
    g_return_val_if_fail(dir != NULL, NULL);
    g_return_val_if_fail(name != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    g_autofree char *file = g_strconcat(name, ".so", NULL);
    g_autofree char *path = g_build_filename(dir, file, NULL);

    /* NAME comes from a config group: never let it walk out of the plugin dir. */
    if (!plugin_name_is_valid(name)) {
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_OPEN,
                    "plugin %s: \"%s\" is not a valid plugin name", path, name);
        return NULL;
    }

    GModule *module = g_module_open(path, G_MODULE_BIND_LOCAL);
    if (module == NULL) {
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_OPEN, "plugin %s: cannot load: %s",
                    path, g_module_error());
        return NULL;
    }

    gpointer symbol = NULL;
    if (!g_module_symbol(module, TT_PLUGIN_ENTRY_SYMBOL, &symbol) || symbol == NULL) {
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_SYMBOL,
                    "plugin %s: does not export %s()", path, TT_PLUGIN_ENTRY_SYMBOL);
        goto err_close_module;
    }

    tt_plugin_entry_fn entry = (tt_plugin_entry_fn)symbol;
    const tt_plugin_info *info = entry();
    if (info == NULL) {
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_SYMBOL, "plugin %s: %s() returned NULL",
                    path, TT_PLUGIN_ENTRY_SYMBOL);
        goto err_close_module;
    }
    if (!plugin_validate(info, path, name, error))
        goto err_close_module;

    tt_plugin *plugin = g_new0(tt_plugin, 1);
    plugin->name = g_strdup(name);
    plugin->path = g_steal_pointer(&path);
    plugin->module = module;
    plugin->info = info;
    g_debug("plugin %s %s loaded from %s (ABI %u.%u)", plugin->name,
            info->version != NULL ? info->version : "?", plugin->path, (unsigned)info->abi_major,
            (unsigned)info->abi_minor);
    return plugin;

err_close_module:
    g_module_close(module);
    return NULL;
}

static gint plugin_name_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The plugins @a dir holds: NAME of every NAME.so, sorted. */
static GPtrArray *plugin_installed(const char *dir)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;
    while (d != NULL && (entry = g_dir_read_name(d)) != NULL) {
        if (g_str_has_suffix(entry, ".so") && strlen(entry) > 3)
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 3));
    }
    g_ptr_array_sort(names, plugin_name_cmp);
    return names;
}

gboolean tt_plugin_check_installed(const char *dir, const GPtrArray *names, const char *config_path,
                                   GError **error)
{
    g_return_val_if_fail(dir != NULL && names != NULL && config_path != NULL, FALSE);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *file = g_strconcat(name, ".so", NULL);
        g_autofree char *path = g_build_filename(dir, file, NULL);
        /* an invalid name is tt_plugin_load's to refuse */
        if (!plugin_name_is_valid(name) || g_file_test(path, G_FILE_TEST_EXISTS))
            continue;
        g_autoptr(GPtrArray) there = plugin_installed(dir);
        const char *near = tt_nearest(name, (const char *const *)there->pdata, there->len);
        g_autofree char *list = NULL;
        if (there->len > 0) {
            g_ptr_array_add(there, NULL);
            list = g_strjoinv(", ", (char **)there->pdata);
        }
        g_autofree char *hint =
            near != NULL ? g_strdup_printf("; did you mean [plugin:%s]?", near) : g_strdup("");
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_OPEN,
                    "%s: [plugin:%s]: no plugin \"%s\" in %s%s (installed: %s)", config_path, name,
                    name, dir, hint, list != NULL ? list : "none");
        return FALSE;
    }
    return TRUE;
}

gboolean tt_plugin_init(tt_plugin *plugin, const tt_host *host, GKeyFile *config, GError **error)
{
    g_return_val_if_fail(plugin != NULL, FALSE);
    g_return_val_if_fail(!plugin->initialised, FALSE);
    g_return_val_if_fail(host != NULL, FALSE);
    g_return_val_if_fail(config != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    g_autofree char *group = g_strconcat("plugin:", plugin->name, NULL);
    g_autoptr(GError) local = NULL;
    void *state = NULL;

    if (!plugin->info->init(host, config, group, &state, &local)) {
        /* Re-domain the plugin's error (its domain is its own business) and keep
         * its message: that is the one naming the group and key. */
        g_set_error(error, TT_PLUGIN_ERROR, TT_PLUGIN_ERROR_INIT, "plugin %s: %s", plugin->name,
                    local != NULL ? local->message : "init failed without saying why");
        return FALSE;
    }
    if (local != NULL)
        g_warning("plugin %s: init succeeded but set an error: %s", plugin->name, local->message);

    plugin->state = state;
    plugin->initialised = TRUE;
    return TRUE;
}

void tt_plugin_free(tt_plugin *plugin)
{
    if (plugin == NULL)
        return;
    if (plugin->initialised) {
        plugin->info->fini(plugin->state);
        /* fini (and bucket_close before it) may have queued writer jobs whose code
         * and destroy notifiers live in this module and run after we return: an
         * instance that ever ran keeps its code mapped until the process ends. */
        g_module_make_resident(plugin->module);
    }
    plugin->info = NULL;
    g_module_close(plugin->module);
    g_free(plugin->path);
    g_free(plugin->name);
    g_free(plugin);
}
