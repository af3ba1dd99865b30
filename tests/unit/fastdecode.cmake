# SPDX-License-Identifier: BSD-2-Clause
# The decode fast path against libfixbuf: every capture of the shared flowdata folder and
# the fuzz corpora (regressions, and make_corpus.py's seeds built at test time) decoded
# both ways, every tt_flow and every exporter counter compared.
tt_add_gtest(test_fastdecode ${CMAKE_CURRENT_LIST_DIR}/test_fastdecode.c)
target_link_libraries(test_fastdecode PRIVATE tt_test_pcap)
target_compile_definitions(test_fastdecode PRIVATE TT_TEST_FLOWGEN="$<TARGET_FILE:flowgen>")
add_dependencies(test_fastdecode flowgen)
set_tests_properties(test_fastdecode PROPERTIES ENVIRONMENT "TT_FLOWDATA=${TT_FLOWDATA}")
