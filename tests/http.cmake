# tests/http: the HTTP client (common/http) against an in-process cpp-httplib server. Debian's
# cpp-httplib 0.11 is a compiled library behind the header.
if(TARGET http_tests)
  target_link_libraries(http_tests PRIVATE httplib::httplib)
  find_library(RULEEVAL_HTTP_TESTS_HTTPLIB_LIB cpp-httplib)
  if(RULEEVAL_HTTP_TESTS_HTTPLIB_LIB)
    target_link_libraries(http_tests PRIVATE ${RULEEVAL_HTTP_TESTS_HTTPLIB_LIB})
  endif()
endif()
