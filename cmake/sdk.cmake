# SPDX-License-Identifier: BSD-2-Clause
# The plugin SDK that `cmake --install` puts beside teitend, so a plugin can be built
# outside this tree against an installed teiten alone (docs/plugin-abi.md, "Write your
# first plugin"):
#   PREFIX/include/teiten/*.h                        the public headers (the plugin ABI)
#   PREFIX/LIBDIR/pkgconfig/teiten-plugin.pc         Cflags, Requires glib, plugindir
#   PREFIX/LIBDIR/cmake/teiten-plugin/               find_package(teiten-plugin): teiten::plugin
# The packages' version is the plugin ABI's (TT_PLUGIN_ABI_MAJOR.MINOR of plugin.h), so
# find_package(teiten-plugin 1.3) asks for headers that know the 1.3 services; any 1.x
# satisfies a request for an older 1.y. The CMake package is relocatable (paths
# relative to its own directory); the .pc file is written at install time, when the
# prefix given to `cmake --install --prefix P` is known.
include(CMakePackageConfigHelpers)

file(STRINGS ${PROJECT_SOURCE_DIR}/include/teiten/plugin.h _tt_abi
  REGEX "^#define TT_PLUGIN_ABI_(MAJOR|MINOR) [0-9]+$")
string(REGEX REPLACE ".*MAJOR ([0-9]+).*" "\\1" TT_ABI_MAJOR "${_tt_abi}")
string(REGEX REPLACE ".*MINOR ([0-9]+).*" "\\1" TT_ABI_MINOR "${_tt_abi}")
if(NOT TT_ABI_MAJOR MATCHES "^[0-9]+$" OR NOT TT_ABI_MINOR MATCHES "^[0-9]+$")
  message(FATAL_ERROR "cannot read TT_PLUGIN_ABI_MAJOR/MINOR from include/teiten/plugin.h")
endif()
set(TT_ABI_VERSION "${TT_ABI_MAJOR}.${TT_ABI_MINOR}")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/teiten DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

set(_tt_sdk_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/teiten-plugin)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/teiten-pluginConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sdk/teiten-pluginConfig.cmake
  INSTALL_DESTINATION ${_tt_sdk_cmake_dir}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR TT_PLUGIN_INSTALL_RELDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sdk/teiten-pluginConfigVersion.cmake
  VERSION ${TT_ABI_VERSION} COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/sdk/teiten-pluginConfig.cmake
  ${PROJECT_BINARY_DIR}/sdk/teiten-pluginConfigVersion.cmake DESTINATION ${_tt_sdk_cmake_dir})

# teiten-plugin.pc: everything but the prefix now, the prefix at install time.
set(TT_PC_PREFIX "@TT_PC_PREFIX@")
configure_file(${CMAKE_CURRENT_LIST_DIR}/teiten-plugin.pc.in
  ${PROJECT_BINARY_DIR}/sdk/teiten-plugin.pc.in @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/install-pc.cmake.in
  ${PROJECT_BINARY_DIR}/sdk/install-pc.cmake @ONLY)
install(SCRIPT ${PROJECT_BINARY_DIR}/sdk/install-pc.cmake)
