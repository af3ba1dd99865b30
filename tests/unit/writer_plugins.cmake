# SPDX-License-Identifier: BSD-2-Clause
# Writer thread, plugin loader, the jsonl plugin, and the exported-symbols check.
tt_add_gtest(test_writer ${CMAKE_CURRENT_LIST_DIR}/test_writer.c)
target_link_libraries(test_writer PRIVATE tt_test_support)

tt_add_gtest(test_plugin_loader ${CMAKE_CURRENT_LIST_DIR}/test_plugin_loader.c)
get_property(_tt_fixtures GLOBAL PROPERTY TT_FIXTURES)
add_dependencies(test_plugin_loader ${_tt_fixtures})

tt_add_gtest(test_jsonl ${CMAKE_CURRENT_LIST_DIR}/test_jsonl.c)
target_link_libraries(test_jsonl PRIVATE tt_test_support)
add_dependencies(test_jsonl jsonl)

# Every plugin exports tt_plugin_entry and nothing else.
get_property(_tt_plugins GLOBAL PROPERTY TT_PLUGINS)
foreach(_p IN LISTS _tt_plugins)
  add_test(NAME symbols_${_p}
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/check_symbols.sh $<TARGET_FILE:${_p}>)
  set_tests_properties(symbols_${_p} PROPERTIES SKIP_RETURN_CODE ${TT_SKIP} TIMEOUT 60)
endforeach()
