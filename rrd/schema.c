/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * schema.c - what a teiten RRD file looks like, creating one safely and
 * recognising one.
 *
 * Data sources: flows, packets, bytes are ABSOLUTE (the value written at a
 * step's end is that step's count, so rate x step gives it back exactly),
 * sources is a GAUGE (distinct source addresses in the step). Every heartbeat
 * is 400 days: an idle gap never turns into unknown by itself; the store
 * writes 0 or U explicitly (store.c). Archives ([collector] rrd-archives, by
 * default 1 step, 1 hour and 1 day): AVERAGE at each resolution; total,
 * country, sensor and self files add MAX at each one coarser than the step;
 * the check of an existing file compares them too. Every
 * xff is 0, so a consolidated row with any unknown step is unknown, never an
 * average of what happened to be there (a day with downtime must not read as
 * a full day).
 *
 * Creation: rrd_create_r2's no-overwrite flag checks then writes, which races
 * with a second creator; instead the file is written under a temporary name
 * in the same directory and published with link(), which fails with EEXIST
 * if anyone got there first. The temporary is always unlinked.
 */
/* rrd_format.h's on-disk structures, which rrd.h shows only on request (as an API they
 * may change; as the file format "0003" they have not since librrd 1.2) */
#define RRD_EXPORT_DEPRECATED
#include "rrd_private.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <rrd.h> /* with rrd_format.h: RRD_EXPORT_DEPRECATED above */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TT_RRD_HEARTBEAT (400 * 86400)

G_DEFINE_QUARK(tt_rrd_error_quark, tt_rrd_error)

static const char *const rrd_ds_names[] = {"flows", "packets", "bytes", "sources"};
/*
 * The self RRD: the collector's own health; order matters (tt_rrd_store_update_self,
 * TT_RRD_SELF_* in store.h). The drop_* sources follow collector/decode.h's tt_drop_reason
 * (malformed, decode_error, template_cap, unknown_exporter, v5, domain_cap), shortened to fit RRD's
 * 19-character names.
 */
static const char *const rrd_self_names[] = {
    "records",     "observed",      "leaks",        "late",    "drop_malformed",
    "drop_decode", "drop_tmpl_cap", "drop_unk_exp", "drop_v5", "drop_dom_cap",
    "exporters",   "writer_lag",    "rrd_past",
};
static const gboolean rrd_self_gauge[] = {FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE,
                                          FALSE, FALSE, FALSE, TRUE,  TRUE,  FALSE};
G_STATIC_ASSERT(G_N_ELEMENTS(rrd_self_names) == TT_RRD_SELF_DS_COUNT);
G_STATIC_ASSERT(G_N_ELEMENTS(rrd_self_gauge) == TT_RRD_SELF_DS_COUNT);

guint tt_rrd_self_ds_count(void)
{
    return G_N_ELEMENTS(rrd_self_names);
}

tt_rrd_archives tt_rrd_archives_default(int64_t step)
{
    tt_rrd_archives a = {.step = step, .n = 3};
    a.rra[0].steps = 1;
    a.rra[0].rows = (uint32_t)((2 * 86400 + step - 1) / step);
    a.rra[1].steps = (uint32_t)(3600 / step);
    a.rra[1].rows = 90 * 24;
    a.rra[2].steps = (uint32_t)(86400 / step);
    a.rra[2].rows = 3 * 365 + 1;
    return a;
}

/* "300", "5m", "2d", "3y": seconds; FALSE on anything else or on overflow. */
static gboolean parse_duration(const char *text, int64_t step, int64_t *out)
{
    static const struct {
        char unit;
        int64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}, {'y', 31557600}};
    if (step > 0 && strcmp(text, "step") == 0) {
        *out = step;
        return TRUE;
    }
    int64_t v = 0, mult = 1;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (G_MAXINT32 - (*p - '0')) / 10)
            return FALSE;
        v = v * 10 + (*p - '0');
    }
    if (p == text)
        return FALSE;
    if (*p != '\0') {
        guint i = 0;
        while (i < G_N_ELEMENTS(units) && units[i].unit != *p)
            i++;
        if (i == G_N_ELEMENTS(units) || p[1] != '\0')
            return FALSE;
        mult = units[i].seconds;
    }
    *out = v * mult;
    return *out > 0;
}

