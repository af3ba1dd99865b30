/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_config.c - libFuzzer target: the configuration parser
 * (tt_config_load_data on arbitrary bytes).
 *
 * Whatever the bytes, the parser must not crash, and its answer must be one
 * of two: a configuration whose values respect the documented ranges
 * (docs/configuration.md: step divides 900, caps >= 1, every sensor has
 * exporters and a darknet, every listen spec parses again to the same
 * transport and port), or an error in TT_CONFIG_ERROR whose message names the
 * file, as every message promises ("fuzz.conf: [group] key: ..."). Nothing is
 * opened or bound: loading only validates.
 * Seeds: the harness's own configuration, docs/configuration.md's examples
 * (extracted by make_corpus.py) and tests/fuzz/regressions/config/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_prefix(const char *what, const tt_prefix *p)
{
    FUZZ_ASSERT(p->len <= 128, "%s: prefix length %u", what, p->len);
    for (int bit = p->len; bit < 128; bit++)
        FUZZ_ASSERT((p->addr[bit / 8] & (0x80 >> (bit % 8))) == 0, "%s: host bits set past /%u",
                    what, p->len);
}

static void check_config(const tt_config *c)
{
    FUZZ_ASSERT(c->step >= 1 && c->step <= 900 && 900 % c->step == 0, "step %" G_GINT64_FORMAT,
                c->step);
    FUZZ_ASSERT(c->grace >= 0 && c->grace <= 604800, "grace %" G_GINT64_FORMAT, c->grace);
    FUZZ_ASSERT(c->max_templates >= 1 && c->max_sessions >= 1 && c->max_exporters >= 1,
                "a cap of 0");
    FUZZ_ASSERT(c->rcvbuf >= 1, "rcvbuf 0");
    FUZZ_ASSERT(c->silent_after >= 1, "silent-after %" G_GINT64_FORMAT, c->silent_after);
    FUZZ_ASSERT(c->data_dir != NULL && c->data_dir[0] != '\0', "empty data-dir");
    FUZZ_ASSERT(c->timezone != NULL && c->timezone[0] != '\0', "empty timezone");
    FUZZ_ASSERT(c->listen->len >= 1, "no listen spec");
    for (guint i = 0; i < c->listen->len; i++) {
        const tt_listen_spec *spec = g_ptr_array_index(c->listen, i);
        tt_listen_spec again;
        g_autoptr(GError) error = NULL;
        FUZZ_ASSERT(spec->port >= 1, "%s: port 0", spec->spec);
        FUZZ_ASSERT(tt_listen_spec_parse(spec->spec, &again, &error), "%s does not parse again: %s",
                    spec->spec, error->message);
        FUZZ_ASSERT(again.kind == spec->kind && again.port == spec->port, "%s parses differently",
                    spec->spec);
        tt_listen_spec_clear(&again);
    }
    for (guint i = 0; i < c->sensors->len; i++) {
        const tt_sensor_conf *s = g_ptr_array_index(c->sensors, i);
        FUZZ_ASSERT(s->name != NULL && s->name[0] != '\0', "sensor without a name");
        FUZZ_ASSERT(s->exporters->len >= 1 && s->darknet->len >= 1, "[sensor:%s] empty list",
                    s->name);
        for (guint j = 0; j < s->exporters->len; j++)
            check_prefix(s->name, &g_array_index(s->exporters, tt_exporter_match, j).prefix);
        for (guint j = 0; j < s->darknet->len; j++)
            check_prefix(s->name, &g_array_index(s->darknet, tt_prefix, j));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    tt_config *config = tt_config_load_data((const char *)data, size, "fuzz.conf", &error);
    if (config != NULL) {
        FUZZ_ASSERT(error == NULL, "success with an error set");
        check_config(config);
        tt_config_free(config);
        return 0;
    }
    FUZZ_ASSERT(error != NULL, "failure without an error");
    FUZZ_ASSERT(error->domain == TT_CONFIG_ERROR, "error in domain %s",
                g_quark_to_string(error->domain));
    FUZZ_ASSERT(error->message != NULL && g_str_has_prefix(error->message, "fuzz.conf: ") &&
                    strlen(error->message) > strlen("fuzz.conf: "),
                "error message does not name the file: \"%s\"", error->message);
    return 0;
}
