// Declarations of the fast kernels, one function template per (format, op), templated on
// the arch tag and the weight type. Definitions live in kernels/<format>.hpp; with runtime
// dispatch only the per-ISA units include those and instantiate one arch each
// (dispatch/instantiate.hpp).
//
//   gemv<A>(W, x, y, ep):                   y = epilogue(W x)             fp32 or int8 W
//   gemm<A>(W, X, Y, ep, workspace):        Y = epilogue(X W^T)           fp32 or int8 W
//   gemv_w8a8<A>(W, x, y, ep, scratch):     x quantized to int8 per token, int8 W
//   gemm_w8a8<A>(W, X, Y, ep, workspace):   each token of X quantized, int8 W
// workspace: gemm_workspace_floats(K) floats, 64-byte aligned (the packed activation panel);
// scratch: gemv_scratch_bytes(K) bytes (the quantized token).
// Arguments are valid: the public API checked them. Kernels never allocate or fail.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/views.hpp"
#include "../epilogue.hpp"
#include "../formats/bitmap.hpp"
#include "../formats/bsr.hpp"
#include "../formats/csr.hpp"
#include "../formats/dense.hpp"
#include "../formats/nm.hpp"

namespace sieve::kernels {

// Tokens per packed fp32 GEMM panel on the widest arch.
inline constexpr std::size_t max_panel_width = 32;
// Tokens per GEMM tile: threads split a GEMM's tokens only at multiples of it, so a kernel
// that picks its method by the token count of a tile picks the same for any thread count
// (and every output is reduced in the same order).
inline constexpr std::size_t token_tile = 32;

// The 2:4 GEMM on AVX-512 (nm.hpp) packs up to 64 tokens per panel and keeps the sums of
// kblock_rows rows of them in the workspace while it walks K.
inline constexpr std::size_t wide_panel_width = 64;
inline constexpr std::size_t kblock_rows = 96;

// The GEMM workspace: an fp32 panel of K + 64 rows of up to 64 floats, then the sums of
// kblock_rows rows of 64 tokens; or a W8A8 panel of 16 tokens' int8 quads (K rounded up to
// 64) after 32 token scales.
inline constexpr std::size_t gemm_workspace_floats(std::size_t k) noexcept {
    return (k + 64 + kblock_rows) * wide_panel_width;
}
// The W8A8 GEMV scratch: the quantized token, K rounded up to 64 bytes.
inline constexpr std::size_t gemv_scratch_bytes(std::size_t k) noexcept { return (k + 63) / 64 * 64 + 64; }

template <class A, class T> void gemv(const dense_view<T>&, const float*, float*, const epilogue&) noexcept;
template <class A, class T> void gemv(const csr_view<T>&, const float*, float*, const epilogue&) noexcept;
template <class A, class T> void gemv(const nm_view<T>&, const float*, float*, const epilogue&) noexcept;
template <class A, class T> void gemv(const bitmap_view<T>&, const float*, float*, const epilogue&) noexcept;
template <class A, class T, std::size_t R, std::size_t C>
void gemv(const bsr_view<T, R, C>&, const float*, float*, const epilogue&) noexcept;

template <class A, class T>
void gemm(const dense_view<T>&, matrix_view<const float>, matrix_view<float>, const epilogue&, float*) noexcept;
template <class A, class T>
void gemm(const csr_view<T>&, matrix_view<const float>, matrix_view<float>, const epilogue&, float*) noexcept;
template <class A, class T>
void gemm(const nm_view<T>&, matrix_view<const float>, matrix_view<float>, const epilogue&, float*) noexcept;
template <class A, class T>
void gemm(const bitmap_view<T>&, matrix_view<const float>, matrix_view<float>, const epilogue&, float*) noexcept;
template <class A, class T, std::size_t R, std::size_t C>
void gemm(const bsr_view<T, R, C>&, matrix_view<const float>, matrix_view<float>, const epilogue&,
          float*) noexcept;

template <class A>
void gemv_w8a8(const dense_view<std::int8_t>&, const float*, float*, const epilogue&, std::int8_t*) noexcept;
template <class A>
void gemv_w8a8(const csr_view<std::int8_t>&, const float*, float*, const epilogue&, std::int8_t*) noexcept;
template <class A>
void gemv_w8a8(const nm_view<std::int8_t>&, const float*, float*, const epilogue&, std::int8_t*) noexcept;
template <class A>
void gemv_w8a8(const bitmap_view<std::int8_t>&, const float*, float*, const epilogue&, std::int8_t*) noexcept;
template <class A, std::size_t R, std::size_t C>
void gemv_w8a8(const bsr_view<std::int8_t, R, C>&, const float*, float*, const epilogue&, std::int8_t*) noexcept;

template <class A>
void gemm_w8a8(const dense_view<std::int8_t>&, matrix_view<const float>, matrix_view<float>, const epilogue&,
               float*) noexcept;
template <class A>
void gemm_w8a8(const csr_view<std::int8_t>&, matrix_view<const float>, matrix_view<float>, const epilogue&,
               float*) noexcept;
template <class A>
void gemm_w8a8(const nm_view<std::int8_t>&, matrix_view<const float>, matrix_view<float>, const epilogue&,
               float*) noexcept;
template <class A>
void gemm_w8a8(const bitmap_view<std::int8_t>&, matrix_view<const float>, matrix_view<float>, const epilogue&,
               float*) noexcept;
template <class A, std::size_t R, std::size_t C>
void gemm_w8a8(const bsr_view<std::int8_t, R, C>&, matrix_view<const float>, matrix_view<float>, const epilogue&,
               float*) noexcept;

}  // namespace sieve::kernels

// The views that runtime dispatch instantiates for every ISA, per weight type (any other
// BSR shape runs the scalar reference under runtime dispatch; static dispatch compiles every
// shape).
#define SIEVE_RUNTIME_VIEWS_OF(X, T)                                                                \
    X(::sieve::dense_view<T>)                                                                       \
    X(::sieve::csr_view<T>)                                                                         \
    X(::sieve::nm_view<T>)                                                                          \
    X(::sieve::bitmap_view<T>)                                                                      \
    X(::sieve::bsr_view<T SIEVE_COMMA 1 SIEVE_COMMA 4>)                                             \
    X(::sieve::bsr_view<T SIEVE_COMMA 1 SIEVE_COMMA 8>)                                             \
    X(::sieve::bsr_view<T SIEVE_COMMA 1 SIEVE_COMMA 16>)                                            \
    X(::sieve::bsr_view<T SIEVE_COMMA 4 SIEVE_COMMA 1>)                                             \
    X(::sieve::bsr_view<T SIEVE_COMMA 8 SIEVE_COMMA 1>)                                             \
    X(::sieve::bsr_view<T SIEVE_COMMA 16 SIEVE_COMMA 1>)                                            \
    X(::sieve::bsr_view<T SIEVE_COMMA 4 SIEVE_COMMA 4>)
#define SIEVE_RUNTIME_VIEWS(X) SIEVE_RUNTIME_VIEWS_OF(X, float)
#define SIEVE_RUNTIME_INT8_VIEWS(X) SIEVE_RUNTIME_VIEWS_OF(X, ::std::int8_t)
#define SIEVE_COMMA ,
