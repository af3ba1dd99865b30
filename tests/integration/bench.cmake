# The benchmark is never part of ctest (timed runs on a shared machine prove nothing);
# this only proves bench/run still works end to end, in a few seconds.
tt_add_script_test(bench_smoke bench_smoke.sh)
