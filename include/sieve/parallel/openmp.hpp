// The OpenMP adapter: a sieve::executor whose tasks run in an OpenMP parallel region, for
// engines parallelised with OpenMP. Compiled only with OpenMP on (-fopenmp defines
// _OPENMP); without it this header declares nothing, so it is always safe to include.
//
//     sieve::gemv(W, x, y, ep, sieve::openmp_executor());      // omp_get_max_threads() threads
//     sieve::gemm(W, X, Y, ep, sieve::openmp_executor(4));     // at most 4
//
// Called from inside a parallel region, OpenMP's nesting rules apply (by default the inner
// region runs on one thread: the call then runs serially on each calling thread).
#pragma once

#include "executor.hpp"

#ifdef _OPENMP
#include <omp.h>

namespace sieve {

// At most `threads` threads per call (0: omp_get_max_threads()).
inline executor openmp_executor(int threads = 0) noexcept {
    executor e;
    e.concurrency = static_cast<std::size_t>(threads > 0 ? threads : omp_get_max_threads());
    e.run = [](void*, std::size_t tasks, task_fn fn, void* arg) {
        const long count = static_cast<long>(tasks);
        const int team = tasks < static_cast<std::size_t>(omp_get_max_threads())
                             ? static_cast<int>(tasks)
                             : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
        for (long t = 0; t < count; ++t)
            fn(arg, static_cast<std::size_t>(t), static_cast<std::size_t>(t) + 1);
    };
    return e;
}

}  // namespace sieve
#endif
