# SPDX-License-Identifier: BSD-2-Clause
# RRD store (rrd/): schema, no-overwrite creation, skipped past steps, idle 0, restart U.
tt_add_gtest(h8_store ${CMAKE_CURRENT_LIST_DIR}/h8_store.c)
target_link_libraries(h8_store PRIVATE teiten_rrd)
