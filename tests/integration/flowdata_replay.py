# SPDX-License-Identifier: BSD-2-Clause
"""flowdata_replay.py - replay every shared flow capture into teitend and check its counts.

Subcommands, driven by flowdata.sh:
  prepare  list the captures of $TT_FLOWDATA (vendor/, local-exporters/, darknet/,
           the unpacked extra/ bundles, softflowd's export of each raw packet
           capture), join akvorado's template/data pairs into one capture, and
           count each capture's records with tshark -> plan.json
  replay   send every capture's UDP payloads to teitend, each original exporter
           (address, port) of each capture from its own 127.0.0.N socket, to the
           listener its version field names (v5, v9, IPFIX, sFlow)
  wait     SIGUSR1 teitend until every capture's exporters reached their count
           or stopped moving, so the test waits as long as it has to and no longer
  check    compare stats.json's per-exporter counters with tshark's counts,
           capture by capture, and print the coverage table (markdown)
A capture whose decode knowingly differs from tshark's (libfixbuf limits) is
listed in KNOWN with the exact counters it must show and why: a change in
behaviour, for better or worse, fails the test until the list is updated.
"""
import argparse
import concurrent.futures
import json
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flowdata_pcap as fp  # noqa: E402

RAW = ['darknet/ctu-slips_icmp-sweep.pcap',
       'darknet/stopddos_synack-backscatter_first1000.pcap',
       'darknet/stopddos_synflood-spoofed-sources_first1000.pcap',
       'local-exporters/input_synthetic-scan_390pkts.pcap']

# capture -> (counters it must show instead of tshark's count, why)
KNOWN = {
    'vendor/ls_h3c-netstream_v9_type0-field.pcap': (
        {'decoded': 16, 'refused': 0},
        "tshark stops after the first of 16 records (IPV4_ROUTER_SC sent with length 2: "
        "'Trying to fetch an IPv4 address with length 2'); the v9 header's count (16) "
        "agrees with teitend, which reads field type 0 as padding"),
}

# captures whose records are stamped after the export time of their message by more
# than export-time-tolerance (600 s) but at most clamp-max (8 days): kept, timed at the
# export time and counted as time_clamped (docs/security.md, "Time policy")
CLAMPED = {
    'local-exporters/nfpcapd+nfreplay_v9.pcap': 'nfreplay stamps the v9 header one day before the flows',
    'darknet/ctu-slips_vertical-portscan_4593flows_nfreplay-v9.pcap':
        'nfreplay stamps the v9 header one day before the flows',
}


def manifest_vendors(flowdata):
    """'vendor/x.pcap' -> its 'exporter/vendor' line in MANIFEST.md."""
    out, cur = {}, None
    with open(os.path.join(flowdata, 'MANIFEST.md')) as f:
        for line in f:
            m = re.match(r'^### `(.+)`', line)
            if m:
                cur = m.group(1)
            m = re.match(r'^- exporter/vendor: (.+)', line)
            if m and cur:
                out[cur] = m.group(1).strip()
    return out


def akvorado_groups(d):
    """akvorado keeps templates and data in separate one-packet files: join them."""
    groups = {}
    for name in sorted(os.listdir(d)):
        if not name.endswith('.pcap'):
            continue
        stem = name[:-5]
        m = re.match(r'(.*?)[-_](options-)?(templates?|data)$', stem)
        base = re.sub(r'[-_]options$', '', m.group(1)) if m else stem
        groups.setdefault(base, []).append(name)

    def order(n):  # templates before data, options before flows
        return (re.search(r'[-_](options-)?data\.pcap$', n) is not None, 'options' not in n, n)
    return {b: [os.path.join(d, n) for n in sorted(v, key=order)] for b, v in groups.items()}


