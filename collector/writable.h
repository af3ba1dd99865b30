/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writable.h - the start's check that the core's own files are writable (writable.c).
 */
#ifndef TT_WRITABLE_H
#define TT_WRITABLE_H

#include <glib.h>

#include "config.h"

/**
 * The data directory, stats.json, the RRD tree (unless a remote rrdcached
 * writes it) and prometheus-file's directory are writable by this process; else FALSE with @a error
 * naming the first that is not, prefixed with the configuration's path.
 */
gboolean tt_writable_check(const tt_config *config, GError **error);

#endif
