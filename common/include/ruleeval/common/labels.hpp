// Labels: an immutable, sorted set of (name, value) pairs with a cached 64-bit hash.
// This is the identity of a series and of an alert instance. Thread-safety: a Labels value is
// immutable once built and may be shared across threads; LabelsBuilder is single-threaded.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ruleeval {

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

inline constexpr std::string_view kMetricName = "__name__";

class Labels {
 public:
  Labels() = default;
  // Sorts by name; on duplicate names the last one wins. Empty values are dropped, because in
  // Prometheus a label with an empty value is the same as a missing label.
  Labels(std::initializer_list<Label> init);
  static Labels from_vector(std::vector<Label> labels);
  // Like from_vector, but the caller promises the input is sorted, unique and has no empty values.
  static Labels from_sorted(std::vector<Label> labels);

  std::span<const Label> items() const { return labels_; }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }

  // Value of `name`, or "" when absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  std::string_view metric_name() const { return get(kMetricName); }

  uint64_t hash() const { return hash_; }
  // Hash over only the named labels (for `on(...)` / `by(...)`), names need not be sorted.
  uint64_t hash_for(std::span<const std::string> names) const;
  // Hash over all labels except the named ones and __name__ (for `ignoring(...)` / `without(...)`).
  uint64_t hash_without(std::span<const std::string> names) const;

  Labels keep_only(std::span<const std::string> names) const;
  Labels drop(std::span<const std::string> names) const;
  Labels without_metric_name() const;

  // Prometheus's form: {a="b", c="d"}; __name__ is written in front: name{a="b"}.
  std::string to_string() const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.hash_ == b.hash_ && a.labels_ == b.labels_;
  }
  // Prometheus's order: label by label, names then values.
  friend bool operator<(const Labels& a, const Labels& b);

 private:
  void rehash();
  std::vector<Label> labels_;
  uint64_t hash_ = 0;
};

// Mutable builder, for functions that add, replace and remove labels.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base);
  LabelsBuilder& set(std::string_view name, std::string_view value);  // empty value deletes
  LabelsBuilder& del(std::string_view name);
  std::string_view get(std::string_view name) const;
  Labels build() const;

 private:
  std::vector<Label> labels_;  // kept sorted
};

// Go's strconv.Quote-compatible quoting, used wherever Prometheus prints label values.
std::string go_quote(std::string_view s);

}  // namespace ruleeval

template <>
struct std::hash<ruleeval::Labels> {
  size_t operator()(const ruleeval::Labels& l) const noexcept { return l.hash(); }
};
