// Pieces every fast kernel shares, all templated on the arch: the fused epilogue on
// vectors, storing GEMV results, the GEMM activation panel (pack and store), int8 scale
// lookup and the W8A8 activation quantization.
//
// GEMM layout: a panel of P tokens is packed transposed, panel[k * P + j] = X[n0 + j][k], so
// each stored weight w at (m, k) costs P / lanes FMAs of broadcast(w) against panel row k,
// whatever the format: the format only decides how (m, k, w) are enumerated. P is 2 * lanes,
// or one vector when the tokens left fit one (a few tokens of decode: a wide panel would
// spend most of its FMAs and panel reads on padding).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "../core/config.hpp"
#include "../core/views.hpp"
#include "../epilogue.hpp"
#include "declare.hpp"
#include "isa/helpers.hpp"

namespace sieve::kernels {

namespace detail {
template <class F, std::size_t... I>
SIEVE_ALWAYS_INLINE void unroll_sequence(F& f, std::index_sequence<I...>) noexcept {
    (f(std::integral_constant<std::size_t, I>{}), ...);
}
}  // namespace detail

// f(std::integral_constant<std::size_t, i>{}) for i = 0 .. N-1, unrolled at compile time. GCC
// does not fully unroll a loop nest of a few dozen FMAs, and an array of accumulators indexed
// by its loop variables then lives in memory.
template <std::size_t N, class F>
SIEVE_ALWAYS_INLINE void unrolled(F&& f) noexcept {
    detail::unroll_sequence(f, std::make_index_sequence<N>{});
}

template <class A>
inline constexpr std::size_t panel_width = 2 * lanes<A>;


template <class A>
vfloat<A> activate(vfloat<A> v, activation act) noexcept {
    switch (act) {
    case activation::none: return v;
    case activation::relu: return xsimd::select(v < vfloat<A>(0.0f), vfloat<A>(0.0f), v);  // NaN stays NaN
    case activation::gelu:  // both tend to 0 at -Inf, where the formulas give Inf * 0
        return xsimd::select(v == vfloat<A>(-INFINITY), vfloat<A>(0.0f),
                             vfloat<A>(0.5f) * v * (vfloat<A>(1.0f) + xsimd::erf(v * vfloat<A>(0.70710678118654752f))));
    case activation::silu:
        return xsimd::select(v == vfloat<A>(-INFINITY), vfloat<A>(0.0f), v / (vfloat<A>(1.0f) + xsimd::exp(-v)));
    }
    return v;
}

// out = act(alpha * acc + bias) + beta * before, on whole vectors.
template <class A>
vfloat<A> finish(vfloat<A> acc, vfloat<A> bias, vfloat<A> before, const epilogue& ep) noexcept {
    vfloat<A> v = xsimd::fma(vfloat<A>(ep.alpha), acc, bias);
    v = activate<A>(v, ep.act);
    if (ep.beta != 0.0f) v = xsimd::fma(vfloat<A>(ep.beta), before, v);
    return v;
}

// Stores `count` (<= lanes) GEMV results acc[0..count) to y[m0..m0 + count).
template <class A>
SIEVE_ALWAYS_INLINE void store_rows(const float* acc, std::size_t count, std::size_t m0, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>;
    alignas(64) float bias[L] = {}, before[L] = {}, out[L];
    for (std::size_t i = 0; i < count; ++i) {
        if (ep.bias.size != 0) bias[i] = ep.bias.data[m0 + i];
        if (ep.beta != 0.0f) before[i] = y[m0 + i];
    }
    finish<A>(vfloat<A>::load_unaligned(acc), vfloat<A>::load_aligned(bias), vfloat<A>::load_aligned(before), ep)
        .store_aligned(out);
    for (std::size_t i = 0; i < count; ++i) y[m0 + i] = out[i];
}

// Packs tokens n0 .. n0 + count of X (count <= P) transposed into panel (K x P); lanes
// past count are zero.
template <class A, std::size_t P>
void pack_panel(matrix_view<const float> x, std::size_t n0, std::size_t count, float* panel) noexcept {
    static_assert(P <= wide_panel_width, "the workspace is sized for the widest panel");
    const std::size_t K = x.cols;
    for (std::size_t k = 0; k < K; ++k)
        for (std::size_t j = count; j < P; ++j) panel[k * P + j] = 0.0f;
    for (std::size_t j = 0; j < count; ++j) {
        const float* row = x.row(n0 + j);
        for (std::size_t k = 0; k < K; ++k) panel[k * P + j] = row[k];
    }
}

// The accumulators of one output row m over a panel of P tokens, n0 .. n0 + P: lo, and hi
// when the panel is two vectors wide. (Named members rather than an array: GCC keeps an
// array of them in memory: the 2:4 GEMM measured 15-20% slower.)
template <class A, std::size_t P = panel_width<A>>
struct panel_acc {
    static_assert(P == lanes<A> || P == 2 * lanes<A>, "a panel is one or two vectors");
    static constexpr bool wide = P == 2 * lanes<A>;
    vfloat<A> lo = vfloat<A>(0.0f), hi = vfloat<A>(0.0f);