gboolean tt_rrd_archives_parse(const char *text, int64_t step, tt_rrd_archives *out, GError **error)
{
    tt_rrd_archives a = {.step = step};
    int64_t res[TT_RRD_ARCHIVES_MAX];
    g_auto(GStrv) items = g_strsplit(text, ";", -1);
    for (guint i = 0; items[i] != NULL; i++) {
        char *item = g_strstrip(items[i]);
        if (*item == '\0')
            continue; /* "a; b;" like every list of the configuration */
        char *colon = strchr(item, ':');
        int64_t r = 0, keep = 0;
        if (colon != NULL)
            *colon = '\0';
        if (colon == NULL || !parse_duration(g_strstrip(item), step, &r) ||
            !parse_duration(g_strstrip(colon + 1), 0, &keep)) {
            if (colon != NULL)
                *colon = ':';
            g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA,
                        "\"%s\" is not RESOLUTION:RETENTION (e.g. 1h:90d)", item);
            return FALSE;
        }
        if (r % step != 0 || keep < r) {
            g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA,
                        "%s:%s: the resolution (%" G_GINT64_FORMAT
                        " s) must be a multiple of the step (%" G_GINT64_FORMAT
                        " s) and the retention at least one resolution",
                        item, g_strstrip(colon + 1), r, step);
            return FALSE;
        }
        if (a.n == TT_RRD_ARCHIVES_MAX) {
            g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA, "more than %d archives",
                        TT_RRD_ARCHIVES_MAX);
            return FALSE;
        }
        /* insert sorted by resolution; two archives of one resolution would be one RRA twice */
        guint at = a.n;
        while (at > 0 && res[at - 1] > r)
            at--;
        if (at > 0 && res[at - 1] == r) {
            g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA,
                        "resolution %" G_GINT64_FORMAT " s given twice", r);
            return FALSE;
        }
        memmove(&res[at + 1], &res[at], (a.n - at) * sizeof res[0]);
        memmove(&a.rra[at + 1], &a.rra[at], (a.n - at) * sizeof a.rra[0]);
        res[at] = r;
        a.rra[at].steps = (uint32_t)(r / step);
        int64_t rows = (keep + r - 1) / r;
        if (rows > G_MAXINT32) {
            g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA, "%s: too many rows", item);
            return FALSE;
        }
        a.rra[at].rows = (uint32_t)rows;
        a.n++;
    }
    if (a.n == 0) {
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA, "no archive");
        return FALSE;
    }
    *out = a;
    return TRUE;
}

int64_t tt_rrd_archives_span(const tt_rrd_archives *a)
{
    int64_t span = 0;
    for (guint i = 0; i < a->n; i++)
        span = MAX(span, a->step * a->rra[i].steps * (int64_t)a->rra[i].rows);
    return span;
}

static gboolean kind_has_max(tt_rrd_kind kind)
{
    return kind != TT_RRD_PORT;
}

static guint kind_ds_count(tt_rrd_kind kind)
{
    return kind == TT_RRD_SELF ? G_N_ELEMENTS(rrd_self_names) : G_N_ELEMENTS(rrd_ds_names);
}

/* Does archive @a i of @a a get a MAX twin in a file of @a kind? */
static gboolean rra_has_max(const tt_rrd_archives *a, guint i, tt_rrd_kind kind)
{
    return kind_has_max(kind) && a->rra[i].steps > 1;
}

/* The RRAs of a file in file order: every AVERAGE, finest first, then the MAX twins. */
static guint rra_list(const tt_rrd_archives *a, tt_rrd_kind kind, guint idx[], const char *cf[])
{
    guint n = 0;
    for (guint i = 0; i < a->n; i++, n++) {
        idx[n] = i;
        cf[n] = "AVERAGE";
    }
    for (guint i = 0; i < a->n; i++)
        if (rra_has_max(a, i, kind)) {
            idx[n] = i;
            cf[n++] = "MAX";
        }
    return n;
}

