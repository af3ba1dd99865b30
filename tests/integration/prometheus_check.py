#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Check teitend's Prometheus file against the stats.json written with it.

usage: prometheus_check.py STATS_JSON PROM_FILE VERSION [--final]

The file is parsed with the Prometheus Python client's parser
(prometheus_client.parser, Debian's python3-prometheus-client), and read line by
line for what that parser forgives: each family's HELP and TYPE before its
samples, its samples together, counters ending in _total, no sample twice.
With --final (both files written at the stop, from one document) every sample
must equal the stats.json value it stands for, by this script's own table of
names (written from docs/operations.md, not from collector/prom.c), and every
number of stats.json that an operator would alert on must have its sample.
"""
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

stats_path, prom_path, version = sys.argv[1:4]
final = '--final' in sys.argv[4:]
text = open(prom_path, encoding='utf-8').read()
assert text.endswith('\n'), 'the file does not end with a newline'

# ---- the text format, line by line -------------------------------------------------
NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*$')
helped, typed, done, seen = {}, {}, set(), set()
current = None
for n, line in enumerate(text.splitlines(), 1):
    if line.startswith('# HELP '):
        name = line.split(' ', 3)[2]
        assert NAME.match(name) and name not in helped, (n, line)
        helped[name] = n
        continue
    if line.startswith('# TYPE '):
        _, _, name, kind = line.split(' ')
        assert helped.get(name) == n - 1, ('TYPE not right after HELP', n, line)
        assert kind in ('counter', 'gauge'), (n, line)
        if kind == 'counter':
            assert name.endswith('_total'), ('a counter not named *_total', name)
        typed[name] = kind
        if current is not None:
            done.add(current)
        current = name
        continue
    assert line and not line.startswith('#'), (n, line)
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', line)
    assert m, ('not a sample line', n, line)
    assert m.group(1) == current and m.group(1) not in done, ('sample out of its family', n, line)
    assert (m.group(1), m.group(2)) not in seen, ('sample twice', n, line)
    seen.add((m.group(1), m.group(2)))
    float(m.group(3))

# ---- the real parser ----------------------------------------------------------------
samples = {}
for fam in text_string_to_metric_families(text):
    assert fam.documentation, fam.name
    for s in fam.samples:
        key = (s.name, tuple(sorted(s.labels.items())))
        assert key not in samples, key
        samples[key] = s.value
assert len(samples) == len(seen), (len(samples), len(seen))


def get(metric, /, **labels):
    return samples.get((metric, tuple(sorted(labels.items()))))


assert get('teiten_build_info', version=version) == 1, 'no teiten_build_info{version=...} 1'
start = get('teiten_start_time_seconds')
assert start is not None and start > 1.5e9, start

s = json.load(open(stats_path))
assert s['time'] >= start, (s['time'], start)
if not final:
    print(f'prometheus_check: {len(samples)} samples, {len(typed)} families parse')
    sys.exit(0)

# ---- every value equals stats.json's ----------------------------------------------
expected = {}


def want(metric, value, /, **labels):
    if isinstance(value, bool):
        value = int(value)
    key = (metric, tuple(sorted(labels.items())))
    assert key not in expected, key
    expected[key] = value


want('teiten_build_info', 1, version=version)
want('teiten_start_time_seconds', start)
TOP = {'time': 'teiten_stats_time_seconds', 'records_in': 'teiten_records_in_total',
       'exporters_alive': 'teiten_exporters_alive',
       'exporter_evictions': 'teiten_exporter_evictions_total',
       'writer_pending': 'teiten_writer_pending_jobs',
       'writer_pending_bytes': 'teiten_writer_pending_bytes',
       'writer_backlog': 'teiten_writer_backlog_limit_bytes',
       'writer_peak_jobs': 'teiten_writer_peak_jobs',
       'writer_peak_bytes': 'teiten_writer_peak_bytes',
       'writer_stalls': 'teiten_writer_stalls_total',
       'writer_stalled_s': 'teiten_writer_stalled_seconds_total',
       'writer_refused_jobs': 'teiten_writer_refused_jobs_total',
       'writer_refused_bytes': 'teiten_writer_refused_bytes_total',
       'writer_lost_jobs': 'teiten_writer_lost_jobs_total',
       'writer_lost_bytes': 'teiten_writer_lost_bytes_total',
       'store_failures': 'teiten_store_failures_total',
       'writer_lag_buckets': 'teiten_writer_lag_steps',
       'writer_lag_max': 'teiten_writer_lag_max_steps',
       'writer_lag_warnings': 'teiten_writer_lag_warnings_total',
       'writer_lag_warn': 'teiten_writer_lag_warn_steps',
       'self_steps': 'teiten_self_steps_total'}
RRD = {'updates': 'teiten_rrd_updates_total', 'skipped_past': 'teiten_rrd_skipped_past_total',
       'refused': 'teiten_rrd_refused_total', 'created': 'teiten_rrd_created_total',
       'unknown_gaps': 'teiten_rrd_unknown_gaps_total', 'pending_lines': 'teiten_rrd_pending_lines',
       'daemon_errors': 'teiten_rrd_daemon_errors_total',
       'reconnects': 'teiten_rrd_reconnects_total',
       'journal_replayed': 'teiten_rrd_journal_replayed_lines',
       'journaled': 'teiten_rrd_journaled_lines', 'set_aside': 'teiten_rrd_set_aside_total',
       'saturated': 'teiten_rrd_saturated_total', 'indexed': 'teiten_rrd_indexed', 'unasked': 'teiten_rrd_unasked'}
LISTENER = {'datagrams': 'datagrams_total', 'bytes': 'received_bytes_total',
            'noise': 'noise_total', 'exporter_cap': 'exporter_cap_total',
            'connections': 'connections_total', 'stream_errors': 'stream_errors_total',
            'streams_cut': 'streams_cut_total', 'unread_at_stop': 'unread_at_stop_total',
            'tcp_open': 'tcp_open_connections', 'tcp_refused': 'tcp_refused_total',
            'tcp_idle_closed': 'tcp_idle_closed_total'}
SENSOR = {'records': 'teiten_records_total', 'observed': 'teiten_observed_flows_total',
          'leaks': 'teiten_leaked_flows_total', 'late': 'teiten_late_flows_total',
          'packets': 'teiten_packets_total', 'raw_packets': 'teiten_raw_packets_total',
          'max_lag_s': 'teiten_sensor_max_lag_seconds',
          'too_old': 'teiten_sensor_too_old_records_total',
          'unconfirmed': 'teiten_sensor_unconfirmed_records_total',
          'held': 'teiten_sensor_held_records', 'clock_jumps': 'teiten_sensor_clock_jumps_total',
          'clock_reanchored': 'teiten_sensor_clock_reanchored_total',
          'saturated': 'teiten_sensor_saturated_records_total',
          'watermark': 'teiten_sensor_watermark_seconds',
          'closed_until': 'teiten_sensor_closed_until_seconds', 'silent': 'teiten_sensor_silent'}
EXPORTER_GAUGES = {'sampling': 'sampling_rate', 'last_seen': 'last_seen_seconds',
                   'clock_offset_s': 'clock_offset_seconds'}
EXPORTER = {'messages': 'messages_total', 'records': 'records_total',
            'options_records': 'options_records_total', 'templates': 'templates_total',
            'unknown_template_sets': 'unknown_template_sets_total',
            'seq_lost': 'sequence_lost_total', 'future_records': 'future_records_total',
            'withdrawals_ignored': 'withdrawals_ignored_total',
            'clock_ahead': 'clock_ahead_total', 'time_clamped': 'time_clamped_total',
            'time_impossible': 'impossible_time_records_total',
            'value_range': 'value_range_records_total',
            'absurd_counts': 'absurd_count_records_total'}
EXPORTER_BY_REASON = {'templates_refused': 'templates_refused_total',
                      'dropped': 'dropped_messages_total', 'malformed': 'malformed_total'}
# what stats.json has and the file leaves out, each with its reason
LEFT_OUT = {('exporters', 'first_seen'): 'a session fact, not a health signal'}

for k, name in TOP.items():
    want(name, s[k])
for k, name in RRD.items():
    want(name, s['rrd'][k])
if s['geoip'] is not None:
    want('teiten_geoip_build_time_seconds', s['geoip']['build_epoch'], type=s['geoip']['type'])
for l in s['listeners']:
    want('teiten_kernel_drops_total', l['kernel_drops'], listener=l['listen'])
    for k, name in LISTENER.items():
        want('teiten_listener_' + name, l[k], listener=l['listen'])
for x in s['sensors']:
    for k, name in SENSOR.items():
        if k in x:
            want(name, x[k], sensor=x['sensor'])
sums = {}
for e in s['exporters'] + [s['retired_exporters']]:
    for k in EXPORTER:
        sums[k] = sums.get(k, 0) + e[k]
    for k in EXPORTER_BY_REASON:
        for r, v in e[k].items():
            sums[(k, r)] = sums.get((k, r), 0) + v
for e in s['exporters']:
    who = {'exporter': e['exporter'], 'transport': e['transport']}
    for k, name in EXPORTER_GAUGES.items():
        if k in e:
            want('teiten_exporter_' + name, e[k], **who)
    for k, name in EXPORTER.items():
        want('teiten_exporter_' + name, e[k], **who)
    for k, name in EXPORTER_BY_REASON.items():
        for r, v in e[k].items():
            want('teiten_exporter_' + name, v, reason=r, **who)
for k, name in EXPORTER.items():
    want('teiten_exporters_' + name, sums[k])
for k, name in EXPORTER_BY_REASON.items():
    for r in s['retired_exporters'][k]:
        want('teiten_exporters_' + name, sums[(k, r)], reason=r)
for l in s['losses']:
    want('teiten_loss_total', l['count'], scope=l['scope'], name=l['name'], reason=l['reason'],
         unit=l['unit'])

# every number of stats.json is in the table above (a new stats.json field needs its sample)
covered = {('top', k) for k in TOP} | {('rrd', k) for k in RRD} | \
    {('listeners', k) for k in LISTENER} | {('listeners', 'kernel_drops'), ('listeners', 'listen')} | \
    {('sensors', k) for k in SENSOR} | {('sensors', 'sensor')} | \
    {('exporters', k) for k in list(EXPORTER) + list(EXPORTER_GAUGES) + list(EXPORTER_BY_REASON)} | \
    {('exporters', 'exporter'), ('exporters', 'transport'), ('top', 'geoip')} | set(LEFT_OUT)
fields = {('top', k) for k, v in s.items() if not isinstance(v, (dict, list))} | \
    {('rrd', k) for k in s['rrd']} | \
    {(a, k) for a in ('listeners', 'sensors', 'exporters') for x in s[a] for k in x}
missing = fields - covered
assert not missing, f'stats.json fields with no sample: {sorted(missing)}'

bad = []
for key, value in expected.items():
    got = samples.get(key)
    if got is None or abs(got - float(value)) > 1e-9 * max(1.0, abs(float(value))):
        bad.append((key, value, got))
extra = sorted(set(samples) - set(expected))
assert not bad, f'samples that differ from stats.json (key, stats.json, file): {bad[:10]}'
assert not extra, f'samples stats.json does not explain: {extra[:10]}'
print(f'prometheus_check: {len(samples)} samples in {len(typed)} families equal stats.json')
