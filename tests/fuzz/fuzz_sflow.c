/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sflow.c - libFuzzer target: sFlow v5 through teitend's own sFlow
 * listener (listen.c: sflow_start, sflow_ready), libfixbuf's sFlow
 * translator and tt_decoder_fbuf.
 *
 * libfixbuf translates sFlow only inside the UDP collector of an
 * fbListener: a file collector dereferences the missing UDP session in the
 * translator's post-processing and fbCollectorAllocSocket crashes
 * (docs/fuzzing.md). So this target opens the real listeners, two of them on
 * 127.0.0.1 ports the kernel picks, attached to the shared fuzz decoder with
 * tt_listeners_attach(), and sends each datagram of an input from the fake
 * exporter's address (127.0.L.n, source port 40000/40001: fuzz_common.h)
 * over loopback, then runs the GLib main context until listen.c has read it.
 * Loopback delivery happens inside sendto(), so one blocking iteration
 * dispatches the datagram; a second dispatch would mean the listener left it
 * in the socket (read twice, or never consumed), which is checked too.
 * Rejected: a copy of sflow_ready() in the harness (it would test the copy).
 * Seeds: tests/fuzz/make_corpus.py (sFlow captures, hand-built datagrams).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "listen.h"

#define SFLOW_PEERS 32
#define SFLOW_LISTENERS 2

typedef struct {
    int senders[SFLOW_PEERS];
    struct sockaddr_in listeners[SFLOW_LISTENERS];
    tt_config *config;
    tt_listeners *ls;
} sflow_net;

static sflow_net net;

void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

static void die(const char *what)
{
    fprintf(stderr, "fuzz_sflow: %s\n", what);
    abort();
}

/*
 * Two ports free on 127.0.0.1 now, for the listen specs (libfixbuf binds by
 * spec); both sockets stay open until both are picked, so they differ.
 */
static void free_ports(uint16_t ports[SFLOW_LISTENERS])
{
    int fds[SFLOW_LISTENERS];
    for (int i = 0; i < SFLOW_LISTENERS; i++) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sin;
        fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sin, sizeof sin) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&sin, &len) != 0)
            die("no free loopback port");
        ports[i] = ntohs(sin.sin_port);
    }
    for (int i = 0; i < SFLOW_LISTENERS; i++)
        close(fds[i]);
}

/* The harness's configuration with its listen line replaced by two sFlow listeners. */
static char *sflow_config_text(uint16_t p0, uint16_t p1)
{
    const char *at = strstr(fuzz_config_text, "listen = ");
    const char *eol = at != NULL ? strchr(at, '\n') : NULL;
    if (eol == NULL)
        die("fuzz_config_text has no listen line");
    return g_strdup_printf("%.*slisten = sflow+udp://127.0.0.1:%u; sflow+udp://127.0.0.1:%u%s",
                           (int)(at - fuzz_config_text), fuzz_config_text, p0, p1, eol);
}

static gboolean probe_timeout(gpointer data)
{
    (void)data;
    die("the sFlow listeners read nothing within 5 s (not started?)");
    return G_SOURCE_REMOVE;
}

static void sflow_relay(unsigned peer, const uint8_t *msg, size_t len)
{
    const struct sockaddr_in *to = &net.listeners[(peer >> 4) & 1];
    ssize_t n = sendto(net.senders[peer], len > 0 ? msg : (const uint8_t *)"", len, 0,
                       (const struct sockaddr *)to, sizeof *to);
    if (n != (ssize_t)len) {
        perror("fuzz_sflow: sendto");
        abort();
    }
    (void)g_main_context_iteration(NULL, TRUE);
    int extra = 0;
    while (extra < 4 && g_main_context_iteration(NULL, FALSE))
        extra++;
    if (extra != 0) {
        fprintf(stderr, "fuzz invariant broken: one datagram dispatched the listener %d times\n",
                1 + extra);
        abort();
    }
}

/*
 * libfixbuf's sFlow translator warns once per malformed sample ("sFlow Record
 * Length Mismatch"); decode.c's log filter passes those on to GLib's default
 * handler, whose output would drown libFuzzer's. Criticals still abort
 * (fuzz_common.c makes them fatal before they get here).
 */
