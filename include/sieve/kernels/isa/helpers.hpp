// The few operations the kernels need that xsimd 8.1 lacks, behind one name per operation
// for every arch: each is one template whose body branches (`if constexpr`, see arch.hpp)
// to the instruction that does it best on that arch, with a plain loop over xsimd batches
// as the fallback every other arch takes. The arch tag comes last.
//
// Every function here is templated on the arch, so its symbol names the arch: a per-ISA
// object never emits a shared inline symbol (the ODR note in DESIGN.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <xsimd/xsimd.hpp>

#include "arch.hpp"

namespace sieve::kernels {

template <class A>
using vfloat = xsimd::batch<float, simd_arch_t<A>>;
template <class A>
using vuint = xsimd::batch<std::uint32_t, simd_arch_t<A>>;
template <class A>
using vint = xsimd::batch<std::int32_t, simd_arch_t<A>>;
template <class A>
using vbyte = xsimd::batch<std::int8_t, simd_arch_t<A>>;  // 4 * lanes bytes: one int8 dot product
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
// AVX2's 8-lane permute indices and masks (16 KiB of constant data).
inline constexpr lane_tables<8> lanes8 = make_lane_tables<8>();

// Byte expansion for int8 values: for every 8-position mask, the shuffle control that moves
// packed byte rank(j) to position j (0x80 where the bit is clear: pshufb and tbl give 0).
struct byte_expand_table {
    alignas(64) std::uint8_t control[256][8];
};
constexpr byte_expand_table make_byte_expand_table() {
    byte_expand_table t{};
    for (std::uint32_t bits = 0; bits < 256; ++bits) {
        std::uint8_t next = 0;
        for (std::uint32_t j = 0; j < 8; ++j) t.control[bits][j] = (bits >> j & 1u) ? next++ : 0x80u;
    }
    return t;
}
inline constexpr byte_expand_table byte_expand = make_byte_expand_table();

// The 16-byte control that expands the packed bytes of a 16-position mask, as its low and
// high 8 bytes (kept in registers: a 16-byte load of two fresh 8-byte stores would miss
// store forwarding): the high half's ranks start after the low half's values. Unset
// positions hold 0x80 plus at most 8, still at least 0x80, so they still read as zero.
template <class A>
void expand_control16(std::uint32_t bits, std::uint64_t& low, std::uint64_t& high, A) noexcept {
    const std::uint32_t lo = bits & 0xFFu, hi = (bits >> 8) & 0xFFu;
    std::memcpy(&low, byte_expand.control[lo], 8);
    std::memcpy(&high, byte_expand.control[hi], 8);
    high += static_cast<std::uint64_t>(__builtin_popcount(lo)) * 0x0101010101010101ull;
}
}  // namespace detail

template <class A>
vfloat<A> keep_lanes(vfloat<A> x, std::uint32_t bits, A arch) noexcept {
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>) return _mm512_maskz_mov_ps(static_cast<__mmask16>(bits), x);
    else
#endif
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A>)
        return _mm256_and_ps(x, _mm256_load_ps(reinterpret_cast<const float*>(detail::lanes8.lanes[bits])));
    else
#endif
#if XSIMD_WITH_SSE4_2
    if constexpr (is_sse<A>) return _mm_and_ps(x, _mm_load_ps(reinterpret_cast<const float*>(detail::lanes4.lanes[bits])));
    else
#endif
#if XSIMD_WITH_NEON64
    if constexpr (is_neon<A>)
        return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(x), vld1q_u32(detail::lanes4.lanes[bits])));
    else
#endif
    {
        const vuint<A> selected = vuint<A>(bits) & lane_bits(arch);
        const vuint<A> all = xsimd::select(selected != vuint<A>(0u), vuint<A>(0xFFFFFFFFu), vuint<A>(0u));
        return xsimd::bitwise_and(x, xsimd::bitwise_cast<vfloat<A>>(all));
    }
}

