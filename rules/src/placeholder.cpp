// Placeholder so the library target exists before its first real source file lands.
namespace ruleeval { [[maybe_unused]] static int rules_placeholder = 0; }
