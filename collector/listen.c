/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen.c - our own sockets, read with recvmmsg, and IPFIX streams.
 *
 * UDP (IPFIX, NetFlow v9, NetFlow v5): a socket of our own with a receive
 * buffer we size (SO_RCVBUFFORCE when root, SO_RCVBUF otherwise, and the size
 * we got is logged when smaller), and recvmmsg batches. A [::] socket also
 * takes IPv4 (IPv4-mapped peers are matched as IPv4 by the sensors).
 * libfixbuf's UDP listener was measured to drop a softflowd burst with its
 * default buffer and offers no hook to check a datagram before it decodes it,
 * so it is used only where nothing else can do the job: sFlow v5, whose
 * translator lives inside libfixbuf's read path. There we still own the
 * decision: the datagram is peeked (MSG_PEEK) before libfixbuf reads,
 * non-sFlow noise is discarded, what libfixbuf's translator would read past
 * (tt_sflow_check) is counted as malformed and discarded. And we own the
 * socket: it is bound and sized with the others in tt_listeners_open(),
 * before the privilege drop (SO_RCVBUFFORCE needs root, a failed bind is
 * fatal there, naming the listener); libfixbuf's listener, which can only be
 * made later with the decoder's session, binds an ephemeral port that our
 * socket then replaces (dup2 over its descriptor).
 *
 * Kernel drops are the socket's own counter (SK_MEMINFO_DROPS through
 * SO_MEMINFO, what `ss -m` shows as `d`), read every tick and at the stop for
 * each UDP socket, libfixbuf's sFlow socket included. Rejected: SO_RXQ_OVFL,
 * the same counter delivered with the next datagram read, so drops after the
 * last datagram were never counted (the kernel said 2,259, we said 0).
 *
 * TCP (IPFIX) and files are byte streams framed by the IPFIX header's length;
 * each message goes to the exporter's session exactly as a datagram would.
 * Anyone who can reach a TCP port can connect, so connections are bounded:
 * at most max-tcp-connections open, each taking one of max-exporters'
 * places; one more is accepted and closed at once (tcp_refused), and one
 * silent for tcp-idle-timeout is closed (tcp_idle_closed), swept each tick.
 * Everything runs on the main loop's thread: reception, decoding and dispatch
 * need no locks, and the writer thread keeps disk off this path.
 */
#define _GNU_SOURCE
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fixbuf/public.h>
#include <glib-unix.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "wire.h"

#define RECV_BATCH 64
#define RECV_BUFSZ 65536
#define BATCHES_PER_WAKEUP 32
#define TCP_BUFSZ (2 * 65536)
/* the stop reads the sockets for at most this long: a 64 MiB buffer takes ~1 s, and a sender
 * that keeps sending must not hold the stop (stop-timeout) for ever */
#define DRAIN_MAX_US (2 * G_USEC_PER_SEC)

typedef struct {
    uint64_t datagrams;
    uint64_t bytes;
    uint64_t noise;           /* not the listener's protocol */
    uint64_t kernel_drops;    /* the socket's SK_MEMINFO_DROPS: datagrams the kernel dropped */
    uint64_t exporter_cap;    /* refused: the exporter cap was reached */
    uint64_t connections;     /* TCP connections accepted */
    uint64_t stream_errors;   /* TCP connections closed for broken framing */
    uint64_t streams_cut;     /* TCP connections that ended inside a message, or broken */
    uint64_t tcp_refused;     /* TCP connections closed at accept: a connection cap was reached */
    uint64_t tcp_idle_closed; /* TCP connections closed after tcp-idle-timeout of silence */
    uint64_t unread_at_stop;  /* datagrams still queued when the stop stopped reading */
} listener_stats;

typedef struct tt_listeners tt_listeners;

