/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dispatch.c - the flow path: enrich once, bin by flow time, dispatch to plugins.
 *
 *
 * Each decoded flow is enriched here and only here: darknet filter (a flow
 * to lit space, or without a destination, is a leak: counted, not observed),
 * sampling (the sensor's fixed rate overrides what the exporter announced;
 * estimates are scaled, raw counts kept), source country, traffic class.
 *
 * Buckets are flow-time bins of `step` seconds aligned to the epoch, kept
 * per sensor. A sensor's watermark is the newest flow start it has sent; a
 * bucket closes when watermark - grace passes its end. A record for a bucket
 * already closed is late: counted and handed to the plugins' late path (the
 * exact rollups need it), never to an open bucket. Time is the stream's: the
 * host clock only closes the buckets of a sensor that has gone silent
 * (`silent-after`), so a replayed 2019 capture gives the same buckets as the
 * live traffic did. When every sensor that is not silent has closed a range,
 * plugins hear all_closed() for it (all-sensor files wait for the slowest).
 *
 * Rejected: binning by arrival time (replays and exporter timeouts would
 * smear counts across steps) and one global watermark (a sensor whose stream
 * runs behind another's would see all its records declared late).
 *
 * The life cycle around it (start, reload, tick, stop) and the counters are
 * core.c's; the state both share is in core_private.h.
 */
#include <stddef.h>
#include <string.h>

#include "classify.h"
#include "core_private.h"

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * @a sensor's name, also after a reload removed it (its open buckets and late records still
 * belong to it); NULL for an index that never had one.
 */
const char *tt_core_sensor_name(const tt_core *core, uint32_t sensor)
{
    const char *name = tt_sensor_name(core->sensors, sensor);
    if (name == NULL && sensor < core->states->len)
        name = g_array_index(core->states, sensor_state, sensor).name;
    return name;
}

/* ---- sensor states ------------------------------------------------------- */

static sensor_state *core_state(tt_core *core, uint32_t sensor)
{
    if (sensor >= core->states->len) {
        guint old = core->states->len;
        g_array_set_size(core->states, sensor + 1);
        for (guint i = old; i <= sensor; i++) {
            sensor_state *s = &g_array_index(core->states, sensor_state, i);
            memset(s, 0, sizeof *s);
            s->closed_until = INT64_MIN;
            s->watermark_ms = INT64_MIN;
            s->cap = (guint)(core->grace / core->step) + 2;
            s->open = g_new0(open_bucket, s->cap);
            for (guint j = 0; j < s->cap; j++)
                s->open[j].acc = g_new0(void *, MAX(core->plugins->len, 1));
        }
    }
    return &g_array_index(core->states, sensor_state, sensor);
}

static tt_bucket bucket_of(tt_core *core, uint32_t sensor, int64_t start)
{
    tt_bucket b = {
        .start = start,
        .end = start + core->step,
        .sensor = sensor,
        .sensor_name = tt_core_sensor_name(core, sensor),
    };
    return b;
}

/* Reverse the @a n slots at @a a. */
static void open_reverse(open_bucket *a, guint n)
{
    for (guint i = 0; i < n / 2; i++) {
        open_bucket t = a[i];
        a[i] = a[n - 1 - i];
        a[n - 1 - i] = t;
    }
}

/* Close the open buckets of @a s that start before @a until, oldest first. */
void tt_core_close_before(tt_core *core, uint32_t sensor, sensor_state *s, int64_t until)
{
    guint closed = 0;
    while (closed < s->nopen && s->open[closed].start < until) {
        open_bucket *ob = &s->open[closed];
        tt_bucket b = bucket_of(core, sensor, ob->start);
        for (guint p = 0; p < core->plugins->len; p++) {
            tt_plugin *pl = g_ptr_array_index(core->plugins, p);
            pl->info->bucket_close(pl->state, ob->acc[p], &b);
            ob->acc[p] = NULL;
        }
        closed++;
    }
    if (closed > 0) {
        /* rotate the closed slots behind the survivors, keeping their accumulator arrays:
         * in place, by three reversals (a copy on the stack would be sized by the grace) */
        open_reverse(s->open, closed);
        open_reverse(s->open + closed, s->nopen - closed);
        open_reverse(s->open, s->nopen);
        s->nopen -= closed;
        core->stats_dirty = TRUE;
    }
    if (until > s->closed_until)
        s->closed_until = until;
}

