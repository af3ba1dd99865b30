/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rollup_store.c - the rollup plugin's SQLite side (writer thread only).
 *
 * DATA/rollup.sqlite holds exact counters per local day (in the configured
 * time zone), sensor, dimension (port, country, total), class and key, plus
 * per-sensor-day facts (buckets, records, leaks, late records, minutes heard,
 * dark-space size, sampling rates, GeoIP database) and mergeable
 * HyperLogLog sketches of distinct sources per day (overall and per
 * country). Months, quarters and years are sums of days; `teiten rank` does
 * the summing. Every closed bucket is one savepoint (its late records
 * included) inside a batch's transaction; a batch ends when no other bucket
 * of this store waits in the writer's queue, or at ROLLUP_BATCH_MAX buckets
 * or ROLLUP_HELD_MAX counter rows held (below; rollup.h). Live, a bucket closes alone and commits
 * at once; a replay or a writer catching up commits a few hundred at a time. A crash loses at most
 * the buckets still open in memory and that batch; a --read's files are not
 * yet in the ledger then, so the next read stores them again.
 *
 * Durability: journal_mode=WAL, synchronous=NORMAL: a committed bucket
 * survives a process crash; a power cut may roll back the commits since the
 * last checkpoint. A store that wrote checkpoints (FULL, synced) when it
 * closes, before `teitend --read` marks its files done in the ingest ledger,
 * so the ledger never believes stored what a power cut could take back; a
 * file still `reading` is replayed and its lost buckets committed again.
 * Readers (`teiten rank`) read a snapshot without blocking the writer.
 *
 * Losses: the table `loss` adds, per local day, scope (listener, exporters,
 * sensor, store), name and reason, what the collector counted as lost
 * (docs/storage.md), in the same transaction as the bucket whose close
 * noticed them. A transaction rolled back is itself a loss: its records, and
 * the loss rows that rode in it, are kept in memory and written with the next
 * commit that succeeds (scope store, name rollup, reason rolled_back).
 * A batch whose COMMIT fails owes every bucket it held the same way.
 * A batch's counters and sketches are summed in memory per (day, sensor)
 * over its buckets and written once, just before its COMMIT (store_hold,
 * store_flush_held): a --read of dense buckets upserted every port of every
 * bucket, 920 k `counts` rows for 10 steps that hold 131 k, and that was 61 %
 * of its writer thread (docs/benchmarks.md). A bucket's own savepoint keeps
 * what is its alone (sensor_day, buckets, sampling, geoip, loss); its
 * counters are held only once that savepoint is released, so a bucket that
 * rolls back leaves nothing held, and a batch whose held rows cannot be
 * written rolls back whole, as a failed COMMIT does.
 * Rejected: synchronous=FULL (one fsync per bucket: a 2880-bucket --read
 * took 39 s instead of 12 s); one transaction per bucket (its locks and WAL
 * frames were 60 % of a sparse --read's writer: 5.5 s for half a year of one
 * sensor, 2.3 s batched); one transaction per day (a crash would lose the day).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rollup.h"

#define ROLLUP_SCHEMA_VERSION "1"

/* A local day as text, "YYYY-MM-DD" and its NUL. */
#define STORE_DAY_SIZE sizeof("YYYY-MM-DD")
/* A port row's key: "65535/tcp", "icmp6", "proto-255" and its NUL, with room. */
#define STORE_PORT_KEY_SIZE 24
/* sensor_day.heard: one bit per minute of the local day; DST days have 1380..1500. */
#define STORE_DAY_MINUTES_MAX 1500
#define STORE_HEARD_BYTES ((STORE_DAY_MINUTES_MAX + 7) / 8)
/* Readers (teiten rank) hold snapshots briefly; a commit waits up to this for them. */
#define STORE_BUSY_TIMEOUT_MS 10000

/* A batch's counters and sketches of one (local day, sensor), summed over its buckets. */
typedef struct store_held {
    char day[STORE_DAY_SIZE];
    char *sensor;
    rollup_counter total[TT_CLASS_COUNT];
    GArray *ports;                      /* rollup_item, ascending key, each with records */
    GArray *countries;                  /* rollup_item, ascending key, each with records */
    guint8 *hll;                        /* the overall sketch, or NULL: no bucket had one */
    guint8 *sketches[TT_COUNTRY_SLOTS]; /* by country index, NULL until one had a source */
} store_held;

struct rollup_store {
    char *path;
    sqlite3 *db;
    GTimeZone *tz;
    sqlite3_stmt *up_count;
    sqlite3_stmt *up_day;
    sqlite3_stmt *up_bucket;
    sqlite3_stmt *up_rate;
    sqlite3_stmt *up_geoip;
    sqlite3_stmt *get_hll;
    sqlite3_stmt *put_hll;
    sqlite3_stmt *has_bucket;
    guint64 failed;           /* transactions rolled back */
    guint64 replay_skipped;   /* replayed buckets the database already had */
    guint64 replay_committed; /* replayed buckets it lacked */
    guint64 committed;        /* transactions committed through this connection */
    sqlite3_stmt *up_loss;
    GArray *pending_loss; /* store_loss_row: rows a rolled-back transaction owed */
    /* the open batch (rollup_store_commit's savepoints in one transaction, ended by
     * rollup_store_end): what its buckets would owe if its COMMIT failed */
    GArray *batch_owed; /* store_loss_row */
    guint batch_buckets, batch_replayed;
    GPtrArray *held;   /* store_held of the open batch, written before its COMMIT */
    GArray *merge_tmp; /* rollup_item: store_merge_items' output, swapped in */
    gint queued;       /* atomic: jobs handed to the writer and not run yet (rollup_store_queue) */
};

