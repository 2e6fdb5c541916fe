// BSR GEMV and GEMM for any compile-time block shape R x C: fp32 and int8 weights, W8A8.
//
// GEMV streams a block row's values (blocks are contiguous) in whole vectors. Lane e of a
// block meets x[k0 + e % C], so the matching activations are a contiguous load (C a
// multiple of the lanes), a broadcast (C = 1) or C values repeated (C below the lanes).
// Blocks smaller than a vector are taken several at a time: fp32 one-row and one-column
// shapes put their activations together in register (load_small_blocks, one load or
// broadcast per block), others gather them through memory. Lanes accumulate per block
// position; the row sums come out once per block row.
// int8 weights are widened and multiplied by a vector of their rows' scales, rebuilt only
// when the block's scale group changes (a block never straddles two: groups are multiples
// of C).
// GEMM: per block column position, R weights meet one panel row: up to 4 rows of a block
// share each panel load.
// W8A8, blocks of whole 4-byte quads (C a multiple of 4, 1x4 for VNNI / sdot): lane t of
// a step holds one quad of a block's row; the matching activation quads are gathered from
// the quantized token, one int8 dot product per step. Narrower blocks multiply integers
// one weight at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../formats/bsr.hpp"
#include "common.hpp"

namespace sieve::kernels {
namespace detail {

// Scales of the R rows of block row bi for scale group g (0 past M).
template <class A, class T, std::size_t R, std::size_t C>
void block_row_scales(const bsr_view<T, R, C>& w, std::size_t bi, std::size_t g, float* out) noexcept {
    const float* scale = w.scales.data + bi * R * w.scales.ld + g;
    for (std::size_t r = 0; r < R; ++r, scale += w.scales.ld) out[r] = bi * R + r < w.rows ? *scale : 0.0f;
}

// A GEMV prefetches the values (one contiguous stream) 4 KiB ahead of the block it reads,
// once per cache line: 11008x4096 fp32 at 50% and 90% on the Xeon VM (AVX-512) ran 8-17%
// faster (16x1 and 4x4), and int8 slower when every 16-byte block prefetched its line.
inline constexpr std::size_t bsr_prefetch_bytes = 4096;
template <class T, std::size_t Elements>
SIEVE_ALWAYS_INLINE void bsr_prefetch(const T* values, std::size_t at) noexcept {
    constexpr std::size_t bytes = Elements * sizeof(T);
    const char* ahead = reinterpret_cast<const char*>(values + at) + bsr_prefetch_bytes;
    if constexpr (bytes >= 64) {
        for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(ahead + b);
    } else {
        if (at * sizeof(T) % 64 == 0) __builtin_prefetch(ahead);  // values are 64-byte aligned
    }
}

template <class A, class T, std::size_t R, std::size_t C, class Index>
void bsr_gemv(const bsr_view<T, R, C>& w, const Index* block_col, const float* x, float* y,
              const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>, RC = R * C;
    constexpr bool whole = RC % L == 0;   // a block is whole vectors
    constexpr std::size_t V = whole ? RC / L : 1;  // vectors per block (or per several blocks)
    constexpr std::size_t per_vector = whole ? 1 : L / RC;  // blocks per vector when small
    static_assert(whole || L % RC == 0, "block sizes are powers of two");
    const std::size_t K = w.cols;
    // int8: k >> group_shift is k's scale group. One scale per row runs a loop that never
    // looks (a shift and a test per block cost the 16x1 int8 GEMV 12-40%, as GCC placed them).
    [[maybe_unused]] const bool grouped = is_int8_weight<T> && w.scales.group != 0;
    const unsigned group_shift = row_scales<T>(w.scales, 0).shift();
    alignas(64) float results[L];
    std::size_t pending = 0;
    // The activations of the last block column when K is not a multiple of C, zero past K:
    // made once. A zeroed copy per block (two stores, a test, and GCC spilling the loop's
    // pointers around them) held the int8 GEMV of 16x1 and 4x4 blocks at 1.2-1.9x its speed.
    [[maybe_unused]] alignas(64) float x_edge[C < L ? L : C] = {};
    for (std::size_t k = K / C * C; k < K; ++k) x_edge[k % C] = x[k];

    for (std::size_t bi = 0; bi < w.row_blocks; ++bi) {
        vfloat<A> acc[V];
        for (std::size_t v = 0; v < V; ++v) acc[v] = vfloat<A>(0.0f);
        const std::size_t begin = w.block_row_ptr[bi], end = w.block_row_ptr[bi + 1];
        float row_scale[R] = {};  // int8: the scales of this block row for the current scale group
        std::size_t scale_group = static_cast<std::size_t>(-1);
        auto refresh_scales = [&](std::size_t k0) {
            if constexpr (is_int8_weight<T>) {
                const std::size_t g = k0 >> group_shift;
                if (g != scale_group) block_row_scales<A>(w, bi, g, row_scale);
                scale_group = g;
            } else {
                (void)k0;
            }
        };
        if constexpr (whole) {
            vfloat<A> lane_scale[V];  // int8: row_scale spread over the lanes, kept in registers
            const auto spread_scales = [&] {
                alignas(64) float lanes_in[V * L];
                for (std::size_t e = 0; e < V * L; ++e) lanes_in[e] = row_scale[(e % RC) / C];
                for (std::size_t v = 0; v < V; ++v) lane_scale[v] = vfloat<A>::load_aligned(lanes_in + v * L);
            };
            // Blocks alternate between two sets of sums: a block of one vector is one FMA,
            // and one chain waited on the FMA latency (fp32 4x4 at 90% from L2 on the Xeon
            // VM, AVX-512: 2.5 -> 1.9 ns a block).
            vfloat<A> odd[V];
            for (std::size_t v = 0; v < V; ++v) odd[v] = vfloat<A>(0.0f);
            const auto run_blocks = [&](auto scale_groups) {
                const auto one_block = [&](std::size_t i, vfloat<A>(&sums)[V]) {
                    const T* block = w.values + i * RC;
                    bsr_prefetch<T, RC>(w.values, i * RC);
                    const std::size_t k0 = std::size_t{block_col[i]} * C;
                    if constexpr (decltype(scale_groups)::value) {
                        const std::size_t before = scale_group;
                        refresh_scales(k0);
                        if (before != scale_group) spread_scales();
                    }
                    const float* xb = C > 1 && k0 + C > K ? x_edge : x + k0;  // one column: never past K
                    for (std::size_t v = 0; v < V; ++v) {
                        vfloat<A> xv;
                        if constexpr (C % L == 0) xv = vfloat<A>::load_unaligned(xb + (v * L) % C);
                        else if constexpr (C == 1) xv = vfloat<A>(xb[0]);
                        else xv = load_repeated<C>(xb, A{});
                        vfloat<A> wv = load_weights(block + v * L, A{});
                        if constexpr (is_int8_weight<T>) wv *= lane_scale[v];
                        sums[v] = xsimd::fma(wv, xv, sums[v]);
                    }
                };
                std::size_t i = begin;
                for (; i + 2 <= end; i += 2) {
                    one_block(i, acc);
                    one_block(i + 1, odd);
                }
                if (i < end) one_block(i, acc);
            };
            if constexpr (is_int8_weight<T>) {
                if (grouped) {
                    run_blocks(std::true_type{});
                } else {
                    refresh_scales(0);
                    spread_scales();
                    run_blocks(std::false_type{});
                }
            } else {
                run_blocks(std::false_type{});
            }
            for (std::size_t v = 0; v < V; ++v) acc[v] += odd[v];
        } else {
            for (std::size_t i = begin; i < end; i += per_vector) {
                const std::size_t blocks = end - i < per_vector ? end - i : per_vector;
                bsr_prefetch<T, per_vector * RC>(w.values, i * RC);
                if constexpr (has_small_block_loads<A, R, C> && !is_int8_weight<T>) {
                    if (blocks == per_vector) {  // whole vectors of blocks inside K: in register
                        const float* at[per_vector];
                        bool inside = true;
                        for (std::size_t b = 0; b < per_vector; ++b) {
                            const std::size_t k0 = std::size_t{block_col[i + b]} * C;
                            at[b] = x + k0;
                            inside = inside && k0 + C <= K;
                        }
                        if (inside) {
                            acc[0] = xsimd::fma(load_weights(w.values + i * RC, A{}), load_small_blocks<R, C>(at, A{}),
                                                acc[0]);
                            continue;
                        }
                    }
                }
                alignas(64) float wv[L] = {}, xv[L] = {};
                for (std::size_t e = 0; e < blocks * RC; ++e) {
                    const std::size_t k = std::size_t{block_col[i + e / RC]} * C + e % C;
                    float weight = static_cast<float>(w.values[i * RC + e]);
                    if constexpr (is_int8_weight<T>) {  // small blocks: scaled while the lanes are filled
                        refresh_scales(k - e % C);
                        weight *= row_scale[(e % RC) / C];
                    }
                    wv[e] = weight;
                    xv[e] = k < K ? x[k] : 0.0f;
                }
                acc[0] = xsimd::fma(vfloat<A>::load_aligned(wv), vfloat<A>::load_aligned(xv), acc[0]);
            }
        }
        // Lane e of vector v holds block position (v * L + e) mod RC: row ((...) mod RC) / C.
        alignas(64) float lanes_out[V * L];
        for (std::size_t v = 0; v < V; ++v) acc[v].store_aligned(lanes_out + v * L);
        float row_sum[R] = {};
        for (std::size_t e = 0; e < V * L; ++e) row_sum[(e % RC) / C] += lanes_out[e];
        for (std::size_t r = 0; r < R; ++r) {
            const std::size_t m = bi * R + r;
            if (m >= w.rows) break;
            results[pending++] = row_sum[r];
            if (pending == L || m + 1 == w.rows) {
                store_rows<A>(results, pending, m + 1 - pending, y, ep);
                pending = 0;
            }
        }
    }
}

template <class A, class T, std::size_t R, std::size_t C, class Index>
void bsr_gemm(const bsr_view<T, R, C>& w, const Index* block_col, matrix_view<const float> x,
              matrix_view<float> y, const epilogue& ep, float* workspace) noexcept {
    constexpr std::size_t RB = R < 4 ? R : 4;
    // Accumulator sets the columns of a block rotate through: 8 FMA chains in flight also
    // when a block has one or two rows (a 1xC block on one set waits on FMA latency).
    constexpr std::size_t sets = 4 / RB < C ? 4 / RB : C;
    // Block rows in tiles of about 64 output rows whose results are stored together once
    // the tile is done: measured 30-40% faster for the one-column blocks (4x1, 16x1) than
    // storing each row's column of Y as soon as it is summed.
    constexpr std::size_t tile_blocks = R < 64 ? 64 / R : 1, tile_rows = tile_blocks * R;
    const std::size_t K = w.cols;
    const bool grouped = is_int8_weight<T> && w.scales.group != 0;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count, auto width) {
        constexpr std::size_t P = decltype(width)::value;
        for (std::size_t b0 = 0; b0 < w.row_blocks; b0 += tile_blocks) {
            panel_acc<A, P> tile[tile_rows];
            const std::size_t b1 = w.row_blocks - b0 < tile_blocks ? w.row_blocks : b0 + tile_blocks;
            for (std::size_t bi = b0; bi < b1; ++bi)
                for (std::size_t r0 = 0; r0 < R && bi * R + r0 < w.rows; r0 += RB) {
                    panel_acc<A, P> acc[sets][RB];
                    float scale[RB];  // int8: one scale per row of the block (groups hold whole blocks)
                    const auto load_scales = [&](std::size_t k0) {
                        for (std::size_t r = 0; r < RB; ++r) {
                            scale[r] = 1.0f;
                            if constexpr (is_int8_weight<T>)
                                if (bi * R + r0 + r < w.rows && r0 + r < R) scale[r] = w.scales.at(bi * R + r0 + r, k0);
                        }
                    };
                    load_scales(0);  // one scale per row: once per block row (per block cost 10%)
                    for (std::size_t i = w.block_row_ptr[bi]; i < w.block_row_ptr[bi + 1]; ++i) {
                        const T* block = w.values + i * R * C + r0 * C;
                        const std::size_t k0 = std::size_t{block_col[i]} * C;
                        const std::size_t width = K - k0 < C ? K - k0 : C;
                        if (grouped) load_scales(k0);
                        auto columns = [&](std::size_t used) {
                            for (std::size_t c = 0; c < used; ++c)
                                for (std::size_t r = 0; r < RB && r0 + r < R; ++r)
                                    acc[c % sets][r].add(static_cast<float>(block[r * C + c]) * scale[r],
                                                         panel + (k0 + c) * P);
                        };
                        // Full blocks (all but a last one cut at K) with a constant trip
                        // count: unrolled, which made the 4x4 GEMM a quarter faster.
                        if (width == C) columns(C);
                        else columns(width);
                    }
                    for (std::size_t set = 1; set < sets; ++set)
                        for (std::size_t r = 0; r < RB; ++r) acc[0][r].add(acc[set][r]);
                    for (std::size_t r = 0; r < RB && r0 + r < R; ++r) tile[(bi - b0) * R + r0 + r] = acc[0][r];
                }
            const std::size_t m_end = b1 * R < w.rows ? b1 * R : w.rows;
            for (std::size_t m = b0 * R; m < m_end; ++m) store_column<A>(tile[m - b0 * R], m, n0, count, y, ep);
        }
    });
}

