/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen.h - sockets and files: bytes into the decoder.
 *
 * tt_listeners_open() binds every socket of the configuration (sFlow's too)
 * before any slow start-up work (GeoIP, plugins) and before the privilege
 * drop, so the kernel queues what arrives meanwhile and root sizes the
 * buffers; a listener that cannot be bound is fatal, named in the error; tt_listeners_start()
 * attaches them to the GLib main loop once the core exists. tt_read_file() replays IPFIX files (RFC
 * 5655) through the same decoder.
 */
#ifndef TT_LISTEN_H
#define TT_LISTEN_H

#include <glib.h>

#include "config.h"
#include "core.h"

#define TT_LISTEN_ERROR (tt_listen_error_quark())
GQuark tt_listen_error_quark(void);

typedef enum {
    TT_LISTEN_ERROR_SPEC,   /* a listen spec that cannot be bound as written */
    TT_LISTEN_ERROR_SOCKET, /* socket, bind or listen failed */
    TT_LISTEN_ERROR_FILE,   /* an input file is not IPFIX past some offset */
} tt_listen_error;

typedef struct tt_listeners tt_listeners;

/** Bind every `listen` spec of @a config. Errors name the spec. (transfer full) */
tt_listeners *tt_listeners_open(const tt_config *config, GError **error);
/**
 * Start receiving into @a core's decoder on the default main context. FALSE when a
 * listener cannot be started (an sFlow listener's libfixbuf side); the error names it.
 */
gboolean tt_listeners_start(tt_listeners *listeners, tt_core *core, GError **error);
/**
 * The decoder half of tt_listeners_start(), without a core (so no stats.json
 * entry): what the sFlow fuzz target drives, as libfixbuf's sFlow translator
 * runs only behind a real socket.
 */
gboolean tt_listeners_attach(tt_listeners *listeners, tt_decoder *decoder, GError **error);
void tt_listeners_free(tt_listeners *listeners);
/**
 * Drain what the sockets hold right now (before a clean stop), then read the sockets' drop
 * counters once more (the refresh the core calls each tick through its hooks).
 */
void tt_listeners_drain(tt_listeners *listeners);

/**
 * Read the IPFIX file @a path, attributing every record to @a sensor.
 * Malformed messages are counted and skipped when the framing survives; a
 * file whose framing breaks is reported with the offset.
 */
gboolean tt_read_file(tt_core *core, const char *path, uint32_t sensor, GError **error);
/** Told the bytes of the file read so far, every few thousand messages (--read's progress). */
typedef void (*tt_read_progress_fn)(guint64 offset, void *data);
/** tt_read_file() telling @a progress (may be NULL) how far it has read. */
gboolean tt_read_file_full(tt_core *core, const char *path, uint32_t sensor,
                           tt_read_progress_fn progress, void *data, GError **error);

#endif
