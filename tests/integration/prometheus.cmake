# SPDX-License-Identifier: BSD-2-Clause
# The self-statistics in Prometheus' text format (collector/prom.c, stats.c): a real
# teitend under real traffic, its file parsed with the Prometheus client's parser and
# compared with stats.json.
tt_add_script_test(prometheus prometheus.sh)
