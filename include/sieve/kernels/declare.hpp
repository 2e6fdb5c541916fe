// Declarations of the fast kernels, one function template per (format, op), templated on
// the xsimd arch. Definitions live in kernels/<format>.hpp; with runtime dispatch only the
// per-ISA units include those and instantiate one arch each (dispatch/instantiate.hpp).
//
//   gemv<A>(W, x, y, ep):            y = epilogue(W x)
//   gemm<A>(W, X, Y, ep, workspace): Y = epilogue(X W^T); workspace holds K x 32 floats,
//                                    64-byte aligned (the packed activation panel).
// Arguments are valid: the public API checked them. Kernels never allocate or fail.
#pragma once

#include <cstddef>

#include "../core/views.hpp"
#include "../epilogue.hpp"
#include "../formats/bsr.hpp"
#include "../formats/csr.hpp"
#include "../formats/dense.hpp"
#include "../formats/nm.hpp"

namespace sieve::kernels {

// Tokens per packed GEMM panel on the widest arch: a GEMM workspace holds K x this floats.
inline constexpr std::size_t max_panel_width = 32;

template <class A> void gemv(const dense_view<float>&, const float*, float*, const epilogue&) noexcept;
template <class A> void gemv(const csr_view<float>&, const float*, float*, const epilogue&) noexcept;
template <class A> void gemv(const nm_view<float>&, const float*, float*, const epilogue&) noexcept;
template <class A, std::size_t R, std::size_t C>
void gemv(const bsr_view<float, R, C>&, const float*, float*, const epilogue&) noexcept;

template <class A>
void gemm(const dense_view<float>&, matrix_view<const float>, matrix_view<float>, const epilogue&, float*) noexcept;
template <class A>
void gemm(const csr_view<float>&, matrix_view<const float>, matrix_view<float>, const epilogue&, float*) noexcept;
template <class A>
void gemm(const nm_view<float>&, matrix_view<const float>, matrix_view<float>, const epilogue&, float*) noexcept;
template <class A, std::size_t R, std::size_t C>
void gemm(const bsr_view<float, R, C>&, matrix_view<const float>, matrix_view<float>, const epilogue&,
          float*) noexcept;

}  // namespace sieve::kernels

// The views that runtime dispatch instantiates for every ISA (any other BSR shape runs the
// scalar reference under runtime dispatch; static dispatch compiles every shape).
#define SIEVE_RUNTIME_VIEWS(X)                                                                    \
    X(::sieve::dense_view<float>)                                                                 \
    X(::sieve::csr_view<float>)                                                                   \
    X(::sieve::nm_view<float>)                                                                    \
    X(::sieve::bsr_view<float SIEVE_COMMA 1 SIEVE_COMMA 4>)                                       \
    X(::sieve::bsr_view<float SIEVE_COMMA 1 SIEVE_COMMA 8>)                                       \
    X(::sieve::bsr_view<float SIEVE_COMMA 1 SIEVE_COMMA 16>)                                      \
    X(::sieve::bsr_view<float SIEVE_COMMA 4 SIEVE_COMMA 1>)                                       \
    X(::sieve::bsr_view<float SIEVE_COMMA 8 SIEVE_COMMA 1>)                                       \
    X(::sieve::bsr_view<float SIEVE_COMMA 16 SIEVE_COMMA 1>)                                      \
    X(::sieve::bsr_view<float SIEVE_COMMA 4 SIEVE_COMMA 4>)
#define SIEVE_COMMA ,