template <class A, std::size_t R, std::size_t C, class Index>
void bsr_gemv_w8a8(const bsr_view<std::int8_t, R, C>& w, const Index* block_col, const float* x, float* y,
                   const epilogue& ep, std::int8_t* scratch) noexcept {
    constexpr std::size_t L = lanes<A>, B = vbyte<A>::size, RC = R * C;
    const std::size_t K = w.cols;
    w8a8_row_store<A> out{quantize_vector<A>(x, K, scratch), y, ep};
    for (std::size_t bi = 0; bi < w.row_blocks; ++bi) {
        const std::size_t begin = w.block_row_ptr[bi], end = w.block_row_ptr[bi + 1];
        float row_sum[R] = {};
        if constexpr (C % 4 == 0) {
            constexpr std::size_t Q = RC / 4;                   // quads per block
            constexpr std::size_t per_step = Q >= L ? 1 : L / Q;  // blocks per step
            constexpr std::size_t steps = Q >= L ? Q / L : 1;     // steps per block group
            vfloat<A> acc[steps];
            for (std::size_t v = 0; v < steps; ++v) acc[v] = vfloat<A>(0.0f);
            for (std::size_t i = begin; i < end; i += per_step) {
                const std::size_t blocks = end - i < per_step ? end - i : per_step;
                for (std::size_t v = 0; v < steps; ++v) {
                    // Lane j is quad t = v * L + j of the group: block t / Q, row (t % Q) / (C / 4),
                    // activation quad k0 + 4 * ((t % Q) % (C / 4)).
                    alignas(64) std::int32_t offset[L];
                    alignas(64) float scale[L];
                    for (std::size_t j = 0; j < L; ++j) {
                        const std::size_t t = v * L + j, b = t / Q, q = t % Q, m = bi * R + q / (C / 4);
                        const std::size_t k0 = b < blocks ? std::size_t{block_col[i + b]} * C : 0;
                        offset[j] = static_cast<std::int32_t>(k0 + 4 * (q % (C / 4)));
                        scale[j] = b < blocks && m < w.rows ? w.scales.at(m, k0) : 0.0f;
                    }
                    vbyte<A> wv;
                    if (blocks == per_step) {
                        wv = vbyte<A>::load_unaligned(w.values + i * RC + v * B);
                    } else {  // the block row's last, partial step: zero-padded copy
                        alignas(64) std::int8_t part[B] = {};
                        for (std::size_t e = 0; e < blocks * RC; ++e) part[e] = w.values[i * RC + e];
                        wv = vbyte<A>::load_aligned(part);
                    }
                    const vint<A> dots = dot_i8(vint<A>(0), wv, gather_quads(scratch, offset, A{}), A{});
                    acc[v] = xsimd::fma(xsimd::to_float(dots), vfloat<A>::load_aligned(scale), acc[v]);
                }
            }
            alignas(64) float lanes_out[steps * L];
            for (std::size_t v = 0; v < steps; ++v) acc[v].store_aligned(lanes_out + v * L);
            for (std::size_t t = 0; t < steps * L; ++t) row_sum[(t % Q) / (C / 4)] += lanes_out[t];
        } else {
            for (std::size_t r = 0; r < R && bi * R + r < w.rows; ++r) {
                w8a8_scalar_row<A> row{row_scales<std::int8_t>(w.scales, bi * R + r)};
                for (std::size_t i = begin; i < end; ++i) {
                    const std::size_t k0 = std::size_t{block_col[i]} * C;
                    for (std::size_t c = 0; c < C && k0 + c < K; ++c)
                        row.add(k0 + c, w.values[i * RC + r * C + c], scratch[k0 + c]);
                }
                row_sum[r] = row.finish();
            }
        }
        for (std::size_t r = 0; r < R && bi * R + r < w.rows; ++r) out.push(bi * R + r, row_sum[r]);
    }
    if (w.rows != 0) out.flush(w.rows - 1);
}

