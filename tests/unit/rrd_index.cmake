# SPDX-License-Identifier: BSD-2-Clause
# RRD store (rrd/): the last-update index a clean end leaves for the next start.
tt_add_gtest(test_rrd_index ${CMAKE_CURRENT_LIST_DIR}/test_rrd_index.c)
target_link_libraries(test_rrd_index PRIVATE teiten_rrd tt_test_support)
