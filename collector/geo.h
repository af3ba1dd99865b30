/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * geo.h - source country lookup; the only module that includes <maxminddb.h>.
 *
 * One handle serves the whole collector. The schema is detected by probing
 * the database's data, not its type name: MaxMind/DB-IP store
 * country.iso_code (falling back to registered_country.iso_code), IPinfo and
 * ip-location-db store a flat country_code. Unknown or private sources are
 * "ZZ". Lookups are read-only and may run on any thread.
 */
#ifndef TT_GEO_H
#define TT_GEO_H

#include <glib.h>
#include <stdint.h>

#define TT_GEO_ERROR (tt_geo_error_quark())
GQuark tt_geo_error_quark(void);

typedef struct tt_geo tt_geo;

/**
 * Open @a path (an .mmdb file). (transfer full)
 *
 * Also reserves the handle's table of the country of every IPv4 /24: 32 MiB of
 * anonymous address space (huge pages where the kernel gives them), filled one
 * /16 at a time by the first lookup that lands in it, so resident only where
 * sources were seen; opening costs the schema probe only.
 */
tt_geo *tt_geo_open(const char *path, GError **error);
void tt_geo_free(tt_geo *geo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(tt_geo, tt_geo_free)

/**
 * Write the source country of @a addr (16 bytes, IPv4-mapped for v4) to @a cc;
 * "ZZ" when unknown. NULL geo gives "ZZ". No allocation, no lock: one load for
 * IPv4 outside the /24s the database splits.
 */
void tt_geo_lookup(const tt_geo *geo, const uint8_t addr[16], char cc[2]);
/**
 * Start loading the table entry tt_geo_lookup() will read for @a addr (IPv4
 * only; a no-op otherwise). The 32 MiB table misses the CPU caches under the
 * plugins' working sets (~150 ns a lookup in teitend against 7 ns alone), so
 * the core asks a few flows ahead.
 */
void tt_geo_prefetch(const tt_geo *geo, const uint8_t addr[16]);
/** database_type of the file (transfer none). */
const char *tt_geo_type(const tt_geo *geo);
/** build_epoch of the file, seconds. */
int64_t tt_geo_build_epoch(const tt_geo *geo);
/** "iso_code" or "country_code": the schema detected. (transfer none) */
const char *tt_geo_schema(const tt_geo *geo);

#endif
