// After the runs: what a person reads. The speedup over the best dense fp32 baseline and the
// fraction of the DRAM read bandwidth need every case's result, so the file reporter holds
// all runs back, adds those counters to each and only then writes the JSON:
//   speedup_vs_dense  best dense fp32 time of the op/shape/batch / this run's time
//   bw_fraction       GB/s / the fastest bandwidth/read GB/s of the run at the case's
//                     thread count
// (on every repetition and on the mean and median; the stddev and cv rows are spreads).
// The summary it builds feeds the console table, the Markdown report and the SVG plot.
#pragma once

#include "cases.hpp"

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bench {

// One benchmark's representative run: its median over repetitions, or its only run.
struct row {
    std::string name, label, error;
    case_id id;         // op is empty for rows that are not cases (bandwidth/read)
    double ms = 0;
    double bytes = 0, gbps = 0, gflops = 0, byte_bound = 0, flop_bound = 0;
    double speedup = 0, bw_fraction = 0;
    bool best_dense = false;  // the fastest dense fp32 reference of its group
};

struct best_dense_time {
    std::string format;
    double ms = 0;
};

struct read_bandwidth {
    double gbps = 0;
    std::string name;  // the bandwidth/read row that measured it
};

struct summary {
    std::string baselines;  // the libraries found, with versions
    double read_gbps = 0;   // one thread: read[1]
    std::string read_name;
    std::map<std::size_t, read_bandwidth> read;  // by thread count: the fastest read kernel
    std::map<std::string, best_dense_time> best_dense;  // by case_id::group_key()
    std::vector<row> rows;  // run order
};

// The file reporter: Google Benchmark's JSON, written at the end with the derived counters.
class suite_reporter : public benchmark::JSONReporter {
public:
    explicit suite_reporter(std::string baselines);
    bool ReportContext(const Context& context) override;
    void ReportRuns(const std::vector<Run>& runs) override;
    void Finalize() override;
    const summary& result() const { return summary_; }

private:
    std::unique_ptr<Context> context_;
    std::vector<Run> runs_;
    summary summary_;
};

// The console while it runs: the machine first, then one line per finished benchmark.
class progress_reporter : public benchmark::BenchmarkReporter {
public:
    progress_reporter(std::size_t total, std::string baselines) : total_(total), baselines_(std::move(baselines)) {}
    bool ReportContext(const Context& context) override;
    void ReportRuns(const std::vector<Run>& runs) override;

private:
    std::size_t total_, done_ = 0;
    std::string baselines_;
};

// The machine and run description, one "key: value" per line (console and Markdown).
std::vector<std::pair<std::string, std::string>> run_description(const summary& s);

void print_table(const summary& s);
bool write_markdown(const summary& s, const std::string& path, const std::string& svg_file);
bool write_svg(const summary& s, const std::string& path);

}  // namespace bench
