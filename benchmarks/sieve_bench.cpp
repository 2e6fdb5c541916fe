// sieve_bench: GEMV and GEMM of every sieve format against dense baselines, in one run, with
// a table, a Markdown report, a plot and Google Benchmark's JSON at the end.
//
//   sieve_bench                 the headline subset (about two minutes)
//   sieve_bench --all           every case
//   sieve_bench --filter RE     the cases whose name matches RE, with their dense baselines
//   sieve_bench --help          every option
//
// The pieces: cases.* (what is measured), sieve_formats.cpp and baselines.cpp (how),
// cold.* and measure.hpp (cold weights, the loop, the counters), bandwidth.* (DRAM read
// bandwidth), threads.* (thread counts and their executors), report* (derived counters,
// JSON, table, Markdown, SVG).
#include "bandwidth.hpp"
#include "baselines.hpp"
#include "cases.hpp"
#include "report.hpp"
#include "targets.hpp"
#include "threads.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <filesystem>
#include <regex>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

struct options {
    bench::selection_mode mode = bench::selection_mode::headline;
    std::string filter, out_dir, threads;
    bool list = false, help = false, targets = false;
    std::vector<std::string> benchmark_flags;  // passed to Google Benchmark, after ours
};

// Google Benchmark settings unless the command line says otherwise (later flags win): the
// median of 3 repetitions, but one repetition for --all (its ~2000 cases take half an hour
// that way).
std::vector<std::string> default_flags(bench::selection_mode mode) {
    return {
        mode == bench::selection_mode::all ? "--benchmark_repetitions=1" : "--benchmark_repetitions=3",
        "--benchmark_min_time=0.3",
        "--benchmark_display_aggregates_only=true",
    };
}

void print_help(const char* program) {
    fmt::print(
        "usage: {} [options] [Google Benchmark flags]\n\n"
        "  (no option)        the headline: 11008x4096 GEMV and 32-token GEMM of 2:4, 1:4, and CSR and\n"
        "                     BSR 4x4 at 50-95% sparsity (GEMV: Eigen's sparse CSR too), dense, 2:4\n"
        "                     and BSR 4x4 in int8 and W8A8, dense and 2:4 in int8 with scale groups\n"
        "                     of 128, against the dense baselines; about two minutes\n"
        "  --all              every case: every format, dtype and sparsity on every shape (about half\n"
        "                     an hour with one repetition each)\n"
        "  --filter REGEX     the cases whose name matches REGEX, plus the dense baselines of the\n"
        "                     same op, shape and batch (the speedup's denominator)\n"
        "  --out DIR          where the reports go (default: bench-report/ in the build directory)\n"
        "  --threads LIST     thread counts of the scaling rows, e.g. 1,2,4,8,16 (default: 1, 2 and\n"
        "                     every core); the read bandwidth is measured at each\n"
        "  --targets          the cases of sieve's performance targets, then a PASS/MISS line per\n"
        "                     target (benchmarks/targets.sh; exit status 3 if one is missed)\n"
        "  --list             print the selected case names and exit\n"
        "  -h, --help         this text, then Google Benchmark's flags\n\n"
        "Case names: op/format/dtype/MxK/s<sparsity %>/n<batch>/t<threads>, e.g.\n"
        "gemm/bsr4x4/fp32/11008x4096/s90/n32/t1. Every case runs on one thread; sieve's formats on\n"
        "11008x4096 (GEMV, GEMM N=32) also at each further thread count, through sieve's executor\n"
        "and its std::thread pool (the headline: its GEMVs). Their speedup is against sieve's dense\n"
        "kernel on as many threads, their % BW against the read bandwidth of as many threads.\n"
        "Formats: dense, nm2:4, nm4:8, nm1:4, csr, bsr1x4 ... bsr16x1, bsr4x4, each in dtype fp32,\n"
        "int8 (weight-only, per-row scales), int8g128 (weight-only, a scale per 128 K positions)\n"
        "and w8a8; baselines openblas, onednn, eigen (dense fp32), onednn w8a8\n"
        "(dnnl_gemm_u8s8s32) and eigen-csr (sparse peer), when found at configure time.\n"
        "Sparsity sweep for CSR, BSR and Eigen CSR: 50, 70, 80, 90, 95%. Shapes:\n{}\n"
        "Reports in DIR: sieve_bench.json (Google Benchmark's JSON with every repetition and the\n"
        "counters bytes, GB/s, GFLOP/s, byte_bound, flop_bound, copies, bw_fraction,\n"
        "speedup_vs_dense), sieve_bench.md (the table) and sieve_bench_speedup.svg (the plot).\n\n"
        "Defaults given to Google Benchmark (a flag of yours wins): {} (--all: one repetition)\n"
        "Environment: SIEVE_ISA=avx512|avx2|sse|scalar caps the ISA of sieve's kernels.\n\n",
        program, bench::describe_plan(), fmt::join(default_flags(bench::selection_mode::headline), " "));
}

