# SPDX-License-Identifier: BSD-2-Clause
# teiten report (cli/report*.c): tables equal teiten rank, the page against the
# truth, headless Chromium rendering, Japanese golden. Skips without chromium or
# libmaxmind-db-writer-perl.
tt_add_script_test(report report.sh)
