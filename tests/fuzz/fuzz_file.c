/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_file.c - libFuzzer target: IPFIX files (RFC 5655 byte streams) as
 * `teitend --read` consumes them.
 *
 * The input is the file: tt_ipfix_stream_frame() cuts it into messages until
 * the framing breaks, each message goes to tt_decoder_ipfix() on a private
 * exporter forced to the first sensor, and the exporter is released at the
 * end, as tt_read_file() (collector/listen.c) does; its counters then live on
 * in the decoder's retired totals, which the harness keeps checking. TCP
 * streams use the same framing and decoder. Invariants: fuzz_common.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_feed_file(data, size);
    return 0;
}
