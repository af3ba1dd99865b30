# SPDX-License-Identifier: BSD-2-Clause
# The collector's own health: the self RRD, writer lag, store counters, clean stop
# (collector/health.c, rrd/store.c).
tt_add_script_test(rrd_health rrd_health.sh)
tt_add_script_test(rrd_stop rrd_stop.sh)
