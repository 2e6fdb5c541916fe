// From dense weights to sparse kernels: a two-layer MLP, y = W2 gelu(W1 x + b1) + b2, pruned
// with magnitude, Wanda and SparseGPT to 50% unstructured (packed as CSR), to 2:4 (packed
// as N:M) and to 50% of the input channels (a smaller dense matrix), quantized to int8, and
// run through sieve's kernels. It prints how far each pruned MLP's output is from the dense
// one on held-out tokens (fp32, int8 weights with fp32 activations, and W8A8), and how long
// one token takes.
//
// Calibration is layer by layer, as SparseGPT prunes a model: layer 1's statistics come
// from the MLP's inputs, layer 2's from what the *pruned* layer 1 produces, so layer 2 can
// compensate for layer 1's error too. (prune_and_pack<nm_matrix<std::int8_t>>(...) with
// prune_config::quant prunes, packs and quantizes in one call; here the fp32 layers are
// kept to compare both.)
//
// The timings are illustrative only: a small MLP whose weights sit in cache, one run, on
// whatever the machine is doing, with the kernels this build selected (the ISA is printed).
// Real numbers come from sieve_bench (tools/bench.sh).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <sieve/sieve.hpp>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t d_model = 128, d_hidden = 256, calibration_tokens = 256, test_tokens = 32;
const sieve::quant_config int8_scales = sieve::quant_config::per_group(64);

// Activations shaped like an LLM's: correlated channels (a few latent factors plus noise)
// and a handful of outlier channels 20x larger than the rest.
std::vector<float> make_tokens(std::mt19937& rng, const std::vector<float>& mixing, std::size_t n) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const std::size_t latent = mixing.size() / d_model;
    std::vector<float> x(n * d_model), z(latent);
    for (std::size_t t = 0; t < n; ++t) {
        for (float& v : z) v = normal(rng);
        for (std::size_t j = 0; j < d_model; ++j) {
            float v = 0.3f * normal(rng);
            for (std::size_t l = 0; l < latent; ++l) v += mixing[j * latent + l] * z[l];
            x[t * d_model + j] = (j % 61 == 7 ? 20.0f : 1.0f) * v;
        }
    }
    return x;
}

struct mlp_weights {
    std::vector<float> w1, b1, w2, b2;  // w1: d_hidden x d_model, w2: d_model x d_hidden
    sieve::epilogue ep1() const {
        sieve::epilogue ep;
        ep.bias = sieve::span<const float>(b1);
        ep.act = sieve::activation::gelu;
        return ep;
    }
    sieve::epilogue ep2() const {
        sieve::epilogue ep;
        ep.bias = sieve::span<const float>(b2);
        return ep;
    }
};

sieve::matrix_view<const float> view(const std::vector<float>& v, std::size_t rows,
                                     std::size_t cols) {
    return {v.data(), rows, cols};
}

// How a layer runs: fp32 activations (gemm / gemv, for fp32 and int8 weights) or W8A8.
struct fp32_activations {
    template <class L>
    static sieve::status gemm(const L& l, sieve::matrix_view<const float> x,
                              sieve::matrix_view<float> y, const sieve::epilogue& ep) {
        return sieve::gemm(l, x, y, ep);
    }
};
struct int8_activations {
    template <class L>
    static sieve::status gemm(const L& l, sieve::matrix_view<const float> x,
                              sieve::matrix_view<float> y, const sieve::epilogue& ep) {
        return sieve::gemm_w8a8(l, x, y, ep);
    }
};

// Y = W2 gelu(W1 X + b1) + b2 for a batch of n tokens (GEMM), with any pair of packed layers.
template <class Run = fp32_activations, class L1, class L2>
sieve::status forward(const L1& l1, const L2& l2, const mlp_weights& w, const std::vector<float>& x,
                      std::size_t n, std::vector<float>& y) {
    std::vector<float> hidden(n * d_hidden);
    y.resize(n * d_model);
    SIEVE_TRY(Run::gemm(l1, view(x, n, d_model),
                        sieve::matrix_view<float>(hidden.data(), n, d_hidden), w.ep1()));
    return Run::gemm(l2, view(hidden, n, d_hidden), sieve::matrix_view<float>(y.data(), n, d_model),
                     w.ep2());
}

