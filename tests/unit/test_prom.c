/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_prom.c - tt_prom_text (collector/prom.c) on made-up stats documents: label
 * values escaped as the text format says, booleans as 1 and 0, the all-exporters sums
 * (live and retired), families with no sample left out, a document that does not
 * parse refused; the file rewritten at most every TT_PROM_EVERY_S and with the stop's
 * document (stats.c). The real parser's view of a real teitend's file is
 * tests/integration/prometheus.sh's.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "prom.h"
#include "stats.h"

static char *prom_of(const char *json)
{
    g_autoptr(GError) error = NULL;
    char *text = tt_prom_text(json, 1700000000, "9.8.7", &error);
    g_assert_no_error(error);
    g_assert_nonnull(text);
    return text;
}

static void assert_line(const char *text, const char *line)
{
    g_autofree char *want = g_strconcat("\n", line, "\n", NULL);
    if (strstr(text, want) == NULL)
        g_error("no line \"%s\" in:\n%s", line, text);
}

static void test_prom_escape(void)
{
    /* a sensor name cannot hold these (config.c), a GeoIP database type can */
    g_autofree char *text =
        prom_of("{\"time\":1700000100,\"records_in\":5,\"geoip\":{\"type\":\"Geo\\\"IP\\\\x\\nz\","
                "\"build_epoch\":1690000000},\"sensors\":[{\"sensor\":\"s\\\"1\",\"records\":5,"
                "\"max_lag_s\":0.250,\"silent\":true},{\"sensor\":\"s2\",\"records\":0,"
                "\"silent\":false}]}");
    assert_line(text, "teiten_build_info{version=\"9.8.7\"} 1");
    assert_line(text, "teiten_start_time_seconds 1700000000");
    assert_line(text, "teiten_stats_time_seconds 1700000100");
    assert_line(text, "teiten_geoip_build_time_seconds{type=\"Geo\\\"IP\\\\x\\nz\"} 1690000000");
    assert_line(text, "teiten_records_total{sensor=\"s\\\"1\"} 5");
    assert_line(text, "teiten_records_total{sensor=\"s2\"} 0");
    assert_line(text, "teiten_sensor_max_lag_seconds{sensor=\"s\\\"1\"} 0.250");
    assert_line(text, "teiten_sensor_silent{sensor=\"s\\\"1\"} 1");
    assert_line(text, "teiten_sensor_silent{sensor=\"s2\"} 0");
    assert_line(text, "# TYPE teiten_records_total counter");
    assert_line(text, "# TYPE teiten_sensor_silent gauge");
    /* no listener, no exporter: no family of theirs, not even its HELP */
    g_assert_null(strstr(text, "teiten_kernel_drops_total"));
    g_assert_null(strstr(text, "teiten_exporter_records_total"));
    g_assert_null(strstr(text, "teiten_loss_total"));
}

static void test_prom_exporter_sums(void)
{
    g_autofree char *text = prom_of(
        "{\"exporters\":[{\"exporter\":\"10.0.0.1:4739\",\"transport\":\"ipfix+udp\","
        "\"seq_lost\":3,\"dropped\":{\"malformed\":1,\"domain_cap\":0}},"
        "{\"exporter\":\"10.0.0.2:4739\",\"transport\":\"netflow9+udp\",\"seq_lost\":4,"
        "\"dropped\":{\"malformed\":2,\"domain_cap\":5}}],"
        "\"retired_exporters\":{\"seq_lost\":18446744073709551000,\"dropped\":{\"malformed\":10,"
        "\"domain_cap\":0}},\"losses\":[{\"scope\":\"exporters\",\"name\":\"all\",\"reason\":"
        "\"seq_lost\",\"unit\":\"sequence numbers\",\"count\":7}]}");
    assert_line(text, "teiten_exporter_sequence_lost_total{exporter=\"10.0.0.1:4739\","
                      "transport=\"ipfix+udp\"} 3");
    assert_line(text, "teiten_exporter_dropped_messages_total{exporter=\"10.0.0.2:4739\","
                      "transport=\"netflow9+udp\",reason=\"domain_cap\"} 5");
    /* 64-bit counters summed exactly, not through a double */
    assert_line(text, "teiten_exporters_sequence_lost_total 18446744073709551007");
    assert_line(text, "teiten_exporters_dropped_messages_total{reason=\"malformed\"} 13");
    assert_line(text, "teiten_exporters_dropped_messages_total{reason=\"domain_cap\"} 5");
    assert_line(text, "teiten_loss_total{scope=\"exporters\",name=\"all\",reason=\"seq_lost\","
                      "unit=\"sequence numbers\"} 7");
    /* a family's HELP and TYPE once, before all its samples */
    const char *help = strstr(text, "# HELP teiten_exporter_sequence_lost_total ");
    g_assert_nonnull(help);
    g_assert_null(strstr(help + 1, "# HELP teiten_exporter_sequence_lost_total "));
}

static void test_prom_bad_json(void)
{
    g_autoptr(GError) error = NULL;
    g_assert_null(tt_prom_text("{\"time\":", 0, "1", &error));
    g_assert_nonnull(error);
}

/* Documents a second apart rewrite stats.json each time, the Prometheus file only once
 * TT_PROM_EVERY_S has passed, or for the stop's document. */
static void test_prom_every(void)
{
    g_autofree char *dir = g_dir_make_tmp("test_prom.XXXXXX", NULL);
    g_autofree char *prom = g_build_filename(dir, "teiten.prom", NULL);
    g_autofree char *json = g_build_filename(dir, "stats.json", NULL);
    tt_stats_file file;
    tt_stats_file_init(&file, dir, prom);
    const char *docs[] = {"{\"records_in\":1}", "{\"records_in\":2}", "{\"records_in\":3}"};
    for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
        g_remove(prom);
        tt_stats_doc *doc = tt_stats_doc_new(&file, g_strdup(docs[i]), i == 2);
        tt_stats_doc_write(doc);
        tt_stats_doc_free(doc);
        g_autofree char *got = NULL;
        g_assert_true(g_file_get_contents(json, &got, NULL, NULL));
        g_assert_cmpstr(got, ==, docs[i]); /* stats.json: every time */
        /* the first: written; the second, at once after it: not; the stop's: written */
        g_assert_cmpint(g_file_test(prom, G_FILE_TEST_EXISTS), ==, i != 1);
    }
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(prom, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "\nteiten_records_in_total 3\n"));
    tt_stats_file_clear(&file);
    g_remove(prom);
    g_remove(json);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/prom/escape", test_prom_escape);
    g_test_add_func("/prom/exporter_sums", test_prom_exporter_sums);
    g_test_add_func("/prom/bad_json", test_prom_bad_json);
    g_test_add_func("/prom/every", test_prom_every);
    return g_test_run();
}