    void add(float w, const float* panel_row) noexcept {
        const vfloat<A> wv(w);
        lo = xsimd::fma(wv, vfloat<A>::load_aligned(panel_row), lo);
        if constexpr (wide) hi = xsimd::fma(wv, vfloat<A>::load_aligned(panel_row + lanes<A>), hi);
    }
    void add(const panel_acc& other) noexcept {
        lo += other.lo;
        if constexpr (wide) hi += other.hi;
    }
    // += scale * other: an int8 group's partial sums, dequantized once per group.
    void add_scaled(const panel_acc& other, float scale) noexcept {
        lo = xsimd::fma(other.lo, vfloat<A>(scale), lo);
        if constexpr (wide) hi = xsimd::fma(other.hi, vfloat<A>(scale), hi);
    }
};

// Writes Y[n0 + j][m] for j < count (<= P, a multiple of lanes) from a row's sums over a
// panel of P tokens, with the epilogue.
template <class A, std::size_t P>
void store_sums(const float* sums, std::size_t m, std::size_t n0, std::size_t count, matrix_view<float> y,
                  const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>;
    alignas(64) float before[P] = {}, out[P];
    if (ep.beta != 0.0f)
        for (std::size_t j = 0; j < count; ++j) before[j] = y(n0 + j, m);
    const vfloat<A> bias(ep.bias.size != 0 ? ep.bias.data[m] : 0.0f);
    for (std::size_t v = 0; v * L < count; ++v)
        finish<A>(vfloat<A>::load_aligned(sums + v * L), bias, vfloat<A>::load_aligned(before + v * L), ep)
            .store_aligned(out + v * L);
    for (std::size_t j = 0; j < count; ++j) y(n0 + j, m) = out[j];
}
template <class A, std::size_t P>
void store_column(const panel_acc<A, P>& acc, std::size_t m, std::size_t n0, std::size_t count,
                  matrix_view<float> y, const epilogue& ep) noexcept {
    alignas(64) float sums[P];
    acc.lo.store_aligned(sums);
    if constexpr (panel_acc<A, P>::wide) acc.hi.store_aligned(sums + lanes<A>);
    store_sums<A, P>(sums, m, n0, count, y, ep);
}

// The GEMM driver: for each panel of tokens, pack it, then let the format's row loop
// accumulate and store every output row: `rows(panel, n0, count, width)`, where
// decltype(width)::value is the panel's P (2 * lanes, or lanes for at most lanes tokens).
template <class A, class RowLoop>
void for_each_panel(matrix_view<const float> x, float* workspace, RowLoop&& rows) noexcept {
    constexpr std::size_t P = panel_width<A>, L = lanes<A>;
    for (std::size_t n0 = 0; n0 < x.rows; n0 += P) {
        const std::size_t count = x.rows - n0 < P ? x.rows - n0 : P;
        if (count <= L) {
            pack_panel<A, L>(x, n0, count, workspace);
            rows(static_cast<const float*>(workspace), n0, count, std::integral_constant<std::size_t, L>{});
        } else {
            pack_panel<A, P>(x, n0, count, workspace);
            rows(static_cast<const float*>(workspace), n0, count, std::integral_constant<std::size_t, P>{});
        }
    }
}

// The K-blocked GEMM driver (AVX-512; the 2:4 GEMM of more than 16 tokens). A
// panel of up to 64 tokens, four vectors per weight, pays each weight's decoding and
// broadcast once per 64 tokens, but holds 1 MiB for K = 4096: walking all of K per row would
// read its rows from L2 or beyond. So the rows are taken in blocks of kblock_rows, and each
// block walks K 64 positions at a time: the 16 KiB of the panel those cover stays in L1
// while every row of the block takes its weights there, the rows' sums waiting in the
// workspace between steps (24 KiB for a block). `row_block(panel, sums, mb, me, vectors)`
// runs rows [mb, me) over all of K with decltype(vectors)::value vectors per panel row,
// leaving row m's sums at sums + (m - mb) * P; the driver stores them with the epilogue.
// The caller sends more than one vector of tokens (fewer take the narrow panel).
template <class A>
inline constexpr bool k_blocked_gemm = is_avx512<A>;

template <class A, class RowBlock>
void for_each_blocked_panel(std::size_t rows, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
                            float* workspace, RowBlock&& row_block) noexcept {
    constexpr std::size_t L = lanes<A>;
    const std::size_t K = x.cols;
    float* sums = workspace + (K + 64) * wide_panel_width;
    for (std::size_t n0 = 0; n0 < x.rows; n0 += wide_panel_width) {
        const std::size_t count = x.rows - n0 < wide_panel_width ? x.rows - n0 : wide_panel_width;
        auto run = [&](auto vectors) {
            constexpr std::size_t P = decltype(vectors)::value * L;
            pack_panel<A, P>(x, n0, count, workspace);
            // A zero row at K: a broken 2:4 view's short metadata word walks to position K.
            std::memset(workspace + K * P, 0, P * sizeof(float));
            for (std::size_t mb = 0; mb < rows; mb += kblock_rows) {
                const std::size_t me = rows - mb < kblock_rows ? rows : mb + kblock_rows;
                row_block(static_cast<const float*>(workspace), sums, mb, me, vectors);
                for (std::size_t m = mb; m < me; ++m) store_sums<A, P>(sums + (m - mb) * P, m, n0, count, y, ep);
            }
        };
        if (count > 2 * L) run(std::integral_constant<std::size_t, 4>{});
        else run(std::integral_constant<std::size_t, 2>{});
    }
}

// Runs the tokens of x the blocked kernel takes, every 32-token tile of more than one vector
// of tokens (the choice is per tile, as threads split tokens, so it is the same for any
// thread count), and leaves x and y to the rest: a last tile of a few, for the narrow panel.
template <class A, class RowBlock>
void blocked_gemm_tiles(std::size_t rows, matrix_view<const float>& x, matrix_view<float>& y, const epilogue& ep,
                        float* workspace, RowBlock&& row_block) noexcept {
    const std::size_t rest = x.rows % token_tile, taken = rest > lanes<A> ? x.rows : x.rows - rest;
    if (taken == 0) return;
    for_each_blocked_panel<A>(rows, matrix_view<const float>{x.data, taken, x.cols, x.ld},
                              matrix_view<float>{y.data, taken, y.cols, y.ld}, ep, workspace, row_block);
    x = matrix_view<const float>{x.data + taken * x.ld, x.rows - taken, x.cols, x.ld};
    y = matrix_view<float>{y.data + taken * y.ld, y.rows - taken, y.cols, y.ld};
}

// The scales of one output row: scale(k) for position k. fp32 weights have none (1).
// Groups are 32, 64 or 128 positions (checked at the API boundary), so a position's group
// is a shift: a division here, once per group and row, cost the int8 GEMVs 1.5-18x with
// groups of 32 (11008x4096 on the Xeon VM). (A shift stored beside the group cost the
// blocked 2:4 GEMM 12% with one scale per row: computed where it is used instead.)
template <class T>
struct row_scales {
    const float* data = nullptr;
    std::size_t group = 0;  // K positions per scale; 0: one per row

