// The doctest main of the test binaries that send HTTP (http, engine, notifiers and the notifier
// integration tests): Env::Default() hands out the libcurl client, as in the CLI.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "ruleeval/http/client.hpp"

int main(int argc, char** argv) {
  ruleeval::http::install_default_env_http();
  return doctest::Context(argc, argv).run();
}
