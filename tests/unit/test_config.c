/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config.c - teitend's key file: defaults, every key, and every rejection.
 *
 * Bad files are a table of (text, error code, exact message), so each rule of
 * docs/configuration.md has a row and every message is checked to name the
 * file, the group and the key. The DESIGN.md example must load as written.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include <teiten/flow.h>

#include "config.h"

static tt_config *config_parse(const char *text, GError **error)
{
    return tt_config_load_data(text, strlen(text), "t.conf", error);
}

static void test_config_defaults(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(tt_config) c = config_parse("[collector]\n", &error);
    const tt_listen_spec *l;

    g_assert_no_error(error);
    g_assert_nonnull(c);
    g_assert_cmpstr(c->path, ==, "t.conf");
    g_assert_nonnull(c->kf);
    g_assert_cmpuint(c->listen->len, ==, 1);
    l = c->listen->pdata[0];
    g_assert_cmpint(l->kind, ==, TT_LISTEN_IPFIX_UDP);
    g_assert_cmpstr(l->host, ==, "::");
    g_assert_cmpuint(l->port, ==, 4739);
    g_assert_cmpstr(l->spec, ==, "ipfix+udp://[::]:4739");
    g_assert_cmpstr(c->data_dir, ==, "/var/lib/teiten");
    g_assert_null(c->plugin_dir);
    g_assert_cmpint(c->step, ==, 300);
    g_assert_cmpint(c->grace, ==, 120);
    g_assert_cmpstr(c->timezone, ==, "UTC");
    g_assert_null(c->geoip);
    g_assert_null(c->rrdcached);
    g_assert_null(c->user);
    g_assert_null(c->pidfile);
    g_assert_cmpstr(c->prometheus_file, ==, "/var/lib/teiten/teiten.prom");
    g_assert_cmpuint(c->rcvbuf, ==, 4194304);
    g_assert_cmpuint(c->max_templates, ==, 4096);
    g_assert_cmpuint(c->max_sessions, ==, 4096);
    g_assert_cmpuint(c->max_exporters, ==, 1024);
    g_assert_cmpuint(c->max_domains, ==, 64);
    g_assert_cmpint(c->export_time_tolerance, ==, 600);
    g_assert_cmpint(c->silent_after, ==, 900);
    g_assert_cmpuint(c->writer_lag_warn, ==, 3);
    g_assert_cmpuint(c->writer_backlog, ==, 256u << 20);
    g_assert_cmpint(c->stop_timeout, ==, 10);
    g_assert_cmpuint(c->sensors->len, ==, 0);
    g_assert_cmpuint(c->plugins->len, ==, 0);
}

/* DESIGN.md §5, verbatim except for the time zone (tzdata may be absent). */
static const char config_design_example[] =
    "[collector]\n"
    "listen = ipfix+udp://[::]:4739; ipfix+tcp://[::]:4739; netflow9+udp://[::]:2055\n"
    "data-dir = /var/lib/teiten\n"
    "# default: where the build installs them\n"
    "plugin-dir = /usr/lib/teiten/plugins\n"
    "step = 300\n"
    "grace = 120\n"
    "timezone = UTC\n"
    "geoip = /usr/share/GeoIP/GeoLite2-Country.mmdb\n"
    "# optional\n"
    "rrdcached = unix:/run/rrdcached.sock\n"
    "# drop privileges after binding; without it teitend stays who started it\n"
    "user = teiten\n"
    "\n"
    "[sensor:tokyo-1]\n"
    "# ADDR[/LEN][@DOMAIN], ';'-separated, items trimmed\n"
    "exporters = 192.0.2.1; 198.51.100.0/28@7\n"
    "darknet = 203.0.113.0/24; 2001:db8:dead::/48\n"
    "# auto (what the exporter announces) or a fixed 1-in-N\n"
    "sampling = auto\n"
    "\n"
    "# each [plugin:NAME] group loads NAME.so from plugin-dir; no group, no plugin\n"
    "[plugin:port]\n"
    "[plugin:country]\n"
    "[plugin:total]\n"
    "[plugin:rollup]\n";

