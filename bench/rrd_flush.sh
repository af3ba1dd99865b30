#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/rrd_flush.sh - what one step's RRD flush costs at the full port space
# (131 072 port files + ICMP + 250 countries + totals), directly with librrd and
# through rrdcached, and what a UDP stream received during that flush loses.
#
#   bench/rrd_flush.sh [--build DIR] [--dir DIR] [--rate N] [--step-every S] [--keep]
#
# Three teitend runs on one data directory, flowgen --blast at a steady --rate
# (default 300 000 records/s) with uniform ports over every TCP and UDP port and
# 250 countries (bench/udp_geoip.pl), flow time compressed to one 300 s step per
# S wall seconds (default 40; S must exceed the flush, or flushes overlap):
#   1. create: the first step creates every file (timed separately); the clean
#      stop then fills every file to the next UTC midnight;
#   2. direct: two warm steps from that midnight, librrd in teitend's writer
#      (the first step of a run also checks every file: rrd_info on first use);
#      flush = bucket close -> newest file mtime (mtimes spread, last step);
#      every step: close -> stats.json rrd.updates reaching the step (the
#      writer writes stats.json right after the step's jobs);
#   3. rrdcached (unix socket and -b in a temp dir, no journal, -w 3600): two
#      steps; flush = bucket close -> rrdcached's UpdatesReceived (STATS, polled
#      every 50 ms) reaching the step's line count; then FLUSHALL to disk, timed.
# Bucket close = the moment flow time passes the step's end (grace 0): send
# start (flowgen exit - its sending seconds) + k x S. Loss: records sent
# (flowgen's report) - records decoded (stats.json), and the listener's kernel
# drops (/proc/net/udp) inside each flush window vs the whole run.
# Needs root (taskset), rrdcached, ~17 GB in --dir (checked). Deletes the
# files at the end unless --keep. Rejected: stats.json for timing (it is written
# by the writer thread itself, so it stalls exactly during the flush).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=${TT_BUILD:-$src/build} dir= rate=300000 every=40 keep=0
cmd="bench/rrd_flush.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift ;;
    --dir) dir=$2; shift ;;
    --rate) rate=$2; shift ;;
    --step-every) every=$2; shift ;;
    --keep) keep=1 ;;
    *) echo "rrd_flush.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
for f in "$build/collector/teitend" "$build/tools/flowgen" "$build/plugins/port.so"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "rrd_flush.sh: $f missing: build first" >&2; exit 2; }
done
command -v rrdcached >/dev/null || { echo "rrd_flush.sh: rrdcached not installed" >&2; exit 77; }
[ "$(nproc)" -ge 2 ] || { echo "rrd_flush.sh: needs 2 CPUs" >&2; exit 77; }
[ -n "$dir" ] || dir=$(mktemp -d /tmp/teiten-rrdflush.XXXXXX)
mkdir -p "$dir"
avail=$(df -P -k "$dir" | awk 'NR == 2 { print $4 }')
[ "$avail" -ge $((17 * 1024 * 1024)) ] ||
    { echo "rrd_flush.sh: $dir has $((avail / 1024)) MiB free, needs 17 GB" >&2; exit 77; }
cleanup() { [ "$keep" = 1 ] || rm -rf "$dir"; }
trap cleanup EXIT
perl "$here/udp_geoip.pl" "$dir/geo.mmdb" "$dir/countries"
/usr/bin/python3 - "$build" "$dir" "$rate" "$every" "$cmd" <<'EOF'
import json, os, signal, socket, subprocess, sys, time

build, d, rate, every, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
teitend, flowgen = f'{build}/collector/teitend', f'{build}/tools/flowgen'
data, sock = f'{d}/data', f'{d}/rrdcached.sock'
countries = open(f'{d}/countries').read().strip()
T0 = 1546300800  # 2019-01-01T00:00:00Z; each run starts at the midnight the previous stop filled to
STEP = 300
os.makedirs(data, exist_ok=True)

def log(*a):
    print('#', *a, file=sys.stderr, flush=True)

def loadavg():
    return open('/proc/loadavg').read().split()[:3]

def udp_drops(port):
    for fn in ('/proc/net/udp', '/proc/net/udp6'):
        for line in open(fn).readlines()[1:]:
            f = line.split()
            if int(f[1].split(':')[1], 16) == port:
                return int(f[-1])
    return 0

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p

