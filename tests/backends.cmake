# Backend tests of the querier / remote-write (engine/src/querier*, remote_write*).
# Unit tests in tests/engine use an in-process cpp-httplib server. Debian's cpp-httplib 0.11 is a
# compiled library (libcpp-httplib.so), so the header-only httplib::httplib target needs it too.
find_library(RULEEVAL_CPP_HTTPLIB_LIB cpp-httplib)
if(TARGET engine_tests)
  target_link_libraries(engine_tests PRIVATE httplib::httplib)
  if(RULEEVAL_CPP_HTTPLIB_LIB)
    target_link_libraries(engine_tests PRIVATE ${RULEEVAL_CPP_HTTPLIB_LIB})
  endif()
endif()
