#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""udp_bench.py - the UDP benchmark behind bench/run: teitend beside nfacctd, nfcapd
and a bare recvmmsg sink, on the same stream and the same 8 MiB receive buffer.

One run of a contender: start it pinned to CPU 1, wait until it listens, blast
(flowgen --blast, pinned to CPU 0) at a given records/s for a few seconds, let
it drain, read the kernel's drop counter of its socket (/proc/net/udp, the same
for everyone), the CPU time and peak RSS of its whole process tree, stop it,
and count what it stored: teitend's jsonl total lines, nfacctd's print plugin
packets, nfcapd's file (nfdump -I), the sink's own count. A run is loss-free
when the kernel dropped nothing and every record sent was stored (teitend also
reports sequence gaps, which must be 0).

Then: a rate sweep, a bisection to each contender's highest zero-loss rate
(every repeat loss-free), `teitend --read` file ingest, and a step-boundary
soak in compressed stream time (every 300 s step of flow time in a few wall
seconds, full port space active) with direct librrd (cold and warm cache) and
rrdcached, sampling stats.json for a per-second loss timeline and the writer
backlog. Results: Markdown + JSON in bench/results/. Rejected: a harness in
the C build (the contenders are other projects' daemons; Python drives
processes and /proc more clearly), and timing with wall clocks of the
contenders' own logs (each logs differently).
"""
import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

RCVBUF = 8 * 1024 * 1024
GEN_CPU, COL_CPU = '0', '1'
BASE_START = 1546300800  # 2019-01-01: every teitend run gets its own hour after it


def log(*a):
    print('#', *a, file=sys.stderr, flush=True)


# ---- /proc helpers ---------------------------------------------------------

def proc_tree(pid):
    kids = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open(f'/proc/{d}/stat') as f:
                    st = f.read().rsplit(')', 1)[1].split()
                kids.setdefault(int(st[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def tree_cpu(pid):
    tick = os.sysconf('SC_CLK_TCK')
    total = 0.0
    for p in proc_tree(pid):
        try:
            with open(f'/proc/{p}/stat') as f:
                st = f.read().rsplit(')', 1)[1].split()
            total += (int(st[11]) + int(st[12])) / tick
        except OSError:
            pass
    return total


def tree_rss_kb(pid):
    total = 0
    for p in proc_tree(pid):
        try:
            with open(f'/proc/{p}/status') as f:
                for line in f:
                    if line.startswith('VmHWM:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def udp_drops(port):
    drops = 0
    for name in ('/proc/net/udp', '/proc/net/udp6'):
        with open(name) as f:
            next(f)
            for line in f:
                cols = line.split()
                if int(cols[1].split(':')[1], 16) == port:
                    drops += int(cols[-1])
    return drops


def jsonl_total_flows(path):
    """The flows of a jsonl plugin file's total lines: every record it stored."""
    stored = 0
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if o['dim'] == 'total':
                stored += o['flows']
    return stored


def free_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError(f'timeout waiting for {what}')


def stop(proc, sig=signal.SIGTERM, timeout=900):
    if proc.poll() is None:
        proc.send_signal(sig)
    t0 = time.time()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return time.time() - t0