static const char rollup_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS counts(day TEXT NOT NULL, sensor TEXT NOT NULL,"
    " dim TEXT NOT NULL, cls TEXT NOT NULL, key TEXT NOT NULL,"
    " flows INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
    " records INTEGER NOT NULL, PRIMARY KEY(day, sensor, dim, cls, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sensor_day(day TEXT NOT NULL, sensor TEXT NOT NULL,"
    " buckets INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,"
    " leaks INTEGER NOT NULL DEFAULT 0, late INTEGER NOT NULL DEFAULT 0,"
    " heard BLOB, coverage_min INTEGER NOT NULL DEFAULT 0, dark_size INTEGER,"
    " PRIMARY KEY(day, sensor)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sampling(day TEXT NOT NULL, sensor TEXT NOT NULL,"
    " rate INTEGER NOT NULL, records INTEGER NOT NULL,"
    " PRIMARY KEY(day, sensor, rate)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS geoip(day TEXT NOT NULL, sensor TEXT NOT NULL,"
    " type TEXT NOT NULL, build INTEGER NOT NULL,"
    " PRIMARY KEY(day, sensor, type, build)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sources(day TEXT NOT NULL, sensor TEXT NOT NULL,"
    " country TEXT NOT NULL, hll BLOB NOT NULL,"
    " PRIMARY KEY(day, sensor, country)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS buckets(sensor TEXT NOT NULL, start INTEGER NOT NULL,"
    " day TEXT NOT NULL, records INTEGER NOT NULL, commits INTEGER NOT NULL,"
    " PRIMARY KEY(sensor, start)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS loss(day TEXT NOT NULL, scope TEXT NOT NULL,"
    " name TEXT NOT NULL, reason TEXT NOT NULL, unit TEXT NOT NULL, count INTEGER NOT NULL,"
    " PRIMARY KEY(day, scope, name, reason)) WITHOUT ROWID;";

/* One loss row owed by a rolled-back transaction. */
typedef struct store_loss_row {
    char day[STORE_DAY_SIZE];
    rollup_loss loss;
} store_loss_row;

guint64 rollup_hash_addr(const guint8 addr[16])
{
    /* a splitmix64 and a murmur3 finaliser over both halves: fixed, so every collector agrees */
    return tt_addr_hash(addr);
}

static gboolean store_exec(rollup_store *s, const char *sql, GError **error)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", s->path,
                    msg != NULL ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return FALSE;
    }
    return TRUE;
}

static gboolean store_prepare(rollup_store *s, sqlite3_stmt **stmt, const char *sql, GError **error)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) != SQLITE_OK) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", s->path,
                    sqlite3_errmsg(s->db));
        return FALSE;
    }
    return TRUE;
}

static void store_held_free(gpointer data)
{
    store_held *h = data;
    g_free(h->sensor);
    g_array_free(h->ports, TRUE);
    g_array_free(h->countries, TRUE);
    g_free(h->hll);
    for (guint i = 0; i < TT_COUNTRY_SLOTS; i++)
        g_free(h->sketches[i]);
    g_free(h);
}

/* Record our zone and step in a new database; refuse another zone in an old one. */
static gboolean store_check_meta(rollup_store *s, const char *tz_name, gint64 step, GError **error)
{
    sqlite3_stmt *get = NULL;
    gboolean ok = FALSE;
    g_autofree char *stored = NULL;
    if (!store_prepare(s, &get, "SELECT value FROM meta WHERE key = 'timezone'", error))
        return FALSE;
    if (sqlite3_step(get) == SQLITE_ROW)
        stored = g_strdup((const char *)sqlite3_column_text(get, 0));
    sqlite3_finalize(get);
    if (stored != NULL && strcmp(stored, tz_name) != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s records days in time zone %s, the collector is configured for %s; "
                    "days cannot be re-cut: use another data-dir or the old zone",
                    s->path, stored, tz_name);
        return FALSE;
    }
    if (stored != NULL)
        return TRUE;
    char *q = sqlite3_mprintf("BEGIN;"
                              "INSERT OR REPLACE INTO meta VALUES('schema', '%q');"
                              "INSERT OR REPLACE INTO meta VALUES('timezone', %Q);"
                              "INSERT OR REPLACE INTO meta VALUES('step', '%lld');"
                              "COMMIT;",
                              ROLLUP_SCHEMA_VERSION, tz_name, (long long)step);
    ok = store_exec(s, q, error);
    sqlite3_free(q);
    return ok;
}

/*
 * The database, its -wal and -shm and their directory must be writable by
 * this process (teitend runs this after dropping to `user =`): SQLite would
 * otherwise open a root-owned file read-only without a word and fail at the
 * first commit, after the daemon had said "receiving".
 */
