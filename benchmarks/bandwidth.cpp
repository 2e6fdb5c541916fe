// Read bandwidth: stream cold buffers (the same rotation as the kernels' weights: 64 MiB
// blocks, together >= 4x the LLC) through the widest SIMD loads the CPU has. Each block is
// read as 8 concurrent sequential streams, a cache line of each per loop trip, summed into 8
// independent accumulators. One stream is not what a core can read: on the development VM
// (EPYC, family 25) one stream read ~14 GB/s and 4 to 8 streams ~19-21 GB/s (a GEMV kernel
// walks several rows at once, so it gets the latter); 16 streams read less again. The body
// is written once with GCC vector extensions, compiled per ISA through `target` attributes
// and picked by a CPU check: the file itself is built for baseline x86-64.
//
// Each ISA's read also runs with software prefetches 4 KiB ahead in every stream (the
// "-prefetch" rows), as the GEMV kernels do: on a 16-core Xeon (family 6, model 207) one
// thread read 11.9 GB/s without them while dense fp32 GEMV streamed 14.5 GB/s with them. The
// report takes the best row of each thread count, so a fraction of it is one of what the core
// can read either way.
//
// Threads: at T threads each block is split into T slices read at once on the executor the
// kernels run on (threads.hpp), so bandwidth/read/<simd>/tT is what T threads of a GEMV can
// read. Every read kernel runs on one thread; the widest two (plain, prefetching) at each
// further count.
#include "bandwidth.hpp"

#include "cold.hpp"
#include "threads.hpp"

