/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * services.h - service names for ports, from the table shipped with teiten
 * (cli/services.c) and the user's files, never the host's /etc/services.
 */
#ifndef TT_SERVICES_H
#define TT_SERVICES_H

#include <glib.h>
#include <stdint.h>

/** Name of @a port over @a proto (6 TCP, 17 UDP), or NULL. (transfer none) */
const char *tt_service_name(uint8_t proto, uint16_t port);
/** DATA/services.tsv when @a data has one, then each of @a files (NULL-terminated or NULL). */
gboolean tt_services_load_for(const char *data, char **files, GError **error);

#endif
