#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""exporters_compare.py - teitend's totals against a capture's truth and nfdump.

    exporters_compare.py NAME TRUTH.json TABLE.tsv TOTALS.txt NFDUMP.txt STATS.json NFSTAT.txt JSONL

TRUTH.json   make_scan_capture.py's truth (packets and bytes per port key and
             per country, dark destinations only; leaks apart).
TABLE.tsv    the GeoIP test table (network<TAB>country): nfdump's source
             addresses are mapped to countries here, independently of teitend's
             libmaxminddb lookup.
TOTALS.txt   tt_jsonl_totals output: "dim key flows packets bytes" lines.
NFDUMP.txt   `nfdump -q -N -o 'fmt:%pr %sa %da %dp %pkt %byt'` over the same export.
STATS.json   teitend's stats.json.
NFSTAT.txt   "port PORT/PROTO flows packets bytes" from `nfdump -s dstport/packets`
             (TCP and UDP to dark space): nfdump's own per-port statistics, which
             must equal both its records summed here and teitend's port lines.
JSONL        teitend's jsonl: every bucket must lie inside the capture's own time
             span (time is the stream's, never the host's).

Asserted, per port key ("23/tcp", "icmp", ...) and per country:
  teitend packets and bytes == the capture's truth   (flow exporters count every
                                                     packet once, bytes = IP length)
  teitend flows, packets, bytes == nfdump's          (same export stream; flow
                                                     counts depend on the exporter's
                                                     keys and timeouts, so only
                                                     nfdump can be their truth)
  teitend's leaks == nfdump's records to lit space; nothing dropped or malformed.
Prints one summary line; exits 1 with the differences on any mismatch.

    exporters_compare.py --unusable-times NAME STATS.json SENT STARTED

For exports whose times cannot be right (see check_unusable_times).
"""
import collections
import ipaddress
import json
import sys

DARK = ipaddress.ip_network('203.0.113.0/24')


def check_unusable_times(name, stats_p, sent, started):
    """softflowd -r without -a stamps flows with sysUpTime offsets from its own
    start on the host clock, so a 2019 capture gets times anywhere within 49.7
    days of now: nothing can recover the capture's times. What must hold: every
    record is either counted or refused as stamped after its own message, and
    no accepted record moved a sensor's watermark past the host clock (which
    would close every open bucket of a live sensor)."""
    s = json.load(open(stats_p))
    records = sum(e['records'] for e in s['exporters'])
    future = sum(e['future_records'] for e in s['exporters'])
    counted = sum(x['records'] for x in s['sensors'])
    errors = []
    if records != sent:
        errors.append('decoded %d records, nfcapd got %d' % (records, sent))
    if counted + future != records:
        errors.append('%d counted + %d future != %d decoded' % (counted, future, records))
    for x in s['sensors']:
        if x.get('watermark', 0) > started + 600 + 120:
            errors.append('sensor %s: watermark %d is past the host clock (%d)'
                          % (x['sensor'], x['watermark'], started))
    print('%s: records nfdump %d teitend %d; counted %d, refused as future %d'
          % (name, sent, records, counted, future))
    for e in errors:
        print('  ' + e, file=sys.stderr)
    sys.exit(1 if errors else 0)


def main(argv):
    if argv[1] == '--unusable-times':
        check_unusable_times(argv[2], argv[3], int(argv[4]), int(argv[5]))
    name, truth_p, table_p, totals_p, nfdump_p, stats_p, nfstat_p, jsonl_p = argv[1:9]
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

    first, last = truth['first'], truth['last_us'] // 1_000_000
    for line in open(jsonl_p):
        o = json.loads(line)
        if o['end'] <= first or o['start'] > last:
            errors.append('bucket %d..%d outside the capture (%d..%d)'
                          % (o['start'], o['end'], first, last))
            break

    nfstat = {}
    for line in open(nfstat_p):
        _, key, fl, pk, by = line.split()
        nfstat[key] = (int(fl), int(pk), int(by))
    l4 = {k: v for k, v in tt['port'].items() if k.endswith(('/tcp', '/udp'))}
    if not nfstat or nfstat != l4:
        diff = sorted(set(nfstat.items()) ^ set(l4.items()))[:10]
        errors.append('nfdump -s dstport (%d ports) differs from teitend (%d ports): %s'
                      % (len(nfstat), len(l4), diff))

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
