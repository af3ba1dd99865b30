#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Sum every counter of the self RRD (DATA/rrd/self/collector.rrd) over its
1-step archive with plain `rrdtool fetch` (value x step = the step's count)
and print them as JSON; gauges are reported as their maximum.

    rrd_selfsum.py RRD STEP
"""
import json
import math
import subprocess
import sys

GAUGES = {"exporters", "writer_lag"}


def main():
    rrd, step = sys.argv[1], int(sys.argv[2])
    info = subprocess.run(["rrdtool", "info", rrd], capture_output=True, text=True,
                          check=True).stdout
    last = int(next(l for l in info.splitlines() if l.startswith("last_update")).split("=")[1])
    rows = int(next(l for l in info.splitlines() if l.startswith("rra[0].rows")).split("=")[1])
    out = subprocess.run(["rrdtool", "fetch", rrd, "AVERAGE", "-r", str(step),
                          "-s", str(last - rows * step), "-e", str(last)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    names = out[0].split()
    tot = dict.fromkeys(names, 0.0)
    for line in out[2:]:
        if ":" not in line:
            continue
        for n, v in zip(names, line.split(":", 1)[1].split()):
            v = float(v)
            if math.isnan(v):
                continue
            tot[n] = max(tot[n], v) if n in GAUGES else tot[n] + v * step
    print(json.dumps({k: round(v) for k, v in tot.items()}))


if __name__ == "__main__":
    main()
