# SPDX-License-Identifier: BSD-2-Clause
"""rrd_check.py - compare teiten's RRD files with a flowgen scenario's truth.

The truth is flowgen's --expect (flows, packets, bytes per step and key) plus
distinct sources per step and key counted here from the IPFIX file with the
independent decoder of flowgen_decode.py (not from teiten's code). Every
port, country and total file is read with the plain `rrdtool fetch`:
  - every step from the UTC midnight before the key's first data to the UTC
    midnight after the scenario's last step: value x step == the step's count
    (0 for idle steps, never unknown), sources == the exact distinct count;
  - every whole day: daily AVERAGE x 86400 == the day's count.
Usage: rrd_check.py RRD_DIR EXPECT.jsonl SCENARIO.ipfix STEP
"""
import collections
import ipaddress
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flowgen_decode  # noqa: E402

DARK = [ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("2001:db8:dead::/48")]


def rrd_file(dim, key):
    if dim == "total":
        return "total.rrd"
    if dim == "country":
        return "country/%s.rrd" % key
    if key in ("icmp", "icmp6"):
        return "port/icmp.rrd"
    port, proto = key.split("/")
    return "port/%s/%s.rrd" % (proto, port)


def fetch(path, res, start, end):
    out = subprocess.run(["rrdtool", "fetch", path, "AVERAGE", "-r", str(res), "-s", str(start),
                          "-e", str(end)], check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines()[2:]:
        t, vals = line.split(":", 1)
        rows[int(t) - res] = [float(v) for v in vals.split()]
    return rows


def sources_truth(ipfix, step):
    class A:
        table = None
    dec = flowgen_decode.Decoder(A())
    data = open(ipfix, "rb").read()
    off = 0
    while off < len(data):
        n = int.from_bytes(data[off + 2:off + 4], "big")
        dec.ipfix_message(data[off:off + n], False)
        off += n
    sets = collections.defaultdict(set)
    for r in dec.records:
        src = flowgen_decode.dark_source(r, DARK)
        if src is None:
            continue
        b = r["start_ms"] // 1000 // step * step
        proto = r["proto"]
        port = ("icmp" if proto in (1, 58) else
                "%d/%s" % (r["dport"], "tcp" if proto == 6 else "udp"))
        for f in ("total.rrd", rrd_file("port", port), "country/ZZ.rrd"):
            sets[(f, b)].add(src)
    return sets


def librrd_shift(wrong, truth, step):
    """The one mismatch a SIGKILL inside librrd's direct update may leave (docs/security.md):
    librrd advanced a file's row pointer, not yet its last update, so the replay writes the
    step again a row on. Every wrong step then holds the truth of the step after it, all in
    one file; that file's day sums and at most one unknown step may be off with it. Returns
    the file, or None when anything else is wrong."""
    files = {f for (f, _, _) in wrong}
    if len(files) != 1:
        return None
    f = files.pop()
    shifted = unknown = 0
    for (_, kind, detail) in wrong:
        if kind == "unknown":
            unknown += 1
        elif kind == "step":
            t, counts = detail
            if counts != truth.get((f, t + step), [0, 0, 0]):
                return None
            shifted += 1
    return f if shifted > 0 and unknown <= 1 else None


def main():
    tolerate = "--tolerate-librrd-shift" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--tolerate-librrd-shift"]
    rrd_dir, expect, ipfix, step = args[0], args[1], args[2], int(args[3])
    import json
    truth = collections.defaultdict(lambda: [0, 0, 0])
    first = {}
    last_end = 0
    for line in open(expect):
        o = json.loads(line)
        f = rrd_file(o["dim"], o["key"])
        t = truth[(f, o["start"])]
        t[0] += o["flows"]; t[1] += o["packets"]; t[2] += o["bytes"]
        first[f] = min(first.get(f, o["start"]), o["start"])
        last_end = max(last_end, o["end"])
    countries = {f for f in first if f.startswith("country/")}
    srcs = sources_truth(ipfix, step) if countries == {"country/ZZ.rrd"} else None
    day_end = (last_end + 86399) // 86400 * 86400
    bad = 0
    steps = days = 0
    wrong = []  # (file, kind, detail) of every mismatch
    for f in sorted(first):
        path = os.path.join(rrd_dir, f)
        if not os.path.exists(path):
            print("missing %s" % f); bad += 1; wrong.append((f, "missing", None)); continue
        d0 = first[f] // 86400 * 86400
        rows = fetch(path, step, d0, day_end - step)
        for t in range(d0, day_end, step):
            want = truth.get((f, t), [0, 0, 0])
            got = rows.get(t)
            if got is None or any(math.isnan(v) for v in got):
                print("%s step %d: unknown, want %s" % (f, t, want)); bad += 1
                wrong.append((f, "unknown", t))
                continue
            counts = [round(v * step) for v in got[:3]]
            ok = counts == want and all(abs(v * step - w) < 1e-6 * max(1, w)
                                        for v, w in zip(got, want))
            if srcs is not None and round(got[3]) != len(srcs.get((f, t), ())):
                print("%s step %d: sources %s, want %d" % (f, t, got[3], len(srcs.get((f, t), ()))))
                ok = False
            if not ok:
                print("%s step %d: %s, want %s" % (f, t, counts, want)); bad += 1
                wrong.append((f, "step", (t, counts)))
            steps += 1
        daily = fetch(path, 86400, d0, day_end - 86400)
        for d in range(d0, day_end, 86400):
            want = [sum(truth.get((f, t), [0, 0, 0])[i] for t in range(d, d + 86400, step))
                    for i in range(3)]
            got = daily.get(d)
            if got is None or any(math.isnan(v) for v in got[:3]) or \
                    [round(v * 86400) for v in got[:3]] != want:
                print("%s day %d: %s, want %s" % (f, d, got, want)); bad += 1
                wrong.append((f, "day", d))
            days += 1
    print("# %d files, %d steps, %d days checked, %d wrong" % (len(first), steps, days, bad),
          file=sys.stderr)
    shifted = librrd_shift(wrong, truth, step) if bad and tolerate else None
    if shifted is not None:
        print("# KNOWN LIMITATION: %s holds the steps after a SIGKILL inside librrd's direct "
              "update one row early (%d mismatches, nothing else wrong; docs/security.md)"
              % (shifted, bad), file=sys.stderr)
        sys.exit(0)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
