// Eigen's dense and sparse products (see eigen_native.hpp), mapped over caller memory.
#include "eigen_native.hpp"

#if SIEVE_BENCH_HAVE_EIGEN
#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace bench::eigen_native {
namespace {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using sparse = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;

Eigen::Index idx(std::size_t v) { return static_cast<Eigen::Index>(v); }

Eigen::Map<const sparse> map(const csr& w) {
    return {idx(w.m), idx(w.k), idx(w.nnz), w.row_ptr, w.col, w.values};
}

}  // namespace

const char* version() {
#define SIEVE_STR2(x) #x
#define SIEVE_STR(x) SIEVE_STR2(x)
    return SIEVE_STR(EIGEN_WORLD_VERSION) "." SIEVE_STR(EIGEN_MAJOR_VERSION) "." SIEVE_STR(EIGEN_MINOR_VERSION);
}

// Eigen's own SimdInstructionSetsInUse() says "AVX" for AVX2 + FMA too: name the widest.
const char* simd() {
#if defined(EIGEN_VECTORIZE_AVX512)
    return "AVX-512";
#elif defined(EIGEN_VECTORIZE_AVX2) && defined(EIGEN_VECTORIZE_FMA)
    return "AVX2+FMA";
#elif defined(EIGEN_VECTORIZE_AVX)
    return "AVX";
#elif defined(EIGEN_VECTORIZE_SSE4_2)
    return "SSE4.2";
#elif defined(EIGEN_VECTORIZE_NEON)
    return "NEON";
#else
    return Eigen::SimdInstructionSetsInUse();
#endif
}

void dense_gemv(const float* w, std::size_t m, std::size_t k, const float* x, float* y) {
    Eigen::Map<const row_major> W(w, idx(m), idx(k));
    Eigen::Map<Eigen::VectorXf>(y, idx(m)).noalias() = W * Eigen::Map<const Eigen::VectorXf>(x, idx(k));
}

void dense_gemm(const float* w, std::size_t m, std::size_t k, const float* x, std::size_t n, float* y) {
    Eigen::Map<const row_major> W(w, idx(m), idx(k)), X(x, idx(n), idx(k));
    Eigen::Map<row_major>(y, idx(n), idx(m)).noalias() = X * W.transpose();
}

void csr_gemv(const csr& w, const float* x, float* y) {
    Eigen::Map<Eigen::VectorXf>(y, idx(w.m)).noalias() = map(w) * Eigen::Map<const Eigen::VectorXf>(x, idx(w.k));
}

void csr_gemm(const csr& w, const float* x, std::size_t n, float* y) {
    Eigen::Map<const row_major> X(x, idx(n), idx(w.k));
    Eigen::Map<row_major>(y, idx(n), idx(w.m)).noalias() = X * map(w).transpose();
}

}  // namespace bench::eigen_native
#endif
