#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""IPFIX/TCP connection limits against a running teitend (tcp_limits.sh).

  tcp_limits.py --port P --data DIR --open N --extra M [--idle S]

Opens N connections, each sending a template and 5 records; then M more, which the
daemon must accept and close at once (tcp_refused == M); the N first must keep
working (3 more records each). With --idle S: connection 0 keeps sending for S + 3
seconds while the others stay silent; the silent ones must be closed
(tcp_idle_closed == N - 1) and connection 0 must still be open and counted.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402

T0 = 1546300800
SCALE = int(os.environ.get("TT_TIME_SCALE", "1"))  # the sanitizer run's slower binaries


def stats(data):
    try:
        with open(os.path.join(data, "stats.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def wait(data, what, pred, timeout=20):
    end = time.time() + timeout * SCALE
    s = None
    while time.time() < end:
        s = stats(data)
        if s is not None:
            try:
                if pred(s):
                    return s
            except (KeyError, IndexError):
                pass
        time.sleep(0.1)
    sys.exit("FAIL: %s; stats: listeners %s sensors %s" % (
        what, s and s.get("listeners"), s and s.get("sensors")))


def tcp(s):
    return [x for x in s["listeners"] if x["listen"].startswith("ipfix+tcp")][0]


def records(s):
    return sum(x["records"] for x in s["sensors"])


def closed_by_peer(sock):
    sock.settimeout(5 * SCALE)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--open", type=int, required=True)
    ap.add_argument("--extra", type=int, required=True)
    ap.add_argument("--idle", type=int, default=0)
    a = ap.parse_args()
    seq = {}

    def send(i, sock, actions):
        for m in faults.messages(actions, T0 + 60, seq.get(i, 0)):
            sock.sendall(m)
        seq[i] = seq.get(i, 0) + sum(int(x.split(":")[3]) for x in actions
                                     if x.startswith("data:"))

    ok = []
    for i in range(a.open):
        s = socket.create_connection(("127.0.0.1", a.port))
        send(i, s, ["tmpl:256:a", "data:256:a:5:%d:23" % (T0 + i)])
        ok.append(s)
    want = 5 * a.open
    wait(a.data, "%d records from %d connections" % (want, a.open),
         lambda s: records(s) == want and tcp(s)["tcp_open"] == a.open)
    extra = [socket.create_connection(("127.0.0.1", a.port)) for _ in range(a.extra)]
    for j, s in enumerate(extra):
        if not closed_by_peer(s):
            sys.exit("FAIL: connection %d past the cap was not closed" % (a.open + j + 1))
    wait(a.data, "tcp_refused == %d" % a.extra,
         lambda s: tcp(s)["tcp_refused"] == a.extra and tcp(s)["tcp_open"] == a.open)
    for i, s in enumerate(ok):
        send(i, s, ["data:256:a:3:%d:80" % (T0 + 10 + i)])
    want += 3 * a.open
    wait(a.data, "the %d first connections kept working (%d records)" % (a.open, want),
         lambda s: records(s) == want)
    print("# %d connections open and counted, %d past the cap closed and counted as tcp_refused"
          % (a.open, a.extra), file=sys.stderr)
    if a.idle <= 0:
        return
    # connection 0 keeps sending, the others stay silent (a thread: stats.json is written
    # every few seconds, and waiting for it must not make connection 0 silent too)
    stop = threading.Event()
    sent = [0]

    def busy():
        while not stop.is_set():
            send(0, ok[0], ["data:256:a:1:%d:443" % (T0 + 20)])
            sent[0] += 1
            stop.wait(0.5)

    t = threading.Thread(target=busy)
    t.start()
    try:
        wait(a.data, "the %d silent connections closed after %d s" % (a.open - 1, a.idle),
             lambda s: tcp(s)["tcp_idle_closed"] == a.open - 1 and tcp(s)["tcp_open"] == 1,
             timeout=a.idle + 30)
    finally:
        stop.set()
        t.join()
    for i, sock in enumerate(ok[1:], 1):
        if not closed_by_peer(sock):
            sys.exit("FAIL: silent connection %d still open" % i)
    send(0, ok[0], ["data:256:a:2:%d:443" % (T0 + 30)])
    want += sent[0] + 2
    wait(a.data, "the busy connection still counted (%d records)" % want,
         lambda s: records(s) == want and tcp(s)["tcp_idle_closed"] == a.open - 1)
    print("# %d silent connections closed after tcp-idle-timeout %d s, the busy one kept "
          "(%d records after)" % (a.open - 1, a.idle, sent[0] + 2), file=sys.stderr)


if __name__ == "__main__":
    main()
