/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - teitend: the collector daemon.
 *
 * Start-up order matters: the configuration is read, then every socket is
 * bound (so the kernel queues what exporters send from the first moment),
 * then the process daemonises, writes its pidfile and drops privileges, and
 * only then does the slow work (GeoIP, plugins, writer thread) before the
 * main loop starts receiving. Signals are handled on the main loop
 * (g_unix_signal_add), never in async context:
 *   SIGTERM/SIGINT  drain the sockets, close and flush every open bucket, exit
 *   SIGHUP          reload sensors, allow-list and GeoIP without losing counts
 *   SIGUSR1         log the self-statistics
 * `--read FILE...` replays IPFIX files instead of listening (backfill): time
 * comes from the flows, every bucket is closed at the end, then it exits.
 * The ingest ledger (ledger.h) makes it exactly-once: a file read whole is
 * refused, a file a crash interrupted is read again in replay mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "ledger.h"
#include "listen.h"
#include "nearest.h"
#include "plugin_loader.h"
#include "sensor.h"

#ifndef TT_PLUGIN_DIR
#define TT_PLUGIN_DIR "/usr/local/lib/teiten/plugins"
#endif
#ifndef TT_PLUGIN_RELDIR
#define TT_PLUGIN_RELDIR "../lib/teiten/plugins"
#endif
#ifndef TT_VERSION
#define TT_VERSION "0"
#endif

typedef struct {
    GMainLoop *loop;
    tt_core *core;
    tt_listeners *listeners;
    char *config_path;
} daemon_ctx;

static GLogWriterOutput syslog_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                      gpointer data)
{
    (void)data;
    const char *message = NULL, *domain = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
        else if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
    }
    if (message == NULL)
        return G_LOG_WRITER_UNHANDLED;
    if ((level & G_LOG_LEVEL_DEBUG) && g_log_writer_default_would_drop(level, domain))
        return G_LOG_WRITER_HANDLED;
    int prio = (level & G_LOG_LEVEL_ERROR)      ? LOG_ERR
               : (level & G_LOG_LEVEL_CRITICAL) ? LOG_CRIT
               : (level & G_LOG_LEVEL_WARNING)  ? LOG_WARNING
               : (level & G_LOG_LEVEL_MESSAGE)  ? LOG_NOTICE
               : (level & G_LOG_LEVEL_INFO)     ? LOG_INFO
                                                : LOG_DEBUG;
    syslog(prio, "%s%s%s", domain != NULL ? domain : "", domain != NULL ? ": " : "", message);
    return G_LOG_WRITER_HANDLED;
}

/*
 * The plugin directory of this installation: PREFIX/lib/teiten/plugins next to
 * PREFIX/bin/teitend, wherever PREFIX was chosen at install time; the
 * configure-time prefix when the binary does not sit in an installed tree.
 */
static char *default_plugin_dir(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe != NULL) {
        g_autofree char *bindir = g_path_get_dirname(exe);
        g_autofree char *joined = g_build_filename(bindir, TT_PLUGIN_RELDIR, NULL);
        g_autofree char *canon = g_canonicalize_filename(joined, NULL);
        if (g_file_test(canon, G_FILE_TEST_IS_DIR))
            return g_steal_pointer(&canon);
    }
    return g_strdup(TT_PLUGIN_DIR);
}