static void test_config_design_example(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(tt_config) c = config_parse(config_design_example, &error);
    const tt_sensor_conf *s;
    const tt_exporter_match *m;
    const tt_prefix *p;
    tt_prefix want;

    g_assert_no_error(error);
    g_assert_cmpuint(c->listen->len, ==, 3);
    g_assert_cmpint(((tt_listen_spec *)c->listen->pdata[1])->kind, ==, TT_LISTEN_IPFIX_TCP);
    g_assert_cmpint(((tt_listen_spec *)c->listen->pdata[2])->kind, ==, TT_LISTEN_NF9_UDP);
    g_assert_cmpuint(((tt_listen_spec *)c->listen->pdata[2])->port, ==, 2055);
    g_assert_cmpstr(c->plugin_dir, ==, "/usr/lib/teiten/plugins");
    g_assert_cmpstr(c->geoip, ==, "/usr/share/GeoIP/GeoLite2-Country.mmdb");
    g_assert_cmpstr(c->rrdcached, ==, "unix:/run/rrdcached.sock");
    g_assert_cmpstr(c->user, ==, "teiten");

    g_assert_cmpuint(c->sensors->len, ==, 1);
    s = c->sensors->pdata[0];
    g_assert_cmpstr(s->name, ==, "tokyo-1");
    g_assert_cmpuint(s->sampling, ==, 0);
    g_assert_cmpuint(s->exporters->len, ==, 2);
    m = &g_array_index(s->exporters, tt_exporter_match, 0);
    g_assert_true(tt_prefix_parse("192.0.2.1", &want, NULL));
    g_assert_cmpmem(m->prefix.addr, 16, want.addr, 16);
    g_assert_cmpuint(m->prefix.len, ==, 128);
    g_assert_true(m->any_domain);
    m = &g_array_index(s->exporters, tt_exporter_match, 1);
    g_assert_cmpuint(m->prefix.len, ==, 96 + 28);
    g_assert_false(m->any_domain);
    g_assert_cmpuint(m->domain, ==, 7);
    g_assert_cmpuint(s->darknet->len, ==, 2);
    p = &g_array_index(s->darknet, tt_prefix, 1);
    g_assert_cmpuint(p->len, ==, 48);
    g_assert_true(tt_prefix_parse("2001:db8:dead::", &want, NULL));
    g_assert_cmpmem(p->addr, 16, want.addr, 16);

    g_assert_cmpuint(c->plugins->len, ==, 4);
    g_assert_cmpstr(c->plugins->pdata[0], ==, "port");
    g_assert_cmpstr(c->plugins->pdata[3], ==, "rollup");
}