uint64_t tt_rrd_file_size(const tt_rrd_archives *a, tt_rrd_kind kind)
{
    guint idx[2 * TT_RRD_ARCHIVES_MAX];
    const char *cf[2 * TT_RRD_ARCHIVES_MAX];
    guint nds = kind_ds_count(kind);
    guint nrra = rra_list(a, kind, idx, cf);
    uint64_t rows = 0;
    for (guint i = 0; i < nrra; i++)
        rows += a->rra[idx[i]].rows;
    /* librrd 1.7 layout: stat_head 128, ds_def 120 + pdp_prep 112 per DS,
     * rra_def 120 + rra_ptr 8 + cdp_prep 80 per DS per RRA, live_head 16, then doubles */
    uint64_t header = 128 + (uint64_t)nds * (120 + 112) + (uint64_t)nrra * (120 + 8) +
                      (uint64_t)nrra * nds * 80 + 16;
    return header + rows * nds * 8;
}

/* The argv of rrd_create_r2 after the file name. (transfer full) */
static GPtrArray *schema_argv(tt_rrd_kind kind, const tt_rrd_archives *a)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    guint nds = kind_ds_count(kind);
    for (guint i = 0; i < nds; i++) {
        const char *name = kind == TT_RRD_SELF ? rrd_self_names[i] : rrd_ds_names[i];
        gboolean gauge = kind == TT_RRD_SELF ? rrd_self_gauge[i] : i == 3;
        g_ptr_array_add(argv, g_strdup_printf("DS:%s:%s:%d:0:U", name, gauge ? "GAUGE" : "ABSOLUTE",
                                              TT_RRD_HEARTBEAT));
    }
    guint idx[2 * TT_RRD_ARCHIVES_MAX];
    const char *cf[2 * TT_RRD_ARCHIVES_MAX];
    guint nrra = rra_list(a, kind, idx, cf);
    for (guint i = 0; i < nrra; i++)
        g_ptr_array_add(argv, g_strdup_printf("RRA:%s:0:%u:%u", cf[i], a->rra[idx[i]].steps,
                                              a->rra[idx[i]].rows));
    return argv;
}

/* The CREATE line for rrdcached (paths it resolves itself). (transfer full) */
char *tt_rrd_create_line(const char *path, tt_rrd_kind kind, const tt_rrd_archives *a,
                         int64_t start)
{
    g_autoptr(GPtrArray) argv = schema_argv(kind, a);
    GString *line = g_string_new(NULL);
    g_string_printf(line, "CREATE %s -b %" G_GINT64_FORMAT " -s %" G_GINT64_FORMAT " -O", path,
                    start, a->step);
    for (guint i = 0; i < argv->len; i++)
        g_string_append_printf(line, " %s", (char *)g_ptr_array_index(argv, i));
    return g_string_free(line, FALSE);
}

static gboolean rrd_fail(GError **error, int code, const char *what, const char *path)
{
    const char *msg = rrd_get_error();
    g_set_error(error, TT_RRD_ERROR, code, "%s %s: %s", what, path,
                msg != NULL && *msg != '\0' ? msg : "failed");
    rrd_clear_error();
    return FALSE;
}

gboolean tt_rrd_create_file(const char *path, tt_rrd_kind kind, const tt_rrd_archives *a,
                            int64_t start, gboolean *created, GError **error)
{
    *created = FALSE;
    if (g_file_test(path, G_FILE_TEST_EXISTS))
        return TRUE; /* before anything is made for the creation: most first touches */
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *tmp = NULL;
    g_autoptr(GPtrArray) argv = schema_argv(kind, a);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int saved = errno;
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_IO, "mkdir %s: %s", dir, g_strerror(saved));
        return FALSE;
    }
    tmp = g_strdup_printf("%s.tmp.%d.%p", path, (int)getpid(), (void *)g_thread_self());
    rrd_clear_error();
    if (rrd_create_r2(tmp, (unsigned long)a->step, (time_t)start, 0, NULL, NULL, (int)argv->len,
                      (const char **)argv->pdata) != 0) {
        unlink(tmp);
        return rrd_fail(error, TT_RRD_ERROR_LIBRRD, "create", path);
    }
    if (link(tmp, path) == 0) {
        *created = TRUE;
    } else if (errno != EEXIST) {
        int saved = errno;
        unlink(tmp);
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_IO, "publish %s: %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    unlink(tmp);
    return TRUE;
}