static gboolean on_stop(gpointer data)
{
    daemon_ctx *ctx = data;
    g_message("stopping: closing every open bucket");
    tt_core_stopping(ctx->core); /* the stop-timeout counts from the signal */
    g_main_loop_quit(ctx->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_reload(gpointer data)
{
    daemon_ctx *ctx = data;
    g_autoptr(GError) error = NULL;
    tt_config *config = tt_config_load(ctx->config_path, &error);
    if (config == NULL || !tt_core_reload(ctx->core, config, &error)) {
        g_warning("reload refused, running configuration kept: %s", error->message);
        tt_config_free(config);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_usr1(gpointer data)
{
    daemon_ctx *ctx = data;
    tt_core_log_stats(ctx->core);
    return G_SOURCE_CONTINUE;
}

static gboolean on_tick(gpointer data)
{
    daemon_ctx *ctx = data;
    tt_core_tick(ctx->core, g_get_real_time() / G_USEC_PER_SEC);
    return G_SOURCE_CONTINUE;
}

/* After daemonise(): stderr is /dev/null and the log goes to syslog. */
static gboolean daemonised;

/*
 * A start-up failure, said once: on stderr while there is one (the foreground, or before
 * the fork), in the log (syslog) once daemonised. Printing it both ways showed it twice
 * in the foreground, where GLib's log writes to stderr too.
 */
static void startup_error(const GError *error)
{
    if (daemonised)
        g_warning("%s", error->message);
    else
        g_printerr("teitend: %s\n", error->message);
}

static gboolean daemonise(GError **error)
{
    pid_t pid = fork();
    if (pid < 0)
        goto err_errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        goto err_errno;
    pid = fork();
    if (pid < 0)
        goto err_errno;
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        goto err_errno;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    openlog("teitend", LOG_PID, LOG_DAEMON);
    g_log_set_writer_func(syslog_writer, NULL, NULL);
    daemonised = TRUE;
    return TRUE;

err_errno:
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "daemonise: %s",
                g_strerror(errno));
    return FALSE;
}

/* Become @a user; the data directory is made theirs first. */
static gboolean drop_privileges(const char *user, const char *data_dir, GError **error)
{
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "[collector] user: no user \"%s\"",
                    user);
        return FALSE;
    }
    if (g_mkdir_with_parents(data_dir, 0755) != 0 || chown(data_dir, pw->pw_uid, pw->pw_gid) != 0)
        goto err_errno;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        goto err_errno;
    if (setuid(0) == 0 && pw->pw_uid != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM, "could not drop root privileges");
        return FALSE;
    }
    g_message("running as %s (uid %u)", user, (unsigned)pw->pw_uid);
    return TRUE;

err_errno:
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "[collector] user %s: %s",
                user, g_strerror(errno));
    return FALSE;
}

/*
 * Backfill: read IPFIX files through the ledger (ledger.h). Exit status 0 when
 * every file was read, 3 when the only trouble was files already read whole
 * (refused, the others read), 1 when a file could not be read, 2 for usage
 * errors and runs the ledger refuses as a whole (nothing read), 4 when a
 * store failed (tt_host.job_failed): every file of the run is then named on
 * stderr and left out of the ledger, to be read again once the fault is gone.
 */
/*
 * One teitend per data directory: two would split one sensor's flows between
 * two sets of buckets and fight over every RRD file's lock (and a file librrd
 * cannot lock must never be mistaken for a corrupt one). An flock() on
 * DATA/teitend.lock, held for the life of the process and released by the
 * kernel however it ends; the file holds the owner's pid for the message.
 * Returns the descriptor to keep open, or -1 with @a error set.
 */
static int lock_data_dir(const char *data_dir, GError **error)
{
    g_autofree char *path = g_build_filename(data_dir, "teitend.lock", NULL);
    if (g_mkdir_with_parents(data_dir, 0755) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "data-dir %s: %s",
                    data_dir, g_strerror(errno));
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char owner[32] = "";
        ssize_t n = pread(fd, owner, sizeof owner - 1, 0);
        owner[n > 0 ? n : 0] = '\0';
        g_strchomp(owner);
        close(fd);
        if (err == EWOULDBLOCK)
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                        "data-dir %s is in use by another teitend (pid %s; %s)", data_dir,
                        owner[0] != '\0' ? owner : "unknown", path);
        else
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "%s: lock: %s", path,
                        g_strerror(err));
        return -1;
    }
    char pid[32];
    int len = g_snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        g_debug("%s: cannot record the pid: %s", path, g_strerror(errno));
    return fd;
}

