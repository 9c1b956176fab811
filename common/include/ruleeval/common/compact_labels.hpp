// CompactLabels: a label set packed into one heap block, for state that is kept per alert
// instance or per written series (a million alerts must fit in well under a gigabyte). A Labels
// value costs a vector plus two std::string per label (64 bytes each before their text); this
// costs 8 bytes plus one shared allocation of 14 bytes, 2 per label (names and values under 128
// bytes) and the text.
//
// Same identity as the Labels it was made from: equal hash(), the same order (operator<) and the
// same to_string(). Immutable, so copies share the block (reference counted, atomically: a
// rule's static annotations are stored once for all its alerts, not once per alert).
// Thread-safety like Labels: a value may be read and copied from several threads at once.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "ruleeval/common/labels.hpp"

namespace ruleeval {

struct LabelView {
  std::string_view name;
  std::string_view value;
};

class CompactLabels {
 public:
  CompactLabels() = default;
  CompactLabels(const Labels& l);  // NOLINT(google-explicit-constructor): a lossless repacking
  CompactLabels(const CompactLabels& o);
  CompactLabels(CompactLabels&& o) noexcept : data_(o.data_) { o.data_ = nullptr; }
  CompactLabels& operator=(const CompactLabels& o);
  CompactLabels& operator=(CompactLabels&& o) noexcept;
  ~CompactLabels() { release(); }

  Labels to_labels() const;

  size_t size() const;
  bool empty() const { return size() == 0; }
  uint64_t hash() const;
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const { return !get(name).empty(); }
  std::string to_string() const;  // as Labels::to_string()

  // Forward iteration over (name, value) views into the block.
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = LabelView;
    using difference_type = std::ptrdiff_t;
    using pointer = const LabelView*;
    using reference = LabelView;
    iterator() = default;
    LabelView operator*() const;
    iterator& operator++();
    iterator operator++(int) {
      iterator t = *this;
      ++*this;
      return t;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.p_ == b.p_; }

   private:
    friend class CompactLabels;
    explicit iterator(const char* p) : p_(p) {}
    const char* p_ = nullptr;
  };
  iterator begin() const;
  iterator end() const;

  friend bool operator==(const CompactLabels& a, const CompactLabels& b);
  friend bool operator==(const CompactLabels& a, const Labels& b);
  friend bool operator<(const CompactLabels& a, const CompactLabels& b);

 private:
  size_t byte_size() const;  // hash, count, size and entries (without the reference count)
  const char* entries(size_t* count, size_t* bytes) const;  // needs data_
  void release() noexcept;
  // One block, 8 bytes per value: std::atomic<uint32_t> reference count, uint64 hash, the
  // number of labels and the byte size of the entries as LEB128 varints, then per label the name
  // length and the value length as varints (one byte each below 128), name bytes, value bytes
  // (unaligned, memcpy'd). Null for the empty set whose hash is 0.
  char* data_ = nullptr;
};

}  // namespace ruleeval
