// The reporters: derived counters computed after all runs, the JSON written with them, and
// the one-line-per-benchmark console progress.
#include "report.hpp"

#include "bandwidth.hpp"
#include "machine.hpp"
#include "threads.hpp"

#include <sieve/sieve.hpp>

#include <fmt/format.h>

#include <map>

namespace bench {
namespace {

using Run = benchmark::BenchmarkReporter::Run;

// How the run uses threads, for the context and the header.
std::string thread_description() {
    std::string counts;
    for (std::size_t t : thread_counts()) counts += fmt::format("{}{}", counts.empty() ? "" : ", ", t);
    return fmt::format("one (the library baselines always); sieve's thread-scaling rows at {} (t<T> in names)",
                       counts);
}

double run_ms(const Run& r) { return r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) * 1e3; }

double counter(const Run& r, const char* key) {
    const auto it = r.counters.find(key);
    return it == r.counters.end() ? 0.0 : static_cast<double>(it->second);
}

// Runs whose time is a time (not a spread): each repetition, the mean and the median.
bool is_time(const Run& r) {
    return r.run_type == Run::RT_Iteration || r.aggregate_name == "mean" || r.aggregate_name == "median";
}

// The representative run among one benchmark's runs: the median, else the mean, else the
// first repetition (the only one, unless aggregates were turned off).
const Run* representative(const std::vector<const Run*>& runs) {
    for (const char* want : {"median", "mean"})
        for (const Run* r : runs)
            if (r->run_type == Run::RT_Aggregate && r->aggregate_name == want) return r;
    for (const Run* r : runs)
        if (r->run_type == Run::RT_Iteration) return r;
    return runs.empty() ? nullptr : runs.front();
}

row make_row(const Run& r) {
    row out;
    out.name = r.run_name.function_name;
    out.label = r.report_label;
    if (r.error_occurred) out.error = r.error_message.empty() ? "error" : r.error_message;
    case_id::parse(out.name, out.id);
    out.ms = run_ms(r);
    out.bytes = counter(r, "bytes");
    out.gbps = counter(r, "GB/s");
    out.gflops = counter(r, "GFLOP/s");
    out.byte_bound = counter(r, "byte_bound");
    out.flop_bound = counter(r, "flop_bound");
    return out;
}

// Rows in run order, one per benchmark name.
std::vector<row> representative_rows(const std::vector<Run>& runs) {
    std::vector<std::string> order;
    std::map<std::string, std::vector<const Run*>> by_name;
    for (const Run& r : runs) {
        auto& list = by_name[r.run_name.function_name];
        if (list.empty()) order.push_back(r.run_name.function_name);
        list.push_back(&r);
    }
    std::vector<row> rows;
    for (const std::string& name : order)
        if (const Run* r = representative(by_name[name])) rows.push_back(make_row(*r));
    return rows;
}

// GB/s against the read bandwidth of the same thread count (bandwidth rows: their own).
double bandwidth_fraction(const summary& s, const case_id& id, double gbps) {
    const auto it = s.read.find(id.op.empty() ? 1 : id.threads);
    return it == s.read.end() || it->second.gbps <= 0 ? 0.0 : gbps / it->second.gbps;
}

summary summarize(const std::vector<Run>& runs, std::string baselines) {
    summary s;
    s.baselines = std::move(baselines);
    s.rows = representative_rows(runs);
    for (const row& r : s.rows) {
        if (!r.error.empty() || !is_read_bandwidth(r.name)) continue;
        read_bandwidth& best = s.read[read_bandwidth_threads(r.name)];
        if (r.gbps > best.gbps) best = {r.gbps, r.name};
    }
    if (s.read.count(1)) {
        s.read_gbps = s.read[1].gbps;
        s.read_name = s.read[1].name;
    }
    for (const row& r : s.rows) {
        if (!r.error.empty() || r.id.op.empty() || !is_dense_reference(r.id)) continue;
        best_dense_time& best = s.best_dense[r.id.group_key()];
        if (best.format.empty() || r.ms < best.ms) best = {r.id.format, r.ms};
    }
    for (row& r : s.rows) {
        r.bw_fraction = bandwidth_fraction(s, r.id, r.gbps);
        if (r.id.op.empty() || !r.error.empty()) continue;
        const auto best = s.best_dense.find(r.id.group_key());
        if (best == s.best_dense.end() || r.ms <= 0) continue;
        r.speedup = best->second.ms / r.ms;
        r.best_dense = is_dense_reference(r.id) && best->second.format == r.id.format;
    }
    return s;
}

}  // namespace

suite_reporter::suite_reporter(std::string baselines) { summary_.baselines = std::move(baselines); }

bool suite_reporter::ReportContext(const Context& context) {
    context_ = std::make_unique<Context>(context);
    return true;
}

