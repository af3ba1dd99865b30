# SPDX-License-Identifier: BSD-2-Clause
# Record normalisation as a pure function (collector/normalise.c): no libfixbuf, no sockets.
tt_add_gtest(test_normalise ${CMAKE_CURRENT_LIST_DIR}/test_normalise.c)
