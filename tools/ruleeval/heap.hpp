// Process-wide heap tuning for the short-lived commands that build a large in-memory model.
#pragma once

#include <cstddef>

namespace ruleeval::cli {

// Grows the main malloc arena once by about `bytes` and asks the kernel to back that region with
// transparent huge pages (madvise(MADV_HUGEPAGE): used when THP is "madvise" or "always"), and
// keeps it (no trimming). A 10,000-rule lint touches ~60 MB of small allocations: with 4 KiB
// pages that is ~12,000 page faults, about a third of its run time on a virtual machine; with
// 2 MiB pages a few dozen. Memory beyond the region comes from ordinary pages, so an estimate
// that is too small only costs speed. Only for commands that exit when done (the memory is never
// given back), and before any other thread allocates. Returns whether a region was set up.
bool reserve_huge_heap(size_t bytes);

}  // namespace ruleeval::cli
