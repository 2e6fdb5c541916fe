// pick_2of4: the activations at the kept positions of a 2:4 row, in order, so a 2:4
// GEMV multiplies contiguous values by one vector of activations: no expansion of the
// weights, no FMA on pruned lanes, and a pruned position never touches its activation.
//
// One vector of L kept activations covers 2L positions, i.e. L/2 groups of four, each with
// exactly two kept (validate() guarantees it; a view that breaks it gets wrong sums from
// in-range picks, never a read outside its arrays).
// A group of four floats is one 128-bit lane, so the pick stays inside lanes: AVX2 splits
// the 16 positions into even and odd groups (one vperm2f128 each), picks two of four in
// every lane with vpermilps (cheap on every x86 core, unlike the cross-lane vpermps) and
// blends; SSE does the same with pshufb; NEON's two-register tbl picks from all 8 positions
// at once. The per-byte tables (two groups per byte of metadata) are 4 KiB each. AVX-512
// builds the 16 indices of a two-source vpermt2ps from the metadata in register (each
// group's nibble to its first and second kept position): one permute per 32 positions
// instead of two expand loads, two masked moves and twice the FMAs on pruned lanes.
//
// The generic fallback reports has_compress_2of4 = false and keeps the general N:M path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "helpers.hpp"

namespace sieve::kernels {

template <class A>
inline constexpr bool has_compress_2of4 = is_avx512<A> || is_avx2<A> || is_sse<A> || is_neon<A>;

namespace detail {
// For every byte of 2:4 metadata (two groups of four positions, two bits set in each
// nibble): the positions 0..7 of the four kept ones, in order. Nibbles that do not hold
// exactly two bits never reach the tables (the kernel checks the popcount first).
struct pick_2of4_table {
    std::uint8_t position[256][4];
};
constexpr pick_2of4_table make_pick_2of4() {
    pick_2of4_table t{};
    for (std::uint32_t bits = 0; bits < 256; ++bits) {
        std::uint32_t next = 0;
        for (std::uint32_t p = 0; p < 8 && next < 4; ++p)
            if ((bits >> p & 1u) && next < (p < 4 ? 2u : 4u)) t.position[bits][next++] = static_cast<std::uint8_t>(p);
    }
    return t;
}
inline constexpr pick_2of4_table pick_2of4 = make_pick_2of4();

// vpermilps controls (the position within its group: the low two bits select the lane).
struct pick_2of4_dwords {
    alignas(16) std::uint32_t control[256][4];
};
constexpr pick_2of4_dwords make_pick_2of4_dwords() {
    pick_2of4_dwords t{};
    for (std::uint32_t bits = 0; bits < 256; ++bits)
        for (std::uint32_t i = 0; i < 4; ++i) t.control[bits][i] = pick_2of4.position[bits][i] & 3u;
    return t;
}
inline constexpr pick_2of4_dwords pick_2of4_permilps = make_pick_2of4_dwords();

// Byte controls: SSE's pshufb within one group (`within_group`), NEON's tbl over the 32
// bytes of both groups.
struct pick_2of4_bytes {
    alignas(16) std::uint8_t control[256][16];
};
constexpr pick_2of4_bytes make_pick_2of4_bytes(bool within_group) {
    pick_2of4_bytes t{};
    for (std::uint32_t bits = 0; bits < 256; ++bits)
        for (std::uint32_t i = 0; i < 4; ++i) {
            const std::uint32_t p = pick_2of4.position[bits][i] & (within_group ? 3u : 7u);
            for (std::uint32_t b = 0; b < 4; ++b) t.control[bits][4 * i + b] = static_cast<std::uint8_t>(4 * p + b);
        }
    return t;
}
inline constexpr pick_2of4_bytes pick_2of4_pshufb = make_pick_2of4_bytes(true);
inline constexpr pick_2of4_bytes pick_2of4_tbl = make_pick_2of4_bytes(false);
}  // namespace detail

// 2L consecutive activations arranged for pick_2of4; a GEMV arranges each x step once and
// picks from it for every row it walks. Only AVX2 rearranges (arranges_2of4): elsewhere the
// two halves are x itself.
template <class A>
struct two_of_four_x {
    vfloat<A> even, odd;  // AVX2: groups 0 and 2 | groups 1 and 3; AVX-512, SSE, NEON: x0 | x1
};
template <class A>
inline constexpr bool arranges_2of4 = is_avx2<A>;

template <class A>
two_of_four_x<A> arrange_2of4(vfloat<A> x0, vfloat<A> x1, A) noexcept {
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A>)
        return {_mm256_permute2f128_ps(x0, x1, 0x20), _mm256_permute2f128_ps(x0, x1, 0x31)};
    else
#endif
        return {x0, x1};
}