    row_scales() = default;
    row_scales(const quant_scales& s, std::size_t m) noexcept {
        if constexpr (is_int8_weight<T>) {
            data = s.data + m * s.ld;
            group = s.group;
        } else {
            (void)s, (void)m;
        }
    }
    // log2(group); 63 for one scale per row (k >> 63 is 0 for every position).
    unsigned shift() const noexcept { return group == 0 ? 63u : static_cast<unsigned>(__builtin_ctzll(group)); }
    float at(std::size_t k) const noexcept {
        if constexpr (is_int8_weight<T>) return data[group == 0 ? 0 : k >> shift()];
        else return (void)k, 1.0f;
    }
    // The first position past k's scale group (or `end` when the scale holds to the end).
    std::size_t group_end(std::size_t k, std::size_t end) const noexcept {
        if (!is_int8_weight<T> || group == 0) return end;
        const std::size_t next = ((k >> shift()) + 1) << shift();
        return next < end ? next : end;
    }
};

// The scales of RB rows as a GEMV streams them. With scale groups (32, 64 or 128
// positions), int8 weights are scaled as they are widened, one step (at most 32 positions,
// inside one group) at a time, so each row is one pass: a pass per group cost the 2:4 GEMV
// 4x with groups of 32 (11008x4096, Xeon VM), its short passes leaving the whole-word loop.
// One scale per row multiplies the row's sum instead. fp32 weights: nothing to do.
template <class T, std::size_t RB>
struct step_scales {
    row_scales<T> rows[RB];
    bool per_step = false;
    unsigned shift = 63;  // log2 of the group, kept here: the step loop must not work it out

