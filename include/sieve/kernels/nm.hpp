// N:M GEMV and GEMM for every pattern with one body: fp32 and int8 weights, and W8A8.
//
// The metadata is an M-bit mask per group packed as a bitstream, so the mask of any L
// consecutive positions is L consecutive bits: GEMV takes one vector of x positions at a
// time, expands the next popcount values into the kept lanes (AVX-512 a vpermps or pshufb per
// 8 lanes, AVX2 a permute from prefix popcounts, SSE and NEON byte shuffles) and
// multiplies by x with the pruned lanes masked off, so a pruned position never touches its
// activation. 2:4 takes the other way round (every group keeps exactly two): the activations
// at the kept positions are picked (isa/compress.hpp: in-lane shuffles, AVX-512 one
// two-source permute) and meet L contiguous values per FMA. Rows run side by side (gemv_rows), each prefetched ahead (into the next
// block's rows near their ends). int8: one scale per row multiplies the row's sums; with
// scale groups each step's widened weights are multiplied by their group's scale (a group
// is a multiple of the step, so steps never straddle two) and a row is one pass.
// W8A8 GEMV expands 4 * lanes int8 weights to their dense positions (AVX-512 VBMI2
// vpexpandb, else a pshufb / tbl per 16 positions) for one int8 dot product with the
// quantized token; pruned positions hold weight 0 and the token is finite.
// GEMM walks each group's set bits and does one FMA per panel vector per kept weight, four
// rows at a time; 2:4 reads the positions of full words from a table instead. On AVX-512 a
// few tokens past whole 32-token tiles run as one GEMV of 4 or 8 tokens (few_tokens).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "../formats/nm.hpp"
#include "common.hpp"
#include "isa/compress.hpp"

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

// `count` (8, 16, 32 or 64) metadata bits from position k (a multiple of 8) of a row, in one
// little-endian load: rows are padded to 8 bytes and k + count stays within the row.
template <class A>
std::uint64_t meta_bits(const std::uint8_t* meta, std::size_t k, std::size_t count) noexcept {
    std::uint64_t bits = 0;
    std::memcpy(&bits, meta + k / 8, count / 8);
    return bits;
}

// How far ahead of each row's metadata GEMV prefetches (its values: row_prefetch_distance<RB>):
// the rows are walked side by side, one stream each, which the hardware prefetchers follow
// less eagerly than one long stream.
inline constexpr std::size_t prefetch_meta_bytes = 256;

// The activations of NT tokens, interleaved in blocks of 32 positions (one token's block
// after another's), so that a step's loads of every token sit at fixed offsets from one
// pointer, in consecutive cache lines. One token is the plain vector.
inline constexpr std::size_t token_block = 32;
template <std::size_t NT>
constexpr std::size_t token_offset(std::size_t t, std::size_t k) noexcept {
    if constexpr (NT == 1) return (void)t, k;
    else return k / token_block * (NT * token_block) + t * token_block + k % token_block;
}

