/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rollup_hll.h - the rollup plugin's distinct-source sketch, shared (static
 * inline, no library) by the plugin that writes it and `teiten rank`, which
 * reads it: the register count and layout are the on-disk format of the
 * `sources.hll` column, so both sides take them from this one header.
 *
 * HyperLogLog with 2^12 one-byte registers (~1.6 % standard error); two
 * sketches merge by a per-register maximum.
 */
#ifndef TT_PLUGINS_ROLLUP_HLL_H
#define TT_PLUGINS_ROLLUP_HLL_H

#include <glib.h>

#define ROLLUP_HLL_P 12
#define ROLLUP_HLL_M (1u << ROLLUP_HLL_P) /* registers (bytes) per sketch */

/* Add a 64-bit hash to a sketch. */
static inline void rollup_hll_add(guint8 *regs, guint64 h)
{
    guint idx = (guint)(h >> (64 - ROLLUP_HLL_P));
    guint64 rest = (h << ROLLUP_HLL_P) | ((guint64)1 << (ROLLUP_HLL_P - 1));
    guint8 rank = (guint8)(__builtin_clzll(rest) + 1);
    if (rank > regs[idx])
        regs[idx] = rank;
}

/* Merge sketch @a src into @a dst (both ROLLUP_HLL_M registers). */
static inline void rollup_hll_merge(guint8 *dst, const guint8 *src)
{
    for (guint i = 0; i < ROLLUP_HLL_M; i++)
        dst[i] = MAX(dst[i], src[i]);
}

#endif /* TT_PLUGINS_ROLLUP_HLL_H */
