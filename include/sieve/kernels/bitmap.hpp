// Bitmap GEMV and GEMM: fp32 and int8 weights, and W8A8.
//
// GEMV decodes in register, one step (a 64-bit mask word, or half a word for int8 scale
// groups of 32) at a time: each chunk of L positions takes its L mask bits, expand-loads
// the next popcount values into the kept lanes (AVX-512 a vpermps / pshufb per 8 lanes, AVX2 a
// permute from the rank table, SSE and NEON byte shuffles; isa/helpers.hpp) and FMAs them
// with the activations, the pruned lanes masked off so a pruned position never touches its
// activation. The chunks of a step are unrolled at compile time over four accumulators (no
// branch on the popcount; the value pointer advances by it), the value stream is
// prefetched a few steps ahead, and the activations past the last whole word come from a
// zero-padded copy made once per call. int8: one scale per row multiplies the row's sum;
// with scale groups each chunk's widened weights are multiplied by their group's scale.
// fp32 GEMV on AVX2 packs instead of expanding (bitmap_gemv_packed below): the kept
// activations are compressed next to each other and the values stream against them.
// W8A8 GEMV expands 4 * lanes int8 weights to their dense positions for one int8 dot
// product with the quantized token (zero-padded to whole mask words).
// GEMM walks each step's set bits and does one FMA per panel vector (common.hpp) per kept
// weight (W8A8: one int8 dot product per quad of positions holding a kept weight).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "../formats/bitmap.hpp"
#include "common.hpp"
#include "isa/bitmap_decode.hpp"