/*
 * --read's progress on a terminal: one line on stderr, rewritten in place at
 * most READ_PROGRESS_HZ times a second (files, records, rate, ETA from the
 * bytes read). Nothing when stderr is not a terminal (logs, CI).
 */
#define READ_PROGRESS_HZ 4

typedef struct {
    tt_core *core;
    guint files, nfiles;
    guint64 bytes_total, bytes_before; /* all files; those finished */
    gint64 t0, last;                   /* monotonic µs */
    gboolean shown;
} read_progress;

static void read_progress_show(guint64 offset, void *data)
{
    read_progress *p = data;
    gint64 now = g_get_monotonic_time();
    if (now - p->last < G_USEC_PER_SEC / READ_PROGRESS_HZ)
        return;
    p->last = now;
    double elapsed = (double)(now - p->t0) / G_USEC_PER_SEC;
    guint64 done = p->bytes_before + offset, records = tt_core_records_in(p->core);
    char eta[32] = "--:--";
    if (done > 0 && p->bytes_total > done && elapsed > 0.5) {
        guint64 left = (guint64)(elapsed * (double)(p->bytes_total - done) / (double)done);
        g_snprintf(eta, sizeof eta, "%" G_GUINT64_FORMAT ":%02u", left / 60, (unsigned)(left % 60));
    } else if (p->bytes_total <= done) {
        g_strlcpy(eta, "0:00", sizeof eta);
    }
    /* \r and erase-to-end: the line is rewritten; a log line in between starts on its own */
    fprintf(stderr,
            "\r\033[Kreading: file %u/%u, %" G_GUINT64_FORMAT " records, %.0f records/s, "
            "%.0f %%, ETA %s",
            MIN(p->files + 1, p->nfiles), p->nfiles, records,
            elapsed > 0 ? (double)records / elapsed : 0.0,
            p->bytes_total > 0 ? 100.0 * (double)done / (double)p->bytes_total : 100.0, eta);
    fflush(stderr);
    p->shown = TRUE;
}

/*
 * A store failed during the run: name every file kept out of the ledger, what
 * failed, and how to finish the job. Every file of the run, not only those
 * whose records reached the failed bucket (ledger.c says why).
 */
static void read_report_failures(const tt_ledger_plan *plan, const tt_core_failures *failures)
{
    for (guint i = 0; i < failures->messages->len; i++)
        g_printerr("teitend: store failure: %s\n", (const char *)failures->messages->pdata[i]);
    if (failures->count > failures->messages->len)
        g_printerr("teitend: ... %" G_GUINT64_FORMAT " store failures in all\n", failures->count);
    GString *names = g_string_new(NULL);
    for (guint i = 0; i < plan->read->len; i++) {
        const tt_ledger_file *f = g_ptr_array_index(plan->read, i);
        g_printerr("teitend: %s: not marked read in the ingest ledger: a store failed while "
                   "this run read it\n",
                   f->path);
        g_string_append_printf(names, " %s", f->path);
    }
    g_printerr("teitend: once the fault is gone, read the same file(s) again, in this order:%s "
               "(the stores skip what they hold and store what is missing)\n",
               names->str);
    g_string_free(names, TRUE);
}

/* Is --sensor @a name a [sensor:NAME] of the configuration? Else says so, with the nearest. */
static gboolean read_sensor_known(const tt_config *config, const char *name)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; i < config->sensors->len; i++) {
        const tt_sensor_conf *s = g_ptr_array_index(config->sensors, i);
        if (strcmp(s->name, name) == 0)
            return TRUE;
        g_ptr_array_add(names, s->name);
    }
    const char *near = tt_nearest(name, (const char *const *)names->pdata, names->len);
    g_ptr_array_add(names, NULL);
    g_autofree char *all = g_strjoinv(", ", (char **)names->pdata);
    if (near != NULL)
        g_printerr("teitend: --sensor %s: no [sensor:%s] in %s; did you mean %s? (sensors: %s)\n",
                   name, name, config->path, near, all);
    else
        g_printerr("teitend: --sensor %s: no [sensor:%s] in %s (sensors: %s)\n", name, name,
                   config->path, all);
    return FALSE;
}

