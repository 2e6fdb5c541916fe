// Eigen's products behind plain pointers. Eigen picks its SIMD at compile time, so
// eigen_native.cpp is compiled for the build machine (-march=native; see CMakeLists.txt):
// built for baseline x86-64 it would run SSE2 code, a strawman rather than a baseline. The
// interface passes only pointers and sizes so that no template instantiated with those flags
// is shared with the rest of the program (the ODR trap of DESIGN.md).
#pragma once

#include <cstddef>

namespace bench::eigen_native {

const char* version();  // "3.4.0"
const char* simd();     // the widest instruction set Eigen was compiled for

// W: M x K row-major. GEMV y[M] = W x; GEMM Y[N x M] = X[N x K] W^T, X and Y row-major.
void dense_gemv(const float* w, std::size_t m, std::size_t k, const float* x, float* y);
void dense_gemm(const float* w, std::size_t m, std::size_t k, const float* x, std::size_t n, float* y);

// The same with W in Eigen's compressed row storage (int32 row pointers and column indices).
struct csr {
    const int* row_ptr;  // m + 1
    const int* col;      // nnz
    const float* values; // nnz
    std::size_t m, k, nnz;
};
void csr_gemv(const csr& w, const float* x, float* y);
void csr_gemm(const csr& w, const float* x, std::size_t n, float* y);

}  // namespace bench::eigen_native