/* The range every live sensor has closed, told to the plugins once. */
void tt_core_global_close(tt_core *core)
{
    int64_t min = INT64_MAX;
    gboolean any = FALSE;

    for (guint i = 0; i < core->states->len; i++) {
        const sensor_state *s = &g_array_index(core->states, sensor_state, i);
        if (!s->started || s->silent)
            continue;
        any = TRUE;
        if (s->closed_until < min)
            min = s->closed_until;
    }
    if (!any) {
        /* every sensor is silent: what they closed is final */
        min = INT64_MIN;
        for (guint i = 0; i < core->states->len; i++) {
            const sensor_state *s = &g_array_index(core->states, sensor_state, i);
            if (s->started && s->closed_until > min)
                min = s->closed_until;
        }
    }
    if (min == INT64_MIN || min == INT64_MAX)
        return;
    int64_t from = core->global_closed != INT64_MIN ? core->global_closed : core->earliest;
    if (min <= from)
        return;
    for (guint p = 0; p < core->plugins->len; p++) {
        tt_plugin *pl = g_ptr_array_index(core->plugins, p);
        if (pl->info->all_closed != NULL)
            pl->info->all_closed(pl->state, from, min);
    }
    tt_counters c;
    tt_core_counters(core, &c, 0);
    tt_health_closed(core->health, &c, from, min); /* behind the plugins' jobs */
    tt_core_counters_clear(&c);
    core->global_closed = min;
}

static open_bucket *sensor_bucket(tt_core *core, uint32_t sensor, sensor_state *s, int64_t start)
{
    guint i = 0;
    while (i < s->nopen && s->open[i].start < start)
        i++;
    if (i < s->nopen && s->open[i].start == start)
        return &s->open[i];
    if (s->nopen == s->cap) {
        /* cannot happen while closed_until trails the watermark by grace; stay safe */
        tt_core_close_before(core, sensor, s, s->open[0].start + core->step);
        if (i > 0)
            i--;
    }
    open_bucket spare = s->open[s->nopen];
    memmove(s->open + i + 1, s->open + i, (s->nopen - i) * sizeof *s->open);
    s->open[i] = spare;
    s->open[i].start = start;
    s->nopen++;
    if (core->earliest == INT64_MIN || start < core->earliest)
        core->earliest = start;
    tt_bucket b = bucket_of(core, sensor, start);
    for (guint p = 0; p < core->plugins->len; p++) {
        tt_plugin *pl = g_ptr_array_index(core->plugins, p);
        s->open[i].acc[p] = pl->info->bucket_open(pl->state, &b);
    }
    return &s->open[i];
}

/* ---- the flow path ------------------------------------------------------- */

/*
 * A run: consecutive flows of the batch that go to the same open bucket,
 * handed to each plugin at once (on_flows_keyed with the run's keys, ABI 1.5;
 * on_flows, ABI 1.2; or on_flow in turn), so
 * a plugin can overlap the cache misses of a run. A run ends before anything
 * else a plugin could see: another bucket or sensor, a skipped or late flow,
 * a bucket opened or closed.
 */
/* Flows ahead of the one being enriched whose GeoIP entry is already asked for:
 * enough to cover a DRAM miss with the work of the flows in between. The top
 * entry is asked for twice as far ahead: a split /16's chunk line is found
 * through it (geo.h). */
#define CORE_GEO_AHEAD 8

typedef struct {
    void **acc; /* the open bucket's accumulators; NULL: no run */
    uint32_t sensor;
    int64_t start;
    tt_flow *first;
    size_t n;
} core_run;

static gboolean plugin_has_on_flows(const tt_plugin *pl)
{
    return pl->info->struct_size >= offsetof(tt_plugin_info, on_flows) + sizeof(void *) &&
           pl->info->on_flows != NULL;
}

static gboolean plugin_has_on_flows_keyed(const tt_plugin *pl)
{
    return pl->info->struct_size >= offsetof(tt_plugin_info, on_flows_keyed) + sizeof(void *) &&
           pl->info->on_flows_keyed != NULL;
}

/*
 * The keys of a run (ABI 1.5, tt_flow_keys): computed here once, in one pass
 * over flows just enriched (still in cache), for every plugin that takes them,
 * instead of each plugin hashing the source and mapping port, country and class
 * again. The array grows to the longest run seen and is reused.
 */
static const tt_flow_keys *core_run_keys(tt_core *core, const core_run *run)
{
    if (run->n > core->keys_cap) {
        core->keys_cap = MAX(run->n, 512);
        g_free(core->keys);
        core->keys = g_new(tt_flow_keys, core->keys_cap);
    }
    for (size_t j = 0; j < run->n; j++)
        tt_flow_keys_of(&run->first[j], &core->keys[j]);
    return core->keys;
}

