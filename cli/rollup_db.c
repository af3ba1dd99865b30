/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rollup_db.c - read-only access to rollup.sqlite for `teiten rank`.
 *
 * Safety next to a running collector: the plugin writes in WAL mode, so a
 * reader never blocks it and is never blocked by it; we open read-only,
 * wait (busy timeout) instead of failing on the rare moment the WAL is being
 * checkpointed, and run every query of a report inside one read transaction
 * so all of them see the same committed buckets. Days are the stored local
 * dates: a period is a range of day strings, so no time-zone arithmetic
 * happens here at all (the zone was applied once, by the collector).
 */
#include "rollup_db.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>

struct tt_rollup_db {
    char *path;
    sqlite3 *db;
    char *timezone;
    gboolean in_txn;
};

static gboolean db_fail(tt_rollup_db *db, GError **error)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", db->path,
                db->db != NULL ? sqlite3_errmsg(db->db) : "out of memory");
    return FALSE;
}

tt_rollup_db *tt_rollup_db_open(const char *path, GError **error)
{
    tt_rollup_db *db = g_new0(tt_rollup_db, 1);
    sqlite3_stmt *st = NULL;
    db->path = g_strdup(path);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "%s: no such file (is [plugin:rollup] in the collector's configuration?)",
                    path);
        goto err_free;
    }
    if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        db_fail(db, error);
        goto err_free;
    }
    sqlite3_busy_timeout(db->db, 10000);
    if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(db, error);
        goto err_free;
    }
    db->in_txn = TRUE;
    if (sqlite3_prepare_v2(db->db, "SELECT value FROM meta WHERE key = 'timezone'", -1, &st,
                           NULL) != SQLITE_OK) {
        db_fail(db, error);
        g_prefix_error(error, "not a teiten rollup database: ");
        goto err_free;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        db->timezone = g_strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (db->timezone == NULL) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: records no time zone; not a teiten rollup database", path);
        goto err_free;
    }
    return db;

err_free:
    tt_rollup_db_free(db);
    return NULL;
}

void tt_rollup_db_free(tt_rollup_db *db)
{
    if (db == NULL)
        return;
    if (db->in_txn)
        sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db->db);
    g_free(db->timezone);
    g_free(db->path);
    g_free(db);
}

const char *tt_rollup_db_timezone(const tt_rollup_db *db)
{
    return db->timezone;
}

const char *tt_rollup_db_path(const tt_rollup_db *db)
{
    return db->path;
}

gboolean tt_rollup_db_sum(tt_rollup_db *db, const char *dim, const char *from, const char *to,
                          const char *cls, const char *sensor, GHashTable *sums, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "SELECT key, sum(flows), sum(packets), sum(bytes), sum(records)"
                           " FROM counts WHERE dim = ?1 AND day BETWEEN ?2 AND ?3"
                           " AND (?4 IS NULL OR cls = ?4) AND (?5 IS NULL OR sensor = ?5)"
                           " GROUP BY key",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, error);
    sqlite3_bind_text(st, 1, dim, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
    if (cls != NULL)
        sqlite3_bind_text(st, 4, cls, -1, SQLITE_STATIC);
    if (sensor != NULL)
        sqlite3_bind_text(st, 5, sensor, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        tt_rank_counts *c = g_hash_table_lookup(sums, key);
        if (c == NULL) {
            c = g_new0(tt_rank_counts, 1);
            g_hash_table_insert(sums, g_strdup(key), c);
        }
        c->flows += (guint64)sqlite3_column_int64(st, 1);
        c->packets += (guint64)sqlite3_column_int64(st, 2);
        c->bytes += (guint64)sqlite3_column_int64(st, 3);
        c->records += (guint64)sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, error);
    return TRUE;
}