    explicit step_scales(const quant_scales& s) noexcept
        : per_step(is_int8_weight<T> && s.group != 0), shift(row_scales<T>(s, 0).shift()) {}

    // Weights of row r's step at position k, scaled when per_step. A hot loop passes
    // Scaled = per_step as a template argument instead of testing it each step.
    template <bool Scaled = true, class V>
    SIEVE_ALWAYS_INLINE V apply(V weights, std::size_t r, std::size_t k) const noexcept {
        if constexpr (is_int8_weight<T> && Scaled)
            if (per_step) return weights * V(rows[r].data[k >> shift]);
        return (void)r, (void)k, weights;
    }
    // What row r's sum is multiplied by.
    float of_sum(std::size_t r) const noexcept { return per_step ? 1.0f : rows[r].at(0); }
};

// Software prefetch for a GEMV that walks a block of rows side by side, each row `stride`
// bytes after the one before: `bytes` (a multiple of 64, or less for one line) from
// `distance` bytes past offset `at` of a row of `length` bytes, or, past its end, of the
// same row of the next block (`rows` rows on), whose start no hardware prefetcher has seen
// yet. A prefetch never faults, so addresses past the matrix are harmless.
// How far ahead, for RB rows side by side: 8 KiB ahead of the block in all, shared by its
// rows (enough to cover the DRAM latency at the read bandwidth, twice over). 11008x4096 cold
// on Zen 5: dense int8 (four 4 KiB rows) 1.36-1.44 ms with 2 KiB per row, 1.46-1.51 with
// 4 KiB; 2:4 fp32 (one 8 KiB row) 2.55-2.74 ms with 8 KiB, 2.85-2.96 with 4 KiB. Two rows
// take 4 KiB each, measured best on Zen 3 for int8 and fp32 rows of 2 to 16 KiB.
template <std::size_t RB>
inline constexpr std::size_t row_prefetch_distance = 8192 / RB;

SIEVE_ALWAYS_INLINE void prefetch_row_ahead(const void* row, std::size_t at, std::size_t distance, std::size_t bytes,
                               std::size_t length, std::size_t stride, std::size_t rows) noexcept {
    const std::size_t ahead = at + distance;
    const std::uintptr_t target = reinterpret_cast<std::uintptr_t>(row) +
                                  (ahead < length ? ahead : rows * stride + (ahead - length));
    for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(reinterpret_cast<const void*>(target + b));
}

// ---- W8A8 -------------------------------------------------------------------------------
// The activation quantization of reference/common.hpp, bit for bit: amax, then
// round-to-nearest-even(x * (127 / amax)) clamped to +-127. Calls put(k, q) for k < K and
// put(k, 0) on to `padded`; returns the token's scale (0 for an all-zero token, NaN for a
// token holding NaN or Inf, whose bytes are then all zero).
template <class A, class Put>
float quantize_token(const float* x, std::size_t k_count, std::size_t padded, Put&& put) noexcept {
    float amax = 0.0f;
    bool finite = true;
    for (std::size_t k = 0; k < k_count; ++k) {
        const float v = x[k];
        if (!std::isfinite(v)) finite = false;
        else if (std::fabs(v) > amax) amax = std::fabs(v);
    }
    const float inverse = finite && amax > 0.0f ? 127.0f / amax : 0.0f;
    for (std::size_t k = 0; k < k_count; ++k) {
        float q = inverse == 0.0f ? 0.0f : std::nearbyint(x[k] * inverse);
        q = q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q);
        put(k, static_cast<std::int8_t>(q));
    }
    for (std::size_t k = k_count; k < padded; ++k) put(k, std::int8_t{0});
    if (!finite) return NAN;
    return amax > 0.0f ? amax / 127.0f : 0.0f;
}

