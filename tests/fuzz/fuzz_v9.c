/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_v9.c - libFuzzer target: NetFlow v9 over UDP: the v9 -> IPFIX rewrite in wire.c, then the
 * IPFIX path (tt_decoder_v9).
 *
 * Each input is a sequence of datagrams from up to 32 fake exporters (the
 * record format and the invariants checked after every datagram are in
 * fuzz_common.h); the decoder and its exporters live as long as the process,
 * so templates, sequence numbers and caps carry over from input to input.
 * Seeds: tests/fuzz/make_corpus.py (shared captures, flowgen), regressions in
 * tests/fuzz/regressions/v9/.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_feed_datagrams(FUZZ_V9, data, size);
    return 0;
}