static int run_read(tt_config *config, char **files, const char *sensor_name, gboolean force)
{
    g_autoptr(GError) error = NULL;
    uint32_t sensor = TT_SENSOR_NONE;
    tt_ledger_plan plan = {0};

    if (sensor_name == NULL && config->sensors->len != 1) {
        g_printerr("teitend: --read needs --sensor NAME when the configuration has %u sensors\n",
                   config->sensors->len);
        tt_config_free(config);
        return 2;
    }
    if (sensor_name != NULL && !read_sensor_known(config, sensor_name)) {
        tt_config_free(config);
        return 2;
    }
    int lock_fd = lock_data_dir(config->data_dir, &error);
    if (lock_fd < 0) {
        g_printerr("teitend: %s\n", error->message);
        tt_config_free(config);
        return 1;
    }
    tt_core *core = tt_core_new(config, &error);
    if (core == NULL) {
        g_printerr("teitend: %s\n", error->message);
        tt_config_free(config);
        close(lock_fd);
        return 1;
    }
    if (sensor_name == NULL)
        sensor_name = ((tt_sensor_conf *)g_ptr_array_index(config->sensors, 0))->name;
    sensor = tt_core_sensor_index(core, sensor_name);
    g_assert(sensor != TT_SENSOR_NONE); /* read_sensor_known() said so, and the core has them all */
    /* the core frees the configuration, and the sensor name with it */
    g_autofree char *sensor_copy = g_strdup(sensor_name);
    tt_ledger *ledger = tt_ledger_open(config->data_dir, &error);
    if (ledger == NULL || !tt_ledger_plan_new(ledger, files, force, &plan, &error)) {
        int rc = ledger == NULL ? 1 : 2;
        g_printerr("teitend: %s\n", error->message);
        tt_ledger_free(ledger);
        tt_core_free(core);
        close(lock_fd);
        return rc;
    }
    int status = plan.failed ? 1 : plan.refused->len > 0 ? 3 : 0;
    for (guint i = 0; i < plan.refused->len; i++)
        g_printerr("teitend: %s\n", (const char *)g_ptr_array_index(plan.refused, i));
    if (plan.read->len == 0)
        goto out_free_core;
    if (plan.replay) {
        tt_core_set_replay(core, TRUE);
        g_message("reading %u file(s) again: every store skips the buckets it already holds",
                  plan.read->len);
    }
    if (!tt_ledger_begin(ledger, &plan, sensor_copy, &error)) {
        g_printerr("teitend: %s\n", error->message);
        status = 1;
        goto out_free_core;
    }
    read_progress progress = {.core = core, .nfiles = plan.read->len};
    progress.t0 = progress.last = g_get_monotonic_time();
    for (guint i = 0; i < plan.read->len; i++)
        progress.bytes_total += ((tt_ledger_file *)g_ptr_array_index(plan.read, i))->size;
    gboolean tty = isatty(STDERR_FILENO);
    for (guint i = 0; i < plan.read->len; i++) {
        tt_ledger_file *f = g_ptr_array_index(plan.read, i);
        progress.files = i;
        if (!tt_read_file_full(core, f->path, sensor, tty ? read_progress_show : NULL, &progress,
                               &error)) {
            if (progress.shown)
                fputc('\n', stderr);
            g_printerr("teitend: %s\n", error->message);
            f->read_error = g_strdup(error->message);
            g_clear_error(&error);
            status = 1;
        }
        progress.bytes_before += f->size;
    }
    if (tty) { /* the last line, a summary, even for a read too quick for any other */
        progress.last = 0;
        progress.files = plan.read->len;
        read_progress_show(0, &progress);
        fputc('\n', stderr);
    }
    tt_core_close_all(core);
    int64_t watermark_ms = 0, closed_until = INT64_MIN;
    gboolean silent = FALSE;
    if (!tt_core_sensor_clock(core, sensor, &watermark_ms, &closed_until, &silent))
        closed_until = INT64_MIN;
    /* runs every queued job, joins the writer and closes the stores: only then done */
    tt_core_failures failures;
    tt_core_free_failures(core, &failures);
    core = NULL;
    if (failures.count > 0) {
        read_report_failures(&plan, &failures);
        const char *first = failures.messages->len > 0 ? failures.messages->pdata[0] : "?";
        if (!tt_ledger_fail(ledger, &plan, first, &error)) {
            g_printerr("teitend: %s\n", error->message);
            g_clear_error(&error);
        }
        status = 4;
    } else if (!tt_ledger_finish(ledger, &plan, closed_until, &error)) {
        g_printerr("teitend: %s\n", error->message);
        status = 1;
    }
    tt_core_failures_clear(&failures);

out_free_core:
    tt_core_free(core);
    tt_ledger_plan_clear(&plan);
    tt_ledger_free(ledger);
    close(lock_fd);
    return status;
}

