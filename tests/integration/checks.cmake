# SPDX-License-Identifier: BSD-2-Clause
# The CI checks beside the compiler's (issue 13), label "static": they read the
# sources, not the build, so scripts/test.sh runs them in the plain tree only.
tt_add_script_test(checks_selftest checks_selftest.sh)
set_tests_properties(checks_selftest PROPERTIES LABELS static)