// Microseconds per token at batch 1 (two GEMVs): the best of up to 5 passes over the test
// tokens, cut short after 20 ms (unoptimised builds) so the example stays quick.
template <class L1, class L2>
double gemv_microseconds(const L1& l1, const L2& l2, const mlp_weights& w,
                         const std::vector<float>& x) {
    using clock = std::chrono::steady_clock;
    std::vector<float> h(d_hidden), y(d_model);
    const sieve::epilogue ep1 = w.ep1(), ep2 = w.ep2();
    const auto begin = clock::now();
    const auto over_budget = [&] { return clock::now() - begin > std::chrono::milliseconds(20); };
    double best = 1e30;
    for (int pass = 0; pass < 5; ++pass) {
        const auto start = clock::now();
        std::size_t done = 0;
        while (done < test_tokens && (done == 0 || !over_budget())) {
            const sieve::span<const float> xt(x.data() + done * d_model, d_model);
            if (!sieve::gemv(l1, xt, sieve::span<float>(h), ep1).ok() ||
                !sieve::gemv(l2, sieve::span<const float>(h), sieve::span<float>(y), ep2).ok())
                return -1.0;
            ++done;
        }
        const std::chrono::duration<double, std::micro> took = clock::now() - start;
        best = std::min(best, took.count() / double(done));
        if (over_budget()) break;
    }
    return best;
}

double relative_error(const std::vector<float>& want, const std::vector<float>& got) {
    double diff = 0.0, ref = 0.0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        diff += (double(want[i]) - got[i]) * (double(want[i]) - got[i]);
        ref += double(want[i]) * want[i];
    }
    return std::sqrt(diff / ref);
}

sieve::result<sieve::calibration> calibrate(const std::vector<float>& x, std::size_t n,
                                            std::size_t k) {
    auto stats = sieve::calibration::create(k);
    if (!stats.ok()) return stats.error();
    SIEVE_TRY(stats->add(view(x, n, k)));
    return stats;
}

struct data {
    std::vector<float> x_cal, x_test, y_dense;
    sieve::calibration stats1;  // layer 1's inputs: the same for every case
    double dense_us = 0.0;
};

void print_row(const char* method, const char* label, double e32, double e8, double e8a8,
               double bytes8, double us32, double us8, double dense_us) {
    fmt::print(
        "{:<10} {:<12} {:>9.4f} {:>9.4f} {:>9.4f} {:>9.3f} {:>9.1f} {:>9.1f} {:>7.2f}x {:>7.2f}x\n",
        method, label, e32, e8, e8a8, bytes8, us32, us8, dense_us / us32, dense_us / us8);
}

// Errors and timings of a pair of packed fp32 layers and of their int8 form. The dense pair
// is the `baseline`: its fp32 time is what the speedups divide.
template <class L1, class L2>
bool report(const char* method, const char* label, const L1& l1, const L2& l2, const mlp_weights& w,
            data& d, bool baseline = false) {
    auto q1 = sieve::quantize(l1, int8_scales);
    auto q2 = sieve::quantize(l2, int8_scales);
    std::vector<float> y32, y8, y8a8;
    if (!q1.ok() || !q2.ok() || !forward(l1, l2, w, d.x_test, test_tokens, y32).ok() ||
        !forward(*q1, *q2, w, d.x_test, test_tokens, y8).ok() ||
        !forward<int8_activations>(*q1, *q2, w, d.x_test, test_tokens, y8a8).ok()) {
        fmt::print(stderr, "{} {}: running the pruned MLP failed\n", method, label);
        return false;
    }
    const double us32 = gemv_microseconds(l1, l2, w, d.x_test),
                 us8 = gemv_microseconds(*q1, *q2, w, d.x_test);
    if (baseline) d.dense_us = us32;
    const double bytes8 = double(q1->bytes() + q2->bytes()) / double(2 * d_model * d_hidden);
    print_row(method, label, relative_error(d.y_dense, y32), relative_error(d.y_dense, y8),
              relative_error(d.y_dense, y8a8), bytes8, us32, us8, d.dense_us);
    return us32 > 0.0 && us8 > 0.0;
}

