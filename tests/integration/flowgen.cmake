# SPDX-License-Identifier: BSD-2-Clause
# flowgen: determinism, a consistent expectation, and an independent decode of
# every transport (IPFIX file/UDP/TCP, NetFlow v9/UDP) equal to that expectation.
tt_add_script_test(flowgen_smoke flowgen_smoke.sh)