def build_one(c, tmp):
    """Join a capture's files into one classic pcap, note its exporters, count with tshark."""
    if 'raw' in c:
        fp.softflowd_export(c['raw'], c['files'][0], '10')
    linktype, frames = None, []
    for path in c['files']:
        lt, fr = fp.read_pcap(fp.classic_pcap(path, tmp))
        if linktype is not None and lt != linktype:
            raise ValueError(f'{c["name"]}: mixed link types')
        linktype = lt
        frames += fr
    if len(c['files']) > 1:
        path = os.path.join(tmp, 'joined-' + re.sub(r'[^\w.-]', '_', c['name']) + '.pcap')
        fp.write_pcap(path, linktype, frames)
    else:
        path = fp.classic_pcap(c['files'][0], tmp)
    kinds, ports, exporters, datagrams, first_sflow = {}, {}, [], 0, set()
    for number, (_ts, _tus, frame) in enumerate(frames, 1):
        r = fp.udp_payload(linktype, frame)
        if r is None:
            continue
        exp, dport, payload = r
        kind = fp.payload_kind(payload)
        if kind == 'other':
            continue
        datagrams += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        ports[dport] = 'sflow' if kind == 'sflow' else 'cflow'
        if exp not in exporters:
            exporters.append(exp)
            if kind == 'sflow':
                first_sflow.add(number)
    counts, sflow_frames = fp.tshark_count(path, ports)
    # libfixbuf's sFlow translator answers an agent's first datagram with templates only
    counts['sflow_first'] = sum(sflow_frames.get(f, 0) for f in first_sflow)
    c.update(pcap=path, kinds=kinds, datagrams=datagrams, exporters=exporters, tshark=counts)
    return c


def cmd_prepare(a):
    vendors = manifest_vendors(a.flowdata)
    caps = []
    for sub in ('vendor', 'local-exporters', 'darknet'):
        for name in sorted(os.listdir(os.path.join(a.flowdata, sub))):
            rel = f'{sub}/{name}'
            if not name.endswith('.pcap') or rel in RAW:
                continue
            caps.append({'name': rel, 'vendor': vendors.get(rel, ''),
                         'files': [os.path.join(a.flowdata, rel)]})
    for rel in RAW:
        caps.append({'name': f'softflowd -a -v 10 < {rel}', 'vendor': 'softflowd 1.1.0 (run by the test)',
                     'raw': os.path.join(a.flowdata, rel),
                     'files': [os.path.join(a.tmp, 'softflowd-' + os.path.basename(rel))]})
    akv = os.path.join(a.extra, 'akvorado')
    for base, files in akvorado_groups(akv).items():
        caps.append({'name': 'extra/akvorado/' + '+'.join(os.path.basename(f)[:-5] for f in files),
                     'vendor': 'akvorado decoder test data', 'files': files})
    for name in sorted(os.listdir(a.extra)):
        if name.endswith('.pcap'):
            caps.append({'name': 'extra/pmacct/' + name, 'vendor': 'pmacct-test-automation',
                         'files': [os.path.join(a.extra, name)]})
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        caps = list(pool.map(lambda c: build_one(c, a.tmp), caps))
    with open(a.plan, 'w') as f:
        json.dump(caps, f, indent=1)
    print(f'{len(caps)} captures, {sum(c["datagrams"] for c in caps)} datagrams', file=sys.stderr)


def source_addr(i):
    """The i-th exporter identity: 127.0.0.2 upwards, then 127.0.1.x, ..."""
    return f'127.0.{i // 250}.{i % 250 + 2}'


def cmd_replay(a):
    ports = dict(kv.split('=') for kv in a.ports.split(','))
    with open(a.plan) as f:
        caps = json.load(f)
    ident = 0
    for c in caps:
        linktype, frames = fp.read_pcap(c['pcap'])
        socks, labels = {}, {}
        for _ts, _tus, frame in frames:
            r = fp.udp_payload(linktype, frame)
            if r is None:
                continue
            exp, _dport, payload = r
            kind = fp.payload_kind(payload)
            if kind == 'other':
                continue
            if exp not in socks:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((source_addr(ident), 0))
                ident += 1
                socks[exp] = s
            s = socks[exp]
            host, port = s.getsockname()
            labels.setdefault(f'{host}:{port}', []).append(kind)
            s.sendto(payload, ('127.0.0.1', int(ports[kind])))
            time.sleep(a.delay)
        c['labels'] = {k: sorted(set(v)) for k, v in labels.items()}
        for s in socks.values():
            s.close()
    with open(a.plan, 'w') as f:
        json.dump(caps, f, indent=1)


