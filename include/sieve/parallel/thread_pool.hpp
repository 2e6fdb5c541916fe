// A small std::thread pool shipped with sieve, for programs that have no pool of their own
// (examples, benchmarks, tools). Optional: not part of <sieve/sieve.hpp>, because it needs
// threads (link Threads::Threads / -pthread). Engines with a pool pass that instead
// (parallel/executor.hpp).
//
//     sieve::thread_pool pool;                        // hardware_concurrency() threads
//     sieve::gemv(W, x, y, ep, pool);                 // converts to a sieve::executor
//     sieve::gemm(W, X, Y, ep, pool.as_executor(2));  // at most 2 tasks per call
//
// `thread_pool(n)` starts n - 1 workers: the thread that calls runs tasks too, so n threads
// work on a call. Any number of threads may call at once (each call is a job in a queue,
// workers take the oldest job's next task, and each caller works on its own job until every
// task is taken), so a call always makes progress, even from inside a worker of this pool.
// A task is taken under one mutex: sieve's tasks are coarse (see parallel/partition.hpp),
// so the lock is not where time goes. Waking a sleeping thread is: an idle worker, and a
// caller waiting for the last task, poll for up to `spin` (100 us by default) before they
// sleep, so calls that follow each other closely find the workers awake.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "executor.hpp"

namespace sieve {

class thread_pool {
public:
    // `threads` working on each call, the caller included (0: hardware_concurrency()).
    // `spin`: how long an idle worker, and a caller whose tasks are all taken, poll before
    // they sleep (0: sleep at once).
    explicit thread_pool(std::size_t threads = 0, std::chrono::microseconds spin = default_spin) : spin_(spin) {
        if (threads == 0) threads = std::thread::hardware_concurrency();
        if (threads == 0) threads = 1;
        workers_.reserve(threads - 1);
        for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
    }
    ~thread_pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
            stopping_flag_.store(true, std::memory_order_release);
        }
        work_ready_.notify_all();
        for (auto& t : workers_) t.join();
    }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    // Threads working on a call, the caller included.
    std::size_t concurrency() const noexcept { return workers_.size() + 1; }

    // A handle for sieve's entry points; `max_threads` (0: all) caps the tasks per call.
    executor as_executor(std::size_t max_threads = 0) noexcept {
        executor e;
        e.run = [](void* self, std::size_t tasks, task_fn fn, void* arg) {
            static_cast<thread_pool*>(self)->parallel_for(tasks, fn, arg);
        };
        e.context = this;
        e.concurrency =
            max_threads == 0 || max_threads > concurrency() ? concurrency() : max_threads;
        return e;
    }
    operator executor() noexcept { return as_executor(); }  // NOLINT: a pool is an executor

    // Runs fn(arg, i, i + 1) for every i < tasks and returns when all have returned.
    void parallel_for(std::size_t tasks, task_fn fn, void* arg) {
        if (tasks == 0) return;
        if (tasks == 1 || workers_.empty()) {
            fn(arg, 0, tasks);
            return;
        }
        job j{fn, arg, tasks};
        {
            std::lock_guard<std::mutex> lock(mutex_);
            push(&j);
        }
        work_ready_.notify_all();
        std::unique_lock<std::mutex> lock(mutex_);
        while (j.taken < j.tasks) run_one(&j, lock);  // help with this call's own tasks
        if (j.finished.load(std::memory_order_acquire) != j.tasks) {
            lock.unlock();
            if (spin_until([&j] { return j.finished.load(std::memory_order_acquire) == j.tasks; })) return;
            lock.lock();
            job_done_.wait(lock, [&j] { return j.finished.load(std::memory_order_relaxed) == j.tasks; });
        }
    }

    // Polling before sleeping saves a wake-up per call: a futex wake and the scheduler's
    // latency cost 10-20 us a call on the 2-core VM (a 2-task call of 200 us took 214 us),
    // several percent of a memory-bound GEMV of 1 ms on two threads. Calls that come back
    // to back, as an engine's decode step makes them, find the workers awake.
    static constexpr std::chrono::microseconds default_spin{100};

private:
    struct job {
        task_fn fn;
        void* arg;
        std::size_t tasks;
        std::size_t taken = 0;                // guarded by mutex_
        std::atomic<std::size_t> finished{0};  // changed under mutex_, polled without it
        job* next = nullptr;                  // the queue of jobs with tasks left to take
    };

    void push(job* j) noexcept {
        if (tail_ == nullptr)
            head_ = j;
        else
            tail_->next = j;
        tail_ = j;
        has_work_.store(true, std::memory_order_release);
    }
    void remove(job* j) noexcept {
        job** link = &head_;
        job* previous = nullptr;
        while (*link != j) {
            previous = *link;
            link = &(*link)->next;
        }
        *link = j->next;
        if (tail_ == j) tail_ = previous;
        j->next = nullptr;
        has_work_.store(head_ != nullptr, std::memory_order_release);
    }

    // Polls `done` for up to spin_; whether it came true.
    template <class Done>
    bool spin_until(Done&& done) const noexcept {
        if (spin_.count() == 0) return done();
        const auto until = std::chrono::steady_clock::now() + spin_;
        for (;;) {
            for (int i = 0; i < 64; ++i) {
                if (done()) return true;
                pause();
            }
            if (std::chrono::steady_clock::now() >= until) return done();
            std::this_thread::yield();  // more threads than cores: let the one with work run
        }
    }
    static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
    }

    // Takes j's next task and runs it unlocked; `lock` holds mutex_ before and after.
    void run_one(job* j, std::unique_lock<std::mutex>& lock) {
        const std::size_t task = j->taken++;
        if (j->taken == j->tasks) remove(j);  // every task taken: nobody looks at j for work
        lock.unlock();
        j->fn(j->arg, task, task + 1);
        lock.lock();
        const std::size_t tasks = j->tasks;  // read first: a polling caller may return the moment it sees the last
        if (j->finished.fetch_add(1, std::memory_order_release) + 1 == tasks)
            job_done_.notify_all();  // j may be gone once unlocked (a spinning caller returns at once)
    }

    void work() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (head_ == nullptr && !stopping_) {
                lock.unlock();
                spin_until([this] { return has_work_.load(std::memory_order_acquire) || stopping_flag_.load(std::memory_order_acquire); });
                lock.lock();
            }
            work_ready_.wait(lock, [this] { return stopping_ || head_ != nullptr; });
            if (head_ == nullptr) return;  // stopping, and no work left
            run_one(head_, lock);
        }
    }

    std::mutex mutex_;
    std::condition_variable work_ready_, job_done_;
    job* head_ = nullptr;
    job* tail_ = nullptr;
    bool stopping_ = false;
    std::atomic<bool> has_work_{false}, stopping_flag_{false};  // head_ != nullptr and stopping_, to poll unlocked
    std::chrono::microseconds spin_;
    std::vector<std::thread> workers_;
};

}  // namespace sieve
