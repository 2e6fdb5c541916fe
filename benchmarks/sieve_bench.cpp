// sieve_bench: GEMV and GEMM of every format against dense baselines, in one run.
//
//   sieve_bench                   the headline subset (11008x4096: GEMV and 32-token GEMM of
//                                 dense, 2:4, CSR and BSR 4x4 at 50/90%), then a table of medians
//   sieve_bench --all             every case
//   sieve_bench --benchmark_...   any Google Benchmark flag (filter, out, repetitions)
//
// Every case reads cold weights (rotating copies, bench_support.hpp). Counters per run:
// bytes (the format's own bytes), GB/s, and for GEMM useful GFLOP/s. The table adds the
// fraction of the DRAM read bandwidth measured by `bandwidth/read` in the same run and the
// speedup over the fastest dense fp32 baseline of the same op, shape and batch.
#include "bench_support.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <string>
#include <vector>

#if SIEVE_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if SIEVE_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif
#if SIEVE_BENCH_HAVE_EIGEN
#include <Eigen/Sparse>
#endif

namespace {

struct shape {
    std::size_t rows, cols;
};

std::string shape_name(shape s) { return fmt::format("{}x{}", s.rows, s.cols); }

// --- sieve cases ------------------------------------------------------------------------------

template <class Format>
using packer = std::function<sieve::result<Format>(sieve::matrix_view<const float>)>;

void set_counters(benchmark::State& state, double bytes, double flops) {
    state.counters["bytes"] = bytes;
    state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    if (flops > 0)
        state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Format>
void gemv_case(benchmark::State& state, std::string key, shape s, packer<Format> pack) {
    auto& w = bench::weights<Format>(key, s.rows, s.cols, pack);
    if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
    const auto x = bench::random_vector(s.cols, 1);
    std::vector<float> y(s.rows);
    for (auto _ : state) {
        const sieve::status st = sieve::gemv(w.take(), x, y);
        if (!st.ok()) return state.SkipWithError(st.message());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, static_cast<double>(w.bytes()), 2.0 * static_cast<double>(w.copies[0].nnz()));
    state.SetLabel(sieve::to_string(sieve::active_isa()));
}

template <class Format>
void gemm_case(benchmark::State& state, std::string key, shape s, std::size_t n, packer<Format> pack) {
    auto& w = bench::weights<Format>(key, s.rows, s.cols, pack);
    if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
    const auto x = bench::random_vector(n * s.cols, 2);
    std::vector<float> y(n * s.rows);
    const sieve::matrix_view<const float> X(x.data(), n, s.cols);
    const sieve::matrix_view<float> Y(y.data(), n, s.rows);
    for (auto _ : state) {
        const sieve::status st = sieve::gemm(w.take(), X, Y);
        if (!st.ok()) return state.SkipWithError(st.message());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, static_cast<double>(w.bytes()), 2.0 * static_cast<double>(n * w.copies[0].nnz()));
    state.SetLabel(sieve::to_string(sieve::active_isa()));
}

// One format at one sparsity: registers its GEMV and its GEMMs.
template <class Format>
void register_format(const std::string& format, int sparsity_pct, shape s, const std::vector<std::size_t>& batches,
                     packer<Format> pack) {
    const std::string weights = fmt::format("{}/fp32/{}/s{}", format, shape_name(s), sparsity_pct);
    benchmark::RegisterBenchmark(("gemv/" + weights).c_str(), gemv_case<Format>, weights, s, pack)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    for (std::size_t n : batches)
        benchmark::RegisterBenchmark(fmt::format("gemm/{}/n{}", weights, n).c_str(), gemm_case<Format>, weights, s,
                                     n, pack)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
}

void register_sieve(shape s, const std::vector<std::size_t>& batches, const std::vector<int>& sweep) {
    using sieve::selection;
    register_format<sieve::dense_matrix<>>("dense", 0, s, batches, [](auto w) { return sieve::dense_matrix<>::pack(w); });
    for (auto [n, m] : {std::pair<unsigned, unsigned>{2, 4}, {1, 4}, {4, 8}}) {
        const int pct = static_cast<int>(100 - 100 * n / m);
        register_format<sieve::nm_matrix<>>(fmt::format("nm{}:{}", n, m), pct, s, batches, [n = n, m = m](auto w) {
            return sieve::nm_matrix<>::pack(w, {n, m}, selection::magnitude());
        });
    }
    for (int pct : sweep) {
        const double sp = pct / 100.0;
        register_format<sieve::csr_matrix<>>("csr", pct, s, batches,
                                             [sp](auto w) { return sieve::csr_matrix<>::pack(w, selection::magnitude(sp)); });
        register_format<sieve::bsr_matrix<float, 1, 16>>("bsr1x16", pct, s, batches, [sp](auto w) {
            return sieve::bsr_matrix<float, 1, 16>::pack(w, selection::magnitude(sp));
        });
        register_format<sieve::bsr_matrix<float, 4, 4>>("bsr4x4", pct, s, batches, [sp](auto w) {
            return sieve::bsr_matrix<float, 4, 4>::pack(w, selection::magnitude(sp));
        });
        register_format<sieve::bsr_matrix<float, 16, 1>>("bsr16x1", pct, s, batches, [sp](auto w) {
            return sieve::bsr_matrix<float, 16, 1>::pack(w, selection::magnitude(sp));
        });
    }
}

// --- DRAM read bandwidth ----------------------------------------------------------------------

// Streams a buffer of 8x the last-level cache with four independent vector sums: the
// fastest one core reads DRAM, the yardstick for every memory-bound GEMV.
void read_bandwidth(benchmark::State& state) {
    using vec = xsimd::batch<std::uint64_t>;  // this file's baseline arch: SSE2 on x86-64
    const std::size_t words = 8 * bench::llc_bytes() / sizeof(std::uint64_t) / (4 * vec::size) * (4 * vec::size);
    sieve::aligned_buffer<std::uint64_t> buffer;
    if (!buffer.allocate(words).ok()) return state.SkipWithError("cannot allocate the read buffer");
    for (std::size_t i = 0; i < words; ++i) buffer[i] = i;
    std::uint64_t sum = 0;
    for (auto _ : state) {
        vec a(0), b(0), c(0), d(0);
        const std::uint64_t* p = buffer.data();
        for (std::size_t i = 0; i < words; i += 4 * vec::size) {
            a += vec::load_aligned(p + i);
            b += vec::load_aligned(p + i + vec::size);
            c += vec::load_aligned(p + i + 2 * vec::size);
            d += vec::load_aligned(p + i + 3 * vec::size);
        }
        sum += xsimd::hadd(a + b + c + d);
        benchmark::DoNotOptimize(sum);
    }
    set_counters(state, static_cast<double>(words * sizeof(std::uint64_t)), 0);
}

// --- dense baselines --------------------------------------------------------------------------

struct dense_copies {
    std::vector<std::vector<float>> copies;
    std::size_t next = 0;
    const float* take() {
        const float* p = copies[next].data();
        next = (next + 1) % copies.size();
        return p;
    }
};

dense_copies& dense_weights(shape s) {
    static dense_copies pool;
    static std::size_t rows = 0, cols = 0;
    if (rows != s.rows || cols != s.cols) {
        bench::current().key.clear();
        bench::current().holder.reset();  // the sieve weights are not needed meanwhile
        pool.copies.clear();
        const auto& source = bench::dense_source(s.rows, s.cols);
        std::size_t total = 0;
        do {
            pool.copies.push_back(source);
            total += source.size() * sizeof(float);
        } while (total < 4 * bench::llc_bytes());
        rows = s.rows;
        cols = s.cols;
    }
    return pool;
}

using dense_call = void (*)(const float* w, shape s, std::size_t n, const float* x, float* y);

void baseline_case(benchmark::State& state, shape s, std::size_t n, dense_call call) {
    dense_copies& w = dense_weights(s);
    const auto x = bench::random_vector(n * s.cols, 3);
    std::vector<float> y(n * s.rows);
    for (auto _ : state) {
        call(w.take(), s, n, x.data(), y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, static_cast<double>(s.rows * s.cols * sizeof(float)),
                 2.0 * static_cast<double>(n * s.rows * s.cols));
}

void register_baseline(const std::string& library, shape s, const std::vector<std::size_t>& batches, dense_call call,
                       bool gemv) {
    if (gemv)
        benchmark::RegisterBenchmark(fmt::format("gemv/{}/fp32/{}/s0", library, shape_name(s)).c_str(), baseline_case,
                                     s, std::size_t{1}, call)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    for (std::size_t n : batches)
        benchmark::RegisterBenchmark(fmt::format("gemm/{}/fp32/{}/s0/n{}", library, shape_name(s), n).c_str(),
                                     baseline_case, s, n, call)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
}

void register_baselines(shape s, const std::vector<std::size_t>& batches) {
#if SIEVE_BENCH_HAVE_OPENBLAS
    // Y[N x M] = X[N x K] W^T with W row-major M x K; GEMV y = W x.
    register_baseline("openblas", s, batches, [](const float* w, shape sh, std::size_t n, const float* x, float* y) {
        const int M = static_cast<int>(sh.rows), K = static_cast<int>(sh.cols), N = static_cast<int>(n);
        if (n == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, M, K, 1.0f, w, K, x, 1, 0.0f, y, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, M, K, 1.0f, x, K, w, K, 0.0f, y, M);
    }, true);
#endif
#if SIEVE_BENCH_HAVE_DNNL
    register_baseline("onednn", s, batches, [](const float* w, shape sh, std::size_t n, const float* x, float* y) {
        const auto M = static_cast<dnnl_dim_t>(sh.rows), K = static_cast<dnnl_dim_t>(sh.cols),
                   N = static_cast<dnnl_dim_t>(n);
        dnnl_sgemm('N', 'T', N, M, K, 1.0f, x, K, w, K, 0.0f, y, M);
    }, true);
#endif
    (void)s;
    (void)batches;
}

void register_eigen(shape s, const std::vector<int>& sweep) {
#if SIEVE_BENCH_HAVE_EIGEN
    for (int pct : sweep) {
        const std::string key = fmt::format("eigen-csr/fp32/{}/s{}", shape_name(s), pct);
        benchmark::RegisterBenchmark(("gemv/" + key).c_str(), [s, pct, key](benchmark::State& state) {
            using sparse = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;
            auto& w = bench::weights<sieve::csr_matrix<>>(
                key, s.rows, s.cols, [pct](auto v) { return sieve::csr_matrix<>::pack(v, sieve::selection::magnitude(pct / 100.0)); });
            // Eigen's own CSR built from sieve's (same kept weights), one per rotation copy.
            std::vector<sparse> mats;
            for (const auto& c : w.copies) {
                std::vector<Eigen::Triplet<float>> t;
                const auto v = c.view();
                for (std::size_t r = 0; r < v.rows; ++r)
                    for (std::size_t i = v.row_ptr[r]; i < v.row_ptr[r + 1]; ++i)
                        t.emplace_back(static_cast<int>(r), static_cast<int>(v.col(i)), v.values[i]);
                sparse m(static_cast<int>(s.rows), static_cast<int>(s.cols));
                m.setFromTriplets(t.begin(), t.end());
                mats.push_back(std::move(m));
            }
            const auto xv = bench::random_vector(s.cols, 4);
            Eigen::Map<const Eigen::VectorXf> x(xv.data(), static_cast<Eigen::Index>(s.cols));
            Eigen::VectorXf y(static_cast<Eigen::Index>(s.rows));
            std::size_t next = 0;
            for (auto _ : state) {
                y.noalias() = mats[next] * x;
                next = (next + 1) % mats.size();
                benchmark::DoNotOptimize(y.data());
            }
            set_counters(state, static_cast<double>(w.bytes()), 0);
        })->Unit(benchmark::kMillisecond)->UseRealTime();
    }
#else
    (void)s;
    (void)sweep;
#endif
}

// --- the report -------------------------------------------------------------------------------

struct row {
    std::string name;
    double ms = 0, bytes = 0, gbps = 0, gflops = 0;
};

class collector : public benchmark::ConsoleReporter {
public:
    std::vector<row> rows;
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.error_occurred) continue;
            // With repetitions keep the median; a single run stands for itself.
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
            if (r.run_type == Run::RT_Iteration && r.repetitions > 1) continue;
            row out;
            out.name = r.run_name.function_name;
            out.ms = r.GetAdjustedRealTime();
            auto get = [&](const char* key) {
                auto it = r.counters.find(key);
                return it == r.counters.end() ? 0.0 : static_cast<double>(it->second);
            };
            out.bytes = get("bytes");
            out.gbps = get("GB/s");
            out.gflops = get("GFLOP/s");
            rows.push_back(out);
        }
    }
};

