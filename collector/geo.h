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
 * Also holds the handle's IPv4 table: 256 KiB, one entry per /16 (its
 * country, or a reference to a 512-byte chunk of per-/24 entries where the
 * database splits it), and 32 MiB of address space reserved for the chunks,
 * handed out in order; both filled one /16 at a time by the first lookup that
 * lands in it, so resident only where sources were seen; opening costs the
 * schema probe only.
 */
tt_geo *tt_geo_open(const char *path, GError **error);
void tt_geo_free(tt_geo *geo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(tt_geo, tt_geo_free)

/**
 * Write the source country of @a addr (16 bytes, IPv4-mapped for v4) to @a cc;
 * "ZZ" when unknown. NULL geo gives "ZZ". No allocation, no lock: for IPv4 one
 * load in a /16 of one country, two in a split one, outside the /24s the
 * database splits.
 */
void tt_geo_lookup(const tt_geo *geo, const uint8_t addr[16], char cc[2]);
/**
 * Start loading the top-table entry tt_geo_lookup() will read for @a addr
 * (IPv4 only; a no-op otherwise): the country of its /16, or where the /16 is
 * split, the reference to its chunk. Under the plugins' working sets the entry
 * misses the CPU caches, so the core asks a few flows ahead.
 */
void tt_geo_prefetch(const tt_geo *geo, const uint8_t addr[16]);
/**
 * Second stage, a few flows after tt_geo_prefetch() for the same @a addr: reads
 * the top entry (cached by then) and, where the /16 is split, starts loading
 * the line of its chunk that holds @a addr's /24. A no-op otherwise.
 */
void tt_geo_prefetch_chunk(const tt_geo *geo, const uint8_t addr[16]);
/**
 * How many /16s walked so far the database splits: each holds a 512-byte chunk
 * of per-/24 entries (the other /16s are one entry of the top table). For tests
 * and diagnostics; any thread.
 */
guint tt_geo_v4_chunks(const tt_geo *geo);
/** database_type of the file (transfer none). */
const char *tt_geo_type(const tt_geo *geo);
/** build_epoch of the file, seconds. */
int64_t tt_geo_build_epoch(const tt_geo *geo);
/** "iso_code" or "country_code": the schema detected. (transfer none) */
const char *tt_geo_schema(const tt_geo *geo);

#endif
