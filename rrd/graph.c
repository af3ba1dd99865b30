/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * graph.c - one picture from several RRD files, through librrd's grapher.
 *
 * The picture is described once, as the argv of `rrdtool graph`, and that
 * argv is both handed to rrd_graph_v and printed for the operator
 * (`teiten graph --print-command`), so the documented plain rrdtool command
 * and what teiten draws can never drift apart. The files hold rates per
 * second (ABSOLUTE counts divided by the step); a darknet port sees a few
 * packets a minute, so a CDEF scales them to packets per hour or per day
 * (the caller chooses, the axis says which) and --units-exponent=0 keeps
 * rrdtool from printing "120 m" milli-units. The legend also prints each
 * series' total over the period (rate x seconds, from the unscaled rate),
 * which is exact when the period is covered by the 1-step archive.
 *
 * Rejected: drawing with cairo ourselves (librrd already does axes, legends,
 * SVG and PNG, and Cacti users know its look).
 */
#include "graph.h"

#include <rrd.h>
#include <string.h>

#include "store.h"

static const char *const graph_colours[] = {"1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd",
                                            "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf"};

/*
 * What a data source counts, in words: the DS `flows` holds the flow records received (not
 * corrected for sampling; the rollups' and rank's "flows" are records x sampling), so its
 * axis and totals say "flow records". (transfer none)
 */
static const char *graph_ds_words(const char *ds)
{
    return strcmp(ds, "flows") == 0 ? "flow records" : ds;
}

/* "packets per hour": the English axis label of @a ds drawn per @a per seconds. (transfer full) */
static char *graph_vlabel(const char *ds, int per)
{
    const char *unit = per >= 86400  ? "day"
                       : per >= 3600 ? "hour"
                       : per >= 60   ? "minute"
                                     : "second";
    return g_strdup_printf("%s per %s", graph_ds_words(ds), unit);
}

/* rrdtool's legend text: ':' must be escaped. (transfer full) */
static char *graph_escape(const char *s)
{
    GString *out = g_string_new(NULL);
    for (; *s != '\0'; s++) {
        if (*s == ':' || *s == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *s);
    }
    return g_string_free(out, FALSE);
}

GPtrArray *tt_rrd_graph_argv(const tt_rrd_graph_spec *spec)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup("graph"));
    g_ptr_array_add(a, g_strdup(spec->output));
    g_ptr_array_add(a, g_strdup_printf("--imgformat=%s", spec->format));
    g_ptr_array_add(a, g_strdup_printf("--start=%" G_GINT64_FORMAT, spec->start));
    g_ptr_array_add(a, g_strdup_printf("--end=%" G_GINT64_FORMAT, spec->end));
    g_ptr_array_add(a, g_strdup_printf("--width=%d", spec->width));
    g_ptr_array_add(a, g_strdup_printf("--height=%d", spec->height));
    int per = spec->per > 1 ? spec->per : 1;
    g_autofree char *vlabel = graph_vlabel(spec->ds, per);
    g_ptr_array_add(
        a, g_strdup_printf("--vertical-label=%s", spec->vlabel != NULL ? spec->vlabel : vlabel));
    g_ptr_array_add(a, g_strdup("--lower-limit=0"));
    g_ptr_array_add(a, g_strdup("--units-exponent=0"));
    /* dates as numbers, not rrdtool's English "Week 01" / "Mon": the same on en and ja pages */
    int64_t span = spec->end - spec->start;
    if (span >= 120 * 86400)
        g_ptr_array_add(a, g_strdup("--x-grid=DAY:7:MONTH:1:MONTH:1:0:%Y-%m"));
    else if (span >= 14 * 86400)
        g_ptr_array_add(a, g_strdup("--x-grid=DAY:1:WEEK:1:WEEK:1:0:%m/%d"));
    else if (span >= 3 * 86400)
        g_ptr_array_add(a, g_strdup("--x-grid=HOUR:6:DAY:1:DAY:1:0:%m/%d"));
    if (spec->title != NULL)
        g_ptr_array_add(a, g_strdup_printf("--title=%s", spec->title));
    if (spec->daemon != NULL)
        g_ptr_array_add(a, g_strdup_printf("--daemon=%s", spec->daemon));
    for (guint i = 0; i < spec->series->len; i++) {
        const tt_rrd_series *s = g_ptr_array_index(spec->series, i);
        g_autofree char *file = graph_escape(s->file);
        g_autofree char *label = graph_escape(s->label);
        const char *colour = graph_colours[i % G_N_ELEMENTS(graph_colours)];
        g_ptr_array_add(a, g_strdup_printf("DEF:r%u=%s:%s:AVERAGE", i, file, spec->ds));
        g_ptr_array_add(a, g_strdup_printf("CDEF:s%u=r%u,%d,*", i, i, per));
        g_ptr_array_add(a, g_strdup_printf("VDEF:t%u=r%u,TOTAL", i, i));
        if (spec->stacked)
            g_ptr_array_add(
                a, g_strdup_printf("AREA:s%u#%s:%s%s", i, colour, label, i > 0 ? ":STACK" : ""));
        else
            g_ptr_array_add(a, g_strdup_printf("LINE1:s%u#%s:%s", i, colour, label));
        if (spec->total_fmt != NULL) {
            g_autofree char *fmt = graph_escape(spec->total_fmt);
            g_ptr_array_add(a, g_strdup_printf("GPRINT:t%u:%s\\l", i, fmt));
        } else {
            g_ptr_array_add(
                a, g_strdup_printf("GPRINT:t%u:total %%.0lf %s\\l", i, graph_ds_words(spec->ds)));
        }
    }
    return a;
}