static const rrd_info_t *info_find(const rrd_info_t *info, const char *key)
{
    for (; info != NULL; info = info->next)
        if (strcmp(info->key, key) == 0)
            return info;
    return NULL;
}

/*
 * The header check without librrd, for a file that passes it: the structures
 * librrd writes (rrd_format.h, this machine's layout: librrd writes them as
 * they are in memory) read from the file's first page. rrd_info_r opens, maps
 * and locks the file and makes a list of every value as strings: 88-118 us a
 * new port file against 9-11 us here (2,000 files, load 5), 0.3 ms on a busy
 * disk; for the first touch of each of a port space's 131,326 files after a
 * restart, 12-40 s of the writer's time. FALSE for anything this reading cannot
 * vouch for (another version, a short read, a mismatch, a size not librrd's):
 * rrd_info_r then decides, and says why. Held to it by test_rrd_store
 * (/rrd/check-header).
 */
gboolean tt_rrd_check_header(const char *path, tt_rrd_kind kind, const tt_rrd_archives *a,
                             int64_t *last)
{
    guint idx[2 * TT_RRD_ARCHIVES_MAX];
    const char *cf[2 * TT_RRD_ARCHIVES_MAX];
    guint nds = kind_ds_count(kind), nrra = rra_list(a, kind, idx, cf);
    size_t need = sizeof(stat_head_t) + nds * sizeof(ds_def_t) + nrra * sizeof(rra_def_t) +
                  sizeof(live_head_t);
    union {
        stat_head_t head;
        uint8_t bytes[8192];
    } buf;
    if (need > sizeof buf)
        return FALSE;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FALSE;
    struct stat sb;
    ssize_t got = fstat(fd, &sb) == 0 ? pread(fd, buf.bytes, need, 0) : -1;
    (void)close(fd);
    if (got != (ssize_t)need || (uint64_t)sb.st_size != tt_rrd_file_size(a, kind))
        return FALSE;
    const stat_head_t *h = &buf.head;
    if (memcmp(h->cookie, RRD_COOKIE, sizeof RRD_COOKIE) != 0 ||
        memcmp(h->version, RRD_VERSION3, sizeof RRD_VERSION3) != 0 ||
        h->float_cookie != FLOAT_COOKIE || h->ds_cnt != nds || h->rra_cnt != nrra ||
        h->pdp_step != (unsigned long)a->step)
        return FALSE;
    ds_def_t ds[TT_RRD_SELF_DS_COUNT];
    G_STATIC_ASSERT(TT_RRD_SELF_DS_COUNT >= 4);
    if (nds > G_N_ELEMENTS(ds))
        return FALSE;
    memcpy(ds, buf.bytes + sizeof(stat_head_t), nds * sizeof(ds_def_t));
    for (guint i = 0; i < nds; i++) {
        const char *name = kind == TT_RRD_SELF ? rrd_self_names[i] : rrd_ds_names[i];
        gboolean gauge = kind == TT_RRD_SELF ? rrd_self_gauge[i] : i == 3;
        /* rrd_info finds a data source by name, wherever it is: so here */
        guint j = 0;
        while (j < nds && strncmp(ds[j].ds_nam, name, DS_NAM_SIZE) != 0)
            j++;
        if (j == nds || strncmp(ds[j].dst, gauge ? "GAUGE" : "ABSOLUTE", DST_SIZE) != 0)
            return FALSE;
    }
    const uint8_t *p = buf.bytes + sizeof(stat_head_t) + nds * sizeof(ds_def_t);
    for (guint i = 0; i < nrra; i++, p += sizeof(rra_def_t)) {
        rra_def_t r;
        memcpy(&r, p, sizeof r);
        if (strncmp(r.cf_nam, cf[i], CF_NAM_SIZE) != 0 || r.pdp_cnt != a->rra[idx[i]].steps ||
            r.row_cnt != a->rra[idx[i]].rows)
            return FALSE;
    }
    live_head_t live;
    memcpy(&live, p, sizeof live);
    *last = (int64_t)live.last_up;
    return TRUE;
}

