// Dense GEMV and GEMM, the baseline: fp32 and int8 weights (weight-only), and W8A8.
//
// GEMV streams 4 rows at a time against one load of x, with two accumulators per row:
// 8 independent FMA chains cover the FMA latency. int8 weights are widened in register and
// each scale group's partial sums are multiplied by its scale once (fp32 and per-row int8:
// one group, the whole row). The row tail (K mod lanes) goes through zero-padded copies,
// so no load passes the end of a row or of x.
// W8A8 GEMV: the token is quantized once into scratch; each step is one int8 dot product
// of 4 * lanes weights per row into int32 lanes, dequantized per scale group.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../formats/dense.hpp"
#include "common.hpp"

namespace sieve::kernels {
namespace detail {

// Rows m0 .. m0 + count of a dense matrix (count <= 4), padded to 4 by repeating row m0 so
// the blocked loops need no tail; the padding rows' results are never stored.
template <class T>
struct dense_rows {
    static constexpr std::size_t size = 4;
    const T* row[size];
    row_scales<T> scales[size];
    std::size_t count;

    dense_rows(const dense_view<T>& w, std::size_t m0) noexcept : count(w.rows - m0 < size ? w.rows - m0 : size) {
        for (std::size_t r = 0; r < size; ++r) {
            row[r] = w.values + (m0 + (r < count ? r : 0)) * w.ld;
            scales[r] = row_scales<T>(w.scales, m0 + (r < count ? r : 0));
        }
    }
};

}  // namespace detail

template <class A, class T>
void gemv(const dense_view<T>& w, const float* x, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>, RB = 4;
    const std::size_t K = w.cols, k_main = K / L * L, rem = K - k_main;
    alignas(64) float x_tail[L] = {};
    for (std::size_t i = 0; i < rem; ++i) x_tail[i] = x[k_main + i];
    alignas(64) float results[L];
    std::size_t pending = 0, m_first = 0;

    for (std::size_t m0 = 0; m0 < w.rows; m0 += RB) {
        const detail::dense_rows<T> rows(w, m0);
        const std::size_t nr = rows.count;
        const auto& row = rows.row;
        const auto& scales = rows.scales;
        vfloat<A> acc[RB];
        for (std::size_t r = 0; r < RB; ++r) acc[r] = vfloat<A>(0.0f);
        for (std::size_t k0 = 0, k1; k0 < K; k0 = k1) {  // one pass per scale group
            k1 = scales[0].group_end(k0, K);
            const std::size_t k1_main = k1 < k_main ? k1 : k_main;
            vfloat<A> part0[RB], part1[RB];
            for (std::size_t r = 0; r < RB; ++r) part0[r] = part1[r] = vfloat<A>(0.0f);
            std::size_t k = k0;
            for (; k + 2 * L <= k1_main; k += 2 * L) {
                if constexpr (is_int8_weight<T>) {
                    // int8 rows are short (4 KiB for K = 4096): the hardware prefetchers
                    // barely ramp up on one before the block moves on, so prefetch each
                    // line ahead, into the next block's rows near the end of these.
                    if (k % 64 == 0)
                        for (std::size_t r = 0; r < RB; ++r) prefetch_row_ahead(row[r], k, row_prefetch_distance<RB>, 64, K, w.ld, RB);
                }
                const vfloat<A> x0 = vfloat<A>::load_unaligned(x + k), x1 = vfloat<A>::load_unaligned(x + k + L);
                for (std::size_t r = 0; r < RB; ++r) {
                    part0[r] = xsimd::fma(load_weights(row[r] + k, A{}), x0, part0[r]);
                    part1[r] = xsimd::fma(load_weights(row[r] + k + L, A{}), x1, part1[r]);
                }
            }
            for (; k < k1_main; k += L) {
                const vfloat<A> x0 = vfloat<A>::load_unaligned(x + k);
                for (std::size_t r = 0; r < RB; ++r) part0[r] = xsimd::fma(load_weights(row[r] + k, A{}), x0, part0[r]);
            }
            if (k1 == K && rem != 0) {
                const vfloat<A> x0 = vfloat<A>::load_aligned(x_tail);
                alignas(64) T w_tail[L] = {};
                for (std::size_t r = 0; r < RB; ++r) {
                    for (std::size_t i = 0; i < rem; ++i) w_tail[i] = row[r][k_main + i];
                    part1[r] = xsimd::fma(load_weights(w_tail, A{}), x0, part1[r]);
                }
            }
            for (std::size_t r = 0; r < RB; ++r) {
                if constexpr (is_int8_weight<T>) acc[r] = xsimd::fma(part0[r] + part1[r], vfloat<A>(scales[r].at(k0)), acc[r]);
                else acc[r] = part0[r] + part1[r];
            }
        }
        for (std::size_t r = 0; r < nr; ++r) {
            if (pending == 0) m_first = m0 + r;
            results[pending++] = reduce_add<A>(acc[r]);
            if (pending == L) {
                store_rows<A>(results, pending, m_first, y, ep);
                pending = 0;
            }
        }
    }
    if (pending != 0) store_rows<A>(results, pending, m_first, y, ep);
}

template <class A, class T>
void gemm(const dense_view<T>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    constexpr std::size_t RB = 4;
    const std::size_t K = w.cols;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count, auto width) {
        constexpr std::size_t P = decltype(width)::value;
        for (std::size_t m0 = 0; m0 < w.rows; m0 += RB) {
            const detail::dense_rows<T> rows(w, m0);
            const std::size_t nr = rows.count;
            const auto& row = rows.row;
            panel_acc<A, P> acc[RB];
            if constexpr (is_int8_weight<T>) {
                for (std::size_t k0 = 0; k0 < K; k0 = rows.scales[0].group_end(k0, K)) {
                    panel_acc<A, P> part[RB];
                    for (std::size_t k = k0; k < rows.scales[0].group_end(k0, K); ++k)
                        for (std::size_t r = 0; r < RB; ++r) part[r].add(static_cast<float>(row[r][k]), panel + k * P);
                    for (std::size_t r = 0; r < RB; ++r) acc[r].add_scaled(part[r], rows.scales[r].at(k0));
                }
            } else {
                for (std::size_t k = 0; k < K; ++k)
                    for (std::size_t r = 0; r < RB; ++r) acc[r].add(row[r][k], panel + k * P);
            }
            for (std::size_t r = 0; r < nr; ++r) store_column<A>(acc[r], m0 + r, n0, count, y, ep);
        }
    });
}