namespace sieve::kernels {
namespace detail {

// Bits [k, k + S) of a row's mask (S divides 64 and k is a multiple of S).
template <class A, std::size_t S>
std::uint64_t bitmap_bits(const std::uint64_t* mask, std::size_t k) noexcept {
    const std::uint64_t word = mask[k / bitmap_word_bits];
    if constexpr (S == bitmap_word_bits) return word;
    else return (word >> (k % bitmap_word_bits)) & ((std::uint64_t{1} << S) - 1);
}

// Chunk C of a step: expand its values, scale them (scale(weights, offset of the chunk in
// the step)), FMA with x[C L ..], into acc. Its values start after the step's kept
// positions below it: a popcount of the word's low bits, so no chunk waits on the one
// before (a pointer advanced chunk by chunk chains a popcount and an add per chunk).
template <class A, std::size_t C, class T, class Scale>
void bitmap_chunk(std::uint64_t bits, const T* values, const float* x, vfloat<A>& acc, const Scale& scale) noexcept {
    constexpr std::size_t L = lanes<A>;
    const auto b = static_cast<std::uint32_t>((bits >> (C * L)) & ((std::uint64_t{1} << L) - 1));
    const T* chunk_values = values + __builtin_popcountll(bits & ((std::uint64_t{1} << (C * L)) - 1));
    acc = xsimd::fma(scale(expand_load(chunk_values, b, A{}), C * L),
                     keep_lanes(vfloat<A>::load_unaligned(x + C * L), b, A{}), acc);
}

// One step of S positions, chunk C into acc[C % 4], unrolled by the pack expansion.
// Returns the next step's first value.
template <class A, class T, class Scale, std::size_t... C>
const T* bitmap_step(std::uint64_t bits, const T* values, const float* x, vfloat<A> (&acc)[4], const Scale& scale,
                     std::index_sequence<C...>) noexcept {
    (bitmap_chunk<A, C>(bits, values, x, acc[C % 4], scale), ...);
    return values + __builtin_popcountll(bits);
}

// The values of a view for kernels that load whole vectors from them: an empty matrix may
// come without any (null), which they read as zeros from here instead (64 bytes).
template <class T>
inline constexpr T bitmap_no_values[64 / sizeof(T)] = {};
template <class T>
const T* bitmap_values(const bitmap_view<T>& w) noexcept {
    return w.values != nullptr ? w.values : bitmap_no_values<T>;
}

// Values a GEMV prefetches ahead of the one it expands, two lines per step (a 64-position
// fp32 step at 50% density). 11008x4096 fp32 at 50% on the Xeon VM (AVX-512): one line 1 KiB
// ahead 9.9-10.1 ms, two lines 4 KiB ahead 8.8-8.9 ms, 2 KiB ahead 9.3 ms.
template <class T>
inline constexpr std::size_t bitmap_prefetch_values = 4096 / sizeof(T);

// GEMV with steps of one mask word. int8 weights with scale groups are scaled per chunk of
// L positions (step_scales in common.hpp), so a row is one pass.
template <class A, class T>
void bitmap_gemv(const bitmap_view<T>& w, const float* x, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>, S = bitmap_word_bits;
    const std::size_t K = w.cols, span = w.words * bitmap_word_bits, full = K / bitmap_word_bits * bitmap_word_bits;
    alignas(64) float x_tail[bitmap_word_bits] = {};  // x past the last whole word, zero-padded
    for (std::size_t k = full; k < K; ++k) x_tail[k - full] = x[k];
    alignas(64) float results[L];
    std::size_t pending = 0;
    for (std::size_t m = 0; m < w.rows; ++m) {
        const T* values = bitmap_values(w) + w.row_ptr[m];
        const std::uint64_t* mask = w.mask + m * w.words;
        step_scales<T, 1> scales(w.scales);
        scales.rows[0] = row_scales<T>(w.scales, m);
        vfloat<A> part[4] = {vfloat<A>(0.0f), vfloat<A>(0.0f), vfloat<A>(0.0f), vfloat<A>(0.0f)};
        auto steps = [&](auto scaled) {
            for (std::size_t k = 0; k < span; k += S) {
                __builtin_prefetch(values + bitmap_prefetch_values<T>);
                __builtin_prefetch(values + bitmap_prefetch_values<T> + 64 / sizeof(T));
                const float* xs = k + S <= K ? x + k : x_tail + (k - full);
                const auto scale = [&](vfloat<A> weights, std::size_t offset) {
                    return scales.template apply<decltype(scaled)::value>(weights, 0, k + offset);
                };
                values = bitmap_step<A>(bitmap_bits<A, S>(mask, k), values, xs, part, scale, std::make_index_sequence<S / L>{});
            }
        };
        if (scales.per_step) steps(std::integral_constant<bool, is_int8_weight<T>>{});
        else steps(std::false_type{});
        vfloat<A> sum = (part[0] + part[1]) + (part[2] + part[3]);
        if constexpr (is_int8_weight<T>) sum = sum * vfloat<A>(scales.of_sum(0));
        results[pending++] = reduce_add<A>(sum);
        if (pending == L || m + 1 == w.rows) {
            store_rows<A>(results, pending, m + 1 - pending, y, ep);
            pending = 0;
        }
    }
}

// The packed-x GEMV for fp32 weights on arches with `compress` (AVX2, isa/bitmap_decode.hpp).
// Expanding the values costs a cross-lane vpermps (slow on Zen 3), two table loads and two
// ANDs per chunk; here each chunk's kept activations are packed instead (one vpermps, one
// store) to the end of an L1-resident copy, then a block's values stream against that copy
// with whole-vector FMAs, no lane wasted on a pruned position. Two rows go side by side:
// one x load feeds two independent packing chains (four rows measured slower cold: twice
// the streams and the L1 footprint). int8 weights keep the expand path: widening the packed
// values measured slower there.
inline constexpr std::size_t bitmap_pack_block = 512;  // positions per block: a 2 KiB copy per row
inline constexpr std::size_t bitmap_pack_rows = 2;
// Packing reads no values, so each row's values are prefetched while it packs, two blocks
// ahead at 50% density and two lines (a step's values at 50%) per step.
inline constexpr std::size_t bitmap_pack_prefetch = bitmap_pack_block;

template <class A>
using bitmap_packed_row = float[bitmap_pack_block + lanes<A>];

// Every chunk of a step, for every row of a pass: packs the row's kept activations at
// packed[r] + n[r]. A store writes L lanes; the next chunk's store overwrites those past the
// count. (Counts are the caller's locals, so they stay in registers.)
template <class A, std::size_t R, std::size_t... C>
void bitmap_pack_step(const std::uint64_t (&bits)[R], const float* x, bitmap_packed_row<A>* packed,
                      std::size_t (&n)[R], std::index_sequence<C...>) noexcept {
    constexpr std::size_t L = lanes<A>;
    const auto chunk = [&](std::size_t c) {
        const vfloat<A> xv = vfloat<A>::load_unaligned(x + c * L);
        for (std::size_t r = 0; r < R; ++r) {
            const auto b = static_cast<std::uint32_t>((bits[r] >> (c * L)) & ((std::uint64_t{1} << L) - 1));
            compress(xv, b, A{}).store_unaligned(packed[r] + n[r]);
            n[r] += static_cast<std::size_t>(__builtin_popcount(b));
        }
    };
    (chunk(C), ...);
}

// acc += values[0..n) . packed[0..n); returns values + n. The last partial vector masks
// both sides: past n lie the next row's values and stale lanes of x.
template <class A>
const float* bitmap_dot_packed(const float* values, const float* packed, std::size_t n, vfloat<A>& acc) noexcept {
    constexpr std::size_t L = lanes<A>;
    vfloat<A> part[4] = {vfloat<A>(0.0f), vfloat<A>(0.0f), vfloat<A>(0.0f), vfloat<A>(0.0f)};
    std::size_t i = 0;
    for (; i + 4 * L <= n; i += 4 * L)
        for (std::size_t j = 0; j < 4; ++j)
            part[j] = xsimd::fma(vfloat<A>::load_unaligned(values + i + j * L), vfloat<A>::load_aligned(packed + i + j * L),
                                 part[j]);
    for (; i + L <= n; i += L)
        part[0] = xsimd::fma(vfloat<A>::load_unaligned(values + i), vfloat<A>::load_aligned(packed + i), part[0]);
    if (i < n) {
        const auto keep = static_cast<std::uint32_t>((1u << (n - i)) - 1);
        part[1] = xsimd::fma(keep_lanes(vfloat<A>::load_unaligned(values + i), keep, A{}),
                             keep_lanes(vfloat<A>::load_aligned(packed + i), keep, A{}), part[1]);
    }
    acc += (part[0] + part[1]) + (part[2] + part[3]);
    return values + n;
}

// Rows m0 .. m0 + R into sums[0..R).
template <class A, std::size_t R>
void bitmap_rows_packed(const bitmap_view<float>& w, std::size_t m0, const float* x, const float* x_tail,
                        bitmap_packed_row<A>* packed, float* sums) noexcept {
    constexpr std::size_t L = lanes<A>, S = bitmap_word_bits;
    static_assert(S % L == 0 && bitmap_pack_block % S == 0, "a block is whole words, a word whole chunks");
    const std::size_t K = w.cols, span = w.words * S, full = K / S * S;
    const float* values[R];
    const std::uint64_t* mask[R];
    vfloat<A> acc[R];
    for (std::size_t r = 0; r < R; ++r) {
        values[r] = bitmap_values(w) + w.row_ptr[m0 + r];
        mask[r] = w.mask + (m0 + r) * w.words;
        acc[r] = vfloat<A>(0.0f);
    }
    for (std::size_t block = 0; block < span; block += bitmap_pack_block) {
        const std::size_t block_end = block + bitmap_pack_block < span ? block + bitmap_pack_block : span;
        std::size_t n[R] = {};
        for (std::size_t k = block; k < block_end; k += S) {
            std::uint64_t bits[R];
            for (std::size_t r = 0; r < R; ++r) {
                bits[r] = bitmap_bits<A, S>(mask[r], k);
                const float* ahead = values[r] + n[r] + bitmap_pack_prefetch;
                __builtin_prefetch(ahead);
                __builtin_prefetch(ahead + 64 / sizeof(float));
            }
            bitmap_pack_step<A>(bits, k + S <= K ? x + k : x_tail + (k - full), packed, n, std::make_index_sequence<S / L>{});
        }
        for (std::size_t r = 0; r < R; ++r) values[r] = bitmap_dot_packed<A>(values[r], packed[r], n[r], acc[r]);
    }
    for (std::size_t r = 0; r < R; ++r) sums[r] = reduce_add<A>(acc[r]);
}

template <class A>
void bitmap_gemv_packed(const bitmap_view<float>& w, const float* x, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>, R = bitmap_pack_rows;
    static_assert(L % R == 0, "passes fill whole result vectors");
    const std::size_t K = w.cols, full = K / bitmap_word_bits * bitmap_word_bits;
    alignas(64) float x_tail[bitmap_word_bits] = {};  // x past the last whole word, zero-padded
    for (std::size_t k = full; k < K; ++k) x_tail[k - full] = x[k];
    alignas(64) bitmap_packed_row<A> packed[R];
    alignas(64) float results[L];
    std::size_t m = 0;
    for (; m + L <= w.rows; m += L) {
        for (std::size_t i = 0; i < L; i += R) bitmap_rows_packed<A, R>(w, m + i, x, x_tail, packed, results + i);
        store_rows<A>(results, L, m, y, ep);
    }
    if (m == w.rows) return;
    for (std::size_t i = 0; m + i < w.rows; ++i)  // the leftover rows, one at a time
        bitmap_rows_packed<A, 1>(w, m + i, x, x_tail, packed, results + i);
    store_rows<A>(results, w.rows - m, m, y, ep);
}

// Bits of positions [k, k1) of a row's mask, k1 - k <= 64, k a multiple of k1 - k or the
// start of a word (scale groups are 32 or multiples of 64).
template <class A>
std::uint64_t bitmap_range_bits(const std::uint64_t* mask, std::size_t k, std::size_t k1) noexcept {
    const std::size_t n = k1 - k;
    const std::uint64_t word = mask[k / bitmap_word_bits] >> (k % bitmap_word_bits);
    return n >= bitmap_word_bits ? word : word & ((std::uint64_t{1} << n) - 1);
}

}  // namespace detail

template <class A, class T>
void gemv(const bitmap_view<T>& w, const float* x, float* y, const epilogue& ep) noexcept {
    if constexpr (has_compress<A> && !is_int8_weight<T>) {
        detail::bitmap_gemv_packed<A>(w, x, y, ep);
    } else {
        detail::bitmap_gemv<A>(w, x, y, ep);
    }
}

template <class A, class T>
void gemm(const bitmap_view<T>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    const std::size_t span = w.words * bitmap_word_bits;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count, auto width) {
        constexpr std::size_t P = decltype(width)::value;
        for (std::size_t m = 0; m < w.rows; ++m) {
            const T* values = w.values + w.row_ptr[m];
            const std::uint64_t* mask = w.mask + m * w.words;
            const row_scales<T> scales(w.scales, m);
            panel_acc<A, P> acc;
            for (std::size_t k0 = 0, k1; k0 < span; k0 = k1) {  // one pass per scale group
                k1 = scales.group_end(k0, span);
                panel_acc<A, P> part0, part1;  // kept weights alternate: twice the FMA chains
                for (std::size_t k = k0; k < k1; k += bitmap_word_bits) {
                    const std::size_t end = k + bitmap_word_bits < k1 ? k + bitmap_word_bits : k1;
                    std::uint64_t bits = detail::bitmap_range_bits<A>(mask, k, end);
                    const float* step_panel = panel + k * P;
                    while (bits != 0) {
                        part0.add(static_cast<float>(*values++), step_panel + static_cast<std::size_t>(__builtin_ctzll(bits)) * P);
                        bits &= bits - 1;
                        if (bits == 0) break;
                        part1.add(static_cast<float>(*values++), step_panel + static_cast<std::size_t>(__builtin_ctzll(bits)) * P);
                        bits &= bits - 1;
                    }
                }
                part0.add(part1);
                if constexpr (is_int8_weight<T>) acc.add_scaled(part0, scales.at(k0));
                else acc = part0;
            }
            store_column<A>(acc, m, n0, count, y, ep);
        }
    });
}

