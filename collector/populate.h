/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * populate.h - map a file's pages in one call before reading it through.
 *
 * `teitend --read` walks a mapped file twice, once for the ingest ledger's hash and
 * once to decode it. Each first touch of a page was a fault (16 pages at a time), and
 * on a paravirtualised guest a fault is expensive: 6 % of a --read of a 49 MB file
 * went to them. MADV_POPULATE_READ (Linux 5.14) maps every page of the range in one
 * call; on an older kernel it fails with EINVAL and the faults happen as before.
 */
#ifndef TT_POPULATE_H
#define TT_POPULATE_H

#include <stddef.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux uapi; glibc 2.36's headers lack it */
#endif

/* Map @a size bytes at @a data (a page-aligned mapping) now; advice only. */
static inline void tt_map_populate(void *data, size_t size)
{
    if (data != NULL && size > 0) {
        (void)madvise(data, size, MADV_SEQUENTIAL);
        (void)madvise(data, size, MADV_POPULATE_READ);
    }
}

#endif /* TT_POPULATE_H */