def stats():
    with open(f'{data}/stats.json') as f:
        return json.load(f)

def cached_stats():
    c = socket.socket(socket.AF_UNIX)
    c.connect(sock)
    c.sendall(b'STATS\n')
    buf = b''
    while True:
        buf += c.recv(65536)
        lines = buf.decode().split('\n')
        if lines and lines[0] and len(lines) > int(lines[0].split()[0]) + 1:
            break
    c.close()
    return {l.split(':')[0]: int(l.split(':')[1]) for l in lines[1:int(lines[0].split()[0]) + 1]}

def cached_cmd(line):
    c = socket.socket(socket.AF_UNIX)
    c.connect(sock)
    c.sendall(line.encode() + b'\n')
    r = c.recv(4096)
    c.close()
    return r.decode().strip()

def start_teitend(port, cached):
    conf = f'{d}/teitend.conf'
    with open(conf, 'w') as f:
        f.write(f'[collector]\nlisten = ipfix+udp://127.0.0.1:{port}\ndata-dir = {data}\n'
                f'plugin-dir = {build}/plugins\nrcvbuf = 8M\ngeoip = {d}/geo.mmdb\ngrace = 0\n'
                'writer-lag-warn = 100\n')
        if cached:
            f.write(f'rrdcached = unix:{sock}\n')
        f.write('\n[sensor:s1]\nexporters = 127.0.0.0/8\ndarknet = 203.0.113.0/24\n'
                '\n[plugin:total]\n\n[plugin:port]\n\n[plugin:country]\n')
    lp = f'{d}/teitend-{port}.log'
    p = subprocess.Popen(['taskset', '-c', '1', teitend, '-c', conf, '-f'],
                         stdout=open(lp, 'w'), stderr=subprocess.STDOUT)
    t = time.time()
    while 'receiving' not in open(lp).read():
        if p.poll() is not None or time.time() - t > 60:
            sys.exit('teitend did not start: ' + open(lp).read()[-2000:])
        time.sleep(0.1)
    return p

def rrd_files():
    out = []
    for root, _, files in os.walk(f'{data}/rrd'):
        out += [os.path.join(root, f) for f in files if f.endswith('.rrd') and '/self/' not in root]
    return out

