/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config_values.c - parsers of single configuration values: plain decimals,
 * address prefixes, exporter matches (PREFIX[@DOMAIN]) and listen specs
 * (SCHEME://HOST:PORT). No key file here: config.c reads the keys and names
 * the file, group and key in front of these messages. Listen specs take
 * literals only (we bind, never resolve).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

static const struct {
    const char *scheme;
    tt_listen_kind kind;
    gboolean tcp;
} config_schemes[] = {
    {"ipfix+udp", TT_LISTEN_IPFIX_UDP, FALSE},  {"ipfix+tcp", TT_LISTEN_IPFIX_TCP, TRUE},
    {"netflow9+udp", TT_LISTEN_NF9_UDP, FALSE}, {"sflow+udp", TT_LISTEN_SFLOW_UDP, FALSE},
    {"netflow5+udp", TT_LISTEN_NF5_UDP, FALSE},
};

/* Plain decimal digits only: no sign, no spaces, no "0x", no trailing junk. */
gboolean tt_config_parse_decimal(const char *text, guint64 *out)
{
    guint64 v = 0;

    if (text == NULL || *text == '\0')
        return FALSE;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return FALSE;
        if (v > (G_MAXUINT64 - (guint64)(*p - '0')) / 10)
            return FALSE;
        v = v * 10 + (guint64)(*p - '0');
    }
    *out = v;
    return TRUE;
}

gboolean tt_prefix_parse(const char *text, tt_prefix *out, GError **error)
{
    g_autofree char *addr_text = NULL;
    const char *slash;
    uint8_t addr[16];
    struct in_addr v4;
    guint64 len;
    guint max_len;

    g_return_val_if_fail(text != NULL, FALSE);
    g_return_val_if_fail(out != NULL, FALSE);

    slash = strchr(text, '/');
    addr_text = slash != NULL ? g_strndup(text, (gsize)(slash - text)) : g_strdup(text);
    if (inet_pton(AF_INET, addr_text, &v4) == 1) {
        memset(addr, 0, 10);
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, &v4, 4);
        max_len = 32;
    } else if (inet_pton(AF_INET6, addr_text, addr) == 1) {
        max_len = 128;
    } else {
        g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE,
                    "\"%s\" is not an address prefix", text);
        return FALSE;
    }
    if (slash == NULL) {
        len = max_len;
    } else if (!tt_config_parse_decimal(slash + 1, &len) || len > max_len) {
        g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE,
                    "\"%s\" is not an address prefix (length must be 0..%u)", text, max_len);
        return FALSE;
    }
    /* An IPv4 prefix is the same prefix of the IPv4-mapped space. */
    if (max_len == 32)
        len += 96;

    for (guint i = 0; i < 16; i++) {
        guint bits = len > i * 8 ? (guint)MIN(len - i * 8, 8) : 0;
        addr[i] &= (uint8_t)(0xff00u >> bits);
    }
    memcpy(out->addr, addr, 16);
    out->len = (uint8_t)len;
    return TRUE;
}

gboolean tt_prefix_contains(const tt_prefix *prefix, const uint8_t addr[16])
{
    guint full, rest;

    g_return_val_if_fail(prefix != NULL, FALSE);
    g_return_val_if_fail(addr != NULL, FALSE);

    full = prefix->len / 8;
    rest = prefix->len % 8;
    if (memcmp(prefix->addr, addr, full) != 0)
        return FALSE;
    if (rest == 0)
        return TRUE;
    return ((addr[full] ^ prefix->addr[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

void tt_listen_spec_clear(tt_listen_spec *spec)
{
    if (spec == NULL)
        return;
    g_clear_pointer(&spec->host, g_free);
    g_clear_pointer(&spec->spec, g_free);
}

static gboolean config_listen_fail(const char *text, const char *why, GError **error)
{
    g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE,
                "\"%s\" is not a listen spec: %s (SCHEME://HOST:PORT, SCHEME one of "
                "ipfix+udp, ipfix+tcp, netflow9+udp, sflow+udp, netflow5+udp)",
                text, why);
    return FALSE;
}

gboolean tt_listen_spec_parse(const char *text, tt_listen_spec *out, GError **error)
{
    g_autofree char *host = NULL;
    const char *sep, *rest, *port_text;
    guint8 buf[16];
    guint64 port;
    gsize i;

    g_return_val_if_fail(text != NULL, FALSE);
    g_return_val_if_fail(out != NULL, FALSE);

    sep = strstr(text, "://");
    if (sep == NULL)
        return config_listen_fail(text, "no \"://\"", error);
    for (i = 0; i < G_N_ELEMENTS(config_schemes); i++) {
        if (strlen(config_schemes[i].scheme) == (gsize)(sep - text) &&
            strncmp(text, config_schemes[i].scheme, (gsize)(sep - text)) == 0)
            break;
    }
    if (i == G_N_ELEMENTS(config_schemes))
        return config_listen_fail(text, "unknown scheme", error);

    rest = sep + 3;
    if (*rest == '[') {
        const char *close = strchr(rest, ']');

        if (close == NULL || close[1] != ':')
            return config_listen_fail(text, "expected [IPv6]:PORT", error);
        host = g_strndup(rest + 1, (gsize)(close - rest - 1));
        if (inet_pton(AF_INET6, host, buf) != 1)
            return config_listen_fail(text, "not an IPv6 address in brackets", error);
        port_text = close + 2;
    } else {
        const char *colon = strrchr(rest, ':');

        if (colon == NULL)
            return config_listen_fail(text, "no port", error);
        host = g_strndup(rest, (gsize)(colon - rest));
        if (strchr(host, ':') != NULL)
            return config_listen_fail(text, "IPv6 addresses need brackets", error);
        if (inet_pton(AF_INET, host, buf) != 1)
            return config_listen_fail(text, "host must be an IPv4 or [IPv6] literal", error);
        port_text = colon + 1;
    }
    if (!tt_config_parse_decimal(port_text, &port) || port < 1 || port > 65535)
        return config_listen_fail(text, "port must be 1..65535", error);

    /* Canonical text ("0::0" is "::"), so equal addresses compare equal. */
    out->kind = config_schemes[i].kind;
    out->host = g_malloc(INET6_ADDRSTRLEN);
    inet_ntop(strchr(host, ':') != NULL ? AF_INET6 : AF_INET, buf, out->host, INET6_ADDRSTRLEN);
    out->port = (uint16_t)port;
    out->spec = g_strdup(text);
    return TRUE;
}

gboolean tt_listen_kind_is_tcp(tt_listen_kind kind)
{
    for (gsize i = 0; i < G_N_ELEMENTS(config_schemes); i++) {
        if (config_schemes[i].kind == kind)
            return config_schemes[i].tcp;
    }
    return FALSE;
}

/* "%s: [%s] %s: " prefix for every value error. */
gboolean tt_exporter_match_parse(const char *text, tt_exporter_match *out, GError **error)
{
    const char *at = strrchr(text, '@');
    g_autofree char *prefix = at != NULL ? g_strndup(text, (gsize)(at - text)) : g_strdup(text);
    guint64 domain = 0;

    if (!tt_prefix_parse(prefix, &out->prefix, error))
        return FALSE;
    if (at != NULL && (!tt_config_parse_decimal(at + 1, &domain) || domain > G_MAXUINT32)) {
        g_set_error(error, TT_CONFIG_ERROR, TT_CONFIG_ERROR_VALUE,
                    "\"%s\": observation domain must be a decimal 0..4294967295", text);
        return FALSE;
    }
    out->any_domain = at == NULL;
    out->domain = (uint32_t)domain;
    return TRUE;
}