typedef struct {
    tt_listeners *owner;
    guint id;
    tt_listen_spec spec;
    int fd;
    guint watch;
    uint32_t drops_read;       /* SK_MEMINFO_DROPS at the last read (a 32-bit kernel counter) */
    int64_t refused_logged;    /* monotonic seconds of the last tcp_refused warning */
    fbListener_t *fb_listener; /* sFlow only */
    listener_stats stats;
} listener;

typedef struct {
    listener *l;
    int fd;
    guint watch;
    tt_exporter *exporter;
    uint8_t *buf;
    size_t used;
    int64_t last_active; /* monotonic seconds of the last byte received (or the accept) */
} tcp_conn;

struct tt_listeners {
    GPtrArray *list;  /* listener* */
    GPtrArray *conns; /* tcp_conn* */
    tt_core *core;
    tt_decoder *decoder;
    uint32_t rcvbuf;
    uint32_t max_tcp;   /* max-tcp-connections */
    int64_t tcp_idle_s; /* tcp-idle-timeout; 0: never */
    struct mmsghdr msgs[RECV_BATCH];
    struct iovec iov[RECV_BATCH];
    struct sockaddr_storage peers[RECV_BATCH];
    uint8_t *bufs; /* RECV_BATCH * RECV_BUFSZ */
};

G_DEFINE_QUARK(tt_listen_error, tt_listen_error)

static int64_t now_s(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

static int64_t mono_s(void)
{
    return g_get_monotonic_time() / G_USEC_PER_SEC;
}

static gboolean spec_sockaddr(const tt_listen_spec *spec, struct sockaddr_storage *ss,
                              socklen_t *len, GError **error)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, spec->host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(spec->port);
        *len = sizeof *in;
        return TRUE;
    }
    if (inet_pton(AF_INET6, spec->host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(spec->port);
        *len = sizeof *in6;
        return TRUE;
    }
    g_set_error(error, TT_LISTEN_ERROR, TT_LISTEN_ERROR_SPEC, "%s: not an address literal",
                spec->spec);
    return FALSE;
}

/* Ask for @a bytes of receive buffer; root may pass net.core.rmem_max. */
static void socket_size_rcvbuf(int fd, uint32_t bytes, const char *what)
{
    int want = (int)MIN(bytes, (uint32_t)INT_MAX / 2);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    int got = 0;
    socklen_t glen = sizeof got;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &glen) == 0 && got / 2 < want)
        g_warning("%s: receive buffer is %d bytes, asked for %d (raise net.core.rmem_max or run "
                  "as root)",
                  what, got / 2, want);
}

static int listener_bind(const tt_listen_spec *spec, int type, uint32_t rcvbuf, GError **error)
{
    struct sockaddr_storage ss;
    socklen_t slen;
    if (!spec_sockaddr(spec, &ss, &slen, error))
        return -1;
    int fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto err_errno;
    int one = 1, zero = 0;
    /* TCP only: a restart must not wait out TIME_WAIT. On a UDP socket Linux
     * lets a second process bind the same port with it and take the traffic
     * silently; without it, a second teitend fails to start instead. */
    if (type == SOCK_STREAM)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (type == SOCK_DGRAM)
        socket_size_rcvbuf(fd, rcvbuf, spec->spec);
    if (bind(fd, (struct sockaddr *)&ss, slen) != 0)
        goto err_close_fd;
    if (type == SOCK_STREAM && listen(fd, 64) != 0)
        goto err_close_fd;
    return fd;

err_close_fd : {
    int saved = errno;
    close(fd);
    errno = saved;
}
err_errno:
    g_set_error(error, TT_LISTEN_ERROR, TT_LISTEN_ERROR_SOCKET, "%s: %s", spec->spec,
                g_strerror(errno));
    return -1;
}

/* libfixbuf's listeners use select(): their descriptors are below FD_SETSIZE */
#define SFLOW_FD_MAX 1024

static gboolean fd_is_udp(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int type = 0;
    socklen_t tlen = sizeof type;
    return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
           getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_DGRAM;
}

