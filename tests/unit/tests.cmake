# The fake plugin host, the writer gate and resource readings the plugin and
# writer tests share (test_support.h).
add_library(tt_test_support STATIC ${CMAKE_CURRENT_LIST_DIR}/test_support.c)
target_include_directories(tt_test_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(tt_test_support PRIVATE G_LOG_DOMAIN="test"
  TT_TEST_PLUGIN_DIR="${TT_PLUGIN_BUILD_DIR}")
target_link_libraries(tt_test_support PUBLIC teiten_core PRIVATE tt_warnings)

# Each module's tests live in their own tests/unit/<module>.cmake, included here,
# so that work on one module never edits another's list.
tt_include_lists(${CMAKE_CURRENT_LIST_DIR})
