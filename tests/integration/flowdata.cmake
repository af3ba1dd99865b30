# SPDX-License-Identifier: BSD-2-Clause
# Every shared flow capture replayed through teitend, counts checked against tshark.
tt_add_script_test(flowdata flowdata.sh)