tt_listeners *tt_listeners_open(const tt_config *config, GError **error)
{
    g_return_val_if_fail(config != NULL, NULL);
    tt_listeners *ls = g_new0(tt_listeners, 1);
    ls->list = g_ptr_array_new();
    ls->conns = g_ptr_array_new();
    ls->rcvbuf = config->rcvbuf;
    ls->max_tcp = config->max_tcp_connections;
    ls->tcp_idle_s = config->tcp_idle_timeout;
    ls->bufs = g_malloc(RECV_BATCH * RECV_BUFSZ);

    for (guint i = 0; i < config->listen->len; i++) {
        const tt_listen_spec *spec = g_ptr_array_index(config->listen, i);
        listener *l = g_new0(listener, 1);
        l->owner = ls;
        l->id = i;
        l->spec.kind = spec->kind;
        l->spec.host = g_strdup(spec->host);
        l->spec.port = spec->port;
        l->spec.spec = g_strdup(spec->spec);
        l->fd = -1;
        g_ptr_array_add(ls->list, l);
        /* sFlow too: sflow_start() later puts this socket under libfixbuf's listener */
        int type = spec->kind == TT_LISTEN_IPFIX_TCP ? SOCK_STREAM : SOCK_DGRAM;
        l->fd = listener_bind(spec, type, config->rcvbuf, error);
        if (l->fd < 0) {
            g_prefix_error(error, "%s: [collector] listen: ", config->path);
            tt_listeners_free(ls);
            return NULL;
        }
    }
    return ls;
}

/* ---- UDP ------------------------------------------------------------------ */

/*
 * Catch up with the kernel's drop counter of @a l's socket. The counter
 * starts at 0 when the socket is created (before any slow start-up work, so
 * what the kernel dropped meanwhile counts too) and is 32 bits: the
 * difference is taken modulo 2^32 and added to our 64-bit total.
 */