bool parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const std::string& flag, std::string& out) {
            if (a.rfind(flag + "=", 0) == 0) {
                out = a.substr(flag.size() + 1);
                return true;
            }
            if (a != flag) return false;
            if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
            out = argv[++i];
            return true;
        };
        if (a == "-h" || a == "--help") {
            o.help = true;
        } else if (a == "--all") {
            o.mode = bench::selection_mode::all;
        } else if (a == "--targets") {
            o.targets = true;
            o.mode = bench::selection_mode::filter;
            o.filter = bench::targets_filter();
        } else if (a == "--list") {
            o.list = true;
        } else if (value("--filter", o.filter)) {
            o.mode = bench::selection_mode::filter;
        } else if (value("--out", o.out_dir)) {
        } else if (value("--threads", o.threads)) {
        } else if (a.rfind("--benchmark_", 0) == 0 || a.rfind("--v=", 0) == 0) {
            o.benchmark_flags.push_back(a);
        } else {
            fmt::print(stderr, "sieve_bench: unknown option '{}' (--help lists them)\n", a);
            return false;
        }
    }
    return true;
}

// bench-report/ beside the directory holding this program: build/release/bench-report.
std::string default_out_dir() {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec || !exe.has_parent_path()) return "bench-report";
    return (exe.parent_path().parent_path() / "bench-report").string();
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    try {
        if (!parse(argc, argv, o)) return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "sieve_bench: {}\n", e.what());
        return 2;
    }
    if (o.help) {
        print_help(argv[0]);
        std::vector<char*> args = {argv[0], const_cast<char*>("--help")};
        int count = 2;
        benchmark::Initialize(&count, args.data());  // prints Google Benchmark's flags and exits
        return 0;
    }

    if (!o.threads.empty())
        if (const std::string error = bench::set_thread_counts(o.threads); !error.empty()) {
            fmt::print(stderr, "sieve_bench: {}\n", error);
            return 2;
        }

    std::vector<bench::case_id> cases;
    try {
        cases = bench::select_cases(o.mode, o.filter);
    } catch (const std::regex_error& e) {
        fmt::print(stderr, "sieve_bench: bad --filter regex '{}': {}\n", o.filter, e.what());
        return 2;
    }
    if (o.list) {
        for (const auto& c : cases) fmt::print("{}\n", c.name());
        return 0;
    }
    if (cases.empty()) {
        fmt::print(stderr, "sieve_bench: no case matches '{}' (--list --all shows them all)\n", o.filter);
        return 2;
    }

    if (o.out_dir.empty()) o.out_dir = default_out_dir();
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (ec) {
        fmt::print(stderr, "sieve_bench: cannot create {}: {}\n", o.out_dir, ec.message());
        return 1;
    }
    const std::string json = o.out_dir + "/sieve_bench.json", md = o.out_dir + "/sieve_bench.md",
                      svg_name = "sieve_bench_speedup.svg", svg = o.out_dir + "/" + svg_name;

    std::string json_path = json;  // a --benchmark_out of the user's wins
    for (const std::string& f : o.benchmark_flags)
        if (f.rfind("--benchmark_out=", 0) == 0) json_path = f.substr(std::string("--benchmark_out=").size());
    std::vector<std::string> flags = default_flags(o.mode);
    flags.push_back("--benchmark_out=" + json);
    flags.push_back("--benchmark_out_format=json");
    flags.insert(flags.end(), o.benchmark_flags.begin(), o.benchmark_flags.end());
    std::vector<char*> args = {argv[0]};
    for (std::string& f : flags) args.push_back(f.data());
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 2;

    bench::single_threaded_baselines();
    const std::string baselines = bench::baseline_versions();
    const std::size_t total = bench::register_bandwidth() + cases.size();
    bench::register_cases(cases);
    bench::progress_reporter progress(total, baselines);
    bench::suite_reporter file(baselines);
    benchmark::RunSpecifiedBenchmarks(&progress, &file);
    benchmark::Shutdown();

    const bench::summary& s = file.result();
    if (s.rows.empty()) return 0;  // e.g. --benchmark_list_tests
    bench::print_table(s);
    const bool md_ok = bench::write_markdown(s, md, svg_name), svg_ok = bench::write_svg(s, svg);
    fmt::print("\nreports:\n  {}\n  {}{}\n  {}{}\n", json_path, md, md_ok ? "" : " (could not write)", svg,
               svg_ok ? "" : " (could not write)");
    if (!md_ok || !svg_ok) return 1;
    return o.targets && bench::print_targets(s) != 0 ? 3 : 0;
}