def run(label, start, steps, cached=False, wait_created=0):
    """One teitend run: a stream over STEPS closed steps plus most of the next."""
    port = free_port()
    if os.path.exists(f'{data}/stats.json'):
        os.unlink(f'{data}/stats.json')  # the previous run's counters would read as this one's
    p = start_teitend(port, cached)
    seconds = steps * every + every * 3 // 4
    rep = f'{d}/gen.json'
    load0 = loadavg()
    t_launch = time.time()
    gen = subprocess.Popen(['taskset', '-c', '0', flowgen, '--blast', '--out',
                            f'udp://127.0.0.1:{port}', '--rate', str(rate), '--seconds',
                            str(seconds), '--start', str(start), '--step-every', str(every),
                            '--port-dist', 'uniform', '--geoip', f'{d}/geo.mmdb',
                            '--countries', countries, '--sources', '20', '--report', rep])
    samples = []  # (wall, kernel drops, rrdcached UpdatesReceived, stats.json rrd.updates)
    upd = 0
    while gen.poll() is None:
        got = cached_stats()['UpdatesReceived'] if cached else 0
        try:
            upd = stats()['rrd']['updates']
        except (OSError, ValueError, KeyError):
            pass
        samples.append((time.time(), udp_drops(port), got, upd))
        time.sleep(0.05)
    t_end = time.time()
    sent = json.load(open(rep))
    t_send0 = t_end - sent['seconds']
    closes = [t_send0 + k * every for k in range(1, steps + 1)]
    res = {'label': label, 'rate': rate, 'sent': sent['records'], 'load_start': load0}
    if wait_created:
        # the first close creates every file: wait for the writer (stats.json
        # catches up once the creating job is done)
        t = time.time()
        while True:
            try:
                st = stats()
                if st['rrd']['created'] >= wait_created and st['writer_lag_buckets'] == 0:
                    break
            except (OSError, ValueError, KeyError):
                pass
            if time.time() - t > 1800:
                sys.exit('creation did not finish in 30 min')
            time.sleep(0.5)
        mt = [os.stat(f).st_mtime for f in rrd_files()]
        res['files'] = len(mt)
        res['created_s'] = max(mt) - closes[0]
        res['created'] = st['rrd']['created']
    else:
        # per step: when the writer had stored the step (stats.json is written
        # by the writer right after the step's jobs, so its rrd.updates moves
        # only then; the previous run's file lingers until the first rewrite,
        # hence only samples after the close), and the drops from the close to then
        n = len(rrd_files()) + 1  # + self
        res['steps'] = []
        for k, c in enumerate(closes, 1):
            done = next((t for t, _, _, u in samples if t >= c and u >= k * n * 0.999), None)
            kd = [x for t, x, _, _ in samples if c <= t <= (done or samples[-1][0])]
            res['steps'].append({'stored_s': None if done is None else round(done - c, 2),
                                 'drops': kd[-1] - kd[0] if len(kd) > 1 else 0})
        res['drops_before_first_close'] = next(x for t, x, _, _ in samples if t >= closes[0])
    if not cached and not wait_created:
        time.sleep(2)
        last = closes[-1]
        mt = [m for m in (os.stat(f).st_mtime for f in rrd_files()) if m > last - every / 2]
        res['files'] = len(mt)
        res['flush_first_s'] = min(mt) - last
        res['flush_s'] = max(mt) - last
        res['flush_window'] = (last, max(mt))
    if cached:
        base = samples[0][2]
        n = len(rrd_files()) + 1  # + self
        res['flush_steps_s'] = []
        for k, c in enumerate(closes, 1):
            done = next((t for t, _, u, _ in samples if u - base >= k * n * 0.999), None)
            res['flush_steps_s'].append(None if done is None else done - c)
        res['flush_s'] = res['flush_steps_s'][-1]
        res['flush_window'] = (closes[-1], closes[-1] + (res['flush_s'] or 0))
    res['load_end'] = loadavg()
    if 'flush_window' in res:
        a, b = res['flush_window']
        inside = [kd for t, kd, _, _ in samples if a - 0.05 <= t <= b + 0.05]
        res['drops_in_flush'] = inside[-1] - inside[0] if len(inside) > 1 else 0
    res['kernel_drops'] = udp_drops(port)
    t = time.time()
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=1800)
    res['stop_s'] = time.time() - t
    st = stats()
    res['decoded'] = st['records_in']
    res['lost'] = res['sent'] - res['decoded']
    res['rrd'] = st['rrd']
    log(label, json.dumps({k: v for k, v in res.items() if k != 'rrd'}))
    return res

expected = 131072 + 1 + 250 + 2  # ports + icmp + countries + total + sensor total
out = {'command': cmd, 'rate': rate, 'step_every': every, 'cpu': '', 'nproc': os.cpu_count()}
for line in open('/proc/cpuinfo'):
    if line.startswith('model name'):
        out['cpu'] = line.split(':', 1)[1].strip()
        break
out['mem_gib'] = round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)
out['kernel'] = os.uname().release
runs = [run('create (first step creates every file)', T0, 1, wait_created=131000)]
du = subprocess.run(['du', '-sb', f'{data}/rrd'], capture_output=True, text=True).stdout.split()[0]
out['rrd_bytes'] = int(du)
runs.append(run('direct librrd, warm', T0 + 86400, 2))
cached = subprocess.Popen(['rrdcached', '-g', '-l', f'unix:{sock}', '-b', data, '-B',
                           '-w', '3600', '-z', '1800', '-f', '7200', '-t', '4',
                           '-p', f'{d}/rrdcached.pid'],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t = time.time()
while not os.path.exists(sock):
    if time.time() - t > 10:
        sys.exit('rrdcached did not start')
    time.sleep(0.1)
r = run('rrdcached', T0 + 2 * 86400, 2, cached=True)
t = time.time()
cached_cmd('FLUSHALL')
while True:
    s = cached_stats()
    # UpdatesWritten counts file writes (several values each); DataSetsWritten values
    if s['QueueLength'] == 0 and s['DataSetsWritten'] >= s['UpdatesReceived']:
        break
    if time.time() - t > 1800:
        sys.exit('rrdcached FLUSHALL did not finish in 30 min')
    time.sleep(0.2)
r['writeback_s'] = time.time() - t
r['cached_stats'] = s
runs.append(r)
cached.send_signal(signal.SIGTERM)
cached.wait(timeout=1800)
out['runs'] = runs
print(json.dumps(out, indent=1))
EOF
