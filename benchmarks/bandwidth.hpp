// The DRAM read bandwidth of this machine, measured in the same run as the kernels: the
// yardstick of every memory-bound GEMV ("% of bandwidth" in the report).
#pragma once

#include <cstddef>
#include <string>

namespace bench {

// Registers bandwidth/read/<simd>[-prefetch]/t1 for each read kernel this CPU runs, plain and
// with software prefetches (the widest are the ones that matter; the narrower ones show what
// a kernel that loads less per instruction gets), and the widest two at every further thread
// count of the run (threads.hpp).
std::size_t register_bandwidth();  // returns how many

// Whether a benchmark name is one of those rows, and its thread count (0 if it is not one).
bool is_read_bandwidth(const std::string& name);
std::size_t read_bandwidth_threads(const std::string& name);

}  // namespace bench
