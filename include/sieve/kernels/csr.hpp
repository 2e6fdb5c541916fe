// CSR GEMV and GEMM: fp32 and int8 weights, and W8A8.
//
// GEMV: per row, gather x at the column indices one vector at a time (hardware gathers on
// AVX-512, see isa/helpers.hpp), two accumulators; the row's tail is one zero-padded
// vector. int8: one scale per row multiplies the row's sum; with scale groups each entry's
// weight is multiplied by its column's scale, gathered like x, so a row is one pass.
// GEMM: per stored weight, one FMA per vector of the packed activation panel; two weights per
// step into separate accumulators to keep more FMA chains in flight (int8 in groups: each
// value scaled as it is read).
// W8A8: rows are cut into segments of one scale group each (columns increase within a row,
// so a linear scan finds the cuts), each an exact int32 sum scaled once. GEMV multiplies
// integers (a kept weight meets one activation byte, no 4-byte dot product to use); GEMM
// places each weight at its byte of the quad-interleaved panel and does one int8 dot
// product per weight for a panel of tokens.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../formats/csr.hpp"
#include "common.hpp"

namespace sieve::kernels {
namespace detail {

// The end of the segment of row entries [i, end) whose columns share cols[i]'s scale group.
template <class A, class T, class Index>
std::size_t csr_segment_end(const row_scales<T>& scales, const Index* cols, std::size_t i, std::size_t end) noexcept {
    if (!is_int8_weight<T> || scales.group == 0) return end;
    const std::size_t limit = scales.group_end(cols[i], static_cast<std::size_t>(-1));
    std::size_t j = i + 1;
    while (j < end && cols[j] < limit) ++j;
    return j;
}

// A GEMV prefetches the values and the column indices this many entries ahead (two
// streams over the whole matrix; 4 KiB ahead in fp32 values). 11008x4096 fp32 on the Xeon
// VM (AVX-512): 90% 4.5-4.6 -> 3.7-3.9 ms, 95% 2.17 -> 2.03 ms; int8 unchanged.
inline constexpr std::size_t csr_prefetch_entries = 1024;

// PerEntry: int8 with scale groups, each entry's weight times its column's scale, gathered
// like x, so a row is one pass (a pass per group ran the 90% GEMV 4-12x slower). A template
// argument: tested per vector, it cost the per-row int8 GEMV 10%.
template <class A, bool PerEntry, class T, class Index>
void csr_gemv(const csr_view<T>& w, const Index* cols, const float* x, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>;
    constexpr bool per_entry = PerEntry && is_int8_weight<T>;
    alignas(64) float results[L];
    std::size_t pending = 0;
    const std::size_t stored = w.rows == 0 ? 0 : w.row_ptr[w.rows];  // entries up to here can be read
    for (std::size_t m = 0; m < w.rows; ++m) {
        const row_scales<T> scales(w.scales, m);
        auto weights = [&](std::size_t i) {
            vfloat<A> wv = load_weights(w.values + i, A{});
            if constexpr (per_entry) wv *= gather(scales.data, cols + i, scales.shift(), A{});
            return wv;
        };
        std::size_t i = w.row_ptr[m];
        const std::size_t end = w.row_ptr[m + 1];
        vfloat<A> acc0(0.0f), acc1(0.0f);
        for (; i + 2 * L <= end; i += 2 * L) {
            const char* values_ahead = reinterpret_cast<const char*>(w.values + i + csr_prefetch_entries);
            const char* cols_ahead = reinterpret_cast<const char*>(cols + i + csr_prefetch_entries);
            for (std::size_t b = 0; b < 2 * L * sizeof(T); b += 64) __builtin_prefetch(values_ahead + b);
            for (std::size_t b = 0; b < 2 * L * sizeof(Index); b += 64) __builtin_prefetch(cols_ahead + b);
            acc0 = xsimd::fma(weights(i), gather(x, cols + i, A{}), acc0);
            acc1 = xsimd::fma(weights(i + L), gather(x, cols + i + L, A{}), acc1);
        }
        if (i + L <= end) {
            acc0 = xsimd::fma(weights(i), gather(x, cols + i, A{}), acc0);
            i += L;
        }
        if (i < end && i + L <= stored) {
            // The last rest < L entries: a whole vector from the arrays (it reads on into the
            // next rows' entries), the lanes past the row's end zeroed on both sides. Copying
            // the rest through memory stalls store forwarding once per row (AVX2 on Zen 5,
            // 11008x4096 at 95%, 205 entries a row: 0.50 -> 0.46-0.48 ms).
            const auto keep = static_cast<std::uint32_t>((std::uint32_t{1} << (end - i)) - 1);
            acc1 = xsimd::fma(keep_lanes(weights(i), keep, A{}), keep_lanes(gather(x, cols + i, A{}), keep, A{}), acc1);
        } else if (i < end) {  // the matrix's last rest < L entries in the low lanes, zeros above
            alignas(64) float xs[L] = {}, ws[L] = {};  // CSR arrays carry no padding to load past
            for (std::size_t j = 0; i + j < end; ++j) {
                xs[j] = x[cols[i + j]];
                ws[j] = static_cast<float>(w.values[i + j]);
                if constexpr (per_entry) ws[j] *= scales.at(cols[i + j]);
            }
            acc1 = xsimd::fma(vfloat<A>::load_aligned(ws), vfloat<A>::load_aligned(xs), acc1);
        }
        float sum = reduce_add<A>(acc0 + acc1);
        if constexpr (is_int8_weight<T> && !per_entry) sum = scales.at(0) * sum;
        results[pending++] = sum;
        if (pending == L || m + 1 == w.rows) {
            store_rows<A>(results, pending, m + 1 - pending, y, ep);
            pending = 0;
        }
    }
}

template <class A, class T, class Index>
void csr_gemm(const csr_view<T>& w, const Index* cols, matrix_view<const float> x, matrix_view<float> y,
              const epilogue& ep, float* workspace) noexcept {
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count, auto width) {
        constexpr std::size_t P = decltype(width)::value;
        for (std::size_t m = 0; m < w.rows; ++m) {
            const row_scales<T> scales(w.scales, m);
            [[maybe_unused]] const bool per_entry = is_int8_weight<T> && scales.group != 0;  // as in csr_gemv
            auto weight = [&](std::size_t i) {
                float v = static_cast<float>(w.values[i]);
                if constexpr (is_int8_weight<T>)
                    if (per_entry) v *= scales.at(cols[i]);
                return v;
            };
            std::size_t i = w.row_ptr[m];
            const std::size_t end = w.row_ptr[m + 1];
            panel_acc<A, P> acc0, acc1;
            for (; i + 2 <= end; i += 2) {
                acc0.add(weight(i), panel + std::size_t{cols[i]} * P);
                acc1.add(weight(i + 1), panel + std::size_t{cols[i + 1]} * P);
            }
            if (i < end) acc0.add(weight(i), panel + std::size_t{cols[i]} * P);
            acc0.add(acc1);
            panel_acc<A, P> acc;
            if constexpr (is_int8_weight<T>) {
                if (per_entry) acc = acc0;
                else acc.add_scaled(acc0, scales.at(0));
            } else {
                acc = acc0;
            }
            store_column<A>(acc, m, n0, count, y, ep);
        }
    });
}

