// The table, on the console (fixed-width) and in Markdown: one block per op/shape/batch,
// rows in run order, the same columns in both.
#include "report.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <functional>

namespace bench {
namespace {

struct column {
    const char* title;
    int width;
    bool left;
    std::function<std::string(const row&)> cell;
};

std::string times(double v) { return v > 0 ? fmt::format("{:.2f}x", v) : "-"; }

const std::vector<column>& columns() {
    static const std::vector<column> table = {
        {"op", 4, true, [](const row& r) { return r.id.op; }},
        {"format", 10, true, [](const row& r) { return r.id.format + (r.best_dense ? "*" : ""); }},
        {"dtype", 5, true, [](const row& r) { return r.id.dtype; }},
        {"shape", 10, true, [](const row& r) { return fmt::format("{}x{}", r.id.s.rows, r.id.s.cols); }},
        {"sp%", 3, false, [](const row& r) { return fmt::format("{}", r.id.sparsity); }},
        {"batch", 5, false, [](const row& r) { return fmt::format("{}", r.id.batch); }},
        {"time ms", 9, false, [](const row& r) { return fmt::format("{:.3f}", r.ms); }},
        {"GB/s", 6, false, [](const row& r) { return fmt::format("{:.1f}", r.gbps); }},
        {"% BW", 5, false, [](const row& r) { return r.bw_fraction > 0 ? fmt::format("{:.0f}%", 100 * r.bw_fraction) : "-"; }},
        {"GFLOP/s", 7, false, [](const row& r) { return fmt::format("{:.1f}", r.gflops); }},
        {"vs dense", 8, false, [](const row& r) { return times(r.speedup); }},
        {"bound", 7, false, [](const row& r) { return times(r.id.op == "gemv" ? r.byte_bound : r.flop_bound); }},
    };
    return table;
}

// Case rows grouped by op/shape/batch, groups in the order they first ran.
std::vector<std::vector<const row*>> groups(const summary& s) {
    std::vector<std::vector<const row*>> out;
    std::map<std::string, std::size_t> index;
    for (const row& r : s.rows) {
        if (r.id.op.empty()) continue;
        const auto [it, added] = index.emplace(r.id.group_key(), out.size());
        if (added) out.emplace_back();
        out[it->second].push_back(&r);
    }
    return out;
}

std::string group_title(const summary& s, const row& first) {
    const case_id& c = first.id;
    std::string title = c.op == "gemv" ? fmt::format("GEMV {}x{}", c.s.rows, c.s.cols)
                                       : fmt::format("GEMM {}x{}, N = {}", c.s.rows, c.s.cols, c.batch);
    if (c.threads > 1) {
        title += fmt::format(", {} threads", c.threads);
        const auto bw = s.read.find(c.threads);
        if (bw != s.read.end()) title += fmt::format(" (read {:.1f} GB/s)", bw->second.gbps);
    }
    const auto best = s.best_dense.find(c.group_key());
    if (best != s.best_dense.end())
        title += fmt::format(" (best dense fp32: {} {:.3f} ms)", best->second.format, best->second.ms);
    return title;
}

const char* legend[] = {
    "*        the fastest dense fp32 kernel of its op, shape and batch in this run: the denominator of \"vs dense\"",
    "% BW     GB/s of the format's own bytes / the DRAM read bandwidth measured in this run at the same thread count",
    "GFLOP/s  useful FLOPs only: 2 per kept weight per token",
    "bound    GEMV: dense fp32 bytes / format bytes, the speedup of a kernel running at the memory bound;",
    "         GEMM: dense FLOPs / useful FLOPs, the speedup of a kernel as FLOP-efficient as dense",
};

}  // namespace

void print_table(const summary& s) {
    fmt::print("\n");
    for (const auto& [key, value] : run_description(s)) fmt::print("{:<10} {}\n", key, value);
    std::string header;
    for (const column& c : columns())
        header += c.left ? fmt::format("{:<{}} ", c.title, c.width) : fmt::format("{:>{}} ", c.title, c.width);
    for (const auto& group : groups(s)) {
        fmt::print("\n{}\n{}\n", group_title(s, *group.front()), header);
        for (const row* r : group) {
            if (!r->error.empty()) {
                fmt::print("{:<44} skipped: {}\n", r->name, r->error);
                continue;
            }
            std::string line;
            for (const column& c : columns())
                line += c.left ? fmt::format("{:<{}} ", c.cell(*r), c.width) : fmt::format("{:>{}} ", c.cell(*r), c.width);
            fmt::print("{}\n", line);
        }
    }
    fmt::print("\n");
    for (const char* line : legend) fmt::print("{}\n", line);
    std::fflush(stdout);
}

bool write_markdown(const summary& s, const std::string& path, const std::string& svg_file) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    fmt::print(f, "# sieve benchmark\n\n| | |\n|---|---|\n");
    for (const auto& [key, value] : run_description(s)) fmt::print(f, "| {} | {} |\n", key, value);
    fmt::print(f, "\n![speedup over the best dense fp32 baseline against sparsity]({})\n", svg_file);
    for (const auto& group : groups(s)) {
        fmt::print(f, "\n## {}\n\n|", group_title(s, *group.front()));
        for (const column& c : columns()) fmt::print(f, " {} |", c.title);
        fmt::print(f, "\n|");
        for (const column& c : columns()) fmt::print(f, "{}|", c.left ? "---" : "---:");
        fmt::print(f, "\n");
        for (const row* r : group) {
            if (!r->error.empty()) {
                fmt::print(f, "| `{}` | skipped: {} |\n", r->name, r->error);
                continue;
            }
            fmt::print(f, "|");
            for (const column& c : columns()) fmt::print(f, " {} |", c.cell(*r));
            fmt::print(f, "\n");
        }
    }
    fmt::print(f, "\n## How to read it\n\n");
    for (const char* line : legend) fmt::print(f, "    {}\n", line);
    fmt::print(f,
               "\nGEMV (one token) reads every weight once: it is bound by memory, so bytes per weight decide it.\n"
               "Compare `% BW` with 100% and `vs dense` with `bound`. GEMM reuses each weight for every token:\n"
               "it is bound by arithmetic, so FLOP efficiency decides it: compare GFLOP/s with dense's.\n"
               "Times are medians of the repetitions; the JSON beside this file holds every repetition.\n");
    return std::fclose(f) == 0;
}

}  // namespace bench
