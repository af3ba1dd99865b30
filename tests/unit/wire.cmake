# SPDX-License-Identifier: BSD-2-Clause
# Wire-level checks (IPFIX walk, NetFlow v9 -> IPFIX rewrite) and the NetFlow v5
# decoder, plus the pcap/pcapng reader other tests can link (tt_test_pcap).
add_library(tt_test_pcap STATIC ${CMAKE_CURRENT_LIST_DIR}/pcap_reader.c)
target_include_directories(tt_test_pcap PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(tt_test_pcap PRIVATE TT_TEST_SRC_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
target_link_libraries(tt_test_pcap PUBLIC PkgConfig::GLIB PRIVATE tt_warnings)

tt_add_gtest(test_wire ${CMAKE_CURRENT_LIST_DIR}/test_wire.c)

tt_add_gtest(test_v5 ${CMAKE_CURRENT_LIST_DIR}/test_v5.c)
target_link_libraries(test_v5 PRIVATE tt_test_pcap)
set_tests_properties(test_v5 PROPERTIES ENVIRONMENT "TT_FLOWDATA=${TT_FLOWDATA}")

tt_add_gtest(test_wire_captures ${CMAKE_CURRENT_LIST_DIR}/test_wire_captures.c)
target_link_libraries(test_wire_captures PRIVATE tt_test_pcap)
set_tests_properties(test_wire_captures PROPERTIES ENVIRONMENT "TT_FLOWDATA=${TT_FLOWDATA}")
