#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""demo_check.py - what the demo sent against what teiten stored, side by side.

    demo_check.py --teiten BIN --data DIR --expect DIR [--tz ZONE]
                  [--jsonl FILE] [--rrd DIR]

flowgen writes, beside every run it sends, its exact expectation (--expect FILE:
JSON lines per step, dimension and key; FILE.summary.json: records, leaks,
sampling). This script sums those per sensor and per quarter (days cut in the
collector's time zone, as the rollups cut them) and compares them with what
`teiten rank --format json` reports for the same sensor and quarter, every port
and every country key, and with the daemon's own counters in stats.json:

- like with like: rank's `records` are the records stored (flowgen's `flows`),
  its `packets` and `bytes` are sampling-corrected (as flowgen's are) and its
  `flows` are records x the sampling rate (flowgen's `flows` x its --sampling);
- the days a sensor was heard (rollup.sqlite, sensor_day.coverage_min, which is
  what `teiten report` lists as outages) against the days flowgen sent to;
- stats.json: records received and leaks per sensor against what was sent, and
  every loss counter (kernel drops, sequence gaps, refused or malformed
  records, cut streams, late records, RRD refusals, journaled lines) printed
  and required to be zero.

- with --jsonl (the jsonl plugin's file): every bucket, sensor, dimension and
  key line against the expectation's (late lines summed into their bucket);
- with --rrd (DATA/rrd, after rrdcached has written its files): total.rrd and
  every sensor's sensor/NAME/total.rrd, each UTC day from the first day with
  data to the last, daily AVERAGE x 86400 against the day's flows, packets and
  bytes (an unknown day is a difference: the collector was not down).

It prints the comparison and exits 1 on any difference, 0 when every record sent
is stored. Both scripts/demo.sh and the `demo` ctest use it (one copy).
Rejected: comparing only the period totals (equal totals can hide two keys
that traded counts) and reading the RRD files (consolidated rates are not the
exact counts a rank table publishes; tests/integration/rrd_check.py covers them).
"""
import argparse
import collections
import datetime
import glob
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import zoneinfo

# Counters in stats.json that are a loss (or a record or update not stored where it
# should be) whenever they are not zero, wherever they appear in the document: by
# name, or by what the name says (kernel_drops, seq_lost, writer_refused_jobs,
# streams_cut, ...), so a counter added later is not missed. skipped_past and
# unknown_gaps are losses here too: the demo and the tests start from nothing, so
# there is no earlier run whose steps a replay may skip or whose downtime reads unknown.
LOSS_KEYS = {
    'noise', 'exporter_cap', 'future_records', 'unknown_template_sets', 'too_old', 'late',
    'pending_lines', 'set_aside', 'clamped', 'skipped_past', 'unknown_gaps',
}
LOSS_RE = re.compile(r'(drops?|dropped|lost|refused|cut|journaled|errors|rolled_back)(_jobs|_bytes|_lines)?$')
# Groups whose every member is a loss reason.
LOSS_GROUPS = {'dropped', 'malformed', 'templates_refused', 'losses'}


def quarter_of(day):
    return '%dQ%d' % (day.year, (day.month - 1) // 3 + 1)


def quarter_days(q):
    year, n = int(q[:4]), int(q[5])
    first = datetime.date(year, 3 * n - 2, 1)
    last = datetime.date(year + (n == 4), 1 if n == 4 else 3 * n + 1, 1) - datetime.timedelta(1)
    return first, last


def load_expectation(expect_dir, tz):
    """{(sensor, quarter): {(dim, key): [records, flows, packets, bytes]}}, heard days,
    and per-sensor sent/observed/leaks from the summaries."""
    exp = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0, 0, 0]))
    days = collections.defaultdict(set)
    sent = collections.defaultdict(lambda: [0, 0, 0])
    files = sorted(glob.glob(os.path.join(expect_dir, '*.jsonl')))
    if not files:
        sys.exit('demo_check: no expectation (*.jsonl) in %s' % expect_dir)
    for path in files:
        summary = json.load(open(path + '.summary.json'))
        rate = summary['sampling']
        sensor = None
        for line in open(path):
            o = json.loads(line)
            sensor = o['sensor']
            day = datetime.datetime.fromtimestamp(o['start'], tz).date()
            q = quarter_of(day)
            days[sensor].add(day)
            for s in (sensor, '*'):
                v = exp[(s, q)][(o['dim'], o['key'])]
                v[0] += o['flows']
                v[1] += o['flows'] * rate
                v[2] += o['packets']
                v[3] += o['bytes']
        if sensor is None:  # nothing observed: the sensor comes from the file name
            sensor = os.path.basename(path).rsplit('-', 2)[0]
        s = sent[sensor]
        s[0] += summary['records']
        s[1] += summary['observed']
        s[2] += summary['leaks']
    return exp, days, sent


def load_lines(paths):
    """{(start, sensor, dim, key): [flows, packets, bytes]} summed over JSON lines files."""
    out = collections.defaultdict(lambda: [0, 0, 0])
    for path in paths:
        for line in open(path):
            o = json.loads(line)
            v = out[(o['start'], o['sensor'], o['dim'], o['key'])]
            v[0] += o['flows']
            v[1] += o['packets']
            v[2] += o['bytes']
    return out


def check_jsonl(want, path, show):
    got = load_lines([path])
    bad = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    print('   %-29s %13s %13s%s' % ('jsonl bucket lines', fmt(len(want)), fmt(len(got)),
                                             '   %d lines differ' % len(bad) if bad else ''))
    for k in bad[:show]:
        print('       %s: sent flows/packets/bytes %s, stored %s' % (k, want.get(k), got.get(k)))
    return len(bad)


def check_rrd(want, rrd_dir, sensors, show):
    """Daily totals of total.rrd and sensor/NAME/total.rrd against the expectation."""
    daily = collections.defaultdict(lambda: [0, 0, 0])
    for (start, sensor, dim, _), v in want.items():
        if dim != 'total':
            continue
        for f in ('total.rrd', 'sensor/%s/total.rrd' % sensor):
            d = daily[(f, start // 86400 * 86400)]
            for i in range(3):
                d[i] += v[i]
    diffs = 0
    for f in ['total.rrd'] + ['sensor/%s/total.rrd' % s for s in sensors]:
        days = sorted(d for (g, d) in daily if g == f)
        if not days:
            continue
        path = os.path.join(rrd_dir, f)
        if not os.path.exists(path):
            print('   rrd       %-30s missing   DIFFERENT' % f)
            diffs += 1
            continue
        # Through rrdcached (RRDCACHED_ADDRESS): flush the file, then read it here;
        # rrdcached 1.7's own FETCH answers -r 86400 with the hourly archive.
        env = dict(os.environ)
        daemon = env.pop('RRDCACHED_ADDRESS', None)
        if daemon:
            subprocess.run(['rrdtool', 'flushcached', '--daemon', daemon, path], check=True)
        out = subprocess.run(['rrdtool', 'fetch', path, 'AVERAGE', '-r', '86400', '-s',
                              str(days[0]), '-e', str(days[-1])],
                             check=True, capture_output=True, text=True, env=env).stdout
        rows = {}
        for line in out.splitlines()[2:]:
            t, vals = line.split(':', 1)
            rows[int(t) - 86400] = [float(v) for v in vals.split()]
        if any(t % 86400 for t in rows):
            sys.exit('demo_check: %s: rrdtool fetch -r 86400 did not return the daily archive' % path)
        bad, sums = [], [[0, 0, 0], [0, 0, 0]]
        for d in range(days[0], days[-1] + 1, 86400):
            w = daily.get((f, d), [0, 0, 0])
            g = rows.get(d)
            g = None if g is None or any(math.isnan(x) for x in g[:3]) else \
                [round(x * 86400) for x in g[:3]]
            for i in range(3):
                sums[0][i] += w[i]
                sums[1][i] += g[i] if g else 0
            if g != w:
                bad.append((d, w, g))
        print('   rrd       %-30s %4d days, flows %s / %s%s' %
              (f, len(range(days[0], days[-1] + 1, 86400)), fmt(sums[0][0]), fmt(sums[1][0]),
               '   %d days differ' % len(bad) if bad else ''))
        for d, w, g in bad[:show]:
            print('       %s: sent flows/packets/bytes %s, stored %s' %
                  (datetime.datetime.fromtimestamp(d, datetime.timezone.utc).date(), w,
                   g if g else 'unknown'))
        diffs += len(bad)
    return diffs


def rank(teiten, data, quarter, sensor, by):
    cmd = [teiten, 'rank', '--data', data, '--quarter', quarter, '--by', by,
           '--top', '1000000', '--format', 'json']
    if sensor != '*':
        cmd += ['--sensor', sensor]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    got = {}
    for r in doc['rows']:
        got[(by, r['key'])] = [r['records'], r['flows'], r['packets'], r['bytes']]
    return got, doc


def losses(doc, path=''):
    """Every non-zero loss counter in stats.json as (path, value)."""
    found = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            here = '%s%s%s' % (path, '.' if path else '', k)
            if k == 'losses' and isinstance(v, list):  # [{scope, name, reason, unit, count}]
                found += [('losses[%s %s %s]' % (x.get('scope'), x.get('name'), x.get('reason')),
                           '%s %s' % (fmt(x['count']), x.get('unit', '')))
                          for x in v if x.get('count')]
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if v and (k in LOSS_KEYS or LOSS_RE.search(k) or path.rsplit('.', 1)[-1] in LOSS_GROUPS):
                    found.append((here, v))
            else:
                found += losses(v, here)
    elif isinstance(doc, list):
        for item in doc:
            label = ''
            if isinstance(item, dict):
                label = item.get('listen') or item.get('exporter') or item.get('sensor') or ''
            found += losses(item, '%s[%s]' % (path, label))
    return found


def fmt(n):
    return '{:,}'.format(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--teiten', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--expect', required=True, help='directory of flowgen --expect files')
    ap.add_argument('--tz', default='Asia/Tokyo')
    ap.add_argument('--jsonl', help="the jsonl plugin's file: compare bucket by bucket")
    ap.add_argument('--rrd', help='DATA/rrd: compare total.rrd and sensor totals day by day')
    ap.add_argument('--show', type=int, default=5, help='differing keys shown per table')
    args = ap.parse_args()
    tz = zoneinfo.ZoneInfo(args.tz)
    exp, exp_days, sent = load_expectation(args.expect, tz)
    sensors = sorted(sent)
    quarters = sorted({q for (_, q) in exp})
    diffs = 0

    print('   %-8s %-7s %-12s %13s %13s' % ('sensor', 'quarter', '', 'sent', 'stored'))
    for sensor in sensors + ['*']:
        for q in quarters:
            want = exp.get((sensor, q), {})
            got = {}
            for by in ('port', 'country'):
                g, doc = rank(args.teiten, args.data, q, sensor, by)
                if doc.get('tz') != args.tz:
                    print('   rank reports time zone %s, the scenario is cut in %s' %
                          (doc.get('tz'), args.tz))
                    diffs += 1
                got.update(g)
            # rank's completeness line (losses kept beside the rollups for the period)
            complete = doc.get('completeness')
            totals_w = want.get(('total', 'all'), [0, 0, 0, 0])
            totals_g = [0, 0, 0, 0]
            for (dim, _), v in got.items():
                if dim == 'port':
                    totals_g = [a + b for a, b in zip(totals_g, v)]
            name = 'all' if sensor == '*' else sensor
            for i, what in enumerate(('records', 'flows', 'packets', 'bytes')):
                ok = totals_w[i] == totals_g[i]
                diffs += not ok
                print('   %-8s %-7s %-12s %13s %13s%s' %
                      (name if i == 0 else '', q if i == 0 else '', what, fmt(totals_w[i]),
                       fmt(totals_g[i]), '' if ok else '   DIFFERENT'))
            if complete is not None:
                ok = complete.get('complete', False)
                diffs += not ok
                print('   %-8s %-7s %-12s %27s%s' % ('', '', 'completeness',
                                                   'complete' if ok else 'NOT complete',
                                                   '' if ok else '   DIFFERENT'))
                for x in complete.get('losses', [])[:args.show]:
                    print('       %s %s %s: %s %s' % (x.get('scope'), x.get('name'), x.get('reason'),
                                                   fmt(x.get('count', 0)), x.get('unit', '')))
            for by in ('port', 'country'):
                keys = sorted({k for (d, k) in want if d == by} | {k for (d, k) in got if d == by})
                bad = [k for k in keys if want.get((by, k), [0] * 4) != got.get((by, k), [0] * 4)]
                diffs += len(bad)
                print('   %-8s %-7s %-12s %13s %13s%s' %
                      ('', '', by + ' keys', fmt(sum(1 for (d, _) in want if d == by)),
                       fmt(sum(1 for (d, _) in got if d == by)),
                       '' if not bad else '   %d keys differ' % len(bad)))
                for k in bad[:args.show]:
                    print('       %-12s sent records/flows/packets/bytes %s, stored %s' %
                          (k, want.get((by, k), [0] * 4), got.get((by, k), [0] * 4)))

    # outages: the days of each quarter a sensor was not heard, as `teiten report` lists them
    db = sqlite3.connect('file:%s?mode=ro' % os.path.join(args.data, 'rollup.sqlite'), uri=True)
    heard = collections.defaultdict(set)
    for day, sensor in db.execute('SELECT day, sensor FROM sensor_day WHERE coverage_min > 0'):
        heard[sensor].add(datetime.date.fromisoformat(day))
    db.close()

    def ranges(days):
        out, start, prev = [], None, None
        for d in sorted(days):
            if start is not None and d == prev + datetime.timedelta(1):
                prev = d
                continue
            if start is not None:
                out.append((start, prev))
            start = prev = d
        if start is not None:
            out.append((start, prev))
        return ', '.join(str(a) if a == b else '%s..%s' % (a, b) for a, b in out) or 'none'

    print('   outages (days of %s in %s with nothing heard):' % ('/'.join(quarters), args.tz))
    for sensor in sensors:
        span = set()
        for q in quarters:
            first, last = quarter_days(q)
            span |= {first + datetime.timedelta(i) for i in range((last - first).days + 1)}
        want, got = span - exp_days[sensor], span - heard[sensor]
        ok = want == got
        diffs += not ok
        print('   %-8s sent: %s' % (sensor, ranges(want)))
        print('   %-8s report: %s%s' % ('', ranges(got), '' if ok else '   DIFFERENT'))

    # the daemon's own counters
    stats = json.load(open(os.path.join(args.data, 'stats.json')))
    by_sensor = {s['sensor']: s for s in stats.get('sensors', [])}
    print('   %-8s %-20s %13s %13s' % ('sensor', 'stats.json', 'sent', 'received'))
    for sensor in sensors:
        s = by_sensor.get(sensor, {})
        for i, what in ((0, 'records'), (2, 'leaks')):
            ok = s.get(what) == sent[sensor][i]
            diffs += not ok
            print('   %-8s %-20s %13s %13s%s' % (sensor if i == 0 else '', what, fmt(sent[sensor][i]),
                                                fmt(s.get(what, 0)), '' if ok else '   DIFFERENT'))
    if args.jsonl or args.rrd:
        lines = load_lines(sorted(glob.glob(os.path.join(args.expect, '*.jsonl'))))
        if args.jsonl:
            diffs += check_jsonl(lines, args.jsonl, args.show)
        if args.rrd:
            diffs += check_rrd(lines, args.rrd, sensors, args.show)
    lost = losses(stats)
    if lost:
        print('   losses counted by teitend (stats.json):')
        for path, v in lost:
            print('     %s = %s' % (path, v if isinstance(v, str) else fmt(v)))
        diffs += len(lost)
    else:
        print('   losses counted by teitend (stats.json): none (kernel drops, sequence gaps, '
              'refused, malformed, late, RRD refused/journaled all 0)')
    if diffs:
        print('demo check: FAILED: %d difference(s) between what was sent and what is stored' % diffs)
        return 1
    print('demo check: every record sent is stored, per sensor, quarter and key')
    return 0


if __name__ == '__main__':
    sys.exit(main())
