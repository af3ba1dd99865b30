/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cached.c - a small client of rrdcached's text protocol.
 *
 * librrd's rrd_client.h offers one UPDATE per round trip and no BATCH; a step
 * of the full port space is up to 131 072 updates, so the store speaks the
 * protocol itself: "BATCH", the commands, ".", then one "N errors" line and N
 * lines naming the refused commands by number. Only UPDATE, CREATE, LAST and
 * FLUSH are used. Every read and write has a 30 s deadline (poll), so a hung
 * daemon turns into an error and a reconnect, never into a stuck writer.
 *
 * Rejected: librrd's rrdc_* (a process-global connection guarded by its own
 * mutex, one line per round trip, and an update error cannot be told apart
 * from a dead connection).
 */
#define _GNU_SOURCE /* struct ucred (SO_PEERCRED) */
#include "rrd_private.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CACHED_TIMEOUT_MS 30000
#define CACHED_SLICE_MS 100

struct tt_cached {
    char *addr;
    int fd;
    gint timeout_ms; /* atomic: per wait for the socket (set by the writer, read by a sender) */
    gint aborted;    /* atomic, set from any thread: every wait fails from now on */
    GString *in;     /* bytes read and not yet consumed */
    GString *out;    /* a BATCH being sent, kept across batches: a fresh 1 MiB per batch
                      * was an mmap, its page faults and an munmap for every job */
};

tt_cached *tt_cached_new(const char *addr)
{
    tt_cached *c = g_new0(tt_cached, 1);
    c->addr = g_strdup(addr);
    c->fd = -1;
    c->timeout_ms = CACHED_TIMEOUT_MS;
    c->in = g_string_new(NULL);
    c->out = g_string_new(NULL);
    return c;
}

void tt_cached_set_timeout(tt_cached *c, int ms)
{
    g_atomic_int_set(&c->timeout_ms, ms);
}

void tt_cached_abort(tt_cached *c)
{
    g_atomic_int_set(&c->aborted, 1);
}

static void cached_disconnect(tt_cached *c);

void tt_cached_free(tt_cached *c)
{
    if (c == NULL)
        return;
    cached_disconnect(c);
    g_string_free(c->in, TRUE);
    g_string_free(c->out, TRUE);
    g_free(c->addr);
    g_free(c);
}

gboolean tt_cached_is_remote(const tt_cached *c)
{
    return !g_str_has_prefix(c->addr, "unix:");
}

static void cached_disconnect(tt_cached *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    g_string_truncate(c->in, 0);
}

static gboolean cached_fail(tt_cached *c, GError **error, const char *what, int err)
{
    g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_DAEMON, "rrdcached %s: %s: %s", c->addr, what,
                g_strerror(err));
    cached_disconnect(c);
    return FALSE;
}

/* Connect if not connected. */
static gboolean cached_connect(tt_cached *c, GError **error)
{
    if (c->fd >= 0)
        return TRUE;
    if (!tt_cached_is_remote(c)) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        const char *path = c->addr + strlen("unix:");
        if (strlen(path) >= sizeof sun.sun_path)
            return cached_fail(c, error, "socket path", ENAMETOOLONG);
        strcpy(sun.sun_path, path);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sun, sizeof sun) != 0)
            return cached_fail(c, error, "connect", errno);
        return TRUE;
    }
    g_autofree char *host = NULL;
    const char *colon = strrchr(c->addr, ':');
    host = g_strndup(c->addr, (gsize)(colon - c->addr));
    if (host[0] == '[') {
        char *h = g_strndup(host + 1, strlen(host) - 2);
        g_free(host);
        host = h;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_DAEMON, "rrdcached %s: %s", c->addr,
                    gai_strerror(rc));
        return FALSE;
    }
    int err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd >= 0 && connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        err = errno;
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return cached_fail(c, error, "connect", err);
    return TRUE;
}

char *tt_cached_identity(tt_cached *c)
{
    if (tt_cached_is_remote(c) || !cached_connect(c, NULL))
        return NULL;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0)
        return NULL;
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)cred.pid);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
        return NULL;
    /* "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so count from the last
     * ')'; STATE is field 3, the start time (clock ticks after boot) field 22 */
    const char *p = strrchr(stat, ')');
    if (p == NULL || p[1] != ' ')
        return NULL;
    g_auto(GStrv) f = g_strsplit(p + 2, " ", 21);
    if (g_strv_length(f) < 20 || f[19][0] == '\0')
        return NULL;
    return g_strdup_printf("%d:%s", (int)cred.pid, f[19]);
}

