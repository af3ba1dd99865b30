/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * plugin_loader.h - load, validate and instantiate plugins (GModule).
 *
 * Validate-then-publish: a plugin is returned only after its one exported
 * symbol, its table's ABI major, struct_size, name and mandatory callbacks
 * have been checked. Every refusal names the file and the reason.
 */
#ifndef TT_PLUGIN_LOADER_H
#define TT_PLUGIN_LOADER_H

#include <glib.h>
#include <gmodule.h>

#include <teiten/plugin.h>

#define TT_PLUGIN_ERROR (tt_plugin_error_quark())
GQuark tt_plugin_error_quark(void);

typedef enum {
    TT_PLUGIN_ERROR_OPEN,     /* dlopen failed (file missing, unresolved symbols) */
    TT_PLUGIN_ERROR_SYMBOL,   /* no tt_plugin_entry, or it returned NULL */
    TT_PLUGIN_ERROR_ABI,      /* wrong major, struct_size too small, name mismatch */
    TT_PLUGIN_ERROR_CALLBACK, /* a mandatory callback is NULL */
    TT_PLUGIN_ERROR_INIT,     /* the plugin's init() failed */
} tt_plugin_error;

typedef struct tt_plugin {
    char *name; /* NAME of [plugin:NAME] */
    char *path; /* the .so file */
    GModule *module;
    const tt_plugin_info *info; /* points into the module */
    void *state;                /* the instance, after tt_plugin_init() */
    gboolean initialised;
} tt_plugin;

/** Load @a dir/@a name.so and validate its table. (transfer full) */
tt_plugin *tt_plugin_load(const char *dir, const char *name, GError **error);
/**
 * Every plugin of @a names (each from a [plugin:NAME] group of @a config_path) has its
 * @a dir/NAME.so; otherwise one error naming the file, the group, the nearest installed
 * plugin (when one is close) and the plugins @a dir holds. Start-up, before any load: a
 * typo then reads as a typo, not as dlopen's "cannot open shared object file".
 */
gboolean tt_plugin_check_installed(const char *dir, const GPtrArray *names, const char *config_path,
                                   GError **error);
/** Create the instance from group "plugin:NAME" of @a config. */
gboolean tt_plugin_init(tt_plugin *plugin, const tt_host *host, GKeyFile *config, GError **error);
/** fini() the instance if any, unload. NULL is a no-op. */
void tt_plugin_free(tt_plugin *plugin);

#endif