static void test_config_values(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(tt_config) c = NULL;
    GTimeZone *tokyo = g_time_zone_new_identifier("Asia/Tokyo");

    c = config_parse(
        "[collector]\n"
        "listen = ipfix+udp://127.0.0.1:9995 ;; sflow+udp://0.0.0.0:6343; "
        "netflow5+udp://[::1]:2056 ; ipfix+tcp://127.0.0.1:9995;\n"
        "step = 60\ngrace = 0\nrcvbuf = 8M\nmax-templates = 10\n"
        "max-sessions = 20\nmax-exporters = 30\nmax-domains = 7\nexport-time-tolerance = 0\n"
        "silent-after = 1\nwriter-lag-warn = 9\npidfile = /run/teitend.pid\n"
        "writer-backlog = 2G\nstop-timeout = 3\nprometheus-file = m/teiten.prom\n"
        "rrdcached = [::1]:42217\n"
        "data-dir =   /srv/teiten  \n",
        &error);
    g_assert_no_error(error);
    g_assert_cmpuint(c->listen->len, ==, 4);
    g_assert_cmpint(((tt_listen_spec *)c->listen->pdata[1])->kind, ==, TT_LISTEN_SFLOW_UDP);
    g_assert_cmpstr(((tt_listen_spec *)c->listen->pdata[1])->host, ==, "0.0.0.0");
    g_assert_cmpint(((tt_listen_spec *)c->listen->pdata[2])->kind, ==, TT_LISTEN_NF5_UDP);
    g_assert_cmpstr(((tt_listen_spec *)c->listen->pdata[2])->host, ==, "::1");
    g_assert_cmpint(c->step, ==, 60);
    g_assert_cmpint(c->grace, ==, 0);
    g_assert_cmpuint(c->rcvbuf, ==, 8u << 20);
    g_assert_cmpuint(c->max_templates, ==, 10);
    g_assert_cmpuint(c->max_sessions, ==, 20);
    g_assert_cmpuint(c->max_exporters, ==, 30);
    g_assert_cmpuint(c->max_domains, ==, 7);
    g_assert_cmpint(c->export_time_tolerance, ==, 0);
    g_assert_cmpint(c->silent_after, ==, 1);
    g_assert_cmpuint(c->writer_lag_warn, ==, 9);
    g_assert_cmpuint(c->writer_backlog, ==, G_GUINT64_CONSTANT(2) << 30);
    g_assert_cmpint(c->stop_timeout, ==, 3);
    g_assert_cmpstr(c->pidfile, ==, "/run/teitend.pid");
    g_assert_cmpstr(c->data_dir, ==, "/srv/teiten");
    g_assert_cmpstr(c->prometheus_file, ==, "/srv/teiten/m/teiten.prom");
    g_clear_pointer(&c, tt_config_free);
    c = config_parse("[collector]\nprometheus-file = /var/lib/node/teiten.prom\n", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(c->prometheus_file, ==, "/var/lib/node/teiten.prom");
    g_clear_pointer(&c, tt_config_free);
    c = config_parse("[collector]\nprometheus-file = none\n", &error);
    g_assert_no_error(error);
    g_assert_null(c->prometheus_file);
    g_clear_pointer(&c, tt_config_free);

    for (guint i = 0; i < 4; i++) {
        static const char *const sizes[] = {"512K", "512k", "1048576", "1m"};
        static const guint32 want[] = {512 << 10, 512 << 10, 1048576, 1 << 20};
        g_autofree char *text = g_strdup_printf("[collector]\nrcvbuf = %s\n", sizes[i]);

        c = config_parse(text, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(c->rcvbuf, ==, want[i]);
        g_clear_pointer(&c, tt_config_free);
    }
    for (guint i = 0; i < 3; i++) {
        static const char *const ok[] = {"localhost:42217", "127.0.0.1:42217",
                                         "rrd-1.example.net:1"};
        g_autofree char *text = g_strdup_printf("[collector]\nrrdcached = %s\n", ok[i]);

        c = config_parse(text, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(c->rrdcached, ==, ok[i]);
        g_clear_pointer(&c, tt_config_free);
    }

    if (tokyo == NULL) {
        g_test_message("tzdata without Asia/Tokyo: zone name check skipped");
        return;
    }
    g_time_zone_unref(tokyo);
    c = config_parse("[collector]\ntimezone = Asia/Tokyo\n", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(c->timezone, ==, "Asia/Tokyo");
}

static void test_config_sensors_and_plugins(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(tt_config) c =
        config_parse("[plugin:port]\nanything = goes; here\n"
                     "[sensor:b.2]\nexporters = ::ffff:10.0.0.1@0\n"
                     "darknet = 10.1.0.0/16\nsampling = 1000\n"
                     "[collector]\n"
                     "[sensor:A_1]\nexporters= 2001:db8::1/64 ; 10.0.0.0/8@4294967295;\n"
                     "darknet=::/0\n"
                     "[plugin:my_plugin2]\n",
                     &error);
    const tt_sensor_conf *s;
    const tt_exporter_match *m;

    g_assert_no_error(error);
    g_assert_cmpuint(c->sensors->len, ==, 2);
    s = c->sensors->pdata[0];
    g_assert_cmpstr(s->name, ==, "b.2");
    g_assert_cmpuint(s->sampling, ==, 1000);
    m = &g_array_index(s->exporters, tt_exporter_match, 0);
    /* An IPv4-mapped literal is the IPv4 address. */
    g_assert_cmpuint(m->prefix.len, ==, 128);
    g_assert_cmpuint(m->prefix.addr[10], ==, 0xff);
    g_assert_cmpuint(m->prefix.addr[15], ==, 1);
    g_assert_false(m->any_domain);
    g_assert_cmpuint(m->domain, ==, 0);

    s = c->sensors->pdata[1];
    g_assert_cmpstr(s->name, ==, "A_1");
    g_assert_cmpuint(s->exporters->len, ==, 2);
    m = &g_array_index(s->exporters, tt_exporter_match, 0);
    g_assert_cmpuint(m->prefix.len, ==, 64);
    /* Host bits beyond the length are cleared. */
    g_assert_cmpuint(m->prefix.addr[15], ==, 0);
    m = &g_array_index(s->exporters, tt_exporter_match, 1);
    g_assert_cmpuint(m->domain, ==, G_MAXUINT32);
    g_assert_cmpuint(g_array_index(s->darknet, tt_prefix, 0).len, ==, 0);

    g_assert_cmpuint(c->plugins->len, ==, 2);
    g_assert_cmpstr(c->plugins->pdata[0], ==, "port");
    g_assert_cmpstr(c->plugins->pdata[1], ==, "my_plugin2");
    g_assert_true(g_key_file_has_key(c->kf, "plugin:port", "anything", NULL));
}

typedef struct {
    const char *text;
    int code;
    const char *message;
} config_bad;

#define S "[sensor:tokyo-1]\nexporters = 192.0.2.1\n"
#define C "[collector]\n"

static const config_bad config_bad_files[] = {
    {C "writer-backlog = lots\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] writer-backlog: \"lots\" is not a size (bytes, or a number with K, M "
     "or G; 1 MiB to 1 TiB)"},
    {C "writer-backlog = 512K\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] writer-backlog: \"512K\" is out of range (1 MiB to 1 TiB)"},
    {C "prometheus-file = teiten.txt\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] prometheus-file: \"teiten.txt\" must be a file name ending in .prom "
     "(node_exporter's textfile collector reads only those), or none"},
    {C "prometheus-file = /srv/.prom\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] prometheus-file: \"/srv/.prom\" must be a file name ending in .prom "
     "(node_exporter's textfile collector reads only those), or none"},
    {C "stop-timeout = 0\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] stop-timeout: 0 is out of range (1..86400)"},
    {C "step = abc\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] step: \"abc\" is not an integer"},
    {C "step = 12abc\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] step: \"12abc\" is not an integer"},
    {C "step = 300 # five minutes\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] step: \"300 # five minutes\" is not an integer"},
    {C "step = 0x12c\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] step: \"0x12c\" is not an integer"},
    {C "step = 7\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] step: 7 must be a positive integer that divides 900"},
    {C "step = 0\n", TT_CONFIG_ERROR_VALUE, "t.conf: [collector] step: 0 is out of range (1..900)"},
    {C "step = 1800\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] step: 1800 is out of range (1..900)"},
    {C "step =\n", TT_CONFIG_ERROR_VALUE, "t.conf: [collector] step: must not be empty"},
    {C "grace = -1\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] grace: -1 is out of range (0..604800)"},
    {C "max-templates = 0\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] max-templates: 0 is out of range (1..4294967295)"},
    {C "max-sessions = 99999999999999999999999\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] max-sessions: \"99999999999999999999999\" is not an integer"},
    {C "silent-after = 0\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] silent-after: 0 is out of range (1..31536000)"},
    {C "writer-lag-warn = +3\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] writer-lag-warn: \"+3\" is not an integer"},
    {C "rcvbuf = 8G\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] rcvbuf: \"8G\" is not a size (bytes, or a number with K or M, 1 byte "
     "to 4 GiB - 1)"},
    {C "rcvbuf = 4096M\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] rcvbuf: \"4096M\" is not a size (bytes, or a number with K or M, 1 "
     "byte to 4 GiB - 1)"},
    {C "rcvbuf = M\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] rcvbuf: \"M\" is not a size (bytes, or a number with K or M, 1 byte "
     "to 4 GiB - 1)"},
    {C "rcvbuf = 0\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] rcvbuf: \"0\" is not a size (bytes, or a number with K or M, 1 byte "
     "to 4 GiB - 1)"},
    {C "timezone = Mars/Olympus_Mons\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] timezone: \"Mars/Olympus_Mons\" is not a known time zone"},
    {C "rrdcached = unix:run/x\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] rrdcached: \"unix:run/x\" is neither unix:/PATH nor HOST:PORT"},
    {C "rrdcached = localhost\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] rrdcached: \"localhost\" is neither unix:/PATH nor HOST:PORT"},
    {C "rrdcached = ::1:42217\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] rrdcached: \"::1:42217\" is neither unix:/PATH nor HOST:PORT"},
    {C "rrdcached = host:0\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] rrdcached: \"host:0\" is neither unix:/PATH nor HOST:PORT"},
    {C "frobnicate = 1\n", TT_CONFIG_ERROR_KEY,
     "t.conf: [collector] frobnicate: unknown key (keys: "},
    {C "stop-timout = 5\n", TT_CONFIG_ERROR_KEY,
     "t.conf: [collector] stop-timout: unknown key; did you mean stop-timeout?"},
    {C "step[ja] = 300\n", TT_CONFIG_ERROR_KEY,
     "t.conf: [collector] step[ja]: unknown key (keys: "},
    {C "step = 300\nstep = 60\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] step: given more than once"},
    {C "listen = ;\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] listen: must list at least one item"},
    {C "listen = ipfix+udp://localhost:4739\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] listen: \"ipfix+udp://localhost:4739\" is not a listen spec: host "
     "must be an IPv4 or [IPv6] literal (SCHEME://HOST:PORT, SCHEME one of ipfix+udp, "
     "ipfix+tcp, netflow9+udp, sflow+udp, netflow5+udp)"},
    {C "listen = ipfix+udp://::1:4739\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] listen: \"ipfix+udp://::1:4739\" is not a listen spec: IPv6 "
     "addresses need brackets (SCHEME://HOST:PORT, SCHEME one of ipfix+udp, ipfix+tcp, "
     "netflow9+udp, sflow+udp, netflow5+udp)"},
    {C "listen = ipfix+udp://[::1]:0\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] listen: \"ipfix+udp://[::1]:0\" is not a listen spec: port must be "
     "1..65535 (SCHEME://HOST:PORT, SCHEME one of ipfix+udp, ipfix+tcp, netflow9+udp, "
     "sflow+udp, netflow5+udp)"},
    {C "listen = ipfix+udp://[::1]:65536\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C "listen = ipfix+udp://[::1]\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C "listen = ipfix+udp://127.0.0.1\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C "listen = ipfix+udp://[1.2.3.4]:4739\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C "listen = ipfix://[::]:4739\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] listen: \"ipfix://[::]:4739\" is not a listen spec: unknown scheme "
     "(SCHEME://HOST:PORT, SCHEME one of ipfix+udp, ipfix+tcp, netflow9+udp, sflow+udp, "
     "netflow5+udp)"},
    {C "listen = [::]:4739\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C "listen = ipfix+udp://[::]:4739; netflow9+udp://[::]:4739\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] listen: \"ipfix+udp://[::]:4739\" and \"netflow9+udp://[::]:4739\" "
     "use the same address and port"},
    {C "listen = ipfix+tcp://[0::0]:4739; ipfix+tcp://[::]:4739\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [collector] listen: \"ipfix+tcp://[0::0]:4739\" and \"ipfix+tcp://[::]:4739\" "
     "use the same address and port"},
    {C "geoip =\n", TT_CONFIG_ERROR_VALUE, "t.conf: [collector] geoip: must not be empty"},
    {"", TT_CONFIG_ERROR_GROUP, "t.conf: [collector]: required group is missing"},
    {S "darknet = 10.0.0.0/8\n", TT_CONFIG_ERROR_GROUP,
     "t.conf: [collector]: required group is missing"},
    {C "[collectors]\n", TT_CONFIG_ERROR_GROUP,
     "t.conf: [collectors]: unknown group (expected [collector], [sensor:NAME] with NAME of "
     "A-Z a-z 0-9 . _ -, or [plugin:NAME] with NAME of a-z 0-9 _)"},
    {C "[sensor:]\n", TT_CONFIG_ERROR_GROUP, NULL},
    {C "[sensor:a b]\n", TT_CONFIG_ERROR_GROUP, NULL},
    {C "[sensor:a/b]\n", TT_CONFIG_ERROR_GROUP, NULL},
    {C "[plugin:Port]\n", TT_CONFIG_ERROR_GROUP, NULL},
    {C "[plugin:my-plugin]\n", TT_CONFIG_ERROR_GROUP, NULL},
    {C "[plugin:]\n", TT_CONFIG_ERROR_GROUP, NULL},
    {C "step = 60\n" C, TT_CONFIG_ERROR_GROUP, "t.conf: [collector]: group given more than once"},
    {C "step = 60\nthis line is not a key\n", TT_CONFIG_ERROR_PARSE, NULL},
    {"step = 60\n" C, TT_CONFIG_ERROR_PARSE, NULL},
    {C S, TT_CONFIG_ERROR_VALUE, "t.conf: [sensor:tokyo-1] darknet: required key is missing"},
    {C "[sensor:tokyo-1]\ndarknet = 10.0.0.0/8\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [sensor:tokyo-1] exporters: required key is missing"},
    {C S "darknet = 300.1.2.3/24\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [sensor:tokyo-1] darknet: \"300.1.2.3/24\" is not an address prefix"},
    {C S "darknet = 10.0.0.0/33\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [sensor:tokyo-1] darknet: \"10.0.0.0/33\" is not an address prefix (length "
     "must be 0..32)"},
    {C S "darknet = 2001:db8::/129\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [sensor:tokyo-1] darknet: \"2001:db8::/129\" is not an address prefix (length "
     "must be 0..128)"},
    {C S "darknet = 10.0.0.0/\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C S "darknet = 10.0.0.0/-1\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C S "darknet = 10.0.0/24\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C S "darknet = dark.example.net\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C S "darknet = 10.0.0.0/8 10.1.0.0/16\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C S "darknet = ;;\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [sensor:tokyo-1] darknet: must list at least one item"},
    {C "[sensor:tokyo-1]\nexporters = 192.0.2.1@x\ndarknet = 10.0.0.0/8\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [sensor:tokyo-1] exporters: \"192.0.2.1@x\": observation domain must be a "
     "decimal 0..4294967295"},
    {C "[sensor:tokyo-1]\nexporters = 192.0.2.1@4294967296\ndarknet = 10.0.0.0/8\n",
     TT_CONFIG_ERROR_VALUE, NULL},
    {C "[sensor:tokyo-1]\nexporters = 192.0.2.1@\ndarknet = 10.0.0.0/8\n", TT_CONFIG_ERROR_VALUE,
     NULL},
    {C "[sensor:tokyo-1]\nexporters = 192.0.2.256\ndarknet = 10.0.0.0/8\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [sensor:tokyo-1] exporters: \"192.0.2.256\" is not an address prefix"},
    {C S "darknet = 10.0.0.0/8\nsampling = 0\n", TT_CONFIG_ERROR_VALUE,
     "t.conf: [sensor:tokyo-1] sampling: \"0\" is neither \"auto\" nor a positive integer"},
    {C S "darknet = 10.0.0.0/8\nsampling = Auto\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C S "darknet = 10.0.0.0/8\nsampling = 1/100\n", TT_CONFIG_ERROR_VALUE, NULL},
    {C S "darknet = 10.0.0.0/8\ndark-net = 10.0.0.0/8\n", TT_CONFIG_ERROR_KEY,
     "t.conf: [sensor:tokyo-1] dark-net: unknown key; did you mean darknet?"},
};

static void test_config_bad(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(config_bad_files); i++) {
        const config_bad *b = &config_bad_files[i];
        g_autoptr(GError) error = NULL;
        tt_config *c = config_parse(b->text, &error);

        if (c != NULL || error == NULL)
            g_test_message("accepted:\n%s", b->text);
        g_assert_null(c);
        g_assert_error(error, TT_CONFIG_ERROR, b->code);
        if (b->message != NULL && g_str_has_suffix(b->message, "(keys: "))
            g_assert_true(g_str_has_prefix(error->message, b->message)); /* a list follows */
        else if (b->message != NULL)
            g_assert_cmpstr(error->message, ==, b->message);
        else
            g_assert_true(g_str_has_prefix(error->message, "t.conf: "));
    }
}

static void test_config_every_step(void)
{
    guint accepted = 0;

    for (guint step = 1; step <= 900; step++) {
        g_autofree char *text = g_strdup_printf("[collector]\nstep=%u\n", step);
        g_autoptr(GError) error = NULL;
        g_autoptr(tt_config) c = config_parse(text, &error);

        g_assert_true((c != NULL) == (900 % step == 0));
        accepted += c != NULL;
    }
    /* 900 = 2^2 * 3^2 * 5^2 has 27 divisors. */
    g_assert_cmpuint(accepted, ==, 27);
}

/* rrd-archives: the default is docs/storage.md's table; a layout is sorted
 * finest first; each bad layout is refused with file, group and key named. */
static void test_config_rrd_archives(void)
{
    static const char *const bad[] = {
        "1:2d",          /* 1 s is not a multiple of the 300 s step */
        "1h",            /* no retention */
        "1h:30m",        /* retention shorter than the resolution */
        "1h:1d; 60m:2d", /* one resolution twice */
        "1x:2d",         /* unknown unit */
        "-1h:2d",        /* no sign */
        ";",             /* no archive at all */
        "1s:1d;2s:1d;3s:1d;4s:1d;5s:1d;6s:1d;7s:1d;8s:1d;9s:1d", /* nine (step 1) */
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(tt_config) d = config_parse("[collector]\n", &error);

    g_assert_no_error(error);
    g_assert_cmpint(d->rrd_archives.step, ==, 300);
    g_assert_cmpuint(d->rrd_archives.n, ==, 3);
    g_assert_cmpuint(d->rrd_archives.rra[0].steps, ==, 1);
    g_assert_cmpuint(d->rrd_archives.rra[0].rows, ==, 576);
    g_assert_cmpuint(d->rrd_archives.rra[1].steps, ==, 12);
    g_assert_cmpuint(d->rrd_archives.rra[1].rows, ==, 2160);
    g_assert_cmpuint(d->rrd_archives.rra[2].steps, ==, 288);
    g_assert_cmpuint(d->rrd_archives.rra[2].rows, ==, 1096);

    /* the default written out gives the default */
    g_autoptr(tt_config) same =
        config_parse("[collector]\nrrd-archives = step:2d; 3600:90d; 1d:3y\n", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(same->rrd_archives.n, ==, d->rrd_archives.n);
    for (guint i = 0; i < d->rrd_archives.n; i++) {
        g_assert_cmpuint(same->rrd_archives.rra[i].steps, ==, d->rrd_archives.rra[i].steps);
        g_assert_cmpuint(same->rrd_archives.rra[i].rows, ==, d->rrd_archives.rra[i].rows);
    }

    /* unsorted, units, a trailing ';', another step: 15 min for 30 days = 2880 rows,
     * 10 years of 365.25 days = 3652.5 -> 3653 rows */
    g_autoptr(tt_config) c =
        config_parse("[collector]\nstep = 60\nrrd-archives = 1d:10y; 15m:30d ; step:1w;\n", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(c->rrd_archives.n, ==, 3);
    g_assert_cmpuint(c->rrd_archives.rra[0].steps, ==, 1);
    g_assert_cmpuint(c->rrd_archives.rra[0].rows, ==, 7 * 1440);
    g_assert_cmpuint(c->rrd_archives.rra[1].steps, ==, 15);
    g_assert_cmpuint(c->rrd_archives.rra[1].rows, ==, 2880);
    g_assert_cmpuint(c->rrd_archives.rra[2].steps, ==, 1440);
    g_assert_cmpuint(c->rrd_archives.rra[2].rows, ==, 3653);

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *text = g_strdup_printf("[collector]\nstep = %s\nrrd-archives = %s\n",
                                                i == G_N_ELEMENTS(bad) - 1 ? "1" : "300", bad[i]);
        g_autoptr(GError) e = NULL;
        g_autoptr(tt_config) x = config_parse(text, &e);

        g_assert_null(x);
        g_assert_error(e, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE);
        g_assert_true(g_str_has_prefix(e->message, "t.conf: [collector] rrd-archives: "));
    }
}

static void test_config_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("tt-config-XXXXXX", &error);
    g_autofree char *path = NULL;
    g_autofree char *missing = NULL;
    g_autoptr(tt_config) c = NULL;

    g_assert_no_error(error);
    path = g_build_filename(dir, "teiten.conf", NULL);
    missing = g_build_filename(dir, "missing.conf", NULL);
    g_assert_true(g_file_set_contents(path, "[collector]\nstep = x\n", -1, &error));

    c = tt_config_load(path, &error);
    g_assert_null(c);
    g_assert_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE);
    g_assert_true(g_str_has_prefix(error->message, path));
    g_clear_error(&error);

    g_assert_true(g_file_set_contents(path, "[collector]\nstep = 60\n", -1, &error));
    c = tt_config_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(c->path, ==, path);
    g_assert_cmpint(c->step, ==, 60);

    g_assert_null(tt_config_load(missing, &error));
    g_assert_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_PARSE);
    g_assert_nonnull(strstr(error->message, missing));

    g_unlink(path);
    g_rmdir(dir);
}

static void test_config_prefix(void)
{
    g_autoptr(GError) error = NULL;
    tt_prefix p, q;
    uint8_t a[16];

    g_assert_true(tt_prefix_parse("10.1.2.3/8", &p, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(p.len, ==, 104);
    tt_addr_set_v4(a, 0x0a000000);
    g_assert_cmpmem(p.addr, 16, a, 16);

    g_assert_true(tt_prefix_parse("::ffff:10.0.0.0/104", &q, &error));
    g_assert_cmpmem(p.addr, 16, q.addr, 16);
    g_assert_cmpuint(q.len, ==, 104);

    tt_addr_set_v4(a, 0x0affffff);
    g_assert_true(tt_prefix_contains(&p, a));
    tt_addr_set_v4(a, 0x0b000000);
    g_assert_false(tt_prefix_contains(&p, a));
    tt_addr_set_v4(a, 0x09ffffff);
    g_assert_false(tt_prefix_contains(&p, a));

    /* Non-octet lengths, both edges. */
    g_assert_true(tt_prefix_parse("198.51.100.17/28", &p, NULL));
    tt_addr_set_v4(a, 0xc6336410);
    g_assert_cmpmem(p.addr, 16, a, 16);
    g_assert_true(tt_prefix_contains(&p, a));
    tt_addr_set_v4(a, 0xc633641f);
    g_assert_true(tt_prefix_contains(&p, a));
    tt_addr_set_v4(a, 0xc6336420);
    g_assert_false(tt_prefix_contains(&p, a));
    tt_addr_set_v4(a, 0xc633640f);
    g_assert_false(tt_prefix_contains(&p, a));

    /* An IPv4 prefix never holds an IPv6 address, and ::/0 holds everything. */
    g_assert_true(tt_prefix_parse("0.0.0.0/0", &p, NULL));
    g_assert_cmpuint(p.len, ==, 96);
    memset(a, 0, 16);
    a[0] = 0x20;
    a[1] = 0x01;
    g_assert_false(tt_prefix_contains(&p, a));
    g_assert_true(tt_prefix_parse("::/0", &q, NULL));
    g_assert_true(tt_prefix_contains(&q, a));
    tt_addr_set_v4(a, 1);
    g_assert_true(tt_prefix_contains(&q, a));
    g_assert_true(tt_prefix_contains(&p, a));

    g_assert_true(tt_prefix_parse("2001:db8:dead:beef::1/127", &p, NULL));
    g_assert_cmpuint(p.len, ==, 127);
    g_assert_cmpuint(p.addr[15], ==, 0);
    memcpy(a, p.addr, 16);
    a[15] = 1;
    g_assert_true(tt_prefix_contains(&p, a));
    a[15] = 2;
    g_assert_false(tt_prefix_contains(&p, a));

    g_assert_true(tt_prefix_parse("2001:db8::7", &p, NULL));
    g_assert_cmpuint(p.len, ==, 128);
    g_assert_cmpuint(p.addr[15], ==, 7);

    g_assert_false(tt_prefix_parse("10.0.0.0/08x", &p, &error));
    g_assert_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE);
}

static void test_config_listen_spec(void)
{
    g_autoptr(GError) error = NULL;
    tt_listen_spec spec = {0};

    g_assert_true(tt_listen_spec_parse("netflow9+udp://[2001:db8::1]:2055", &spec, &error));
    g_assert_no_error(error);
    g_assert_cmpint(spec.kind, ==, TT_LISTEN_NF9_UDP);
    g_assert_cmpstr(spec.host, ==, "2001:db8::1");
    g_assert_cmpuint(spec.port, ==, 2055);
    g_assert_cmpstr(spec.spec, ==, "netflow9+udp://[2001:db8::1]:2055");
    tt_listen_spec_clear(&spec);
    g_assert_null(spec.host);
    g_assert_null(spec.spec);

    g_assert_true(tt_listen_spec_parse("sflow+udp://[0:0::0:1]:6343", &spec, &error));
    g_assert_cmpstr(spec.host, ==, "::1");
    tt_listen_spec_clear(&spec);

    g_assert_true(tt_listen_spec_parse("ipfix+tcp://127.0.0.1:65535", &spec, &error));
    g_assert_cmpint(spec.kind, ==, TT_LISTEN_IPFIX_TCP);
    g_assert_cmpstr(spec.host, ==, "127.0.0.1");
    g_assert_cmpuint(spec.port, ==, 65535);
    tt_listen_spec_clear(&spec);

    g_assert_false(tt_listen_spec_parse("ipfix+udp://[::]:4739x", &spec, &error));
    g_assert_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE);
    g_assert_null(spec.host);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/defaults", test_config_defaults);
    g_test_add_func("/config/design-example", test_config_design_example);
    g_test_add_func("/config/values", test_config_values);
    g_test_add_func("/config/sensors-and-plugins", test_config_sensors_and_plugins);
    g_test_add_func("/config/bad", test_config_bad);
    g_test_add_func("/config/every-step", test_config_every_step);
    g_test_add_func("/config/file", test_config_file);
    g_test_add_func("/config/rrd-archives", test_config_rrd_archives);
    g_test_add_func("/config/prefix", test_config_prefix);
    g_test_add_func("/config/listen-spec", test_config_listen_spec);
    return g_test_run();
}
