// N:M GEMV and GEMM for every pattern with one body: fp32 and int8 weights, and W8A8.
//
// The metadata is an M-bit mask per group packed as a bitstream, so the mask of any L
// consecutive positions is L consecutive bits: GEMV takes one vector of x positions at a
// time, expands the next popcount values into the kept lanes (AVX-512 vexpandps / widened
// vpexpandd, AVX2 a permute from prefix popcounts, SSE and NEON byte shuffles) and
// multiplies by x with the pruned lanes masked off, so a pruned position never touches its
// activation. int8 partial sums are scaled once per scale group (a group is a multiple of
// the vector, so vectors never straddle two).
// W8A8 GEMV expands 4 * lanes int8 weights to their dense positions (AVX-512 VBMI2
// vpexpandb, else a pshufb / tbl per 16 positions) for one int8 dot product with the
// quantized token; pruned positions hold weight 0 and the token is finite.
// GEMM walks each group's set bits and does two FMAs per kept weight against the panel.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../formats/nm.hpp"
#include "common.hpp"

namespace sieve::kernels {
namespace detail {

// Bits [k, k + L) of a row's metadata; k is a multiple of L and L is 4, 8, 16, 32 or 64
// (each row's metadata is padded to a multiple of 8 bytes, so the read stays in the row).
template <class A, std::size_t L>
std::uint64_t chunk_bits(const std::uint8_t* meta, std::size_t k) noexcept {
    if constexpr (L >= 8) {
        std::uint64_t bits = 0;
        for (std::size_t i = 0; i < L / 8; ++i) bits |= static_cast<std::uint64_t>(meta[k / 8 + i]) << (8 * i);
        return bits;
    }
    return (meta[k / 8] >> (k % 8)) & 0xFu;
}

}  // namespace detail

template <class A, class T>
void gemv(const nm_view<T>& w, const float* x, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>;
    const std::size_t K = w.cols, span = w.groups * w.pattern.m, k_main = K / L * L;
    alignas(64) float results[L];
    std::size_t pending = 0;
    for (std::size_t m = 0; m < w.rows; ++m) {
        const T* values = w.values + m * w.values_ld;
        const std::uint8_t* meta = w.meta + m * w.meta_ld;
        const row_scales<T> scales(w.scales, m);
        vfloat<A> acc(0.0f);
        for (std::size_t k0 = 0, k1; k0 < span; k0 = k1) {  // one pass per scale group
            k1 = scales.group_end(k0, span);
            const std::size_t k1_main = k1 < k_main ? k1 : k_main;
            vfloat<A> part0(0.0f), part1(0.0f);
            std::size_t k = k0;
            for (; k + 2 * L <= k1_main; k += 2 * L) {
                const auto b0 = static_cast<std::uint32_t>(detail::chunk_bits<A, L>(meta, k));
                const auto b1 = static_cast<std::uint32_t>(detail::chunk_bits<A, L>(meta, k + L));
                const vfloat<A> w0 = expand_load(values, b0, A{});
                values += __builtin_popcount(b0);
                const vfloat<A> w1 = expand_load(values, b1, A{});
                values += __builtin_popcount(b1);
                part0 = xsimd::fma(w0, keep_lanes(vfloat<A>::load_unaligned(x + k), b0, A{}), part0);
                part1 = xsimd::fma(w1, keep_lanes(vfloat<A>::load_unaligned(x + k + L), b1, A{}), part1);
            }
            for (; k < k1; k += L) {
                std::uint32_t bits = 0;
                vfloat<A> xv;
                if (k + L <= K) {
                    bits = static_cast<std::uint32_t>(detail::chunk_bits<A, L>(meta, k));
                    xv = vfloat<A>::load_unaligned(x + k);
                } else {  // the tail, through a zero-padded copy: no activation past K is read
                    alignas(64) float x_chunk[L] = {};
                    for (std::size_t i = 0; i < L && k + i < span; ++i) {
                        const std::size_t bit = k + i;
                        bits |= static_cast<std::uint32_t>(meta[bit / 8] >> (bit % 8) & 1u) << i;
                        if (k + i < K) x_chunk[i] = x[k + i];
                    }
                    xv = vfloat<A>::load_aligned(x_chunk);
                }
                const vfloat<A> wv = expand_load(values, bits, A{});
                values += __builtin_popcount(bits);
                part0 = xsimd::fma(wv, keep_lanes(xv, bits, A{}), part0);
            }
            if constexpr (is_int8_weight<T>) acc = xsimd::fma(part0 + part1, vfloat<A>(scales.at(k0)), acc);
            else acc = part0 + part1;
        }
        results[pending++] = reduce_add<A>(acc);
        if (pending == L || m + 1 == w.rows) {
            store_rows<A>(results, pending, m + 1 - pending, y, ep);
            pending = 0;
        }
    }
}

template <class A, class T>
void gemm(const nm_view<T>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    constexpr std::size_t P = panel_width<A>;
    const std::size_t K = w.cols, M_group = w.pattern.m, full_groups = K / M_group;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count) {
        for (std::size_t m = 0; m < w.rows; ++m) {
            const T* values = w.values + m * w.values_ld;
            const std::uint8_t* meta = w.meta + m * w.meta_ld;
            const row_scales<T> scales(w.scales, m);
            panel_acc<A> acc;
            // N:M groups [g0, g1) share one scale: their weights go through two accumulators
            // (four FMA chains), then join the row's sum once.
            for (std::size_t g0 = 0, g1; g0 < w.groups; g0 = g1) {
                g1 = scales.group_end(g0 * M_group, w.groups * M_group) / M_group;
                panel_acc<A> part0, part1;
                for (std::size_t g = g0; g < g1 && g < full_groups; ++g) {
                    std::uint32_t bits = nm_group_mask(meta, g, static_cast<std::uint32_t>(M_group));
                    const float* group_panel = panel + g * M_group * P;
                    while (bits != 0) {  // kept weights alternate between the two accumulators
                        part0.add(static_cast<float>(*values++), group_panel + static_cast<std::size_t>(__builtin_ctz(bits)) * P);
                        bits &= bits - 1;
                        if (bits == 0) break;
                        part1.add(static_cast<float>(*values++), group_panel + static_cast<std::size_t>(__builtin_ctz(bits)) * P);
                        bits &= bits - 1;
                    }
                }
                if (full_groups < g1) {  // partial last group: skip the padding past K
                    std::uint32_t bits = nm_group_mask(meta, full_groups, static_cast<std::uint32_t>(M_group));
                    for (; bits != 0; bits &= bits - 1, ++values) {
                        const std::size_t k = full_groups * M_group + static_cast<std::size_t>(__builtin_ctz(bits));
                        if (k < K) part0.add(static_cast<float>(*values), panel + k * P);
                    }
                }
                part0.add(part1);
                if constexpr (is_int8_weight<T>) acc.add_scaled(part0, scales.at(g0 * M_group));
                else acc = part0;
            }
            store_column<A>(acc, m, n0, count, y, ep);
        }
    });
}