# ---- contenders --------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        self.tmp = tempfile.mkdtemp(prefix='teiten-bench.')
        self.teitend = os.path.join(args.build, 'collector', 'teitend')
        self.flowgen = os.path.join(args.build, 'tools', 'flowgen')
        self.plugin_dir = os.path.join(args.build, 'plugins')
        self.run_no = 0
        self.data = os.path.join(self.tmp, 'teitend-data')
        os.makedirs(self.data)
        self.plugins = [p for p in ('jsonl', 'rollup', 'port', 'country', 'total')
                        if os.path.exists(os.path.join(self.plugin_dir, p + '.so'))]
        if args.mode == 'smoke':
            self.plugins = [p for p in self.plugins if p in ('jsonl', 'total')]
        self.first_creation = None

    # flowgen --blast, pinned; returns its JSON report
    def blast(self, port, rate, seconds, start, extra=()):
        rep = os.path.join(self.tmp, 'blast.json')
        cmd = ['taskset', '-c', GEN_CPU, self.flowgen, '--blast',
               '--out', f'udp://127.0.0.1:{port}', '--rate', str(int(rate)),
               '--seconds', str(seconds), '--start', str(start), '--geoip', self.geo,
               '--countries', self.countries, '--sources', '20', '--report', rep] + list(extra)
        if self.a.format == 'v9':
            cmd += ['--format', 'v9']
        subprocess.run(cmd, check=True)
        with open(rep) as f:
            return json.load(f)

    def teitend_conf(self, port, jsonl, rrdcached=None, plugins=None):
        conf = os.path.join(self.tmp, 'teitend.conf')
        with open(conf, 'w') as f:
            scheme = 'netflow9+udp' if self.a.format == 'v9' else 'ipfix+udp'
            f.write(f'[collector]\nlisten = {scheme}://127.0.0.1:{port}\n'
                    f'data-dir = {self.data}\nplugin-dir = {self.plugin_dir}\n'
                    f'rcvbuf = {RCVBUF}\ngeoip = {self.geo}\ngrace = 0\n')
            if rrdcached:
                f.write(f'rrdcached = unix:{rrdcached}\n')
            f.write('\n[sensor:s1]\nexporters = 127.0.0.0/8\ndarknet = 203.0.113.0/24\n')
            for p in plugins or self.plugins:
                f.write(f'\n[plugin:{p}]\n')
                if p == 'jsonl':
                    f.write(f'path = {jsonl}\n')
        return conf

    def start_teitend(self, port, jsonl, rrdcached=None):
        conf = self.teitend_conf(port, jsonl, rrdcached)
        logf = open(os.path.join(self.tmp, 'teitend.log'), 'w')
        p = subprocess.Popen(['taskset', '-c', COL_CPU, self.teitend, '-c', conf, '-f'],
                             stdout=logf, stderr=subprocess.STDOUT)
        lp = logf.name
        wait_for(lambda: 'receiving' in open(lp).read() or p.poll() is not None, 60,
                 'teitend start')
        if p.poll() is not None:
            raise RuntimeError('teitend exited: ' + open(lp).read())
        return p

    def run(self, who, rate, seconds, extra=()):
        """One run of contender WHO; returns a dict of measures."""
        port = free_port()
        self.run_no += 1
        start = BASE_START + self.run_no * 3600
        d = os.path.join(self.tmp, f'{who}-{self.run_no}')
        os.makedirs(d)
        res = {'who': who, 'rate': rate}
        if who == 'sink':
            out = os.path.join(d, 'sink.json')
            p = subprocess.Popen(['taskset', '-c', COL_CPU, self.sink, str(port), str(RCVBUF),
                                  out], stdout=subprocess.PIPE)
            p.stdout.readline()
        elif who == 'teitend':
            jsonl = os.path.join(d, 'flows.jsonl')
            p = self.start_teitend(port, jsonl)
        elif who == 'nfacctd':
            conf = os.path.join(d, 'nfacctd.conf')
            with open(conf, 'w') as f:
                f.write(f'''daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
nfacctd_pipe_size: {RCVBUF}
nfacctd_time_new: true
geoipv2_file: {self.geo}
plugins: print[port], print[cc]
aggregate[port]: dst_port, proto
aggregate[cc]: src_host_country
print_output[port]: csv
print_output[cc]: csv
print_output_file[port]: {d}/port.csv
print_output_file[cc]: {d}/cc.csv
print_refresh_time: 3600
print_cache_entries: 262139
plugin_pipe_size: 104857600
plugin_buffer_size: 102400
''')
            lf = os.path.join(d, 'nfacctd.log')
            p = subprocess.Popen(['taskset', '-c', COL_CPU, 'nfacctd', '-f', conf],
                                 stdout=open(lf, 'w'), stderr=subprocess.STDOUT)
            wait_for(lambda: 'waiting for' in open(lf).read(), 30, 'nfacctd start')
        elif who == 'nfcapd':
            lf = os.path.join(d, 'nfcapd.log')
            p = subprocess.Popen(['taskset', '-c', COL_CPU, 'nfcapd', '-b', '127.0.0.1', '-p',
                                  str(port), '-w', d, '-B', str(RCVBUF), '-t', '3600'],
                                 stdout=open(lf, 'w'), stderr=subprocess.STDOUT)
            wait_for(lambda: 'Startup' in open(lf).read(), 30, 'nfcapd start')
        time.sleep(0.2)
        cpu0 = tree_cpu(p.pid)
        sent = self.blast(port, rate, seconds, start, extra)
        time.sleep(1.0)  # drain the socket buffer
        res['kernel_drops'] = udp_drops(port)
        res['cpu_s'] = tree_cpu(p.pid) - cpu0
        res['rss_kb'] = tree_rss_kb(p.pid)
        res['stop_s'] = stop(p, signal.SIGINT if who == 'nfacctd' else signal.SIGTERM)
        res['sent'] = sent['records']
        res['achieved'] = sent['rate']
        res['sent_packets'] = sent['packets']
        res['seq_lost'] = 0
        if who == 'sink':
            with open(out) as f:
                s = json.load(f)
            res['stored'] = s['records']
        elif who == 'teitend':
            res['stored'] = jsonl_total_flows(jsonl)
            with open(os.path.join(self.data, 'stats.json')) as f:
                st = json.load(f)
            res['seq_lost'] = sum(e['seq_lost'] for e in st['exporters'])
            res['decoded'] = st['records_in']
            res['journal_replay_s'] = self.drain_journal()
            if self.first_creation is None and 'port' in self.plugins:
                self.first_creation = {'seconds': res['stop_s'], 'rate': rate,
                                       'files': self.count_rrd(),
                                       'journal_replay_s': res['journal_replay_s']}
        elif who == 'nfacctd':
            pk, csv = 0, os.path.join(d, 'port.csv')
            try:
                # the print plugins are child processes that purge after the core exits
                wait_for(lambda: os.path.exists(csv) and
                         'Purging cache - END (PID' in open(os.path.join(d, 'nfacctd.log')).read()
                         .split('Purging cache - START')[-1], 120, 'nfacctd purge')
                with open(csv) as f:
                    next(f)
                    for line in f:
                        pk += int(line.split(',')[2])
            except (RuntimeError, OSError, StopIteration):
                log('nfacctd wrote no port table: counted as all lost')
            # nfacctd's print plugin counts packets, not records: scale by the stream's mean
            res['stored'] = round(pk * res['sent'] / max(1, res['sent_packets']))
            res['stored_packets'] = pk
        elif who == 'nfcapd':
            out = subprocess.run(['nfdump', '-R', d, '-I'], capture_output=True, text=True).stdout
            res['stored'] = next((int(l.split()[1]) for l in out.splitlines()
                                  if l.startswith('Flows:')), 0)
        res['lost'] = res['sent'] - res['stored']
        if who == 'nfacctd':
            res['lost'] = res['sent_packets'] - res['stored_packets']
        res['ok'] = res['kernel_drops'] == 0 and res['lost'] == 0 and res['seq_lost'] == 0
        res['ns_per_record'] = res['cpu_s'] * 1e9 / max(1, res['sent'])
        if not self.a.keep:
            shutil.rmtree(d, ignore_errors=True)
        log(f"{who:8} {rate/1e6:5.2f} M/s sent {res['sent']} stored {res['stored']} "
            f"drops {res['kernel_drops']} -> {'ok' if res['ok'] else 'LOSS'} "
            f"({res['ns_per_record']:.0f} ns/rec, {res['rss_kb']//1024} MiB, stop {res['stop_s']:.1f}s)")
        return res

    def drain_journal(self):
        """A stop that meets stop-timeout journals what it could not write (a dense first
        run: the creation of most of 131,072 port files) and the next start replays it
        behind reception (DESIGN section 3). Left there, that work would be charged to the
        next run's CPU per record, where a build without stop-timeout did it during its
        own stop, outside every measure. So it is done here, apart, like first_creation:
        teitend started idle until it logs that the journal is replayed, then stopped.
        Returns the seconds from its start, or None when nothing was journaled."""
        if not os.path.exists(os.path.join(self.data, 'rrd', '.journal')):
            return None
        t0 = time.time()
        p = self.start_teitend(free_port(), os.path.join(self.tmp, 'drain.jsonl'))
        lp = os.path.join(self.tmp, 'teitend.log')
        # builds before 1af98fa replayed it before "receiving", without saying "on the
        # writer thread"; later ones say so at the start and "the journal is replayed" at the end
        def replayed():
            text = open(lp).read()
            return ('the journal is replayed' in text or 'on the writer thread' not in text or
                    p.poll() is not None)
        wait_for(replayed, 1800, 'journal replay')
        took = time.time() - t0
        stop(p)
        log(f'journal left by the stop replayed in {took:.1f} s')
        return took

    def count_rrd(self):
        n = 0
        for _, _, files in os.walk(self.data):
            n += sum(1 for f in files if f.endswith('.rrd'))
        return n

    # ---- sweep and bisection ---------------------------------------------------

    def sweep_and_bisect(self, who, rates, seconds, steps, repeats):
        runs, best, worst = [], None, None
        for r in rates:
            res = self.run(who, r, seconds)
            runs.append(res)
            if res['ok']:
                best = res['achieved']
            else:
                worst = res['achieved']
                break
        lo, hi = best or 0, worst
        if hi is not None:
            for _ in range(steps):
                mid = (lo + hi) / 2 if lo else hi / 2
                if hi - mid < 0.02 * hi:
                    break
                ok = True
                for _ in range(repeats):
                    res = self.run(who, mid, seconds)
                    runs.append(res)
                    if not res['ok']:
                        ok = False
                        break
                if ok:
                    lo = min(r['achieved'] for r in runs[-repeats:])
                else:
                    hi = mid
        return {'runs': runs, 'zero_loss': lo, 'first_loss': hi}

    # ---- rrdcached ----------------------------------------------------------------

    def start_rrdcached(self):
        """rrdcached on the generator's CPU (the collector's core is teitend's alone),
        journal-less, writing back lazily: what bench/rrd_flush.sh measures too."""
        sock = os.path.join(self.tmp, 'rrdcached.sock')
        if os.path.exists(sock):
            os.unlink(sock)
        cached = subprocess.Popen(['taskset', '-c', GEN_CPU, 'rrdcached', '-g', '-l',
                                   f'unix:{sock}', '-b', self.data, '-B', '-w', '3600', '-z',
                                   '1800', '-f', '7200', '-t', '4',
                                   '-p', os.path.join(self.tmp, 'rrdcached.pid')],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(sock), 10, 'rrdcached')
        return cached, sock

    # ---- --read ingest -----------------------------------------------------------

    def read_ingest(self, flows):
        """`teitend --read` of one step of flow time (so one flush of every key is part of
        the run) into the data directory the sweep filled (its RRD files exist: creation is
        measured apart, see first_creation), through rrdcached; then the same file with the
        jsonl plugin alone into an empty directory. Wall rate and teitend's own CPU time."""
        self.run_no += 1
        start = BASE_START + self.run_no * 3600
        f = os.path.join(self.tmp, 'ingest.ipfix')
        subprocess.run([self.flowgen, '--flows', str(flows), '--out', f'file:{f}', '--geoip',
                        self.geo, '--countries', self.countries, '--sources', '20',
                        '--start', str(start), '--duration', '300'], check=True)
        out = {}
        for label, plugins in (('every plugin, rrdcached', self.plugins),
                               ('jsonl only', ['jsonl'])):
            saved = self.data
            cached, sock = None, None
            if plugins is self.plugins:
                cached, sock = self.start_rrdcached()
            else:
                self.data = os.path.join(self.tmp, 'read-jsonl')
                os.makedirs(self.data)
            conf = self.teitend_conf(free_port(), os.path.join(self.data, 'r.jsonl'), sock,
                                     plugins=plugins)
            before = os.times()
            t0 = time.time()
            p = subprocess.run(['taskset', '-c', COL_CPU, self.teitend, '-c', conf, '--read', f],
                               capture_output=True, text=True)
            wall = time.time() - t0
            after = os.times()
            cpu = (after.children_user - before.children_user +
                   after.children_system - before.children_system)
            if cached:
                stop(cached)
            if self.data != saved:
                shutil.rmtree(self.data, ignore_errors=True)
            self.data = saved
            if p.returncode != 0:
                raise RuntimeError('teitend --read failed: ' + p.stderr[-2000:])
            out[label] = {'records': flows, 'seconds': wall, 'rate': flows / wall,
                          'cpu_ns': cpu * 1e9 / flows}
            log(f'--read {label}: {flows / wall / 1e6:.2f} M records/s ({wall:.1f} s, '
                f'{cpu * 1e9 / flows:.0f} ns CPU/record)')
        os.unlink(f)
        return out

    # ---- step-boundary soak --------------------------------------------------------

    def soak(self, label, rate, steps, step_every, rrdcached=False, cold=False):
        port = free_port()
        self.run_no += 1
        start = BASE_START + self.run_no * 3600
        cached, sock = None, None
        if rrdcached:
            cached, sock = self.start_rrdcached()
        if cold:
            subprocess.run(['sync'])
            try:
                with open('/proc/sys/vm/drop_caches', 'w') as f:
                    f.write('3\n')
            except OSError:
                label += ' (page cache could not be dropped)'
        jsonl = os.path.join(self.tmp, f'soak-{self.run_no}.jsonl')
        p = self.start_teitend(port, jsonl, sock)
        seconds = steps * step_every + 1
        gen = subprocess.Popen(
            ['taskset', '-c', GEN_CPU, self.flowgen, '--blast', '--out', f'udp://127.0.0.1:{port}',
             '--rate', str(int(rate)), '--seconds', str(seconds), '--start', str(start),
             '--step-every', str(step_every), '--geoip', self.geo, '--countries', self.countries,
             '--sources', '20', '--report', os.path.join(self.tmp, 'soak.json')])
        timeline, t0 = [], time.time()
        stats = os.path.join(self.data, 'stats.json')
        while gen.poll() is None or time.time() - t0 < seconds + 2:
            time.sleep(0.25)
            try:
                with open(stats) as f:
                    st = json.load(f)
            except (OSError, ValueError):
                continue
            timeline.append((time.time() - t0, st['records_in'],
                             sum(x['kernel_drops'] for x in st['listeners']),
                             st.get('writer_pending', 0)))
            if time.time() - t0 > seconds + 30:
                break
        gen.wait()
        drops = udp_drops(port)
        rss = tree_rss_kb(p.pid)
        stop_s = stop(p)
        if cached:
            stop(cached)
        with open(os.path.join(self.tmp, 'soak.json')) as f:
            sent = json.load(f)
        stored = jsonl_total_flows(jsonl)
        # per wall second: records received, kernel drops, writer backlog (max)
        per_s = {}
        for t, rec, kd, wp in timeline:
            s = int(t)
            e = per_s.setdefault(s, [rec, kd, 0])
            e[0], e[1], e[2] = rec, kd, max(e[2], wp)
        rows, last = [], (0, 0)
        for s in sorted(per_s):
            rec, kd, wp = per_s[s]
            rows.append((s, rec - last[0], kd - last[1], wp))
            last = (rec, kd)
        # flush time: the longest stretch the writer had work queued
        longest, run_start = 0.0, None
        for t, _, _, wp in timeline:
            if wp and run_start is None:
                run_start = t
            if not wp and run_start is not None:
                longest = max(longest, t - run_start)
                run_start = None
        if run_start is not None:  # still behind when the soak ended: the stop drains it
            longest = max(longest, timeline[-1][0] - run_start)
        res = {'label': label, 'rate': rate, 'steps': sent['buckets'], 'sent': sent['records'],
               'stored': stored, 'kernel_drops': drops, 'lost': sent['records'] - stored,
               'longest_flush_s': longest, 'stop_s': stop_s, 'rss_kb': rss, 'timeline': rows,
               'rrd_files': self.count_rrd()}
        log(f"soak {label}: sent {res['sent']} stored {stored} drops {drops} "
            f"longest flush {longest:.1f}s over {res['steps']} steps")
        return res


