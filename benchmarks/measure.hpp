// The benchmark loop every case shares, and the counters it reports:
//   bytes       the format's own bytes (values + indices + metadata), one copy
//   GB/s        bytes / time: compare with the DRAM read bandwidth (bandwidth/read)
//   GFLOP/s     useful FLOPs / time: 2 per kept weight per token (not the stored zeros)
//   byte_bound  dense fp32 bytes / bytes: the speedup a memory-bound kernel reaches (GEMV)
//   flop_bound  dense FLOPs / useful FLOPs: the speedup at dense FLOP efficiency (GEMM)
//   copies      rotating copies of the weights (their total is >= 4x the last-level cache)
// The speedup over the best dense fp32 baseline and the fraction of the DRAM bandwidth are
// known only after every case ran: report.cpp adds them (speedup_vs_dense, bw_fraction).
#pragma once

#include "cases.hpp"
#include "cold.hpp"

#include <benchmark/benchmark.h>

#include <vector>

namespace bench {

inline void set_work_counters(benchmark::State& state, const case_id& id, double bytes, double kept,
                              std::size_t copies) {
    const double positions = static_cast<double>(id.s.rows) * static_cast<double>(id.s.cols);
    const double flops = 2.0 * kept * static_cast<double>(id.batch);
    state.counters["bytes"] = bytes;
    state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["byte_bound"] = bytes > 0 ? positions * sizeof(float) / bytes : 0.0;
    state.counters["flop_bound"] = kept > 0 ? positions / kept : 0.0;
    state.counters["copies"] = static_cast<double>(copies);
}

// Times `call(view, x, y)` on cold copies of the weights: x holds batch x K activations,
// y batch x M outputs (one token per row). `call` returns a sieve::status.
template <class View, class Call>
void measure(benchmark::State& state, const case_id& id, cold_set<View>& weights, Call&& call) {
    if (!weights.error.empty()) return state.SkipWithError(weights.error.c_str());
    const std::vector<float> x = random_vector(id.batch * id.s.cols, 7);
    std::vector<float> y(id.batch * id.s.rows);
    for (auto _ : state) {
        const sieve::status s = call(weights.take(), x.data(), y.data());
        if (!s.ok()) {
            state.SkipWithError(s.message());
            break;
        }
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_work_counters(state, id, static_cast<double>(weights.bytes), static_cast<double>(weights.kept),
                      weights.views.size());
}

}  // namespace bench