// "gemv/csr/fp32/11008x4096/s90[/n32]" -> op, format, shape, batch.
struct parsed {
    std::string op, format, dtype, shape, sparsity, batch;
};
parsed parse(const std::string& name) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= name.size(); ++i)
        if (i == name.size() || name[i] == '/') {
            parts.push_back(name.substr(start, i - start));
            start = i + 1;
        }
    parsed p;
    if (parts.size() < 5) return p;
    p.op = parts[0];
    p.format = parts[1];
    p.dtype = parts[2];
    p.shape = parts[3];
    p.sparsity = parts[4];
    p.batch = parts.size() > 5 ? parts[5] : "n1";
    return p;
}

bool is_dense_baseline(const std::string& format) {
    return format == "dense" || format == "openblas" || format == "onednn";
}

void print_table(const std::vector<row>& rows) {
    double read_gbps = 0;
    for (const row& r : rows)
        if (r.name.rfind("bandwidth/read", 0) == 0) read_gbps = r.gbps;
    std::map<std::string, double> best_dense;  // op/shape/batch -> fastest dense fp32 time
    std::map<std::string, double> dense_bytes;
    for (const row& r : rows) {
        const parsed p = parse(r.name);
        if (!is_dense_baseline(p.format)) continue;
        const std::string key = p.op + "/" + p.shape + "/" + p.batch;
        if (!best_dense.count(key) || r.ms < best_dense[key]) best_dense[key] = r.ms;
        dense_bytes[p.shape] = r.bytes;
    }
    fmt::print("\nsieve {}.{}.{} on {} | ISA {} | one thread | DRAM read {:.1f} GB/s\n", SIEVE_VERSION_MAJOR,
               SIEVE_VERSION_MINOR, SIEVE_VERSION_PATCH, bench::cpu_name(), sieve::to_string(sieve::active_isa()),
               read_gbps);
    fmt::print("{:<6} {:<10} {:<6} {:<11} {:>5} {:>5} {:>9} {:>7} {:>7} {:>8} {:>9} {:>7}\n", "op", "format", "dtype",
               "shape", "sp%", "batch", "time ms", "GB/s", "% BW", "GFLOP/s", "vs dense", "bound");
    for (const row& r : rows) {
        const parsed p = parse(r.name);
        if (p.op.empty()) continue;
        const std::string key = p.op + "/" + p.shape + "/" + p.batch;
        const double speedup = best_dense.count(key) ? best_dense[key] / r.ms : 0;
        const double bound = dense_bytes.count(p.shape) && r.bytes > 0 ? dense_bytes[p.shape] / r.bytes : 0;
        fmt::print("{:<6} {:<10} {:<6} {:<11} {:>5} {:>5} {:>9.3f} {:>7.1f} {:>6.0f}% {:>8.1f} {:>8.2f}x {:>6.2f}x\n", p.op,
                   p.format, p.dtype, p.shape, p.sparsity.substr(1), p.batch.substr(1), r.ms, r.gbps,
                   read_gbps > 0 ? 100 * r.gbps / read_gbps : 0.0, r.gflops, speedup, p.op == "gemv" ? bound : 0.0);
    }
    fmt::print("\nbound: dense fp32 bytes / format bytes, the GEMV speedup a memory-bound kernel can reach.\n");
}

}  // namespace

