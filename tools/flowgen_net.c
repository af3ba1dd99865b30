/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowgen_net.c - where encoded messages go, and how records are cut into them.
 *
 * Both encoders hand finished messages (IPFIX from libfixbuf's buffer
 * exporter, NetFlow v9 of our own) to one sink: an IPFIX file (RFC 5655 is a
 * plain sequence of messages), a UDP socket or a TCP connection. Owning the
 * socket here, instead of libfixbuf's fbExporterAllocNet, is what lets the
 * tool bind a chosen source address (so a collector can tell several
 * exporters apart) and pace by records per second; libfixbuf 2.4 has no way
 * to bind its exporter's socket.
 *
 * This tool must only ever talk to this machine: every host and bind address
 * must be a numeric loopback address (127.0.0.0/8, ::1, or IPv4-mapped
 * loopback); "localhost" is taken as 127.0.0.1 without asking a resolver.
 *
 * Messages are cut as a probe cuts them: records of one second of emission
 * time, up to the size budget, with an export time no earlier than any
 * record's end (the collector checks records against their message's export
 * time) and never going backwards.
 */
#include "flowgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct flowgen_sink {
    flowgen_out_kind kind;
    FILE *fp;
    char *path;
    int fd;
    struct sockaddr_storage dst;
    socklen_t dst_len;
    double rate;
    gint64 t0;
    guint64 records;
};

static gboolean flowgen_sockaddr(const char *host, guint16 port, struct sockaddr_storage *ss,
                                 socklen_t *len)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *len = sizeof *sin;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        const uint8_t *a = sin6->sin6_addr.s6_addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *len = sizeof *sin6;
        return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
               (memcmp(a, mapped, 12) == 0 && a[12] == 127);
    }
    return FALSE;
}

gboolean tt_flowgen_target_parse(const char *text, flowgen_target *out, GError **error)
{
    g_return_val_if_fail(text != NULL && out != NULL, FALSE);
    memset(out, 0, sizeof *out);
    if (g_str_has_prefix(text, "file:") && text[5] != '\0') {
        out->kind = FLOWGEN_OUT_FILE;
        out->path = g_strdup(text + 5);
        return TRUE;
    }
    const char *rest;
    /* declared before the first goto: clang refuses a jump past a cleanup variable */
    g_autofree char *host = NULL;
    if (g_str_has_prefix(text, "udp://"))
        out->kind = FLOWGEN_OUT_UDP;
    else if (g_str_has_prefix(text, "tcp://"))
        out->kind = FLOWGEN_OUT_TCP;
    else
        goto err_syntax;
    rest = text + 6;
    const char *colon;
    if (*rest == '[') {
        const char *close = strchr(rest, ']');
        if (close == NULL || close[1] != ':')
            goto err_syntax;
        host = g_strndup(rest + 1, (gsize)(close - rest - 1));
        colon = close + 1;
    } else {
        colon = strrchr(rest, ':');
        if (colon == NULL)
            goto err_syntax;
        host = g_strndup(rest, (gsize)(colon - rest));
    }
    guint64 port;
    if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
        goto err_syntax;
    if (strcmp(host, "localhost") == 0) {
        g_free(host);
        host = g_strdup("127.0.0.1");
    }
    struct sockaddr_storage ss;
    socklen_t len;
    if (!flowgen_sockaddr(host, (guint16)port, &ss, &len)) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1,
                    "--out: '%s' is not a numeric loopback address; flowgen only talks to "
                    "this machine",
                    host);
        return FALSE;
    }
    out->host = g_steal_pointer(&host);
    out->port = (guint16)port;
    return TRUE;

err_syntax:
    g_set_error(error, TT_FLOWGEN_ERROR, 1,
                "--out: '%s' is not file:PATH, udp://HOST:PORT or tcp://HOST:PORT", text);
    return FALSE;
}

void tt_flowgen_target_clear(flowgen_target *target)
{
    g_clear_pointer(&target->path, g_free);
    g_clear_pointer(&target->host, g_free);
}

