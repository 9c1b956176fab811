// Pyrra (pyrra.dev/v1alpha1 ServiceLevelObjective) rule generation.
#include "ruleeval/slo/slo.hpp"

namespace ruleeval::slo {

Result<SloResult> generate_pyrra(const Slo& in, const GenerateOptions&) {
  return make_error("Pyrra ServiceLevelObjective specs are parsed and validated, but generating "
                    "their rules is not implemented yet",
                    in.where);
}

}  // namespace ruleeval::slo
