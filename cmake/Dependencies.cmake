# Every third-party dependency, found from Debian 12 packages (tools/bootstrap.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)                        # Boost::headers (Spirit X3 is header-only)

find_package(yaml-cpp 0.7 REQUIRED)
if(NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)          # yaml-cpp 0.7 exports a plain `yaml-cpp`
endif()

find_package(CURL 7.68 REQUIRED)                         # CURL::libcurl
find_package(nlohmann_json 3.11 REQUIRED)                # nlohmann_json::nlohmann_json

find_package(RapidJSON 1.1 REQUIRED)
if(NOT TARGET RapidJSON::RapidJSON)
  add_library(RapidJSON::RapidJSON INTERFACE IMPORTED)
  set_target_properties(RapidJSON::RapidJSON PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${RAPIDJSON_INCLUDE_DIRS}"
    INTERFACE_COMPILE_DEFINITIONS "RAPIDJSON_HAS_STDSTRING=1")
endif()

find_package(fmt REQUIRED)                               # fmt::fmt
find_package(CLI11 REQUIRED)                             # CLI11::CLI11
find_package(spdlog REQUIRED)                            # spdlog::spdlog

find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)      # PkgConfig::RE2
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)  # PkgConfig::XXHASH

# Debian's cpp-httplib 0.11 is a compiled library built with OpenSSL, zlib and brotli support;
# its pkg-config file carries the matching CPPHTTPLIB_* defines (they change class layouts).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)     # PkgConfig::HTTPLIB
if(NOT TARGET httplib::httplib)
  add_library(httplib::httplib INTERFACE IMPORTED)
  set_target_properties(httplib::httplib PROPERTIES INTERFACE_LINK_LIBRARIES "PkgConfig::HTTPLIB;Threads::Threads")
endif()

if(RULEEVAL_TESTS)
  find_package(doctest 2.4 REQUIRED)                     # doctest::doctest
  include(doctest)
endif()
