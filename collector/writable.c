/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * writable.c - can this process write the core's files? Checked once at the
 * start, after the privilege drop and before anything is written, so that
 * teitend refuses to start rather than lose its first closed bucket.
 */
#include "writable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Can this process write @a path? It need not exist when its directory lets
 * it be created. A file or directory it cannot write is named in @a error:
 * teitend refuses to start rather than accept flows it would lose at the
 * first close (a --check-config run as root used to leave root's files
 * behind for a daemon that drops to `user =`).
 */
static gboolean writable(const char *path, gboolean dir, GError **error)
{
    g_autofree char *parent = NULL; /* named in the error below: lives until the end */
    if (g_access(path, F_OK) == 0) {
        if (g_access(path, dir ? (W_OK | X_OK) : W_OK) == 0)
            return TRUE;
    } else {
        parent = g_path_get_dirname(path);
        if (g_access(parent, W_OK | X_OK) == 0)
            return TRUE;
        path = parent;
        dir = TRUE;
    }
    int saved = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                "%s%s is not writable by uid %u: %s", path, dir ? "/" : "", (unsigned)geteuid(),
                g_strerror(saved));
    return FALSE;
}

/* The files of the RRD tree a start must be able to write. */
static gboolean writable_ours(const char *name)
{
    return g_str_has_suffix(name, ".rrd") || strcmp(name, ".clock") == 0 ||
           strcmp(name, ".journal") == 0;
}

/* @a e's type, from readdir, or from fstatat on a file system that does not say it;
 * DT_LNK (skipped) for an entry gone in between. */
static unsigned char writable_type(int dirfd, const struct dirent *e)
{
    struct stat st;
    if (e->d_type != DT_UNKNOWN)
        return e->d_type;
    if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return DT_LNK;
    if (S_ISDIR(st.st_mode))
        return DT_DIR;
    return S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
}

/*
 * Every directory and .rrd file under @a dir (the RRD tree), and its .clock
 * and .journal. A full port space is ~131 000 files: one faccessat each, the
 * type from readdir (no stat, no path built) unless one fails.
 */
static gboolean writable_tree(const char *dir, GError **error)
{
    if (!writable(dir, TRUE, error))
        return FALSE;
    DIR *d = opendir(dir);
    if (d == NULL)
        return TRUE; /* not there yet: its parent was checked */
    int fd = dirfd(d);
    const struct dirent *e;
    gboolean ok = TRUE;
    /* cppcheck-suppress readdirCalled ; a DIR of our own on one thread: POSIX readdir is safe,
     * readdir_r deprecated */
    while (ok && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        unsigned char type = writable_type(fd, e);
        if (type == DT_LNK)
            continue;
        if (type == DT_DIR) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            ok = writable_tree(path, error);
        } else if (writable_ours(name) && faccessat(fd, name, W_OK, 0) != 0) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            ok = writable(path, FALSE, error); /* names it, with the reason */
        }
    }
    closedir(d);
    return ok;
}

/*
 * The core's own files, after the privilege drop and before anything is
 * written: the data directory, stats.json, the RRD tree (unless a remote
 * rrdcached writes it), prometheus-file's directory. Plugins check theirs in init()
 * (tt_host.checking).
 */
gboolean tt_writable_check(const tt_config *config, GError **error)
{
    g_autofree char *stats = g_build_filename(config->data_dir, "stats.json", NULL);
    g_autofree char *rrd = g_build_filename(config->data_dir, "rrd", NULL);
    gboolean remote = config->rrdcached != NULL && !g_str_has_prefix(config->rrdcached, "unix:");
    if (!writable(config->data_dir, TRUE, error) || !writable(stats, FALSE, error) ||
        (!remote && !writable_tree(rrd, error))) {
        g_prefix_error(error, "%s: ", config->path);
        return FALSE;
    }
    /* prometheus-file: its NAME.tmp is made beside it, then renamed over it */
    g_autofree char *prom_dir =
        config->prometheus_file != NULL ? g_path_get_dirname(config->prometheus_file) : NULL;
    if (prom_dir != NULL && !writable(prom_dir, TRUE, error)) {
        g_prefix_error(error, "%s: [collector] prometheus-file: ", config->path);
        return FALSE;
    }
    return TRUE;
}
