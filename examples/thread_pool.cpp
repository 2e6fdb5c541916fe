// An engine's thread pool plugged into sieve: the engine owns its threads, sieve only
// hands it tasks. `engine_pool` stands for whatever pool an engine already has (here a
// minimal one with a parallel_for(n, fn(i))); the adapter is the five lines in
// `as_sieve_executor`. The same layer then runs serially, on the engine's pool and on
// sieve's own std::thread pool, and the three results are bitwise identical.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <sieve/parallel/thread_pool.hpp>
#include <sieve/sieve.hpp>
#include <thread>
#include <vector>

// ---- the engine's side: a pool it had before it used sieve ---------------------------------
class engine_pool {
public:
    explicit engine_pool(std::size_t threads) {
        for (std::size_t i = 0; i < threads; ++i)
            threads_.emplace_back([this] {
                std::unique_lock<std::mutex> lock(mutex_);
                for (;;) {
                    ready_.wait(lock, [this] { return stop_ || next_ < count_; });
                    if (stop_) return;
                    const std::size_t i = next_++;
                    lock.unlock();
                    job_(i);
                    lock.lock();
                    if (++done_ == count_) finished_.notify_all();
                }
            });
    }
    ~engine_pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        ready_.notify_all();
        for (auto& t : threads_) t.join();
    }
    std::size_t size() const { return threads_.size(); }

    // Runs fn(i) for i < n on the pool's threads (one call at a time, as many engines do).
    void parallel_for(std::size_t n, std::function<void(std::size_t)> fn) {
        std::lock_guard<std::mutex> one_call(call_mutex_);
        std::unique_lock<std::mutex> lock(mutex_);
        job_ = std::move(fn);
        next_ = done_ = 0;
        count_ = n;
        ready_.notify_all();
        finished_.wait(lock, [this] { return done_ == count_; });
        count_ = 0;
    }

private:
    std::vector<std::thread> threads_;
    std::mutex mutex_, call_mutex_;
    std::condition_variable ready_, finished_;
    std::function<void(std::size_t)> job_;
    std::size_t next_ = 0, done_ = 0, count_ = 0;
    bool stop_ = false;
};

// ---- the adapter: all an engine writes to give sieve its pool ------------------------------
sieve::executor as_sieve_executor(engine_pool& pool) {
    sieve::executor exec;
    exec.context = &pool;
    exec.concurrency = pool.size();
    exec.run = [](void* p, std::size_t tasks, sieve::task_fn fn, void* arg) {
        static_cast<engine_pool*>(p)->parallel_for(tasks,
                                                   [=](std::size_t i) { fn(arg, i, i + 1); });
    };
    return exec;
}

int main() {
    const std::size_t out_features = 2048, in_features = 1024, tokens = 64;
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> weights(out_features * in_features), x(tokens * in_features);
    for (float& w : weights) w = normal(rng);
    for (float& v : x) v = normal(rng) * 20.0f;

    auto packed = sieve::nm_matrix<>::pack({weights.data(), out_features, in_features}, {2, 4},
                                           sieve::selection::magnitude());
    if (!packed.ok()) {
        std::fprintf(stderr, "pack failed: %s\n", packed.message());
        return 1;
    }
    const sieve::matrix_view<const float> X(x.data(), tokens, in_features);
    const sieve::span<const float> x0(x.data(), in_features);

    engine_pool engine(4);
    const sieve::executor on_engine = as_sieve_executor(engine);
    sieve::thread_pool own(4);  // for programs without a pool of their own

    // One token (GEMV) and a batch (GEMM), serial and on each pool.
    std::vector<float> y[3], Y[3];
    const sieve::executor executors[3] = {sieve::serial_executor(), on_engine, own};
    for (int i = 0; i < 3; ++i) {
        y[i].assign(out_features, 0.0f);
        Y[i].assign(tokens * out_features, 0.0f);
        sieve::status s = sieve::gemv(*packed, x0, y[i], {}, executors[i]);
        if (s.ok())
            s = sieve::gemm(*packed, X, {Y[i].data(), tokens, out_features}, {}, executors[i]);
        if (!s.ok()) {
            std::fprintf(stderr, "run failed: %s\n", s.message());
            return 1;
        }
    }
    for (int i = 1; i < 3; ++i)
        if (std::memcmp(y[i].data(), y[0].data(), out_features * sizeof(float)) != 0 ||
            std::memcmp(Y[i].data(), Y[0].data(), Y[0].size() * sizeof(float)) != 0) {
            std::fprintf(stderr, "executor %d gave different bits\n", i);
            return 1;
        }
    std::printf(
        "2:4 layer %zux%zu, %zu tokens on %s: serial, engine pool (%zu threads) and "
        "sieve::thread_pool "
        "(%zu) agree bit for bit\n",
        out_features, in_features, tokens, sieve::to_string(sieve::active_isa()), engine.size(),
        own.concurrency());
    return 0;
}