TRANSPORT = {'ipfix': 'ipfix+udp', 'v9': 'netflow9+udp', 'v5': 'netflow5+udp', 'sflow': 'sflow+udp'}


def exporter_sums(stats, c):
    """The capture's counters, summed over its exporters (label + transport)."""
    want = {(lab, TRANSPORT.get(k)) for lab, kinds in c.get('labels', {}).items() for k in kinds}
    tot = {'records': 0, 'options_records': 0, 'unknown_template_sets': 0, 'future_records': 0,
           'time_clamped': 0, 'time_impossible': 0,
           'messages': 0, 'templates': 0, 'refused': 0, 'dropped': 0, 'malformed': 0}
    rows = [e for e in stats['exporters'] if (e['exporter'], e['transport']) in want]
    if c.get('labels') == {'retired': ['file']}:
        rows = [stats['retired_exporters']]  # --read releases its exporter when done
    for e in rows:
        for k in ('records', 'options_records', 'unknown_template_sets', 'future_records',
                  'time_clamped', 'time_impossible', 'messages', 'templates'):
            tot[k] += e[k]
        tot['refused'] += sum(e['templates_refused'].values())
        tot['dropped'] += sum(e['dropped'].values())
        tot['malformed'] += sum(e['malformed'].values())
    return tot


def expected(c):
    """tshark's count in teiten's terms: what records (+ options_records) must equal.

    sFlow: flow samples, less those of each agent's first datagram, which
    libfixbuf's translator replaces by its templates (fbsflow.c, new session:
    "EXPORTED TEMPLATES" and return); counter samples are not counted.
    """
    t = c['tshark']
    return t['flows'] + t['v5'] + t['sflow'] - t.get('sflow_first', 0)


def decoded(c, tot):
    """records + options_records; for sFlow only records (counters become options)."""
    if 'sflow' in c['kinds']:
        return tot['records']
    return tot['records'] + tot['options_records']


def last_stats(log):
    """The newest stats document teitend logged on SIGUSR1 (it spans several lines)."""
    with open(log, errors='replace') as f:
        text = f.read()
    i = text.rfind('stats: {')
    if i < 0:
        return None
    return json.JSONDecoder().raw_decode(text[i + 7:])[0]


def cmd_wait(a):
    """SIGUSR1 until every capture is complete or nothing moved for a.settle seconds."""
    with open(a.plan) as f:
        caps = json.load(f)
    deadline, last, still = time.time() + a.timeout, None, time.time()
    while time.time() < deadline:
        os.kill(a.pid, signal.SIGUSR1)
        time.sleep(0.3)
        try:
            s = last_stats(a.log)
        except (ValueError, OSError):
            continue
        if s is None:
            continue
        now = [decoded(c, exporter_sums(s, c)) for c in caps]
        if all(n >= expected(c) for n, c in zip(now, caps) if c['name'] not in KNOWN):
            if now == last:
                return
        if now != last:
            last, still = now, time.time()
        elif time.time() - still > a.settle:
            return
    print('wait: timed out', file=sys.stderr)