// Whole 64-bit metadata words of RB 2:4 rows from position `at` (a multiple of 64) up to
// `end`: per row and step of 2L positions, one control and one load of L values serve every
// token. Returns where it stopped. Every group of a valid 2:4 view keeps exactly two
// (validate(); packing fills short groups with explicit zeros), so no word is checked: a view
// that breaks the rule sums the wrong products but never reads outside its arrays (L values
// and 2L bits per step, picks in register). The accumulators stay in registers for the whole
// run; each (row, token) one takes its steps in order, whatever RB.
//
// The loop addresses each row from its start and one shared position, and AVX-512 broadcasts
// each step's metadata straight from memory: per-row value and metadata pointers, a popcount
// check per word and the word in a general register spilled the loop's state (16 GPRs) and
// bound the one-token int8 GEMV by scalar instructions, 2.5 ns per 16 kept weights hot.
//
// Scaled: int8 weights with scale groups, scaled per step (step_scales); a template
// argument, as a test per step in this loop cost the per-row int8 GEMV 15%.
template <class A, std::size_t RB, std::size_t NT, bool Scaled, class T>
std::size_t two_of_four_words(const nm_view<T>& w, const float* x, std::size_t at, std::size_t end,
                              const std::uint8_t* const (&meta)[RB], const T* (&values)[RB],
                              const step_scales<T, RB>& scales, vfloat<A> (&part)[RB * NT]) noexcept {
    constexpr std::size_t L = lanes<A>, steps = 64 / (2 * L);
    vfloat<A> acc[RB * NT];
    unrolled<RB * NT>([&](auto i) { acc[i] = part[i]; });
    const T* row[RB];  // a 2:4 row holds the value of position k at k / 2
    unrolled<RB>([&](auto r) { row[r] = values[r] - at / 2; });
    const std::size_t row_bytes = w.values_ld * sizeof(T);
    for (; at + 64 <= end; at += 64) {
        // Ahead in each row's values and metadata. Not in a lambda: GCC deems a function of
        // nothing but prefetches free of side effects and drops the calls to it.
        for (std::size_t r = 0; r < RB; ++r) {
            prefetch_row_ahead(row[r], at / 2 * sizeof(T), row_prefetch_distance<RB>, 32 * sizeof(T), row_bytes, row_bytes, RB);
            prefetch_row_ahead(meta[r], at / 8, prefetch_meta_bytes, 1, w.meta_ld, w.meta_ld, RB);
        }
        const float* xw = x + token_offset<NT>(0, at);
        if constexpr (arranges_2of4<A>) {
            // AVX2: each token's activations are arranged once into an aligned buffer; then
            // each row builds its picks and runs its steps (every row's picks at once need
            // more than AVX2's 16 vector registers).
            alignas(64) float arranged[NT][2 * steps][L];
            unrolled<NT>([&](auto t) {
                unrolled<steps>([&](auto j) {
                    const float* xj = xw + token_offset<NT>(t, 2 * L * j);
                    const two_of_four_x<A> xs =
                        arrange_2of4(vfloat<A>::load_unaligned(xj), vfloat<A>::load_unaligned(xj + L), A{});
                    xs.even.store_aligned(arranged[t][2 * j]);
                    xs.odd.store_aligned(arranged[t][2 * j + 1]);
                });
            });
            unrolled<RB>([&](auto r) {
                const two_of_four_word_picks<A> picks(meta_bits<A>(meta[r], at, 64));
                unrolled<steps>([&](auto j) {
                    const pick_2of4_control<A> control = picks.template control<decltype(j)::value>();
                    const vfloat<A> wv = scales.template apply<Scaled>(load_weights(row[r] + at / 2 + j * L, A{}), r, at + 2 * L * j);
                    unrolled<NT>([&](auto t) {
                        const two_of_four_x<A> xs{vfloat<A>::load_aligned(arranged[t][2 * j]),
                                                  vfloat<A>::load_aligned(arranged[t][2 * j + 1])};
                        acc[r * NT + t] = xsimd::fma(wv, kernels::pick_2of4(xs, control, A{}), acc[r * NT + t]);
                    });
                });
            });
        } else {
            // AVX-512 picks straight from two vectors of activations, and its 32 registers
            // hold every row's and token's accumulators: step by step, each token's
            // activations are loaded once for all RB rows (once per row, 8 tokens' reads
            // bound the GEMM by the L2).
            unrolled<steps>([&](auto j) {
                constexpr std::size_t first = decltype(j)::value * 2 * L;
                pick_2of4_control<A> control[RB];
                vfloat<A> wv[RB];
                unrolled<RB>([&](auto r) {
                    control[r] = pick_2of4_control_of(static_cast<std::uint32_t>(meta_bits<A>(meta[r], at + first, 2 * L)), A{});
                    wv[r] = scales.template apply<Scaled>(load_weights(row[r] + (at + first) / 2, A{}), r, at + first);
                });
                unrolled<NT>([&](auto t) {
                    const float* xj = xw + token_offset<NT>(t, first);
                    const two_of_four_x<A> xs{vfloat<A>::load_unaligned(xj), vfloat<A>::load_unaligned(xj + L)};
                    unrolled<RB>([&](auto r) {
                        acc[r * NT + t] = xsimd::fma(wv[r], kernels::pick_2of4(xs, control[r], A{}), acc[r * NT + t]);
                    });
                });
            });
        }
    }
    unrolled<RB * NT>([&](auto i) { part[i] = acc[i]; });
    unrolled<RB>([&](auto r) { values[r] = row[r] + at / 2; });
    return at;
}