template <class A, class Index>
void csr_gemv_w8a8(const csr_view<std::int8_t>& w, const Index* cols, const float* x, float* y, const epilogue& ep,
                   std::int8_t* scratch) noexcept {
    w8a8_row_store<A> out{quantize_vector<A>(x, w.cols, scratch), y, ep};
    for (std::size_t m = 0; m < w.rows; ++m) {
        w8a8_scalar_row<A> row{row_scales<std::int8_t>(w.scales, m)};
        for (std::size_t i = w.row_ptr[m]; i < w.row_ptr[m + 1]; ++i) row.add(cols[i], w.values[i], scratch[cols[i]]);
        out.push(m, row.finish());
    }
    if (w.rows != 0) out.flush(w.rows - 1);
}

template <class A, class Index>
void csr_gemm_w8a8(const csr_view<std::int8_t>& w, const Index* cols, matrix_view<const float> x,
                   matrix_view<float> y, const epilogue& ep, float* workspace) noexcept {
    constexpr std::size_t B = vbyte<A>::size;
    for_each_w8a8_panel<A>(x, y, ep, workspace, [&](const std::int8_t* panel, auto&& store) {
        for (std::size_t m = 0; m < w.rows; ++m) {
            const row_scales<std::int8_t> scales(w.scales, m);
            w8a8_acc<A> acc;
            for (std::size_t i = w.row_ptr[m], end = w.row_ptr[m + 1], seg_end; i < end; i = seg_end) {
                seg_end = csr_segment_end<A>(scales, cols, i, end);
                const std::size_t first = i;
                for (std::size_t products = 0; i < seg_end; ++i, ++products) {
                    if (products == 65536) {  // before int32 could overflow on a long per-row segment
                        acc.flush(scales.at(cols[first]));
                        products = 0;
                    }
                    const std::size_t k = cols[i];
                    acc.part = dot_i8(acc.part, broadcast_byte<A>(w.values[i], k),
                                      vbyte<A>::load_aligned(panel + k / 4 * B), A{});
                }
                acc.flush(scales.at(cols[first]));
            }
            store(acc, m);
        }
    });
}

}  // namespace detail

// One entry per op: the index width picks the instantiation.
#define SIEVE_CSR_BY_WIDTH(call)                                                                         \
    if (w.width == index_width::u16) call(static_cast<const std::uint16_t*>(w.col_index));             \
    else call(static_cast<const std::uint32_t*>(w.col_index))

template <class A, class T>
void gemv(const csr_view<T>& w, const float* x, float* y, const epilogue& ep) noexcept {
    auto run = [&](auto cols) {
        if constexpr (is_int8_weight<T>)
            if (w.scales.group != 0) return detail::csr_gemv<A, true>(w, cols, x, y, ep);
        detail::csr_gemv<A, false>(w, cols, x, y, ep);
    };
    SIEVE_CSR_BY_WIDTH(run);
}

template <class A, class T>
void gemm(const csr_view<T>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    auto run = [&](auto cols) { detail::csr_gemm<A>(w, cols, x, y, ep, workspace); };
    SIEVE_CSR_BY_WIDTH(run);
}

template <class A>
void gemv_w8a8(const csr_view<std::int8_t>& w, const float* x, float* y, const epilogue& ep,
               std::int8_t* scratch) noexcept {
    auto run = [&](auto cols) { detail::csr_gemv_w8a8<A>(w, cols, x, y, ep, scratch); };
    SIEVE_CSR_BY_WIDTH(run);
}

template <class A>
void gemm_w8a8(const csr_view<std::int8_t>& w, matrix_view<const float> x, matrix_view<float> y,
               const epilogue& ep, float* workspace) noexcept {
    auto run = [&](auto cols) { detail::csr_gemm_w8a8<A>(w, cols, x, y, ep, workspace); };
    SIEVE_CSR_BY_WIDTH(run);
}

#undef SIEVE_CSR_BY_WIDTH

}  // namespace sieve::kernels
