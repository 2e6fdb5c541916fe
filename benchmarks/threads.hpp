// Thread counts: sieve_bench measures every case on one thread, and a thread-scaling subset
// (GEMV and 32-token GEMM of the LLM up projection) on more, through sieve's executor hook
// and the std::thread pool shipped with sieve. The read bandwidth is measured at each thread
// count too, so a multi-thread GEMV is compared with what that many threads can read.
#pragma once

#include <sieve/parallel/executor.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace bench {

// The thread counts of this run, ascending, 1 first: by default 1, 2 and every core
// (hardware_concurrency), without repeats; --threads replaces them.
const std::vector<std::size_t>& thread_counts();
// Parses "1,2,8" (ascending or not; 1 is always added). Returns an error text, empty on success.
std::string set_thread_counts(const std::string& list);

// The executor for `threads` threads: serial for 1, else a pool of that many threads (the
// calling thread included), started on first use and kept for the run.
sieve::executor executor_for(std::size_t threads);

}  // namespace bench
