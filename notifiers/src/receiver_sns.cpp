// Amazon SNS (Alertmanager 0.25's notify/sns): one Publish call per notification, in the AWS
// query protocol (a form body aws-sdk-go builds: Action, Version, Message, MessageAttributes.
// entry.N.*, Subject, TopicArn / TargetArn / PhoneNumber, and for FIFO topics
// MessageDeduplicationId and MessageGroupId = sha256 of the group key), signed with AWS SigV4
// (libcurl's, through the shared HTTP client: aws_signed_post). Credentials: sigv4.access_key
// + secret_key, else the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), else the shared
// credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile sigv4.profile,
// AWS_PROFILE or "default"); with sigv4.role_arn those are the base credentials of an STS
// AssumeRole (aws_sts.hpp) and the request is signed with the temporary credentials and their
// X-Amz-Security-Token. EC2/ECS instance roles are reported as not implemented.
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "aws_sts.hpp"
#include "http_client.hpp"
#include "ruleeval/common/env.hpp"
#include "receivers_am2.hpp"

namespace ruleeval::notifiers::detail {

using nlohmann::json;

namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

std::string env(const char* name) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in ruleeval calls setenv while it runs
  const char* v = std::getenv(name);
  return v ? v : "";
}

using Credentials = AwsCredentials;

// aws-sdk-go's default chain as far as ruleeval follows it: static keys, environment, shared
// credentials file.
Result<Credentials> credentials_for(const SnsConfig& c) {
  if (!c.access_key.empty() && !c.secret_key.empty()) return Credentials{c.access_key, c.secret_key, ""};
  Credentials e{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  if (e.access_key.empty()) e.access_key = env("AWS_ACCESS_KEY");
  if (e.secret_key.empty()) e.secret_key = env("AWS_SECRET_KEY");
  if (!e.access_key.empty() && !e.secret_key.empty()) return e;
  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty()) file = env("HOME") + "/.aws/credentials";
  std::string profile = !c.profile.empty() ? c.profile : env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  auto text = file.empty() ? Result<std::string>(make_error("no file"))
                           : Env::Default()->read_file(file, 1u << 20);
  if (text) {
    std::istringstream in(*text);
    Credentials f;
    std::string line, section;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t\r"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    while (std::getline(in, line)) {
      line = trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (line.front() == '[' && line.back() == ']') {
        section = trim(line.substr(1, line.size() - 2));
        continue;
      }
      if (section != profile) continue;
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
      if (k == "aws_access_key_id") f.access_key = v;
      if (k == "aws_secret_access_key") f.secret_key = v;
      if (k == "aws_session_token") f.session_token = v;
    }
    if (!f.access_key.empty() && !f.secret_key.empty()) return f;
  }
  return make_error(
      "sns: no AWS credentials: set sigv4.access_key and sigv4.secret_key, AWS_ACCESS_KEY_ID and "
      "AWS_SECRET_ACCESS_KEY, or profile \"" + profile + "\" in " +
      (file.empty() ? std::string("~/.aws/credentials") : file) +
      " (EC2/ECS instance roles are not implemented by ruleeval)");
}

std::string region_of(const SnsConfig& c) {
  if (!c.region.empty()) return c.region;
  return env("AWS_REGION");
}

}  // namespace

