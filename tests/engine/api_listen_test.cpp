#include <doctest/doctest.h>

#include "ruleeval/engine/api_server.hpp"

using ruleeval::engine::ApiServer;

TEST_CASE("--listen-address :port listens on every interface, as Go does") {
  CHECK(ApiServer::listen_host("") == "::");  // dual-stack: IPv6 and IPv4
  CHECK(ApiServer::listen_host("[::1]") == "::1");
  CHECK(ApiServer::listen_host("127.0.0.1") == "127.0.0.1");
  CHECK(ApiServer::listen_host("localhost") == "localhost");
}
