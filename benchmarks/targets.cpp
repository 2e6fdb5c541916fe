#include "targets.hpp"

#include <fmt/format.h>

#include <functional>
#include <optional>
#include <regex>
#include <vector>

namespace bench {
namespace {

constexpr const char* shape_name = "11008x4096";

// The best (smallest) time among the rows of one op/batch whose format matches `formats`,
// in `dtype`, at `sparsity`, on one thread.
struct pick {
    const row* r = nullptr;
    double ms() const { return r ? r->ms : 0.0; }
};
pick best(const summary& s, const std::string& op, std::size_t batch, const std::string& formats,
          const std::string& dtype, int sparsity) {
    const std::regex re(formats);
    pick out;
    for (const row& r : s.rows) {
        const case_id& c = r.id;
        if (!r.error.empty() || c.op != op || c.batch != batch || c.threads != 1 || c.dtype != dtype ||
            c.sparsity != sparsity || fmt::format("{}x{}", c.s.rows, c.s.cols) != shape_name ||
            !std::regex_match(c.format, re))
            continue;
        if (out.r == nullptr || r.ms < out.r->ms) out.r = &r;
    }
    return out;
}

struct target {
    std::string workload;
    double goal;
    const char* unit;  // "x" (speedup) or "% BW"
    std::function<std::optional<std::pair<double, std::string>>(const summary&)> achieved;  // value, detail
};

// Speedup of the best `formats` row over the best dense fp32 of the same op and batch.
auto speedup(std::string op, std::size_t batch, std::string formats, std::string dtype, int sparsity) {
    return [=](const summary& s) -> std::optional<std::pair<double, std::string>> {
        const pick p = best(s, op, batch, formats, dtype, sparsity);
        if (p.r == nullptr || p.r->speedup <= 0) return std::nullopt;
        return std::make_pair(p.r->speedup, fmt::format("{} {:.3f} ms", p.r->id.format, p.r->ms));
    };
}

const std::vector<target>& targets() {
    const std::string bsr = R"(bsr\d+x\d+)", unstructured = "csr|bitmap";
    static const std::vector<target> table = {
        {"dense fp32 GEMV, fraction of read bandwidth", 95, "% BW",
         [](const summary& s) -> std::optional<std::pair<double, std::string>> {
             const pick p = best(s, "gemv", 1, "dense", "fp32", 0);
             if (p.r == nullptr || p.r->bw_fraction <= 0) return std::nullopt;
             return std::make_pair(100 * p.r->bw_fraction, fmt::format("{:.1f} of {:.1f} GB/s", p.r->gbps, s.read_gbps));
         }},
        {"2:4 fp32 GEMV", 1.80, "x", speedup("gemv", 1, "nm2:4", "fp32", 50)},
        {"unstructured 50% fp32 GEMV", 1.70, "x", speedup("gemv", 1, unstructured, "fp32", 50)},
        {"unstructured 90% fp32 GEMV", 6.0, "x", speedup("gemv", 1, unstructured, "fp32", 90)},
        {"unstructured 95% fp32 GEMV", 11.0, "x", speedup("gemv", 1, unstructured, "fp32", 95)},
        {"BSR 50% fp32 GEMV (best block)", 1.80, "x", speedup("gemv", 1, bsr, "fp32", 50)},
        {"BSR 90% fp32 GEMV (best block)", 8.0, "x", speedup("gemv", 1, bsr, "fp32", 90)},
        {"dense int8 GEMV vs dense fp32", 3.70, "x", speedup("gemv", 1, "dense", "int8", 0)},
        {"2:4 int8 GEMV vs dense fp32", 6.0, "x", speedup("gemv", 1, "nm2:4", "int8", 50)},
        {"2:4 int8 GEMV vs dense int8", 1.50, "x",
         [](const summary& s) -> std::optional<std::pair<double, std::string>> {
             const pick sparse = best(s, "gemv", 1, "nm2:4", "int8", 50), dense = best(s, "gemv", 1, "dense", "int8", 0);
             if (sparse.r == nullptr || dense.r == nullptr) return std::nullopt;
             return std::make_pair(dense.ms() / sparse.ms(),
                                   fmt::format("{:.3f} ms vs dense int8 {:.3f} ms", sparse.ms(), dense.ms()));
         }},
        {"GEMM N=8, 2:4 fp32", 3.0, "x", speedup("gemm", 8, "nm2:4", "fp32", 50)},
        {"GEMM N=128, 2:4 fp32", 1.5, "x", speedup("gemm", 128, "nm2:4", "fp32", 50)},
        {"GEMM N=128, BSR 50% fp32 (best block)", 1.7, "x", speedup("gemm", 128, bsr, "fp32", 50)},
        {"GEMM N=128, unstructured 90% fp32", 6.0, "x", speedup("gemm", 128, unstructured, "fp32", 90)},
    };
    return table;
}

}  // namespace

std::string targets_filter() {
    return fmt::format(R"(^gemv/(dense|nm2:4)/(fp32|int8)/{0}/s(0|50)/n1/t1$|)"
                       R"(^gemv/(csr|bitmap)/fp32/{0}/s(50|90|95)/n1/t1$|)"
                       R"(^gemv/bsr\d+x\d+/fp32/{0}/s(50|90)/n1/t1$|)"
                       R"(^gemm/nm2:4/fp32/{0}/s50/n(8|128)/t1$|)"
                       R"(^gemm/bsr\d+x\d+/fp32/{0}/s50/n128/t1$|)"
                       R"(^gemm/(csr|bitmap)/fp32/{0}/s90/n128/t1$)",
                       shape_name);
}

int print_targets(const summary& s) {
    int missed = 0;
    fmt::print("\nPerformance targets ({}, cold weights, one thread; speedups over the best dense fp32 of the "
               "same run)\n{:<46} {:>10} {:>9}  {:<5} {}\n",
               shape_name, "workload", "achieved", "target", "", "detail");
    for (const target& t : targets()) {
        const auto got = t.achieved(s);
        const bool pass = got && got->first >= t.goal;
        if (!pass) ++missed;
        const std::string value = !got ? "-" : t.unit[0] == 'x' ? fmt::format("{:.2f}x", got->first)
                                                               : fmt::format("{:.1f}%", got->first);
        const std::string goal =
            t.unit[0] == 'x' ? fmt::format(">= {:.2f}x", t.goal) : fmt::format(">= {:.0f}%", t.goal);
        fmt::print("{:<46} {:>10} {:>9}  {:<5} {}\n", t.workload, value, goal, pass ? "PASS" : "MISS",
                   got ? got->second : "did not run");
    }
    fmt::print("{} of {} targets met\n", targets().size() - missed, targets().size());
    return missed;
}

}  // namespace bench
