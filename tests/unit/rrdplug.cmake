# SPDX-License-Identifier: BSD-2-Clause
# The RRD plugins' shared accumulator (plugins/rrdplug), compiled in: exact distinct
# sources through set growth, saturation, merge, and on_flows = on_flow.
tt_add_gtest(test_rrdplug ${CMAKE_CURRENT_LIST_DIR}/test_rrdplug.c
  ${PROJECT_SOURCE_DIR}/plugins/rrdplug/rrdplug.c)
target_include_directories(test_rrdplug PRIVATE ${PROJECT_SOURCE_DIR}/plugins/rrdplug)