# ---- report ------------------------------------------------------------------

def machine():
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo')
                if l.startswith('model name')), '?')
    mem = next((int(l.split()[1]) // 1024 // 1024 for l in open('/proc/meminfo')
                if l.startswith('MemTotal')), 0)

    def ver(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return 'absent'
    return {'cpu': cpu, 'cores': os.cpu_count(), 'mem_gib': mem, 'kernel': platform.release(),
            'nfacctd': ver(['nfacctd', '-V']), 'nfcapd': ver(['nfcapd', '-V'])}


def md(results):
    m = results['machine']
    L = [f"# UDP benchmark ({results['mode']})", '',
         f"Run {results['when']} on {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB, "
         f"Linux {m['kernel']}; nfacctd: {m['nfacctd']}; nfcapd: {m['nfcapd']}.",
         f"Collector pinned to CPU {COL_CPU}, generator to CPU {GEN_CPU}; receive buffer "
         f"{RCVBUF // 1048576} MiB for every contender; {results.get('format', 'IPFIX')}/IPv4, {results['rec_bytes']}-byte "
         f"records, {results['per_msg']} per datagram; uniform ports, 250 countries. "
         f"teitend plugins: {', '.join(results['plugins'])}, GeoIP on.",
         f"Command: `{results['command']}` at commit {results.get('commit', '?')}.", '']
    if results.get('note'):
        L += [f"Note: {results['note']}.", '']
    sw = results['sweep']
    L += ['## Highest zero-loss rate', '',
          '| contender | zero-loss records/s | first lossy rate | CPU ns/record | peak RSS MiB |',
          '|---|---:|---:|---:|---:|']
    for who, r in sw.items():
        okruns = [x for x in r['runs'] if x['ok']] or r['runs']
        ns = min(x['ns_per_record'] for x in okruns)
        rss = max(x['rss_kb'] for x in r['runs']) / 1024
        fl = f"{r['first_loss'] / 1e6:.2f} M" if r['first_loss'] else 'none (generator limit)'
        L.append(f"| {who} | {r['zero_loss'] / 1e6:.2f} M | {fl} | {ns:.0f} | {rss:.0f} |")
    L.append('')
    t = sw.get('teitend', {}).get('zero_loss', 0)
    for other in ('nfacctd', 'nfcapd', 'sink'):
        if other in sw and sw[other]['zero_loss']:
            L.append(f"- teitend / {other}: **{t / sw[other]['zero_loss']:.2f} ×**")
    L += ['', f"Generator ceiling (unpaced, same datagrams): {results['gen_ceiling'] / 1e6:.2f} M "
          'records/s. A contender with no lossy rate held everything the generator could send.',
          '', '## Every run', '',
          '| contender | asked/s | sent/s | sent | stored | kernel drops (datagrams) | seq lost | ns/record | RSS MiB | ok |',
          '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|']
    for who, r in sw.items():
        for x in r['runs']:
            L.append(f"| {who} | {x['rate']:.0f} | {x['achieved']:.0f} | {x['sent']} | "
                     f"{x['stored']} | {x['kernel_drops']} | {x['seq_lost']} | "
                     f"{x['ns_per_record']:.0f} | {x['rss_kb'] / 1024:.0f} | "
                     f"{'yes' if x['ok'] else 'LOSS'} |")
    if results.get('read'):
        L += ['', '## `teitend --read` file ingest (one core)', '',
              'One 300 s step of flow time, read into the sweep\'s data directory (every RRD '
              'file exists) through rrdcached, then with jsonl alone into an empty one. CPU is '
              'teitend\'s own (every thread), wall includes the final flush.', '',
              '| plugins | records | wall s | records/s | CPU ns/record |',
              '|---|---:|---:|---:|---:|']
        for k, v in results['read'].items():
            L.append(f"| {k} | {v['records']} | {v['seconds']:.2f} | {v['rate'] / 1e6:.2f} M | "
                     f"{v.get('cpu_ns', 0):.0f} |")
    fc = results.get('first_creation')
    if fc:
        L += ['', f"First run, port plugin with direct librrd: creating {fc['files']} RRD files "
              f"took {fc['seconds']:.0f} s at shutdown" +
              (f", and {fc['journal_replay_s']:.0f} s at the next start for the creations "
               "journaled at stop-timeout (replayed apart, before the next run)."
               if fc.get('journal_replay_s') else ".")]
    if results.get('soak'):
        L += ['', '## Step-boundary soak (compressed stream time)', '',
              '| setup | rate/s | steps | sent | stored | kernel drops (datagrams) | longest writer backlog s | stop s | RRD files | disk |',
              '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|']
        for s in results['soak']:
            L.append(f"| {s['label']} | {s['rate']:.0f} | {s['steps']} | {s['sent']} | "
                     f"{s['stored']} | {s['kernel_drops']} | {s['longest_flush_s']:.1f} | "
                     f"{s['stop_s']:.1f} | {s['rrd_files']} | {results.get('disk', '?')} |")
        for s in results['soak']:
            L += ['', f"Timeline, {s['label']} (per wall second: records received, kernel "
                  'drops, writer backlog):', '', '| s | records | drops | backlog |',
                  '|---:|---:|---:|---:|']
            for row in s['timeline']:
                L.append(f'| {row[0]} | {row[1]} | {row[2]} | {row[3]} |')
    return '\n'.join(L) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', required=True)
    ap.add_argument('--src', required=True)
    ap.add_argument('--mode', choices=('full', 'quick', 'smoke'), default='full')
    ap.add_argument('--out', required=True)
    ap.add_argument('--only', default='', help='comma-separated contenders')
    ap.add_argument('--keep', action='store_true')
    ap.add_argument('--sweep-only', action='store_true',
                    help='the rate sweep and bisection only: no --read ingest, no soak '
                         '(bench/compare runs it for two builds in turn)')
    ap.add_argument('--no-soak', action='store_true',
                    help='the sweep and the --read ingest, no soak (bench/compare --read)')
    ap.add_argument('--read-only', action='store_true',
                    help='one dense run at 1 M/s to create the data directory\'s files, then '
                         'the --read ingest: no sweep, no soak (bench/compare --read-only)')
    ap.add_argument('--format', choices=('ipfix', 'v9'), default='ipfix',
                    help='what flowgen --blast sends (the --read ingest is IPFIX files either way)')
    ap.add_argument('--command', default='bench/run')
    a = ap.parse_args()
    b = Bench(a)
    rmem = open('/proc/sys/net/core/rmem_max').read().strip()
    try:
        if int(rmem) < RCVBUF:
            # nfcapd and nfacctd ask with SO_RCVBUF, which rmem_max caps
            open('/proc/sys/net/core/rmem_max', 'w').write(str(RCVBUF))
    except OSError:
        log('cannot raise net.core.rmem_max: nfcapd/nfacctd may get a smaller buffer')
    try:
        b.sink = os.path.join(b.tmp, 'udp_sink')
        subprocess.run(['cc', '-O2', '-o', b.sink, os.path.join(a.src, 'bench', 'udp_sink.c')],
                       check=True)
        b.geo = os.path.join(b.tmp, 'geo.mmdb')
        cl = os.path.join(b.tmp, 'countries')
        subprocess.run(['perl', os.path.join(a.src, 'bench', 'udp_geoip.pl'), b.geo, cl],
                       check=True)
        b.countries = open(cl).read().strip()
        cfg = {'full': dict(seconds=5, rates=[1e5, 3e5, 1e6, 2e6, 2.5e6, 4e6, 8e6], steps=4,
                            repeats=3, read=4000000, soak_steps=6, step_every=5, soak_rate=1e6),
               'quick': dict(seconds=2, rates=[1e5, 1e6, 2.5e6, 8e6], steps=2, repeats=1,
                             read=1000000, soak_steps=5, step_every=3, soak_rate=5e5),
               'smoke': dict(seconds=1, rates=[1e5], steps=0, repeats=1, read=0, soak_steps=0,
                             step_every=1, soak_rate=0)}[a.mode]
        who = ['sink', 'teitend', 'nfacctd', 'nfcapd']
        if a.mode == 'smoke':
            who = ['sink', 'teitend']
        if a.only:
            who = [w for w in who if w in a.only.split(',')]
        who = [w for w in who if w in ('sink', 'teitend') or shutil.which(w)]
        # the generator's own ceiling, into the sink
        ceiling = 0
        if a.mode != 'smoke':
            ceiling = b.run('sink', 0, cfg['seconds'])['achieved']
        results = {'mode': a.mode, 'when': time.strftime('%Y-%m-%d %H:%M:%S %Z'),
                   'machine': machine(), 'plugins': b.plugins,
                   'rec_bytes': 41 if a.format == 'v9' else 52, 'per_msg': 26,
                   'format': 'NetFlow v9' if a.format == 'v9' else 'IPFIX',
                   'command': a.command, 'gen_ceiling': ceiling, 'sweep': {},
                   'commit': subprocess.run(['git', '-C', a.src, 'rev-parse', '--short', 'HEAD'],
                                            capture_output=True, text=True).stdout.strip()}
        if a.read_only:
            who = [w for w in who if w == 'teitend']
            cfg.update(rates=[1e6], seconds=3, steps=0, soak_steps=0)
        for w in who:
            results['sweep'][w] = b.sweep_and_bisect(w, cfg['rates'], cfg['seconds'],
                                                     cfg['steps'], cfg['repeats'])
        results['first_creation'] = b.first_creation
        if a.sweep_only:
            cfg['read'] = cfg['soak_steps'] = 0
        if a.no_soak:
            cfg['soak_steps'] = 0
        if cfg['read'] and 'teitend' in who:
            results['read'] = b.read_ingest(cfg['read'])
        if cfg['soak_steps'] and 'teitend' in who:
            # half of teitend's zero-loss rate: a loss in the soak is then the flush's doing
            zl = results['sweep']['teitend']['zero_loss']
            if zl:
                cfg['soak_rate'] = min(cfg['soak_rate'], round(zl / 2, -4))
            results['soak'] = [
                b.soak('direct librrd, cold cache', cfg['soak_rate'], cfg['soak_steps'],
                       cfg['step_every'], cold=True),
                b.soak('direct librrd, warm cache', cfg['soak_rate'], cfg['soak_steps'],
                       cfg['step_every']),
                b.soak('rrdcached', cfg['soak_rate'], cfg['soak_steps'], cfg['step_every'],
                       rrdcached=True)]
            results['disk'] = subprocess.run(['du', '-sh', b.data], capture_output=True,
                                             text=True).stdout.split()[0]
        os.makedirs(a.out, exist_ok=True)
        stamp = time.strftime('%Y%m%d-%H%M%S')
        text = md(results)
        kind = a.mode if a.format == 'ipfix' else f'{a.mode}-v9'
        for name in (f'udp-{kind}-{stamp}.md', f'udp-{kind}-latest.md'):
            with open(os.path.join(a.out, name), 'w') as f:
                f.write(text)
        with open(os.path.join(a.out, f'udp-{kind}-latest.json'), 'w') as f:
            json.dump(results, f, indent=1)
        print(text)
        if a.mode == 'smoke':
            # the smoke run proves the harness: every contender stored what was sent
            bad = [w for w, r in results['sweep'].items() if not r['runs'][0]['ok']]
            if bad:
                log('smoke: loss at 100 k/s for ' + ', '.join(bad))
                return 1
        return 0
    finally:
        try:
            if int(rmem) < RCVBUF:
                open('/proc/sys/net/core/rmem_max', 'w').write(rmem)
        except OSError:
            pass
        if not a.keep:
            shutil.rmtree(b.tmp, ignore_errors=True)
        else:
            log('kept', b.tmp)


if __name__ == '__main__':
    sys.exit(main())
