# SPDX-License-Identifier: BSD-2-Clause
# The CI checks beside the compiler's (issue 13), label "static": they read the
# sources, not the build, so scripts/test.sh runs them in the plain tree only.
# Each exits 77 (skipped, with the reason) when its tool is not installed.
function(tt_add_check name script)
  add_test(NAME ${name} COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/${script} ${ARGN})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE ${TT_SKIP} TIMEOUT ${TT_SCRIPT_TIMEOUT}
    LABELS static)
endfunction()

# clang-format-14 over every tracked .c and .h file.
tt_add_check(check_format check-format.sh)

# cppcheck over collector/ cli/ plugins/ rrd/ include/ tools/ examples/ (suppressions, each
# with its reason: scripts/cppcheck/suppressions.txt).
tt_add_check(check_static check-static.sh)

# collector/: no include cycle among its files, no file over 800 lines (no known
# exceptions left: a file that grows past it fails; check-tree.sh --known-long FILE
# is there for a split still under way).
tt_add_check(check_tree check-tree.sh ${PROJECT_SOURCE_DIR}/collector)

# Each check above fails on a made-up bad input and passes on a good one; so does
# the compiler with the tree's warning flags (tt_warnings' options, -Werror added).
tt_add_script_test(checks_selftest checks_selftest.sh)
set_tests_properties(checks_selftest PROPERTIES LABELS static
  ENVIRONMENT "${TT_SCRIPT_ENV};TT_CC=${CMAKE_C_COMPILER};TT_WARN_FLAGS=$<JOIN:$<TARGET_PROPERTY:tt_warnings,INTERFACE_COMPILE_OPTIONS>, >")
