// One small traits type per weight format under test, so a check is written once, generic
// over the format, and instantiated for every format (TEMPLATE_TEST_CASE with
// SIEVE_TEST_FORMATS). Each traits type says how to pack an arbitrary dense source into the
// format and decodes, from the packed view and the layout its header documents, which
// positions the format stores (what the naive product multiplies).
#pragma once

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sieve/sieve.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "catch_sieve.hpp"
#include "op_instances.hpp"
#include "random.hpp"

namespace sieve_test {

// Unpacks any sieve matrix into a fresh test matrix (NaN-prefilled: unpack must write all).
template <class Matrix>
test_matrix unpack_to_test(const Matrix& a) {
    test_matrix out(a.rows(), a.cols(), {}, std::numeric_limits<float>::quiet_NaN());
    const sieve::status s = a.unpack(out.mutable_view());
    INFO(s.message());
    REQUIRE(s.ok());
    return out;
}

// Positions a view stores, as a rows x cols byte mask.
template <class T>
std::vector<std::uint8_t> stored_positions(const sieve::dense_view<T>& v) {
    return std::vector<std::uint8_t>(v.rows * v.cols, 1);
}

template <class T>
std::vector<std::uint8_t> stored_positions(const sieve::csr_view<T>& v) {
    std::vector<std::uint8_t> out(v.rows * v.cols, 0);
    for (std::size_t r = 0; r < v.rows; ++r)
        for (std::size_t i = v.row_ptr[r]; i < v.row_ptr[r + 1]; ++i)
            out[r * v.cols + v.col(i)] = 1;
    return out;
}

template <class T>
std::vector<std::uint8_t> stored_positions(const sieve::nm_view<T>& v) {
    std::vector<std::uint8_t> out(v.rows * v.cols, 0);
    for (std::size_t r = 0; r < v.rows; ++r)
        for (std::size_t c = 0; c < v.cols; ++c)
            out[r * v.cols + c] = (v.group_mask(r, c / v.pattern.m) >> (c % v.pattern.m)) & 1u;
    return out;
}

// Bit c % 64 of word c / 64 of row r's mask (formats/bitmap.hpp).
template <class T>
std::vector<std::uint8_t> stored_positions(const sieve::bitmap_view<T>& v) {
    std::vector<std::uint8_t> out(v.rows * v.cols, 0);
    for (std::size_t r = 0; r < v.rows; ++r)
        for (std::size_t c = 0; c < v.cols; ++c)
            out[r * v.cols + c] = (v.mask[r * v.words + c / 64] >> (c % 64)) & 1u;
    return out;
}

template <class T, std::size_t R, std::size_t C>
std::vector<std::uint8_t> stored_positions(const sieve::bsr_view<T, R, C>& v) {
    std::vector<std::uint8_t> out(v.rows * v.cols, 0);
    for (std::size_t bi = 0; bi < v.row_blocks; ++bi)
        for (std::size_t i = v.block_row_ptr[bi]; i < v.block_row_ptr[bi + 1]; ++i) {
            const std::size_t bj = v.col_block(i);
            for (std::size_t r = bi * R; r < v.rows && r < (bi + 1) * R; ++r)
                for (std::size_t c = bj * C; c < v.cols && c < (bj + 1) * C; ++c)
                    out[r * v.cols + c] = 1;
        }
    return out;
}

// Traits. `pack(w, prune)`: prune == false keeps the source as it is (nonzeros), except for
// N:M, whose only way to take an arbitrary source is magnitude pruning; prune == true prunes
// by magnitude to 50% (elements, N:M groups or blocks). `pack_with(w, how)` packs with any
// selection. `tile_m` / `tile_k` are the kernel-relevant extents along M and K (vector width
// for dense and CSR, the pattern or block otherwise), from which edge shapes are derived.
// `sparsity_target` is false where the format fixes the sparsity itself (N:M).
struct dense {
    using matrix = sieve::dense_matrix<float>;
    static constexpr std::size_t tile_m = 1, tile_k = 16;
    static constexpr bool sparsity_target = true;
    static sieve::result<matrix> pack_with(sieve::matrix_view<const float> w,
                                           const sieve::selection& how) {
        return matrix::pack(w, how);
    }
    static sieve::result<matrix> pack(sieve::matrix_view<const float> w, bool prune) {
        return matrix::pack(
            w, prune ? sieve::selection::magnitude(0.5) : sieve::selection::nonzeros());
    }
};

struct csr {
    using matrix = sieve::csr_matrix<float>;
    static constexpr std::size_t tile_m = 1, tile_k = 16;
    static constexpr bool sparsity_target = true;
    static sieve::result<matrix> pack_with(sieve::matrix_view<const float> w,
                                           const sieve::selection& how) {
        return matrix::pack(w, how);
    }
    static sieve::result<matrix> pack(sieve::matrix_view<const float> w, bool prune) {
        return matrix::pack(
            w, prune ? sieve::selection::magnitude(0.5) : sieve::selection::nonzeros());
    }
};

// tile_k: the 64-position mask word the kernels step through.
struct bitmap {
    using matrix = sieve::bitmap_matrix<float>;
    static constexpr std::size_t tile_m = 1, tile_k = 64;
    static constexpr bool sparsity_target = true;
    static sieve::result<matrix> pack_with(sieve::matrix_view<const float> w,
                                           const sieve::selection& how) {
        return matrix::pack(w, how);
    }
    static sieve::result<matrix> pack(sieve::matrix_view<const float> w, bool prune) {
        return matrix::pack(
            w, prune ? sieve::selection::magnitude(0.5) : sieve::selection::nonzeros());
    }
};

template <std::uint32_t N, std::uint32_t M>
struct nm {
    using matrix = sieve::nm_matrix<float>;
    static constexpr std::size_t tile_m = 1, tile_k = M;
    static constexpr bool sparsity_target = false;
    static sieve::result<matrix> pack_with(sieve::matrix_view<const float> w,
                                           const sieve::selection& how) {
        return matrix::pack(w, {N, M}, how);
    }
    static sieve::result<matrix> pack(sieve::matrix_view<const float> w, bool /*prune*/) {
        return matrix::pack(w, {N, M}, sieve::selection::magnitude());
    }
};

template <std::size_t R, std::size_t C>
struct bsr {
    using matrix = sieve::bsr_matrix<float, R, C>;
    static constexpr std::size_t tile_m = R, tile_k = C;
    static constexpr bool sparsity_target = true;
    static sieve::result<matrix> pack_with(sieve::matrix_view<const float> w,
                                           const sieve::selection& how) {
        return matrix::pack(w, how);
    }
    static sieve::result<matrix> pack(sieve::matrix_view<const float> w, bool prune) {
        return matrix::pack(
            w, prune ? sieve::selection::magnitude(0.5) : sieve::selection::nonzeros());
    }
};

using nm_2_4 = nm<2, 4>;
using nm_1_4 = nm<1, 4>;
using nm_4_8 = nm<4, 8>;
using bsr_1x4 = bsr<1, 4>;
using bsr_1x8 = bsr<1, 8>;
using bsr_1x16 = bsr<1, 16>;
using bsr_4x1 = bsr<4, 1>;
using bsr_8x1 = bsr<8, 1>;
using bsr_16x1 = bsr<16, 1>;
using bsr_4x4 = bsr<4, 4>;

// Every format the operations are tested on, for TEMPLATE_TEST_CASE after
// `using namespace sieve_test;`. Catch appends the type's name to the test name
// ("... - bsr_4x4"), so `ctest -R bsr` or `sieve_tests "*nm_2_4*"` selects a format.
#define SIEVE_TEST_FORMATS                                                                      \
    dense, csr, bitmap, nm_2_4, nm_1_4, nm_4_8, bsr_1x4, bsr_1x8, bsr_1x16, bsr_4x1, bsr_8x1, bsr_16x1, \
        bsr_4x4
#define SIEVE_TEST_BSR_SHAPES bsr_1x4, bsr_1x8, bsr_1x16, bsr_4x1, bsr_8x1, bsr_16x1, bsr_4x4
// One format of each family, for checks that do not depend on the format's details (the
// argument checks of gemv / gemm are shared, but each family reaches them through its view).
#define SIEVE_TEST_FORMAT_FAMILIES dense, csr, bitmap, nm_2_4, bsr_4x4

// int8 weights: the fp32 format F packed as it packs, then quantized with scale groups of G
// K positions (0: one scale per row). Its unpacked form is the dequantized matrix, so the
// fp32 checks (naive product on the unpacked form, reference on the view) apply as they are.
template <class F, std::size_t G>
struct int8 {
    using base = F;
    using matrix = std::decay_t<decltype(*sieve::quantize(std::declval<const typename F::matrix&>()))>;
    static constexpr std::size_t group = G;
    static constexpr std::size_t tile_m = F::tile_m, tile_k = F::tile_k > G ? F::tile_k : (G == 0 ? F::tile_k : G);
    static constexpr bool sparsity_target = F::sparsity_target;
    static sieve::result<matrix> pack(sieve::matrix_view<const float> w, bool prune) {
        auto packed = F::pack(w, prune);
        if (!packed.ok()) return packed.error();
        return sieve::quantize(*packed, sieve::quant_config{G});
    }
};

// Every format in int8, the scale layout varying across them (per row, groups of 32, 64,
// 128), for TEMPLATE_TEST_CASE.
using dense_i8_row = int8<dense, 0>;
using dense_i8_g32 = int8<dense, 32>;
using csr_i8_g64 = int8<csr, 64>;
using csr_i8_row = int8<csr, 0>;
using bitmap_i8_g32 = int8<bitmap, 32>;
using bitmap_i8_row = int8<bitmap, 0>;
using bitmap_i8_g128 = int8<bitmap, 128>;
using nm_2_4_i8_g32 = int8<nm_2_4, 32>;
using nm_2_4_i8_row = int8<nm_2_4, 0>;
using nm_2_4_i8_g128 = int8<nm_2_4, 128>;
using nm_1_4_i8_g128 = int8<nm_1_4, 128>;
using nm_4_8_i8_g64 = int8<nm_4_8, 64>;
using bsr_1x4_i8_g32 = int8<bsr_1x4, 32>;
using bsr_1x8_i8_row = int8<bsr_1x8, 0>;
using bsr_1x16_i8_g64 = int8<bsr_1x16, 64>;
using bsr_4x1_i8_g128 = int8<bsr_4x1, 128>;
using bsr_8x1_i8_row = int8<bsr_8x1, 0>;
using bsr_16x1_i8_g32 = int8<bsr_16x1, 32>;
using bsr_4x4_i8_g64 = int8<bsr_4x4, 64>;
#define SIEVE_TEST_INT8_FORMATS                                                                      \
    dense_i8_row, dense_i8_g32, csr_i8_g64, csr_i8_row, bitmap_i8_g32, bitmap_i8_row, bitmap_i8_g128, \
        nm_2_4_i8_g32, nm_2_4_i8_row, nm_1_4_i8_g128, nm_4_8_i8_g64, bsr_1x4_i8_g32, bsr_1x8_i8_row,  \
        bsr_1x16_i8_g64, bsr_4x1_i8_g128, bsr_8x1_i8_row, bsr_16x1_i8_g32, bsr_4x4_i8_g64

// A packed weight matrix with what the checks need beside it: its dense (unpacked) form and
// the positions it stores.
template <class F>
struct packed_weights {
    typename F::matrix matrix;
    test_matrix dense;
    std::vector<std::uint8_t> stored;
};

template <class F>
packed_weights<F> pack_weights(const test_matrix& source, bool prune) {
    auto packed = F::pack(source.view(), prune);
    INFO(packed.message());
    REQUIRE(packed.ok());
    packed_weights<F> out;
    out.matrix = std::move(*packed);
    out.dense = unpack_to_test(out.matrix);
    out.stored = stored_positions(out.matrix.view());
    return out;
}

// Shapes for format tests: single elements, one row, sizes below, at and above the vector
// width (16) and the block sides (4, 8, 16), and a few odd larger ones.
inline const std::vector<std::pair<std::size_t, std::size_t>>& format_shapes() {
    static const std::vector<std::pair<std::size_t, std::size_t>> shapes = {
        {1, 1},  {1, 17}, {2, 3},   {3, 16},   {4, 4},   {5, 15},
        {7, 33}, {8, 8},  {16, 64}, {17, 100}, {33, 65},
    };
    return shapes;
}

// Unpacking `a` gives `expected` back bit for bit.
template <class Matrix>
void require_unpacks_to(const Matrix& a, const test_matrix& expected) {
    const test_matrix got = unpack_to_test(a);
    REQUIRE(got.rows() == expected.rows());
    REQUIRE(got.cols() == expected.cols());
    for (std::size_t r = 0; r < got.rows(); ++r)
        for (std::size_t c = 0; c < got.cols(); ++c) {
            if (std::memcmp(&got(r, c), &expected(r, c), sizeof(float)) != 0)
                FAIL("unpack differs at (" << r << ", " << c << "): got " << got(r, c) << ", want "
                                           << expected(r, c));
        }
}

}  // namespace sieve_test
