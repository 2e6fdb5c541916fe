// The few operations the kernels need that xsimd 8.1 lacks, behind one name per operation
// for every arch: a generic version written over xsimd batches, and a per-ISA overload
// only where an instruction does it better. Overloads take the arch tag last; a
// non-template overload for an exact arch beats the generic template.
//
// Every function here is templated on the arch or takes the arch tag, so its symbol names
// the arch: a per-ISA object never emits a shared inline symbol (see the ODR note in
// dispatch/runtime.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <xsimd/xsimd.hpp>

namespace sieve::kernels {

template <class A>
using vfloat = xsimd::batch<float, A>;
template <class A>
using vuint = xsimd::batch<std::uint32_t, A>;
template <class A>
inline constexpr std::size_t lanes = vfloat<A>::size;

// Lanes 0..L-1 hold 1 << lane.
template <class A>
vuint<A> lane_bits(A) noexcept {
    alignas(64) std::uint32_t bits[vuint<A>::size];
    for (std::size_t i = 0; i < vuint<A>::size; ++i) bits[i] = 1u << i;
    return vuint<A>::load_aligned(bits);
}

// `x` with the lanes whose bit in `bits` is clear set to +0. Kernels multiply by masked
// activations so a pruned position never touches its activation (0 * Inf would be NaN).
template <class A>
vfloat<A> keep_lanes(vfloat<A> x, std::uint32_t bits, A arch) noexcept {
    const vuint<A> selected = vuint<A>(bits) & lane_bits(arch);
    const vuint<A> all = xsimd::select(selected != vuint<A>(0u), vuint<A>(0xFFFFFFFFu), vuint<A>(0u));
    return xsimd::bitwise_and(x, xsimd::bitwise_cast<vfloat<A>>(all));
}

// Places src[0], src[1], ... at the lanes whose bit is set, in order; other lanes are 0.
// Reads exactly popcount(bits) floats.
template <class A>
vfloat<A> expand_load(const float* src, std::uint32_t bits, A) noexcept {
    alignas(64) float lanes_out[vfloat<A>::size] = {};
    for (std::size_t i = 0; i < vfloat<A>::size; ++i)
        if (bits >> i & 1u) lanes_out[i] = *src++;
    return vfloat<A>::load_aligned(lanes_out);
}

// x[index[0]], x[index[1]], ... for one vector of 16- or 32-bit indices.
template <class A, class Index>
vfloat<A> gather(const float* x, const Index* index, A) noexcept {
    alignas(64) float lanes_out[vfloat<A>::size];
    for (std::size_t i = 0; i < vfloat<A>::size; ++i) lanes_out[i] = x[index[i]];
    return vfloat<A>::load_aligned(lanes_out);
}

// Lanes hold p[0..C) repeated L / C times (C divides L): one block row of x for BSR.
template <std::size_t C, class A>
vfloat<A> load_repeated(const float* p, A) noexcept {
    alignas(64) float lanes_out[vfloat<A>::size];
    for (std::size_t i = 0; i < vfloat<A>::size; ++i) lanes_out[i] = p[i % C];
    return vfloat<A>::load_aligned(lanes_out);
}

// Horizontal sum.
template <class A>
float reduce_add(vfloat<A> v) noexcept {
    return xsimd::hadd(v);
}

#if XSIMD_WITH_AVX512BW
inline vfloat<xsimd::avx512bw> keep_lanes(vfloat<xsimd::avx512bw> x, std::uint32_t bits,
                                          xsimd::avx512bw) noexcept {
    return _mm512_maskz_mov_ps(static_cast<__mmask16>(bits), x);
}
inline vfloat<xsimd::avx512bw> expand_load(const float* src, std::uint32_t bits, xsimd::avx512bw) noexcept {
    return _mm512_maskz_expandloadu_ps(static_cast<__mmask16>(bits), src);
}
inline vfloat<xsimd::avx512bw> gather(const float* x, const std::uint16_t* index, xsimd::avx512bw) noexcept {
    const __m512i i32 = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(index)));
    return _mm512_i32gather_ps(i32, x, 4);
}
inline vfloat<xsimd::avx512bw> gather(const float* x, const std::uint32_t* index, xsimd::avx512bw) noexcept {
    return _mm512_i32gather_ps(_mm512_loadu_si512(index), x, 4);
}
#endif

#if XSIMD_WITH_FMA3_AVX2
// Expand by permute: lane i takes value number popcount(bits below i); a masked load reads
// only the popcount(bits) values that exist.
inline vfloat<xsimd::fma3<xsimd::avx2>> expand_load(const float* src, std::uint32_t bits,
                                                    xsimd::fma3<xsimd::avx2>) noexcept {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i count = _mm256_set1_epi32(__builtin_popcount(bits & 0xFFu));
    const __m256 packed = _mm256_maskload_ps(src, _mm256_cmpgt_epi32(count, iota));
    // Prefix popcounts: lane i holds popcount(bits & ((1 << i) - 1)).
    const __m256i below = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), iota), _mm256_set1_epi32(1));
    const __m256i masked = _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)), below);
    // popcount of a byte per lane via nibble lookup.
    const __m256i nibble_counts = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1,
                                                   2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_and_si256(masked, _mm256_set1_epi32(0xF));
    const __m256i high = _mm256_srli_epi32(masked, 4);
    const __m256i index = _mm256_add_epi32(_mm256_and_si256(_mm256_shuffle_epi8(nibble_counts, low), _mm256_set1_epi32(0xFF)),
                                           _mm256_and_si256(_mm256_shuffle_epi8(nibble_counts, high), _mm256_set1_epi32(0xFF)));
    const __m256 expanded = _mm256_permutevar8x32_ps(packed, index);
    const __m256i selected = _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)),
                                              _mm256_sllv_epi32(_mm256_set1_epi32(1), iota));
    return _mm256_and_ps(expanded, _mm256_castsi256_ps(_mm256_cmpgt_epi32(selected, _mm256_setzero_si256())));
}
// AVX2 keeps the generic gather: vgatherdps is microcoded on the Zen cores we target, and
// qemu 7.2 (our AVX2 test bed on AVX-512 hosts) faults on it inside these loops.
#endif

}  // namespace sieve::kernels
