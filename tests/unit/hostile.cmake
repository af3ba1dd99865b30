# SPDX-License-Identifier: BSD-2-Clause
# The time policy and checked counts (collector/timepolicy.c): record times,
# export times against the host clock, the sensor clock's corroboration,
# saturating counts; pure functions, no sockets.
tt_add_gtest(test_timepolicy ${CMAKE_CURRENT_LIST_DIR}/test_timepolicy.c)
