# SPDX-License-Identifier: BSD-2-Clause
# Real exporters (softflowd v5/v9/IPFIX, pmacct nfprobe v9/IPFIX) replaying a seeded
# scan capture into teitend and nfcapd at once; totals checked against the capture
# and against nfdump.
tt_add_script_test(exporters exporters.sh)
