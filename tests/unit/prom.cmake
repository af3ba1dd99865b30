# SPDX-License-Identifier: BSD-2-Clause
# The Prometheus text of the self-statistics (collector/prom.c).
tt_add_gtest(test_prom ${CMAKE_CURRENT_LIST_DIR}/test_prom.c)
