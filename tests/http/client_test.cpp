// ruleeval::http::Client against an in-process cpp-httplib server on 127.0.0.1.
#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../support/local_http_server.hpp"
#include "ruleeval/http/client.hpp"

using namespace ruleeval;
using http::Client;
using http::Options;
using http::Request;
using http::TransportKind;

namespace {

using LocalServer = ruleeval::testing::LocalHttpServer;

// A port nothing listens on: bound, then closed.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("http client: POST sends body, headers and method; any status is a response") {
  LocalServer s;
  std::string seen_body, seen_ctype, seen_custom, seen_method, seen_expect, seen_ua;
  auto handler = [&](const httplib::Request& req, httplib::Response& res) {
    seen_method = req.method;
    seen_body = req.body;
    seen_ctype = req.get_header_value("Content-Type");
    seen_custom = req.get_header_value("X-Test");
    seen_expect = req.get_header_value("Expect");
    seen_ua = req.get_header_value("User-Agent");
    res.status = req.path == "/fail" ? 503 : 200;
    res.set_header("Retry-After", "7");
    res.set_content("answer:" + req.body, "text/plain");
  };
  s.server().Post("/echo", handler);
  s.server().Post("/fail", handler);
  s.server().Put("/echo", handler);

  Options o;
  o.parse_retry_after = true;
  Client c(o);
  const std::vector<std::string> headers = {"Content-Type: application/json", "X-Test: one"};
  auto r = c.send(Request{"POST", s.url("/echo"), R"({"a":1})", headers});
  REQUIRE(r.has_value());
  CHECK((*r)->status == 200);
  CHECK((*r)->body == R"(answer:{"a":1})");
  CHECK((*r)->content_type == "text/plain");
  CHECK((*r)->retry_after_ms == 7000);
  CHECK(seen_method == "POST");
  CHECK(seen_body == R"({"a":1})");
  CHECK(seen_ctype == "application/json");
  CHECK(seen_custom == "one");
  CHECK(seen_expect.empty());
  CHECK(seen_ua == "ruleeval/0.1");

  // Changed header lines are sent (the cached list is rebuilt), unchanged ones too.
  const std::vector<std::string> headers2 = {"Content-Type: text/plain", "X-Test: two"};
  r = c.send(Request{"PUT", s.url("/echo"), "x", headers2});
  REQUIRE(r.has_value());
  CHECK(seen_method == "PUT");
  CHECK(seen_custom == "two");
  CHECK(seen_ctype == "text/plain");
  r = c.send(Request{"POST", s.url("/fail"), "", headers2});
  REQUIRE(r.has_value());
  CHECK((*r)->status == 503);
  CHECK(seen_method == "POST");
  CHECK(seen_body.empty());
  CHECK(seen_custom == "two");
}

TEST_CASE("http client: GET, basic auth and Authorization from the options") {
  LocalServer s;
  std::string seen_auth, seen_method;
  s.server().Get("/", [&](const httplib::Request& req, httplib::Response& res) {
    seen_auth = req.get_header_value("Authorization");
    seen_method = req.method;
    res.set_content("ok", "text/plain");
  });
  Options o;
  o.basic_auth = true;
  o.basic_user = "alice";
  o.basic_password = "s3cret";
  Client c(o);
  auto r = c.send(Request{"GET", s.url("/"), "", {}});
  REQUIRE(r.has_value());
  CHECK(seen_method == "GET");
  CHECK(seen_auth == "Basic YWxpY2U6czNjcmV0");  // base64("alice:s3cret")

  o.basic_auth = false;
  o.authorization = "Bearer tok";
  c.configure(o);
  r = c.send(Request{"GET", s.url("/"), "", {}});
  REQUIRE(r.has_value());
  CHECK(seen_auth == "Bearer tok");
}

TEST_CASE("http client: connections are kept alive across requests and reconfiguration") {
  LocalServer s;
  std::set<int> ports;
  s.server().Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    ports.insert(req.remote_port);
    res.set_content("ok", "text/plain");
  });
  Client c;
  for (int i = 0; i < 3; ++i) REQUIRE(c.send(Request{"POST", s.url("/"), "b", {}}).has_value());
  Options o;
  o.timeout_ms = 5'000;
  c.configure(o);
  REQUIRE(c.send(Request{"POST", s.url("/"), "b", {}}).has_value());
  CHECK(ports.size() == 1);

  // thread_client(): one per thread.
  Client* main_client = &http::thread_client();
  Client* other = nullptr;
  std::thread([&] { other = &http::thread_client(); }).join();
  CHECK(main_client == &http::thread_client());
  CHECK(other != main_client);
}

