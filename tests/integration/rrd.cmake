# SPDX-License-Identifier: BSD-2-Clause
# RRD archives (rrd/, plugins port, country, total), end to end, directly and through rrdcached.
tt_add_script_test(rrd_archives rrd.sh)