// Rows a GEMV walks side by side: each row is two streams (values and metadata). Four rows
// measured 10-60% slower than two on Zen 3 (AVX2 fp32, SSE fp32 and int8; AVX2 int8 within
// noise), the streams outrunning the prefetchers; AVX-512 reached the read bandwidth with
// four int8 rows (Xeon, Zen 5). Its one-token fp32 GEMV walks one row: 11008x4096 on Zen 5,
// cold, 2:4 3.9 ms with four rows, 3.6 with two, 2.8 with one (1:4 3.3 -> 2.9 ms, 4:8 3.9 ->
// 3.2 ms), where its four 8 KiB rows of values stream at 30 GB/s against dense's 36. With NT
// tokens (AVX-512 only, at most four: few_token_gemm), the RB x NT accumulators and a control
// and a vector of values per row fit its 32 registers with four rows.
template <class A, std::size_t NT, class T>
inline constexpr std::size_t gemv_rows = !is_avx512<A> ? (NT == 1 ? 2 : 1) : NT == 1 && !is_int8_weight<T> ? 1 : 4;

// The GEMV of NT tokens at once over rows [mb, me), their activations x laid out by
// token_offset<NT>: y[t][m] for t < stored (the tokens past `stored` are padding, never
// stored). The weights stream once for all the tokens; each token's products are summed in
// an order fixed by NT alone.
template <class A, std::size_t NT, class T>
void nm_gemv(const nm_view<T>& w, const float* x, float* const (&y)[NT], std::size_t stored, const epilogue& ep,
             std::size_t mb, std::size_t me) noexcept {
    static_assert(NT <= 4, "four rows of up to four tokens fill the 32 vector registers");
    constexpr std::size_t L = lanes<A>, RB = gemv_rows<A, NT, T>;
    const auto x_at = [x](std::size_t t, std::size_t k) { return x + token_offset<NT>(t, k); };
    const std::size_t K = w.cols, span = w.groups * w.pattern.m, k_main = K / L * L;
    constexpr std::size_t word_steps = 64 / (2 * L);  // steps of 2L positions per 64-bit metadata word
    constexpr std::uint64_t lane_mask = (std::uint64_t{1} << L) - 1;
    [[maybe_unused]] const bool two_of_four = w.pattern.n == 2 && w.pattern.m == 4;
    alignas(64) float results[NT][L];
    std::size_t pending = 0, m_first = 0;
    const auto flush = [&] {
        for (std::size_t t = 0; t < stored; ++t) store_rows<A>(results[t], pending, m_first, y[t], ep);
        pending = 0;
    };
    for (std::size_t m0 = mb; m0 < me; m0 += RB) {
        // RB rows side by side: RB weight streams in flight, and each x vector (and its 2:4
        // compression) serves every row. A short last block repeats row m0, never stored.
        const std::size_t nr = me - m0 < RB ? me - m0 : RB;
        const T* values[RB];
        const T* row_first[RB];
        const std::uint8_t* meta[RB];
        step_scales<T, RB> scales(w.scales);
        vfloat<A> part[RB * NT];  // row r, token t at r * NT + t
        for (std::size_t r = 0; r < RB; ++r) {
            const std::size_t m = m0 + (r < nr ? r : 0);
            values[r] = row_first[r] = w.values + m * w.values_ld;
            meta[r] = w.meta + m * w.meta_ld;
            scales.rows[r] = row_scales<T>(w.scales, m);
            for (std::size_t t = 0; t < NT; ++t) part[r * NT + t] = vfloat<A>(0.0f);
        }
        // Steps of 2L positions for row r from `word` (its metadata from position at):
        // 2:4 takes L packed values against L picked activations per step; any other
        // pattern expands the values into their lanes.
        auto row_steps = [&](std::size_t r, std::size_t at, std::uint64_t word, std::size_t steps,
                             [[maybe_unused]] const two_of_four_x<A> (*picked)[word_steps]) {
            {
                // Ahead in the row's values and metadata, as in two_of_four_words (against
                // 1 KiB ahead in the values alone: 1:4 fp32 16384x4096 cold 10.8 -> 9.0 ms).
                const std::size_t done = static_cast<std::size_t>(values[r] - row_first[r]) * sizeof(T);
                const std::size_t row_bytes = w.values_ld * sizeof(T);
                prefetch_row_ahead(row_first[r], done, row_prefetch_distance<RB>, __builtin_popcountll(word) * sizeof(T), row_bytes,
                                   row_bytes, RB);
                if (at % 512 == 0) prefetch_row_ahead(meta[r], at / 8, prefetch_meta_bytes, 1, w.meta_ld, w.meta_ld, RB);
            }
            if constexpr (has_compress_2of4<A>) {
                if (two_of_four) {
                    for (std::size_t j = 0; j < steps; ++j) {
                        const vfloat<A> wv = scales.apply(load_weights(values[r] + j * L, A{}), r, at + 2 * L * j);
                        const pick_2of4_control<A> control =
                            pick_2of4_control_of(static_cast<std::uint32_t>(word >> (2 * L * j)), A{});
                        for (std::size_t t = 0; t < NT; ++t)
                            part[r * NT + t] = xsimd::fma(wv, kernels::pick_2of4(picked[t][j], control, A{}), part[r * NT + t]);
                    }
                    values[r] += steps * L;
                    return;
                }
            }
            // AVX-512: each chunk's values start at a popcount of the word's lower bits (as in
            // the bitmap GEMV), so no chunk waits on the pointer advanced by the one before.
            // Narrower arches take 8 or 16 chunks per word and keep the chain: the masks and
            // popcounts measured slower there (AVX2 1:4 in L2: 104 -> 168 us).
            [[maybe_unused]] const T* chained = values[r];
            const auto chunk_values = [&](std::size_t bit, [[maybe_unused]] std::uint32_t bits) {
                if constexpr (L >= 16) {
                    return values[r] + __builtin_popcountll(word & ((std::uint64_t{1} << bit) - 1));
                } else {
                    const T* first = chained;
                    chained += __builtin_popcount(bits);
                    return first;
                }
            };
            for (std::size_t j = 0; j < steps; ++j) {
                const std::size_t bit = 2 * L * j;
                const auto b0 = static_cast<std::uint32_t>(word >> bit & lane_mask);
                const auto b1 = static_cast<std::uint32_t>(word >> (bit + L) & lane_mask);
                const vfloat<A> w0 = scales.apply(expand_load(chunk_values(bit, b0), b0, A{}), r, at + 2 * L * j);
                const vfloat<A> w1 = scales.apply(expand_load(chunk_values(bit + L, b1), b1, A{}), r, at + 2 * L * j);
                for (std::size_t t = 0; t < NT; ++t) {
                    const float* xj = x_at(t, at + 2 * L * j);
                    part[r * NT + t] = xsimd::fma(w0, keep_lanes(vfloat<A>::load_unaligned(xj), b0, A{}), part[r * NT + t]);
                    part[r * NT + t] = xsimd::fma(w1, keep_lanes(vfloat<A>::load_unaligned(xj + L), b1, A{}), part[r * NT + t]);
                }
            }
            values[r] += __builtin_popcountll(word);  // the word holds exactly the steps' bits
        };
        // Whole 64-bit metadata words first (one load per row and word),
        // then single steps.
        auto steps_of = [&](std::size_t at, std::size_t steps, std::size_t bits_per_row) {
            std::uint64_t word[RB];
            for (std::size_t r = 0; r < RB; ++r) word[r] = detail::meta_bits<A>(meta[r], at, bits_per_row);
            two_of_four_x<A> picked[NT][word_steps];
            if constexpr (has_compress_2of4<A>) {
                if (two_of_four)
                    for (std::size_t t = 0; t < NT; ++t)
                        for (std::size_t j = 0; j < steps; ++j) {
                            const float* xj = x_at(t, at + 2 * L * j);
                            picked[t][j] = arrange_2of4(vfloat<A>::load_unaligned(xj),
                                                        vfloat<A>::load_unaligned(xj + L), A{});
                        }
            }
            unrolled<RB>([&](auto r) { row_steps(r, at, word[r], steps, picked); });
        };
        // 2:4 runs whole words in registers; other patterns take the general steps.
        std::size_t k = 0;
        if constexpr (has_compress_2of4<A>)
            if (two_of_four)
                k = scales.per_step ? two_of_four_words<A, RB, NT, is_int8_weight<T>>(w, x, k, k_main, meta, values, scales, part)
                                    : two_of_four_words<A, RB, NT, false>(w, x, k, k_main, meta, values, scales, part);
        for (; k + 64 <= k_main; k += 64) steps_of(k, word_steps, 64);
        for (; k + 2 * L <= k_main; k += 2 * L) steps_of(k, 1, 2 * L);
        for (; k < span; k += L) {  // single vectors, then the tail
            const bool tail = k + L > K;  // through a zero-padded copy: nothing past K is read
            vfloat<A> xv[NT];
            for (std::size_t t = 0; t < NT; ++t) {
                alignas(64) float x_chunk[L] = {};
                for (std::size_t i = 0; tail && i < L && k + i < K; ++i) x_chunk[i] = *x_at(t, k + i);
                xv[t] = tail ? vfloat<A>::load_aligned(x_chunk) : vfloat<A>::load_unaligned(x_at(t, k));
            }
            for (std::size_t r = 0; r < RB; ++r) {
                std::uint32_t bits = 0;
                if (!tail) {
                    bits = static_cast<std::uint32_t>(detail::chunk_bits<A, L>(meta[r], k));
                } else {
                    for (std::size_t i = 0; i < L && k + i < span; ++i)
                        bits |= static_cast<std::uint32_t>(meta[r][(k + i) / 8] >> ((k + i) % 8) & 1u) << i;
                }
                const vfloat<A> wv = scales.apply(expand_load(values[r], bits, A{}), r, k);
                values[r] += __builtin_popcount(bits);
                for (std::size_t t = 0; t < NT; ++t) part[r * NT + t] = xsimd::fma(wv, keep_lanes(xv[t], bits, A{}), part[r * NT + t]);
            }
        }
        for (std::size_t r = 0; r < nr; ++r) {
            if (pending == 0) m_first = m0 + r;
            for (std::size_t t = 0; t < NT; ++t) {
                vfloat<A> sum = part[r * NT + t];
                if constexpr (is_int8_weight<T>) sum = sum * vfloat<A>(scales.of_sum(r));
                results[t][pending] = reduce_add<A>(sum);
            }
            if (++pending == L) flush();
        }
    }
    if (pending != 0) flush();
}

}  // namespace detail