gboolean tt_rollup_db_sources(tt_rollup_db *db, const char *from, const char *to,
                              const char *sensor, GHashTable *sketches, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "SELECT country, hll FROM sources WHERE day BETWEEN ?1 AND ?2"
                           " AND (?3 IS NULL OR sensor = ?3)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, error);
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    if (sensor != NULL)
        sqlite3_bind_text(st, 3, sensor, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 1) != (int)ROLLUP_HLL_M)
            continue;
        const char *cc = (const char *)sqlite3_column_text(st, 0);
        const guint8 *regs = sqlite3_column_blob(st, 1);
        guint8 *acc = g_hash_table_lookup(sketches, cc);
        if (acc == NULL) {
            acc = g_malloc0(ROLLUP_HLL_M);
            g_hash_table_insert(sketches, g_strdup(cc), acc);
        }
        rollup_hll_merge(acc, regs);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, error);
    return TRUE;
}

double tt_rollup_hll_estimate(const guint8 *regs)
{
    const double m = ROLLUP_HLL_M;
    double sum = 0;
    guint zeros = 0;
    for (guint i = 0; i < ROLLUP_HLL_M; i++) {
        sum += ldexp(1.0, -(int)regs[i]);
        zeros += regs[i] == 0;
    }
    double e = (0.7213 / (1.0 + 1.079 / m)) * m * m / sum;
    /* small range: linear counting is far better while registers are still empty */
    if (e <= 2.5 * m && zeros > 0)
        e = m * log(m / zeros);
    return e;
}

/* ---- per-sensor facts (teiten report's coverage and notes) ----------------- */

static void rollup_day_clear(gpointer p)
{
    g_free(((tt_rollup_day *)p)->sensor);
}

static void rollup_fact_clear(gpointer p)
{
    tt_rollup_fact *f = p;
    g_free(f->sensor);
    g_free(f->type);
}

GArray *tt_rollup_days_new(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(tt_rollup_day));
    g_array_set_clear_func(a, rollup_day_clear);
    return a;
}

GArray *tt_rollup_facts_new(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(tt_rollup_fact));
    g_array_set_clear_func(a, rollup_fact_clear);
    return a;
}

static sqlite3_stmt *rollup_query(tt_rollup_db *db, const char *sql, const char *from,
                                  const char *to, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_fail(db, error);
        return NULL;
    }
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    return st;
}

gboolean tt_rollup_db_days(tt_rollup_db *db, const char *from, const char *to, GArray *days,
                           GError **error)
{
    sqlite3_stmt *st =
        rollup_query(db,
                     "SELECT day, sensor, buckets, records, leaks, late, coverage_min"
                     " FROM sensor_day WHERE day BETWEEN ?1 AND ?2"
                     " ORDER BY day, sensor",
                     from, to, error);
    if (st == NULL)
        return FALSE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tt_rollup_day d = {.sensor = g_strdup((const char *)sqlite3_column_text(st, 1))};
        g_strlcpy(d.day, (const char *)sqlite3_column_text(st, 0), sizeof d.day);
        d.buckets = (guint64)sqlite3_column_int64(st, 2);
        d.records = (guint64)sqlite3_column_int64(st, 3);
        d.leaks = (guint64)sqlite3_column_int64(st, 4);
        d.late = (guint64)sqlite3_column_int64(st, 5);
        d.coverage_min = (guint64)sqlite3_column_int64(st, 6);
        g_array_append_val(days, d);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TRUE : db_fail(db, error);
}

static gboolean rollup_facts(tt_rollup_db *db, const char *sql, gboolean typed, const char *from,
                             const char *to, GArray *facts, GError **error)
{
    sqlite3_stmt *st = rollup_query(db, sql, from, to, error);
    if (st == NULL)
        return FALSE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tt_rollup_fact f = {.sensor = g_strdup((const char *)sqlite3_column_text(st, 0))};
        if (typed)
            f.type = g_strdup((const char *)sqlite3_column_text(st, 5));
        f.value = sqlite3_column_int64(st, 1);
        f.records = (guint64)sqlite3_column_int64(st, 2);
        g_strlcpy(f.first, (const char *)sqlite3_column_text(st, 3), sizeof f.first);
        g_strlcpy(f.last, (const char *)sqlite3_column_text(st, 4), sizeof f.last);
        g_array_append_val(facts, f);
        /* cppcheck-suppress memleak ; the array owns f's strings now (rollup_fact_clear) */
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TRUE : db_fail(db, error);
}