static gboolean listener_read_drops(listener *l)
{
    if (l->fd < 0 || l->spec.kind == TT_LISTEN_IPFIX_TCP)
        return FALSE;
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    socklen_t len = sizeof mem;
    if (getsockopt(l->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len < (socklen_t)((SK_MEMINFO_DROPS + 1) * sizeof mem[0]))
        return FALSE;
    uint32_t drops = mem[SK_MEMINFO_DROPS];
    if (drops == l->drops_read)
        return FALSE;
    l->stats.kernel_drops += (uint32_t)(drops - l->drops_read);
    l->drops_read = drops;
    return TRUE;
}

static void udp_datagram(listener *l, const struct sockaddr *peer, socklen_t plen, uint8_t *buf,
                         size_t len, int64_t now)
{
    tt_listeners *ls = l->owner;
    l->stats.datagrams++;
    l->stats.bytes += len;
    uint16_t version = len >= 2 ? (uint16_t)(buf[0] << 8 | buf[1]) : 0;
    uint16_t want = l->spec.kind == TT_LISTEN_IPFIX_UDP ? 10
                    : l->spec.kind == TT_LISTEN_NF9_UDP ? 9
                                                        : 5;
    if (version != want) {
        l->stats.noise++;
        return;
    }
    tt_exporter *e = tt_decoder_exporter(ls->decoder, l->spec.kind, l->id, peer, plen, now);
    if (e == NULL) {
        l->stats.exporter_cap++;
        return;
    }
    switch (l->spec.kind) {
    case TT_LISTEN_IPFIX_UDP:
        tt_decoder_ipfix(ls->decoder, e, buf, len);
        break;
    case TT_LISTEN_NF9_UDP:
        tt_decoder_v9(ls->decoder, e, buf, len);
        break;
    default:
        tt_decoder_v5(ls->decoder, e, buf, len);
        break;
    }
}

/* Returns the number of datagrams read. */
static int udp_read_batch(listener *l)
{
    tt_listeners *ls = l->owner;
    for (int i = 0; i < RECV_BATCH; i++) {
        ls->iov[i].iov_base = ls->bufs + (size_t)i * RECV_BUFSZ;
        ls->iov[i].iov_len = RECV_BUFSZ;
        struct msghdr *mh = &ls->msgs[i].msg_hdr;
        mh->msg_name = &ls->peers[i];
        mh->msg_namelen = sizeof ls->peers[i];
        mh->msg_iov = &ls->iov[i];
        mh->msg_iovlen = 1;
        mh->msg_control = NULL;
        mh->msg_controllen = 0;
        mh->msg_flags = 0;
    }
    int n = recvmmsg(l->fd, ls->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;
    int64_t now = now_s();
    for (int i = 0; i < n; i++) {
        struct msghdr *mh = &ls->msgs[i].msg_hdr;
        if (mh->msg_flags & MSG_TRUNC) {
            l->stats.noise++;
            continue;
        }
        udp_datagram(l, (struct sockaddr *)&ls->peers[i], mh->msg_namelen,
                     ls->bufs + (size_t)i * RECV_BUFSZ, ls->msgs[i].msg_len, now);
    }
    return n;
}

static void udp_ready(listener *l)
{
    for (int b = 0; b < BATCHES_PER_WAKEUP; b++)
        if (udp_read_batch(l) < RECV_BATCH)
            break;
}

/* ---- sFlow through libfixbuf's listener ----------------------------------- */

static void sflow_ready(listener *l)
{
    tt_listeners *ls = l->owner;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    /* the whole datagram: libfixbuf's translator must not see it unchecked */
    uint8_t *head = ls->bufs;
    g_autoptr(GError) error = NULL;

    ssize_t n =
        recvfrom(l->fd, head, RECV_BUFSZ, MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
    if (n < 0)
        return;
    l->stats.datagrams++;
    if (n < 4 || head[0] != 0 || head[1] != 0 || head[2] != 0 || head[3] != 5) {
        l->stats.noise++;
        (void)recv(l->fd, head, 4, MSG_DONTWAIT); /* discard it */
        return;
    }
    tt_exporter *e = tt_decoder_exporter(ls->decoder, l->spec.kind, l->id, (struct sockaddr *)&peer,
                                         plen, now_s());
    if (e == NULL) {
        l->stats.exporter_cap++;
        (void)recv(l->fd, head, 4, MSG_DONTWAIT);
        return;
    }
    tt_wire_status st = tt_sflow_check(head, (size_t)n);
    if (st != TT_WIRE_OK) {
        tt_decoder_count_malformed(e, st);
        (void)recv(l->fd, head, 4, MSG_DONTWAIT);
        return;
    }
    fBuf_t *fbuf = fbListenerWait(l->fb_listener, &error);
    if (fbuf == NULL) {
        g_debug("%s: %s", l->spec.spec, error->message);
        return;
    }
    fBufSetAutomaticMode(fbuf, FALSE);
    tt_decoder_fbuf(ls->decoder, e, fbuf);
}

/*
 * libfixbuf's sFlow listener on the socket tt_listeners_open() bound: it binds an ephemeral
 * port of its own (the configured one is ours already), found as the one UDP descriptor
 * that appeared, and ours is dup2()ed over it. On failure @a l keeps its own socket.
 */
static gboolean sflow_start(listener *l, GError **error)
{
    tt_listeners *ls = l->owner;
    fbConnSpec_t cs = {.transport = FB_UDP, .host = l->spec.host, .svc = "0"};
    fbSession_t *session = tt_decoder_new_session(ls->decoder);
    fbCollector_t *collector = NULL;
    g_autofree guint8 *before = g_new0(guint8, SFLOW_FD_MAX);
    int theirs = -1;

    if (l->fd < 0 || l->fd >= SFLOW_FD_MAX) {
        fbSessionFree(session);
        g_set_error(error, TT_LISTEN_ERROR, TT_LISTEN_ERROR_SOCKET,
                    "%s: no socket below %d for libfixbuf's select()", l->spec.spec, SFLOW_FD_MAX);
        return FALSE;
    }
    for (int fd = 3; fd < SFLOW_FD_MAX; fd++)
        before[fd] = fd_is_udp(fd);
    l->fb_listener = fbListenerAlloc(&cs, session, NULL, NULL, error);
    if (l->fb_listener == NULL) {
        fbSessionFree(session);
        g_prefix_error(error, "%s: ", l->spec.spec);
        return FALSE;
    }
    if (!fbListenerGetCollector(l->fb_listener, &collector, error) ||
        !fbCollectorSetSFlowTranslator(collector, error)) {
        g_prefix_error(error, "%s: ", l->spec.spec);
        goto err_free_listener;
    }
    for (int fd = 3; fd < SFLOW_FD_MAX; fd++) {
        if (before[fd] || !fd_is_udp(fd))
            continue;
        if (theirs >= 0) {
            g_set_error(error, TT_LISTEN_ERROR, TT_LISTEN_ERROR_SOCKET,
                        "%s: libfixbuf's listener opened more than one socket", l->spec.spec);
            goto err_free_listener;
        }
        theirs = fd;
    }
    if (theirs < 0 || dup2(l->fd, theirs) < 0) {
        g_set_error(error, TT_LISTEN_ERROR, TT_LISTEN_ERROR_SOCKET,
                    "%s: cannot find libfixbuf's socket", l->spec.spec);
        goto err_free_listener;
    }
    close(l->fd);
    l->fd = theirs; /* our socket, under libfixbuf's descriptor: fbListenerFree closes it */
    return TRUE;

err_free_listener:
    fbListenerFree(l->fb_listener);
    l->fb_listener = NULL;
    return FALSE;
}

/* ---- TCP ------------------------------------------------------------------ */

static void tcp_conn_close(tcp_conn *c)
{
    tt_listeners *ls = c->l->owner;
    if (c->watch != 0)
        g_source_remove(c->watch);
    close(c->fd);
    tt_decoder_exporter_release(ls->decoder, c->exporter);
    g_ptr_array_remove_fast(ls->conns, c);
    g_free(c->buf);
    g_free(c);
}

/* Hand every complete message in the buffer to the decoder; FALSE on broken framing. */
static gboolean stream_consume(tt_decoder *decoder, tt_exporter *e, uint8_t *buf, size_t *used)
{
    size_t off = 0;
    for (;;) {
        size_t msglen = 0;
        tt_wire_status st = tt_ipfix_stream_frame(buf + off, *used - off, &msglen);
        if (st == TT_WIRE_SHORT_HEADER || (st == TT_WIRE_OK && msglen > *used - off))
            break;
        if (st != TT_WIRE_OK)
            return FALSE;
        tt_decoder_ipfix(decoder, e, buf + off, msglen);
        off += msglen;
    }
    memmove(buf, buf + off, *used - off);
    *used -= off;
    return TRUE;
}

static gboolean tcp_ready(gint fd, GIOCondition cond, gpointer data)
{
    (void)fd;
    (void)cond;
    tcp_conn *c = data;
    tt_listeners *ls = c->l->owner;
    for (int round = 0; round < BATCHES_PER_WAKEUP; round++) {
        ssize_t n = recv(c->fd, c->buf + c->used, TCP_BUFSZ - c->used, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            if (c->used > 0) {
                /* the exporter went away inside a message: its records are lost */
                g_warning("%s: %s: connection ended inside a message (%zu bytes unread)",
                          c->l->spec.spec, tt_exporter_label(c->exporter), c->used);
                c->l->stats.streams_cut++;
            }
            c->watch = 0;
            tcp_conn_close(c);
            return G_SOURCE_REMOVE;
        }
        if (n < 0)
            break;
        c->last_active = mono_s();
        c->l->stats.bytes += (uint64_t)n;
        c->used += (size_t)n;
        if (!stream_consume(ls->decoder, c->exporter, c->buf, &c->used)) {
            g_warning("%s: %s: broken IPFIX framing, connection closed", c->l->spec.spec,
                      tt_exporter_label(c->exporter));
            c->l->stats.stream_errors++;
            c->l->stats.streams_cut++;
            c->watch = 0;
            tcp_conn_close(c);
            return G_SOURCE_REMOVE;
        }
    }
    return G_SOURCE_CONTINUE;
}

static void tcp_accept(listener *l)
{
    tt_listeners *ls = l->owner;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int cfd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    if (ls->conns->len >= ls->max_tcp || !tt_decoder_exporter_room(ls->decoder)) {
        /* accepted to be closed: the backlog must not fill with what we will never read */
        close(cfd);
        l->stats.tcp_refused++;
        int64_t mono = mono_s();
        if (l->refused_logged == 0 || mono - l->refused_logged >= 60) {
            l->refused_logged = mono;
            g_warning("%s: connection refused: %u TCP connections open (max-tcp-connections %u) "
                      "or max-exporters reached; %" G_GUINT64_FORMAT " refused so far",
                      l->spec.spec, ls->conns->len, ls->max_tcp, l->stats.tcp_refused);
        }
        return;
    }
    uint8_t addr[16];
    char host[INET6_ADDRSTRLEN], label[96];
    uint16_t port = 0;
    tt_addr16_from_sockaddr((struct sockaddr *)&peer, addr, &port);
    tt_addr16_format(addr, host, sizeof host);
    g_snprintf(label, sizeof label, "tcp:%s:%u", host, port);
    tcp_conn *c = g_new0(tcp_conn, 1);
    c->l = l;
    c->fd = cfd;
    c->buf = g_malloc(TCP_BUFSZ);
    c->last_active = mono_s();
    c->exporter =
        tt_decoder_exporter_private(ls->decoder, TT_LISTEN_IPFIX_TCP, label, addr, now_s());
    c->watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, tcp_ready, c);
    g_ptr_array_add(ls->conns, c);
    l->stats.connections++;
}

/* ---- life cycle, stats ---------------------------------------------------- */

static guint listener_tcp_open(const tt_listeners *ls, const listener *l)
{
    guint n = 0;
    for (guint i = 0; i < ls->conns->len; i++)
        n += ((const tcp_conn *)g_ptr_array_index(ls->conns, i))->l == l;
    return n;
}

/* Close the connections silent for tcp-idle-timeout; TRUE when one was. */
static gboolean tcp_sweep_idle(tt_listeners *ls)
{
    if (ls->tcp_idle_s <= 0)
        return FALSE;
    int64_t mono = mono_s();
    gboolean closed = FALSE;
    for (guint i = 0; i < ls->conns->len;) {
        tcp_conn *c = g_ptr_array_index(ls->conns, i);
        if (mono - c->last_active < ls->tcp_idle_s) {
            i++;
            continue;
        }
        g_message("%s: %s: silent for %" G_GINT64_FORMAT " s (tcp-idle-timeout), connection "
                  "closed",
                  c->l->spec.spec, tt_exporter_label(c->exporter), mono - c->last_active);
        c->l->stats.tcp_idle_closed++;
        if (c->used > 0)
            c->l->stats.streams_cut++; /* a message it never finished */
        tcp_conn_close(c);             /* removes it from conns: index i now holds another */
        closed = TRUE;
    }
    return closed;
}

static void listeners_stats_json(GString *out, void *data)
{
    tt_listeners *ls = data;
    g_string_append_c(out, '[');
    for (guint i = 0; i < ls->list->len; i++) {
        const listener *l = g_ptr_array_index(ls->list, i);
        g_string_append_printf(
            out,
            "%s{\"listen\":\"%s\",\"datagrams\":%" G_GUINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT
            ",\"noise\":%" G_GUINT64_FORMAT ",\"kernel_drops\":%" G_GUINT64_FORMAT
            ",\"exporter_cap\":%" G_GUINT64_FORMAT ",\"connections\":%" G_GUINT64_FORMAT
            ",\"stream_errors\":%" G_GUINT64_FORMAT ",\"streams_cut\":%" G_GUINT64_FORMAT
            ",\"unread_at_stop\":%" G_GUINT64_FORMAT ",\"tcp_open\":%u"
            ",\"tcp_refused\":%" G_GUINT64_FORMAT ",\"tcp_idle_closed\":%" G_GUINT64_FORMAT "}",
            i ? "," : "", l->spec.spec, l->stats.datagrams, l->stats.bytes, l->stats.noise,
            l->stats.kernel_drops, l->stats.exporter_cap, l->stats.connections,
            l->stats.stream_errors, l->stats.streams_cut, l->stats.unread_at_stop,
            listener_tcp_open(ls, l), l->stats.tcp_refused, l->stats.tcp_idle_closed);
    }
    g_string_append_c(out, ']');
}

/*
 * Read every UDP socket's own drop counter (SK_MEMINFO_DROPS) into its
 * listener's kernel_drops, and close the TCP connections silent for
 * tcp-idle-timeout (tcp_idle_closed). The core calls it (a hook) each tick and
 * before the stop's last close, so drops after the last datagram read are
 * counted too. Returns TRUE when a counter moved.
 */
static gboolean listeners_refresh(void *data)
{
    tt_listeners *ls = data;
    g_return_val_if_fail(ls != NULL, FALSE);
    gboolean moved = FALSE;
    for (guint i = 0; i < ls->list->len; i++)
        moved |= listener_read_drops(g_ptr_array_index(ls->list, i));
    moved |= tcp_sweep_idle(ls);
    return moved;
}

static void listeners_loss_foreach(void *data, tt_loss_fn fn, void *fn_data)
{
    tt_listeners *ls = data;
    for (guint i = 0; i < ls->list->len; i++) {
        const listener *l = g_ptr_array_index(ls->list, i);
        const struct {
            const char *reason, *unit;
            uint64_t count;
        } losses[] = {
            {"kernel_drops", "datagrams", l->stats.kernel_drops},
            {"exporter_cap", "datagrams", l->stats.exporter_cap},
            {"streams_cut", "streams", l->stats.streams_cut},
            {"tcp_refused", "connections", l->stats.tcp_refused},
            {"unread_at_stop", "datagrams", l->stats.unread_at_stop},
        };
        for (gsize k = 0; k < G_N_ELEMENTS(losses); k++) {
            if (losses[k].count == 0)
                continue;
            tt_loss loss = {"listener", l->spec.spec, losses[k].reason, losses[k].unit,
                            losses[k].count};
            fn(&loss, fn_data);
        }
    }
}

gboolean tt_listeners_start(tt_listeners *ls, tt_core *core, GError **error)
{
    g_return_val_if_fail(ls != NULL && core != NULL, FALSE);
    static const tt_listener_hooks hooks = {
        .stats_json = listeners_stats_json,
        .refresh = listeners_refresh,
        .loss_foreach = listeners_loss_foreach,
    };
    ls->core = core;
    tt_core_set_listeners(core, &hooks, ls);
    return tt_listeners_attach(ls, tt_core_decoder(core), error);
}

/* The main loop's callback for every listening socket: its kind's reader. */
static gboolean listener_ready(gint fd, GIOCondition cond, gpointer data)
{
    (void)fd;
    (void)cond;
    listener *l = data;
    switch (l->spec.kind) {
    case TT_LISTEN_IPFIX_TCP:
        tcp_accept(l);
        break;
    case TT_LISTEN_SFLOW_UDP:
        sflow_ready(l);
        break;
    default:
        udp_ready(l);
        break;
    }
    return G_SOURCE_CONTINUE;
}

gboolean tt_listeners_attach(tt_listeners *ls, tt_decoder *decoder, GError **error)
{
    g_return_val_if_fail(ls != NULL && decoder != NULL, FALSE);
    ls->decoder = decoder;
    for (guint i = 0; i < ls->list->len; i++) {
        listener *l = g_ptr_array_index(ls->list, i);
        if (l->spec.kind == TT_LISTEN_SFLOW_UDP && !sflow_start(l, error))
            return FALSE;
        l->watch = g_unix_fd_add(l->fd, G_IO_IN, listener_ready, l);
    }
    return TRUE;
}

/*
 * The stop reads no more: what is still queued on @a l's socket is lost when
 * it closes, and the kernel does not count it as dropped. Discard it here,
 * one byte each (MSG_TRUNC), and count it, until @a until (a sender that
 * keeps sending must not hold the stop: what arrives after that is not ours).
 */
static void listener_count_unread(listener *l, gint64 until)
{
    if (l->fd < 0 || l->spec.kind == TT_LISTEN_IPFIX_TCP)
        return;
    tt_listeners *ls = l->owner;
    uint8_t byte[RECV_BATCH];
    for (int i = 0; i < RECV_BATCH; i++) {
        ls->iov[i].iov_base = &byte[i];
        ls->iov[i].iov_len = 1;
        ls->msgs[i].msg_hdr = (struct msghdr){.msg_iov = &ls->iov[i], .msg_iovlen = 1};
    }
    int n;
    while ((n = recvmmsg(l->fd, ls->msgs, RECV_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL)) > 0) {
        l->stats.unread_at_stop += (uint64_t)n;
        if (g_get_monotonic_time() >= until)
            break;
    }
}

void tt_listeners_drain(tt_listeners *ls)
{
    /* what the sockets hold, not what a sender keeps sending: the stop has its deadline */
    gint64 until = g_get_monotonic_time() + DRAIN_MAX_US;
    for (guint i = 0; i < ls->list->len; i++) {
        listener *l = g_ptr_array_index(ls->list, i);
        if (l->fd < 0 || l->spec.kind == TT_LISTEN_IPFIX_TCP || l->spec.kind == TT_LISTEN_SFLOW_UDP)
            continue;
        while (udp_read_batch(l) > 0 && g_get_monotonic_time() < until)
            ;
    }
    /* what could not be read in time (and the sFlow socket's queue, which the stop does
     * not decode) is lost at the close: counted, within a short bound of its own */
    gint64 count_until = g_get_monotonic_time() + DRAIN_MAX_US / 10;
    for (guint i = 0; i < ls->list->len; i++)
        listener_count_unread(g_ptr_array_index(ls->list, i), count_until);
    /* what the kernel dropped up to now, the last datagram's aftermath included */
    (void)listeners_refresh(ls);
    for (guint i = 0; i < ls->conns->len;) {
        tcp_conn *c = g_ptr_array_index(ls->conns, i);
        guint before = ls->conns->len;
        tcp_ready(c->fd, G_IO_IN, c);
        /* cppcheck-suppress knownConditionTrueFalse ; tcp_ready() may close c (len - 1) */
        if (ls->conns->len == before)
            i++;
    }
}

void tt_listeners_free(tt_listeners *ls)
{
    if (ls == NULL)
        return;
    if (ls->core != NULL)
        tt_core_detach_listeners(ls->core); /* the plugins' fini still reads our losses */
    while (ls->conns->len > 0)
        tcp_conn_close(g_ptr_array_index(ls->conns, 0));
    for (guint i = 0; i < ls->list->len; i++) {
        listener *l = g_ptr_array_index(ls->list, i);
        if (l->watch != 0)
            g_source_remove(l->watch);
        if (l->fb_listener != NULL)
            fbListenerFree(l->fb_listener); /* closes its own socket */
        else if (l->fd >= 0)
            close(l->fd);
        tt_listen_spec_clear(&l->spec);
        g_free(l);
    }
    g_ptr_array_free(ls->list, TRUE);
    g_ptr_array_free(ls->conns, TRUE);
    g_free(ls->bufs);
    g_free(ls);
}