// What a pick needs from 2L bits of 2:4 metadata (exactly two set in every nibble), built
// once per row and step and applied to the activations of every token: AVX-512 the
// vpermt2ps indices, AVX2 the vpermilps controls, SSE the pshufb and NEON the tbl bytes.
template <class A, class = void>
struct pick_2of4_control {
    std::uint32_t v;
};
#if XSIMD_WITH_AVX512BW
template <class A>
struct pick_2of4_control<A, std::enable_if_t<is_avx512<A>>> {
    __m512i v;
};
#endif
#if XSIMD_WITH_FMA3_AVX2
template <class A>
struct pick_2of4_control<A, std::enable_if_t<is_avx2<A>>> {
    __m256i v;
};
#endif
#if XSIMD_WITH_SSE4_2
template <class A>
struct pick_2of4_control<A, std::enable_if_t<is_sse<A>>> {
    __m128i v;
};
#endif
#if XSIMD_WITH_NEON64
template <class A>
struct pick_2of4_control<A, std::enable_if_t<is_neon<A>>> {
    uint8x16_t v;
};
#endif

template <class A>
pick_2of4_control<A> pick_2of4_control_of(std::uint32_t bits, A) noexcept {
    static_assert(has_compress_2of4<A>, "pick_2of4: no implementation for this arch");
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>) {
        // Dwords 2g and 2g + 1 take group g's first and second kept position: its nibble
        // (shifted down by 4g) indexes a 32-entry table whose upper half holds the seconds.
        const __m512i shifts = _mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28);
        const __m512i second_half = _mm512_setr_epi32(0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16, 0, 16);
        // (shifted & 0xF) | second_half in one ternary logic op: A & B | C is 0xEA.
        const __m512i slot = _mm512_ternarylogic_epi32(_mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(bits)), shifts),
                                                       _mm512_set1_epi32(0xF), second_half, 0xEA);
        // Nibbles with two bits set: 3 = {0,1}, 5 = {0,2}, 6 = {1,2}, 9 = {0,3}, 10 = {1,3}, 12 = {2,3}.
        const __m512i first = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0, 0);
        const __m512i second = _mm512_setr_epi32(0, 0, 0, 1, 0, 2, 2, 0, 0, 3, 3, 0, 3, 0, 0, 0);
        const __m512i group_base = _mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28);
        return {_mm512_add_epi32(_mm512_permutex2var_epi32(first, slot, second), group_base)};
    } else
#endif
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A>) {
        return {_mm256_inserti128_si256(
            _mm256_castsi128_si256(
                _mm_load_si128(reinterpret_cast<const __m128i*>(detail::pick_2of4_permilps.control[bits & 0xFFu]))),
            _mm_load_si128(reinterpret_cast<const __m128i*>(detail::pick_2of4_permilps.control[bits >> 8 & 0xFFu])), 1)};
    } else
#endif
#if XSIMD_WITH_SSE4_2
    if constexpr (is_sse<A>) {
        return {_mm_load_si128(reinterpret_cast<const __m128i*>(detail::pick_2of4_pshufb.control[bits & 0xFFu]))};
    } else
#endif
#if XSIMD_WITH_NEON64
    if constexpr (is_neon<A>) {
        return {vld1q_u8(detail::pick_2of4_tbl.control[bits & 0xFFu])};
    } else
#endif
        return {bits};
}

