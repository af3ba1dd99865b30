/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * services.c - the service names `teiten rank`, `graph` and `report` print
 * beside a port ("5555/TCP (Android ADB)").
 *
 * A table shipped with teiten, never the host's /etc/services: the same
 * database must give the same report on every machine, and a report is a
 * published document. Generated once from Debian's netbase services list
 * (IANA names), then amended for darknet traffic, where a port is named by
 * what scans it rather than by IANA's registration: 5555/tcp is Android ADB
 * (not freeciv), 23 and 2323 telnet/Mirai, 37215 Huawei HG532, 52869 Realtek
 * UPnP, 7547 TR-069, 445 smb, 3389 rdp, 9200 elasticsearch, 8081 http-alt,
 * the IoT DVR and router ports (37777, 34567, 8291, 60001), and 1433/tcp
 * "ms-sql" as in JPCERT/CC's TSUBAME. Sorted by protocol, then port: bsearch.
 *
 * A user extends or overrides it with a file (services_load): DATA/
 * services.tsv when it exists, then each --services FILE, later lines
 * winning. One "PORT/PROTO NAME" per line (whitespace or ": " between, as in
 * the report's annotations), NAME to the end of the line, '#' comments
 * (docs/rank.md). The loaded names live in one table for
 * the process: the command is short-lived and single-threaded.
 */
#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint16_t port;
    uint8_t proto;
    const char *name;
} service_entry;