template <class A, class T>
void gemv(const nm_view<T>& w, const float* x, float* y, const epilogue& ep) noexcept {
    float* const ys[1] = {y};
    detail::nm_gemv<A, 1>(w, x, ys, 1, ep, 0, w.rows);
}

// At most `few_tokens` tokens (decode of a small batch, draft tokens) run the GEMV of 4
// tokens at once (5 to 8: two groups of 4, few_token_gemm), padded with zero tokens, where
// one instruction picks a step's kept activations (AVX-512's vpermt2ps): per 2L positions
// one load of L values and, per token, one permute and one FMA on L lanes. The panel
// instead costs a broadcast and an FMA per kept weight and token lane. 11008x4096 2:4 on the
// 2-core Xeon VM (AVX-512), N = 8 (then eight at once): fp32 23.9 -> 16.2 ms, int8 28.7 ->
// 13.8 ms (N = 4 fp32: 41 -> 10 ms). AVX2's picks take three shuffles per token and step,
// and 8 tokens measured 2.5x slower than the panel there, so other arches keep it.
inline constexpr std::size_t few_tokens = 8;
template <class A>
inline constexpr bool few_token_gemv = is_avx512<A>;

namespace detail {

// Eight tokens run as two groups of four over each block of few_token_rows rows: the first
// group reads the block's weights from DRAM, the second from L2. Eight tokens' activations
// at once (128 KiB at K = 4096) are far more than L1 and came from L2 again for every two
// rows: 11008x4096 2:4 fp32 on Zen 5, N = 8, 12.3 ms against 3.7 for N = 4.
inline constexpr std::size_t few_token_group = 4, few_token_rows = 64;

template <class A, std::size_t NT, class T>
void few_token_gemm(const nm_view<T>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
                    float* workspace) noexcept {
    // Each group's tokens are copied into the workspace interleaved (token_offset), padding zero.
    static_assert(NT <= max_panel_width, "NT tokens of K rounded up to 32 fit the workspace");
    constexpr std::size_t G = NT < few_token_group ? NT : few_token_group, groups = NT / G;
    static_assert(NT % G == 0, "whole groups");
    const std::size_t padded = (x.cols + token_block - 1) / token_block * token_block;
    float* ys[groups][G];
    const float* xs[groups];
    std::size_t stored[groups];
    for (std::size_t g = 0; g < groups; ++g) {
        float* to_group = workspace + g * G * padded;
        xs[g] = to_group;
        stored[g] = x.rows > g * G ? (x.rows - g * G < G ? x.rows - g * G : G) : 0;
        for (std::size_t t = 0; t < G; ++t) {
            const std::size_t n = g * G + t;
            ys[g][t] = y.row(n < x.rows ? n : 0);
            for (std::size_t k = 0; k < x.cols; k += token_block) {
                const std::size_t count = x.cols - k < token_block ? x.cols - k : token_block;
                float* to = to_group + token_offset<G>(t, k);
                if (n < x.rows) std::memcpy(to, x.row(n) + k, count * sizeof(float));
                else std::memset(to, 0, count * sizeof(float));
            }
        }
    }
    const std::size_t block = groups == 1 ? w.rows : few_token_rows;
    for (std::size_t mb = 0; mb < w.rows; mb += block) {
        const std::size_t me = w.rows - mb < block ? w.rows : mb + block;
        for (std::size_t g = 0; g < groups; ++g)
            if (stored[g] != 0) nm_gemv<A, G>(w, xs[g], ys[g], stored[g], ep, mb, me);
    }
}

template <class A>
inline constexpr bool two_of_four_blocked = k_blocked_gemm<A>;

// The 2:4 GEMM of many tokens on AVX-512, K-blocked (for_each_blocked_panel, common.hpp): a
// kept weight costs one broadcast and V FMAs from the panel row of its position, found with
// tzcnt in the row's metadata word; 64 positions are one word. 11008x4096 fp32, 128 tokens,
// on the Cascade Lake VM (a standalone loop): 120 ms with the 32-token panel walking all of
// K, 160 ms with 64 tokens, 84 ms blocked. The sums of a (row, token) run in K order for any
// V, so fp32 gets the panel path's bits. int8 weights are widened once per word and
// dequantized per scale group (32 positions, or the whole word).
// Rows [mb, me) over all of K: row m's sums end at sums + (m - mb) * P.
template <class A, std::size_t V, class T>
void two_of_four_row_block(const nm_view<T>& w, const float* panel, float* sums, std::size_t mb,
                           std::size_t me) noexcept {
    constexpr std::size_t L = lanes<A>, P = V * L, RB = 4;
    static_assert(kblock_rows % RB == 0, "a block's padding rows keep to its own sums");
    const std::size_t K = w.cols, span = w.groups * 4;
    for (std::size_t at = 0; at < K; at += 64) {
        const float* slice = panel + at * P;
        const bool whole = at + 64 <= K;
        for (std::size_t m0 = mb; m0 < me; m0 += RB) {
            // RB rows side by side (a short last block repeats row m0, its sums unused).
            const T* values[RB];
            std::uint64_t word[RB];
            row_scales<T> scales[RB];
            for (std::size_t r = 0; r < RB; ++r) {
                const std::size_t m = m0 + r < me ? m0 + r : m0;
                values[r] = w.values + m * w.values_ld + at / 2;
                const std::uint8_t* meta = w.meta + m * w.meta_ld + at / 8;
                word[r] = meta_bits<A>(w.meta + m * w.meta_ld, at, 64);
                scales[r] = row_scales<T>(w.scales, m);
                // The row's next word is read when the block comes back: on its way by then.
                __builtin_prefetch(values[r] + 32, 0, 2);
                if constexpr (sizeof(T) == 4) __builtin_prefetch(values[r] + 48, 0, 2);
                __builtin_prefetch(meta + 8, 0, 2);
            }
            if (!whole) {  // the last, partial word: positions from K on are not taken
                const std::uint64_t below_k = (std::uint64_t{1} << (K - at)) - 1;
                for (std::size_t r = 0; r < RB; ++r) word[r] &= below_k;
            }
            float* block_sums = sums + (m0 - mb) * P;
            alignas(64) float widened[RB][is_int8_weight<T> ? 32 : 1];
            if constexpr (is_int8_weight<T>) {
                for (std::size_t r = 0; r < RB; ++r) {
                    alignas(16) std::int8_t copy[32] = {};
                    const std::int8_t* from = values[r];
                    if (!whole) from = static_cast<const std::int8_t*>(std::memcpy(copy, from, (span - at) / 2));
                    load_weights(from, A{}).store_aligned(widened[r]);
                    load_weights(from + 16, A{}).store_aligned(widened[r] + 16);
                }
            }
            auto weight = [&](std::size_t r, std::size_t i) {
                if constexpr (is_int8_weight<T>) return vfloat<A>(widened[r][i]);
                else return vfloat<A>(values[r][i]);
            };
            vfloat<A> acc[RB * V];  // fp32: the sums; int8: one scale group's part
            auto start = [&](bool from_zero) {
                unrolled<RB * V>([&](auto i) {
                    acc[i] = from_zero ? vfloat<A>(0.0f) : vfloat<A>::load_aligned(block_sums + i * L);
                });
            };
            // Kept weights [i0, i1) of the word's walk, every row at each step.
            auto walk = [&](std::size_t i0, std::size_t i1) {
                for (std::size_t i = i0; i < i1; ++i)
                    unrolled<RB>([&](auto r) {
                        const float* row_x = slice + std::size_t{static_cast<unsigned>(__builtin_ctzll(word[r]))} * P;
                        SIEVE_IN_REGISTER(row_x);
                        word[r] &= word[r] - 1;
                        const vfloat<A> wv = weight(r, i);
                        unrolled<V>([&](auto j) {
                            acc[r * V + j] = xsimd::fma(wv, vfloat<A>::load_aligned(row_x + j * L), acc[r * V + j]);
                        });
                    });
            };
            // The partial word: one row at a time, as long as its bits last.
            auto walk_rest = [&](std::size_t i0, std::size_t i1) {
                unrolled<RB>([&](auto r) {
                    for (std::size_t i = i0; i < i1 && word[r] != 0; ++i, word[r] &= word[r] - 1) {
                        const float* row_x = slice + static_cast<std::size_t>(__builtin_ctzll(word[r])) * P;
                        const vfloat<A> wv = weight(r, i);
                        unrolled<V>([&](auto j) {
                            acc[r * V + j] = xsimd::fma(wv, vfloat<A>::load_aligned(row_x + j * L), acc[r * V + j]);
                        });
                    }
                });
            };
            const std::size_t kept = whole ? 32 : (span - at) / 2;
            if constexpr (!is_int8_weight<T>) {
                start(at == 0);
                if (whole) walk(0, kept);
                else walk_rest(0, kept);
            } else {
                // Scale groups of 32 positions hold 16 kept weights each; longer ones span
                // the word. Each group's part joins the sums once.
                const std::size_t piece = scales[0].group_end(at, span) - at >= 64 ? 32 : 16;
                for (std::size_t i0 = 0; i0 < kept; i0 += piece) {
                    const std::size_t i1 = i0 + piece < kept ? i0 + piece : kept;
                    if (!whole && i0 != 0)  // drop the bits of the first group
                        for (std::size_t r = 0; r < RB; ++r) word[r] &= ~std::uint64_t{0} << 32;
                    start(true);
                    if (whole) walk(i0, i1);
                    else walk_rest(i0, i1);
                    unrolled<RB>([&](auto r) {
                        const vfloat<A> scale(scales[r].at(at + 2 * i0));
                        unrolled<V>([&](auto j) {
                            float* to = block_sums + (r * V + j) * L;
                            const vfloat<A> before = at == 0 && i0 == 0 ? vfloat<A>(0.0f) : vfloat<A>::load_aligned(to);
                            acc[r * V + j] = xsimd::fma(acc[r * V + j], scale, before);
                        });
                    });
                    unrolled<RB * V>([&](auto i) { acc[i].store_aligned(block_sums + i * L); });
                }
                continue;
            }
            unrolled<RB * V>([&](auto i) { acc[i].store_aligned(block_sums + i * L); });
        }
    }
}

}  // namespace detail