// Prunes both layers with `config` into Format (layer 2 calibrated on the pruned layer 1's
// outputs), then reports.
template <class Format>
bool run_case(const char* label, const sieve::prune_config& config, const mlp_weights& w, data& d) {
    auto fail = [&](const char* what, const char* message) {
        fmt::print(stderr, "{} {}: {} failed: {}\n", sieve::to_string(config.method), label, what,
                   message);
        return false;
    };
    auto l1 = sieve::prune_and_pack<Format>(view(w.w1, d_hidden, d_model), d.stats1, config);
    if (!l1.ok()) return fail("layer 1", l1.message());
    std::vector<float> h_cal(calibration_tokens * d_hidden);
    const sieve::status s =
        sieve::gemm(*l1, view(d.x_cal, calibration_tokens, d_model),
                    sieve::matrix_view<float>(h_cal.data(), calibration_tokens, d_hidden), w.ep1());
    if (!s.ok()) return fail("layer 1 on calibration tokens", s.message());
    auto stats2 = calibrate(h_cal, calibration_tokens, d_hidden);
    if (!stats2.ok()) return fail("calibration 2", stats2.message());
    auto l2 = sieve::prune_and_pack<Format>(view(w.w2, d_model, d_hidden), *stats2, config);
    if (!l2.ok()) return fail("layer 2", l2.message());
    return report(sieve::to_string(config.method), label, *l1, *l2, w, d);
}

}  // namespace

int main() {
    std::mt19937 rng(2024);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> mixing(d_model * 16);  // 16 latent factors
    for (float& v : mixing) v = normal(rng) / 4.0f;
    data d;
    d.x_cal = make_tokens(rng, mixing, calibration_tokens);
    d.x_test = make_tokens(rng, mixing, test_tokens);

    mlp_weights w;
    w.w1.resize(d_hidden * d_model);
    w.b1.resize(d_hidden);
    w.w2.resize(d_model * d_hidden);
    w.b2.resize(d_model);
    for (float& v : w.w1) v = normal(rng) / std::sqrt(float(d_model));
    for (float& v : w.w2) v = normal(rng) / std::sqrt(float(d_hidden));
    for (float& v : w.b1) v = 0.1f * normal(rng);
    for (float& v : w.b2) v = 0.1f * normal(rng);

    auto d1 = sieve::dense_matrix<>::pack(view(w.w1, d_hidden, d_model));
    auto d2 = sieve::dense_matrix<>::pack(view(w.w2, d_model, d_hidden));
    auto stats1 = calibrate(d.x_cal, calibration_tokens, d_model);
    if (!d1.ok() || !d2.ok() || !stats1.ok() ||
        !forward(*d1, *d2, w, d.x_test, test_tokens, d.y_dense).ok()) {
        fmt::print(stderr, "dense MLP failed\n");
        return 1;
    }
    d.stats1 = std::move(*stats1);

    fmt::print(
        "MLP {} -> {} -> {}, {} calibration tokens, {} held-out tokens, kernels: {}, int8 scales "
        "per {} weights\n",
        d_model, d_hidden, d_model, calibration_tokens, test_tokens,
        sieve::to_string(sieve::active_isa()), int8_scales.group);
    fmt::print("{:<10} {:<12} {:>29} {:>9} {:>19} {:>17}\n", "", "", "relative output error",
               "int8", "us/token (GEMV)", "speedup vs dense");
    fmt::print("{:<10} {:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}\n", "method",
               "sparsity", "fp32", "int8", "W8A8", "bytes/w", "fp32", "int8", "fp32", "int8");
    bool ok = report("dense", "0%", *d1, *d2, w, d, true);
    for (auto method : {sieve::prune_method::magnitude, sieve::prune_method::wanda,
                        sieve::prune_method::sparsegpt}) {
        ok &= run_case<sieve::csr_matrix<>>("50% CSR",
                                            {method, sieve::prune_target::unstructured(0.5)}, w, d);
        ok &=
            run_case<sieve::nm_matrix<>>("2:4 N:M", {method, sieve::prune_target::nm(2, 4)}, w, d);
        // Structured: half of each layer's input channels gone, the rest a smaller dense matrix.
        ok &= run_case<sieve::channel_pruned_matrix<>>(
            "50% inputs", {method, sieve::prune_target::input_channels(0.5)}, w, d);
    }
    fmt::print(
        "(timings are illustrative: one small in-cache MLP, batch 1; use sieve_bench for real "
        "numbers)\n");
    return ok ? 0 : 1;
}