template <class A, std::size_t R, std::size_t C, class Index>
void bsr_gemm_w8a8(const bsr_view<std::int8_t, R, C>& w, const Index* block_col, matrix_view<const float> x,
                   matrix_view<float> y, const epilogue& ep, float* workspace) noexcept {
    constexpr std::size_t B = vbyte<A>::size;
    const std::size_t K = w.cols;
    for_each_w8a8_panel<A>(x, y, ep, workspace, [&](const std::int8_t* panel, auto&& store) {
        for (std::size_t bi = 0; bi < w.row_blocks; ++bi)
            for (std::size_t r = 0; r < R && bi * R + r < w.rows; ++r) {
                const std::size_t m = bi * R + r;
                w8a8_acc<A> acc;
                // Blocks hold whole scale groups, so the row's scale changes only between
                // blocks; every block is dequantized on its own (blocks are short).
                for (std::size_t i = w.block_row_ptr[bi]; i < w.block_row_ptr[bi + 1]; ++i) {
                    const std::int8_t* values = w.values + i * R * C + r * C;
                    const std::size_t k0 = std::size_t{block_col[i]} * C;
                    if constexpr (C % 4 == 0) {
                        for (std::size_t c = 0; c < C; c += 4)  // past K: zero weights meet zero activations
                            acc.part = dot_i8(acc.part, broadcast_quad<A>(values + c),
                                              vbyte<A>::load_aligned(panel + (k0 + c) / 4 * B), A{});
                    } else {
                        for (std::size_t c = 0; c < C && k0 + c < K; ++c)
                            acc.part = dot_i8(acc.part, broadcast_byte<A>(values[c], k0 + c),
                                              vbyte<A>::load_aligned(panel + (k0 + c) / 4 * B), A{});
                    }
                    acc.flush(w.scales.at(m, k0));
                }
                store(acc, m);
            }
    });
}

}  // namespace detail

