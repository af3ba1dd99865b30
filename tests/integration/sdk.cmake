# SPDX-License-Identifier: BSD-2-Clause
# The plugin SDK (cmake/sdk.cmake) and its example plugin (examples/prefix16): built
# against an installed tree by find_package and by pkg-config, and built against the
# ABI 1.2 headers (tests/fixtures/abi-1.2), each loaded into teitend and checked.
tt_add_script_test(sdk_find_package sdk.sh find_package)
tt_add_script_test(sdk_pkg_config sdk.sh pkg-config)
tt_add_script_test(sdk_abi_1_2 sdk.sh abi-1.2)
