# SPDX-License-Identifier: BSD-2-Clause
# The ingest ledger: `teitend --read` exactly-once (collector/ledger.c, plugins/rollup).
# Needs tests/data/make_geoip.pl (libmaxmind-db-writer-perl): skips without it.
tt_add_script_test(ledger ledger.sh)