static gboolean store_check_writable(const char *path, GError **error)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    g_autofree char *dir = g_path_get_dirname(path);
    if (access(dir, W_OK | X_OK) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                    "%s/ is not writable by uid %u: %s", dir, (unsigned)geteuid(),
                    g_strerror(saved));
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *p = g_strconcat(path, suffixes[i], NULL);
        if (access(p, F_OK) == 0 && access(p, W_OK) != 0) {
            int saved = errno;
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                        "%s is not writable by uid %u: %s", p, (unsigned)geteuid(),
                        g_strerror(saved));
            return FALSE;
        }
    }
    return TRUE;
}

rollup_store *rollup_store_open(const char *path, const char *tz_name, gint64 step, GError **error)
{
    if (!store_check_writable(path, error))
        return NULL;

    rollup_store *s = g_atomic_rc_box_new0(rollup_store);
    s->path = g_strdup(path);
    s->tz = g_time_zone_new_identifier(tz_name);
    if (s->tz == NULL) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "time zone %s is unknown", tz_name);
        goto err_unref;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", path,
                    s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
        goto err_unref;
    }
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_ACCES, "%s: opened read-only", path);
        goto err_unref;
    }
    /* readers (teiten rank) hold snapshots briefly; never fail a commit for them */
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    if (!store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error) ||
        !store_exec(s, rollup_schema, error) || !store_check_meta(s, tz_name, step, error))
        goto err_unref;
    if (!store_prepare(s, &s->up_count,
                       "INSERT INTO counts VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
                       " ON CONFLICT DO UPDATE SET flows = flows + excluded.flows,"
                       " packets = packets + excluded.packets, bytes = bytes + excluded.bytes,"
                       " records = records + excluded.records",
                       error) ||
        !store_prepare(s, &s->up_day,
                       "INSERT INTO sensor_day(day, sensor, buckets, records, leaks, late,"
                       " dark_size) VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT DO UPDATE SET"
                       " buckets = buckets + excluded.buckets,"
                       " records = records + excluded.records, leaks = leaks + excluded.leaks,"
                       " late = late + excluded.late,"
                       " dark_size = coalesce(excluded.dark_size, dark_size)",
                       error) ||
        !store_prepare(s, &s->up_bucket,
                       "INSERT INTO buckets VALUES(?1,?2,?3,?4,1) ON CONFLICT DO UPDATE SET"
                       " records = records + excluded.records, commits = commits + 1",
                       error) ||
        !store_prepare(s, &s->up_rate,
                       "INSERT INTO sampling VALUES(?1,?2,?3,?4) ON CONFLICT DO UPDATE SET"
                       " records = records + excluded.records",
                       error) ||
        !store_prepare(s, &s->up_geoip, "INSERT OR IGNORE INTO geoip VALUES(?1,?2,?3,?4)", error) ||
        !store_prepare(s, &s->get_hll,
                       "SELECT hll FROM sources WHERE day = ?1 AND sensor = ?2 AND country = ?3",
                       error) ||
        !store_prepare(s, &s->put_hll, "INSERT OR REPLACE INTO sources VALUES(?1,?2,?3,?4)",
                       error) ||
        !store_prepare(s, &s->has_bucket, "SELECT 1 FROM buckets WHERE sensor = ?1 AND start = ?2",
                       error) ||
        !store_prepare(s, &s->up_loss,
                       "INSERT INTO loss VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT DO UPDATE SET"
                       " count = count + excluded.count",
                       error))
        goto err_unref;
    s->pending_loss = g_array_new(FALSE, FALSE, sizeof(store_loss_row));
    s->batch_owed = g_array_new(FALSE, FALSE, sizeof(store_loss_row));
    s->held = g_ptr_array_new_with_free_func(store_held_free);
    s->merge_tmp = g_array_new(FALSE, FALSE, sizeof(rollup_item));
    return s;

err_unref:
    rollup_store_unref(s);
    return NULL;
}

rollup_store *rollup_store_ref(rollup_store *store)
{
    return g_atomic_rc_box_acquire(store);
}

rollup_acc *rollup_store_take_acc(rollup_store *store)
{
    (void)store;
    return g_new0(rollup_acc, 1);
}

static void rollup_loss_clear(rollup_loss *l)
{
    g_free(l->scope);
    g_free(l->name);
    g_free(l->reason);
    g_free(l->unit);
}

/* Free an array of rollup_loss and the strings of its elements. */
static void rollup_loss_array_free(GArray *loss)
{
    for (guint i = 0; i < loss->len; i++)
        rollup_loss_clear(&g_array_index(loss, rollup_loss, i));
    g_array_free(loss, TRUE);
}

void rollup_store_give_acc(rollup_acc *acc)
{
    rollup_store *store = g_steal_pointer(&acc->store);
    g_free(acc->sensor);
    g_free(acc->geoip_type);
    if (acc->late != NULL)
        g_array_free(acc->late, TRUE);
    if (acc->loss != NULL)
        rollup_loss_array_free(acc->loss);
    g_free(acc->hll);
    g_free(acc->srcs);
    g_free(acc->ports);
    g_free(acc->countries);
    g_free(acc->sketches);
    g_free(acc);
    if (store != NULL)
        rollup_store_unref(store);
}

