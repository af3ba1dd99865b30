/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * touched.h - the list of keys an open bucket touched, shared (as static
 * inline code, never a library: plugins link nothing but GLib) by the
 * built-in plugins whose accumulators are flat arrays over a key space.
 *
 * A closed bucket must cost what it touched, not the size of its key space
 * (131 072 ports): a bucket of one flow in a sparse replay of half a year
 * used to walk, copy and clear every slot, and fault in the fresh pages of a
 * new accumulator each time. So beside its flat arrays an accumulator keeps
 * the keys in first-touch order (on_flow appends a key the first time its
 * slot goes from zero to non-zero: one branch), and at close the plugin sorts
 * that list when its output has an order, reads and clears only those slots,
 * and recycles the arrays.
 *
 * The sort is an LSD radix sort on 8-bit digits over the bits the largest
 * key needs (insertion sort below TOUCHED_SMALL keys): linear in the keys
 * touched, a few passes of 256 buckets. Rejected: qsort (a bench bucket that
 * touches all 131 072 ports would spend ~10 ms in comparisons at each close)
 * and scanning a dirty bitmap (cheap per slot, but still the key space).
 */
#ifndef TT_PLUGINS_TOUCHED_H
#define TT_PLUGINS_TOUCHED_H

#include <glib.h>
#include <stdint.h>
#include <string.h>

#define TOUCHED_SMALL 48

/* Sort @a keys (@a n of them) ascending; @a tmp has room for @a n (unused when small). */
static inline void touched_sort(uint32_t *keys, size_t n, uint32_t *tmp)
{
    if (n < TOUCHED_SMALL) {
        for (size_t i = 1; i < n; i++) {
            uint32_t k = keys[i];
            size_t j = i;
            for (; j > 0 && keys[j - 1] > k; j--)
                keys[j] = keys[j - 1];
            keys[j] = k;
        }
        return;
    }
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++)
        max |= keys[i];
    uint32_t *src = keys, *dst = tmp;
    for (unsigned shift = 0; shift < 32 && (max >> shift) != 0; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xff]++;
        size_t pos = 0;
        for (unsigned d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != keys)
        memcpy(keys, src, n * sizeof *keys);
}

/* The same, allocating the scratch space it needs (a bucket close, never on_flow). */
static inline void touched_sort_alloc(uint32_t *keys, size_t n)
{
    if (n < TOUCHED_SMALL) {
        touched_sort(keys, n, NULL);
        return;
    }
    uint32_t *tmp = g_new(uint32_t, n);
    touched_sort(keys, n, tmp);
    g_free(tmp);
}

#endif
