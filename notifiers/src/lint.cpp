#include "ruleeval/notifiers/lint.hpp"

#include <map>
#include <set>

#include "ruleeval/notifiers/dispatch.hpp"

namespace ruleeval::notifiers {

namespace {

void collect_refs(const RouteConfig& r, std::vector<const RouteConfig*>& out) {
  out.push_back(&r);
  for (const auto& c : r.routes) collect_refs(c, out);
}

}  // namespace

std::vector<RouteFinding> lint_routes(const NotifyConfig& config,
                                      const std::vector<Labels>& alert_label_sets) {
  std::vector<RouteFinding> out;
  std::vector<const RouteConfig*> routes;
  collect_refs(config.route, routes);
  std::set<std::string> used;
  for (const auto* r : routes) {
    if (r->receiver.empty()) continue;
    used.insert(r->receiver);
    if (!config.find_receiver(r->receiver)) {
      out.push_back({"route uses undefined receiver \"" + r->receiver + "\"", r->where});
    }
  }
  std::map<std::string, int> count;
  for (const auto& rc : config.receivers) {
    if (++count[rc.name] == 2) out.push_back({"receiver \"" + rc.name + "\" is defined twice", rc.where});
    if (!used.count(rc.name)) {
      out.push_back({"receiver \"" + rc.name + "\" is not used by any route", rc.where});
    }
  }
  if (alert_label_sets.empty() || config.route.routes.empty()) return out;
  // Matching only needs the matchers; build a tree even if receivers are missing.
  NotifyConfig copy = config;
  std::set<std::string> names;
  for (const auto& rc : copy.receivers) names.insert(rc.name);
  for (const auto* r : routes) {
    if (!r->receiver.empty() && !names.count(r->receiver)) {
      ReceiverConfig stub;
      stub.name = r->receiver;
      copy.receivers.push_back(stub);
      names.insert(r->receiver);
    }
  }
  auto tree = RouteTree::build(copy);
  if (!tree) {
    out.push_back({tree.error().message, tree.error().where});
    return out;
  }
  for (const auto& ls : alert_label_sets) {
    auto matched = (*tree)->match(ls);
    if (matched.size() == 1 && matched[0] == &(*tree)->root()) {
      out.push_back({"alert " + ls.to_string() +
                         " matches no route; only the default receiver \"" +
                         config.route.receiver + "\" gets it",
                     config.route.where});
    }
  }
  return out;
}

}  // namespace ruleeval::notifiers
