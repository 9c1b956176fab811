#include "ruleeval/notifiers/notification.hpp"
#include "ruleeval/notifiers/grafana_provisioning.hpp"
#include "ruleeval/common/escape.hpp"
#include "ruleeval/common/time_format.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <ctime>

namespace ruleeval::notifiers {

std::vector<const AlertData*> NotificationData::firing() const {
  std::vector<const AlertData*> out;
  for (const auto& a : alerts) {
    if (a.status == "firing") out.push_back(&a);
  }
  return out;
}

std::vector<const AlertData*> NotificationData::resolved() const {
  std::vector<const AlertData*> out;
  for (const auto& a : alerts) {
    if (a.status == "resolved") out.push_back(&a);
  }
  return out;
}

namespace {

// Labels present with the same value in every set.
Labels common_of(const std::vector<const Labels*>& sets) {
  if (sets.empty()) return {};
  std::vector<Label> out(sets[0]->begin(), sets[0]->end());
  for (size_t i = 1; i < sets.size(); ++i) {
    std::erase_if(out, [&](const Label& l) { return sets[i]->get(l.name) != l.value; });
  }
  return Labels::from_sorted(std::move(out));
}

}  // namespace

NotificationData make_notification_data(const std::string& receiver, std::string group_key,
                                        Labels group_labels, const std::vector<rules::Alert>& alerts,
                                        std::string external_url, Millis now) {
  NotificationData d;
  // Alertmanager's template.Data: Receiver is regexp.QuoteMeta(name) (so are the templates'
  // .Receiver, the webhook payload's "receiver" and the default alertmanager URL's query).
  d.receiver.reserve(receiver.size());
  for (char c : receiver) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) d.receiver += '\\';
    d.receiver += c;
  }
  d.group_key = std::move(group_key);
  d.group_labels = std::move(group_labels);
  d.external_url = std::move(external_url);
  bool any_firing = false;
  std::vector<const Labels*> ls, as;
  for (const auto& a : alerts) {
    AlertData ad;
    bool resolved = a.resolved_at(now);
    any_firing |= !resolved;
    ad.status = resolved ? "resolved" : "firing";
    ad.labels = without_grafana_private_labels(a.labels);  // routed on, not shown
    ad.annotations = a.annotations;
    ad.starts_at = go_time(a.starts_at);
    // Alertmanager shows the zero time for alerts that are still firing.
    ad.ends_at = go_time(resolved ? a.ends_at : 0);
    ad.generator_url = a.generator_url;
    ad.fingerprint = fingerprint_hex(a.labels);
    d.alerts.push_back(std::move(ad));
  }
  for (const auto& a : d.alerts) {
    ls.push_back(&a.labels);
    as.push_back(&a.annotations);
  }
  d.status = any_firing ? "firing" : "resolved";
  if (!alerts.empty() && alerts.front().labels.has("__alert_rule_uid__")) {
    LabelsBuilder gb(d.group_labels);
    gb.set("__alert_rule_uid__", "x");  // marks the set as a Grafana alert's for the filter
    d.group_labels = without_grafana_private_labels(gb.build());
  }
  d.common_labels = common_of(ls);
  d.common_annotations = common_of(as);
  return d;
}

uint64_t fingerprint(const Labels& labels) {
  uint64_t h = 14695981039346656037ULL;
  auto add = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  if (labels.empty()) return h;
  for (const auto& l : labels) {
    add(l.name);
    add("\xff");
    add(l.value);
    add("\xff");
  }
  return h;
}

std::string fingerprint_hex(const Labels& labels) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fingerprint(labels)));
  return buf;
}

std::string format_time(Millis ms) {
  if (ms == 0) return "0001-01-01T00:00:00Z";
  return format_rfc3339_ms(ms);
}

std::string format_time(const tmpl::Time& t) {
  return format_time(t.is_zero() ? 0 : ns_to_ms(t.unix_nanos));
}

tmpl::Time go_time(Millis ms) { return ms == 0 ? tmpl::Time{} : tmpl::Time{ms_to_ns(ms)}; }


// SHA-256 (FIPS 180-4), small and dependency-free.
std::string sha256_hex(std::string_view data) {
  static constexpr std::array<uint32_t, 64> k = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  std::array<uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string msg(data);
  uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  msg += static_cast<char>(0x80);
  while (msg.size() % 64 != 56) msg += '\0';
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((bits >> (i * 8)) & 0xff);
  auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (size_t off = 0; off < msg.size(); off += 64) {
    std::array<uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i) {
      const auto* p =
          reinterpret_cast<const unsigned char*>(msg.data() + off + static_cast<size_t>(i) * 4);
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto v = h;
    for (int i = 0; i < 64; ++i) {
      uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      uint32_t t1 = v[7] + s1 + ch + k[i] + w[i];
      uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      uint32_t t2 = s0 + maj;
      v[7] = v[6];
      v[6] = v[5];
      v[5] = v[4];
      v[4] = v[3] + t1;
      v[3] = v[2];
      v[2] = v[1];
      v[1] = v[0];
      v[0] = t1 + t2;
    }
    for (int i = 0; i < 8; ++i) h[i] += v[i];
  }
  std::string out;
  char buf[9];
  for (uint32_t x : h) {
    std::snprintf(buf, sizeof buf, "%08x", x);
    out += buf;
  }
  return out;
}

std::vector<Label> sorted_pairs(const Labels& labels) {
  std::vector<Label> out;
  out.reserve(labels.size());
  if (labels.has("alertname")) out.push_back({"alertname", std::string(labels.get("alertname"))});
  for (const auto& l : labels) {
    if (l.name != "alertname") out.push_back(l);
  }
  return out;
}

std::string default_subject(const NotificationData& d) {
  std::string out = "[";
  std::string st = d.status;
  std::transform(st.begin(), st.end(), st.begin(), [](unsigned char c) { return std::toupper(c); });
  out += st;
  if (d.status == "firing") out += ":" + std::to_string(d.firing().size());
  out += "] ";
  bool first = true;
  for (const auto& l : sorted_pairs(d.group_labels)) {
    if (!first) out += ' ';
    out += l.value;
    first = false;
  }
  out += ' ';
  if (d.common_labels.size() > d.group_labels.size()) {
    out += '(';
    bool f2 = true;
    for (const auto& l : sorted_pairs(d.common_labels)) {
      if (d.group_labels.has(l.name)) continue;
      if (!f2) out += ' ';
      out += l.value;
      f2 = false;
    }
    out += ')';
  }
  return out;
}


std::string alerts_url(const NotificationData& d) {
  return d.external_url + "/#/alerts?receiver=" + url_query_escape(d.receiver);
}

std::string truncate_runes(std::string_view s, size_t n, bool* truncated) {
  // Byte offsets of rune starts.
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (truncated) *truncated = starts.size() > n;
  if (starts.size() <= n) return std::string(s);
  if (n <= 3) return std::string(s.substr(0, n < starts.size() ? starts[n] : s.size()));
  return std::string(s.substr(0, starts[n - 1])) + "…";
}

}  // namespace ruleeval::notifiers
