// The curl-free part of HTTP (ruleeval/common/http.hpp): transport errors and their kinds.
#include "ruleeval/common/http.hpp"

#include <charconv>
#include <string>
#include <system_error>
#include <utility>

namespace ruleeval::http {

Error transport_error(TransportKind k, std::string message, int curl, long status) {
  Error e(ErrorKind::kTransport, std::move(message));
  e.http_status = static_cast<int>(status);
  e.code = std::string(transport_kind_name(k));
  if (curl != 0) e.code += ":" + std::to_string(curl);
  return e;
}

std::string_view transport_kind_name(TransportKind k) {
  switch (k) {
    case TransportKind::kNone:
      return "";
    case TransportKind::kConnect:
      return "connect";
    case TransportKind::kTimeout:
      return "timeout";
    case TransportKind::kTls:
      return "tls";
    case TransportKind::kTooLarge:
      return "too_large";
    case TransportKind::kInvalid:
      return "invalid";
    case TransportKind::kTransfer:
      return "transfer";
    case TransportKind::kLocal:
      return "local";
  }
  return "unknown";
}

TransportKind transport_kind(const Error& e) {
  if (e.kind != ErrorKind::kTransport) return TransportKind::kNone;
  const std::string_view name = std::string_view(e.code).substr(0, e.code.find(':'));
  for (auto k : {TransportKind::kConnect, TransportKind::kTimeout, TransportKind::kTls,
                 TransportKind::kTooLarge, TransportKind::kInvalid, TransportKind::kTransfer,
                 TransportKind::kLocal}) {
    if (name == transport_kind_name(k)) return k;
  }
  return TransportKind::kNone;
}

int curl_code(const Error& e) {
  if (e.kind != ErrorKind::kTransport) return 0;
  const size_t colon = e.code.find(':');
  if (colon == std::string::npos) return 0;
  int code = 0;
  const char* first = e.code.data() + colon + 1;
  const char* last = e.code.data() + e.code.size();
  auto [end, ec] = std::from_chars(first, last, code);
  return ec == std::errc() && end == last ? code : 0;
}

}  // namespace ruleeval::http
