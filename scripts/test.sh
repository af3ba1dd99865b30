#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's test command: install the build and test dependencies, build, run
# every unit and integration test with ctest. Tests that cannot run here are
# reported by ctest as skipped, with their reason in the log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh" --tests
"$top/scripts/build.sh"
cd "${TT_BUILD_DIR:-$top/build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
