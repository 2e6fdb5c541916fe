// Scalar reference GEMV and GEMM for every format and dtype: the oracle.
//
//   gemv: y[m] = sum_k W[m][k] x[k]                  (W is M x K, x has K, y has M)
//   gemm: Y[n][m] = sum_k X[n][k] W[m][k]            (Y = X W^T; X is N x K, Y is N x M)
// each followed by the epilogue. int8 weights stand for value * scale(m, k) (weight-only).
// gemv_w8a8 / gemm_w8a8 quantize each token first (reference/common.hpp) and multiply
// integers exactly. Arguments are assumed valid (the public API checks them). GEMM is one
// GEMV per row of X, so the two can never disagree.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/views.hpp"
#include "../formats/bitmap.hpp"
#include "../formats/bsr.hpp"
#include "../formats/csr.hpp"
#include "../formats/dense.hpp"
#include "../formats/nm.hpp"
#include "common.hpp"

namespace sieve::reference {

// fn(k, value) for every stored entry of row m with k < K, in increasing k.
template <class T, class Fn>
void for_each_in_row(const dense_view<T>& w, std::size_t m, Fn&& fn) {
    for (std::size_t k = 0; k < w.cols; ++k) fn(k, w.row(m)[k]);
}
template <class T, class Fn>
void for_each_in_row(const csr_view<T>& w, std::size_t m, Fn&& fn) {
    for (std::size_t i = w.row_ptr[m]; i < w.row_ptr[m + 1]; ++i) fn(std::size_t{w.col(i)}, w.values[i]);
}
template <class T, class Fn>
void for_each_in_row(const nm_view<T>& w, std::size_t m, Fn&& fn) {
    const T* values = w.row_values(m);
    std::size_t slot = 0;
    for (std::size_t g = 0; g < w.groups; ++g) {
        const std::uint32_t bits = w.group_mask(m, g);
        for (std::size_t j = 0; j < w.pattern.m; ++j) {
            if (!(bits >> j & 1u)) continue;
            const std::size_t k = g * w.pattern.m + j;
            if (k < w.cols) fn(k, values[slot]);
            ++slot;
        }
    }
}
template <class T, class Fn>
void for_each_in_row(const bitmap_view<T>& w, std::size_t m, Fn&& fn) {
    const T* values = w.values + w.row_ptr[m];
    for (std::size_t k = 0; k < w.cols; ++k)
        if (w.kept(m, k)) fn(k, *values++);
}
template <class T, std::size_t R, std::size_t C, class Fn>
void for_each_in_row(const bsr_view<T, R, C>& w, std::size_t m, Fn&& fn) {
    const std::size_t bi = m / R, r = m % R;
    for (std::size_t i = w.block_row_ptr[bi]; i < w.block_row_ptr[bi + 1]; ++i) {
        const std::size_t k0 = std::size_t{w.col_block(i)} * C;
        for (std::size_t c = 0; c < C && k0 + c < w.cols; ++c) fn(k0 + c, w.block(i)[r * C + c]);
    }
}

template <class View>
void gemv(const View& w, const float* x, float* y, const epilogue& ep) {
    for (std::size_t m = 0; m < w.rows; ++m) {
        double acc = 0.0;
        for_each_in_row(w, m, [&](std::size_t k, auto value) {
            double weight = static_cast<double>(value);
            if constexpr (is_int8_weight<decltype(value)>) weight *= static_cast<double>(w.scales.at(m, k));
            acc += weight * x[k];
        });
        finish(acc, m, ep, y[m]);
    }
}

template <class View>
void gemm(const View& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep) {
    for (std::size_t n = 0; n < x.rows; ++n) gemv(w, x.row(n), y.row(n), ep);
}

// W8A8: sum over scale groups of scale(m, g) * (exact integer dot product), times the
// token's scale.
template <class View>
void gemv_w8a8(const View& w, const float* x, float* y, const epilogue& ep) {
    const token_quantization t = quantize_token(x, w.cols);
    for (std::size_t m = 0; m < w.rows; ++m) {
        double acc = 0.0;
        std::int64_t partial = 0;
        std::size_t group = 0;
        bool open = false;
        const std::size_t g_len = w.scales.group;
        for_each_in_row(w, m, [&](std::size_t k, std::int8_t value) {
            const std::size_t g = g_len == 0 ? 0 : k / g_len;
            if (open && g != group) {
                acc += static_cast<double>(w.scales.at(m, group * g_len)) * static_cast<double>(partial);
                partial = 0;
            }
            group = g;
            open = true;
            partial += std::int64_t{value} * t.value(x[k]);
        });
        if (open) acc += static_cast<double>(w.scales.at(m, group * g_len)) * static_cast<double>(partial);
        finish(acc * static_cast<double>(t.scale), m, ep, y[m]);
    }
}

template <class View>
void gemm_w8a8(const View& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep) {
    for (std::size_t n = 0; n < x.rows; ++n) gemv_w8a8(w, x.row(n), y.row(n), ep);
}

}  // namespace sieve::reference
