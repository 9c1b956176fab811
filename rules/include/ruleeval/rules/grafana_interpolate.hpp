// Grafana's interpolation of values in provisioning files (pkg/services/provisioning/values):
// `$$` is a literal `$`; `${NAME}` and `$__env{NAME}` are environment variables (HOSTNAME falls
// back to the host name), `$__file{path}` is the trimmed content of a file; then `$NAME` and
// `${NAME}` are expanded as Go's os.ExpandEnv does (an unset variable is empty). Grafana applies
// it to contact points (name, uid, type, every string in settings, disableResolveMessage), to the
// whole notification policy tree and to alert rules' fields, not to templates or mute timings.
// Thread-safety: reads the environment and files only.
#pragma once

#include <string>
#include <string_view>

#include "ruleeval/common/error.hpp"

namespace ruleeval::rules {

// The interpolated value; an error (without a location) when a `$__file{}` cannot be read or an
// expander Grafana does not ship in its open-source build (`$__vault{}`) is used.
Result<std::string> grafana_interpolate(std::string_view value);

}  // namespace ruleeval::rules
