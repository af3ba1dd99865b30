# SPDX-License-Identifier: BSD-2-Clause
# Rollups and rank tables (plugins/rollup, cli/rank.c, collector/ledger.c).
# The scenarios need tests/data/make_geoip.pl (libmaxmind-db-writer-perl): skip without it.
tt_add_script_test(rank_golden rank_golden.sh)
tt_add_script_test(rank_tz rank_tz.sh)
tt_add_script_test(rank_crash rank_crash.sh)
tt_add_script_test(cli_periods cli_periods.sh)