static void store_rows_free(GArray *rows)
{
    for (guint i = 0; i < rows->len; i++)
        rollup_loss_clear(&g_array_index(rows, store_loss_row, i).loss);
    g_array_free(rows, TRUE);
}

static void store_clear(gpointer data)
{
    rollup_store *s = data;
    if (s->batch_owed != NULL) {
        /* jobs dropped at a stop's deadline leave the last batch open */
        g_autoptr(GError) error = NULL;
        if (!rollup_store_end(s, &error))
            g_warning("%s", error->message);
        store_rows_free(s->batch_owed);
    }
    if (s->held != NULL)
        g_ptr_array_free(s->held, TRUE);
    if (s->merge_tmp != NULL)
        g_array_free(s->merge_tmp, TRUE);
    if (s->pending_loss != NULL) {
        if (s->pending_loss->len > 0)
            g_warning("%s: %u loss rows of rolled-back transactions could not be stored", s->path,
                      s->pending_loss->len);
        store_rows_free(s->pending_loss);
    }
    sqlite3_stmt **stmts[] = {&s->up_count, &s->up_day,  &s->up_bucket,  &s->up_rate, &s->up_geoip,
                              &s->get_hll,  &s->put_hll, &s->has_bucket, &s->up_loss};
    for (gsize i = 0; i < G_N_ELEMENTS(stmts); i++)
        sqlite3_finalize(*stmts[i]);
    if (s->replay_skipped + s->replay_committed > 0)
        g_message("%s: replay: skipped %" G_GUINT64_FORMAT " buckets already stored, committed "
                  "%" G_GUINT64_FORMAT " it lacked",
                  s->path, s->replay_skipped, s->replay_committed);
    /* synchronous=NORMAL does not sync the WAL at each commit; a checkpoint does. The
     * ingest ledger marks a file read after this close, so make our commits durable
     * first even when a reader keeps this from being the last connection. Only when
     * we wrote: --check-config next to a running collector must not stall its writer. */
    if (s->db != NULL && s->committed > 0 &&
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL) != SQLITE_OK)
        g_warning("%s: checkpoint: %s", s->path, sqlite3_errmsg(s->db));
    if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
        g_warning("%s: close: %s", s->path, sqlite3_errmsg(s->db));
    if (s->tz != NULL)
        g_time_zone_unref(s->tz);
    g_free(s->path);
}

void rollup_store_unref(rollup_store *store)
{
    if (store != NULL)
        g_atomic_rc_box_release_full(store, store_clear);
}

/* ---- one transaction ----------------------------------------------------- */

/* Local day of epoch second @a t as "YYYY-MM-DD" into @a day; its first second into *@a day_start.
 */
static void store_day(rollup_store *s, gint64 t, char day[STORE_DAY_SIZE], gint64 *day_start)
{
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
    g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, s->tz);
    int y, m, d;
    g_date_time_get_ymd(local, &y, &m, &d);
    g_snprintf(day, STORE_DAY_SIZE, "%04d-%02d-%02d", y, m, d);
    if (day_start != NULL) {
        g_autoptr(GDateTime) midnight = g_date_time_new(s->tz, y, m, d, 0, 0, 0);
        *day_start = g_date_time_to_unix(midnight);
    }
}

static gboolean store_step(rollup_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        g_warning("%s: %s", s->path, sqlite3_errmsg(s->db));
        return FALSE;
    }
    return TRUE;
}

static const char *const class_names[TT_CLASS_COUNT] = {"other", "scan", "backscatter"};

static gboolean store_count(rollup_store *s, const char *day, const char *sensor, const char *dim,
                            guint cls, const char *key, const rollup_counter *c)
{
    sqlite3_stmt *st = s->up_count;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sensor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, dim, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, class_names[cls], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)c->flows);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)c->packets);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)c->bytes);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)c->records);
    return store_step(s, st);
}

static void port_key(char *buf, gsize size, guint slot)
{
    if (slot < ROLLUP_SLOT_UDP)
        g_snprintf(buf, size, "%u/tcp", slot);
    else if (slot < ROLLUP_SLOT_PROTO)
        g_snprintf(buf, size, "%u/udp", slot - ROLLUP_SLOT_UDP);
    else if (slot - ROLLUP_SLOT_PROTO == TT_PROTO_ICMP)
        g_strlcpy(buf, "icmp", size);
    else if (slot - ROLLUP_SLOT_PROTO == TT_PROTO_ICMP6)
        g_strlcpy(buf, "icmp6", size);
    else
        g_snprintf(buf, size, "proto-%u", slot - ROLLUP_SLOT_PROTO);
}

/* Max-merge @a regs into the stored sketch of (day, sensor, country). */
static gboolean store_merge_hll(rollup_store *s, const char *day, const char *sensor,
                                const char *country, const guint8 *regs)
{
    guint8 merged[ROLLUP_HLL_M];
    memcpy(merged, regs, sizeof merged);
    sqlite3_stmt *st = s->get_hll;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sensor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, country, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)ROLLUP_HLL_M) {
        rollup_hll_merge(merged, sqlite3_column_blob(st, 0));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    st = s->put_hll;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sensor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, country, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, merged, sizeof merged, SQLITE_STATIC);
    return store_step(s, st);
}