def cmd_check(a):
    with open(a.plan) as f:
        caps = json.load(f)
    with open(a.stats) as f:
        stats = json.load(f)
    fails, rows = [], []
    for c in caps:
        tot = exporter_sums(stats, c)
        exp, got = expected(c), decoded(c, tot)
        kinds = '/'.join(sorted(c['kinds']))
        notes = []
        if tot['unknown_template_sets']:
            notes.append(f'{tot["unknown_template_sets"]} set(s) without template')
        if tot['refused']:
            notes.append(f'{tot["refused"]} template(s) refused')
        if tot['dropped'] or tot['malformed']:
            notes.append(f'{tot["dropped"]} message(s) dropped')
        if tot['future_records']:
            notes.append(f'{tot["future_records"]} record(s) after their export time')
        if tot['options_records']:
            notes.append(f'{tot["options_records"]} options')
        if c['tshark'].get('sflow_first'):
            notes.append(f'{c["tshark"]["sflow_first"]} flow sample(s) in the first datagram '
                         'lost to the sFlow translator')
        if c['tshark'].get('l2_only'):
            notes.append(f'{c["tshark"]["l2_only"]} record(s) with only a sampled frame (IE 315): '
                         'no address, counted as leaks')
        if c['name'] in KNOWN:
            want, why = KNOWN[c['name']]
            exp = want.get('decoded', exp)
            bad = {k: (v, tot.get(k, got if k == 'decoded' else None)) for k, v in want.items()
                   if (got if k == 'decoded' else tot.get(k)) != v}
            if bad:
                fails.append(f'{c["name"]}: known difference changed: {bad} ({why})')
            notes.append('KNOWN: ' + why)
        else:
            if got != exp:
                fails.append(f'{c["name"]}: teitend decoded {got} '
                             f'({tot["records"]} + {tot["options_records"]} options), tshark {exp}')
            if tot['dropped'] or tot['malformed']:
                fails.append(f'{c["name"]}: {tot["dropped"]} dropped, {tot["malformed"]} malformed')
        if tot['time_clamped']:
            notes.append(f'{tot["time_clamped"]} record(s) after their export time, clamped')
        if c['name'] in CLAMPED:
            if tot['time_clamped'] != tot['records'] or tot['future_records']:
                fails.append(f'{c["name"]}: {tot["time_clamped"]} of {tot["records"]} records '
                             f'clamped ({tot["future_records"]} refused), expected all '
                             f'clamped ({CLAMPED[c["name"]]})')
            notes.append('KNOWN: ' + CLAMPED[c['name']])
        elif tot['future_records'] or tot['time_clamped'] or tot['time_impossible']:
            fails.append(f'{c["name"]}: {tot["future_records"]} records refused and '
                         f'{tot["time_clamped"]} clamped after their export time, '
                         f'{tot["time_impossible"]} with impossible times')
        t = c['tshark']
        rows.append(f'| {c["name"]} | {c["vendor"]} | {kinds} | {c["datagrams"]} | '
                    f'{t["flows"] + t["v5"] + t["sflow"]} | {exp} | '
                    f'{tot["records"]} + {tot["options_records"]} | {"; ".join(notes)} |')
    print('| capture | vendor | protocol | datagrams | tshark records | expected | '
          'teitend records + options | notes |')
    print('|---|---|---|---|---|---|---|---|')
    print('\n'.join(rows))
    # every decoded record not refused for its times or counts reached the sensor
    exps = stats['exporters'] + [stats['retired_exporters']]
    handed = sum(e['records'] - e['future_records'] - e['time_impossible'] - e['value_range'] -
                 e['absurd_counts'] for e in exps)
    got = sum(s['records'] for s in stats['sensors'])
    if handed != got:
        fails.append(f'exporters decoded {handed} records for the sensor, the sensor counted {got}')
    # the darknet is everything: only records without any address can be leaks
    leaks = sum(s['leaks'] for s in stats['sensors'])
    l2 = sum(c['tshark'].get('l2_only', 0) for c in caps)
    if leaks != l2:
        fails.append(f'{leaks} leaks, but tshark finds {l2} records without an address')
    for f in fails:
        print('FAIL: ' + f, file=sys.stderr)
    sys.exit(1 if fails else 0)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('prepare')
    p.add_argument('--flowdata', required=True)
    p.add_argument('--extra', required=True)
    p.add_argument('--tmp', required=True)
    p.add_argument('--plan', required=True)
    p.add_argument('--jobs', type=int, default=4)
    p = sub.add_parser('replay')
    p.add_argument('--plan', required=True)
    p.add_argument('--ports', required=True, help='ipfix=P,v9=P,v5=P,sflow=P')
    p.add_argument('--delay', type=float, default=0.0005)
    p = sub.add_parser('wait')
    p.add_argument('--plan', required=True)
    p.add_argument('--pid', type=int, required=True)
    p.add_argument('--log', required=True)
    p.add_argument('--timeout', type=float, default=30)
    p.add_argument('--settle', type=float, default=2)
    p = sub.add_parser('check')
    p.add_argument('--plan', required=True)
    p.add_argument('--stats', required=True)
    a = ap.parse_args()
    {'prepare': cmd_prepare, 'replay': cmd_replay, 'wait': cmd_wait, 'check': cmd_check}[a.cmd](a)


if __name__ == '__main__':
    main()
