// What sieve_bench measures: one benchmark case is an operation (GEMV or GEMM) of one
// implementation (a sieve format or a library) in one dtype on one weight shape, at one
// sparsity and batch. Its name spells all of that and is what filters and reports read:
//
//   op/format/dtype/MxK/s<sparsity %>/n<batch>/t<threads>
//                                        e.g. gemm/bsr4x4/fp32/11008x4096/s90/n32/t1
//
// cases.cpp holds the tables (shapes, batches, sparsities, the headline subset); the
// bodies that time a case come from sieve_formats.cpp (sieve) and baselines.cpp (libraries).
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace bench {

struct shape {
    std::size_t rows = 0, cols = 0;  // M x K: out_features x in_features
    bool operator==(const shape& o) const { return rows == o.rows && cols == o.cols; }
};

struct case_id {
    std::string op;        // "gemv" | "gemm"
    std::string format;    // "dense", "csr", "nm2:4", "bsr4x4", ... or a library: "openblas"
    std::string dtype;     // "fp32" (the int8 modes add "int8", "int8g128" and "w8a8")
    shape s;
    int sparsity = 0;      // percent of weight positions removed
    std::size_t batch = 1; // tokens: 1 for GEMV
    std::size_t threads = 1;  // sieve's kernels on this many threads (threads.hpp); libraries: 1

    std::string name() const;         // the benchmark name, as above
    std::string weights_key() const;  // format/dtype/MxK/sXX: the cases sharing packed weights
    std::string group_key() const;    // op/MxK/nB/tT: the cases one "best dense" time compares
    static bool parse(const std::string& name, case_id& out);
};

// The dense fp32 kernels whose fastest time in a run is the denominator of every speedup:
// sieve's own dense format and the dense libraries found at configure time.
bool is_dense_reference(const case_id& c);

// Times one case: builds (or reuses) its cold weights, then runs the benchmark loop.
using case_body = std::function<void(benchmark::State&, const case_id&)>;

// One implementation in one dtype and the sparsities it is measured at.
struct format_entry {
    std::string format, dtype;
    std::vector<int> sparsities;  // {0} for dense kernels
    case_body body;
    bool threaded = false;  // runs on sieve's executor: measured at every thread count too
};

// Providers of entries (each file owns its concern). The order is the run order.
std::vector<format_entry> dense_baseline_entries();  // baselines.cpp: OpenBLAS, oneDNN, Eigen
std::vector<format_entry> sieve_entries();           // sieve_formats.cpp: every format, fp32
std::vector<format_entry> peer_entries();            // baselines.cpp: Eigen's sparse CSR

enum class selection_mode { headline, all, filter };

// The cases to run, in run order (grouped so each weight set is packed once): the chosen
// ones plus, for every op/shape/batch among them, all dense references to compare against.
std::vector<case_id> select_cases(selection_mode mode, const std::string& filter_regex);

// Registers the cases with Google Benchmark (milliseconds, wall-clock time).
void register_cases(const std::vector<case_id>& cases);

// One line per shape for --help: what the shapes are.
std::string describe_plan();

}  // namespace bench