static void core_run_flush(tt_core *core, core_run *run)
{
    if (run->acc == NULL)
        return;
    const tt_flow_keys *keys = NULL;
    for (guint p = 0; p < core->plugins->len; p++) {
        tt_plugin *pl = g_ptr_array_index(core->plugins, p);
        if (plugin_has_on_flows_keyed(pl)) {
            if (keys == NULL)
                keys = core_run_keys(core, run);
            pl->info->on_flows_keyed(pl->state, run->acc[p], run->first, keys, run->n);
        } else if (plugin_has_on_flows(pl)) {
            pl->info->on_flows(pl->state, run->acc[p], run->first, run->n);
        } else {
            for (size_t j = 0; j < run->n; j++)
                pl->info->on_flow(pl->state, run->acc[p], &run->first[j]);
        }
    }
    run->acc = NULL;
    run->n = 0;
}

/*
 * Offer one message's flows (a sink call holds records of one exporter and
 * domain, so of one sensor, and of one message, or part of one beyond 512
 * records) to its sensor's clock (timepolicy.h). Only UDP sources are
 * spoofable: TCP connections and files move the clock as they always did,
 * and confirm it. Returns the latest start the
 * flows may have: later ones belong to a jump not yet corroborated and are
 * held back. A re-anchored clock forgets its watermark and closed range: the
 * buckets opened at the anchor's times stay open and close in time order.
 */
/*
 * Records of a jump being corroborated wait here, as received, at most
 * CORE_HELD_MAX a sensor (about 6 MiB): an honest exporter back from an outage,
 * or a replay that resumes days later, sends them at once, and refusing them
 * would lose its first minute (a replayed month, at replay speed). Past the
 * bound they are refused and counted `unconfirmed`, as a contradicted jump's are.
 */
#define CORE_HELD_MAX 65536

static void core_hold(sensor_state *s, const tt_flow *f)
{
    if (s->held == NULL)
        s->held = g_array_new(FALSE, FALSE, sizeof(tt_flow));
    if (s->held->len >= CORE_HELD_MAX) {
        s->stats.unconfirmed++;
        return;
    }
    g_array_append_vals(s->held, f, 1);
    s->stats.held = s->held->len;
}

static void core_release(tt_core *core, sensor_state *s, int64_t newest_ms);
static void core_refuse_held(sensor_state *s);

static int64_t core_sink_clock(tt_core *core, tt_exporter *exporter, uint32_t domain,
                               const tt_flow *flows, size_t n)
{
    int64_t limit = INT64_MAX, newest = INT64_MIN;
    if (n == 0 || tt_sensor_name(core->sensors, flows[0].sensor) == NULL)
        return limit;
    for (size_t i = 0; i < n; i++)
        if (flows[i].start_ms > newest)
            newest = flows[i].start_ms;
    uint32_t sensor = flows[0].sensor;
    sensor_state *s = core_state(core, sensor);
    if (exporter == NULL || tt_exporter_kind(exporter) == TT_LISTEN_IPFIX_TCP) {
        /* a TCP connection (a handshake, no blind spoofing) or a file --read: believed */
        s->clock.confirmed = TRUE;
        s->clock.cand = NULL;
        core_refuse_held(s); /* a believed stream contradicts the jump */
        return limit;
    }
    uint64_t msg = tt_exporter_get_stats(exporter)->messages;
    const char *label = tt_exporter_label(exporter);
    switch (tt_clock_offer(&s->clock, &core->clock_rules, s->started ? s->watermark_ms : INT64_MIN,
                           exporter, domain, msg, newest, g_get_monotonic_time() / G_USEC_PER_SEC,
                           &limit)) {
    case TT_CLOCK_START:
    case TT_CLOCK_FOLLOW:
        break;
    case TT_CLOCK_HELD:
        if (!s->held_logged) {
            s->held_logged = TRUE;
            g_warning("sensor %s: %s (domain %u) sends records %" G_GINT64_FORMAT
                      " s ahead of the sensor's clock; held back (unconfirmed) until %u "
                      "messages over %" G_GINT64_FORMAT " s corroborate the jump",
                      tt_sensor_name(core->sensors, sensor), label, domain,
                      (newest - s->watermark_ms) / 1000, core->clock_rules.confirm,
                      core->clock_rules.confirm_s);
        }
        break;
    case TT_CLOCK_JUMP:
        s->stats.clock_jumps++;
        g_message("sensor %s: clock jumps %" G_GINT64_FORMAT " s ahead, corroborated by %s "
                  "(domain %u)",
                  tt_sensor_name(core->sensors, sensor), (newest - s->watermark_ms) / 1000, label,
                  domain);
        /* before this message's records: they came first */
        core_release(core, s, MAX(newest, s->held_cand != NULL ? s->held_newest : newest));
        break;
    case TT_CLOCK_REANCHOR:
        s->stats.clock_reanchored++;
        g_warning("sensor %s: clock re-anchored %" G_GINT64_FORMAT " s back to %s (domain %u): "
                  "the source that started it was not corroborated",
                  tt_sensor_name(core->sensors, sensor), (s->watermark_ms - newest) / 1000, label,
                  domain);
        s->started = FALSE;
        s->watermark_ms = INT64_MIN;
        s->closed_until = INT64_MIN;
        break;
    }
    /*
     * No jump being corroborated (a message inside the window contradicted it, or
     * the clock re-anchored): what was held is refused. Another source jumping
     * ahead too does not contradict it (an exporter back from an outage, then a
     * new process for the next month): the held records wait for whichever jump
     * is corroborated, and are released only as far as its window reaches.
     */
    if (s->clock.cand == NULL) {
        core_refuse_held(s);
    } else if (s->clock.cand != s->held_cand || s->clock.cand_domain != s->held_domain) {
        s->held_cand = s->clock.cand;
        s->held_domain = s->clock.cand_domain;
        s->held_newest = newest;
    } else if (newest > s->held_newest) {
        s->held_newest = newest;
    }
    return limit;
}