// Positions W8A8 kernels may touch past K (whole int8 vectors, BSR blocks, N:M groups):
// quantized activations are zero-padded to a multiple of this.
inline constexpr std::size_t w8a8_pad = 64;

template <class A>
constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept {
    return (n + to - 1) / to * to;
}

// GEMV: the token quantized into scratch (K rounded up to w8a8_pad bytes).
template <class A>
float quantize_vector(const float* x, std::size_t k_count, std::int8_t* scratch) noexcept {
    return quantize_token<A>(x, k_count, round_up<A>(k_count, w8a8_pad),
                             [scratch](std::size_t k, std::int8_t q) { scratch[k] = q; });
}

// GEMM: a panel of L tokens, quad-interleaved so one vector holds 4 consecutive K
// positions of every token: panel[(k / 4) * 4L + 4 j + k % 4] = q_j[k]. A weight quad
// broadcast to every lane then meets each token in one dot product (dot_i8). Tokens past
// `count` are zero; scales[j] receives token j's scale.
template <class A>
void pack_w8a8_panel(matrix_view<const float> x, std::size_t n0, std::size_t count, std::int8_t* panel,
                     float* scales) noexcept {
    constexpr std::size_t L = lanes<A>;
    const std::size_t padded = round_up<A>(x.cols, w8a8_pad);
    for (std::size_t j = 0; j < L; ++j) {
        auto put = [panel, j](std::size_t k, std::int8_t q) { panel[k / 4 * 4 * L + 4 * j + k % 4] = q; };
        if (j < count) {
            scales[j] = quantize_token<A>(x.row(n0 + j), x.cols, padded, put);
        } else {
            for (std::size_t k = 0; k < padded; ++k) put(k, std::int8_t{0});
            scales[j] = 0.0f;
        }
    }
}

// A 4-byte weight quad in every lane.
template <class A>
vbyte<A> broadcast_quad(const std::int8_t* quad) noexcept {
    std::int32_t bits;
    std::memcpy(&bits, quad, 4);
    return xsimd::bitwise_cast<vbyte<A>>(vint<A>(bits));
}

// Integer partial sums of one output row, dequantized when its scale group ends.
template <class A>
struct w8a8_acc {
    vint<A> part = vint<A>(0);
    vfloat<A> sum = vfloat<A>(0.0f);

    void flush(float scale) noexcept {
        sum = xsimd::fma(xsimd::to_float(part), vfloat<A>(scale), sum);
        part = vint<A>(0);
    }
    void flush(vfloat<A> scales) noexcept {
        sum = xsimd::fma(xsimd::to_float(part), scales, sum);
        part = vint<A>(0);
    }
};

// The W8A8 GEMM driver: for each panel of L tokens, quantize and pack it (pack_w8a8_panel),
// then let the format's row loop accumulate; `rows(panel, store)` calls store(acc, m) for
// each output row m, which scales by the tokens' scales and stores with the epilogue.
template <class A, class RowLoop>
void for_each_w8a8_panel(matrix_view<const float> x, matrix_view<float> y, const epilogue& ep, float* workspace,
                         RowLoop&& rows) noexcept {
    constexpr std::size_t L = lanes<A>;
    float* token_scales = workspace;  // 32 floats, then the panel (64-byte aligned)
    std::int8_t* panel = reinterpret_cast<std::int8_t*>(workspace + max_panel_width);
    for (std::size_t n0 = 0; n0 < x.rows; n0 += L) {
        const std::size_t count = x.rows - n0 < L ? x.rows - n0 : L;
        pack_w8a8_panel<A>(x, n0, count, panel, token_scales);
        const vfloat<A> token_scale = vfloat<A>::load_aligned(token_scales);
        rows(static_cast<const std::int8_t*>(panel), [&](const w8a8_acc<A>& acc, std::size_t m) {
            panel_acc<A, lanes<A>> result;
            result.lo = acc.sum * token_scale;
            store_column<A>(result, m, n0, count, y, ep);
        });
    }
}

