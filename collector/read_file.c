/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * read_file.c - `teitend --read`: replay IPFIX files (RFC 5655: messages one
 * after another, as on a TCP stream) through the decoder, as one private
 * exporter per file whose records all belong to the sensor given.
 */
#include <string.h>

#include "decode.h"
#include "listen.h"
#include "populate.h"
#include "wire.h"

#define READ_PROGRESS_EVERY 4096 /* messages between two progress calls */

gboolean tt_read_file(tt_core *core, const char *path, uint32_t sensor, GError **error)
{
    return tt_read_file_full(core, path, sensor, NULL, NULL, error);
}

gboolean tt_read_file_full(tt_core *core, const char *path, uint32_t sensor,
                           tt_read_progress_fn progress, void *progress_data, GError **error)
{
    g_return_val_if_fail(core != NULL && path != NULL, FALSE);
    /* writable and private: libfixbuf decodes a message in place, and a page it writes
     * is copied for this process alone (the fast path only reads, and most pages are
     * never copied); one copy of every message into a buffer was 9 % of a --read */
    g_autoptr(GMappedFile) map = g_mapped_file_new(path, TRUE, error);
    if (map == NULL)
        return FALSE;
    tt_decoder *decoder = tt_core_decoder(core);
    static const uint8_t none[16];
    g_autofree char *label = g_strdup_printf("file:%s", path);
    tt_exporter *e = tt_decoder_exporter_private(decoder, TT_LISTEN_IPFIX_TCP, label, none,
                                                 g_get_real_time() / G_USEC_PER_SEC);
    tt_exporter_force_sensor(e, sensor);

    uint8_t *data = (uint8_t *)g_mapped_file_get_contents(map);
    size_t size = g_mapped_file_get_length(map), off = 0;
    guint64 messages = 0;
    tt_map_populate(data, size);
    gboolean ok = TRUE;
    while (off < size) {
        size_t msglen = 0;
        tt_wire_status st = tt_ipfix_stream_frame(data + off, size - off, &msglen);
        if (st == TT_WIRE_OK && msglen > size - off)
            st = TT_WIRE_BAD_LENGTH;
        if (st != TT_WIRE_OK) {
            g_set_error(error, TT_LISTEN_ERROR, TT_LISTEN_ERROR_FILE,
                        "%s: offset %zu: %s; the rest of the file is not IPFIX", path, off,
                        tt_wire_strerror(st));
            ok = FALSE;
            break;
        }
        tt_decoder_ipfix(decoder, e, data + off, msglen);
        off += msglen;
        if (progress != NULL && ++messages % READ_PROGRESS_EVERY == 0)
            progress(off, progress_data);
    }
    tt_decoder_exporter_release(decoder, e);
    return ok;
}
