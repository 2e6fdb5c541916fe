// Scalar reference GEMV and GEMM for every format: the oracle.
//
//   gemv: y[m] = sum_k W[m][k] x[k]                  (W is M x K, x has K, y has M)
//   gemm: Y[n][m] = sum_k X[n][k] W[m][k]            (Y = X W^T; X is N x K, Y is N x M)
// each followed by the epilogue. Arguments are assumed valid (the public API checks them).
// GEMM is defined as one GEMV per row of X, so the two can never disagree.
#pragma once

#include <cstddef>

#include "../core/views.hpp"
#include "../formats/bsr.hpp"
#include "../formats/csr.hpp"
#include "../formats/dense.hpp"
#include "../formats/nm.hpp"
#include "common.hpp"

namespace sieve::reference {

inline void gemv(const dense_view<float>& w, const float* x, float* y, const epilogue& ep) {
    for (std::size_t m = 0; m < w.rows; ++m) {
        double acc = 0.0;
        for (std::size_t k = 0; k < w.cols; ++k) acc += static_cast<double>(w.row(m)[k]) * x[k];
        finish(acc, m, ep, y[m]);
    }
}

inline void gemv(const csr_view<float>& w, const float* x, float* y, const epilogue& ep) {
    for (std::size_t m = 0; m < w.rows; ++m) {
        double acc = 0.0;
        for (std::size_t i = w.row_ptr[m]; i < w.row_ptr[m + 1]; ++i)
            acc += static_cast<double>(w.values[i]) * x[w.col(i)];
        finish(acc, m, ep, y[m]);
    }
}

inline void gemv(const nm_view<float>& w, const float* x, float* y, const epilogue& ep) {
    for (std::size_t m = 0; m < w.rows; ++m) {
        double acc = 0.0;
        const float* values = w.row_values(m);
        std::size_t slot = 0;
        for (std::size_t g = 0; g < w.groups; ++g) {
            const std::uint32_t bits = w.group_mask(m, g);
            for (std::size_t j = 0; j < w.pattern.m; ++j) {
                if (!(bits >> j & 1u)) continue;
                const std::size_t k = g * w.pattern.m + j;
                if (k < w.cols) acc += static_cast<double>(values[slot]) * x[k];
                ++slot;
            }
        }
        finish(acc, m, ep, y[m]);
    }
}

template <std::size_t R, std::size_t C>
void gemv(const bsr_view<float, R, C>& w, const float* x, float* y, const epilogue& ep) {
    for (std::size_t bi = 0; bi < w.row_blocks; ++bi) {
        double acc[R] = {};
        for (std::size_t i = w.block_row_ptr[bi]; i < w.block_row_ptr[bi + 1]; ++i) {
            const float* block = w.block(i);
            const std::size_t k0 = std::size_t{w.col_block(i)} * C;
            for (std::size_t r = 0; r < R; ++r)
                for (std::size_t c = 0; c < C && k0 + c < w.cols; ++c)
                    acc[r] += static_cast<double>(block[r * C + c]) * x[k0 + c];
        }
        for (std::size_t r = 0; r < R && bi * R + r < w.rows; ++r) finish(acc[r], bi * R + r, ep, y[bi * R + r]);
    }
}

template <class View>
void gemm(const View& w, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep) {
    for (std::size_t n = 0; n < x.rows; ++n) gemv(w, x.row(n), y.row(n), ep);
}

}  // namespace sieve::reference
