#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

#include "../support/local_http_server.hpp"
#include "ruleeval/engine/alert_state.hpp"
#include "ruleeval/engine/remote_write.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

// A remote-write endpoint on a free local port: decodes and records what it receives, or fails
// the next requests with `fail`.
class WriteReceiver {
 public:
  std::string url() const { return server_.url("/api/v1/write"); }
  void fail(int times, int status) {
    std::lock_guard lock(mu_);
    fail_next_ = times;
    fail_status_ = status;
  }

  std::mutex mu_;
  int requests_ = 0;
  int fail_next_ = 0;
  int fail_status_ = 500;
  std::string encoding_, version_, ctype_;
  std::vector<WriteSample> received_;

 private:
  // Last: it stops (and its handler ends) before the members the handler uses are destroyed.
  ruleeval::testing::LocalHttpServer server_{[this](httplib::Server& s) {
    s.Post("/api/v1/write", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++requests_;
      encoding_ = req.get_header_value("Content-Encoding");
      version_ = req.get_header_value("X-Prometheus-Remote-Write-Version");
      ctype_ = req.get_header_value("Content-Type");
      if (fail_next_ > 0) {
        --fail_next_;
        res.status = fail_status_;
        res.set_content("try later", "text/plain");
        return;
      }
      auto raw = snappy_uncompress(req.body);
      REQUIRE(raw.has_value());
      auto decoded = decode_write_request(*raw);
      REQUIRE(decoded.has_value());
      received_.insert(received_.end(), decoded->begin(), decoded->end());
      res.status = 204;
    });
  }};
};

WriteSample ws(std::string name, std::string job, Millis t, double v) {
  return {Labels{{"__name__", std::move(name)}, {"job", std::move(job)}}, t, v};
}

}  // namespace

TEST_CASE("a write request is encoded byte for byte as protobuf") {
  std::vector<WriteSample> one{{Labels{{"__name__", "up"}}, 1000, 1.0}};
  std::string got = encode_write_request(one);
  const unsigned char want[] = {0x0A, 0x1E,  // series
                                0x0A, 0x0E, 0x0A, 0x08, '_',  '_',  'n',  'a',
                                'm',  'e',  '_',  '_',  0x12, 0x02, 'u',  'p',  // label
                                0x12, 0x0C, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
                                0x00, 0xF0, 0x3F, 0x10, 0xE8, 0x07};  // sample
  REQUIRE(got.size() == sizeof(want));
  CHECK(std::equal(got.begin(), got.end(), std::begin(want),
                   [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; }));
}

TEST_CASE("write requests round-trip, grouping samples by series") {
  std::vector<WriteSample> in{ws("a", "x", 1000, 1),
                              ws("b", "x", 1000, 2),
                              ws("a", "x", 2000, 3),
                              {Labels{{"__name__", "neg"}}, -5000, stale_nan()},
                              {Labels{{"__name__", "inf"}}, 1, -std::numeric_limits<double>::infinity()}};
  std::string proto = encode_write_request(in);
  auto out = decode_write_request(proto);
  REQUIRE(out.has_value());
  REQUIRE(out->size() == 5);
  // Series order is first-seen; "a" has both of its samples together.
  CHECK((*out)[0].labels == in[0].labels);
  CHECK((*out)[1].labels == in[0].labels);
  CHECK((*out)[1].t == 2000);
  CHECK((*out)[1].v == 3);
  CHECK((*out)[2].labels == in[1].labels);
  CHECK((*out)[3].t == -5000);
  CHECK(is_stale_nan((*out)[3].v));
  CHECK((*out)[4].v == -INFINITY);

  SUBCASE("snappy round-trips and rejects garbage") {
    std::string big;
    for (int i = 0; i < 200; ++i) big += proto;
    std::string c = snappy_compress(big);
    CHECK(c.size() < big.size() / 4);
    CHECK(snappy_uncompress(c).value() == big);
    CHECK_FALSE(snappy_uncompress("\xff\xff\xff\xff\xff garbage").has_value());
  }
  SUBCASE("truncated protobuf gives an error with the byte offset") {
    auto bad = decode_write_request(std::string_view(proto).substr(0, proto.size() - 3));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message.find("invalid protobuf at byte") != std::string::npos);
  }
}

TEST_CASE("the remote-write queue batches, sends the v1 headers and drops the oldest when full") {
  WriteReceiver rx;
  RemoteWriteConfig cfg;
  cfg.http.url = rx.url();
  cfg.max_samples_per_send = 3;
  cfg.queue_capacity = 5;
  RemoteWriteQueue q(cfg);
  for (int i = 0; i < 7; ++i) q.push(ws("m", "j", Millis{1000} * i, i));
  CHECK(q.queued() == 5);
  CHECK(q.stats().samples_dropped_queue_full == 2);
  REQUIRE(q.flush().has_value());
  CHECK(q.queued() == 0);
  std::lock_guard lock(rx.mu_);
  CHECK(rx.requests_ == 2);  // 3 + 2
  CHECK(rx.encoding_ == "snappy");
  CHECK(rx.version_ == "0.1.0");
  CHECK(rx.ctype_ == "application/x-protobuf");
  REQUIRE(rx.received_.size() == 5);
  CHECK(rx.received_.front().v == 2);  // 0 and 1 were dropped
  CHECK(rx.received_.back().v == 6);
  CHECK(q.stats().samples_sent == 5);
}

TEST_CASE("the remote-write queue retries 5xx and 429 with backoff but not 4xx") {
  WriteReceiver rx;
  RemoteWriteConfig cfg;
  cfg.http.url = rx.url();
  cfg.max_attempts = 4;
  cfg.min_backoff_ms = 10;
  cfg.max_backoff_ms = 25;
  RemoteWriteQueue q(cfg);
  std::vector<Millis> sleeps;
  q.set_sleep_for_tests([&](Millis ms) { sleeps.push_back(ms); });

  SUBCASE("two 503s, then success") {
    rx.fail(2, 503);
    q.push(ws("m", "j", 1, 1));
    REQUIRE(q.flush().has_value());
    CHECK(sleeps == std::vector<Millis>{10, 20});
    CHECK(q.stats().retries == 2);
    CHECK(q.stats().samples_sent == 1);
  }
  SUBCASE("429 is retried too") {
    rx.fail(1, 429);
    q.push(ws("m", "j", 1, 1));
    REQUIRE(q.flush().has_value());
    CHECK(sleeps.size() == 1);
  }
  SUBCASE("retries are bounded and the backoff is capped") {
    rx.fail(10, 500);
    q.push(ws("m", "j", 1, 1));
    auto r = q.flush();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("HTTP 500") != std::string::npos);
    CHECK(sleeps == std::vector<Millis>{10, 20, 25});
    CHECK(q.stats().samples_failed == 1);
  }
  SUBCASE("a 400 is not retried") {
    rx.fail(1, 400);
    q.push(ws("m", "j", 1, 1));
    auto r = q.flush();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("HTTP 400: try later") != std::string::npos);
    CHECK(sleeps.empty());
  }
}

TEST_CASE("the background thread drains the queue and stop() flushes the rest") {
  WriteReceiver rx;
  RemoteWriteConfig cfg;
  cfg.http.url = rx.url();
  cfg.flush_interval_ms = 20;
  RemoteWriteQueue q(cfg);
  q.start();
  q.push(ws("m", "j", 1, 1));
  for (int i = 0; i < 200 && q.stats().samples_sent < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(q.stats().samples_sent == 1);
  q.push(ws("m", "j", 2, 2));
  q.stop();
  CHECK(q.stats().samples_sent == 2);
  CHECK(q.queued() == 0);
}