int main(int argc, char** argv) {
    setenv("OMP_NUM_THREADS", "1", 0);  // dense baselines run one thread, as sieve does
#if SIEVE_BENCH_HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
    bool all = false, has_filter = false;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--all") {
            all = true;
            continue;
        }
        if (a.rfind("--benchmark_filter", 0) == 0) has_filter = true;
        args.push_back(argv[i]);
    }
    // The headline: decode-sized GEMV and a 32-token GEMM of one LLM projection.
    static std::string filter =
        "--benchmark_filter=^(bandwidth/read|(gemv|gemm)/(dense|openblas|onednn|nm2:4|csr|bsr4x4)/fp32/11008x4096/"
        "s(0|50|90)(/n32)?)(/real_time)?$";
    static std::string repetitions = "--benchmark_repetitions=3";
    static std::string aggregates = "--benchmark_report_aggregates_only=true";
    static std::string min_time = "--benchmark_min_time=0.3";
    if (!all && !has_filter) args.push_back(filter.data());
    args.push_back(repetitions.data());
    args.push_back(aggregates.data());
    args.push_back(min_time.data());
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());

    benchmark::RegisterBenchmark("bandwidth/read", read_bandwidth)->Unit(benchmark::kMillisecond)->UseRealTime();
    const std::vector<int> sweep = {50, 70, 80, 90, 95};
    const std::vector<std::size_t> batches = {8, 32, 128};
    for (shape s : {shape{11008, 4096}, shape{4096, 4096}, shape{4096, 11008}}) {
        register_baselines(s, batches);
        register_sieve(s, batches, sweep);
        register_eigen(s, {50, 90, 95});
    }
    collector reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    print_table(reporter.rows);
    benchmark::Shutdown();
    return 0;
}
