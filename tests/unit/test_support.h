/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_support.h - scaffolding the plugin and writer unit tests share, so each
 * test file holds its assertions and the fixtures live once.
 *
 * - tt_test_host: a fake daemon for one real plugin .so: a temporary data
 *   directory, a real tt_writer behind host->submit, scripted sensor names,
 *   the plugin loaded (not yet initialised: a test may edit the config or the
 *   host first) and everything removed again at teardown;
 * - tt_test_gate: a writer job that holds the queue until the test opens it,
 *   so that queued work stays queued without sleeping;
 * - page-fault and peak-RSS readings for the sparse-cost tests.
 *
 * Linked into the tests as tt_test_support (tests/unit/tests.cmake).
 */
#ifndef TT_TEST_SUPPORT_H
#define TT_TEST_SUPPORT_H

#include <glib.h>

#include "plugin_loader.h"
#include "writer.h"

/** A fake host around one real plugin; the members are the test's to read and edit. */
typedef struct tt_test_host {
    char *data_dir;             /**< a fresh temporary directory, removed at teardown */
    tt_writer *writer;          /**< runs what the plugin submits */
    tt_host host;               /**< ctx is this struct; abi_minor TT_PLUGIN_ABI_MINOR */
    GKeyFile *config;           /**< empty; passed to tt_plugin_init by the test */
    tt_plugin *plugin;          /**< loaded, not initialised; NULL once the test freed it */
    const char *const *sensors; /**< sensor_name's answers (transfer none) */
    guint n_sensors;
} tt_test_host;

/**
 * Make the data directory ("test_@plugin.XXXXXX" under the temporary
 * directory), a writer and the host (step 300, grace 120, UTC, sensor_count
 * and sensor_name from @sensors, submit onto the writer), and load @plugin
 * from the build's plugin directory. Fails the test on any error.
 */
void tt_test_host_setup(tt_test_host *th, const char *plugin, const char *const *sensors,
                        guint n_sensors);

/** Free the plugin (its fini may queue a last job), drain and free the writer, remove the
 * directory. */
void tt_test_host_teardown(tt_test_host *th);

/** The tt_test_host behind @host (a host made by tt_test_host_setup). */
tt_test_host *tt_test_host_of(const tt_host *host);

/** Remove @path and everything under it (errors ignored). */
void tt_test_remove_tree(const char *path);

/** A writer job that holds the queue until released. */
typedef struct tt_test_gate {
    GMutex lock;
    GCond cond;
    gboolean open;
    gboolean entered; /**< the writer started running it */
} tt_test_gate;

void tt_test_gate_init(tt_test_gate *g);
void tt_test_gate_clear(tt_test_gate *g);
/** The job: submit it with @g as data (no free function). */
void tt_test_gate_run(void *data);
/** Wait until the writer is running the gate job. */
void tt_test_gate_wait_entered(tt_test_gate *g);
/** Release the gate job. */
void tt_test_gate_open(tt_test_gate *g);
/** A GThreadFunc opening the gate @data: for a thread that must block meanwhile. */
gpointer tt_test_gate_opener_main(gpointer data);

/** Init @g and queue it on @w: what is submitted next waits behind it. */
void tt_test_gate_hold(tt_test_gate *g, tt_writer *w);
/** Open @g, let @w run everything queued (tt_writer_flush), clear @g. */
void tt_test_gate_release(tt_test_gate *g, tt_writer *w);

/** Minor page faults of this process so far. */
long tt_test_minflt(void);
/** Peak resident set of this process, KiB. */
long tt_test_maxrss_kib(void);

#endif
