// Pieces every fast kernel shares, all templated on the arch: the fused epilogue on
// vectors, storing GEMV results, and the GEMM activation panel (pack and store).
//
// GEMM layout: a panel of P = 2 * lanes tokens is packed transposed, panel[k * P + j] =
// X[n0 + j][k], so each stored weight w at (m, k) costs two FMAs of broadcast(w) against
// panel row k, whatever the format: the format only decides how (m, k, w) are enumerated.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../core/views.hpp"
#include "../epilogue.hpp"
#include "declare.hpp"
#include "isa/helpers.hpp"

namespace sieve::kernels {

template <class A>
inline constexpr std::size_t panel_width = 2 * lanes<A>;


template <class A>
vfloat<A> activate(vfloat<A> v, activation act) noexcept {
    switch (act) {
    case activation::none: return v;
    case activation::relu: return xsimd::select(v < vfloat<A>(0.0f), vfloat<A>(0.0f), v);  // NaN stays NaN
    case activation::gelu:  // both tend to 0 at -Inf, where the formulas give Inf * 0
        return xsimd::select(v == vfloat<A>(-INFINITY), vfloat<A>(0.0f),
                             vfloat<A>(0.5f) * v * (vfloat<A>(1.0f) + xsimd::erf(v * vfloat<A>(0.70710678118654752f))));
    case activation::silu:
        return xsimd::select(v == vfloat<A>(-INFINITY), vfloat<A>(0.0f), v / (vfloat<A>(1.0f) + xsimd::exp(-v)));
    }
    return v;
}

// out = act(alpha * acc + bias) + beta * before, on whole vectors.
template <class A>
vfloat<A> finish(vfloat<A> acc, vfloat<A> bias, vfloat<A> before, const epilogue& ep) noexcept {
    vfloat<A> v = xsimd::fma(vfloat<A>(ep.alpha), acc, bias);
    v = activate<A>(v, ep.act);
    if (ep.beta != 0.0f) v = xsimd::fma(vfloat<A>(ep.beta), before, v);
    return v;
}

// Stores `count` (<= lanes) GEMV results acc[0..count) to y[m0..m0 + count).
template <class A>
void store_rows(const float* acc, std::size_t count, std::size_t m0, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>;
    alignas(64) float bias[L] = {}, before[L] = {}, out[L];
    for (std::size_t i = 0; i < count; ++i) {
        if (ep.bias.size != 0) bias[i] = ep.bias.data[m0 + i];
        if (ep.beta != 0.0f) before[i] = y[m0 + i];
    }
    finish<A>(vfloat<A>::load_unaligned(acc), vfloat<A>::load_aligned(bias), vfloat<A>::load_aligned(before), ep)
        .store_aligned(out);
    for (std::size_t i = 0; i < count; ++i) y[m0 + i] = out[i];
}

// Packs tokens n0 .. n0 + count of X (count <= P) transposed into panel (K x P); lanes
// past count are zero.
template <class A>
void pack_panel(matrix_view<const float> x, std::size_t n0, std::size_t count, float* panel) noexcept {
    constexpr std::size_t P = panel_width<A>;
    static_assert(P <= max_panel_width, "the workspace is sized for the widest panel");
    const std::size_t K = x.cols;
    for (std::size_t k = 0; k < K; ++k)
        for (std::size_t j = count; j < P; ++j) panel[k * P + j] = 0.0f;
    for (std::size_t j = 0; j < count; ++j) {
        const float* row = x.row(n0 + j);
        for (std::size_t k = 0; k < K; ++k) panel[k * P + j] = row[k];
    }
}

// The two accumulators of one output row m over a panel: tokens n0 .. n0 + P.
template <class A>
struct panel_acc {
    vfloat<A> lo = vfloat<A>(0.0f), hi = vfloat<A>(0.0f);

    void add(float w, const float* panel_row) noexcept {
        const vfloat<A> wv(w);
        lo = xsimd::fma(wv, vfloat<A>::load_aligned(panel_row), lo);
        hi = xsimd::fma(wv, vfloat<A>::load_aligned(panel_row + lanes<A>), hi);
    }
    void add(const panel_acc& other) noexcept {
        lo += other.lo;
        hi += other.hi;
    }
};

// Writes Y[n0 + j][m] for j < count from a row's accumulators, with the epilogue.
template <class A>
void store_column(const panel_acc<A>& acc, std::size_t m, std::size_t n0, std::size_t count,
                  matrix_view<float> y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>;
    alignas(64) float before[2 * L] = {}, out[2 * L];
    if (ep.beta != 0.0f)
        for (std::size_t j = 0; j < count; ++j) before[j] = y(n0 + j, m);
    const vfloat<A> bias(ep.bias.size != 0 ? ep.bias.data[m] : 0.0f);
    finish<A>(acc.lo, bias, vfloat<A>::load_aligned(before), ep).store_aligned(out);
    finish<A>(acc.hi, bias, vfloat<A>::load_aligned(before + L), ep).store_aligned(out + L);
    for (std::size_t j = 0; j < count; ++j) y(n0 + j, m) = out[j];
}

// The GEMM driver: for each panel of tokens, pack it, then let the format's row loop
// accumulate and store every output row. `rows(panel, n0, count)` does the latter.
template <class A, class RowLoop>
void for_each_panel(matrix_view<const float> x, float* workspace, RowLoop&& rows) noexcept {
    constexpr std::size_t P = panel_width<A>;
    for (std::size_t n0 = 0; n0 < x.rows; n0 += P) {
        const std::size_t count = x.rows - n0 < P ? x.rows - n0 : P;
        pack_panel<A>(x, n0, count, workspace);
        rows(static_cast<const float*>(workspace), n0, count);
    }
}

}  // namespace sieve::kernels