static GLogWriterOutput sflow_log_writer(GLogLevelFlags level, const GLogField *fields,
                                         gsize n_fields, gpointer data)
{
    if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
        return G_LOG_WRITER_HANDLED;
    return g_log_writer_default(level, fields, n_fields, data);
}

/* Listeners first: sflow_start() finds libfixbuf's socket as the UDP fd that appeared. */
static void sflow_net_init(void)
{
    tt_decoder *d = fuzz_decoder();
    g_log_set_writer_func(sflow_log_writer, NULL, NULL);
    g_autoptr(GError) error = NULL;
    uint16_t ports[SFLOW_LISTENERS];
    free_ports(ports);
    g_autofree char *text = sflow_config_text(ports[0], ports[1]);
    net.config = tt_config_load_data(text, strlen(text), "fuzz-sflow.conf", &error);
    if (net.config == NULL)
        die(error->message);
    net.ls = tt_listeners_open(net.config, &error);
    if (net.ls == NULL)
        die(error->message);
    /*
     * LeakSanitizer finds the base session sflow_start() hands fbListenerAlloc()
     * unreachable as soon as the listener holds it (libfixbuf keeps no pointer
     * to its start that LSan sees). It is one per listener, made once here,
     * not per datagram: what is allocated now is left out of leak checks
     * (weak: a build without ASan has no LSan).
     */
    if (__lsan_disable != NULL)
        __lsan_disable();
    if (!tt_listeners_attach(net.ls, d, &error))
        die(error->message);
    if (__lsan_enable != NULL)
        __lsan_enable();
    for (guint i = 0; i < SFLOW_LISTENERS; i++) {
        const tt_listen_spec *spec = g_ptr_array_index(net.config->listen, i);
        net.listeners[i].sin_family = AF_INET;
        net.listeners[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        net.listeners[i].sin_port = htons(spec->port);
    }
    for (unsigned peer = 0; peer < SFLOW_PEERS; peer++) {
        /* the address and port fuzz_common.c's fake exporter of this selector has */
        struct sockaddr_in sin = {.sin_family = AF_INET};
        sin.sin_addr.s_addr = htonl(0x7f000000u | ((peer >> 4) & 1) << 8 | (1 + (peer & 7)));
        sin.sin_port = htons((uint16_t)(40000 + ((peer >> 3) & 1)));
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        /* several fuzz processes (ctest, a long run) may send from the same fake exporters */
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
            perror("fuzz_sflow: sender bind");
            abort();
        }
        net.senders[peer] = fd;
    }
    /* a noise datagram to each (not sFlow: counted by no exporter) proves the listeners run */
    guint guard = g_timeout_add_seconds(5, probe_timeout, NULL);
    sflow_relay(0, (const uint8_t *)"noise", 5);
    sflow_relay(16, (const uint8_t *)"noise", 5);
    g_source_remove(guard);
}

/* FUZZ_TRACE: what each exporter made of an input, to see that samples turn into flows. */
static void trace_exporter(const tt_exporter *e, void *data)
{
    (void)data;
    const tt_exporter_stats *s = tt_exporter_get_stats(e);
    fprintf(stderr,
            "EXPORTER %s messages %" G_GUINT64_FORMAT " records %" G_GUINT64_FORMAT
            " templates %" G_GUINT64_FORMAT " decode_drops %" G_GUINT64_FORMAT
            " unknown %" G_GUINT64_FORMAT " malformed %" G_GUINT64_FORMAT "\n",
            tt_exporter_label(e), (guint64)s->messages, (guint64)s->records, (guint64)s->templates,
            (guint64)s->dropped[TT_DROP_DECODE], (guint64)s->dropped[TT_DROP_UNKNOWN_EXPORTER],
            (guint64)s->dropped[TT_DROP_WIRE]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (net.ls == NULL)
        sflow_net_init();
    fuzz_feed_sflow(data, size, sflow_relay);
    if (getenv("FUZZ_TRACE") != NULL)
        tt_decoder_foreach_exporter(fuzz_decoder(), trace_exporter, NULL);
    return 0;
}