gboolean tt_rrd_check_file(const char *path, tt_rrd_kind kind, const tt_rrd_archives *a,
                           int64_t *last, GError **error)
{
    return tt_rrd_check_header(path, kind, a, last) ||
           tt_rrd_check_file_librrd(path, kind, a, last, error);
}

gboolean tt_rrd_check_file_librrd(const char *path, tt_rrd_kind kind, const tt_rrd_archives *a,
                                  int64_t *last, GError **error)
{
    rrd_clear_error();
    rrd_info_t *info = rrd_info_r(path);
    if (info == NULL)
        return rrd_fail(error, TT_RRD_ERROR_LIBRRD, "info", path);
    gboolean ok = TRUE;
    GString *why = g_string_new(NULL);
    const rrd_info_t *it = info_find(info, "step");
    if (it == NULL || it->value.u_cnt != (unsigned long)a->step)
        g_string_append_printf(why, "step %lu, expected %" G_GINT64_FORMAT "; ",
                               it != NULL ? it->value.u_cnt : 0UL, a->step);
    guint nds = kind_ds_count(kind);
    for (guint i = 0; i < nds; i++) {
        const char *name = kind == TT_RRD_SELF ? rrd_self_names[i] : rrd_ds_names[i];
        gboolean gauge = kind == TT_RRD_SELF ? rrd_self_gauge[i] : i == 3;
        g_autofree char *key = g_strdup_printf("ds[%s].type", name);
        it = info_find(info, key);
        if (it == NULL || strcmp(it->value.u_str, gauge ? "GAUGE" : "ABSOLUTE") != 0)
            g_string_append_printf(why, "data source %s missing or not %s; ", name,
                                   gauge ? "GAUGE" : "ABSOLUTE");
    }
    for (it = info; it != NULL; it = it->next) {
        if (g_str_has_prefix(it->key, "ds[") && g_str_has_suffix(it->key, "].index") &&
            it->value.u_cnt >= nds)
            g_string_append_printf(why, "extra data source %s; ", it->key);
    }
    /* the archives too: a file with other resolutions or retentions would read
     * differently from its neighbours, and rewriting it would lose its history */
    guint idx[2 * TT_RRD_ARCHIVES_MAX];
    const char *cf[2 * TT_RRD_ARCHIVES_MAX];
    guint nrra = rra_list(a, kind, idx, cf);
    for (guint i = 0; i < nrra; i++) {
        g_autofree char *kcf = g_strdup_printf("rra[%u].cf", i);
        g_autofree char *kpdp = g_strdup_printf("rra[%u].pdp_per_row", i);
        g_autofree char *krows = g_strdup_printf("rra[%u].rows", i);
        const rrd_info_t *icf = info_find(info, kcf), *ipdp = info_find(info, kpdp),
                         *irows = info_find(info, krows);
        if (icf == NULL || ipdp == NULL || irows == NULL || strcmp(icf->value.u_str, cf[i]) != 0 ||
            ipdp->value.u_cnt != a->rra[idx[i]].steps || irows->value.u_cnt != a->rra[idx[i]].rows)
            g_string_append_printf(why, "archive %u not %s:%u:%u; ", i, cf[i], a->rra[idx[i]].steps,
                                   a->rra[idx[i]].rows);
    }
    {
        g_autofree char *kextra = g_strdup_printf("rra[%u].cf", nrra);
        if (info_find(info, kextra) != NULL)
            g_string_append_printf(why, "more than %u archives; ", nrra);
    }
    it = info_find(info, "last_update");
    *last = it != NULL ? (int64_t)it->value.u_cnt : 0;
    if (why->len > 0) {
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_SCHEMA,
                    "%s has another schema (%.*s): left untouched, not written", path,
                    (int)why->len - 2, why->str);
        ok = FALSE;
    }
    g_string_free(why, TRUE);
    rrd_info_free(info);
    return ok;
}

gboolean tt_rrd_update_direct(const char *path, char **values, int n, GError **error)
{
    rrd_clear_error();
    if (rrd_updatex_r(path, NULL, RRD_SKIP_PAST_UPDATES, n, (const char **)values) != 0)
        return rrd_fail(error, TT_RRD_ERROR_LIBRRD, "update", path);
    return TRUE;
}
