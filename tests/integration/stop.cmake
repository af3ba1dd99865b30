# SPDX-License-Identifier: BSD-2-Clause
# Starting and stopping: the shipped systemd unit's Exec lines, the stop-timeout and its journal.
tt_add_script_test(service_unit service.sh)
tt_add_script_test(stop_timeout stop_timeout.sh)
tt_add_script_test(journal_creates journal_creates.sh)
tt_add_script_test(writer_backlog backlog.sh)
tt_add_script_test(read_progress read_progress.sh)
tt_add_script_test(stop_dense stop_dense.sh)
# a timed stop over 60 000 files: alone, so that the suite's other file-heavy tests do not share its 3 s margin
set_tests_properties(stop_dense PROPERTIES RUN_SERIAL TRUE)
