# SPDX-License-Identifier: BSD-2-Clause
# The core's buckets and the sensor's watermark and clock (collector/dispatch.c, core.c,
# timepolicy.c), fed NetFlow v5 through its own decoder: no sockets.
tt_add_gtest(test_core ${CMAKE_CURRENT_LIST_DIR}/test_core.c)
target_link_libraries(test_core PRIVATE tt_test_support)
add_dependencies(test_core jsonl)
