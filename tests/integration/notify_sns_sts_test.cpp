// SNS sigv4.role_arn: the base credentials assume the role through AWS STS and the Publish
// request is signed with the temporary credentials and their session token. A local Python
// server (aws_server.py) plays STS and SNS: it recomputes the SigV4 signature of every request
// (sigv4.py: hmac/hashlib, independent of libcurl's signer) with the base secret (AssumeRole) or
// the temporary secret it issued (Publish), and answers STS errors and malformed documents for
// some roles.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "notify_scripts.hpp"
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<json> records(const fs::path& log, const std::string& kind) {
  std::vector<json> out;
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    json r = json::parse(line, nullptr, false);
    if (r.is_object() && r.value("kind", "") == kind) out.push_back(r);
  }
  return out;
}

rules::Alert make(const std::string& name, Millis now) {
  rules::Alert a;
  a.labels = Labels{{"alertname", name}, {"severity", "critical"}};
  a.annotations = Labels{{"summary", "disk <full> & more"}};
  a.starts_at = now - 30'000;
  a.ends_at = now + 600'000;
  return a;
}

struct EnvGuard {
  std::vector<std::string> names;
  EnvGuard(std::initializer_list<std::pair<const char*, std::string>> vars) {
    for (const char* n : {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SNS",
                          "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_ACCESS_KEY_ID",
                          "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"}) {
      ::unsetenv(n);  // NOLINT(concurrency-mt-unsafe): before the notifier starts
      names.emplace_back(n);
    }
    for (const auto& [k, v] : vars) {
      ::setenv(k, v.c_str(), 1);  // NOLINT(concurrency-mt-unsafe): before the notifier starts
      names.emplace_back(k);
    }
  }
  ~EnvGuard() {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): unset after the notifier has stopped
    for (const auto& n : names) ::unsetenv(n.c_str());
  }
};

}  // namespace

