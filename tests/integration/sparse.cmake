# SPDX-License-Identifier: BSD-2-Clause
# A sparse two-quarter capture replayed by softflowd IPFIX, v9 and pmacct nfprobe into
# every plugin through rrdcached: exact counts, a stop within 10 s of a SIGTERM sent 2 s
# after the exporter ends, nothing journaled (issue 11). The four-sensor case is measured
# by bench/sparse (pm-4), not here: see sparse_replay.sh and docs/benchmarks.md.
tt_add_script_test(sparse_replay sparse_replay.sh)
# It measures a stop against the clock: alone, not beside the suite's other tests.
set_tests_properties(sparse_replay PROPERTIES RUN_SERIAL TRUE)