// ---- W8A8 -------------------------------------------------------------------------------

template <class A>
void gemv_w8a8(const dense_view<std::int8_t>& w, const float* x, float* y, const epilogue& ep,
               std::int8_t* scratch) noexcept {
    constexpr std::size_t B = vbyte<A>::size, RB = 4;
    const std::size_t K = w.cols;
    w8a8_row_store<A> out{quantize_vector<A>(x, K, scratch), y, ep};
    const w8a8_row_flush<A> flush(w.scales.group);
    for (std::size_t m0 = 0; m0 < w.rows; m0 += RB) {
        const detail::dense_rows<std::int8_t> rows(w, m0);
        const std::size_t nr = rows.count;
        const auto& row = rows.row;
        const auto& scales = rows.scales;
        w8a8_acc<A> acc[RB];
        std::size_t steps = 0, k_flush = 0;
        for (std::size_t k = 0; k < K; k += B) {
            const vbyte<A> xv = vbyte<A>::load_unaligned(scratch + k);
            for (std::size_t r = 0; r < RB; ++r) {
                vbyte<A> wv;
                if (k + B <= K) {
                    wv = vbyte<A>::load_unaligned(row[r] + k);
                } else {  // row tail: zero-padded copy, no load past the row
                    alignas(64) std::int8_t tail[B] = {};
                    for (std::size_t i = 0; k + i < K; ++i) tail[i] = row[r][k + i];
                    wv = vbyte<A>::load_aligned(tail);
                }
                acc[r].part = dot_i8(acc[r].part, wv, xv, A{});
            }
            if (++steps == flush.every || k + B >= K) {
                for (std::size_t r = 0; r < RB; ++r) acc[r].flush(w8a8_row_flush<A>::lane_scales(scales[r], k_flush, K));
                steps = 0;
                k_flush = k + B;
            }
        }
        for (std::size_t r = 0; r < nr; ++r) out.push(m0 + r, reduce_add<A>(acc[r].sum));
    }
    if (w.rows != 0) out.flush(w.rows - 1);
}

template <class A>
void gemm_w8a8(const dense_view<std::int8_t>& w, matrix_view<const float> x, matrix_view<float> y,
               const epilogue& ep, float* workspace) noexcept {
    constexpr std::size_t B = vbyte<A>::size, RB = 4;
    const std::size_t K = w.cols, quads = (K + 3) / 4;
    for_each_w8a8_panel<A>(x, y, ep, workspace, [&](const std::int8_t* panel, auto&& store) {
        for (std::size_t m0 = 0; m0 < w.rows; m0 += RB) {
            const detail::dense_rows<std::int8_t> rows(w, m0);
            w8a8_acc<A> acc[RB];
            for (std::size_t q0 = 0; q0 < quads;) {  // one pass per scale group (int32-safe chunks per row)
                const std::size_t k0 = 4 * q0;
                std::size_t q1 = (rows.scales[0].group_end(k0, 4 * quads) + 3) / 4;
                if (q1 - q0 > 8192) q1 = q0 + 8192;
                for (std::size_t q = q0; q < q1; ++q) {
                    const vbyte<A> xv = vbyte<A>::load_aligned(panel + q * B);
                    for (std::size_t r = 0; r < RB; ++r) {
                        const std::int8_t* quad = rows.row[r] + 4 * q;
                        std::int8_t tail[4] = {};
                        if (4 * q + 4 > K) {  // the row's last, partial quad: no load past the row
                            for (std::size_t i = 0; 4 * q + i < K; ++i) tail[i] = quad[i];
                            quad = tail;
                        }
                        acc[r].part = dot_i8(acc[r].part, broadcast_quad<A>(quad), xv, A{});
                    }
                }
                for (std::size_t r = 0; r < RB; ++r) acc[r].flush(rows.scales[r].at(k0));
                q0 = q1;
            }
            for (std::size_t r = 0; r < rows.count; ++r) store(acc[r], m0 + r);
        }
    });
}

}  // namespace sieve::kernels