#include <sieve/dispatch/cpu.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench {
namespace {

constexpr std::size_t block_bytes = std::size_t{64} << 20;
constexpr std::size_t streams = 8;       // concurrent sequential streams per block (slice)
constexpr std::size_t accumulators = 8;  // independent sums: the add latency never limits
constexpr std::size_t line = 64;
constexpr std::size_t step = streams * line;  // bytes per loop trip; slices are multiples

using u64x2 = std::uint64_t __attribute__((vector_size(16)));
using u64x4 = std::uint64_t __attribute__((vector_size(32)));
using u64x8 = std::uint64_t __attribute__((vector_size(64)));

// Sums [p, p + bytes) as 64-bit lanes, reading `streams` parts of it side by side; p is
// 64-byte aligned, bytes a multiple of `step`. Always inlined, so each caller's `target`
// decides the instructions.
constexpr std::size_t prefetch_distance = 4096;  // bytes ahead in each stream (sieve's row_prefetch_distance)

template <class V, bool Prefetch>
__attribute__((always_inline)) inline std::uint64_t sum_lanes(const std::uint8_t* p, std::size_t bytes) {
    constexpr std::size_t per_line = line / sizeof(V);
    const std::size_t part = bytes / streams;
    V acc[accumulators] = {};
    for (std::size_t i = 0; i < part; i += line) {
        if constexpr (Prefetch)  // past the end of a part lies the next one, or the block's end: harmless
            for (std::size_t s = 0; s < streams; ++s) __builtin_prefetch(p + s * part + i + prefetch_distance);
#pragma GCC unroll 64
        for (std::size_t k = 0; k < streams * per_line; ++k)
            acc[k % accumulators] +=
                *reinterpret_cast<const V*>(p + (k / per_line) * part + i + (k % per_line) * sizeof(V));
    }
    for (std::size_t j = 1; j < accumulators; ++j) acc[0] += acc[j];
    std::uint64_t sum = 0;
    for (std::size_t lane = 0; lane < sizeof(V) / sizeof(std::uint64_t); ++lane) sum += acc[0][lane];
    return sum;
}

using read_fn = std::uint64_t (*)(const std::uint8_t*, std::size_t);

struct read_kernel {
    const char* simd;
    read_fn fn;
    bool supported;
};

#if defined(__x86_64__)
template <bool Prefetch>
__attribute__((target("avx512f"))) std::uint64_t read_avx512(const std::uint8_t* p, std::size_t n) {
    return sum_lanes<u64x8, Prefetch>(p, n);
}
template <bool Prefetch>
__attribute__((target("avx2"))) std::uint64_t read_avx2(const std::uint8_t* p, std::size_t n) {
    return sum_lanes<u64x4, Prefetch>(p, n);
}
template <bool Prefetch>
std::uint64_t read_sse2(const std::uint8_t* p, std::size_t n) {
    return sum_lanes<u64x2, Prefetch>(p, n);
}

// Narrowest first; the last two (the widest, plain and prefetching) also run at every further
// thread count.
std::vector<read_kernel> read_kernels() {
    const sieve::cpu_features& f = sieve::cpu();
    std::vector<read_kernel> out = {{"sse2", read_sse2<false>, true}, {"sse2-prefetch", read_sse2<true>, true}};
    if (f.avx2) out.insert(out.end(), {{"avx2", read_avx2<false>, true}, {"avx2-prefetch", read_avx2<true>, true}});
    if (f.avx512f)
        out.insert(out.end(), {{"avx512", read_avx512<false>, true}, {"avx512-prefetch", read_avx512<true>, true}});
    return out;
}
#else
template <bool Prefetch>
std::uint64_t read_base(const std::uint8_t* p, std::size_t n) {
    return sum_lanes<u64x2, Prefetch>(p, n);
}
std::vector<read_kernel> read_kernels() {
    return {{"simd128", read_base<false>, true}, {"simd128-prefetch", read_base<true>, true}};
}
#endif

struct read_block {
    const std::uint8_t* data = nullptr;
    std::size_t bytes = 0;
};
template <class F> void for_each_array(read_block& b, F&& f) { f(b.data, b.bytes); }

cold_set<read_block>& read_blocks() {
    return cached<cold_set<read_block>>("bandwidth/read", [] {
        auto first = std::make_shared<sieve::aligned_buffer<std::uint8_t>>();
        cold_set<read_block> failed;
        if (sieve::status s = first->allocate(block_bytes); !s.ok()) {
            failed.error = s.message();
            return failed;
        }
        for (std::size_t i = 0; i < block_bytes; ++i) (*first)[i] = static_cast<std::uint8_t>(i * 131);
        return make_cold(read_block{first->data(), block_bytes}, first, block_bytes, 0);
    });
}

// Reads one block as `threads` slices (whole steps each), one task per slice on `exec`.
struct slice_job {
    read_fn fn;
    read_block block;
    std::size_t slices;
    std::uint64_t sums[64][8];  // one cache line per slice: no false sharing
};

void read_slice_tasks(void* arg, std::size_t begin, std::size_t end) {
    auto& job = *static_cast<slice_job*>(arg);
    const std::size_t slice = job.block.bytes / job.slices / step * step;
    for (std::size_t t = begin; t < end; ++t) {
        const std::size_t bytes = t + 1 == job.slices ? job.block.bytes - t * slice : slice;
        job.sums[t][0] = job.fn(job.block.data + t * slice, bytes);
    }
}

std::uint64_t read_slices(slice_job& job, const sieve::executor& exec) {
    exec.parallel_for(job.slices, read_slice_tasks, &job);
    std::uint64_t sum = 0;
    for (std::size_t t = 0; t < job.slices; ++t) sum += job.sums[t][0];
    return sum;
}

void read_bandwidth(benchmark::State& state, read_fn fn, std::size_t threads) {
    cold_set<read_block>& blocks = read_blocks();
    if (!blocks.error.empty()) return state.SkipWithError(blocks.error.c_str());
    const sieve::executor exec = executor_for(threads);
    slice_job job{fn, {}, std::min<std::size_t>(threads, 64), {}};
    std::uint64_t sum = 0;
    for (auto _ : state) {
        job.block = blocks.take();
        sum += read_slices(job, exec);
        benchmark::DoNotOptimize(sum);
    }
    state.counters["bytes"] = static_cast<double>(block_bytes);
    state.counters["GB/s"] = benchmark::Counter(block_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["copies"] = static_cast<double>(blocks.views.size());
}

}  // namespace

std::size_t register_bandwidth() {
    std::vector<read_kernel> kernels;
    for (const read_kernel& k : read_kernels())
        if (k.supported) kernels.push_back(k);
    std::size_t count = 0;
    for (std::size_t threads : thread_counts())
        for (std::size_t i = threads == 1 ? 0 : kernels.size() - 2; i < kernels.size(); ++i) {
            benchmark::RegisterBenchmark(fmt::format("bandwidth/read/{}/t{}", kernels[i].simd, threads).c_str(),
                                         read_bandwidth, kernels[i].fn, threads)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
            ++count;
        }
    return count;
}

bool is_read_bandwidth(const std::string& name) { return name.rfind("bandwidth/read/", 0) == 0; }

std::size_t read_bandwidth_threads(const std::string& name) {
    const std::size_t at = name.rfind("/t");
    if (!is_read_bandwidth(name) || at == std::string::npos) return 0;
    return static_cast<std::size_t>(std::strtoul(name.c_str() + at + 2, nullptr, 10));
}

}  // namespace bench
