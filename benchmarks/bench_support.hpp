// Shared fixtures of sieve_bench: random weights, packed copies rotated so every call reads
// its weights from DRAM, the machine description, and the run-time options of the report.
#pragma once

#include <sieve/sieve.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace bench {

// Last-level cache size in bytes (32 MiB when the OS does not say).
inline std::size_t llc_bytes() {
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return l3 > 0 ? static_cast<std::size_t>(l3) : std::size_t{32} << 20;
}

inline std::string cpu_name() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

// A random dense M x K matrix, uniform in [-1, 1), one per shape at a time.
inline const std::vector<float>& dense_source(std::size_t rows, std::size_t cols) {
    static std::vector<float> data;
    static std::size_t cached_rows = 0, cached_cols = 0;
    if (rows != cached_rows || cols != cached_cols) {
        data.assign(rows * cols, 0.0f);
        std::mt19937 rng(1234);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        for (float& v : data) v = u(rng);
        cached_rows = rows;
        cached_cols = cols;
    }
    return data;
}

// Copies of one packed matrix, enough that one pass over all of them is at least 4x the
// last-level cache: cycling through them keeps every call's weights cold.
template <class Format>
struct rotation {
    std::vector<Format> copies;
    std::size_t next = 0;
    std::string error;

    const Format& take() {
        const Format& f = copies[next];
        next = (next + 1) % copies.size();
        return f;
    }
    std::size_t bytes() const { return copies.empty() ? 0 : copies[0].bytes(); }
};

// The packed weights of the benchmark running now. One set lives at a time: building the
// next releases the previous one, so the suite's footprint stays that of its largest case.
struct current_weights {
    std::string key;
    std::shared_ptr<void> holder;
};

inline current_weights& current() {
    static current_weights slot;
    return slot;
}

template <class Format>
rotation<Format>& weights(const std::string& key, std::size_t rows, std::size_t cols,
                          const std::function<sieve::result<Format>(sieve::matrix_view<const float>)>& pack) {
    current_weights& slot = current();
    if (slot.key != key) {
        slot.holder.reset();
        auto r = std::make_shared<rotation<Format>>();
        const auto& source = dense_source(rows, cols);
        const sieve::matrix_view<const float> w(source.data(), rows, cols);
        std::size_t total = 0;
        do {
            auto packed = pack(w);
            if (!packed.ok()) {
                r->error = packed.message();
                break;
            }
            total += packed->bytes();
            r->copies.push_back(std::move(packed.value()));
        } while (total < 4 * llc_bytes() && total > 0);
        slot.key = key;
        slot.holder = r;
    }
    return *static_cast<rotation<Format>*>(slot.holder.get());
}

inline std::vector<float> random_vector(std::size_t n, unsigned seed) {
    std::vector<float> v(n);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& x : v) x = u(rng);
    return v;
}

}  // namespace bench
