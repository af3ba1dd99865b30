# Each module's tests live in their own tests/unit/<module>.cmake, included here,
# so that work on one module never edits another's list.
file(GLOB _tt_unit_lists ${CMAKE_CURRENT_LIST_DIR}/*.cmake)
list(REMOVE_ITEM _tt_unit_lists ${CMAKE_CURRENT_LIST_DIR}/tests.cmake)
list(SORT _tt_unit_lists)
foreach(_f IN LISTS _tt_unit_lists)
  include(${_f})
endforeach()