// Places src[0], src[1], ... at the lanes whose bit is set, in order; other lanes are 0.
// Consumes popcount(bits) floats but may load a whole vector: up to 60 bytes past the last
// value (AVX2: a masked load costs 3x more on Zen 3; SSE and NEON: one pshufb / tbl), so
// values arrays carry 64 bytes of padding (core/aligned_buffer.hpp).
template <class A>
vfloat<A> expand_load(const float* src, std::uint32_t bits, A) noexcept {
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>) {
        // Each half of 8 lanes is one vpermps of its 8 values, the indices widened from the
        // 8-position byte table (unset lanes read index 0 and are zeroed by the mask).
        // vexpandps is microcoded on Zen 4 and 5: 6 cycles a chunk against 3.5 here in L1.
        const std::uint32_t lo = bits & 0xFFu, hi = (bits >> 8) & 0xFFu;
        const __m256 low = _mm256_permutevar8x32_ps(
            _mm256_loadu_ps(src), _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(detail::byte_expand.control[lo]))));
        const __m256 high = _mm256_permutevar8x32_ps(
            _mm256_loadu_ps(src + __builtin_popcount(lo)),
            _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(detail::byte_expand.control[hi]))));
        return _mm512_maskz_insertf32x8(static_cast<__mmask16>(bits), _mm512_castps256_ps512(low), high, 1);
    } else
#endif
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A>) {  // the rank doubles as the vpermps index
        const __m256 spread = _mm256_permutevar8x32_ps(
            _mm256_loadu_ps(src), _mm256_load_si256(reinterpret_cast<const __m256i*>(detail::lanes8.rank[bits])));
        return _mm256_and_ps(spread, _mm256_load_ps(reinterpret_cast<const float*>(detail::lanes8.lanes[bits])));
    } else
#endif
#if XSIMD_WITH_SSE4_2
    if constexpr (is_sse<A>) {
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
        return _mm_castsi128_ps(
            _mm_shuffle_epi8(packed, _mm_load_si128(reinterpret_cast<const __m128i*>(detail::shuffles4.control[bits]))));
    } else
#endif
#if XSIMD_WITH_NEON64
    if constexpr (is_neon<A>) {
        const uint8x16_t packed = vreinterpretq_u8_f32(vld1q_f32(src));
        return vreinterpretq_f32_u8(vqtbl1q_u8(packed, vld1q_u8(detail::shuffles4.control[bits])));
    } else
#endif
    {
        alignas(64) float lanes_out[vfloat<A>::size] = {};
        for (std::size_t i = 0; i < vfloat<A>::size; ++i)
            if (bits >> i & 1u) lanes_out[i] = *src++;
        return vfloat<A>::load_aligned(lanes_out);
    }
}

// x[index[0] >> shift], x[index[1] >> shift], ... for one vector of 16- or 32-bit indices
// (Shifted: with shift 0, no shift is issued). AVX-512 uses its gathers; AVX2 keeps the
// plain loop: vgatherdps is microcoded on the Zen cores we target, and qemu 7.2 (our AVX2
// test bed on AVX-512 hosts) faults on it inside these loops. Where the gathers are slow
// (Intel's gather data sampling fix, AMD's microcode), runtime dispatch runs the CSR GEMV's
// AVX2 kernel on AVX-512 cores too (dispatch.hpp, csr_gathers_from_loads).
template <bool Shifted, class A, class Index>
SIEVE_ALWAYS_INLINE vfloat<A> gather_shifted(const float* x, const Index* index, unsigned shift, A) noexcept {
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>) {
        __m512i at;
        if constexpr (sizeof(Index) == 2) at = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(index)));
        else at = _mm512_loadu_si512(index);
        if constexpr (Shifted) at = _mm512_srlv_epi32(at, _mm512_set1_epi32(static_cast<int>(shift)));
        return _mm512_i32gather_ps(at, x, 4);
    } else
#endif
    {
        alignas(64) float lanes_out[vfloat<A>::size];
        if constexpr (sizeof(Index) == 2 && !Shifted && vfloat<A>::size % 4 == 0) {
            // Four 16-bit indices per 8-byte load (little-endian), split in general registers:
            // a load per index crowds the load ports (AVX2, CSR 90% on Zen 5: 0.97 -> 0.89 ms).
            for (std::size_t q = 0; q < vfloat<A>::size; q += 4) {
                std::uint64_t four;
                std::memcpy(&four, index + q, 8);
                for (std::size_t j = 0; j < 4; ++j) lanes_out[q + j] = x[(four >> (16 * j)) & 0xFFFFu];
            }
        } else {
            for (std::size_t i = 0; i < vfloat<A>::size; ++i) lanes_out[i] = x[std::size_t{index[i]} >> (Shifted ? shift : 0u)];
        }
        return vfloat<A>::load_aligned(lanes_out);
    }
}

