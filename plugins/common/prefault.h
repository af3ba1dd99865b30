/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prefault.h - map an accumulator's pages before the first flow, not under it.
 *
 * A plugin's first bucket used to fault in its arrays (calloc'd, so untouched
 * pages are not mapped yet) page by page while reception ran: perf of a cold
 * `bench/run` blast at 2.12 M records/s put 40 % of the dispatch thread's first
 * 100 ms in page faults under the plugins' on_flows, and the kernel dropped
 * ~1,000 datagrams there; after a 2 s warm-up the same collector held 3.2 M/s
 * without a drop. So each plugin makes its first accumulator at init, touches
 * every page of it (what a dense bucket would touch anyway: the resident size
 * is then the dense one from the start, docs/benchmarks.md "Memory"), and puts
 * it on its spare list for the first bucket_open.
 */
#ifndef TT_PLUGIN_PREFAULT_H
#define TT_PLUGIN_PREFAULT_H

#include <stddef.h>
#include <stdint.h>

/* Touch one byte in each page of [@a p, @a p + @a n): read and written back, so any content
 * stays as it is. */
static inline void tt_prefault(void *p, size_t n)
{
    volatile uint8_t *b = p;
    for (size_t i = 0; i < n; i += 4096) {
        uint8_t v = b[i];
        b[i] = v;
    }
    if (n > 0) {
        uint8_t v = b[n - 1];
        b[n - 1] = v;
    }
}

#endif /* TT_PLUGIN_PREFAULT_H */