TEST_CASE("http client: errors are classified for retry rules") {
  SUBCASE("connection refused") {
    Client c;
    auto r = c.send(Request{"POST", "http://127.0.0.1:" + std::to_string(closed_port()) + "/",
                            "x", {}});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::kTransport);
    CHECK(http::transport_kind(r.error()) == TransportKind::kConnect);
    CHECK(http::curl_code(r.error()) == 7);  // CURLE_COULDNT_CONNECT
    CHECK(r.error().code == "connect:7");
    CHECK(http::transport_reason(r.error()) == "Couldn't connect to server");
    CHECK(r.error().message.find("127.0.0.1") != std::string::npos);
    CHECK(r.error().http_status == 0);
  }
  SUBCASE("timeout") {
    LocalServer s;
    s.server().Post("/", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      res.set_content("late", "text/plain");
    });
    Options o;
    o.timeout_ms = 150;
    Client c(o);
    auto r = c.send(Request{"POST", s.url("/"), "x", {}});
    REQUIRE_FALSE(r.has_value());
    CHECK(http::transport_kind(r.error()) == TransportKind::kTimeout);
  }
  SUBCASE("body over the limit fails, or is cut with truncate_body") {
    LocalServer s;
    s.server().Post("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(100'000, 'x'), "text/plain");
    });
    Options o;
    o.max_body_bytes = 1000;
    Client c(o);
    auto r = c.send(Request{"POST", s.url("/"), "x", {}});
    REQUIRE_FALSE(r.has_value());
    CHECK(http::transport_kind(r.error()) == TransportKind::kTooLarge);
    CHECK(r.error().message == "response larger than the limit of 1000 bytes");
    CHECK(r.error().to_string() == "request failed: response larger than the limit of 1000 bytes");
    CHECK(http::curl_code(r.error()) != 0);  // the write callback's abort
    CHECK(http::transport_reason(r.error()) != r.error().message);
    o.truncate_body = true;
    c.configure(o);
    r = c.send(Request{"POST", s.url("/"), "x", {}});
    REQUIRE(r.has_value());
    CHECK((*r)->status == 200);
    CHECK((*r)->truncated);
    CHECK((*r)->body.size() >= 1000);
    CHECK((*r)->body.size() < 100'000);
  }
  SUBCASE("a scheme other than http(s) is refused") {
    Client c;
    auto r = c.send(Request{"POST", "file:///etc/passwd", "", {}});
    REQUIRE_FALSE(r.has_value());
    CHECK(http::transport_kind(r.error()) == TransportKind::kInvalid);
  }
  SUBCASE("an HTTPS server without a trusted certificate is a TLS error") {
    // A plain-HTTP server spoken to over TLS fails in the handshake.
    LocalServer s;
    s.server().Post("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok", "text/plain");
    });
    std::string url = s.url("/");
    url.replace(0, 4, "https");
    Options o;
    o.timeout_ms = 5'000;
    Client c(o);
    auto r = c.send(Request{"POST", url, "x", {}});
    REQUIRE_FALSE(r.has_value());
    CHECK(http::transport_kind(r.error()) == TransportKind::kTls);
  }
}

TEST_CASE("http client: a server that is not there does not stop the next request") {
  LocalServer s;
  s.server().Post("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  Client c;
  REQUIRE_FALSE(
      c.send(Request{"POST", "http://127.0.0.1:" + std::to_string(closed_port()) + "/", "", {}})
          .has_value());
  auto r = c.send(Request{"POST", s.url("/"), "", {}});
  REQUIRE(r.has_value());
  CHECK((*r)->body == "ok");
}

TEST_CASE("http client: form escaping and Retry-After values") {
  std::string out;
  http::form_escape_append(out, "up{job=\"a b\"} / 2~_.-");
  CHECK(out == "up%7Bjob%3D%22a%20b%22%7D%20%2F%202~_.-");
  CHECK(http::parse_retry_after(" 120\r\n") == 120'000);
  CHECK(http::parse_retry_after("soon") == -1);
  CHECK(http::parse_retry_after("") == -1);
  // An HTTP date in the past is "now".
  CHECK(http::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0);
  CHECK(http::transport_kind_name(TransportKind::kTimeout) == "timeout");
  CHECK(http::transport_kind_name(TransportKind::kTooLarge) == "too_large");
}

TEST_CASE("http client: errors made before libcurl runs, and other errors, through the accessors") {
  // tls.server_name parses the URL first: an unparsable one is kInvalid with no CURLcode, and
  // its reason is the message itself.
  Options o;
  o.tls.server_name = "example.org";
  Client c(o);
  auto r = c.send(Request{"POST", "http://[::1", "", {}});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind == ErrorKind::kTransport);
  CHECK(http::transport_kind(r.error()) == TransportKind::kInvalid);
  CHECK(r.error().code == "invalid");
  CHECK(http::curl_code(r.error()) == 0);
  CHECK(r.error().message == "invalid URL \"http://[::1\"");
  CHECK(http::transport_reason(r.error()) == r.error().message);
  // Errors that are not the client's.
  const Error api(ErrorKind::kApi, "boom");
  CHECK(http::transport_kind(api) == TransportKind::kNone);
  CHECK(http::curl_code(api) == 0);
  Error odd(ErrorKind::kTransport, "x");
  odd.code = "weird:abc";
  CHECK(http::transport_kind(odd) == TransportKind::kNone);
  CHECK(http::curl_code(odd) == 0);
  CHECK(http::transport_reason(odd) == "x");
}

TEST_CASE("http client: AWS SigV4 signing, and Expect kept off the signed headers") {
  LocalServer s;
  std::string seen_auth, seen_date, seen_token;
  s.server().Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    seen_auth = req.get_header_value("Authorization");
    seen_date = req.get_header_value("X-Amz-Date");
    seen_token = req.get_header_value("X-Amz-Security-Token");
    res.set_content("<ok/>", "text/xml");
  });
  Options o;
  o.aws_sigv4 = "aws:amz:us-east-1:sns";
  o.aws_access_key = "AKIDEXAMPLE";
  o.aws_secret_key = "secret";
  o.suppress_expect = false;
  Client c(o);
  const std::vector<std::string> headers = {
      "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
      "X-Amz-Security-Token: session"};
  auto r = c.send(Request{"POST", s.url("/"), "Action=Publish", headers});
  REQUIRE(r.has_value());
  CHECK((*r)->status == 200);
  CHECK(seen_auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  CHECK(seen_auth.find("/us-east-1/sns/aws4_request") != std::string::npos);
  CHECK(seen_auth.find("SignedHeaders=") != std::string::npos);
  CHECK(seen_auth.find("expect") == std::string::npos);
  CHECK(seen_auth.find("x-amz-security-token") != std::string::npos);
  CHECK(seen_date.size() == 16);  // 20261205T000000Z
  CHECK(seen_token == "session");
}
