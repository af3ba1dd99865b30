# SPDX-License-Identifier: BSD-2-Clause
# A sparse two-quarter capture replayed by softflowd (IPFIX, v9) and pmacct nfprobe (one
# sensor; four at once is bench/sparse's) into every plugin through rrdcached: exact counts, a stop
# within 10 s of SIGTERM, nothing journaled (issue 11).
tt_add_script_test(sparse_replay sparse_replay.sh)
# It measures a stop against the clock (10 s): alone, not beside the suite's other tests.
set_tests_properties(sparse_replay PROPERTIES RUN_SERIAL TRUE)
