// N:M fp32 GEMV and GEMM, for every pattern with one body.
//
// The metadata is an M-bit mask per group packed as a bitstream, so the mask of any L
// consecutive positions is L consecutive bits: GEMV takes one vector of x positions at a
// time, expands the next popcount values into the kept lanes (AVX-512 vexpandps, AVX2 a
// permute from prefix popcounts, elsewhere a small loop) and multiplies by x with the
// pruned lanes masked off, so a pruned position never touches its activation.
// GEMM walks each group's set bits and does two FMAs per kept weight against the panel.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../formats/nm.hpp"
#include "common.hpp"

namespace sieve::kernels {
namespace detail {

// Bits [k, k + L) of a row's metadata; k is a multiple of L and L is 4, 8 or 16.
template <std::size_t L>
inline std::uint32_t chunk_bits(const std::uint8_t* meta, std::size_t k) noexcept {
    if constexpr (L == 16) return meta[k / 8] | (static_cast<std::uint32_t>(meta[k / 8 + 1]) << 8);
    if constexpr (L == 8) return meta[k / 8];
    return (meta[k / 8] >> (k % 8)) & 0xFu;
}

}  // namespace detail

template <class A>
void gemv(const nm_view<float>& w, const float* x, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>;
    const std::size_t K = w.cols, span = w.groups * w.pattern.m, k_main = K / L * L;
    alignas(64) float results[L];
    std::size_t pending = 0;
    for (std::size_t m = 0; m < w.rows; ++m) {
        const float* values = w.values + m * w.values_ld;
        const std::uint8_t* meta = w.meta + m * w.meta_ld;
        vfloat<A> acc0(0.0f), acc1(0.0f);
        std::size_t k = 0;
        for (; k + 2 * L <= k_main; k += 2 * L) {
            const std::uint32_t b0 = detail::chunk_bits<L>(meta, k), b1 = detail::chunk_bits<L>(meta, k + L);
            const vfloat<A> w0 = expand_load(values, b0, A{});
            values += __builtin_popcount(b0);
            const vfloat<A> w1 = expand_load(values, b1, A{});
            values += __builtin_popcount(b1);
            acc0 = xsimd::fma(w0, keep_lanes(vfloat<A>::load_unaligned(x + k), b0, A{}), acc0);
            acc1 = xsimd::fma(w1, keep_lanes(vfloat<A>::load_unaligned(x + k + L), b1, A{}), acc1);
        }
        for (; k < span; k += L) {  // last full vector, then the tail through a zero-padded copy
            std::uint32_t bits = 0;
            alignas(64) float x_chunk[L] = {};
            for (std::size_t i = 0; i < L && k + i < span; ++i) {
                const std::size_t bit = k + i;
                bits |= static_cast<std::uint32_t>(meta[bit / 8] >> (bit % 8) & 1u) << i;
                if (k + i < K) x_chunk[i] = x[k + i];
            }
            const vfloat<A> wv = expand_load(values, bits, A{});
            values += __builtin_popcount(bits);
            acc0 = xsimd::fma(wv, keep_lanes(vfloat<A>::load_aligned(x_chunk), bits, A{}), acc0);
        }
        results[pending++] = reduce_add<A>(acc0 + acc1);
        if (pending == L || m + 1 == w.rows) {
            store_rows<A>(results, pending, m + 1 - pending, y, ep);
            pending = 0;
        }
    }
}

template <class A>
void gemm(const nm_view<float>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    constexpr std::size_t P = panel_width<A>;
    const std::size_t K = w.cols, M_group = w.pattern.m, full_groups = K / M_group;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count) {
        for (std::size_t m = 0; m < w.rows; ++m) {
            const float* values = w.values + m * w.values_ld;
            const std::uint8_t* meta = w.meta + m * w.meta_ld;
            panel_acc<A> acc0, acc1;
            for (std::size_t g = 0; g < full_groups; ++g) {
                std::uint32_t bits = nm_group_mask(meta, g, static_cast<std::uint32_t>(M_group));
                const float* group_panel = panel + g * M_group * P;
                while (bits != 0) {  // kept weights alternate between two accumulators
                    acc0.add(*values++, group_panel + static_cast<std::size_t>(__builtin_ctz(bits)) * P);
                    bits &= bits - 1;
                    if (bits == 0) break;
                    acc1.add(*values++, group_panel + static_cast<std::size_t>(__builtin_ctz(bits)) * P);
                    bits &= bits - 1;
                }
            }
            if (full_groups < w.groups) {  // partial last group: skip the padding past K
                std::uint32_t bits = nm_group_mask(meta, full_groups, static_cast<std::uint32_t>(M_group));
                for (; bits != 0; bits &= bits - 1, ++values) {
                    const std::size_t k = full_groups * M_group + static_cast<std::size_t>(__builtin_ctz(bits));
                    if (k < K) acc0.add(*values, panel + k * P);
                }
            }
            acc0.add(acc1);
            store_column<A>(acc0, m, n0, count, y, ep);
        }
    });
}

}  // namespace sieve::kernels