/*
 * Enrich, bin and dispatch @a flows. Records starting after @a limit_ms belong
 * to a jump of the clock not yet corroborated: kept aside (core_hold). @a fresh:
 * just received, so counted as records; FALSE for held records released.
 */
static void core_dispatch(tt_core *core, tt_flow *flows, size_t n, int64_t limit_ms, gboolean fresh)
{
    int64_t step_ms = core->step * 1000;
    gboolean closed_any = FALSE;
    int64_t now = g_get_monotonic_time() / G_USEC_PER_SEC;

    core_run run = {0};

    if (fresh)
        core->records_in += n;
    for (size_t i = 0; i < MIN(n, (size_t)2 * CORE_GEO_AHEAD); i++)
        tt_geo_prefetch(core->geo, flows[i].src);
    for (size_t i = 0; i < MIN(n, (size_t)CORE_GEO_AHEAD); i++)
        tt_geo_prefetch_chunk(core->geo, flows[i].src);
    for (size_t i = 0; i < n; i++) {
        tt_flow *f = &flows[i];
        if (i + 2 * CORE_GEO_AHEAD < n)
            tt_geo_prefetch(core->geo, flows[i + 2 * CORE_GEO_AHEAD].src);
        if (i + CORE_GEO_AHEAD < n)
            tt_geo_prefetch_chunk(core->geo, flows[i + CORE_GEO_AHEAD].src);
        uint32_t sensor = f->sensor;
        if (run.acc != NULL && f != run.first + run.n)
            core_run_flush(core, &run); /* a flow was skipped: runs are contiguous */
        if (tt_sensor_name(core->sensors, sensor) == NULL) {
            core->unknown_sensor++;
            continue;
        }
        sensor_state *s = core_state(core, sensor);
        if (fresh)
            s->stats.records++;
        s->last_heard = now;
        if (!f->has_dst || !tt_sensor_is_dark(core->sensors, sensor, f->dst)) {
            s->stats.leaks++;
            continue;
        }
        if (f->start_ms > limit_ms) {
            core_hold(s, f); /* a jump of the clock not corroborated yet */
            continue;
        }
        /* older than the longest archive behind the watermark: no file could hold it, and
         * a forged record from years ago must not reach the exact rollups either */
        if (s->started && f->start_ms < s->watermark_ms - core->max_age_ms) {
            s->stats.too_old++;
            continue;
        }
        uint32_t fixed = tt_sensor_sampling(core->sensors, sensor);
        if (fixed != 0)
            f->sampling = fixed;
        bool saturated = false;
        f->packets = tt_count_mul(f->raw_packets, f->sampling, &saturated);
        f->bytes = tt_count_mul(f->raw_bytes, f->sampling, &saturated);
        if (saturated)
            s->stats.saturated++;
        tt_geo_lookup(core->geo, f->src, f->country);
        f->cls = (uint8_t)tt_classify(f);
        s->stats.observed++;
        s->stats.packets = tt_count_add(s->stats.packets, f->packets);
        s->stats.raw_packets = tt_count_add(s->stats.raw_packets, f->raw_packets);
        if (s->silent) {
            s->silent = FALSE; /* heard again: it rejoins the global close */
        }

        int64_t bstart = floor_div(f->start_ms, step_ms) * core->step;
        if (s->started && bstart < s->closed_until) {
            core_run_flush(core, &run);
            s->stats.late++;
            int64_t lag = s->watermark_ms - f->start_ms;
            if (lag > s->stats.max_lag_ms)
                s->stats.max_lag_ms = lag;
            tt_bucket b = bucket_of(core, sensor, bstart);
            for (guint p = 0; p < core->plugins->len; p++) {
                tt_plugin *pl = g_ptr_array_index(core->plugins, p);
                if (pl->info->on_late_flow != NULL)
                    pl->info->on_late_flow(pl->state, f, &b);
            }
            continue;
        }
        s->started = TRUE;
        if (f->start_ms > s->watermark_ms) {
            s->watermark_ms = f->start_ms;
            int64_t until =
                floor_div(floor_div(s->watermark_ms, 1000) - core->grace, core->step) * core->step;
            if (until > s->closed_until) {
                core_run_flush(core, &run);
                tt_core_close_before(core, sensor, s, until);
                closed_any = TRUE;
            }
        } else {
            int64_t lag = s->watermark_ms - f->start_ms;
            if (lag > s->stats.max_lag_ms)
                s->stats.max_lag_ms = lag;
        }
        if (run.acc != NULL && (run.sensor != sensor || run.start != bstart))
            core_run_flush(core, &run); /* before sensor_bucket may open or close one */
        if (run.acc == NULL) {
            run.acc = sensor_bucket(core, sensor, s, bstart)->acc;
            run.sensor = sensor;
            run.start = bstart;
            run.first = f;
        }
        run.n++;
    }
    core_run_flush(core, &run);
    /* stats.json follows within a second from the tick (stats_dirty): a rewrite per
     * closing batch was 30-39 % of the writer's time in a sparse replay */
    if (closed_any)
        tt_core_global_close(core);
}

