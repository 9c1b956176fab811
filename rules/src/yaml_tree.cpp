#include "yaml_tree.hpp"

#include <yaml.h>

#include <unordered_map>

namespace ruleeval::rules::yml {

namespace {
const std::string kEmpty;
}

const std::string& Node::Scalar() const {
  return d_ != nullptr && d_->type == NodeType::Scalar ? d_->scalar : kEmpty;
}

size_t Node::size() const {
  if (d_ == nullptr) return 0;
  if (d_->type == NodeType::Map) return d_->items.size() / 2;
  if (d_->type == NodeType::Sequence) return d_->items.size();
  return 0;
}

Node Node::operator[](size_t i) const {
  if (d_ == nullptr || d_->type != NodeType::Sequence || i >= d_->items.size()) return Node();
  return Node(d_->items[i]);
}

Node::iterator Node::begin() const {
  return iterator(d_, 0);
}

Node::iterator Node::end() const {
  const size_t n = d_ == nullptr || (d_->type != NodeType::Map && d_->type != NodeType::Sequence)
                       ? 0
                       : d_->items.size();
  return iterator(d_, n);
}

Item Node::iterator::operator*() const {
  Item it;
  if (d_->type == NodeType::Map) {
    it.first = Node(d_->items[i_]);
    it.second = Node(d_->items[i_ + 1]);
    static_cast<Node&>(it) = it.first;
  } else {
    static_cast<Node&>(it) = Node(d_->items[i_]);
  }
  return it;
}

namespace {

Mark to_mark(const yaml_mark_t& m) {
  return Mark{static_cast<int>(m.index), static_cast<int>(m.line), static_cast<int>(m.column)};
}

bool is_null_scalar(std::string_view v) {
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

struct Parser {
  yaml_parser_t p{};
  Parser() { yaml_parser_initialize(&p); }
  ~Parser() { yaml_parser_delete(&p); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
};

struct Event {
  yaml_event_t e{};
  bool live = false;
  ~Event() {
    if (live) yaml_event_delete(&e);
  }
};

}  // namespace

void load_all(std::string_view text, Stream& out, size_t max_expanded_nodes) {
  Parser parser;
  yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  std::vector<NodeData*> stack;
  std::vector<std::string> stack_anchor;
  // Children of the open containers, innermost last: each container's items are allocated once,
  // at its end, with their exact size (growing every mapping's vector one push at a time cost
  // several reallocations per node in a 10,000-rule file).
  std::vector<const NodeData*> open_items;
  std::vector<size_t> open_from;  // where each open container's children start in open_items
  std::unordered_map<std::string, const NodeData*> anchors;
  auto attach = [&](const NodeData* n) {
    if (stack.empty()) {
      out.documents.emplace_back(n);
    } else {
      open_items.push_back(n);
    }
  };
  for (;;) {
    Event ev;
    if (yaml_parser_parse(&parser.p, &ev.e) == 0) {
      std::string msg = parser.p.problem != nullptr ? parser.p.problem : "invalid YAML";
      if (parser.p.context != nullptr) msg.insert(0, std::string(parser.p.context) + ": ");
      throw Exception(to_mark(parser.p.problem_mark), msg);
    }
    ev.live = true;
    const yaml_event_t& e = ev.e;
    switch (e.type) {
      case YAML_STREAM_END_EVENT:
        return;
      case YAML_DOCUMENT_START_EVENT:
        anchors.clear();  // anchors are local to a document
        break;
      case YAML_SCALAR_EVENT: {
        NodeData& n = out.new_node();
        n.mark = to_mark(e.start_mark);
        n.scalar.assign(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        switch (e.data.scalar.style) {
          case YAML_SINGLE_QUOTED_SCALAR_STYLE:
            n.style = '\'';
            break;
          case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
            n.style = '"';
            break;
          case YAML_LITERAL_SCALAR_STYLE:
            n.style = '|';
            break;
          case YAML_FOLDED_SCALAR_STYLE:
            n.style = '>';
            break;
          default:
            n.style = 0;
        }
        const bool plain_untagged = n.style == 0 && e.data.scalar.plain_implicit != 0;
        n.type = plain_untagged && is_null_scalar(n.scalar) ? NodeType::Null : NodeType::Scalar;
        if (e.data.scalar.anchor != nullptr) {
          anchors[reinterpret_cast<const char*>(e.data.scalar.anchor)] = &n;
        }
        attach(&n);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        NodeData& n = out.new_node();
        n.mark = to_mark(e.start_mark);
        const bool seq = e.type == YAML_SEQUENCE_START_EVENT;
        n.type = seq ? NodeType::Sequence : NodeType::Map;
        const yaml_char_t* anchor = seq ? e.data.sequence_start.anchor : e.data.mapping_start.anchor;
        stack.push_back(&n);
        open_from.push_back(open_items.size());
        stack_anchor.emplace_back(anchor != nullptr ? reinterpret_cast<const char*>(anchor) : "");
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        NodeData* n = stack.back();
        stack.pop_back();
        const size_t from = open_from.back();
        open_from.pop_back();
        n->items.assign(open_items.begin() + static_cast<std::ptrdiff_t>(from), open_items.end());
        open_items.resize(from);
        std::string anchor = std::move(stack_anchor.back());
        stack_anchor.pop_back();
        size_t w = 1;
        for (const NodeData* c : n->items) w += c->weight;
        n->weight = w;
        if (w > max_expanded_nodes) {
          throw Exception(n->mark, "document too large after expanding aliases");
        }
        if (!anchor.empty()) anchors[anchor] = n;
        attach(n);
        break;
      }
      case YAML_ALIAS_EVENT: {
        auto it = anchors.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors.end()) {
          throw Exception(to_mark(e.start_mark),
                          std::string("unknown anchor '") +
                              reinterpret_cast<const char*>(e.data.alias.anchor) +
                              "' referenced");
        }
        attach(it->second);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace ruleeval::rules::yml