static const service_entry services[] = {
    {1, 6, "tcpmux"},
    {7, 6, "echo"},
    {9, 6, "discard"},
    {11, 6, "systat"},
    {13, 6, "daytime"},
    {15, 6, "netstat"},
    {17, 6, "qotd"},
    {19, 6, "chargen"},
    {20, 6, "ftp-data"},
    {21, 6, "ftp"},
    {22, 6, "ssh"},
    {23, 6, "telnet/Mirai"},
    {25, 6, "smtp"},
    {37, 6, "time"},
    {43, 6, "whois"},
    {49, 6, "tacacs"},
    {53, 6, "domain"},
    {70, 6, "gopher"},
    {79, 6, "finger"},
    {80, 6, "http"},
    {81, 6, "http-alt"},
    {88, 6, "kerberos"},
    {102, 6, "iso-tsap"},
    {104, 6, "acr-nema"},
    {106, 6, "poppassd"},
    {110, 6, "pop3"},
    {111, 6, "sunrpc"},
    {113, 6, "auth"},
    {119, 6, "nntp"},
    {135, 6, "epmap"},
    {139, 6, "netbios-ssn"},
    {143, 6, "imap2"},
    {161, 6, "snmp"},
    {162, 6, "snmp-trap"},
    {163, 6, "cmip-man"},
    {164, 6, "cmip-agent"},
    {174, 6, "mailq"},
    {179, 6, "bgp"},
    {199, 6, "smux"},
    {209, 6, "qmtp"},
    {210, 6, "z3950"},
    {345, 6, "pawserv"},
    {346, 6, "zserv"},
    {369, 6, "rpc2portmap"},
    {370, 6, "codaauth2"},
    {389, 6, "ldap"},
    {427, 6, "svrloc"},
    {443, 6, "https"},
    {444, 6, "snpp"},
    {445, 6, "smb"},
    {464, 6, "kpasswd"},
    {465, 6, "submissions"},
    {487, 6, "saft"},
    {512, 6, "exec"},
    {513, 6, "login"},
    {514, 6, "shell"},
    {515, 6, "printer"},
    {538, 6, "gdomap"},
    {540, 6, "uucp"},
    {543, 6, "klogin"},
    {544, 6, "kshell"},
    {548, 6, "afpovertcp"},
    {554, 6, "rtsp"},
    {563, 6, "nntps"},
    {587, 6, "submission"},
    {607, 6, "nqs"},
    {628, 6, "qmqp"},
    {631, 6, "ipp"},
    {636, 6, "ldaps"},
    {646, 6, "ldp"},
    {655, 6, "tinc"},
    {706, 6, "silc"},
    {749, 6, "kerberos-adm"},
    {750, 6, "kerberos4"},
    {751, 6, "kerberos-master"},
    {754, 6, "krb-prop"},
    {775, 6, "moira-db"},
    {777, 6, "moira-update"},
    {783, 6, "spamd"},
    {853, 6, "domain-s"},
    {871, 6, "supfilesrv"},
    {873, 6, "rsync"},
    {989, 6, "ftps-data"},
    {990, 6, "ftps"},
    {992, 6, "telnets"},
    {993, 6, "imaps"},
    {995, 6, "pop3s"},
    {1080, 6, "socks"},
    {1093, 6, "proofd"},
    {1094, 6, "rootd"},
    {1099, 6, "rmiregistry"},
    {1127, 6, "supfiledbg"},
    {1178, 6, "skkserv"},
    {1194, 6, "openvpn"},
    {1236, 6, "rmtcfg"},
    {1313, 6, "xtel"},
    {1314, 6, "xtelw"},
    {1352, 6, "lotusnote"},
    {1433, 6, "ms-sql"},
    {1524, 6, "ingreslock"},
    {1645, 6, "datametrics"},
    {1646, 6, "sa-msg-port"},
    {1649, 6, "kermit"},
    {1677, 6, "groupwise"},
    {1723, 6, "pptp"},
    {1812, 6, "radius"},
    {1813, 6, "radius-acct"},
    {2000, 6, "cisco-sccp"},
    {2049, 6, "nfs"},
    {2086, 6, "gnunet"},
    {2101, 6, "rtcm-sc104"},
    {2119, 6, "gsigatekeeper"},
    {2121, 6, "iprop"},
    {2135, 6, "gris"},
    {2222, 6, "ssh-alt"},
    {2323, 6, "telnet/Mirai"},
    {2375, 6, "docker"},
    {2376, 6, "docker-tls"},
    {2401, 6, "cvspserver"},
    {2430, 6, "venus"},
    {2431, 6, "venus-se"},
    {2432, 6, "codasrv"},
    {2433, 6, "codasrv-se"},
    {2583, 6, "mon"},
    {2600, 6, "zebrasrv"},
    {2601, 6, "zebra"},
    {2602, 6, "ripd"},
    {2603, 6, "ripngd"},
    {2604, 6, "ospfd"},
    {2605, 6, "bgpd"},
    {2606, 6, "ospf6d"},
    {2607, 6, "ospfapi"},
    {2608, 6, "isisd"},
    {2628, 6, "dict"},
    {2792, 6, "f5-globalsite"},
    {2811, 6, "gsiftp"},
    {2947, 6, "gpsd"},
    {3050, 6, "gds-db"},
    {3205, 6, "isns"},
    {3260, 6, "iscsi-target"},
    {3306, 6, "mysql"},
    {3389, 6, "rdp"},
    {3493, 6, "nut"},
    {3632, 6, "distcc"},
    {3689, 6, "daap"},
    {3690, 6, "svn"},
    {4031, 6, "suucp"},
    {4094, 6, "sysrqd"},
    {4190, 6, "sieve"},
    {4353, 6, "f5-iquery"},
    {4369, 6, "epmd"},
    {4373, 6, "remctl"},
    {4460, 6, "ntske"},
    {4557, 6, "fax"},
    {4559, 6, "hylafax"},
    {4691, 6, "mtn"},
    {4899, 6, "radmin-port"},
    {4949, 6, "munin"},
    {5060, 6, "sip"},
    {5061, 6, "sip-tls"},
    {5222, 6, "xmpp-client"},
    {5269, 6, "xmpp-server"},
    {5308, 6, "cfengine"},
    {5358, 6, "wsdapi-s"},
    {5431, 6, "UPnP/IoT"},
    {5432, 6, "postgresql"},
    {5555, 6, "Android ADB"},
    {5556, 6, "freeciv"},
    {5666, 6, "nrpe"},
    {5667, 6, "nsca"},
    {5671, 6, "amqps"},
    {5672, 6, "amqp"},
    {5680, 6, "canna"},
    {5900, 6, "vnc"},
    {5985, 6, "winrm"},
    {5986, 6, "wsmans"},
    {6000, 6, "x11"},
    {6001, 6, "x11-1"},
    {6002, 6, "x11-2"},
    {6003, 6, "x11-3"},
    {6004, 6, "x11-4"},
    {6005, 6, "x11-5"},
    {6006, 6, "x11-6"},
    {6007, 6, "x11-7"},
    {6346, 6, "gnutella-svc"},
    {6347, 6, "gnutella-rtr"},
    {6379, 6, "redis"},
    {6444, 6, "sge-qmaster"},
    {6445, 6, "sge-execd"},
    {6446, 6, "mysql-proxy"},
    {6514, 6, "syslog-tls"},
    {6566, 6, "sane-port"},
    {6667, 6, "ircd"},
    {6697, 6, "ircs-u"},
    {7000, 6, "bbs"},
    {7100, 6, "font-service"},
    {7547, 6, "TR-069"},
    {8000, 6, "http-alt"},
    {8021, 6, "zope-ftp"},
    {8080, 6, "http-alt"},
    {8081, 6, "http-alt"},
    {8088, 6, "omniorb"},
    {8140, 6, "puppet"},
    {8291, 6, "MikroTik Winbox"},
    {8443, 6, "https-alt"},
    {8728, 6, "MikroTik API"},
    {8888, 6, "http-alt"},
    {8990, 6, "clc-build-daemon"},
    {9000, 6, "cslistener"},
    {9098, 6, "xinetd"},
    {9101, 6, "bacula-dir"},
    {9102, 6, "bacula-fd"},
    {9103, 6, "bacula-sd"},
    {9200, 6, "elasticsearch"},
    {9418, 6, "git"},
    {9530, 6, "HiSilicon DVR"},
    {9667, 6, "xmms2"},
    {9673, 6, "zope"},
    {10000, 6, "webmin"},
    {10050, 6, "zabbix-agent"},
    {10051, 6, "zabbix-trapper"},
    {10080, 6, "amanda"},
    {10081, 6, "kamanda"},
    {10082, 6, "amandaidx"},
    {10083, 6, "amidxtape"},
    {10250, 6, "kubelet"},
    {10809, 6, "nbd"},
    {11112, 6, "dicom"},
    {11211, 6, "memcache"},
    {11371, 6, "hkp"},
    {17004, 6, "sgi-cad"},
    {17500, 6, "db-lsp"},
    {22125, 6, "dcap"},
    {22128, 6, "gsidcap"},
    {22273, 6, "wnn6"},
    {24554, 6, "binkp"},
    {27017, 6, "mongodb"},
    {27374, 6, "asp"},
    {30865, 6, "csync2"},
    {34567, 6, "Xiongmai DVR"},
    {37215, 6, "Huawei HG532"},
    {37777, 6, "Dahua DVR"},
    {49152, 6, "UPnP/IoT"},
    {52869, 6, "Realtek UPnP"},
    {57000, 6, "dircproxy"},
    {60001, 6, "Jaws/IoT web"},
    {60177, 6, "tfido"},
    {60179, 6, "fido"},
    {7, 17, "echo"},
    {9, 17, "discard"},
    {13, 17, "daytime"},
    {19, 17, "chargen"},
    {21, 17, "fsp"},
    {37, 17, "time"},
    {49, 17, "tacacs"},
    {53, 17, "domain"},
    {67, 17, "bootps"},
    {68, 17, "bootpc"},
    {69, 17, "tftp"},
    {88, 17, "kerberos"},
    {111, 17, "sunrpc"},
    {123, 17, "ntp"},
    {137, 17, "netbios-ns"},
    {138, 17, "netbios-dgm"},
    {161, 17, "snmp"},
    {162, 17, "snmp-trap"},
    {163, 17, "cmip-man"},
    {164, 17, "cmip-agent"},
    {177, 17, "xdmcp"},
    {213, 17, "ipx"},
    {319, 17, "ptp-event"},
    {320, 17, "ptp-general"},
    {369, 17, "rpc2portmap"},
    {370, 17, "codaauth2"},
    {371, 17, "clearcase"},
    {389, 17, "cldap"},
    {427, 17, "svrloc"},
    {443, 17, "https"},
    {464, 17, "kpasswd"},
    {500, 17, "isakmp"},
    {512, 17, "biff"},
    {513, 17, "who"},
    {514, 17, "syslog"},
    {517, 17, "talk"},
    {518, 17, "ntalk"},
    {520, 17, "route"},
    {538, 17, "gdomap"},
    {546, 17, "dhcpv6-client"},
    {547, 17, "dhcpv6-server"},
    {554, 17, "rtsp"},
    {623, 17, "asf-rmcp"},
    {636, 17, "ldaps"},
    {646, 17, "ldp"},
    {655, 17, "tinc"},
    {750, 17, "kerberos4"},
    {751, 17, "kerberos-master"},
    {752, 17, "passwd-server"},
    {779, 17, "moira-ureg"},
    {853, 17, "domain-s"},
    {1194, 17, "openvpn"},
    {1210, 17, "predict"},
    {1434, 17, "ms-sql-m"},
    {1645, 17, "datametrics"},
    {1646, 17, "sa-msg-port"},
    {1701, 17, "l2f"},
    {1812, 17, "radius"},
    {1813, 17, "radius-acct"},
    {1900, 17, "ssdp"},
    {2049, 17, "nfs"},
    {2086, 17, "gnunet"},
    {2101, 17, "rtcm-sc104"},
    {2102, 17, "zephyr-srv"},
    {2103, 17, "zephyr-clt"},
    {2104, 17, "zephyr-hm"},
    {2430, 17, "venus"},
    {2431, 17, "venus-se"},
    {2432, 17, "codasrv"},
    {2433, 17, "codasrv-se"},
    {2583, 17, "mon"},
    {3130, 17, "icpv2"},
    {3205, 17, "isns"},
    {3493, 17, "nut"},
    {3702, 17, "ws-discovery"},
    {4500, 17, "ipsec-nat-t"},
    {4569, 17, "iax"},
    {5060, 17, "sip"},
    {5061, 17, "sip-tls"},
    {5353, 17, "mdns"},
    {5555, 17, "rplay"},
    {6346, 17, "gnutella-svc"},
    {6347, 17, "gnutella-rtr"},
    {6696, 17, "babel"},
    {7000, 17, "afs3-fileserver"},
    {7001, 17, "afs3-callback"},
    {7002, 17, "afs3-prserver"},
    {7003, 17, "afs3-vlserver"},
    {7004, 17, "afs3-kaserver"},
    {7005, 17, "afs3-volser"},
    {7007, 17, "afs3-bos"},
    {7008, 17, "afs3-update"},
    {7009, 17, "afs3-rmtsys"},
    {11211, 17, "memcache"},
    {17001, 17, "sgi-cmsd"},
    {17002, 17, "sgi-crsd"},
    {17003, 17, "sgi-gcd"},
    {27374, 17, "asp"},
    {37810, 17, "Dahua DVR discovery"},
};