// The int32 lanes of one W8A8 GEMV step are dequantized every `every` steps with `scale_of`:
// once per scale group when a group spans whole int8 vectors, else every step with the
// scales of the groups each lane falls in (groups of 32 with 64-byte AVX-512 vectors).
template <class A>
struct w8a8_row_flush {
    std::size_t every;  // steps per flush

    explicit w8a8_row_flush(std::size_t group) noexcept {
        constexpr std::size_t B = vbyte<A>::size;
        // Per-row scales: flush well before int32 could overflow (4 * 127 * 127 per lane).
        every = group == 0 ? 8192 : (group >= B ? group / B : 1);
    }
    // Scales of the lanes of the step starting at position k (lanes at or past K hold only
    // zero products: scale 0, and no read past the row's scales).
    static vfloat<A> lane_scales(const row_scales<std::int8_t>& s, std::size_t k, std::size_t K) noexcept {
        constexpr std::size_t L = lanes<A>, B = vbyte<A>::size;
        if (s.group == 0 || s.group >= B) return vfloat<A>(s.at(k));
        alignas(64) float lanes_out[L];
        for (std::size_t i = 0; i < L; ++i) lanes_out[i] = k + 4 * i < K ? s.at(k + 4 * i) : 0.0f;
        return vfloat<A>::load_aligned(lanes_out);
    }
};

// Row sums from W8A8 accumulators, times the token scale, stored with the epilogue.
template <class A>
struct w8a8_row_store {
    float token_scale;
    float* y;
    const epilogue& ep;
    alignas(64) float results[lanes<A>] = {};
    std::size_t pending = 0;

    w8a8_row_store(float scale, float* out, const epilogue& e) noexcept : token_scale(scale), y(out), ep(e) {}

    void push(std::size_t m, float sum) noexcept {
        results[pending++] = sum * token_scale;
        if (pending == lanes<A>) flush(m);
    }
    void flush(std::size_t m_last) noexcept {
        if (pending != 0) store_rows<A>(results, pending, m_last + 1 - pending, y, ep);
        pending = 0;
    }
};

// A weight quad holding one int8 value at byte k % 4, in every lane: CSR and narrow BSR
// blocks meet the quad-interleaved GEMM panel one value at a time.
template <class A>
vbyte<A> broadcast_byte(std::int8_t value, std::size_t k) noexcept {
    const auto bits = static_cast<std::uint32_t>(static_cast<std::uint8_t>(value)) << (8 * (k % 4));
    return xsimd::bitwise_cast<vbyte<A>>(vint<A>(static_cast<std::int32_t>(bits)));
}

// Scalar W8A8 sum of one output row fed in increasing k: exact int32 partial sums,
// dequantized whenever the scale group changes (and every 2^16 products, before int32
// could overflow on a long per-row group).
template <class A>
struct w8a8_scalar_row {
    row_scales<std::int8_t> scales;
    std::size_t group_start = 0, products = 0;
    std::int32_t part = 0;
    float sum = 0.0f;

    explicit w8a8_scalar_row(const row_scales<std::int8_t>& s) noexcept : scales(s) {}

    void add(std::size_t k, std::int8_t w, std::int8_t x) noexcept {
        if (products == 0) {
            group_start = k;
        } else if (scales.group_end(group_start, k + 1) <= k || products % 65536 == 0) {
            sum += scales.at(group_start) * static_cast<float>(part);
            part = 0;
            group_start = k;
        }
        part += std::int32_t{w} * x;
        ++products;
    }
    float finish() const noexcept {
        return products == 0 ? sum : sum + scales.at(group_start) * static_cast<float>(part);
    }
};

}  // namespace sieve::kernels