// The L kept activations of the 2L arranged ones under a control, in position order.
template <class A>
vfloat<A> pick_2of4(const two_of_four_x<A>& x, const pick_2of4_control<A>& c, A) noexcept {
#if XSIMD_WITH_AVX512BW
    if constexpr (is_avx512<A>) return _mm512_permutex2var_ps(x.even, c.v, x.odd);
    else
#endif
#if XSIMD_WITH_FMA3_AVX2
    if constexpr (is_avx2<A>)
        return _mm256_blend_ps(_mm256_permutevar_ps(x.even, c.v), _mm256_permutevar_ps(x.odd, c.v), 0xCC);
    else
#endif
#if XSIMD_WITH_SSE4_2
    if constexpr (is_sse<A>) {
        const __m128i even = _mm_shuffle_epi8(_mm_castps_si128(x.even), c.v);
        const __m128i odd = _mm_shuffle_epi8(_mm_castps_si128(x.odd), c.v);
        return _mm_blend_ps(_mm_castsi128_ps(even), _mm_castsi128_ps(odd), 0xC);
    } else
#endif
#if XSIMD_WITH_NEON64
    if constexpr (is_neon<A>) {
        const uint8x16x2_t both = {{vreinterpretq_u8_f32(x.even), vreinterpretq_u8_f32(x.odd)}};
        return vreinterpretq_f32_u8(vqtbl2q_u8(both, c.v));
    } else
#endif
    {
        (void)c;
        return x.even;
    }
}

// The pick controls of the 64 / (2L) steps of one 64-bit word of 2:4 metadata (all 32 bits set two
// per nibble), for a GEMV that walks a whole word per row. AVX2 builds the vpermilps
// controls of all four steps in register, about ten vector instructions per word instead
// of two table loads, an insert and the index arithmetic per step: each metadata byte is
// spread to the bytes of its two groups, one pshufb maps a group's nibble to its two kept
// positions (first | second << 2), and a step spreads its four groups' bytes to the dwords.
// Other arches pick step by step (AVX-512 from the metadata in register, SSE and NEON from
// the per-byte tables).
template <class A>
class two_of_four_word_picks {
public:
    two_of_four_word_picks() = default;
    explicit two_of_four_word_picks(std::uint64_t word) noexcept {
#if XSIMD_WITH_FMA3_AVX2
        if constexpr (is_avx2<A>) {
            // Lane 0: metadata bytes 0, 2, 4, 6 (groups g with g % 4 in {0, 1}), lane 1: bytes 1,
            // 3, 5, 7; each four times, then 16-bit word s of a lane holds slot s's nibble.
            const __m256i v = _mm256_set1_epi64x(static_cast<long long>(word));
            const __m256i dup = _mm256_shuffle_epi8(
                v, _mm256_setr_epi8(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6, 1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5,
                                    7, 7, 7, 7));
            const __m256i low4 = _mm256_set1_epi8(0x0F);
            const __m256i nibble = _mm256_blend_epi16(_mm256_and_si256(dup, low4),
                                                      _mm256_and_si256(_mm256_srli_epi16(dup, 4), low4), 0xAA);
            // Kept positions first | second << 2 for each nibble with two bits set.
            const __m256i positions = _mm256_shuffle_epi8(
                _mm256_setr_epi8(0, 0, 0, 4, 0, 8, 9, 0, 0, 12, 13, 0, 14, 0, 0, 0, 0, 0, 0, 4, 0, 8, 9, 0, 0, 12, 13, 0, 14,
                                 0, 0, 0),
                nibble);
            // Even bytes keep the first position, odd bytes take the second into bits 1:0.
            controls_ = _mm256_blendv_epi8(positions, _mm256_srli_epi16(positions, 2), _mm256_set1_epi16(-256));
            return;
        }
#endif
        word_ = word;
    }

    // The control of step j (positions 2Lj .. 2Lj + 2L of the word).
    template <std::size_t j>
    pick_2of4_control<A> control() const noexcept {
#if XSIMD_WITH_FMA3_AVX2
        if constexpr (is_avx2<A>) {
            // Dword d of each lane takes byte 4j + d: its group's slot, first or second.
            constexpr char b = static_cast<char>(4 * j);
            return {_mm256_shuffle_epi8(controls_, _mm256_setr_epi8(b, -1, -1, -1, b + 1, -1, -1, -1, b + 2, -1, -1, -1, b + 3,
                                                                    -1, -1, -1, b, -1, -1, -1, b + 1, -1, -1, -1, b + 2, -1,
                                                                    -1, -1, b + 3, -1, -1, -1))};
        } else
#endif
            return pick_2of4_control_of(static_cast<std::uint32_t>(word_ >> (2 * lanes<A> * j)), A{});
    }

private:
#if XSIMD_WITH_FMA3_AVX2
    __m256i controls_{};
#endif
    std::uint64_t word_ = 0;
};

}  // namespace sieve::kernels