/* Waits in slices of CACHED_SLICE_MS so that tt_cached_abort() ends a wait within one. */
static gboolean cached_wait(tt_cached *c, short events, GError **error)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    gint64 end = g_get_monotonic_time() + (gint64)g_atomic_int_get(&c->timeout_ms) * 1000;
    int rc;
    for (;;) {
        if (g_atomic_int_get(&c->aborted))
            return cached_fail(c, error, "abandoned at the stop deadline", ECANCELED);
        gint64 left_ms = (end - g_get_monotonic_time()) / 1000;
        rc = poll(&p, 1, (int)CLAMP(left_ms, 0, CACHED_SLICE_MS));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc != 0 || left_ms <= 0)
            break;
    }
    if (rc == 0)
        return cached_fail(c, error, "timeout", ETIMEDOUT);
    if (rc < 0)
        return cached_fail(c, error, "poll", errno);
    return TRUE;
}

static gboolean cached_write(tt_cached *c, const char *buf, gsize len, GError **error)
{
    while (len > 0) {
        if (!cached_wait(c, POLLOUT, error))
            return FALSE;
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return cached_fail(c, error, "send", n < 0 ? errno : EPIPE);
        buf += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* One reply line without its newline. (transfer full) */
static char *cached_read_line(tt_cached *c, GError **error)
{
    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        if (nl != NULL) {
            gsize n = (gsize)(nl - c->in->str);
            char *line = g_strndup(c->in->str, n);
            g_string_erase(c->in, 0, (gssize)n + 1);
            return line;
        }
        if (!cached_wait(c, POLLIN, error))
            return NULL;
        char buf[4096];
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cached_fail(c, error, "recv", n < 0 ? errno : ECONNRESET);
            return NULL;
        }
        g_string_append_len(c->in, buf, n);
    }
}

/* Read a status line and the lines it announces (status > 0: that many). */
static gboolean cached_read_reply(tt_cached *c, int *status, char **message, GPtrArray *extra,
                                  GError **error)
{
    g_autofree char *line = cached_read_line(c, error);
    if (line == NULL)
        return FALSE;
    char *end = NULL;
    long st = strtol(line, &end, 10);
    if (end == line)
        return cached_fail(c, error, "unexpected reply", EPROTO);
    *status = (int)st;
    if (message != NULL)
        *message = g_strdup(g_strstrip(end));
    for (long i = 0; i < st; i++) {
        char *l = cached_read_line(c, error);
        if (l == NULL)
            return FALSE;
        if (extra != NULL)
            g_ptr_array_add(extra, l);
        else
            g_free(l);
    }
    return TRUE;
}

gboolean tt_cached_command(tt_cached *c, const char *line, int *status, char **reply,
                           GError **error)
{
    if (!cached_connect(c, error))
        return FALSE;
    g_autofree char *out = g_strconcat(line, "\n", NULL);
    if (!cached_write(c, out, strlen(out), error))
        return FALSE;
    return cached_read_reply(c, status, reply, NULL, error);
}

gboolean tt_cached_stat(tt_cached *c, const char *name, guint64 *value)
{
    if (!cached_connect(c, NULL) || !cached_write(c, "STATS\n", 6, NULL))
        return FALSE;
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    int status = -1;
    if (!cached_read_reply(c, &status, NULL, lines, NULL) || status <= 0)
        return FALSE;
    size_t n = strlen(name);
    for (guint i = 0; i < lines->len; i++) {
        const char *l = g_ptr_array_index(lines, i);
        if (strncmp(l, name, n) == 0 && l[n] == ':') {
            char *end = NULL;
            *value = g_ascii_strtoull(l + n + 1, &end, 10);
            return end != l + n + 1;
        }
    }
    return FALSE;
}

gboolean tt_cached_batch(tt_cached *c, GPtrArray *lines, GPtrArray **failed, GError **error)
{
    int st = 0;
    *failed = NULL;
    if (!cached_connect(c, error))
        return FALSE;
    if (!cached_write(c, "BATCH\n", 6, error) || !cached_read_reply(c, &st, NULL, NULL, error))
        return FALSE;
    if (st != 0) {
        g_set_error(error, TT_RRD_ERROR, TT_RRD_ERROR_DAEMON, "rrdcached %s: BATCH refused",
                    c->addr);
        cached_disconnect(c);
        return FALSE;
    }
    /* write in chunks of ~1 MiB: rrdcached reads while we write */
    GString *buf = c->out;
    g_string_truncate(buf, 0);
    for (guint i = 0; i <= lines->len; i++) {
        if (i < lines->len) {
            g_string_append(buf, g_ptr_array_index(lines, i));
            g_string_append_c(buf, '\n');
        } else {
            g_string_append(buf, ".\n");
        }
        if (buf->len >= (1 << 20) || i == lines->len) {
            if (!cached_write(c, buf->str, buf->len, error))
                return FALSE;
            g_string_truncate(buf, 0);
        }
    }
    GPtrArray *errs = g_ptr_array_new_with_free_func(g_free);
    if (!cached_read_reply(c, &st, NULL, errs, error)) {
        g_ptr_array_unref(errs);
        return FALSE;
    }
    *failed = errs;
    return TRUE;
}
