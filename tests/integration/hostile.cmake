# SPDX-License-Identifier: BSD-2-Clause
# Hostile input and operations, against the running daemon over loopback.
tt_add_script_test(malformed malformed.sh)
tt_add_script_test(operations operations.sh)
# teitend's start-up errors: one line each, naming file and group, nearest plugin name.
tt_add_script_test(startup_errors startup_errors.sh)
tt_add_script_test(domains domains.sh)
