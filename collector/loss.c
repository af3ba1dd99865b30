/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loss.c - every loss counter of the collector, in one walk (tt_host.loss_foreach).
 *
 * Losses are counted where they happen: the kernel's drops and TCP streams cut
 * per listener (listen.c), sequence gaps and refused messages and records per
 * exporter (decode.c), records refused per sensor (dispatch.c), RRD steps the
 * store could not write (rrd/). This file only gathers them, cumulative since
 * the start, for the plugins that keep them beside their data (the rollup
 * plugin stores per-day differences; `teiten rank` and the report print a
 * completeness line from them). Nothing here is on the per-flow path: it runs
 * at bucket close and at the stop, and reports only counters that are not 0.
 *
 * Exporter counters are kept per sensor (scope "exporters", the sensor's
 * name): the sensor every domain of the exporter feeds (tt_exporter_sensor);
 * "unattributed" for exporters that fed none (junk, spoofed sources, a
 * message refused before its domain was known) or several. Each sum covers
 * live and retired exporters: an exporter that is evicted or whose
 * connection ends moves its counts into its sensor's retired totals, so the
 * sum never decreases, where a per-exporter series would vanish and come back
 * under another name (a UDP source port changes on restart). stats.json keeps
 * the per-exporter detail.
 */
#include "loss.h"

#include "sensor.h"

static void loss_add_exporter(const tt_exporter_stats *s, tt_exporter_stats *into)
{
    into->seq_lost += s->seq_lost;
    into->future_records += s->future_records;
    into->unknown_template_sets += s->unknown_template_sets;
    into->clock_ahead += s->clock_ahead;
    into->time_impossible += s->time_impossible;
    into->value_range += s->value_range;
    into->absurd_counts += s->absurd_counts;
    for (int i = 0; i < TT_DROP_COUNT; i++)
        into->dropped[i] += s->dropped[i];
}

/* Every sensor's exporters summed, in one walk: sums[sensor], the unattributed at sums[n]. */
typedef struct {
    guint n;
    tt_exporter_stats *sums;
} loss_sensor_sums;

static void loss_exporter(const tt_exporter *e, void *data)
{
    loss_sensor_sums *s = data;
    uint32_t sensor = tt_exporter_sensor(e);
    guint i = sensor == TT_SENSOR_NONE ? s->n : sensor;
    if (i <= s->n)
        loss_add_exporter(tt_exporter_get_stats(e), &s->sums[i]);
}

static void loss_report(tt_loss_fn fn, void *data, const char *scope, const char *name,
                        const char *reason, const char *unit, uint64_t count)
{
    if (count == 0)
        return;
    tt_loss loss = {scope, name, reason, unit, count};
    fn(&loss, data);
}

static void loss_free(gpointer data)
{
    tt_loss *l = data;
    g_free((char *)l->scope);
    g_free((char *)l->name);
    g_free((char *)l->reason);
    g_free((char *)l->unit);
    g_free(l);
}

GPtrArray *tt_loss_list_new(void)
{
    return g_ptr_array_new_with_free_func(loss_free);
}

void tt_loss_list_add(const tt_loss *loss, void *list)
{
    tt_loss *copy = g_new(tt_loss, 1);
    *copy = (tt_loss){g_strdup(loss->scope), g_strdup(loss->name), g_strdup(loss->reason),
                      g_strdup(loss->unit), loss->count};
    g_ptr_array_add(list, copy);
}

void tt_loss_list_foreach(GPtrArray *list, tt_loss_fn fn, void *data)
{
    for (guint i = 0; list != NULL && i < list->len; i++)
        fn(g_ptr_array_index(list, i), data);
}

/* The exporter losses @a sum of one sensor, under @a name. */
static void loss_report_exporters(tt_loss_fn fn, void *data, const char *name,
                                  const tt_exporter_stats *sum)
{
    loss_report(fn, data, "exporters", name, "seq_lost", "sequence numbers", sum->seq_lost);
    loss_report(fn, data, "exporters", name, "future", "records", sum->future_records);
    loss_report(fn, data, "exporters", name, "no_template", "sets", sum->unknown_template_sets);
    /* the time policy and checked counts (docs/security.md) */
    loss_report(fn, data, "exporters", name, "clock_ahead", "messages", sum->clock_ahead);
    loss_report(fn, data, "exporters", name, "time_impossible", "records", sum->time_impossible);
    loss_report(fn, data, "exporters", name, "value_range", "records", sum->value_range);
    loss_report(fn, data, "exporters", name, "absurd_counts", "records", sum->absurd_counts);
    for (int i = 0; i < TT_DROP_COUNT; i++)
        loss_report(fn, data, "exporters", name, tt_drop_reason_key((tt_drop_reason)i), "messages",
                    sum->dropped[i]);
}

void tt_loss_foreach(const tt_counters *c, tt_loss_fn fn, void *data)
{
    g_return_if_fail(c != NULL && fn != NULL);
    tt_loss_list_foreach(c->listener_losses, fn, data);

    loss_sensor_sums sums = {c->sensors->len, g_new0(tt_exporter_stats, c->sensors->len + 1)};
    tt_decoder_foreach_exporter(c->decoder, loss_exporter, &sums);
    for (guint i = 0; i <= sums.n; i++) { /* the last: the unattributed */
        uint32_t sensor = i < sums.n ? i : TT_SENSOR_NONE;
        const tt_exporter_stats *retired = tt_decoder_retired_sensor_stats(c->decoder, sensor);
        if (retired != NULL)
            loss_add_exporter(retired, &sums.sums[i]);
        const char *name = "unattributed";
        g_autofree char *numbered = NULL;
        if (sensor != TT_SENSOR_NONE) {
            name = g_array_index(c->sensors, tt_sensor_counters, i).name;
            if (name == NULL)
                name = numbered = g_strdup_printf("sensor-%u", i);
        }
        loss_report_exporters(fn, data, name, &sums.sums[i]);
    }
    g_free(sums.sums);

    for (guint i = 0; i < c->sensors->len; i++) {
        const tt_sensor_counters *sc = &g_array_index(c->sensors, tt_sensor_counters, i);
        if (sc->name == NULL || !sc->has_state)
            continue;
        const char *name = sc->name;
        const tt_sensor_stats *s = &sc->stats;
        loss_report(fn, data, "sensor", name, "too_old", "records", s->too_old);
        loss_report(fn, data, "sensor", name, "unconfirmed", "records", s->unconfirmed);
        loss_report(fn, data, "sensor", name, "saturated", "records", s->saturated);
    }

    if (!c->has_store) /* --check-config builds no health */
        return;
    loss_report(fn, data, "store", "rrd", "refused", "steps", c->health.rrd.refused);

    /* closed-bucket jobs the writer refused (live, past writer-backlog) or dropped at the stop */
    loss_report(fn, data, "store", "writer", "refused", "jobs", c->writer.refused_jobs);
    loss_report(fn, data, "store", "writer", "lost", "jobs", c->writer.lost_jobs);
}
