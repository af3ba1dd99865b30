# SPDX-License-Identifier: BSD-2-Clause
# Loss accounting in the rollup plugin (plugins/rollup: the loss table).
tt_add_gtest(test_rollup_loss ${CMAKE_CURRENT_LIST_DIR}/test_rollup_loss.c)
target_link_libraries(test_rollup_loss PRIVATE tt_test_support PkgConfig::SQLITE)
add_dependencies(test_rollup_loss rollup)
