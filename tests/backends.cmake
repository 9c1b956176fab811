# Backend tests of the querier / remote-write (engine/remote).
# Unit tests in tests/engine use an in-process cpp-httplib server. Debian's cpp-httplib 0.11 is a
# compiled library (libcpp-httplib.so), so the header-only httplib::httplib target needs it too.
find_library(RULEEVAL_CPP_HTTPLIB_LIB cpp-httplib)
if(TARGET engine_tests)
  target_link_libraries(engine_tests PRIVATE httplib::httplib)
  if(RULEEVAL_CPP_HTTPLIB_LIB)
    target_link_libraries(engine_tests PRIVATE ${RULEEVAL_CPP_HTTPLIB_LIB})
  endif()
endif()

# Integration tests against real local servers (Debian's prometheus and victoria-metrics).
file(GLOB _backend_it_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/integration/backend_*.cpp)
if(_backend_it_srcs)
  add_executable(backend_integration_tests ${_backend_it_srcs})
  target_link_libraries(backend_integration_tests PRIVATE ruleeval::engine ruleeval::http doctest::doctest
                                                          CURL::libcurl fmt::fmt)
  ruleeval_target_warnings(backend_integration_tests)
  add_test(NAME "integration: backends (prometheus, victoria-metrics)"
           COMMAND backend_integration_tests)
  set_tests_properties("integration: backends (prometheus, victoria-metrics)" PROPERTIES
                       LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()