/* librrd's grapher on @a argv, its error wrapped for @a output. (transfer full) */
static rrd_info_t *graph_run(GPtrArray *argv, const char *output, GError **error)
{
    rrd_clear_error();
    rrd_info_t *info = rrd_graph_v((int)argv->len, (char **)argv->pdata);
    if (info == NULL) {
        const char *msg = rrd_get_error();
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_LIBRRD, "graph %s: %s", output,
                    msg != NULL && *msg != '\0' ? msg : "failed");
        rrd_clear_error();
    }
    return info;
}

gboolean tt_rrd_graph_draw(const tt_rrd_graph_spec *spec, int *width, int *height, GError **error)
{
    g_return_val_if_fail(spec != NULL && spec->series != NULL && spec->series->len > 0, FALSE);
    g_autoptr(GPtrArray) argv = tt_rrd_graph_argv(spec);
    rrd_info_t *info = graph_run(argv, spec->output, error);
    if (info == NULL)
        return FALSE;
    *width = *height = 0;
    for (rrd_info_t *it = info; it != NULL; it = it->next) {
        if (strcmp(it->key, "image_width") == 0)
            *width = (int)it->value.u_cnt;
        else if (strcmp(it->key, "image_height") == 0)
            *height = (int)it->value.u_cnt;
    }
    rrd_info_free(info);
    return TRUE;
}

gboolean tt_rrd_graph_choose_per(tt_rrd_graph_spec *spec, GError **error)
{
    g_return_val_if_fail(spec != NULL && spec->series != NULL, FALSE);
    if (spec->per > 0)
        return TRUE;
    /* the highest rate of any series over the period, printed by rrdtool itself */
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup("graph"));
    g_ptr_array_add(a, g_strdup("/dev/null"));
    g_ptr_array_add(a, g_strdup_printf("--start=%" G_GINT64_FORMAT, spec->start));
    g_ptr_array_add(a, g_strdup_printf("--end=%" G_GINT64_FORMAT, spec->end));
    if (spec->daemon != NULL)
        g_ptr_array_add(a, g_strdup_printf("--daemon=%s", spec->daemon));
    for (guint i = 0; i < spec->series->len; i++) {
        const tt_rrd_series *s = g_ptr_array_index(spec->series, i);
        g_autofree char *file = graph_escape(s->file);
        g_ptr_array_add(a, g_strdup_printf("DEF:r%u=%s:%s:AVERAGE", i, file, spec->ds));
        g_ptr_array_add(a, g_strdup_printf("VDEF:m%u=r%u,MAXIMUM", i, i));
        g_ptr_array_add(a, g_strdup_printf("PRINT:m%u:%%.9lf", i));
    }
    rrd_info_t *info = graph_run(a, spec->output, error);
    g_ptr_array_unref(a);
    if (info == NULL)
        return FALSE;
    double peak = 0;
    for (rrd_info_t *it = info; it != NULL; it = it->next) {
        if (g_str_has_prefix(it->key, "print[") && it->type == RD_I_STR) {
            double v = g_ascii_strtod(it->value.u_str, NULL);
            if (v == v && v > peak) /* NaN: a series without data */
                peak = v;
        }
    }
    rrd_info_free(info);
    /* per hour while the peak reaches 10 an hour; quieter graphs per day */
    spec->per = peak * 3600.0 >= 10.0 ? 3600 : 86400;
    return TRUE;
}

char *tt_rrd_graph_command(GPtrArray *argv)
{
    GString *out = g_string_new("rrdtool");
    for (guint i = 0; i < argv->len; i++) {
        g_autofree char *q = g_shell_quote(g_ptr_array_index(argv, i));
        g_string_append_c(out, ' ');
        g_string_append(out, q);
    }
    return g_string_free(out, FALSE);
}