// x[index[0]], x[index[1]], ...: a CSR row's activations.
template <class A, class Index>
SIEVE_ALWAYS_INLINE vfloat<A> gather(const float* x, const Index* index, A) noexcept {
    return gather_shifted<false>(x, index, 0, A{});
}

// x[index[0] >> shift], ...: per-entry scales of a CSR row whose columns fall in scale
// groups of 1 << shift.
template <class A, class Index>
SIEVE_ALWAYS_INLINE vfloat<A> gather(const float* x, const Index* index, unsigned shift, A) noexcept {
    return gather_shifted<true>(x, index, shift, A{});
}

// Lanes hold p[0..C) repeated L / C times (C divides L): one block row of x for BSR. 4x4
// blocks (C = 4, the only narrow shape with whole-vector blocks that runtime dispatch
// instantiates) take one 128-bit broadcast: filling the lanes through memory instead
// stalls every block on a failed store-to-load forward.
template <std::size_t C, class A>
vfloat<A> load_repeated(const float* p, A) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512<A> && C == 4)
        return _mm512_broadcast_f32x4(_mm_loadu_ps(p));
    else
#endif
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A> && C == 4)
        return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(p));
    else
#endif
    {
        alignas(64) float lanes_out[vfloat<A>::size];
        for (std::size_t i = 0; i < vfloat<A>::size; ++i) lanes_out[i] = p[i % C];
        return vfloat<A>::load_aligned(lanes_out);
    }
}

// The activations of L / (R * C) blocks of a one-row or one-column shape side by side, for
// a BSR GEMV whose blocks are narrower than a vector: block b's R * C lanes hold x at
// p[b] .. p[b] + C (1xC) or x at p[b] repeated over the block's R rows (Rx1). One 128- or
// 256-bit load or broadcast per block, put together in register; filling the lanes through
// memory instead stalls every vector on a failed store-to-load forward.
template <class A, std::size_t R, std::size_t C>
inline constexpr bool has_small_block_loads =
    (R == 1 || C == 1) && ((is_avx2<A> && R * C == 4) || (is_avx512<A> && (R * C == 4 || R * C == 8)));

template <std::size_t R, std::size_t C, class A>
vfloat<A> load_small_blocks(const float* const* p, A) noexcept {
    static_assert(has_small_block_loads<A, R, C>, "load_small_blocks: no implementation for this shape and arch");
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (R * C == 4) {
        auto piece = [p](std::size_t b) { return C == 1 ? _mm_broadcast_ss(p[b]) : _mm_loadu_ps(p[b]); };
        const __m256 low = _mm256_set_m128(piece(1), piece(0));
#if XSIMD_WITH_AVX512F
        if constexpr (is_avx512<A>) {
            const __m256 high = _mm256_set_m128(piece(3), piece(2));
            return _mm512_castpd_ps(
                _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(low)), _mm256_castps_pd(high), 1));
        } else
#endif
            return low;
    }
#endif
#if XSIMD_WITH_AVX512F
    if constexpr (R * C == 8) {
        auto piece = [p](std::size_t b) { return C == 1 ? _mm256_broadcast_ss(p[b]) : _mm256_loadu_ps(p[b]); };
        return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(piece(0))),
                                                   _mm256_castps_pd(piece(1)), 1));
    }
#endif
    return vfloat<A>(0.0f);
}

// Horizontal sum.
template <class A>
float reduce_add(vfloat<A> v) noexcept {
    return xsimd::hadd(v);
}

// ---- int8 ---------------------------------------------------------------------------------
// Weight-only kernels widen int8 weights to fp32 lanes in register; W8A8 kernels multiply
// int8 by int8 into int32 lanes, four bytes per lane (lane i sums bytes 4i..4i+3).

// The weights at p[0..L) as fp32 lanes (float weights: a plain load). Reads L values.
template <class A>
vfloat<A> load_weights(const float* p, A) noexcept {
    return vfloat<A>::load_unaligned(p);
}
template <class A>
vfloat<A> load_weights(const std::int8_t* p, A) noexcept {
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>)
        return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
    else
#endif
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A>)
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    else
#endif
#if XSIMD_WITH_SSE4_2
    if constexpr (is_sse<A>) {
        std::int32_t four;
        std::memcpy(&four, p, 4);
        return _mm_cvtepi32_ps(_mm_cvtepi8_epi32(_mm_cvtsi32_si128(four)));
    } else