Result<std::string> sns_payload(const SnsConfig& c, const NotificationData& d, const Expander& x) {
  auto t = [&](const std::string& text) -> Result<std::string> { return x(text, d); };
  std::multimap<std::string, std::string> form{{"Action", "Publish"}, {"Version", "2010-03-31"}};
  // Max message size of a Publish request is 256 KiB, for SMS 1600 (bytes, as Alertmanager
  // counts them).
  size_t limit = size_t{256} * 1024;
  if (!c.topic_arn.empty()) {
    auto topic = t(c.topic_arn);
    if (!topic) return std::unexpected(topic.error());
    form.emplace("TopicArn", *topic);
    if (topic->ends_with(".fifo")) {
      form.emplace("MessageDeduplicationId", sha256_hex(d.group_key));
      form.emplace("MessageGroupId", sha256_hex(d.group_key));
    }
  }
  if (!c.phone_number.empty()) {
    auto phone = t(c.phone_number);
    if (!phone) return std::unexpected(phone.error());
    form.emplace("PhoneNumber", *phone);
    limit = 1600;
  }
  if (!c.target_arn.empty()) {
    auto target = t(c.target_arn);
    if (!target) return std::unexpected(target.error());
    form.emplace("TargetArn", *target);
  }
  std::map<std::string, std::string> attributes;
  for (const auto& [k, v] : c.attributes) {
    auto tk = t(k);
    if (!tk) return std::unexpected(tk.error());
    auto tv = t(v);
    if (!tv) return std::unexpected(tv.error());
    attributes[*tk] = *tv;
  }
  auto message = t(c.message);
  if (!message) return std::unexpected(message.error());
  if (!valid_utf8(*message)) return make_error("sns: non utf8 encoded message string");
  if (message->size() > limit) {
    message->resize(limit);
    attributes["truncated"] = "true";
  }
  form.emplace("Message", *message);
  if (attributes.empty()) {
    form.emplace("MessageAttributes", "");  // aws-sdk-go sends an empty map as "Name="
  }
  size_t n = 0;
  for (const auto& [k, v] : attributes) {
    std::string p = "MessageAttributes.entry." + std::to_string(++n);
    form.emplace(p + ".Name", k);
    form.emplace(p + ".Value.DataType", "String");
    form.emplace(p + ".Value.StringValue", v);
  }
  if (!c.subject.empty()) {
    auto subject = t(c.subject);
    if (!subject) return std::unexpected(subject.error());
    form.emplace("Subject", *subject);
  }
  std::string endpoint;
  if (!c.api_url.empty()) {
    auto u = t(c.api_url);
    if (!u) return std::unexpected(u.error());
    endpoint = *u;
  }
  return json{{"endpoint", endpoint}, {"body", form_encode(form)}}.dump();
}

SendResult sns_send(Env& env, const OutboxEntry& e, const SnsConfig& c) {
  SendResult r;
  json entry = json::parse(e.body, nullptr, false);
  if (entry.is_discarded() || !entry.is_object()) {
    r.error = "corrupt sns entry";
    return r;
  }
  const std::string region = region_of(c);
  if (region.empty()) {
    r.retryable = true;  // as Alertmanager: an error creating the client is retried
    r.error = "region not configured in sns.sigv4.region or in default credentials chain";
    return r;
  }
  auto creds = credentials_for(c);
  if (!creds) {
    r.retryable = true;
    r.error = creds.error().message;
    return r;
  }
  if (!c.role_arn.empty()) {
    // Alertmanager (aws-sdk-go-v2): the base credentials assume the role through STS; an STS
    // error goes to the Retrier with its status (403 is not retried, 5xx is), an answer that
    // cannot be read is retried.
    auto temporary = sts_assume_role(env, c.role_arn, region, *creds, c.http);
    if (!temporary) {
      r.status = temporary.error().status;
      r.retryable = temporary.error().retryable;
      r.error = "sns: " + temporary.error().message;
      return r;
    }
    creds = *temporary;
  }
  std::string endpoint = entry.value("endpoint", "");
  if (endpoint.empty()) endpoint = aws_configured_endpoint("SNS");
  if (endpoint.empty()) endpoint = aws_default_endpoint("sns", region);
  // aws-sdk-go appends the operation's path "/" to the endpoint's path.
  const std::string url = aws_operation_url(endpoint);
  const std::string body = entry.value("body", "");
  auto sent = aws_signed_post(env, url, c.http, "sns", region, *creds, body);
  if (!sent) {
    r.retryable = true;
    r.error = sent.error().message;
    return r;
  }
  if (!*sent) {
    r.retryable = true;
    r.error = "sns: POST failed: " + http::transport_reason(sent->error());
    return r;
  }
  const std::string& resp = (**sent)->body;
  const long status = (**sent)->status;
  r.status = status;
  if (status >= 200 && status < 300) {
    r.ok = true;
    return r;
  }
  // An AWS error document: <ErrorResponse><Error><Code>..</Code><Message>..</Message>.
  std::smatch m;
  std::string code, message = resp.substr(0, 512);
  static const std::regex kCode("<Code>([^<]*)</Code>"), kMessage("<Message>([^<]*)</Message>");
  if (std::regex_search(resp, m, kCode)) code = m[1];
  if (std::regex_search(resp, m, kMessage)) message = m[1];
  r.error = "sns: unexpected status code " + std::to_string(status) +
            (code.empty() ? "" : " (" + code + ")") + ": " + message;
  r.retryable = status >= 500;  // Alertmanager's Retrier: 5xx only
  return r;
}

}  // namespace ruleeval::notifiers::detail
