// http::install_default_env_http(): Env::Default() (and wrappers over it) hand out the libcurl
// client, this thread's one and owned ones with their options (the test main installs it).
#include <doctest/doctest.h>

#include <thread>

#include "ruleeval/common/env.hpp"
#include "ruleeval/http/client.hpp"

using namespace ruleeval;

TEST_CASE("after install_default_env_http, Env::Default() hands out the libcurl client") {
  http::install_default_env_http();  // idempotent: the test main called it already
  Env* env = Env::Default();
  CHECK(&env->http_client() == &http::thread_client());
  HttpClient* other = nullptr;
  std::thread([&] { other = &env->http_client(); }).join();
  CHECK(other != &env->http_client());  // one client per thread

  http::Options o;
  o.timeout_ms = 1'234;
  o.user_agent = "test/1";
  auto owned = env->new_http_client(o);
  REQUIRE(owned != nullptr);
  CHECK(dynamic_cast<http::Client*>(owned.get()) != nullptr);
  CHECK(owned.get() != &http::thread_client());
  CHECK(owned->options().timeout_ms == 1'234);
  CHECK(owned->options().user_agent == "test/1");

  EnvWrapper wrapped(env);  // forwards HTTP as it forwards clocks and files
  CHECK(&wrapped.http_client() == &http::thread_client());
  CHECK(dynamic_cast<http::Client*>(wrapped.new_http_client({}).get()) != nullptr);
}