template <class A, class T>
void gemm(const nm_view<T>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    if constexpr (few_token_gemv<A>) {
        // The tokens past whole tiles, when few, take the few-token GEMV. The choice is made
        // per token tile, as the partition cuts the tokens, so it is the same for every
        // thread count and the results stay bitwise identical.
        const std::size_t whole = x.rows / token_tile * token_tile, rest = x.rows - whole;
        if (rest != 0 && rest <= few_tokens) {
            const matrix_view<const float> xr{x.row(whole), rest, x.cols, x.ld};
            const matrix_view<float> yr{y.row(whole), rest, y.cols, y.ld};
            if (rest == 1) kernels::gemv<A, T>(w, xr.row(0), yr.row(0), ep);
            else if (rest <= 4) detail::few_token_gemm<A, 4>(w, xr, yr, ep, workspace);
            else detail::few_token_gemm<A, 8>(w, xr, yr, ep, workspace);
            x.rows = y.rows = whole;
            if (whole == 0) return;
        }
    }
    if constexpr (detail::two_of_four_blocked<A>) {
        if (w.pattern.n == 2 && w.pattern.m == 4) {
            blocked_gemm_tiles<A>(w.rows, x, y, ep, workspace,
                                  [&](const float* panel, float* sums, std::size_t mb, std::size_t me, auto vectors) {
                                      detail::two_of_four_row_block<A, decltype(vectors)::value>(w, panel, sums, mb, me);
                                  });
            if (x.rows == 0) return;
        }
    }
    constexpr std::size_t RB = 4;
    const std::size_t K = w.cols, M_group = w.pattern.m, full_groups = K / M_group;
    const bool two_of_four = w.pattern.n == 2 && w.pattern.m == 4;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count, auto width) {
        constexpr std::size_t P = decltype(width)::value;
        for (std::size_t m0 = 0; m0 < w.rows; m0 += RB) {
            // RB rows side by side: RB independent FMA chains per panel vector. A short last block
            // repeats row m0, never stored.
            const std::size_t nr = w.rows - m0 < RB ? w.rows - m0 : RB;
            const T* values[RB];
            const std::uint8_t* meta[RB];
            row_scales<T> scales[RB];
            panel_acc<A, P> acc[RB];
            for (std::size_t r = 0; r < RB; ++r) {
                const std::size_t m = m0 + (r < nr ? r : 0);
                values[r] = w.values + m * w.values_ld;
                meta[r] = w.meta + m * w.meta_ld;
                scales[r] = row_scales<T>(w.scales, m);
            }
            // N:M groups [g0, g1) share one scale: their products join the row's sum once.
            for (std::size_t g0 = 0, g1; g0 < w.groups; g0 = g1) {
                g1 = scales[0].group_end(g0 * M_group, w.groups * M_group) / M_group;
                const std::size_t g1_full = g1 < full_groups ? g1 : full_groups;
                panel_acc<A, P> part[RB];
                // Row r's groups [ga, gb): one product per set bit.
                auto walk = [&](std::size_t r, std::size_t ga, std::size_t gb) {
                    for (std::size_t g = ga; g < gb; ++g) {
                        const float* group_panel = panel + g * M_group * P;
                        for (std::uint32_t bits = nm_group_mask(meta[r], g, static_cast<std::uint32_t>(M_group)); bits != 0;
                             bits &= bits - 1)
                            part[r].add(static_cast<float>(*values[r]++),
                                        group_panel + static_cast<std::size_t>(__builtin_ctz(bits)) * P);
                    }
                };
                std::size_t g = g0;
                // 2:4, 16 groups (one 64-bit metadata word per row) at a time: every group
                // keeps two (validate()), so the positions come from a table, four per
                // metadata byte, with no branch per weight.
                for (; two_of_four && g + 16 <= g1_full; g += 16) {
                    std::uint64_t word[RB];
                    for (std::size_t r = 0; r < RB; ++r) word[r] = detail::meta_bits<A>(meta[r], 4 * g, 64);
                    const float* base = panel + 4 * g * P;
                    for (std::size_t byte = 0; byte < 8; ++byte, base += 8 * P)
                        for (std::size_t r = 0; r < RB; ++r) {
                            const std::uint8_t* at = detail::pick_2of4.position[word[r] >> (8 * byte) & 0xFFu];
                            for (std::size_t i = 0; i < 4; ++i)
                                part[r].add(static_cast<float>(values[r][i]), base + std::size_t{at[i]} * P);
                            values[r] += 4;
                        }
                }
                for (std::size_t r = 0; r < RB; ++r) walk(r, g, g1_full);
                if (full_groups < g1) {  // partial last group: skip the padding past K
                    for (std::size_t r = 0; r < RB; ++r) {
                        std::uint32_t bits = nm_group_mask(meta[r], full_groups, static_cast<std::uint32_t>(M_group));
                        for (; bits != 0; bits &= bits - 1, ++values[r]) {
                            const std::size_t k = full_groups * M_group + static_cast<std::size_t>(__builtin_ctz(bits));
                            if (k < K) part[r].add(static_cast<float>(*values[r]), panel + k * P);
                        }
                    }
                }
                for (std::size_t r = 0; r < RB; ++r) {
                    if constexpr (is_int8_weight<T>) acc[r].add_scaled(part[r], scales[r].at(g0 * M_group));
                    else acc[r] = part[r];
                }
            }
            for (std::size_t r = 0; r < nr; ++r) store_column<A>(acc[r], m0 + r, n0, count, y, ep);
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
