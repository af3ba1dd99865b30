# SPDX-License-Identifier: BSD-2-Clause
# The RRD plugins' shared accumulator (plugins/rrdplug), compiled in: exact distinct
# sources through set growth, saturation, merge, on_flows = on_flow, recycled accumulators
# clean, and 20 000 sparse buckets faulting in no fresh pages.
tt_add_gtest(test_rrdplug ${CMAKE_CURRENT_LIST_DIR}/test_rrdplug.c
  ${PROJECT_SOURCE_DIR}/plugins/rrdplug/rrdplug.c)
target_link_libraries(test_rrdplug PRIVATE tt_test_support)
target_include_directories(test_rrdplug PRIVATE ${PROJECT_SOURCE_DIR}/plugins/rrdplug
  ${PROJECT_SOURCE_DIR}/plugins/common)
