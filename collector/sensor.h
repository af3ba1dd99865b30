/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sensor.h - exporter allow-list, sensor lookup and the darknet filter.
 *
 * Built from a tt_config; immutable once built, so a SIGHUP reload builds a
 * new table and swaps it in (sensor indexes of names that survive a reload are
 * kept stable by tt_sensor_table_new(…, previous)).
 */
#ifndef TT_SENSOR_H
#define TT_SENSOR_H

#include <glib.h>
#include <stdint.h>

#include "config.h"

typedef struct tt_sensor_table tt_sensor_table;

#define TT_SENSOR_NONE UINT32_MAX

/**
 * Build from @a config. When @a previous is given, a sensor keeps the index it
 * had there if its name is unchanged; new names get fresh indexes (never reused
 * within one process). (transfer full)
 */
tt_sensor_table *tt_sensor_table_new(const tt_config *config, const tt_sensor_table *previous);
void tt_sensor_table_free(tt_sensor_table *table);

/** Sensor index for exporter address @a addr (16 bytes, IPv4-mapped) and domain, or TT_SENSOR_NONE.
 */
uint32_t tt_sensor_lookup(const tt_sensor_table *table, const uint8_t addr[16], uint32_t domain);
/** Is @a dst inside the dark prefixes of sensor @a sensor? */
gboolean tt_sensor_is_dark(const tt_sensor_table *table, uint32_t sensor, const uint8_t dst[16]);
/** Fixed sampling of @a sensor (0 = auto). */
uint32_t tt_sensor_sampling(const tt_sensor_table *table, uint32_t sensor);
/** Name of sensor index @a sensor, or NULL if the index is unused. (transfer none) */
const char *tt_sensor_name(const tt_sensor_table *table, uint32_t sensor);
/** One past the highest index in use. */
uint32_t tt_sensor_count(const tt_sensor_table *table);
/** Number of addresses in the sensor's dark space (IPv6 saturates at UINT64_MAX). */
uint64_t tt_sensor_dark_size(const tt_sensor_table *table, uint32_t sensor);

#endif