template <class A>
void gemv_w8a8(const bitmap_view<std::int8_t>& w, const float* x, float* y, const epilogue& ep,
               std::int8_t* scratch) noexcept {
    constexpr std::size_t B = vbyte<A>::size;
    const std::size_t K = w.cols, span = w.words * bitmap_word_bits;
    w8a8_row_store<A> out{quantize_vector<A>(x, K, scratch), y, ep};
    const w8a8_row_flush<A> flush(w.scales.group);
    for (std::size_t m = 0; m < w.rows; ++m) {
        const std::int8_t* values = detail::bitmap_values(w) + w.row_ptr[m];
        const std::uint64_t* mask = w.mask + m * w.words;
        const row_scales<std::int8_t> scales(w.scales, m);
        w8a8_acc<A> acc;
        std::size_t steps = 0, k_flush = 0;
        for (std::size_t k = 0; k < span; k += B) {  // span = K rounded up to 64: scratch is zero there
            const std::uint64_t bits = detail::bitmap_bits<A, B>(mask, k);
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
void gemm_w8a8(const bitmap_view<std::int8_t>& w, matrix_view<const float> x, matrix_view<float> y,
               const epilogue& ep, float* workspace) noexcept {
    constexpr std::size_t B = vbyte<A>::size;
    const std::size_t span = w.words * bitmap_word_bits;
    for_each_w8a8_panel<A>(x, y, ep, workspace, [&](const std::int8_t* panel, auto&& store) {
        for (std::size_t m = 0; m < w.rows; ++m) {
            const std::int8_t* values = w.values + w.row_ptr[m];
            const std::uint64_t* mask = w.mask + m * w.words;
            const row_scales<std::int8_t> scales(w.scales, m);
            w8a8_acc<A> acc;
            std::size_t group_start = 0, quads_since_flush = 0;
            for (std::size_t k = 0; k < span; k += B) {
                // The weights of B positions made dense, then one dot product per nonzero quad.
                const std::uint64_t bits = detail::bitmap_bits<A, B>(mask, k);
                if (bits == 0) continue;
                alignas(64) std::int8_t dense[B];
                expand_bytes(values, bits, A{}).store_aligned(dense);
                values += __builtin_popcountll(bits);
                // Bit 4q set when quad q holds a kept weight: the loop visits those alone, with
                // no branch per empty quad to mispredict.
                std::uint64_t quads = (bits | bits >> 1 | bits >> 2 | bits >> 3) & 0x1111111111111111ull;
                for (; quads != 0; quads &= quads - 1) {
                    const auto offset = static_cast<std::size_t>(__builtin_ctzll(quads));  // 4 q
                    const std::size_t kq = k + offset;
                    if (scales.group_end(group_start, kq + 1) <= kq || quads_since_flush == 8192) {
                        acc.flush(scales.at(group_start));  // kq starts a new scale group
                        group_start = kq;
                        quads_since_flush = 0;
                    }
                    acc.part = dot_i8(acc.part, broadcast_quad<A>(dense + offset),
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
