// The executor hook: how sieve runs one call's tasks on threads it does not own.
//
// Inference engines own their threads (a pool, OpenMP, one thread per request). sieve never
// starts a thread: every gemv / gemm entry point takes an optional `sieve::executor`, a
// non-owning handle to the engine's pool made of one function pointer and a context, and
// hands it a number of tasks. The engine's half of the contract, in full:
//
//     run(context, tasks, fn, arg) calls fn(arg, begin, end) over ranges [begin, end) that
//     cover 0 .. tasks exactly once, on any threads, in any order, one or many at a time,
//     and returns after the last one has returned.
//
// `concurrency` is how many threads may run tasks at once: sieve cuts a call into at most
// that many tasks (fewer when the problem is small: see parallel/partition.hpp), and a
// caller-provided workspace is sliced into that many parts. Tasks never block, never wait
// for each other and never call the executor again, so an executor may run them inline on
// the calling thread, on a pool the caller is itself part of, or with nested parallelism.
//
// A default-constructed executor is serial: the call runs on the calling thread, on exactly
// the code path a call without an executor takes. Adapters shipped with sieve: this one
// (serial_executor()), parallel/thread_pool.hpp (a small std::thread pool, optional: it
// needs threads) and parallel/openmp.hpp (when compiled with OpenMP). An engine's own pool
// adapts in a few lines (README, "Threads: plugging in your engine's pool"):
//
//     sieve::executor exec;
//     exec.context = &pool;
//     exec.concurrency = pool.size();
//     exec.run = [](void* p, std::size_t tasks, sieve::task_fn fn, void* arg) {
//         static_cast<my_pool*>(p)->parallel_for(tasks, [=](std::size_t i) { fn(arg, i, i + 1); });
//     };
//
// The handle is a plain struct of pointers rather than a template parameter: the entry
// points are not instantiated once per executor type, headers stay quick to compile, and an
// engine can store and pass one around freely. It holds no state of its own: concurrent
// calls with the same executor are as safe as the engine's run() is.
#pragma once

#include <cstddef>

namespace sieve {

// sieve's half of the contract: runs tasks [begin, end) of one call. `arg` is opaque.
using task_fn = void (*)(void* arg, std::size_t begin, std::size_t end);

struct executor {
    using run_fn = void (*)(void* context, std::size_t tasks, task_fn fn, void* arg);

    run_fn run = nullptr;         // null: serial, on the calling thread
    void* context = nullptr;      // the engine's pool (passed to run as is)
    std::size_t concurrency = 1;  // threads that may run tasks at once (0 counts as 1)
    // The smallest task worth a thread, 0 for sieve's defaults (parallel/partition.hpp):
    // weight bytes a GEMV task streams, multiply-adds a GEMM task does. A pool whose tasks
    // cost more to start may raise them; tests lower them to split small problems.
    std::size_t min_task_bytes = 0, min_task_macs = 0;

    // The most tasks sieve will cut one call into.
    std::size_t max_tasks() const noexcept {
        return run == nullptr || concurrency == 0 ? 1 : concurrency;
    }

    // Runs fn over tasks 0 .. tasks: inline when there is one task or no pool.
    void parallel_for(std::size_t tasks, task_fn fn, void* arg) const {
        if (tasks == 0) return;
        if (run == nullptr || tasks == 1)
            fn(arg, 0, tasks);
        else
            run(context, tasks, fn, arg);
    }
};

// The default: everything on the calling thread.
inline executor serial_executor() noexcept { return {}; }

}  // namespace sieve
