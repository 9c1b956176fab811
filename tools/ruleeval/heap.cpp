#include "heap.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>

namespace ruleeval::cli {

bool reserve_huge_heap(size_t bytes) {
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  constexpr size_t kMaxReserve = size_t{1} << 30;
  constexpr int kDefaultTopPad = 128 * 1024;  // glibc's M_TOP_PAD default
  if (bytes < 4 * kHugePage) return false;    // small inputs: not worth a region
  bytes = std::min(bytes, kMaxReserve);
  // Keep the region once it is there: glibc otherwise returns the top of the heap to the kernel
  // whenever more than 128 KiB of it is free, and the next growth would come back in 4 KiB pages.
  // Large blocks (a rule file's text, big vectors) come from the region too, instead of each
  // being its own mmap of 4 KiB pages (32 MiB is the largest threshold glibc accepts).
  // NOLINTBEGIN(concurrency-mt-unsafe): called before any other thread starts
  if (mallopt(M_TRIM_THRESHOLD, -1) == 0 || mallopt(M_MMAP_THRESHOLD, 32 << 20) == 0 ||
      mallopt(M_TOP_PAD, static_cast<int>(bytes)) == 0) {
    return false;
  }
  // The next growth of the heap (sbrk) adds M_TOP_PAD bytes beyond the request. Small blocks are
  // taken until one does not fit in what the heap has left, which makes that growth happen.
  char* const before = static_cast<char*>(sbrk(0));
  constexpr size_t kBlock = 65536;
  std::array<void*, 64> held{};
  size_t n = 0;
  while (n < held.size() && static_cast<char*>(sbrk(0)) == before) {
    held[n] = std::malloc(kBlock);  // NOLINT(cppcoreguidelines-no-malloc): sizing malloc's heap
    if (held[n] == nullptr) break;
    ++n;
  }
  char* const end = static_cast<char*>(sbrk(0));
  for (size_t i = 0; i < n; ++i) std::free(held[i]);  // NOLINT(cppcoreguidelines-no-malloc)
  mallopt(M_TOP_PAD, kDefaultTopPad);
  // NOLINTEND(concurrency-mt-unsafe)
  if (reinterpret_cast<intptr_t>(before) == -1 || end <= before) return false;  // no sbrk heap
  // The whole huge pages inside [before, end), as offsets from `before`.
  const uintptr_t base = reinterpret_cast<uintptr_t>(before);
  const uintptr_t lo = ((base + kHugePage - 1) & ~(kHugePage - 1)) - base;
  const uintptr_t hi = ((base + static_cast<uintptr_t>(end - before)) & ~(kHugePage - 1)) - base;
  if (hi <= lo) return false;
  // EINVAL without THP in the kernel: the region stays, in ordinary pages.
  return madvise(before + lo, hi - lo, MADV_HUGEPAGE) == 0;
}

}  // namespace ruleeval::cli