static int service_cmp(const void *key, const void *elem)
{
    const service_entry *k = key, *e = elem;
    if (k->proto != e->proto)
        return k->proto < e->proto ? -1 : 1;
    return (int)k->port - (int)e->port;
}

/* port | proto << 16 -> name, from the user's files */
static GHashTable *services_user;

/*
 * Add the names of @a path ("PORT/PROTO NAME" lines, '#' comments) over the shipped
 * ones; FALSE with the file and line named on a bad line.
 */
static gboolean services_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return FALSE;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        char *line = g_strstrip(lines[i]);
        if (*line == '#' || *line == '\0')
            continue;
        unsigned port = 0;
        char proto[8] = "";
        int used = 0;
        if (sscanf(line, "%u/%7[a-zA-Z]%n", &port, proto, &used) == 2 && line[used] == ':')
            used++; /* "5555/TCP: Android ADB", as the report's annotations are written */
        if (sscanf(line, "%u/%7[a-zA-Z]", &port, proto) != 2 || port > 65535 ||
            (g_ascii_strcasecmp(proto, "tcp") != 0 && g_ascii_strcasecmp(proto, "udp") != 0) ||
            (line[used] != ' ' && line[used] != '\t') || *g_strstrip(line + used) == '\0') {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "%s:%u: expected PORT/PROTO NAME (e.g. \"5555/tcp Android ADB\"), PROTO "
                        "tcp or udp",
                        path, i + 1);
            return FALSE;
        }
        guint key = port | (g_ascii_tolower(proto[0]) == 't' ? 6u : 17u) << 16;
        if (services_user == NULL)
            services_user = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        g_hash_table_replace(services_user, GUINT_TO_POINTER(key), g_strdup(line + used));
    }
    return TRUE;
}

gboolean tt_services_load_for(const char *data, char **files, GError **error)
{
    if (data != NULL) {
        g_autofree char *tsv = g_build_filename(data, "services.tsv", NULL);
        if (g_file_test(tsv, G_FILE_TEST_EXISTS) && !services_load(tsv, error))
            return FALSE;
    }
    for (; files != NULL && *files != NULL; files++)
        if (!services_load(*files, error))
            return FALSE;
    return TRUE;
}

const char *tt_service_name(uint8_t proto, uint16_t port)
{
    if (services_user != NULL) {
        const char *name =
            g_hash_table_lookup(services_user, GUINT_TO_POINTER(port | (guint)proto << 16));
        if (name != NULL)
            return name;
    }
    service_entry key = {.port = port, .proto = proto, .name = NULL};
    const service_entry *e = bsearch(&key, services, sizeof services / sizeof services[0],
                                     sizeof services[0], service_cmp);
    return e != NULL ? e->name : NULL;
}
