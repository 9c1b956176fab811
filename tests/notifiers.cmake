# Notifier tests: the unit binary (tests/notifiers/*.cpp, made by tests/CMakeLists.txt) needs
# nlohmann to read the payloads; the integration binary runs real local servers (label
# `integration`).
if(TARGET notifiers_tests)
  target_link_libraries(notifiers_tests PRIVATE nlohmann_json::nlohmann_json)
endif()
