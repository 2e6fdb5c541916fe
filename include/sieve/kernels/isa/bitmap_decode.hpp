// compress: the activations at the kept positions of an L-position chunk, packed to the low
// lanes in position order, so the bitmap fp32 GEMV (kernels/bitmap.hpp) packs x per row and
// multiplies the packed values by it with plain loads: no expansion of the weights, no FMA
// lane spent on a pruned position, and a pruned position never touches its activation.
//
// AVX2 only (has_compress<A>): one vpermps per 8 positions, its indices from a 1 KiB table
// (3 bits per lane, shifted into place with one vpsrlvd). AVX-512 expands with vexpandps in
// one instruction and keeps its path, as do SSE and NEON (4 lanes, one pshufb / tbl).
#pragma once

#include <cstddef>
#include <cstdint>

#include "helpers.hpp"

namespace sieve::kernels {

template <class A>
inline constexpr bool has_compress = is_avx2<A>;

namespace detail {
// For every 8-bit lane mask: the lanes whose bit is set, in order, 3 bits each (lane i of
// the result takes bits 3i..3i+2; 0 past the popcount). 1 KiB, so it stays in L1 beside x
// and the packed copies while the values stream through.
struct compress_table8 {
    alignas(64) std::uint32_t lanes[256];
};
constexpr compress_table8 make_compress_table8() {
    compress_table8 t{};
    for (std::uint32_t bits = 0; bits < 256; ++bits) {
        std::uint32_t next = 0;
        for (std::uint32_t lane = 0; lane < 8; ++lane)
            if (bits >> lane & 1u) t.lanes[bits] |= lane << (3 * next++);
    }
    return t;
}
inline constexpr compress_table8 compress8 = make_compress_table8();
}  // namespace detail

// Lanes 0 .. popcount(bits) - 1 hold the lanes of x whose bit is set, in order; the lanes
// past them hold unspecified lanes of x.
template <class A>
vfloat<A> compress(vfloat<A> x, std::uint32_t bits, A) noexcept {
    static_assert(has_compress<A>, "compress: no implementation for this arch");
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A>)
    {  // vpermps reads the low 3 bits of each index: shift lane i's field down
        const __m256i packed = _mm256_set1_epi32(static_cast<int>(detail::compress8.lanes[bits]));
        return _mm256_permutevar8x32_ps(x, _mm256_srlv_epi32(packed, _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21)));
    } else
#endif
        return (void)bits, x;
}

}  // namespace sieve::kernels
