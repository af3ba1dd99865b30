# SPDX-License-Identifier: BSD-2-Clause
# The `teiten` command line (cli/main.c, cli/suggest.c, cli/stats.c): one vocabulary,
# --help golden files, one-line errors with the nearest valid name, `teiten stats` on a
# stats.json a live teitend wrote.
tt_add_script_test(cli_options cli_options.sh)
tt_add_script_test(cli_stats cli_stats.sh)
# The font fontconfig picks for Japanese covers the Japanese report's characters.
tt_add_script_test(cjk_font cjk_font.sh)
