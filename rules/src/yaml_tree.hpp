// A small, fast YAML document tree built from libyaml's event parser (private to rules/src).
// This is the one place libyaml is used (tools/check_layers.py enforces it); yaml-cpp is the
// project's YAML library and reads every other file. Rule files come here for speed and for
// positions: yaml-cpp needs 4-9 s for a 10,000-rule file, libyaml parses it in well under a
// second; and lint maps columns through quoted and folded scalars, which needs the scalar style
// that yaml-cpp does not expose (ARCHITECTURE.md, "One YAML front end"). The API mirrors the part
// of yaml-cpp's Node the loaders use (Type, Scalar, Mark, size, iteration with .first/.second
// for mappings) so the decoders read the same either way.
// Nodes point into their Document; keep the documents alive while using the nodes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ruleeval::rules::yml {

struct Mark {
  int pos = -1;
  int line = -1;    // 0-based
  int column = -1;  // 0-based
  bool is_null() const { return line < 0; }
};

enum class NodeType : uint8_t { Null, Scalar, Sequence, Map };

struct NodeData {
  NodeType type = NodeType::Null;
  char style = 0;  // scalars: 0 plain, '\'', '"', '|', '>'
  Mark mark;
  std::string scalar;
  std::vector<const NodeData*> items;  // sequence items; mapping: key, value, key, value, ...
  size_t weight = 1;                   // nodes in the subtree, counting aliases expanded
};

class Node;

// What iterating a Node yields: a sequence item (the Node itself), or a mapping pair
// (.first = key, .second = value).
struct Item;

class Node {
 public:
  Node() = default;
  explicit Node(const NodeData* d) : d_(d) {}

  NodeType Type() const { return d_ == nullptr ? NodeType::Null : d_->type; }
  bool IsNull() const { return Type() == NodeType::Null; }
  bool IsScalar() const { return Type() == NodeType::Scalar; }
  bool IsSequence() const { return Type() == NodeType::Sequence; }
  bool IsMap() const { return Type() == NodeType::Map; }
  const std::string& Scalar() const;
  yml::Mark Mark() const { return d_ == nullptr ? yml::Mark{} : d_->mark; }
  char style() const { return d_ == nullptr ? char{0} : d_->style; }
  size_t size() const;
  Node operator[](size_t i) const;  // sequence item i (a null node when out of range)

  class iterator;
  iterator begin() const;
  iterator end() const;

 private:
  const NodeData* d_ = nullptr;
};

struct Item : Node {
  Node first;
  Node second;
};

class Node::iterator {
 public:
  iterator(const NodeData* d, size_t i) : d_(d), i_(i) {}
  Item operator*() const;
  iterator& operator++() {
    i_ += (d_ != nullptr && d_->type == NodeType::Map) ? 2 : 1;
    return *this;
  }
  bool operator!=(const iterator& o) const { return i_ != o.i_ || d_ != o.d_; }
  bool operator==(const iterator& o) const { return !(*this != o); }

 private:
  const NodeData* d_;
  size_t i_;
};

// Owns the nodes of every document of one stream.
class Stream {
 public:
  std::vector<Node> documents;

  // A new node with a stable address. Nodes live in blocks of 32 growing to 1024 (std::deque's
  // 512-byte blocks held six nodes: one malloc per six nodes of a 10,000-rule file's ~300,000).
  NodeData& new_node() {
    if (used_ == block_size_) {
      block_size_ = blocks_.empty() ? 32 : std::min<size_t>(block_size_ * 2, 1024);
      blocks_.push_back(std::make_unique<NodeData[]>(block_size_));
      used_ = 0;
    }
    return blocks_.back()[used_++];
  }

 private:
  std::vector<std::unique_ptr<NodeData[]>> blocks_;
  size_t block_size_ = 0;  // of the last block
  size_t used_ = 0;        // nodes handed out from the last block
};

struct Exception : std::runtime_error {
  Exception(yml::Mark m, std::string message)
      : std::runtime_error(message), mark(m), msg(std::move(message)) {}
  yml::Mark mark;
  std::string msg;
};

// Parses every document of `text`. Throws Exception on a syntax error, an unknown alias, or
// when aliases would expand to more than `max_expanded_nodes` nodes (alias bombs).
void load_all(std::string_view text, Stream& out, size_t max_expanded_nodes = 20'000'000);

}  // namespace ruleeval::rules::yml