TEST_CASE(
    "sns sigv4.role_arn: AssumeRole signed with the base keys, Publish signed with the "
    "temporary keys and session token, cached until shortly before expiry") {
  const auto dir = fresh_dir("ruleeval_sns_sts_");
  const int port = free_port();
  // Credentials live 63 s: valid for 3 s under the 60 s refresh window.
  ChildProcess server(
      python_argv("aws_server.py", {std::to_string(port), (dir / "requests.jsonl").string(), "63"}),
      (dir / "server.log").string());
  REQUIRE(wait_port(port, 10'000));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  // The Go SDK's service-specific endpoint setting; a path on it is kept.
  EnvGuard env{{"AWS_ENDPOINT_URL_STS", base + "/sts-local"},
               {"AWS_ENDPOINT_URL_SNS", base + "/sns-from-env"}};
  std::string yaml =
      "route:\n  receiver: good\n  group_by: [alertname]\n  group_wait: 0s\n"
      "  routes:\n";
  for (const char* r : {"deny", "garbled", "busy", "noapi"}) {
    yaml += std::string("    - receiver: ") + r + "\n      matchers: [alertname=\"" + r + "\"]\n";
  }
  yaml += "receivers:\n";
  for (const char* r : {"good", "deny", "garbled", "busy"}) {
    yaml += std::string("  - name: ") + r + "\n    sns_configs:\n      - api_url: " + base +
            "/sns-" + r +
            "\n        topic_arn: arn:aws:sns:eu-central-1:123456789012:alerts\n"
            "        sigv4:\n          region: eu-central-1\n          access_key: AKIDBASE\n"
            "          secret_key: base/Secret+Key\n"
            "          role_arn: arn:aws:iam::123456789012:role/" +
            r + "\n";
  }
  // Without api_url: the SNS endpoint of AWS_ENDPOINT_URL_SNS.
  yaml +=
      "  - name: noapi\n    sns_configs:\n      - topic_arn: arn:aws:sns:eu-central-1:1:x\n"
      "        sigv4: {region: eu-central-1, access_key: AKIDBASE, secret_key: base/Secret+Key,"
      " role_arn: 'arn:aws:iam::123456789012:role/noapi'}\n";
  auto cfg = parse_alertmanager_config(yaml, "alertmanager.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  NotifierOptions o;
  o.external_url = "http://alertmanager.test:9093";
  o.backoff_initial_ms = 200;
  o.backoff_max_ms = 400;
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  const fs::path log = dir / "requests.jsonl";
  auto fire = [&](const std::string& name) {
    Millis now = Env::Default()->now_ms();
    (*n)->send(std::vector<rules::Alert>{make(name, now)}, now);
  };
  auto wait_sns = [&](size_t k) {
    for (int i = 0; i < 500 && records(log, "sns").size() < k; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return records(log, "sns").size() >= k;
  };

  fire("First");
  REQUIRE(wait_sns(1));
  fire("Second");  // the temporary credentials are reused
  REQUIRE(wait_sns(2));
  {
    auto sts = records(log, "sts");
    REQUIRE(sts.size() == 1);
    const json& a = sts[0];
    CHECK(a["sig"] == "ok");
    CHECK(a["path"] == "/sts-local/");
    CHECK(a["scope"]["ak"] == "AKIDBASE");
    CHECK(a["scope"]["region"] == "eu-central-1");
    CHECK(a["scope"]["service"] == "sts");
    CHECK(a["form"]["Action"] == "AssumeRole");
    CHECK(a["form"]["Version"] == "2011-06-15");
    CHECK(a["form"]["DurationSeconds"] == "900");
    CHECK(a["form"]["RoleArn"] == "arn:aws:iam::123456789012:role/good");
    CHECK(a["form"]["RoleSessionName"].get<std::string>().size() >= 19);  // Unix nanoseconds
    CHECK(a["form"]["RoleSessionName"].get<std::string>().find_first_not_of("0123456789") ==
          std::string::npos);
    CHECK(a["form"].size() == 5);
    CHECK(a["headers"]["content-type"] == "application/x-www-form-urlencoded; charset=utf-8");
    auto sns = records(log, "sns");
    for (const auto& p : sns) {
      CAPTURE(p.dump());
      CHECK(p["path"] == "/sns-good/");
      CHECK(p["sig"] == "ok");  // temporary key, its secret, its token (signed)
      CHECK(p["scope"]["ak"] == a["issued"]["ak"]);
      CHECK(p["scope"]["service"] == "sns");
      CHECK(p["headers"]["x-amz-security-token"] == a["issued"]["token"]);
      CHECK(p["form"]["Action"] == "Publish");
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  fire("Third");  // inside the refresh window: assumed again
  REQUIRE(wait_sns(3));
  {
    auto sts = records(log, "sts");
    REQUIRE(sts.size() == 2);
    auto sns = records(log, "sns");
    CHECK(sns[2]["sig"] == "ok");
    CHECK(sns[2]["scope"]["ak"] == sts[1]["issued"]["ak"]);
    CHECK(sns[2]["scope"]["ak"] != sns[0]["scope"]["ak"]);
  }

  // STS failures: 403 is not retried (Alertmanager's Retrier), a malformed answer and a 503 are.
  for (const char* r : {"deny", "garbled", "busy"}) fire(r);
  auto metric = [&](const std::string& receiver) {
    for (const auto& m : (*n)->metrics()) {
      if (m.receiver == receiver) return m;
    }
    return IntegrationMetrics{};
  };
  for (int i = 0; i < 500; ++i) {
    if (metric("deny").failed > 0 && metric("garbled").retried >= 2 && metric("busy").sent > 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto deny = metric("deny");
  CHECK(deny.failed == 1);
  CHECK(deny.retried == 0);
  CHECK(deny.sent == 0);
  CHECK(deny.last_error.find("unexpected status code 403 (AccessDenied): User: "
                             "arn:aws:iam::123456789012:user/am is not authorized") !=
        std::string::npos);
  auto garbled = metric("garbled");
  CHECK(garbled.retried >= 2);
  CHECK(garbled.sent == 0);
  CHECK(garbled.last_error.find("malformed XML") != std::string::npos);
  auto busy = metric("busy");
  CHECK(busy.retried >= 1);
  CHECK(busy.sent == 1);
  for (const auto& p : records(log, "sns")) {
    CHECK(p["sig"] == "ok");
    CHECK(p["path"] != "/sns-deny/");
    CHECK(p["path"] != "/sns-garbled/");
  }
  fire("noapi");
  bool from_env = false;
  for (int i = 0; i < 500 && !from_env; ++i) {
    for (const auto& p : records(log, "sns")) from_env |= p["path"] == "/sns-from-env/";
    if (!from_env) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(from_env);
  (*n)->stop();
  fs::remove_all(dir);
}

namespace {

std::string rfc3339(Millis ms) {
  time_t s = ms / 1000;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

// Debian's Alertmanager 0.25 (aws-sdk-go v1) sends AssumeRole to https://sts.amazonaws.com
// through Go's default client, which honours HTTPS_PROXY and AWS_CA_BUNDLE: the Python server
// doubles as that proxy and terminates the tunnel with a certificate for the STS host names.
TEST_CASE(
    "sns sigv4.role_arn: ruleeval assumes the role and signs Publish as a real "
    "Alertmanager does") {
  const auto dir = fresh_dir("ruleeval_sns_sts_am_");
  fs::create_directories(dir / "am");
  const CertFiles tls = self_signed_cert(
      dir, "sts.amazonaws.com", "DNS:sts.amazonaws.com,DNS:sts.us-east-1.amazonaws.com");
  const std::string cert = tls.cert;
  const int port = free_port();
  ChildProcess server(python_argv("aws_server.py", {std::to_string(port),
                                                    (dir / "requests.jsonl").string(), "900",
                                                    tls.cert, tls.key}),
                      (dir / "server.log").string());
  REQUIRE(wait_port(port, 10'000));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto yaml = [&](const std::string& who) {
    return "route:\n  receiver: aws\n  group_wait: 1s\nreceivers:\n  - name: aws\n"
           "    sns_configs:\n      - api_url: " +
           base + "/sns-" + who +
           "\n        topic_arn: arn:aws:sns:us-east-1:123456789012:alerts\n"
           "        subject: '{{ .CommonLabels.alertname }}'\n"
           "        sigv4:\n          region: us-east-1\n          access_key: AKIDBASE\n"
           "          secret_key: base/Secret+Key\n"
           "          role_arn: arn:aws:iam::123456789012:role/alertmanager-sns\n";
  };
  std::ofstream(dir / "am" / "alertmanager.yml") << yaml("am");
  const int am_port = free_port();
  std::unique_ptr<ChildProcess> am;
  {
    EnvGuard env{{"HTTPS_PROXY", base}, {"AWS_CA_BUNDLE", cert}};
    am = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/prometheus-alertmanager",
                                 "--config.file=" + (dir / "am" / "alertmanager.yml").string(),
                                 "--storage.path=" + (dir / "am" / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
                                 "--web.external-url=http://alertmanager.test:9093",
                                 "--cluster.listen-address="},
        (dir / "am.log").string());
  }
  REQUIRE(wait_port(am_port, 15'000));
  EnvGuard env{{"AWS_ENDPOINT_URL_STS", base + "/sts"}};
  auto cfg = parse_alertmanager_config(yaml("re"), "alertmanager.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  NotifierOptions o;
  o.external_url = "http://alertmanager.test:9093";
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE_MESSAGE(n, (n ? "" : n.error().to_string()));
  const Millis now = Env::Default()->now_ms();
  rules::Alert a = make("RoleParity", now);
  json post = json::array({{{"labels", {{"alertname", "RoleParity"}, {"severity", "critical"}}},
                            {"annotations", {{"summary", "disk <full> & more"}}},
                            {"startsAt", rfc3339(a.starts_at)},
                            {"endsAt", rfc3339(a.ends_at)}}});
  const std::string cmd =
      "/usr/bin/curl -s -o /dev/null -H 'Content-Type: application/json' "
      "-d '" +
      post.dump() + "' http://127.0.0.1:" + std::to_string(am_port) + "/api/v2/alerts";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): a test-owned command, no other thread runs system()
  REQUIRE(std::system(cmd.c_str()) == 0);
  (*n)->send(std::vector<rules::Alert>{a}, now);
  const fs::path log = dir / "requests.jsonl";
  auto by_path = [&](const std::string& path) {
    std::vector<json> out;
    for (const auto& r : records(log, "sns")) {
      if (r["path"] == path) out.push_back(r);
    }
    return out;
  };
  for (int i = 0; i < 1000 && (by_path("/sns-am/").empty() || by_path("/sns-re/").empty()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto sts = records(log, "sts");
  for (const auto& r : sts) MESSAGE(r.dump());
  REQUIRE(sts.size() == 2);
  const json& am_sts = sts[0]["tunnel"] != "" ? sts[0] : sts[1];
  const json& re_sts = sts[0]["tunnel"] != "" ? sts[1] : sts[0];
  CHECK(am_sts["tunnel"].get<std::string>().starts_with("sts."));
  // The same AssumeRole: signed with the base key for the STS scope of the region, the same
  // parameters and Content-Type (the session name is a timestamp in nanoseconds).
  for (const json* r : {&am_sts, &re_sts}) {
    CHECK((*r)["sig"] == "ok");
    CHECK((*r)["scope"]["ak"] == "AKIDBASE");
    CHECK((*r)["scope"]["region"] == "us-east-1");
    CHECK((*r)["scope"]["service"] == "sts");
    CHECK((*r)["form"]["RoleSessionName"].get<std::string>().size() >= 19);
  }
  CHECK(re_sts["headers"]["content-type"] == am_sts["headers"]["content-type"]);
  json am_form = am_sts["form"], re_form = re_sts["form"];
  am_form.erase("RoleSessionName");
  re_form.erase("RoleSessionName");
  CHECK(re_form == am_form);
  // Publish: the same body, signed with each one's temporary key and carrying its token.
  auto am_sns = by_path("/sns-am/"), re_sns = by_path("/sns-re/");
  REQUIRE(am_sns.size() == 1);
  REQUIRE(re_sns.size() == 1);
  CHECK(am_sns[0]["sig"] == "ok");
  CHECK(re_sns[0]["sig"] == "ok");
  CHECK(am_sns[0]["scope"]["ak"] == am_sts["issued"]["ak"]);
  CHECK(re_sns[0]["scope"]["ak"] == re_sts["issued"]["ak"]);
  CHECK(re_sns[0]["headers"]["x-amz-security-token"] == re_sts["issued"]["token"]);
  CHECK(re_sns[0]["form"] == am_sns[0]["form"]);
  (*n)->stop();
  fs::remove_all(dir);
}
