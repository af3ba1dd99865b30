# SPDX-License-Identifier: BSD-2-Clause
# What the build produces: hardened binaries (PIE, full RELRO, stack protector, fortify).
tt_add_script_test(hardening hardening.sh)