void suite_reporter::ReportRuns(const std::vector<Run>& runs) { runs_.insert(runs_.end(), runs.begin(), runs.end()); }

void suite_reporter::Finalize() {
    summary_ = summarize(runs_, summary_.baselines);
    for (Run& r : runs_) {
        if (r.error_occurred || !is_time(r)) continue;
        case_id id;
        const bool is_case = case_id::parse(r.run_name.function_name, id);
        if (const std::size_t t = read_bandwidth_threads(r.run_name.function_name)) id.threads = t;
        if (r.counters.count("GB/s"))
            if (const double f = bandwidth_fraction(summary_, id, counter(r, "GB/s")); f > 0) r.counters["bw_fraction"] = f;
        if (!is_case) continue;
        const auto best = summary_.best_dense.find(id.group_key());
        if (best != summary_.best_dense.end() && run_ms(r) > 0)
            r.counters["speedup_vs_dense"] = best->second.ms / run_ms(r);
    }
    const machine_info& m = machine();
    benchmark::AddCustomContext("sieve_version", fmt::format("{}.{}.{}", SIEVE_VERSION_MAJOR, SIEVE_VERSION_MINOR,
                                                              SIEVE_VERSION_PATCH));
    benchmark::AddCustomContext("sieve_isa", m.isa);
    benchmark::AddCustomContext("sieve_threads", thread_description());
    benchmark::AddCustomContext("cpu", m.cpu);
    benchmark::AddCustomContext("llc_bytes", fmt::format("{} ({})", m.llc_bytes, m.llc_source));
    benchmark::AddCustomContext("cold_working_set_bytes", fmt::format("{}", cold_working_set_bytes()));
    benchmark::AddCustomContext("baselines", summary_.baselines);
    for (const auto& [threads, bw] : summary_.read)
        benchmark::AddCustomContext(fmt::format("dram_read_GB/s t{}", threads), fmt::format("{:.2f} ({})", bw.gbps, bw.name));
    for (const auto& [group, best] : summary_.best_dense)
        benchmark::AddCustomContext("best_dense_fp32 " + group, fmt::format("{} {:.4f} ms", best.format, best.ms));
    if (context_) JSONReporter::ReportContext(*context_);
    JSONReporter::ReportRuns(runs_);
    JSONReporter::Finalize();
}

bool progress_reporter::ReportContext(const Context&) {
    summary header;
    header.baselines = baselines_;
    for (const auto& [key, value] : run_description(header))
        if (key != "DRAM read") fmt::print("{:<10} {}\n", key, value);
    fmt::print("running {} benchmarks (time: median of the repetitions)\n", total_);
    std::fflush(stdout);
    return true;
}

void progress_reporter::ReportRuns(const std::vector<Run>& runs) {
    // Repetitions come in one call and their aggregates in the next: wait for the latter
    // (a failed benchmark has none).
    std::vector<const Run*> list;
    bool aggregates = false, failed = false;
    for (const Run& r : runs) {
        list.push_back(&r);
        aggregates |= r.run_type == Run::RT_Aggregate;
        failed |= r.error_occurred;
    }
    if (list.empty() || (!aggregates && !failed && list.front()->repetitions > 1)) return;
    const Run* pick = representative(list);
    if (pick == nullptr) return;
    const row r = make_row(*pick);
    ++done_;
    const int width = static_cast<int>(fmt::formatted_size("{}", total_));
    if (!r.error.empty())
        fmt::print("[{:>{}}/{}] {:<44} skipped: {}\n", done_, width, total_, r.name, r.error);
    else
        fmt::print("[{:>{}}/{}] {:<44} {:>10.3f} ms {:>7.1f} GB/s {:>8.1f} GFLOP/s\n", done_, width, total_, r.name,
                   r.ms, r.gbps, r.gflops);
    std::fflush(stdout);
}

std::vector<std::pair<std::string, std::string>> run_description(const summary& s) {
    const machine_info& m = machine();
    std::vector<std::pair<std::string, std::string>> out = {
        {"sieve", fmt::format("{}.{}.{}, sieve_bench {} build, {}", SIEVE_VERSION_MAJOR, SIEVE_VERSION_MINOR,
                              SIEVE_VERSION_PATCH, m.build_type, m.date)},
        {"CPU", fmt::format("{}, LLC {} MiB ({})", m.cpu, m.llc_bytes >> 20, m.llc_source)},
        {"ISA", m.isa},
        {"threads", thread_description()},
        {"weights", fmt::format("cold: each case rotates copies covering >= {} MiB (4x the LLC)",
                                cold_working_set_bytes() >> 20)},
        {"baselines", s.baselines},
    };
    for (const auto& [threads, bw] : s.read)
        if (bw.gbps > 0)
            out.push_back({threads == 1 ? "DRAM read" : "", fmt::format("{:.1f} GB/s ({})", bw.gbps, bw.name)});
    return out;
}

}  // namespace bench