#endif
#if XSIMD_WITH_NEON64
    if constexpr (is_neon<A>) {
        std::int32_t four;
        std::memcpy(&four, p, 4);
        const int16x8_t wide = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(four)));
        return vcvtq_f32_s32(vmovl_s16(vget_low_s16(wide)));
    } else
#endif
    {
        alignas(64) float lanes_out[vfloat<A>::size];
        for (std::size_t i = 0; i < vfloat<A>::size; ++i) lanes_out[i] = static_cast<float>(p[i]);
        return vfloat<A>::load_aligned(lanes_out);
    }
}

#if XSIMD_WITH_SSE4_2
namespace detail {
// The low 8 bytes: src[0], src[1], ... at the set bits of an 8-position mask, 0 elsewhere
// (one pshufb from the byte table). Reads 8 bytes from src.
template <class A>
__m128i expand8_bytes(const std::int8_t* src, std::uint32_t bits8, A) noexcept {
    return _mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src)),
                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(byte_expand.control[bits8])));
}
}  // namespace detail
#endif

// expand_load for int8 values, widened to fp32 lanes. Consumes popcount(bits) values; may
// load up to 16 bytes (one xmm) from src.
template <class A>
vfloat<A> expand_load(const std::int8_t* src, std::uint32_t bits, A) noexcept {
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>) {  // a pshufb per 8 positions (vpexpandd is microcoded on Zen), then widen
        const std::uint32_t lo = bits & 0xFFu, hi = (bits >> 8) & 0xFFu;
        const __m128i low = detail::expand8_bytes(src, lo, A{});
        const __m128i high = detail::expand8_bytes(src + __builtin_popcount(lo), hi, A{});
        return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_unpacklo_epi64(low, high)));
    } else
#endif
#if XSIMD_WITH_SSE4_2
    if constexpr (is_avx2<A> || is_sse<A>) {  // one pshufb from the 8-position table, then widen
        const __m128i spread = detail::expand8_bytes(src, bits, A{});
#if XSIMD_WITH_FMA3_AVX2
        if constexpr (is_avx2<A>) return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(spread));
        else
#endif
            return _mm_cvtepi32_ps(_mm_cvtepi8_epi32(spread));
    } else
#endif
#if XSIMD_WITH_NEON64
    if constexpr (is_neon<A>) {
        const int8x8_t spread = vtbl1_s8(vld1_s8(src), vreinterpret_s8_u8(vld1_u8(detail::byte_expand.control[bits])));
        return vcvtq_f32_s32(vmovl_s16(vget_low_s16(vmovl_s8(spread))));
    } else
#endif
    {
        alignas(64) float lanes_out[vfloat<A>::size] = {};
        for (std::size_t i = 0; i < vfloat<A>::size; ++i)
            if (bits >> i & 1u) lanes_out[i] = static_cast<float>(*src++);
        return vfloat<A>::load_aligned(lanes_out);
    }
}

// The int8 values src[0], src[1], ... placed at the set positions of a 4L-position mask
// (zero elsewhere): N:M int8 weights made dense for an int8 dot product. Consumes
// popcount(bits) values; may load up to 16 bytes past them. AVX-512 VBMI2 does it in one
// vpexpandb; elsewhere one pshufb / tbl per 16 positions.
template <class A>
vbyte<A> expand_bytes(const std::int8_t* src, std::uint64_t bits, A arch) noexcept {
    constexpr std::size_t B = vbyte<A>::size;
#if XSIMD_WITH_AVX512BW && defined(__AVX512VBMI2__)
    if constexpr (has_vnni<A>) return _mm512_maskz_expandloadu_epi8(static_cast<__mmask64>(bits), src);
    else
#endif
#if XSIMD_WITH_SSE4_2
    if constexpr (is_avx512<A> || is_avx2<A> || is_sse<A>) {
        __m128i part[B / 16];
        for (std::size_t c = 0; c < B / 16; ++c) {
            const std::uint32_t b16 = static_cast<std::uint32_t>(bits >> (16 * c)) & 0xFFFFu;
            std::uint64_t low, high;
            detail::expand_control16(b16, low, high, arch);
            part[c] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)),
                                       _mm_set_epi64x(static_cast<long long>(high), static_cast<long long>(low)));
            src += __builtin_popcount(b16);
        }
