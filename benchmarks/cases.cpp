// The case tables: which shapes, batches and sparsities sieve_bench measures, the headline
// subset, and the selection and registration of cases with Google Benchmark.
#include "cases.hpp"

#include "threads.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

namespace bench {

std::string case_id::name() const {
    return fmt::format("{}/{}/{}/{}x{}/s{}/n{}/t{}", op, format, dtype, s.rows, s.cols, sparsity, batch, threads);
}
std::string case_id::weights_key() const {
    return fmt::format("{}/{}/{}x{}/s{}", format, dtype, s.rows, s.cols, sparsity);
}
std::string case_id::group_key() const {
    return fmt::format("{}/{}x{}/n{}/t{}", op, s.rows, s.cols, batch, threads);
}

bool case_id::parse(const std::string& name, case_id& out) {
    static const std::regex pattern(R"(^(gemv|gemm)/([^/]+)/([^/]+)/(\d+)x(\d+)/s(\d+)/n(\d+)/t(\d+)$)");
    std::smatch m;
    if (!std::regex_match(name, m, pattern)) return false;
    out.op = m[1];
    out.format = m[2];
    out.dtype = m[3];
    out.s = {std::stoul(m[4]), std::stoul(m[5])};
    out.sparsity = std::stoi(m[6]);
    out.batch = std::stoul(m[7]);
    out.threads = std::stoul(m[8]);
    return true;
}

bool is_dense_reference(const case_id& c) {
    static const std::set<std::string> dense = {"dense", "openblas", "onednn", "eigen"};
    return c.dtype == "fp32" && c.sparsity == 0 && dense.count(c.format) != 0;
}

namespace {

// The weight shapes: LLM projections (LLaMA-7B sizes) for decode and prefill, and BERT-base
// layers for GEMM at a sequence-sized batch.
struct shape_plan {
    shape s;
    bool gemv;
    std::vector<std::size_t> gemm_batches;
    const char* what;
};

const std::vector<shape_plan>& plans() {
    static const std::vector<shape_plan> table = {
        {{11008, 4096}, true, {8, 32, 128}, "LLM up/gate projection"},
        {{4096, 11008}, true, {8, 32, 128}, "LLM down projection"},
        {{4096, 4096}, true, {8, 32, 128}, "LLM attention projection"},
        {{768, 768}, false, {128}, "BERT-base attention projection"},
        {{3072, 768}, false, {128}, "BERT-base FFN up projection"},
    };
    return table;
}

// The headline (sieve_bench without options): decode (GEMV) and a 32-token prefill (GEMM) of
// one LLM projection: the N:M patterns, the whole sweep of the unstructured (CSR, bitmap) and the
// block format that serves both ops (BSR 4x4), Eigen's sparse product as the peer (GEMV: its
// GEMM is far slower); then what int8 adds, alone (dense, against oneDNN's integer GEMM) and
// with sparsity (2:4, BSR 4x4 at 90%), per-row and (dense, 2:4) in scale groups of 128. The
// dense fp32 references come with them. About two minutes on two cores.
const shape headline_shape = {11008, 4096};
constexpr std::size_t headline_batch = 32;
const std::map<std::pair<std::string, std::string>, std::set<int>>& headline_picks() {
    static const std::map<std::pair<std::string, std::string>, std::set<int>> picks = {
        {{"nm2:4", "fp32"}, {50}},
        {{"nm1:4", "fp32"}, {75}},
        {{"csr", "fp32"}, {50, 70, 80, 90, 95}},
        {{"bitmap", "fp32"}, {50, 70, 80, 90, 95}},
        {{"bsr4x4", "fp32"}, {50, 70, 80, 90, 95}},
        {{"eigen-csr", "fp32"}, {50, 70, 90}},
        {{"dense", "int8"}, {0}},
        {{"dense", "int8g128"}, {0}},
        {{"dense", "w8a8"}, {0}},
        {{"onednn", "w8a8"}, {0}},
        {{"nm2:4", "int8"}, {50}},
        {{"nm2:4", "int8g128"}, {50}},
        {{"nm2:4", "w8a8"}, {50}},
        {{"bsr4x4", "int8"}, {90}},
        {{"bsr4x4", "w8a8"}, {90}},
    };
    return picks;
}

// The thread-scaling subset: sieve's formats on the headline shape, GEMV and the headline
// GEMM, at every thread count of the run (threads.hpp). The headline itself scales its GEMVs.
bool in_scaling_set(const case_id& c) {
    return c.s == headline_shape && (c.op == "gemv" || c.batch == headline_batch);
}

bool in_headline(const case_id& c) {
    if (!(c.s == headline_shape)) return false;
    if (c.threads > 1 && c.op != "gemv") return false;
    if (c.op == "gemm" && c.batch != headline_batch) return false;
    if (c.format == "eigen-csr" && c.op != "gemv") return false;
    const auto it = headline_picks().find({c.format, c.dtype});
    return it != headline_picks().end() && it->second.count(c.sparsity) != 0;
}

struct registered_entry {
    case_id id;
    const format_entry* entry;
};

// Every case, in run order: per shape, the dense references (they share one set of cold
// copies), then each sieve format and sparsity with its dtypes (int8 and w8a8 share their
// weights) and each dtype's GEMV and GEMMs, then the peers.
const std::vector<format_entry>& entries() {
    static const std::vector<format_entry> all = [] {
        std::vector<format_entry> out = dense_baseline_entries();
        for (auto* more : {sieve_entries, peer_entries})
            for (auto& e : more()) out.push_back(std::move(e));
        return out;
    }();
    return all;
}

// A case on one thread, then (threaded entries in the scaling set) on each further count.
void add_case(std::vector<registered_entry>& out, case_id c, const format_entry& e) {
    out.push_back({c, &e});
    if (!e.threaded || !in_scaling_set(c)) return;
    for (std::size_t t : thread_counts()) {
        if (t == 1) continue;
        c.threads = t;
        out.push_back({c, &e});
    }
}

void add_cases(std::vector<registered_entry>& out, const shape_plan& plan, const format_entry& e, int sparsity) {
    if (std::find(e.sparsities.begin(), e.sparsities.end(), sparsity) == e.sparsities.end()) return;
    case_id c{"", e.format, e.dtype, plan.s, sparsity, 1};
    if (plan.gemv) {
        c.op = "gemv";
        add_case(out, c, e);
    }
    c.op = "gemm";
    for (std::size_t n : plan.gemm_batches) {
        c.batch = n;
        add_case(out, c, e);
    }
}

std::vector<registered_entry> every_case() {
    const std::vector<format_entry>& all = entries();
    std::vector<registered_entry> out;
    for (const shape_plan& plan : plans())
        for (std::size_t first = 0, last = 0; first < all.size(); first = last) {
            // The entries of one format (its dtypes) sit side by side.
            std::set<int> sparsities;
            for (; last < all.size() && all[last].format == all[first].format; ++last)
                sparsities.insert(all[last].sparsities.begin(), all[last].sparsities.end());
            for (int sparsity : sparsities)
                for (std::size_t i = first; i < last; ++i) add_cases(out, plan, all[i], sparsity);
        }
    return out;
}

const format_entry* entry_for(const case_id& c) {
    for (const format_entry& e : entries())
        if (e.format == c.format && e.dtype == c.dtype) return &e;
    return nullptr;
}

}  // namespace

std::vector<case_id> select_cases(selection_mode mode, const std::string& filter_regex) {
    const std::vector<registered_entry> all = every_case();
    std::regex filter;
    if (mode == selection_mode::filter) filter = std::regex(filter_regex);  // throws on a bad regex

    std::vector<bool> chosen(all.size(), false);
    std::set<std::string> groups;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const case_id& c = all[i].id;
        switch (mode) {
        case selection_mode::all: chosen[i] = true; break;
        case selection_mode::headline: chosen[i] = in_headline(c); break;
        case selection_mode::filter: chosen[i] = std::regex_search(c.name(), filter); break;
        }
        if (chosen[i]) groups.insert(c.group_key());
    }
    std::vector<case_id> out;
    for (std::size_t i = 0; i < all.size(); ++i)
        if (chosen[i] || (is_dense_reference(all[i].id) && groups.count(all[i].id.group_key())))
            out.push_back(all[i].id);
    return out;
}

void register_cases(const std::vector<case_id>& cases) {
    for (const case_id& c : cases) {
        const format_entry* e = entry_for(c);
        if (e == nullptr) throw std::logic_error("no entry for " + c.name());
        benchmark::RegisterBenchmark(c.name().c_str(), [e, c](benchmark::State& state) { e->body(state, c); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    }
}

std::string describe_plan() {
    std::string out;
    for (const shape_plan& p : plans()) {
        std::string batches;
        for (std::size_t n : p.gemm_batches) batches += fmt::format("{}{}", batches.empty() ? "" : ",", n);
        out += fmt::format("    {:>5}x{:<5}  {:<31} {}GEMM N={}\n", p.s.rows, p.s.cols, p.what,
                           p.gemv ? "GEMV, " : "", batches);
    }
    return out;
}

}  // namespace bench