static flowgen_sink *flowgen_sink_socket(const flowgen_export_config *config, flowgen_sink *sink,
                                         GError **error)
{
    struct sockaddr_storage src;
    socklen_t src_len;
    const char *bind_addr = config->bind;
    if (!flowgen_sockaddr(config->target.host, config->target.port, &sink->dst, &sink->dst_len))
        goto err_free;
    /* the default source follows the target's family */
    if (bind_addr == NULL)
        bind_addr = sink->dst.ss_family == AF_INET6 ? "::1" : "127.0.0.1";
    if (!flowgen_sockaddr(bind_addr, 0, &src, &src_len)) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "--bind: '%s' is not a numeric loopback address",
                    bind_addr);
        goto err_free;
    }
    if (src.ss_family != sink->dst.ss_family) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "--bind %s and --out %s are different families",
                    bind_addr, config->target.host);
        goto err_free;
    }
    int type = sink->kind == FLOWGEN_OUT_UDP ? SOCK_DGRAM : SOCK_STREAM;
    sink->fd = socket(sink->dst.ss_family, type | SOCK_CLOEXEC, 0);
    if (sink->fd < 0)
        goto err_errno;
    int sndbuf = 4 << 20;
    setsockopt(sink->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (bind(sink->fd, (struct sockaddr *)&src, src_len) != 0)
        goto err_errno;
    if (sink->kind == FLOWGEN_OUT_TCP &&
        connect(sink->fd, (struct sockaddr *)&sink->dst, sink->dst_len) != 0)
        goto err_errno;
    sink->t0 = g_get_monotonic_time();
    return sink;

err_errno:
    g_set_error(error, TT_FLOWGEN_ERROR, 1, "%s [%s]:%u: %s",
                sink->kind == FLOWGEN_OUT_UDP ? "udp" : "tcp", config->target.host,
                config->target.port, g_strerror(errno));
    if (sink->fd >= 0)
        close(sink->fd);
err_free:
    g_free(sink);
    return NULL;
}

flowgen_sink *tt_flowgen_sink_open(const flowgen_export_config *config, GError **error)
{
    g_return_val_if_fail(config != NULL, NULL);
    flowgen_sink *sink = g_new0(flowgen_sink, 1);
    sink->kind = config->target.kind;
    sink->fd = -1;
    sink->rate = config->rate;
    if (sink->kind != FLOWGEN_OUT_FILE)
        return flowgen_sink_socket(config, sink, error);
    sink->fp = fopen(config->target.path, "wb");
    if (sink->fp == NULL) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "%s: %s", config->target.path, g_strerror(errno));
        g_free(sink);
        return NULL;
    }
    sink->path = g_strdup(config->target.path);
    return sink;
}

gboolean tt_flowgen_sink_send(flowgen_sink *sink, const uint8_t *msg, gsize len, guint records,
                              GError **error)
{
    g_return_val_if_fail(sink != NULL && msg != NULL, FALSE);
    if (sink->kind == FLOWGEN_OUT_FILE) {
        if (fwrite(msg, 1, len, sink->fp) != len)
            goto err_errno;
        return TRUE;
    }
    if (sink->kind == FLOWGEN_OUT_UDP) {
        ssize_t n;
        do
            n = sendto(sink->fd, msg, len, 0, (struct sockaddr *)&sink->dst, sink->dst_len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            goto err_errno;
    } else {
        for (gsize off = 0; off < len;) {
            ssize_t n = send(sink->fd, msg + off, len - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                goto err_errno;
            off += (gsize)n;
        }
    }
    sink->records += records;
    if (sink->rate > 0) {
        gint64 due = sink->t0 + (gint64)((double)sink->records * 1e6 / sink->rate);
        gint64 now = g_get_monotonic_time();
        if (due > now)
            g_usleep((gulong)(due - now));
    }
    return TRUE;

err_errno:
    g_set_error(error, TT_FLOWGEN_ERROR, 1, "send: %s", g_strerror(errno));
    return FALSE;
}

gboolean tt_flowgen_sink_close(flowgen_sink *sink, GError **error)
{
    if (sink == NULL)
        return TRUE;
    gboolean ok = TRUE;
    if (sink->fp != NULL && fclose(sink->fp) != 0) {
        g_set_error(error, TT_FLOWGEN_ERROR, 1, "%s: %s", sink->path, g_strerror(errno));
        ok = FALSE;
    }
    if (sink->fd >= 0) {
        /* a TCP collector reads to the end before it sees the close */
        if (sink->kind == FLOWGEN_OUT_TCP)
            shutdown(sink->fd, SHUT_WR);
        close(sink->fd);
    }
    g_free(sink->path);
    g_free(sink);
    return ok;
}

guint tt_flowgen_batch(GArray *flows, guint pos, gsize budget, gsize header, gsize rec_v4,
                       gsize rec_v6, gsize set_header)
{
    g_return_val_if_fail(flows != NULL && pos < flows->len, 0);
    int64_t second = g_array_index(flows, flowgen_flow, pos).order_ms / 1000;
    gsize used = header;
    int family = 0;
    guint n = 0;
    for (guint i = pos; i < flows->len; i++) {
        const flowgen_flow *f = &g_array_index(flows, flowgen_flow, i);
        if (n > 0 && f->order_ms / 1000 != second)
            break;
        gsize need = (f->family == 4 ? rec_v4 : rec_v6) + (f->family != family ? set_header : 0);
        if (used + need > budget)
            break;
        used += need;
        family = f->family;
        n++;
    }
    return n;
}

int64_t tt_flowgen_batch_time(GArray *flows, guint pos, guint n, int64_t previous)
{
    int64_t t = previous;
    for (guint i = pos; i < pos + n; i++)
        t = MAX(t, (g_array_index(flows, flowgen_flow, i).end_ms + 999) / 1000);
    return t;
}
