#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""exporters_compare.py - teitend's totals against a capture's truth and nfdump.

    exporters_compare.py NAME TRUTH.json TABLE.tsv TOTALS.txt NFDUMP.txt STATS.json

TRUTH.json   make_scan_capture.py's truth (packets and bytes per port key and
             per country, dark destinations only; leaks apart).
TABLE.tsv    the GeoIP test table (network<TAB>country): nfdump's source
             addresses are mapped to countries here, independently of teitend's
             libmaxminddb lookup.
TOTALS.txt   tt_jsonl_totals output: "dim key flows packets bytes" lines.
NFDUMP.txt   `nfdump -q -N -o 'fmt:%pr %sa %da %dp %pkt %byt'` over the same export.
STATS.json   teitend's stats.json.

Asserted, per port key ("23/tcp", "icmp", ...) and per country:
  teitend packets and bytes == the capture's truth   (flow exporters count every
                                                     packet once, bytes = IP length)
  teitend flows, packets, bytes == nfdump's          (same export stream; flow
                                                     counts depend on the exporter's
                                                     keys and timeouts, so only
                                                     nfdump can be their truth)
  teitend's leaks == nfdump's records to lit space; nothing dropped or malformed.
Prints one summary line; exits 1 with the differences on any mismatch.
"""
import collections
import ipaddress
import json
import sys

DARK = ipaddress.ip_network('203.0.113.0/24')


def main(argv):
    name, truth_p, table_p, totals_p, nfdump_p, stats_p = argv[1:7]
    truth = json.load(open(truth_p))
    table = [(ipaddress.ip_network(n), cc) for n, cc in (l.split() for l in open(table_p))]

    def country(addr):
        for net, cc in table:
            if addr.version == net.version and addr in net:
                return cc
        return 'ZZ'

    tt = {'port': {}, 'country': {}, 'total': {}}
    for line in open(totals_p):
        dim, key, fl, pk, by = line.split()
        tt[dim][key] = (int(fl), int(pk), int(by))

    nf = {'port': collections.defaultdict(lambda: [0, 0, 0]),
          'country': collections.defaultdict(lambda: [0, 0, 0])}
    nf_records = nf_leaks = 0
    for line in open(nfdump_p):
        f = line.split()
        if not f:
            continue
        proto, sa, da, dp, pk, by = f[0], f[1], f[2], f[3], int(f[4]), int(f[5])
        nf_records += 1
        if ipaddress.ip_address(da) not in DARK:
            nf_leaks += 1
            continue
        p = {'1': 'icmp', 'ICMP': 'icmp', '6': 'tcp', 'TCP': 'tcp', '17': 'udp', 'UDP': 'udp'}[proto]
        key = 'icmp' if p == 'icmp' else '%d/%s' % (int(dp), p)
        for dim, k in (('port', key), ('country', country(ipaddress.ip_address(sa)))):
            v = nf[dim][k]
            v[0] += 1
            v[1] += pk
            v[2] += by

    errors = []
    for dim in ('port', 'country'):
        keys = set(truth[dim]) | set(tt[dim]) | set(nf[dim])
        for k in sorted(keys):
            t = truth[dim].get(k, [0, 0])
            mine = tt[dim].get(k, (0, 0, 0))
            other = tuple(nf[dim].get(k, (0, 0, 0)))
            if tuple(mine[1:]) != tuple(t):
                errors.append('%s %s: teitend packets/bytes %s, capture truth %s'
                              % (dim, k, mine[1:], tuple(t)))
            if mine != other:
                errors.append('%s %s: teitend flows/packets/bytes %s, nfdump %s'
                              % (dim, k, mine, other))

    s = json.load(open(stats_p))
    records = sum(x['records'] for x in s['sensors'])
    leaks = sum(x['leaks'] for x in s['sensors'])
    late = sum(x['late'] for x in s['sensors'])
    if leaks != nf_leaks:
        errors.append('leaks: teitend %d, nfdump %d' % (leaks, nf_leaks))
    if records != nf_records:
        errors.append('records: teitend %d, nfdump %d' % (records, nf_records))
    for e in s['exporters']:
        for what in ('dropped', 'malformed'):
            bad = {k: v for k, v in (e.get(what) or {}).items() if v}
            if bad:
                errors.append('exporter %s: %s %s' % (e.get('address', '?'), what, bad))
        if e.get('future_records'):
            errors.append('exporter %s: %d future records' % (e.get('address', '?'),
                                                               e['future_records']))

    total = tt['total'].get('all', (0, 0, 0))
    print('%s: records nfdump %d teitend %d; dark flows %d (nfdump %d); packets truth %d '
          'teitend %d nfdump %d; bytes truth %d teitend %d; leaks %d; late %d'
          % (name, nf_records, records, total[0], sum(v[0] for v in nf['port'].values()),
             truth['total'][0], total[1], sum(v[1] for v in nf['port'].values()),
             truth['total'][1], total[2], leaks, late))
    if errors:
        for e in errors[:30]:
            print('  ' + e, file=sys.stderr)
        if len(errors) > 30:
            print('  ... %d more' % (len(errors) - 30), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main(sys.argv)