#if XSIMD_WITH_AVX512BW
        if constexpr (is_avx512<A>) {
            __m512i out = _mm512_castsi128_si512(part[0]);
            out = _mm512_inserti32x4(out, part[1], 1);
            out = _mm512_inserti32x4(out, part[2], 2);
            return _mm512_inserti32x4(out, part[3], 3);
        } else
#endif
#if XSIMD_WITH_FMA3_AVX2
        if constexpr (is_avx2<A>) return _mm256_set_m128i(part[1], part[0]);
        else
#endif
            return part[0];
    } else
#endif
#if XSIMD_WITH_NEON64
    if constexpr (is_neon<A>) {
        std::uint64_t low, high;
        detail::expand_control16(static_cast<std::uint32_t>(bits), low, high, arch);
        return vqtbl1q_s8(vld1q_s8(src), vcombine_u8(vcreate_u8(low), vcreate_u8(high)));
    } else
#endif
    {
        (void)arch;
        alignas(64) std::int8_t out[B] = {};
        for (std::size_t i = 0; i < B; ++i)
            if (bits >> i & 1u) out[i] = *src++;
        return vbyte<A>::load_aligned(out);
    }
}

// acc + the 4-byte dot products of w and x (lane i += sum of w[4i + j] * x[4i + j]). Exact
// for x in [-127, 127] (sieve quantizes activations symmetrically into that range): the
// x86 forms multiply |w| (unsigned) by x carrying w's sign, so vpmaddubsw's 16-bit pair
// sums stay within 2 * 127 * 127 and never saturate.
template <class A>
vint<A> dot_i8(vint<A> acc, vbyte<A> w, vbyte<A> x, A) noexcept {
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>) {
        const __m512i w_abs = _mm512_abs_epi8(w);
        const __m512i x_signed = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
#if defined(__AVX512VNNI__)
        if constexpr (has_vnni<A>) return _mm512_dpbusd_epi32(acc, w_abs, x_signed);
        else
#endif
            return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(w_abs, x_signed), _mm512_set1_epi16(1)));
    } else
#endif
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A>) {
        const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
        return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
    } else
#endif
#if XSIMD_WITH_SSE4_2
    if constexpr (is_sse<A>) {
        const __m128i pairs = _mm_maddubs_epi16(_mm_sign_epi8(w, w), _mm_sign_epi8(x, w));
        return _mm_add_epi32(acc, _mm_madd_epi16(pairs, _mm_set1_epi16(1)));
    } else
#endif
#if XSIMD_WITH_NEON64
    if constexpr (is_neon<A>) {
#if defined(__ARM_FEATURE_DOTPROD)
        if constexpr (has_dotprod<A>) return vdotq_s32(acc, w, x);
        else
#endif
        {  // widening multiplies, then pairwise adds: byte pairs, then quads
            const int16x8_t lo = vmull_s8(vget_low_s8(w), vget_low_s8(x)), hi = vmull_high_s8(w, x);
            return vpadalq_s16(acc, vpaddq_s16(lo, hi));
        }
    } else
#endif
    {
        alignas(64) std::int8_t wb[vbyte<A>::size], xb[vbyte<A>::size];
        alignas(64) std::int32_t sums[vint<A>::size];
        w.store_aligned(wb);
        x.store_aligned(xb);
        acc.store_aligned(sums);
        for (std::size_t i = 0; i < vbyte<A>::size; ++i) sums[i / 4] += std::int32_t{wb[i]} * xb[i];
        return vint<A>::load_aligned(sums);
    }
}

// Lane i holds the 4 bytes at base + offset[i] (offsets in bytes).
template <class A>
vbyte<A> gather_quads(const std::int8_t* base, const std::int32_t* offset, A) noexcept {
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>) return _mm512_i32gather_epi32(_mm512_loadu_si512(offset), base, 1);
    else
#endif
    {
        alignas(64) std::int32_t quads[vint<A>::size];
        for (std::size_t i = 0; i < vint<A>::size; ++i) std::memcpy(&quads[i], base + offset[i], 4);
        return xsimd::bitwise_cast<vbyte<A>>(vint<A>::load_aligned(quads));
    }
}

template <class A>
std::int32_t reduce_add(vint<A> v) noexcept {
    return xsimd::hadd(v);
}
}  // namespace sieve::kernels
