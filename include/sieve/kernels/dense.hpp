// Dense fp32 GEMV and GEMM, the baseline.
//
// GEMV streams 4 rows at a time against one load of x, with two accumulators per row:
// 8 independent FMA chains cover the FMA latency; the row tail (K mod lanes) goes through
// zero-padded copies so no load passes the end of a row or of x.
#pragma once

#include <cstddef>

#include "../formats/dense.hpp"
#include "common.hpp"

namespace sieve::kernels {

template <class A>
void gemv(const dense_view<float>& w, const float* x, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>, RB = 4;
    const std::size_t K = w.cols, k_main = K / L * L, rem = K - k_main;
    alignas(64) float x_tail[L] = {};
    for (std::size_t i = 0; i < rem; ++i) x_tail[i] = x[k_main + i];
    alignas(64) float results[L];
    std::size_t pending = 0, m_first = 0;

    for (std::size_t m0 = 0; m0 < w.rows; m0 += RB) {
        const std::size_t nr = w.rows - m0 < RB ? w.rows - m0 : RB;
        const float* row[RB];
        for (std::size_t r = 0; r < RB; ++r) row[r] = w.values + (m0 + (r < nr ? r : 0)) * w.ld;
        vfloat<A> acc0[RB], acc1[RB];
        for (std::size_t r = 0; r < RB; ++r) acc0[r] = acc1[r] = vfloat<A>(0.0f);
        std::size_t k = 0;
        for (; k + 2 * L <= k_main; k += 2 * L) {
            const vfloat<A> x0 = vfloat<A>::load_unaligned(x + k), x1 = vfloat<A>::load_unaligned(x + k + L);
            for (std::size_t r = 0; r < RB; ++r) {
                acc0[r] = xsimd::fma(vfloat<A>::load_unaligned(row[r] + k), x0, acc0[r]);
                acc1[r] = xsimd::fma(vfloat<A>::load_unaligned(row[r] + k + L), x1, acc1[r]);
            }
        }
        for (; k < k_main; k += L) {
            const vfloat<A> x0 = vfloat<A>::load_unaligned(x + k);
            for (std::size_t r = 0; r < RB; ++r)
                acc0[r] = xsimd::fma(vfloat<A>::load_unaligned(row[r] + k), x0, acc0[r]);
        }
        if (rem != 0) {
            const vfloat<A> x0 = vfloat<A>::load_aligned(x_tail);
            alignas(64) float w_tail[L] = {};
            for (std::size_t r = 0; r < RB; ++r) {
                for (std::size_t i = 0; i < rem; ++i) w_tail[i] = row[r][k_main + i];
                acc1[r] = xsimd::fma(vfloat<A>::load_aligned(w_tail), x0, acc1[r]);
            }
        }
        for (std::size_t r = 0; r < nr; ++r) {
            if (pending == 0) m_first = m0 + r;
            results[pending++] = reduce_add<A>(acc0[r] + acc1[r]);
            if (pending == L) {
                store_rows<A>(results, pending, m_first, y, ep);
                pending = 0;
            }
        }
    }
    if (pending != 0) store_rows<A>(results, pending, m_first, y, ep);
}

template <class A>
void gemm(const dense_view<float>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    constexpr std::size_t P = panel_width<A>, RB = 4;
    const std::size_t K = w.cols;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count) {
        for (std::size_t m0 = 0; m0 < w.rows; m0 += RB) {
            const std::size_t nr = w.rows - m0 < RB ? w.rows - m0 : RB;
            const float* row[RB];
            for (std::size_t r = 0; r < RB; ++r) row[r] = w.values + (m0 + (r < nr ? r : 0)) * w.ld;
            panel_acc<A> acc[RB];
            for (std::size_t k = 0; k < K; ++k)
                for (std::size_t r = 0; r < RB; ++r) acc[r].add(row[r][k], panel + k * P);
            for (std::size_t r = 0; r < nr; ++r) store_column<A>(acc[r], m0 + r, n0, count, y, ep);
        }
    });
}

}  // namespace sieve::kernels
