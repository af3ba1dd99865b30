# SPDX-License-Identifier: BSD-2-Clause
# The Debian packages (debian/): built from a copy of the tree, installed into this
# system, checked, removed and purged (needs root; skipped otherwise). It installs
# system files (/usr/include/teiten, /usr/lib/teiten), so ctest runs it alone; label
# "package": scripts/test.sh runs it in the plain tree only (an ASan tree would build
# and check the very same packages again).
tt_add_script_test(package package.sh)
set_tests_properties(package PROPERTIES LABELS package RUN_SERIAL TRUE TIMEOUT 1800)
