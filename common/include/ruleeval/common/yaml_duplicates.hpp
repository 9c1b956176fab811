// Repeated mapping keys in a YAML document: yaml-cpp keeps both and lookups see the first, while
// Prometheus and Alertmanager (go-yaml's strict mode) refuse them ("key ... already set in map").
// Generic over the node type so that this header needs no yaml-cpp; use with YAML::Node.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ruleeval {

struct DuplicateKey {
  std::string key;
  int line = 0;  // 1-based
  int column = 0;
};

// Iterative (no recursion on deeply nested documents).
template <class Node>
std::optional<DuplicateKey> find_duplicate_key(const Node& root) {
  std::vector<Node> stack{root};
  while (!stack.empty()) {
    Node n = stack.back();
    stack.pop_back();
    if (n.IsMap()) {
      std::set<std::string> seen;
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (it->first.IsScalar() && !seen.insert(it->first.Scalar()).second) {
          return DuplicateKey{it->first.Scalar(), it->first.Mark().line + 1,
                              it->first.Mark().column + 1};
        }
        stack.push_back(it->second);
      }
    } else if (n.IsSequence()) {
      for (auto it = n.begin(); it != n.end(); ++it) stack.push_back(*it);
    }
  }
  return std::nullopt;
}

}  // namespace ruleeval