// One entry per op: the index width picks the instantiation.
#define SIEVE_BSR_BY_WIDTH(call)                                                                         \
    if (w.width == index_width::u16) call(static_cast<const std::uint16_t*>(w.block_col));             \
    else call(static_cast<const std::uint32_t*>(w.block_col))

template <class A, class T, std::size_t R, std::size_t C>
void gemv(const bsr_view<T, R, C>& w, const float* x, float* y, const epilogue& ep) noexcept {
    auto run = [&](auto cols) { detail::bsr_gemv<A>(w, cols, x, y, ep); };
    SIEVE_BSR_BY_WIDTH(run);
}

template <class A, class T, std::size_t R, std::size_t C>
void gemm(const bsr_view<T, R, C>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    auto run = [&](auto cols) { detail::bsr_gemm<A>(w, cols, x, y, ep, workspace); };
    SIEVE_BSR_BY_WIDTH(run);
}

template <class A, std::size_t R, std::size_t C>
void gemv_w8a8(const bsr_view<std::int8_t, R, C>& w, const float* x, float* y, const epilogue& ep,
               std::int8_t* scratch) noexcept {
    auto run = [&](auto cols) { detail::bsr_gemv_w8a8<A>(w, cols, x, y, ep, scratch); };
    SIEVE_BSR_BY_WIDTH(run);
}

template <class A, std::size_t R, std::size_t C>
void gemm_w8a8(const bsr_view<std::int8_t, R, C>& w, matrix_view<const float> x, matrix_view<float> y,
               const epilogue& ep, float* workspace) noexcept {
    auto run = [&](auto cols) { detail::bsr_gemm_w8a8<A>(w, cols, x, y, ep, workspace); };
    SIEVE_BSR_BY_WIDTH(run);
}

#undef SIEVE_BSR_BY_WIDTH

}  // namespace sieve::kernels
