# Notifier tests: the unit binary (tests/notifiers/*.cpp, made by tests/CMakeLists.txt) needs
# nlohmann to read the payloads; the integration binary (tests/integration/notify_*.cpp) runs
# real local servers: cpp-httplib sinks, aiosmtpd and Alertmanager (ctest label `integration`).
if(TARGET notifiers_tests)
  target_link_libraries(notifiers_tests PRIVATE nlohmann_json::nlohmann_json)
endif()

file(GLOB _notify_it_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_*.cpp)
if(_notify_it_srcs)
  add_executable(notify_integration_tests ${_notify_it_srcs})
  target_link_libraries(notify_integration_tests PRIVATE ruleeval_doctest_main ruleeval::notifiers
                                                         nlohmann_json::nlohmann_json httplib::httplib)
  # Debian's cpp-httplib is a compiled library (libcpp-httplib.so) behind the header.
  find_library(RULEEVAL_NOTIFY_HTTPLIB_LIB cpp-httplib)
  if(RULEEVAL_NOTIFY_HTTPLIB_LIB)
    target_link_libraries(notify_integration_tests PRIVATE ${RULEEVAL_NOTIFY_HTTPLIB_LIB})
  endif()
  ruleeval_target_warnings(notify_integration_tests)
  doctest_discover_tests(notify_integration_tests TEST_PREFIX "notify integration: "
                         PROPERTIES LABELS integration TIMEOUT 60)
endif()
