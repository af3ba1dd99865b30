#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's test command: install the build and test dependencies, build, run
# every unit and integration test with ctest. Tests that cannot run here are
# reported by ctest as skipped, with their reason in the log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh" --tests
"$top/scripts/build.sh" -DTT_WERROR=ON
cd "${TT_BUILD_DIR:-$top/build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900

# The whole suite once more against an ASan + UBSan build (gcc, every finding
# fatal: -fno-sanitize-recover=all). Leak reports are off: GLib keeps caches
# for the life of the process by design. libfaketime (clockjump) is preloaded
# ahead of the ASan runtime, which must not refuse it. Waits are scaled. The
# tests that measure a whole run against the clock at full speed (the demo's
# scenario, the benchmark smoke) run in the plain
# tree only: at ASan's speed they would measure the sanitizer; their code paths
# run under it in the other tests.
# The static checks (label "static": format, cppcheck, the tree's shape) read the
# sources, not the binaries: the plain tree's run is enough. So is the Debian
# package test (label "package": it builds its own packages from the sources).
san_dir="${TT_SANITIZE_BUILD_DIR:-$top/build-sanitize}"
cmake -S "$top" -B "$san_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTT_SANITIZE=ON -DTT_WERROR=ON >/dev/null
cmake --build "$san_dir" -j "$(nproc)"
(cd "$san_dir" &&
    ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TT_TIME_SCALE=4 \
    ctest --output-on-failure -j "$(nproc)" --timeout 1800 -LE '^(fuzz|static|package)$' \
        -E '^(demo|bench_smoke)$')

# The fuzz targets (tests/fuzz) need clang with libFuzzer: a second tree built with
# clang, ASan + UBSan, each target run for a bounded time (ctest label "fuzz").
probe=$(mktemp -d)
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }' \
    >"$probe/probe.c"
if command -v clang >/dev/null &&
    clang -fsanitize=fuzzer "$probe/probe.c" -o "$probe/probe" >/dev/null 2>&1; then
    fuzz_dir="${TT_FUZZ_BUILD_DIR:-$top/build-fuzz}"
    cmake -S "$top" -B "$fuzz_dir" -DCMAKE_C_COMPILER=clang -DTT_FUZZ=ON -DTT_SANITIZE=ON
    cmake --build "$fuzz_dir" --target tt_fuzz_all -j "$(nproc)"
    (cd "$fuzz_dir" && ctest --output-on-failure -L fuzz --timeout 900)
else
    echo "test.sh: clang with libFuzzer not found: fuzz targets skipped" \
        "(Debian: apt-get install clang libclang-rt-14-dev)"
fi
rm -rf "$probe"