template <class A>
void gemv_w8a8(const nm_view<std::int8_t>& w, const float* x, float* y, const epilogue& ep,
               std::int8_t* scratch) noexcept {
    constexpr std::size_t B = vbyte<A>::size;
    const std::size_t K = w.cols, span = w.groups * w.pattern.m;
    w8a8_row_store<A> out{quantize_vector<A>(x, K, scratch), y, ep};
    const w8a8_row_flush<A> flush(w.scales.group);
    for (std::size_t m = 0; m < w.rows; ++m) {
        const std::int8_t* values = w.values + m * w.values_ld;
        const std::uint8_t* meta = w.meta + m * w.meta_ld;
        const row_scales<std::int8_t> scales(w.scales, m);
        w8a8_acc<A> acc;
        std::size_t steps = 0, k_flush = 0;
        for (std::size_t k = 0; k < span; k += B) {  // span <= K rounded up to 64: scratch is zero there
            const std::uint64_t bits = detail::chunk_bits<A, B>(meta, k);
            const vbyte<A> wv = expand_bytes(values, bits, A{});
            values += __builtin_popcountll(bits);
            acc.part = dot_i8(acc.part, wv, vbyte<A>::load_unaligned(scratch + k), A{});
            if (++steps == flush.every || k + B >= span) {
                acc.flush(w8a8_row_flush<A>::lane_scales(scales, k_flush, K));
                steps = 0;
                k_flush = k + B;
            }
        }
        out.push(m, reduce_add<A>(acc.sum));
    }
    if (w.rows != 0) out.flush(w.rows - 1);
}

template <class A>
void gemm_w8a8(const nm_view<std::int8_t>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
               float* workspace) noexcept {
    constexpr std::size_t B = vbyte<A>::size;
    const std::size_t span = w.groups * w.pattern.m;
    for_each_w8a8_panel<A>(x, y, ep, workspace, [&](const std::int8_t* panel, auto&& store) {
        for (std::size_t m = 0; m < w.rows; ++m) {
            const std::int8_t* values = w.values + m * w.values_ld;
            const std::uint8_t* meta = w.meta + m * w.meta_ld;
            const row_scales<std::int8_t> scales(w.scales, m);
            w8a8_acc<A> acc;
            std::size_t group_start = 0, quads_since_flush = 0;
            for (std::size_t k = 0; k < span; k += B) {
                // The weights of B positions made dense, then one dot product per nonzero quad.
                const std::uint64_t bits = detail::chunk_bits<A, B>(meta, k);
                alignas(64) std::int8_t dense[B];
                expand_bytes(values, bits, A{}).store_aligned(dense);
                values += __builtin_popcountll(bits);
                for (std::size_t q = 0; q < B / 4 && k + 4 * q < span; ++q) {
                    const std::size_t kq = k + 4 * q;
                    if (scales.group_end(group_start, kq + 1) <= kq || quads_since_flush == 8192) {
                        acc.flush(scales.at(group_start));  // kq starts a new scale group
                        group_start = kq;
                        quads_since_flush = 0;
                    }
                    if ((bits >> (4 * q) & 0xFu) == 0) continue;
                    acc.part = dot_i8(acc.part, broadcast_quad<A>(dense + 4 * q),
                                      vbyte<A>::load_aligned(panel + kq / 4 * B), A{});
                    ++quads_since_flush;
                }
            }
            acc.flush(scales.at(group_start));
            store(acc, m);
        }
    });
}

}  // namespace sieve::kernels
