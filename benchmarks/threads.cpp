#include "threads.hpp"

#include <sieve/parallel/thread_pool.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

namespace bench {
namespace {

std::vector<std::size_t>& counts() {
    static std::vector<std::size_t> list = [] {
        const std::size_t cores = std::max<std::size_t>(1, std::thread::hardware_concurrency());
        std::vector<std::size_t> out = {1};
        if (cores >= 2) out.push_back(2);
        if (cores > 2) out.push_back(cores);
        return out;
    }();
    return list;
}

}  // namespace

const std::vector<std::size_t>& thread_counts() { return counts(); }

std::string set_thread_counts(const std::string& list) {
    std::vector<std::size_t> out = {1};
    std::stringstream in(list);
    for (std::string item; std::getline(in, item, ',');) {
        std::size_t used = 0;
        unsigned long n = 0;
        try {
            n = std::stoul(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != item.size() || n == 0 || n > 1024) return "--threads: '" + item + "' is not a thread count in 1..1024";
        out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    counts() = out;
    return {};
}

sieve::executor executor_for(std::size_t threads) {
    if (threads <= 1) return sieve::serial_executor();
    static std::map<std::size_t, std::unique_ptr<sieve::thread_pool>> pools;  // the run is single-threaded
    std::unique_ptr<sieve::thread_pool>& pool = pools[threads];
    if (!pool) pool = std::make_unique<sieve::thread_pool>(threads);
    return pool->as_executor();
}

}  // namespace bench
