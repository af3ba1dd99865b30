# SPDX-License-Identifier: BSD-2-Clause
# The README demo's scenario (a shorter cut) through scripts/demo.sh, checked by
# scripts/demo_check.py exactly as the demo checks itself.
tt_add_script_test(demo demo.sh)
# A paced live scenario: alone, not beside the suite's other tests.
set_tests_properties(demo PROPERTIES RUN_SERIAL TRUE)