static int run_daemon(tt_config *config, const char *config_path, gboolean foreground,
                      const char *pidfile)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *pidfile_copy = NULL;
    daemon_ctx ctx = {0};

    ctx.listeners = tt_listeners_open(config, &error);
    if (ctx.listeners == NULL) {
        g_printerr("teitend: %s\n", error->message);
        tt_config_free(config);
        return 1;
    }
    if (!foreground && !daemonise(&error))
        goto err_free_listeners;
    /* after the fork: the lock belongs to the process that keeps running */
    if (lock_data_dir(config->data_dir, &error) < 0)
        goto err_free_listeners;
    /* a copy: the core frees (and SIGHUP replaces) the configuration before the unlink */
    pidfile_copy = g_strdup(pidfile != NULL ? pidfile : config->pidfile);
    pidfile = pidfile_copy;
    if (pidfile != NULL) {
        g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
        if (!g_file_set_contents(pidfile, pid, -1, &error))
            goto err_free_listeners;
    }
    if (config->user != NULL && !drop_privileges(config->user, config->data_dir, &error))
        goto err_free_listeners;
    /* the pidfile was written before the drop; its removal at the stop comes after it */
    if (pidfile != NULL) {
        g_autofree char *dir = g_path_get_dirname(pidfile);
        if (g_access(dir, W_OK | X_OK) != 0) {
            int saved = errno;
            g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(saved),
                        "pidfile %s: its directory %s/ is not writable by uid %u: %s", pidfile, dir,
                        (unsigned)geteuid(), g_strerror(saved));
            g_unlink(pidfile);
            goto err_free_listeners;
        }
    }
    ctx.core = tt_core_new(config, &error);
    if (ctx.core == NULL)
        goto err_free_listeners;
    config = NULL; /* the core owns it now */
    ctx.config_path = g_strdup(config_path);
    if (!tt_listeners_start(ctx.listeners, ctx.core, &error)) {
        startup_error(error);
        tt_listeners_free(ctx.listeners);
        tt_core_free(ctx.core);
        g_free(ctx.config_path);
        if (pidfile != NULL)
            g_unlink(pidfile);
        return 1;
    }

    ctx.loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_stop, &ctx);
    g_unix_signal_add(SIGINT, on_stop, &ctx);
    g_unix_signal_add(SIGHUP, on_reload, &ctx);
    g_unix_signal_add(SIGUSR1, on_usr1, &ctx);
    g_timeout_add_seconds(1, on_tick, &ctx);
    g_message("teitend %s receiving", TT_VERSION);
    g_main_loop_run(ctx.loop);

    tt_listeners_drain(ctx.listeners);
    tt_core_close_all(ctx.core);
    tt_listeners_free(ctx.listeners);
    tt_core_free(ctx.core);
    g_main_loop_unref(ctx.loop);
    g_free(ctx.config_path);
    if (pidfile != NULL)
        g_unlink(pidfile);
    g_message("stopped");
    return 0;

