# Notifier tests: the unit binary (tests/notifiers/*.cpp, made by tests/CMakeLists.txt) needs
# nlohmann to read the payloads; the integration binary (tests/integration/notify_*.cpp) runs
# real local servers: cpp-httplib sinks, aiosmtpd and Alertmanager (ctest label `integration`).
if(TARGET notifiers_tests)
  target_link_libraries(notifiers_tests PRIVATE nlohmann_json::nlohmann_json)
endif()

file(GLOB _notify_it_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_*.cpp)
if(_notify_it_srcs)
  add_executable(notify_integration_tests ${_notify_it_srcs})
  target_link_libraries(notify_integration_tests PRIVATE ruleeval_doctest_main_http ruleeval::notifiers
                                                         nlohmann_json::nlohmann_json httplib::httplib)
  # Debian's cpp-httplib is a compiled library (libcpp-httplib.so) behind the header.
  find_library(RULEEVAL_NOTIFY_HTTPLIB_LIB cpp-httplib)
  if(RULEEVAL_NOTIFY_HTTPLIB_LIB)
    target_link_libraries(notify_integration_tests PRIVATE ${RULEEVAL_NOTIFY_HTTPLIB_LIB})
  endif()
  # The Python servers and parsers the tests start (tests/integration/*.py) are run from here.
  target_compile_definitions(notify_integration_tests PRIVATE
    RULEEVAL_ITEST_DIR="${CMAKE_CURRENT_SOURCE_DIR}/integration")
  ruleeval_target_warnings(notify_integration_tests)
  doctest_discover_tests(notify_integration_tests TEST_PREFIX "notify integration: "
                         PROPERTIES LABELS integration TIMEOUT 60)
endif()

# Alertmanager configuration parity: amtool check-config (Alertmanager 0.25) is the oracle for
# every file under tests/testdata/amconfig (good ones accepted by both, broken ones rejected by
# both naming the same problem, with file:line:col from ruleeval).
find_program(RULEEVAL_AMTOOL amtool)
if(RULEEVAL_AMTOOL)
  add_test(NAME "alertmanager config: ruleeval agrees with amtool check-config"
           COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/amconfig_diff.py ${RULEEVAL_AMTOOL}
                   $<TARGET_FILE:ruleeval> ${CMAKE_CURRENT_SOURCE_DIR}/testdata/amconfig)
  set_tests_properties("alertmanager config: ruleeval agrees with amtool check-config"
                       PROPERTIES LABELS cli TIMEOUT 300)
endif()
