// BSR fp32 GEMV and GEMM for any compile-time block shape R x C.
//
// GEMV streams a block row's values (blocks are contiguous) in whole vectors. Lane e of a
// block meets x[k0 + e % C], so the matching activations are a contiguous load (C a
// multiple of the lanes), a broadcast (C = 1) or C values repeated (C below the lanes).
// Blocks smaller than a vector are taken several at a time with their activations
// gathered. Lanes accumulate per block position; the row sums come out once per block row.
// GEMM: per block column position, R weights meet one panel row: up to 4 rows of a block
// share each panel load.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../formats/bsr.hpp"
#include "common.hpp"

namespace sieve::kernels {
namespace detail {

template <class A, std::size_t R, std::size_t C, class Index>
void bsr_gemv(const bsr_view<float, R, C>& w, const Index* block_col, const float* x, float* y,
              const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>, RC = R * C;
    constexpr bool whole = RC % L == 0;   // a block is whole vectors
    constexpr std::size_t V = whole ? RC / L : 1;  // vectors per block (or per several blocks)
    constexpr std::size_t per_vector = whole ? 1 : L / RC;  // blocks per vector when small
    static_assert(whole || L % RC == 0, "block sizes are powers of two");
    const std::size_t K = w.cols;
    alignas(64) float results[L];
    std::size_t pending = 0;

    for (std::size_t bi = 0; bi < w.row_blocks; ++bi) {
        vfloat<A> acc[V];
        for (std::size_t v = 0; v < V; ++v) acc[v] = vfloat<A>(0.0f);
        const std::size_t begin = w.block_row_ptr[bi], end = w.block_row_ptr[bi + 1];
        if constexpr (whole) {
            for (std::size_t i = begin; i < end; ++i) {
                const float* block = w.values + i * RC;
                const std::size_t k0 = std::size_t{block_col[i]} * C;
                alignas(64) float x_edge[C < L ? L : C] = {};
                const float* xb = x + k0;
                if (k0 + C > K) {  // right edge: the activations past K are zero
                    for (std::size_t c = 0; k0 + c < K; ++c) x_edge[c] = x[k0 + c];
                    xb = x_edge;
                }
                for (std::size_t v = 0; v < V; ++v) {
                    vfloat<A> xv;
                    if constexpr (C % L == 0) xv = vfloat<A>::load_unaligned(xb + (v * L) % C);
                    else if constexpr (C == 1) xv = vfloat<A>(xb[0]);
                    else xv = load_repeated<C>(xb, A{});
                    acc[v] = xsimd::fma(vfloat<A>::load_unaligned(block + v * L), xv, acc[v]);
                }
            }
        } else {
            for (std::size_t i = begin; i < end; i += per_vector) {
                const std::size_t blocks = end - i < per_vector ? end - i : per_vector;
                alignas(64) float wv[L] = {}, xv[L] = {};
                for (std::size_t e = 0; e < blocks * RC; ++e) {
                    wv[e] = w.values[i * RC + e];
                    const std::size_t k = std::size_t{block_col[i + e / RC]} * C + e % C;
                    xv[e] = k < K ? x[k] : 0.0f;
                }
                acc[0] = xsimd::fma(vfloat<A>::load_aligned(wv), vfloat<A>::load_aligned(xv), acc[0]);
            }
        }
        // Lane e of vector v holds block position (v * L + e) mod RC: row ((...) mod RC) / C.
        alignas(64) float lanes_out[V * L];
        for (std::size_t v = 0; v < V; ++v) acc[v].store_aligned(lanes_out + v * L);
        float row_sum[R] = {};
        for (std::size_t e = 0; e < V * L; ++e) row_sum[(e % RC) / C] += lanes_out[e];
        for (std::size_t r = 0; r < R; ++r) {
            const std::size_t m = bi * R + r;
            if (m >= w.rows) break;
            results[pending++] = row_sum[r];
            if (pending == L || m + 1 == w.rows) {
                store_rows<A>(results, pending, m + 1 - pending, y, ep);
                pending = 0;
            }
        }
    }
}

template <class A, std::size_t R, std::size_t C, class Index>
void bsr_gemm(const bsr_view<float, R, C>& w, const Index* block_col, matrix_view<const float> x,
              matrix_view<float> y, const epilogue& ep, float* workspace) noexcept {
    constexpr std::size_t P = panel_width<A>, RB = R < 4 ? R : 4;
    const std::size_t K = w.cols;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count) {
        for (std::size_t bi = 0; bi < w.row_blocks; ++bi)
            for (std::size_t r0 = 0; r0 < R; r0 += RB) {
                if (bi * R + r0 >= w.rows) break;
                panel_acc<A> acc[RB];
                for (std::size_t i = w.block_row_ptr[bi]; i < w.block_row_ptr[bi + 1]; ++i) {
                    const float* block = w.values + i * R * C + r0 * C;
                    const std::size_t k0 = std::size_t{block_col[i]} * C;
                    const std::size_t width = K - k0 < C ? K - k0 : C;
                    for (std::size_t c = 0; c < width; ++c)
                        for (std::size_t r = 0; r < RB && r0 + r < R; ++r)
                            acc[r].add(block[r * C + c], panel + (k0 + c) * P);
                }
                for (std::size_t r = 0; r < RB && r0 + r < R && bi * R + r0 + r < w.rows; ++r)
                    store_column<A>(acc[r], bi * R + r0 + r, n0, count, y, ep);
            }
    });
}

}  // namespace detail

template <class A, std::size_t R, std::size_t C>
void gemv(const bsr_view<float, R, C>& w, const float* x, float* y, const epilogue& ep) noexcept {
    if (w.width == index_width::u16)
        detail::bsr_gemv<A>(w, static_cast<const std::uint16_t*>(w.block_col), x, y, ep);
    else
        detail::bsr_gemv<A>(w, static_cast<const std::uint32_t*>(w.block_col), x, y, ep);
}

template <class A, std::size_t R, std::size_t C>
void gemm(const bsr_view<float, R, C>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    if (w.width == index_width::u16)
        detail::bsr_gemm<A>(w, static_cast<const std::uint16_t*>(w.block_col), x, y, ep, workspace);
    else
        detail::bsr_gemm<A>(w, static_cast<const std::uint32_t*>(w.block_col), x, y, ep, workspace);
}

}  // namespace sieve::kernels