err_free_listeners:
    startup_error(error);
    tt_listeners_free(ctx.listeners);
    tt_config_free(config);
    return 1;
}

int main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *pidfile = NULL;
    g_autofree char *sensor = NULL;
    g_auto(GStrv) files = NULL;
    gboolean foreground = FALSE, check = FALSE, version = FALSE, force = FALSE;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
         "configuration file (default /etc/teiten/teiten.conf)", "FILE"},
        {"foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground,
         "stay in the foreground, log to stderr", NULL},
        {"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
         "validate the configuration and the plugins' groups, then exit", NULL},
        {"read", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
         "read IPFIX file(s) instead of listening, close every bucket, exit", "FILE"},
        {"sensor", 's', 0, G_OPTION_ARG_STRING, &sensor, "sensor the files of --read belong to",
         "NAME"},
        {"force", 0, 0, G_OPTION_ARG_NONE, &force,
         "with --read: read files the ingest ledger has as read, counting only what the stores "
         "lack",
         NULL},
        {"pidfile", 'p', 0, G_OPTION_ARG_FILENAME, &pidfile, "write the process id here", "FILE"},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version", NULL},
        G_OPTION_ENTRY_NULL};
    g_autoptr(GOptionContext) opts = g_option_context_new("- teiten darknet flow collector");
    g_autoptr(GError) error = NULL;

    g_option_context_add_main_entries(opts, entries, NULL);
    if (!g_option_context_parse(opts, &argc, &argv, &error)) {
        g_printerr("teitend: %s\n", error->message);
        return 2;
    }
    if (version) {
        printf("teitend %s\n", TT_VERSION);
        return 0;
    }
    /* remaining arguments after --read FILE are more files */
    if (files != NULL && argc > 1) {
        GStrvBuilder *b = g_strv_builder_new();
        g_strv_builder_addv(b, (const char **)files);
        for (int i = 1; i < argc; i++)
            g_strv_builder_add(b, argv[i]);
        g_strfreev(files);
        files = g_strv_builder_end(b);
        g_strv_builder_unref(b);
    }
    signal(SIGPIPE, SIG_IGN);
    /*
     * Plugins' per-bucket accumulators are megabytes of mostly untouched zeros
     * (dense arrays over the port space, HyperLogLog pages per country). glibc
     * raises its mmap threshold after the first such block is freed and then
     * serves them from the heap, where calloc must write every page: a fixed
     * threshold keeps them mmap'ed, so only the pages a bucket touches are
     * resident and a freed bucket goes back to the kernel.
     */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    if (config_path == NULL)
        config_path = g_strdup("/etc/teiten/teiten.conf");
    /* SIGHUP reads it again after daemonise() moved to "/" */
    char *absolute = g_canonicalize_filename(config_path, NULL);
    g_free(config_path);
    config_path = absolute;
    tt_config *config = tt_config_load(config_path, &error);
    if (config == NULL) {
        g_printerr("teitend: %s\n", error->message);
        return 2;
    }
    if (config->plugin_dir == NULL)
        config->plugin_dir = default_plugin_dir();
    /* a [plugin:NAME] without its NAME.so: the file, the group and the nearest name, not dlopen's
     * words */
    if (!tt_plugin_check_installed(config->plugin_dir, config->plugins, config_path, &error)) {
        g_printerr("teitend: %s\n", error->message);
        tt_config_free(config);
        return 2;
    }

    if (check) {
        /* validates everything and writes nothing: as root it would leave root's files for
         * a daemon that drops to `user =` (the quickstart's ExecStartPre) */
        tt_core *core = tt_core_new_checking(config, &error);
        if (core == NULL) {
            g_printerr("teitend: %s\n", error->message);
            tt_config_free(config);
            return 2;
        }
        tt_core_free(core);
        printf("%s: configuration OK\n", config_path);
        return 0;
    }
    if (files != NULL)
        return run_read(config, files, sensor, force);
    return run_daemon(config, config_path, foreground, pidfile);
}
