/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * services.h - service names for ports, from the table shipped with teiten
 * (cli/services.c), never the host's /etc/services.
 */
#ifndef TT_SERVICES_H
#define TT_SERVICES_H

#include <stdint.h>

/** Name of @a port over @a proto (6 TCP, 17 UDP), or NULL. (transfer none) */
const char *tt_service_name(uint8_t proto, uint16_t port);

#endif
