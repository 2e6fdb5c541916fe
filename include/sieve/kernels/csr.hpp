// CSR fp32 GEMV and GEMM.
//
// GEMV: per row, gather x at the column indices one vector at a time (hardware gathers on
// AVX2 and AVX-512, see isa/helpers.hpp), two accumulators; the row tail is scalar.
// GEMM: per stored weight, two FMAs against the packed activation panel; two weights per
// step into separate accumulators to keep four FMA chains in flight.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../formats/csr.hpp"
#include "common.hpp"

namespace sieve::kernels {
namespace detail {

template <class A, class Index>
void csr_gemv(const csr_view<float>& w, const Index* cols, const float* x, float* y, const epilogue& ep) noexcept {
    constexpr std::size_t L = lanes<A>;
    alignas(64) float results[L];
    std::size_t pending = 0;
    for (std::size_t m = 0; m < w.rows; ++m) {
        const std::size_t begin = w.row_ptr[m], end = w.row_ptr[m + 1];
        vfloat<A> acc0(0.0f), acc1(0.0f);
        std::size_t i = begin;
        for (; i + 2 * L <= end; i += 2 * L) {
            acc0 = xsimd::fma(vfloat<A>::load_unaligned(w.values + i), gather(x, cols + i, A{}), acc0);
            acc1 = xsimd::fma(vfloat<A>::load_unaligned(w.values + i + L), gather(x, cols + i + L, A{}), acc1);
        }
        if (i + L <= end) {
            acc0 = xsimd::fma(vfloat<A>::load_unaligned(w.values + i), gather(x, cols + i, A{}), acc0);
            i += L;
        }
        float sum = reduce_add<A>(acc0 + acc1);
        for (; i < end; ++i) sum += w.values[i] * x[cols[i]];
        results[pending++] = sum;
        if (pending == L || m + 1 == w.rows) {
            store_rows<A>(results, pending, m + 1 - pending, y, ep);
            pending = 0;
        }
    }
}

template <class A, class Index>
void csr_gemm(const csr_view<float>& w, const Index* cols, matrix_view<const float> x, matrix_view<float> y,
              const epilogue& ep, float* workspace) noexcept {
    constexpr std::size_t P = panel_width<A>;
    for_each_panel<A>(x, workspace, [&](const float* panel, std::size_t n0, std::size_t count) {
        for (std::size_t m = 0; m < w.rows; ++m) {
            const std::size_t begin = w.row_ptr[m], end = w.row_ptr[m + 1];
            panel_acc<A> acc0, acc1;
            std::size_t i = begin;
            for (; i + 2 <= end; i += 2) {
                acc0.add(w.values[i], panel + std::size_t{cols[i]} * P);
                acc1.add(w.values[i + 1], panel + std::size_t{cols[i + 1]} * P);
            }
            if (i < end) acc0.add(w.values[i], panel + std::size_t{cols[i]} * P);
            acc0.add(acc1);
            store_column<A>(acc0, m, n0, count, y, ep);
        }
    });
}

}  // namespace detail

template <class A>
void gemv(const csr_view<float>& w, const float* x, float* y, const epilogue& ep) noexcept {
    if (w.width == index_width::u16)
        detail::csr_gemv<A>(w, static_cast<const std::uint16_t*>(w.col_index), x, y, ep);
    else
        detail::csr_gemv<A>(w, static_cast<const std::uint32_t*>(w.col_index), x, y, ep);
}

template <class A>
void gemm(const csr_view<float>& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
          float* workspace) noexcept {
    if (w.width == index_width::u16)
        detail::csr_gemm<A>(w, static_cast<const std::uint16_t*>(w.col_index), x, y, ep, workspace);
    else
        detail::csr_gemm<A>(w, static_cast<const std::uint32_t*>(w.col_index), x, y, ep, workspace);
}

}  // namespace sieve::kernels
