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

namespace detail {
// For every L-bit lane mask: the rank of each set lane among the set lanes (which packed
// value it receives; 0 for unset lanes) and the all-ones/zero lane mask. The expand tables
// of every ISA are built from this one description.
template <std::size_t L>
struct lane_tables {
    alignas(32) std::uint32_t rank[1u << L][L];
    alignas(32) std::uint32_t lanes[1u << L][L];
};
template <std::size_t L>
constexpr lane_tables<L> make_lane_tables() {
    lane_tables<L> t{};
    for (std::uint32_t bits = 0; bits < (1u << L); ++bits) {
        std::uint32_t next = 0;
        for (std::uint32_t lane = 0; lane < L; ++lane) {
            const bool set = (bits >> lane) & 1u;
            t.rank[bits][lane] = set ? next++ : 0u;
            t.lanes[bits][lane] = set ? 0xFFFFFFFFu : 0u;
        }
    }
    return t;
}
inline constexpr lane_tables<4> lanes4 = make_lane_tables<4>();

// 4-lane byte shuffles shared by SSE (pshufb) and NEON (tbl): set lane i takes the bytes of
// packed value rank(i); unset lanes get control 0x80, which both instructions turn into 0.
struct byte_shuffles4 {
    alignas(16) std::uint8_t control[16][16];
};
constexpr byte_shuffles4 make_byte_shuffles4() {
    byte_shuffles4 t{};
    for (std::uint32_t bits = 0; bits < 16; ++bits)
        for (std::uint32_t lane = 0; lane < 4; ++lane)
            for (std::uint32_t b = 0; b < 4; ++b)
                t.control[bits][4 * lane + b] =
                    lanes4.lanes[bits][lane] ? static_cast<std::uint8_t>(4 * lanes4.rank[bits][lane] + b) : 0x80u;
    return t;
}
inline constexpr byte_shuffles4 shuffles4 = make_byte_shuffles4();
}  // namespace detail

#if XSIMD_WITH_SSE4_2 && !XSIMD_WITH_AVX
// One load (up to 12 bytes past the last value: the arrays are padded), one pshufb.
inline vfloat<xsimd::sse4_2> expand_load(const float* src, std::uint32_t bits, xsimd::sse4_2) noexcept {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    return _mm_castsi128_ps(
        _mm_shuffle_epi8(packed, _mm_load_si128(reinterpret_cast<const __m128i*>(detail::shuffles4.control[bits]))));
}
inline vfloat<xsimd::sse4_2> keep_lanes(vfloat<xsimd::sse4_2> x, std::uint32_t bits, xsimd::sse4_2) noexcept {
    return _mm_and_ps(x, _mm_load_ps(reinterpret_cast<const float*>(detail::lanes4.lanes[bits])));
}
#endif

#if XSIMD_WITH_NEON64
// One load (up to 12 bytes past the last value: the arrays are padded), one tbl.
inline vfloat<xsimd::neon64> expand_load(const float* src, std::uint32_t bits, xsimd::neon64) noexcept {
    const uint8x16_t packed = vreinterpretq_u8_f32(vld1q_f32(src));
    return vreinterpretq_f32_u8(vqtbl1q_u8(packed, vld1q_u8(detail::shuffles4.control[bits])));
}
inline vfloat<xsimd::neon64> keep_lanes(vfloat<xsimd::neon64> x, std::uint32_t bits, xsimd::neon64) noexcept {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(x), vld1q_u32(detail::lanes4.lanes[bits])));
}
#endif

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

#if XSIMD_WITH_FMA3_AVX2 && !XSIMD_WITH_AVX512F  // one definition per unit: the widest arch it builds
namespace detail {
// The rank doubles as the vpermps index. 16 KiB of constant data.
inline constexpr lane_tables<8> lanes8 = make_lane_tables<8>();
}  // namespace detail

// Table-driven expand: one load, one permute, one mask. The load reads 8 floats whatever
// popcount(bits) is (a masked load costs 3x more on Zen 3), so it may read up to 28 bytes
// past the last value: every values array carries 64 bytes of padding (see nm.hpp).
inline vfloat<xsimd::fma3<xsimd::avx2>> expand_load(const float* src, std::uint32_t bits,
                                                    xsimd::fma3<xsimd::avx2>) noexcept {
    const __m256 spread = _mm256_permutevar8x32_ps(
        _mm256_loadu_ps(src), _mm256_load_si256(reinterpret_cast<const __m256i*>(detail::lanes8.rank[bits])));
    return _mm256_and_ps(spread, _mm256_load_ps(reinterpret_cast<const float*>(detail::lanes8.lanes[bits])));
}
inline vfloat<xsimd::fma3<xsimd::avx2>> keep_lanes(vfloat<xsimd::fma3<xsimd::avx2>> x, std::uint32_t bits,
                                                   xsimd::fma3<xsimd::avx2>) noexcept {
    return _mm256_and_ps(x, _mm256_load_ps(reinterpret_cast<const float*>(detail::lanes8.lanes[bits])));
}
// AVX2 keeps the generic gather: vgatherdps is microcoded on the Zen cores we target, and
// qemu 7.2 (our AVX2 test bed on AVX-512 hosts) faults on it inside these loops.
#endif

}  // namespace sieve::kernels