/*
 * A held jump whose source was not contradicted: corroborated by time at the
 * tick, or by its messages alone at the stop (@a final), then released.
 */
void tt_core_settle(tt_core *core, uint32_t sensor, sensor_state *s, int64_t mono, gboolean final)
{
    if (s->held == NULL)
        return;
    if (!tt_clock_settle(&s->clock, &core->clock_rules, mono, final)) {
        if (final)
            core_refuse_held(s);
        return;
    }
    s->stats.clock_jumps++;
    g_message("sensor %s: clock jump corroborated %s; %u held records released",
              tt_sensor_name(core->sensors, sensor), final ? "at the stop" : "by time",
              s->held->len);
    core_release(core, s, s->held_newest);
}

/*
 * Release what @a s held for a jump now corroborated, in arrival order: the
 * records within the window of @a newest_ms, the newest start the corroborating
 * source sent. Records another source sent further ahead (a spoofed 2100 held
 * while an honest exporter came back from an outage) are refused, `unconfirmed`.
 */
static void core_release(tt_core *core, sensor_state *s, int64_t newest_ms)
{
    GArray *held = g_steal_pointer(&s->held);
    s->held_cand = NULL;
    s->stats.held = 0;
    if (held == NULL)
        return;
    int64_t limit = newest_ms > INT64_MAX - core->clock_rules.window_ms
                        ? INT64_MAX
                        : newest_ms + core->clock_rules.window_ms;
    tt_flow *f = (tt_flow *)(void *)held->data;
    guint kept = 0;
    for (guint i = 0; i < held->len; i++) {
        if (f[i].start_ms > limit)
            s->stats.unconfirmed++;
        else
            f[kept++] = f[i];
    }
    core_dispatch(core, f, kept, INT64_MAX, FALSE);
    g_array_free(held, TRUE);
}

/* Refuse what @a s held: the jump it belonged to was contradicted or replaced. */
static void core_refuse_held(sensor_state *s)
{
    if (s->held == NULL)
        return;
    s->stats.unconfirmed += s->held->len;
    s->stats.held = 0;
    g_array_free(g_steal_pointer(&s->held), TRUE);
    s->held_cand = NULL;
}

void tt_core_sink(void *data, tt_exporter *exporter, uint32_t domain, tt_flow *flows, size_t n)
{
    tt_core *core = data;
    int64_t limit_ms = core_sink_clock(core, exporter, domain, flows, n);
    core_dispatch(core, flows, n, limit_ms, TRUE);
}