/* The country code of country index @a ci (tt_country_index) in @a cc. */
static const char *store_cc(guint ci, char cc[3])
{
    tt_country_code(ci, cc);
    cc[2] = '\0';
    return cc;
}

static gboolean store_sensor_day(rollup_store *s, const char *day, const char *sensor,
                                 gint64 buckets, guint64 records, guint64 leaks, guint64 late,
                                 const guint64 *dark_size)
{
    sqlite3_stmt *st = s->up_day;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sensor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, buckets);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)records);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)leaks);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)late);
    if (dark_size != NULL)
        sqlite3_bind_int64(st, 7, (sqlite3_int64)MIN(*dark_size, (guint64)G_MAXINT64));
    return store_step(s, st);
}

/* OR the minutes heard into the day's bitmap (STORE_DAY_MINUTES_MAX bits). */
static gboolean store_heard(rollup_store *s, const char *day, const char *sensor,
                            gint64 first_minute, guint32 minutes)
{
    if (minutes == 0)
        return TRUE;
    sqlite3_stmt *get = NULL, *put = NULL;
    guint8 bits[STORE_HEARD_BYTES] = {0};
    gboolean ok = FALSE;
    if (sqlite3_prepare_v2(s->db, "SELECT heard FROM sensor_day WHERE day = ?1 AND sensor = ?2", -1,
                           &get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "UPDATE sensor_day SET heard = ?3, coverage_min = ?4"
                           " WHERE day = ?1 AND sensor = ?2",
                           -1, &put, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_text(get, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(get, 2, sensor, -1, SQLITE_STATIC);
    if (sqlite3_step(get) == SQLITE_ROW && sqlite3_column_bytes(get, 0) == (int)sizeof bits)
        memcpy(bits, sqlite3_column_blob(get, 0), sizeof bits);
    for (guint i = 0; i < ROLLUP_MINUTE_BITS; i++) {
        gint64 m = first_minute + i;
        if ((minutes & (1u << i)) && m >= 0 && m < (gint64)sizeof bits * 8)
            bits[m / 8] |= (guint8)(1u << (m % 8));
    }
    gint64 coverage = 0;
    for (guint i = 0; i < sizeof bits; i++)
        coverage += __builtin_popcount(bits[i]);
    sqlite3_bind_text(put, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(put, 2, sensor, -1, SQLITE_STATIC);
    sqlite3_bind_blob(put, 3, bits, sizeof bits, SQLITE_STATIC);
    sqlite3_bind_int64(put, 4, coverage);
    ok = sqlite3_step(put) == SQLITE_DONE;
done:
    if (!ok)
        g_warning("%s: %s", s->path, sqlite3_errmsg(s->db));
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    return ok;
}

/* The bucket's own rows, all in its one local day; its counters and sketches are held. */
static gboolean store_bucket(rollup_store *s, rollup_acc *acc)
{
    char day[STORE_DAY_SIZE];
    gint64 day_start;
    store_day(s, acc->start, day, &day_start);
    const char *sensor = acc->sensor;
    guint64 dark = acc->dark_size;
    if (!store_sensor_day(s, day, sensor, 1, acc->observed, acc->leaks, 0,
                          acc->has_info ? &dark : NULL))
        return FALSE;
    if (!store_heard(s, day, sensor, (acc->start / 60 * 60 - day_start) / 60, acc->minutes))
        return FALSE;
    sqlite3_bind_text(s->up_bucket, 1, sensor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->up_bucket, 2, acc->start);
    sqlite3_bind_text(s->up_bucket, 3, day, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->up_bucket, 4, (sqlite3_int64)acc->observed);
    if (!store_step(s, s->up_bucket))
        return FALSE;
    for (guint i = 0; i < acc->nrates; i++) {
        sqlite3_bind_text(s->up_rate, 1, day, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->up_rate, 2, sensor, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->up_rate, 3, acc->rates[i]);
        sqlite3_bind_int64(s->up_rate, 4, (sqlite3_int64)acc->rate_records[i]);
        if (!store_step(s, s->up_rate))
            return FALSE;
    }
    if (acc->has_info && acc->geoip_type != NULL) {
        sqlite3_bind_text(s->up_geoip, 1, day, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->up_geoip, 2, sensor, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->up_geoip, 3, acc->geoip_type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->up_geoip, 4, acc->geoip_build);
        if (!store_step(s, s->up_geoip))
            return FALSE;
    }
    return TRUE;
}

static void counter_add(rollup_counter *to, const rollup_counter *c)
{
    to->flows += c->flows;
    to->packets += c->packets;
    to->bytes += c->bytes;
    to->records += c->records;
}

/* Sum the ascending @a add (those with records) into the ascending *@a into, through @a tmp. */
static void store_merge_items(GArray **into, GArray **tmp, const rollup_item *add, guint n)
{
    const rollup_item *a = (const rollup_item *)(*into)->data;
    guint na = (*into)->len, i = 0, j = 0, k = 0;
    g_array_set_size(*tmp, na + n);
    rollup_item *out = (rollup_item *)(*tmp)->data;
    while (j < n) {
        if (add[j].c.records == 0) {
            j++;
        } else if (i < na && a[i].key < add[j].key) {
            out[k++] = a[i++];
        } else if (i < na && a[i].key == add[j].key) {
            out[k] = a[i++];
            counter_add(&out[k++].c, &add[j++].c);
        } else {
            out[k++] = add[j++];
        }
    }
    while (i < na)
        out[k++] = a[i++];
    g_array_set_size(*tmp, k);
    GArray *t = *into;
    *into = *tmp;
    *tmp = t;
}

/* The held counters of (@a day, @a sensor) in the open batch, made when first met. */
static store_held *store_held_of(rollup_store *s, const char *day, const char *sensor)
{
    for (guint i = 0; i < s->held->len; i++) {
        store_held *h = g_ptr_array_index(s->held, i);
        if (strcmp(h->day, day) == 0 && strcmp(h->sensor, sensor) == 0)
            return h;
    }
    store_held *h = g_new0(store_held, 1);
    g_strlcpy(h->day, day, sizeof h->day);
    h->sensor = g_strdup(sensor);
    h->ports = g_array_new(FALSE, FALSE, sizeof(rollup_item));
    h->countries = g_array_new(FALSE, FALSE, sizeof(rollup_item));
    g_ptr_array_add(s->held, h);
    return h;
}

/* The held sketch in *@a regs, made empty when first needed. */
static guint8 *store_held_regs(guint8 **regs)
{
    if (*regs == NULL)
        *regs = g_malloc0(ROLLUP_HLL_M);
    return *regs;
}

/* One source (its hash @a h, its country @a ci) into the overall sketch and its country's. */
static void store_held_source(store_held *held, guint ci, guint64 h)
{
    rollup_hll_add(store_held_regs(&held->hll), h);
    rollup_hll_add(store_held_regs(&held->sketches[ci]), h);
}

/* A released bucket's counters and sketches into the open batch's. */
static void store_hold(rollup_store *s, const rollup_acc *acc)
{
    char day[STORE_DAY_SIZE];
    store_day(s, acc->start, day, NULL);
    store_held *h = store_held_of(s, day, acc->sensor);
    for (guint c = 0; c < TT_CLASS_COUNT; c++)
        counter_add(&h->total[c], &acc->total[c]);
    store_merge_items(&h->ports, &s->merge_tmp, acc->ports, acc->nports);
    store_merge_items(&h->countries, &s->merge_tmp, acc->countries, acc->ncountries);
    if (acc->hll != NULL)
        rollup_hll_merge(store_held_regs(&h->hll), acc->hll);
    for (guint j = 0; j < acc->nsketches; j++)
        rollup_hll_merge(store_held_regs(&h->sketches[acc->sketches[j].ci]), acc->sketches[j].regs);
    for (guint i = 0; i < acc->nsrcs; i++) /* a sparse bucket's sources (rollup.h) */
        store_held_source(h, acc->srcs[i].ci, acc->srcs[i].h);
}

/* Counter rows held in the open batch. */
static guint store_held_rows(const rollup_store *s)
{
    guint n = 0;
    for (guint i = 0; i < s->held->len; i++) {
        const store_held *h = g_ptr_array_index(s->held, i);
        n += h->ports->len + h->countries->len;
    }
    return n;
}

/* Write one (day, sensor)'s held counters and sketches. */
static gboolean store_flush_one(rollup_store *s, const store_held *h)
{
    char key[STORE_PORT_KEY_SIZE], cc[3];
    const rollup_item *ports = (const rollup_item *)h->ports->data;
    const rollup_item *countries = (const rollup_item *)h->countries->data;
    guint pi = 0, ci = 0;
    /* class by class: the total, its ports, its countries (the lists are sorted class-major) */
    for (guint c = 0; c < TT_CLASS_COUNT; c++) {
        if (h->total[c].records > 0 &&
            !store_count(s, h->day, h->sensor, "total", c, "all", &h->total[c]))
            return FALSE;
        for (; pi < h->ports->len && ports[pi].key / ROLLUP_PORT_SLOTS == c; pi++) {
            port_key(key, sizeof key, ports[pi].key % ROLLUP_PORT_SLOTS);
            if (!store_count(s, h->day, h->sensor, "port", c, key, &ports[pi].c))
                return FALSE;
        }
        for (; ci < h->countries->len && countries[ci].key / TT_COUNTRY_SLOTS == c; ci++) {
            store_cc(countries[ci].key % TT_COUNTRY_SLOTS, cc);
            if (!store_count(s, h->day, h->sensor, "country", c, cc, &countries[ci].c))
                return FALSE;
        }
    }
    if (h->hll != NULL && !store_merge_hll(s, h->day, h->sensor, "", h->hll))
        return FALSE;
    for (guint i = 0; i < TT_COUNTRY_SLOTS; i++)
        if (h->sketches[i] != NULL &&
            !store_merge_hll(s, h->day, h->sensor, store_cc(i, cc), h->sketches[i]))
            return FALSE;
    return TRUE;
}

/* Write every held (day, sensor) of the open batch, and forget them. */
static gboolean store_flush_held(rollup_store *s)
{
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < s->held->len; i++)
        ok = store_flush_one(s, g_ptr_array_index(s->held, i));
    g_ptr_array_set_size(s->held, 0);
    return ok;
}

/* Late records: the sensor_day rows of their own buckets' days, one update per run of
 * records of one day; their counters and sketches are held (store_hold_late). */
static gboolean store_late(rollup_store *s, rollup_acc *acc)
{
    char day[STORE_DAY_SIZE], prev[STORE_DAY_SIZE] = "";
    guint64 run = 0; /* records of day prev so far */
    for (guint i = 0; i < acc->late->len; i++) {
        store_day(s, g_array_index(acc->late, rollup_late, i).bucket_start, day, NULL);
        if (run > 0 && strcmp(day, prev) != 0) {
            if (!store_sensor_day(s, prev, acc->sensor, 0, run, 0, run, NULL))
                return FALSE;
            run = 0;
        }
        memcpy(prev, day, sizeof prev);
        run++;
    }
    return run == 0 || store_sensor_day(s, prev, acc->sensor, 0, run, 0, run, NULL);
}

static gint store_cmp_item(gconstpointer a, gconstpointer b)
{
    guint32 x = ((const rollup_item *)a)->key, y = ((const rollup_item *)b)->key;
    return x < y ? -1 : x > y;
}

/* Sum the unsorted @a items into the held *@a into: sorted and folded, then merged. */
static void store_hold_items(rollup_store *s, GArray **into, GArray *items)
{
    if (items->len == 0)
        return;
    g_array_sort(items, store_cmp_item);
    rollup_item *it = (rollup_item *)items->data;
    guint k = 0;
    for (guint i = 1; i < items->len; i++) {
        if (it[i].key == it[k].key)
            counter_add(&it[k].c, &it[i].c);
        else
            it[++k] = it[i];
    }
    g_array_set_size(items, k + 1);
    store_merge_items(into, &s->merge_tmp, it, items->len);
    g_array_set_size(items, 0);
}

/* A released batch's late records into the held counters and sketches of their days. */
static void store_hold_late(rollup_store *s, const rollup_acc *acc)
{
    char day[STORE_DAY_SIZE];
    g_autoptr(GArray) ports = g_array_new(FALSE, FALSE, sizeof(rollup_item));
    g_autoptr(GArray) countries = g_array_new(FALSE, FALSE, sizeof(rollup_item));
    store_held *h = NULL;
    for (guint i = 0; i < acc->late->len; i++) {
        const rollup_late *l = &g_array_index(acc->late, rollup_late, i);
        store_day(s, l->bucket_start, day, NULL);
        if (h != NULL && strcmp(h->day, day) != 0) {
            store_hold_items(s, &h->ports, ports);
            store_hold_items(s, &h->countries, countries);
        }
        h = store_held_of(s, day, acc->sensor);
        rollup_pos p = rollup_pos_of(&l->flow);
        rollup_item it = {.c = {.flows = l->flow.sampling,
                                .packets = l->flow.packets,
                                .bytes = l->flow.bytes,
                                .records = 1}};
        counter_add(&h->total[p.cls], &it.c);
        it.key = p.cls * ROLLUP_PORT_SLOTS + p.slot;
        g_array_append_val(ports, it);
        it.key = p.cls * TT_COUNTRY_SLOTS + p.ci;
        g_array_append_val(countries, it);
        store_held_source(h, p.ci, p.h);
    }
    if (h != NULL) {
        store_hold_items(s, &h->ports, ports);
        store_hold_items(s, &h->countries, countries);
    }
}

static gboolean store_loss_row_put(rollup_store *s, const char *day, const rollup_loss *l)
{
    sqlite3_stmt *st = s->up_loss;
    sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, l->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, l->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, l->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, l->unit, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)MIN(l->count, (guint64)G_MAXINT64));
    return store_step(s, st);
}

/* The acc's loss rows, then what earlier rolled-back transactions owed. */
static gboolean store_losses(rollup_store *s, rollup_acc *acc)
{
    if (acc->loss != NULL && acc->loss->len > 0) {
        char day[STORE_DAY_SIZE];
        store_day(s, acc->loss_day, day, NULL);
        for (guint i = 0; i < acc->loss->len; i++)
            if (!store_loss_row_put(s, day, &g_array_index(acc->loss, rollup_loss, i)))
                return FALSE;
    }
    for (guint i = 0; i < s->pending_loss->len; i++) {
        store_loss_row *r = &g_array_index(s->pending_loss, store_loss_row, i);
        if (!store_loss_row_put(s, r->day, &r->loss))
            return FALSE;
    }
    return TRUE;
}

/* Owe @a count (in @a rows: pending_loss, or the open batch's batch_owed). */
static void store_owe(GArray *rows, const char *day, const char *scope, const char *name,
                      const char *reason, const char *unit, guint64 count)
{
    if (count == 0)
        return;
    for (guint i = 0; i < rows->len; i++) {
        store_loss_row *r = &g_array_index(rows, store_loss_row, i);
        if (strcmp(r->day, day) == 0 && strcmp(r->loss.scope, scope) == 0 &&
            strcmp(r->loss.name, name) == 0 && strcmp(r->loss.reason, reason) == 0) {
            r->loss.count += count;
            return;
        }
    }
    store_loss_row r = {
        .loss = {g_strdup(scope), g_strdup(name), g_strdup(reason), g_strdup(unit), count}};
    g_strlcpy(r.day, day, sizeof r.day);
    g_array_append_val(rows, r);
}

/* Move every row of @a from into @a to, summing rows of the same day and reason. */
static void store_owe_rows(GArray *to, GArray *from)
{
    for (guint i = 0; i < from->len; i++) {
        store_loss_row *r = &g_array_index(from, store_loss_row, i);
        store_owe(to, r->day, r->loss.scope, r->loss.name, r->loss.reason, r->loss.unit,
                  r->loss.count);
        rollup_loss_clear(&r->loss);
    }
    g_array_set_size(from, 0);
}

/* What losing @a acc's transaction owes, in @a rows: its records and its loss rows. */
static void store_owe_acc(rollup_store *s, GArray *rows, const rollup_acc *acc)
{
    char day[STORE_DAY_SIZE];
    guint64 records = (acc->has_bucket ? acc->observed : 0) + (acc->late ? acc->late->len : 0);
    store_day(s, acc->has_bucket ? acc->start : acc->loss_day, day, NULL);
    store_owe(rows, day, "store", "rollup", "rolled_back", "records", records);
    if (acc->loss != NULL) {
        store_day(s, acc->loss_day, day, NULL);
        for (guint i = 0; i < acc->loss->len; i++) {
            const rollup_loss *l = &g_array_index(acc->loss, rollup_loss, i);
            store_owe(rows, day, l->scope, l->name, l->reason, l->unit, l->count);
        }
    }
}

/* A bucket's savepoint is lost: owe its records and its loss rows to the next commit. */
static void store_rolled_back(rollup_store *s, rollup_acc *acc)
{
    s->failed++;
    store_owe_acc(s, s->pending_loss, acc);
}

void rollup_store_queue(rollup_store *s, gint n)
{
    g_atomic_int_add(&s->queued, n);
}

gboolean rollup_store_ran(rollup_store *s)
{
    return g_atomic_int_dec_and_test(&s->queued) || s->batch_buckets >= ROLLUP_BATCH_MAX ||
           store_held_rows(s) >= ROLLUP_HELD_MAX;
}

gboolean rollup_store_end(rollup_store *s, GError **error)
{
    if (s->db == NULL || sqlite3_get_autocommit(s->db))
        return TRUE;
    guint n = s->batch_buckets;
    s->batch_buckets = 0;
    if (store_flush_held(s) && store_exec(s, "COMMIT", NULL)) {
        s->committed += n;
        s->replay_committed += s->batch_replayed;
        s->batch_replayed = 0;
        for (guint i = 0; i < s->batch_owed->len; i++)
            rollup_loss_clear(&g_array_index(s->batch_owed, store_loss_row, i).loss);
        g_array_set_size(s->batch_owed, 0);
        return TRUE;
    }
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "%s: a transaction of %u buckets rolled back at its commit: %s", s->path, n,
                sqlite3_errmsg(s->db));
    store_exec(s, "ROLLBACK", NULL);
    s->failed += n;
    s->batch_replayed = 0;
    store_owe_rows(s->pending_loss, s->batch_owed);
    return FALSE;
}

