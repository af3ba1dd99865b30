# Each module's tests live in their own tests/integration/<topic>.cmake, included here,
# so that work on one module never edits another's list.
tt_include_lists(${CMAKE_CURRENT_LIST_DIR})
