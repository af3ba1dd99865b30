# SPDX-License-Identifier: BSD-2-Clause
# The ingest ledger: `teitend --read` exactly-once (collector/ledger.c, plugins/rollup).
# Needs tests/data/make_geoip.pl (libmaxmind-db-writer-perl): skips without it.
tt_add_script_test(ledger ledger.sh)
# A store failing in the middle of a --read (chattr +i on rollup.sqlite): the files stay out
# of the ledger, exit 4, and the same run again stores exactly what was missing.
tt_add_script_test(ledger_faults ledger_faults.sh)
# Ledgers of the SHA-256 format (before issue 14's XXH3-128) still read: done files refused,
# a `reading` batch resumed, new files known by xxh3 beside them.
tt_add_script_test(ledger_legacy ledger_legacy.sh)