gboolean rollup_store_commit(rollup_store *s, rollup_acc *acc, GError **error)
{
    if ((sqlite3_get_autocommit(s->db) && !store_exec(s, "BEGIN IMMEDIATE", NULL)) ||
        !store_exec(s, "SAVEPOINT bucket", NULL)) {
        store_rolled_back(s, acc);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "%s: cannot begin a transaction: %s; bucket %" G_GINT64_FORMAT " of %s lost",
                    s->path, sqlite3_errmsg(s->db), acc->start, acc->sensor);
        return FALSE;
    }
    gboolean ok = TRUE;
    if (acc->replay && acc->has_bucket) {
        sqlite3_bind_text(s->has_bucket, 1, acc->sensor, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->has_bucket, 2, acc->start);
        int rc = sqlite3_step(s->has_bucket);
        sqlite3_reset(s->has_bucket);
        sqlite3_clear_bindings(s->has_bucket);
        if (rc == SQLITE_ROW) {
            /* committed by the run this one replays, late records included */
            s->replay_skipped++;
            store_exec(s, "ROLLBACK TO bucket; RELEASE bucket", NULL);
            return TRUE;
        }
        ok = rc == SQLITE_DONE;
    }
    if (ok && acc->late != NULL && acc->late->len > 0)
        ok = store_late(s, acc);
    if (ok && acc->has_bucket)
        ok = store_bucket(s, acc);
    if (ok)
        ok = store_losses(s, acc);
    if (ok && store_exec(s, "RELEASE bucket", NULL)) {
        /* stored in the batch; owed again only if the batch's COMMIT fails */
        s->batch_buckets++;
        if (acc->late != NULL)
            store_hold_late(s, acc);
        if (acc->has_bucket)
            store_hold(s, acc);
        store_owe_rows(s->batch_owed, s->pending_loss);
        store_owe_acc(s, s->batch_owed, acc);
        if (acc->replay && acc->has_bucket)
            s->batch_replayed++;
        return TRUE;
    }
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "%s: bucket %" G_GINT64_FORMAT " of %s rolled back: %s", s->path, acc->start,
                acc->sensor, sqlite3_errmsg(s->db));
    store_exec(s, "ROLLBACK TO bucket; RELEASE bucket", NULL);
    store_rolled_back(s, acc);
    return FALSE;
}
