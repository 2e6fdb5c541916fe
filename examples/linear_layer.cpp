// A pruned linear layer, end to end: prune a dense weight matrix to 2:4 by magnitude, pack
// it, run one token (GEMV) and a batch of tokens (GEMM) with a fused bias + SiLU, check the
// result against the dense product, and show what each format costs in bytes per weight.
#include <sieve/sieve.hpp>

#include <fmt/format.h>

#include <cmath>
#include <random>
#include <vector>

int main() {
    const std::size_t out_features = 512, in_features = 1024, tokens = 8;
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> weights(out_features * in_features), bias(out_features), x(tokens * in_features);
    for (float& w : weights) w = normal(rng);
    for (float& b : bias) b = normal(rng);
    for (float& v : x) v = normal(rng) * 20.0f;
    const sieve::matrix_view<const float> W(weights.data(), out_features, in_features);

    // Pack once (at load time): keep the 2 largest of every 4 weights of a row.
    auto packed = sieve::nm_matrix<>::pack(W, {2, 4}, sieve::selection::magnitude());
    if (!packed.ok()) {
        fmt::print(stderr, "pack failed: {}\n", packed.message());
        return 1;
    }

    // Run many times: y = silu(W x + b) for one token, Y = silu(X W^T + b) for a batch.
    sieve::epilogue ep;
    ep.bias = sieve::span<const float>(bias);
    ep.act = sieve::activation::silu;
    std::vector<float> y(out_features), Y(tokens * out_features);
    sieve::status s = sieve::gemv(*packed, sieve::span<const float>(x.data(), in_features), y, ep);
    if (s.ok())
        s = sieve::gemm(*packed, sieve::matrix_view<const float>(x.data(), tokens, in_features),
                        sieve::matrix_view<float>(Y.data(), tokens, out_features), ep);
    if (!s.ok()) {
        fmt::print(stderr, "run failed: {}\n", s.message());
        return 1;
    }

    // The same numbers from the unpacked (pruned) dense matrix.
    std::vector<float> pruned(out_features * in_features);
    s = packed->unpack(sieve::matrix_view<float>(pruned.data(), out_features, in_features));
    double worst = 0;
    for (std::size_t n = 0; n < tokens; ++n)
        for (std::size_t m = 0; m < out_features; ++m) {
            double acc = bias[m];
            for (std::size_t k = 0; k < in_features; ++k) acc += double(pruned[m * in_features + k]) * x[n * in_features + k];
            const double expect = acc / (1.0 + std::exp(-acc));
            worst = std::fmax(worst, std::fabs(expect - Y[n * out_features + m]));
            if (n == 0) worst = std::fmax(worst, std::fabs(expect - y[m]));
        }
    fmt::print("2:4 layer {}x{}, {} tokens on {}: max |error| vs dense = {:.2e}\n", out_features, in_features, tokens,
               sieve::to_string(sieve::active_isa()), worst);

    // What the same layer costs in each format (GEMV reads every byte once per token).
    const double positions = double(out_features * in_features);
    auto dense = sieve::dense_matrix<>::pack(W);
    auto csr = sieve::csr_matrix<>::pack(W, sieve::selection::magnitude(0.5));
    auto bsr = sieve::bsr_matrix<float, 1, 16>::pack(W, sieve::selection::magnitude(0.5));
    fmt::print("{:<22} {:>10} {:>14}\n", "format (50% kept)", "bytes", "bytes/weight");
    fmt::print("{:<22} {:>10} {:>14.3f}\n", "dense fp32", dense->bytes(), dense->bytes() / positions);
    fmt::print("{:<22} {:>10} {:>14.3f}\n", "CSR, 16-bit indices", csr->bytes(), csr->bytes() / positions);
    fmt::print("{:<22} {:>10} {:>14.3f}\n", "2:4", packed->bytes(), packed->bytes() / positions);
    fmt::print("{:<22} {:>10} {:>14.3f}\n", "BSR 1x16", bsr->bytes(), bsr->bytes() / positions);
    return worst < 1e-3 ? 0 : 1;
}
