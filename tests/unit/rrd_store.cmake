# SPDX-License-Identifier: BSD-2-Clause
# RRD store (rrd/): schema, no-overwrite creation, skipped past steps, idle 0, restart U.
tt_add_gtest(test_rrd_store ${CMAKE_CURRENT_LIST_DIR}/test_rrd_store.c)
target_link_libraries(test_rrd_store PRIVATE teiten_rrd)
