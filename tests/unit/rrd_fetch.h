/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rrd_fetch.h - read back one step of an RRD file the store wrote, for the
 * RRD store's tests (test_rrd_store.c, test_rrd_index.c). Static, as the two
 * programs link librrd and nothing else of each other.
 */
#ifndef TT_TEST_RRD_FETCH_H
#define TT_TEST_RRD_FETCH_H

#include <glib.h>
#include <rrd.h>
#include <stdint.h>

/* AVERAGE value x step of @a ds at the 300 s step ending at @a t, NAN when unknown
 * (data sources 0..2 are rates, 3 the distinct sources). */
static inline double fetch_step(const char *file, int64_t t, guint ds)
{
    time_t start = t - 300, end = t;
    unsigned long step = 300, nds = 0;
    char **names = NULL;
    rrd_value_t *data = NULL;
    rrd_clear_error();
    g_assert_cmpint(rrd_fetch_r(file, "AVERAGE", &start, &end, &step, &nds, &names, &data), ==, 0);
    double v = data[ds] * (ds < 3 ? 300 : 1);
    for (unsigned long i = 0; i < nds; i++)
        rrd_freemem(names[i]);
    rrd_freemem(names);
    rrd_freemem(data);
    return v;
}

#endif /* TT_TEST_RRD_FETCH_H */
