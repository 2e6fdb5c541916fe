// The comparison behind every GEMV / GEMM test, written once and generic over the format:
// run the public sieve::gemv / sieve::gemm on a packed matrix, the scalar reference on its
// view, and the naive dense product on its unpacked form, and require all three to agree
// within the derived tolerance. Outputs are pre-filled with NaN (or, when beta != 0, with
// known values) and live in guarded buffers, so unwritten elements and writes outside the
// output (row gaps, before, after) are caught.
#pragma once

#include <algorithm>
#include <cmath>
#include <catch2/catch.hpp>
#include <cstddef>
#include <limits>
#include <sieve/sieve.hpp>
#include <string>
#include <vector>

#include "compare.hpp"
#include "formats.hpp"
#include "random.hpp"

namespace sieve_test {

struct run_options {
    const epilogue_case* epilogue = &epilogue_cases()[0];
    layout y_layout{};
    bool via_view = false;  // pass the view instead of the owning matrix
};

// Random bias (M entries), and the output's prior contents: known values when beta != 0,
// NaN otherwise (beta == 0 must not read them).
inline test_matrix prior_output(rng& r, std::size_t rows, std::size_t cols,
                                const sieve::epilogue& ep) {
    test_matrix out(rows, cols, {}, std::numeric_limits<float>::quiet_NaN());
    if (ep.beta != 0.0f) fill_random(out, r, {1.0, -2.0f, 2.0f});
    return out;
}

inline std::vector<float> random_bias(rng& r, std::size_t m) {
    std::vector<float> bias(m);
    for (auto& b : bias) b = r.nonzero(-1.0f, 1.0f);
    return bias;
}

inline std::vector<float> elements(const test_matrix& m) {
    std::vector<float> out;
    out.reserve(m.size());
    for (std::size_t r = 0; r < m.rows(); ++r)
        for (std::size_t c = 0; c < m.cols(); ++c) out.push_back(m(r, c));
    return out;
}

// Sets `count` random positions of `x` to NaN, +Inf or -Inf (in turn).
inline void sprinkle_non_finite(test_matrix& x, rng& r, std::size_t count) {
    const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
    for (std::size_t i = 0; i < count && x.size() != 0; ++i)
        x(r.index(0, x.rows() - 1), r.index(0, x.cols() - 1)) = specials[i % 3];
}

inline void require_agreement(const std::string& op, const std::vector<float>& got,
                              const std::vector<float>& oracle,
                              const std::vector<expected_value>& naive) {
    const comparison vs_naive = compare(op + " vs naive product", got, naive);
    INFO(vs_naive.text());
    CHECK(vs_naive.ok);
    const comparison vs_reference = compare(op + " vs reference", got, as_expected(oracle, naive));
    INFO(vs_reference.text());
    CHECK(vs_reference.ok);
    // The two oracles must agree too, or neither can be trusted.
    const comparison oracles = compare("reference vs naive product", oracle, naive);
    INFO(oracles.text());
    CHECK(oracles.ok);
}

// y = epilogue(W x) through sieve::gemv, checked against both oracles. `x` may carry any
// layout (misaligned) and values (NaN, Inf).
template <class F>
void check_gemv(const packed_weights<F>& w, const test_matrix& x, rng& r,
                const run_options& o = {}) {
    const std::size_t m = w.dense.rows();
    const std::vector<float> bias = random_bias(r, m);
    const sieve::epilogue ep = make_epilogue(*o.epilogue, bias);
    INFO("epilogue: " << o.epilogue->name << "; y misalign " << o.y_layout.misalign << "; via "
                      << (o.via_view ? "view" : "matrix"));
    const test_matrix before = prior_output(r, 1, m, ep);
    test_matrix y = copy_with_layout(before, o.y_layout);

    const sieve::status s = o.via_view
                                ? sieve::gemv(w.matrix.view(), x.span(), y.mutable_span(), ep)
                                : sieve::gemv(w.matrix, x.span(), y.mutable_span(), ep);
    INFO(s.message());
    REQUIRE(s.ok());
    CHECK(y.layout_intact());
    CHECK(x.layout_intact());

    test_matrix y_ref = copy_with_layout(before, {});
    sieve::reference::gemv(w.matrix.view(), x.data(), y_ref.data(), ep);
    const auto naive = naive_gemv(w.dense.view(), w.stored, x.data(), before.data(), ep);
    require_agreement("gemv y", elements(y), elements(y_ref), naive);
}

// Y = epilogue(X W^T) through sieve::gemm, checked against both oracles row by row. X and Y
// may have any layout (ld > cols with NaN sentinels in the gap, misaligned).
template <class F>
void check_gemm(const packed_weights<F>& w, const test_matrix& x, rng& r,
                const run_options& o = {}) {
    const std::size_t m = w.dense.rows(), n = x.rows();
    const std::vector<float> bias = random_bias(r, m);
    const sieve::epilogue ep = make_epilogue(*o.epilogue, bias);
    INFO("epilogue: " << o.epilogue->name << "; Y ld pad " << o.y_layout.ld_pad << ", misalign "
                      << o.y_layout.misalign << "; via " << (o.via_view ? "view" : "matrix"));
    const test_matrix before = prior_output(r, n, m, ep);
    test_matrix y = copy_with_layout(before, o.y_layout);

    const sieve::status s = o.via_view
                                ? sieve::gemm(w.matrix.view(), x.view(), y.mutable_view(), ep)
                                : sieve::gemm(w.matrix, x.view(), y.mutable_view(), ep);
    INFO(s.message());
    REQUIRE(s.ok());
    CHECK(y.layout_intact());
    CHECK(x.layout_intact());

    test_matrix y_ref = copy_with_layout(before, {});
    sieve::reference::gemm(w.matrix.view(), x.view(), y_ref.mutable_view(), ep);
    std::vector<expected_value> naive;
    for (std::size_t i = 0; i < n; ++i) {
        const auto row = naive_gemv(w.dense.view(), w.stored, &x(i, 0), &before(i, 0), ep);
        naive.insert(naive.end(), row.begin(), row.end());
    }
    require_agreement("gemm Y", elements(y), elements(y_ref), naive);
}

// ---- W8A8 ---------------------------------------------------------------------------------
// The token quantization ops.hpp specifies, written again from its words: amax = max |x|,
// scale = amax / 127, q = round-to-nearest-even(x * (127 / amax)) clamped to +-127, fp32.
struct quantized_token {
    bool finite = true;
    double scale = 0.0;
    std::vector<double> values;  // q * scale, the activation the integer product sees
};

inline quantized_token quantize_token_naive(const float* x, std::size_t k) {
    quantized_token t;
    float amax = 0.0f;
    for (std::size_t i = 0; i < k; ++i) {
        if (!std::isfinite(x[i])) t.finite = false;
        else amax = std::max(amax, std::fabs(x[i]));
    }
    const float scale = amax / 127.0f, inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
    t.scale = scale;
    t.values.assign(k, 0.0);
    for (std::size_t i = 0; i < k && t.finite; ++i) {
        const float q = inverse == 0.0f ? 0.0f : std::min(127.0f, std::max(-127.0f, std::nearbyint(x[i] * inverse)));
        t.values[i] = static_cast<double>(q) * static_cast<double>(scale);
    }
    return t;
}

// Two oracles for one W8A8 token: `exact`, the product of the dequantized weights and the
// quantized token (what the integer kernels compute, up to fp32 rounding of the scaling),
// and `vs_float`, the fp32-activation product with the bound activation rounding allows:
// each |x_k - q_k s| <= s / 2, so the dot product moves by at most sum |w_k| * s / 2.
struct w8a8_expected {
    std::vector<expected_value> exact, vs_float;
};

inline w8a8_expected naive_gemv_w8a8(sieve::matrix_view<const float> w, const std::vector<std::uint8_t>& stored,
                                     const float* x, const float* y_before, const sieve::epilogue& ep) {
    const quantized_token t = quantize_token_naive(x, w.cols);
    w8a8_expected out;
    out.vs_float = naive_gemv(w, stored, x, y_before, ep);
    for (std::size_t m = 0; m < w.rows; ++m) {
        double acc = 0.0, s = 0.0, w_abs = 0.0;
        for (std::size_t k = 0; k < w.cols; ++k) {
            if (!stored.empty() && stored[m * w.cols + k] == 0) continue;
            acc += static_cast<double>(w(m, k)) * t.values[k];
            s += std::fabs(static_cast<double>(w(m, k)) * t.values[k]);
            w_abs += std::fabs(static_cast<double>(w(m, k)));
        }
        if (!t.finite) acc = std::numeric_limits<double>::quiet_NaN();
        out.exact.push_back(naive_finish(acc, s, w.cols, m, ep, ep.beta != 0.0f ? y_before[m] : 0.0f));
        expected_value& f = out.vs_float[m];
        if (!t.finite) f.value = std::numeric_limits<double>::quiet_NaN();
        f.bound += activation_slope(ep.act) * std::fabs(ep.alpha) * w_abs * t.scale / 2.0 + out.exact[m].bound;
    }
    return out;
}

inline void require_w8a8_agreement(const std::string& op, const std::vector<float>& got, const w8a8_expected& want) {
    const comparison c_exact = compare(op + " vs the quantized-token product", got, want.exact);
    INFO(c_exact.text());
    CHECK(c_exact.ok);
    const comparison c_float = compare(op + " vs the fp32 product within the activation rounding bound", got,
                                       want.vs_float);
    INFO(c_float.text());
    CHECK(c_float.ok);
}

// y = epilogue(W8 x) through sieve::gemv_w8a8, against both W8A8 oracles and the reference.
template <class F>
void check_gemv_w8a8(const packed_weights<F>& w, const test_matrix& x, rng& r, const run_options& o = {}) {
    const std::size_t m = w.dense.rows();
    const std::vector<float> bias = random_bias(r, m);
    const sieve::epilogue ep = make_epilogue(*o.epilogue, bias);
    INFO("w8a8 epilogue: " << o.epilogue->name << "; via " << (o.via_view ? "view" : "matrix"));
    const test_matrix before = prior_output(r, 1, m, ep);
    test_matrix y = copy_with_layout(before, o.y_layout);
    const sieve::status s = o.via_view ? sieve::gemv_w8a8(w.matrix.view(), x.span(), y.mutable_span(), ep)
                                       : sieve::gemv_w8a8(w.matrix, x.span(), y.mutable_span(), ep);
    INFO(s.message());
    REQUIRE(s.ok());
    CHECK(y.layout_intact());
    test_matrix y_ref = copy_with_layout(before, {});
    sieve::reference::gemv_w8a8(w.matrix.view(), x.data(), y_ref.data(), ep);
    const w8a8_expected want = naive_gemv_w8a8(w.dense.view(), w.stored, x.data(), before.data(), ep);
    require_w8a8_agreement("gemv_w8a8 y", elements(y), want);
    require_w8a8_agreement("reference gemv_w8a8 y", elements(y_ref), want);
}

template <class F>
void check_gemm_w8a8(const packed_weights<F>& w, const test_matrix& x, rng& r, const run_options& o = {}) {
    const std::size_t m = w.dense.rows(), n = x.rows();
    const std::vector<float> bias = random_bias(r, m);
    const sieve::epilogue ep = make_epilogue(*o.epilogue, bias);
    INFO("w8a8 epilogue: " << o.epilogue->name << "; Y ld pad " << o.y_layout.ld_pad);
    const test_matrix before = prior_output(r, n, m, ep);
    test_matrix y = copy_with_layout(before, o.y_layout);
    const sieve::status s = o.via_view ? sieve::gemm_w8a8(w.matrix.view(), x.view(), y.mutable_view(), ep)
                                       : sieve::gemm_w8a8(w.matrix, x.view(), y.mutable_view(), ep);
    INFO(s.message());
    REQUIRE(s.ok());
    CHECK(y.layout_intact());
    CHECK(x.layout_intact());
    test_matrix y_ref = copy_with_layout(before, {});
    sieve::reference::gemm_w8a8(w.matrix.view(), x.view(), y_ref.mutable_view(), ep);
    w8a8_expected want;
    for (std::size_t i = 0; i < n; ++i) {
        const w8a8_expected row = naive_gemv_w8a8(w.dense.view(), w.stored, &x(i, 0), &before(i, 0), ep);
        want.exact.insert(want.exact.end(), row.exact.begin(), row.exact.end());
        want.vs_float.insert(want.vs_float.end(), row.vs_float.begin(), row.vs_float.end());
    }
    require_w8a8_agreement("gemm_w8a8 Y", elements(y), want);
    require_w8a8_agreement("reference gemm_w8a8 Y", elements(y_ref), want);
}

// Edge extents derived from the format's tile: 1, 2, just below / at / above the tile, and
// sizes that are not multiples of the vector width (16).
inline std::vector<std::size_t> edge_extents(std::size_t tile, std::vector<std::size_t> extra) {
    std::vector<std::size_t> out = {1, 2, 3, tile - 1, tile, tile + 1, 2 * tile + 1};
    out.insert(out.end(), extra.begin(), extra.end());
    out.erase(std::remove(out.begin(), out.end(), std::size_t{0}), out.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

template <class F>
std::vector<std::size_t> edge_rows() {
    return edge_extents(F::tile_m, {5, 17});
}
template <class F>
std::vector<std::size_t> edge_cols() {
    return edge_extents(F::tile_k, {15, 16, 17, 31, 33, 65});
}

}  // namespace sieve_test
