# SPDX-License-Identifier: BSD-2-Clause
# A closed bucket costs what it touched (plugins/rollup; rrdplug's and jsonl's in their own
# tests): a recycled accumulator is clean, and sparse buckets fault in no fresh pages.
tt_add_gtest(test_rollup_bucket ${CMAKE_CURRENT_LIST_DIR}/test_rollup_bucket.c)
target_link_libraries(test_rollup_bucket PRIVATE tt_test_support PkgConfig::SQLITE)
add_dependencies(test_rollup_bucket rollup)
