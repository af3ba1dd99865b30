# SPDX-License-Identifier: BSD-2-Clause
# Loss accounting (collector/listen.c, collector/loss.c, the rollup's loss table,
# the completeness line of teiten rank and report).
tt_add_script_test(overload overload.sh)
tt_add_script_test(loss_tcp loss_tcp.sh)
tt_add_script_test(loss_unread loss_unread.sh)