gboolean tt_rollup_db_sampling(tt_rollup_db *db, const char *from, const char *to, GArray *facts,
                               GError **error)
{
    return rollup_facts(db,
                        "SELECT sensor, rate, sum(records), min(day), max(day) FROM sampling"
                        " WHERE day BETWEEN ?1 AND ?2 GROUP BY sensor, rate ORDER BY sensor, rate",
                        FALSE, from, to, facts, error);
}

gboolean tt_rollup_db_geoip(tt_rollup_db *db, const char *from, const char *to, GArray *facts,
                            GError **error)
{
    return rollup_facts(db,
                        "SELECT sensor, build, count(*), min(day), max(day), type FROM geoip"
                        " WHERE day BETWEEN ?1 AND ?2 GROUP BY sensor, type, build"
                        " ORDER BY sensor, min(day)",
                        TRUE, from, to, facts, error);
}

static void rollup_loss_clear(gpointer data)
{
    tt_rollup_loss *l = data;
    g_free(l->scope);
    g_free(l->name);
    g_free(l->reason);
    g_free(l->unit);
}

GArray *tt_rollup_losses_new(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(tt_rollup_loss));
    g_array_set_clear_func(a, rollup_loss_clear);
    return a;
}

gboolean tt_rollup_db_losses(tt_rollup_db *db, const char *from, const char *to, const char *sensor,
                             GArray *losses, gboolean *recorded, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'loss'", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(db, error);
    gboolean has = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!has) {
        *recorded = FALSE;
        return TRUE;
    }
    st = rollup_query(
        db,
        "SELECT scope, name, reason, max(unit), sum(count) FROM loss"
        " WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR scope NOT IN ('sensor', 'exporters')"
        " OR name = ?3 OR (scope = 'exporters' AND name IN ('all', 'unattributed')))"
        " GROUP BY scope, name, reason ORDER BY CASE scope WHEN 'listener' THEN 0"
        " WHEN 'exporters' THEN 1 WHEN 'sensor' THEN 2 ELSE 3 END, scope, name, reason",
        from, to, error);
    if (st == NULL)
        return FALSE;
    if (sensor != NULL)
        sqlite3_bind_text(st, 3, sensor, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *scope = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *reason = (const char *)sqlite3_column_text(st, 2);
        guint64 count = (guint64)sqlite3_column_int64(st, 4);
        guint i;
        for (i = 0; i < losses->len; i++) {
            tt_rollup_loss *l = &g_array_index(losses, tt_rollup_loss, i);
            if (strcmp(l->scope, scope) == 0 && strcmp(l->name, name) == 0 &&
                strcmp(l->reason, reason) == 0) {
                l->count += count;
                break;
            }
        }
        if (i < losses->len)
            continue;
        tt_rollup_loss l = {g_strdup(scope), g_strdup(name), g_strdup(reason),
                            g_strdup((const char *)sqlite3_column_text(st, 3)), count};
        g_array_append_val(losses, l);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TRUE : db_fail(db, error);
}

gboolean tt_rollup_db_sensors(tt_rollup_db *db, GPtrArray *names, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db, "SELECT DISTINCT sensor FROM sensor_day ORDER BY sensor", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(db, error);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        gboolean seen = FALSE;
        for (guint i = 0; i < names->len && !seen; i++)
            seen = strcmp(g_ptr_array_index(names, i), n) == 0;
        if (!seen)
            g_ptr_array_add(names, g_strdup(n));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TRUE : db_fail(db, error);
}
