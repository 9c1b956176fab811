// libFuzzer target: the strict XML reader of AWS query-protocol answers (notifiers' aws_sts.cpp,
// STS AssumeRole and error documents). Must never crash, hang or throw: every outcome is a list
// of elements or an Error with a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "aws_sts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = ruleeval::notifiers::detail::parse_aws_xml(text);
  if (!doc && doc.error().message.empty()) __builtin_trap();
  return 0;
}
