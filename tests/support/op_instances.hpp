// The entry points sieve::gemv, gemm, gemv_w8a8 and gemm_w8a8 (with and without an
// executor) for every weight type of SIEVE_TEST_FORMATS and SIEVE_TEST_INT8_FORMATS, and
// their views, are instantiated once, in support/op_instances_*.cpp, and declared extern
// here for every test file. Otherwise each test file compiles (and at -O3 inlines) the same
// dispatcher, partitioning and scalar reference for the same ~30 types again: most of the
// test build's time. The tests call exactly the same functions either way.
//
// A type not listed here is instantiated where it is used, as before.
#pragma once

#include <sieve/sieve.hpp>
#include <type_traits>
#include <utility>

namespace sieve_test {
template <class Matrix>
using view_type_of = std::decay_t<decltype(std::declval<const Matrix&>().view())>;
}  // namespace sieve_test

// `extern` (declarations) or nothing (the definitions); W: a weight type without commas.
#define SIEVE_TEST_FP32_OPS(extern_, W)                                                               \
    extern_ template sieve::status sieve::gemv<W>(const W&, sieve::span<const float>,                 \
                                                  sieve::span<float>, const sieve::epilogue&,         \
                                                  const sieve::executor&) noexcept;                   \
    extern_ template sieve::status sieve::gemv<W>(const W&, sieve::span<const float>,                 \
                                                  sieve::span<float>, const sieve::epilogue&) noexcept; \
    extern_ template sieve::status sieve::gemm<W>(const W&, sieve::matrix_view<const float>,          \
                                                  sieve::matrix_view<float>, const sieve::epilogue&,  \
                                                  const sieve::executor&, sieve::span<float>) noexcept; \
    extern_ template sieve::status sieve::gemm<W>(const W&, sieve::matrix_view<const float>,          \
                                                  sieve::matrix_view<float>, const sieve::epilogue&,  \
                                                  sieve::span<float>) noexcept

#define SIEVE_TEST_W8A8_OPS(extern_, W)                                                                \
    extern_ template sieve::status sieve::gemv_w8a8<W>(const W&, sieve::span<const float>,             \
                                                       sieve::span<float>, const sieve::epilogue&,     \
                                                       const sieve::executor&, sieve::span<float>) noexcept; \
    extern_ template sieve::status sieve::gemv_w8a8<W>(const W&, sieve::span<const float>,             \
                                                       sieve::span<float>, const sieve::epilogue&,     \
                                                       sieve::span<float>) noexcept;                   \
    extern_ template sieve::status sieve::gemm_w8a8<W>(const W&, sieve::matrix_view<const float>,      \
                                                       sieve::matrix_view<float>, const sieve::epilogue&, \
                                                       const sieve::executor&, sieve::span<float>) noexcept; \
    extern_ template sieve::status sieve::gemm_w8a8<W>(const W&, sieve::matrix_view<const float>,      \
                                                       sieve::matrix_view<float>, const sieve::epilogue&, \
                                                       sieve::span<float>) noexcept

// A matrix type and its view.
#define SIEVE_TEST_FP32_OPS_OF(extern_, M) \
    SIEVE_TEST_FP32_OPS(extern_, M);       \
    SIEVE_TEST_FP32_OPS(extern_, sieve_test::view_type_of<M>)
#define SIEVE_TEST_INT8_OPS_OF(extern_, M) \
    SIEVE_TEST_FP32_OPS_OF(extern_, M);    \
    SIEVE_TEST_W8A8_OPS(extern_, M);       \
    SIEVE_TEST_W8A8_OPS(extern_, sieve_test::view_type_of<M>)

// Every weight type of the format lists (support/formats.hpp), named here so this header
// needs no other test support. The N:M formats share one type; BSR has one per shape.
namespace sieve_test {
namespace op_types {
template <class T>
using bsr_1x4 = sieve::bsr_matrix<T, 1, 4>;
template <class T>
using bsr_1x8 = sieve::bsr_matrix<T, 1, 8>;
template <class T>
using bsr_1x16 = sieve::bsr_matrix<T, 1, 16>;
template <class T>
using bsr_4x1 = sieve::bsr_matrix<T, 4, 1>;
template <class T>
using bsr_8x1 = sieve::bsr_matrix<T, 8, 1>;
template <class T>
using bsr_16x1 = sieve::bsr_matrix<T, 16, 1>;
template <class T>
using bsr_4x4 = sieve::bsr_matrix<T, 4, 4>;
}  // namespace op_types
}  // namespace sieve_test

#define SIEVE_TEST_OPS_OF_EVERY_FORMAT(extern_, ops, T)            \
    ops(extern_, sieve::dense_matrix<T>);                          \
    ops(extern_, sieve::csr_matrix<T>);                            \
    ops(extern_, sieve::bitmap_matrix<T>);                         \
    ops(extern_, sieve::nm_matrix<T>);                             \
    ops(extern_, sieve_test::op_types::bsr_1x4<T>);                \
    ops(extern_, sieve_test::op_types::bsr_1x8<T>);                \
    ops(extern_, sieve_test::op_types::bsr_1x16<T>);               \
    ops(extern_, sieve_test::op_types::bsr_4x1<T>);                \
    ops(extern_, sieve_test::op_types::bsr_8x1<T>);                \
    ops(extern_, sieve_test::op_types::bsr_16x1<T>);               \
    ops(extern_, sieve_test::op_types::bsr_4x4<T>)
#define SIEVE_TEST_ALL_FP32_OPS(extern_) SIEVE_TEST_OPS_OF_EVERY_FORMAT(extern_, SIEVE_TEST_FP32_OPS_OF, float)
#define SIEVE_TEST_ALL_INT8_OPS(extern_) \
    SIEVE_TEST_OPS_OF_EVERY_FORMAT(extern_, SIEVE_TEST_INT8_OPS_OF, std::int8_t)

#ifndef SIEVE_TEST_OP_INSTANCES_HERE
SIEVE_TEST_ALL_FP32_OPS(extern);
SIEVE_TEST_ALL_INT8_OPS(extern);
#endif
