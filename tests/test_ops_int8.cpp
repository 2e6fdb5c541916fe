// int8 weights through the public operations, on every ISA path and every format:
// weight-only (fp32 activations) against the reference and the naive product of the
// dequantized weights, within the fp32 tolerance; W8A8 against the product with the
// quantized token (tight) and against the fp32 product within the bound the activation
// scale gives. Random shapes with K off the vector width and off the scale group, all
// epilogues, empty rows, unaligned and strided operands, NaN and Inf tokens.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sieve/sieve.hpp>
#include <vector>

#include "support/compare.hpp"
#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/ops_check.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

// Shapes around the kernel tiles: K below, at and past the vector widths (16 to 64 bytes),
// the scale groups (32 to 128) and the blocks; M around the 4-row blocking and past the
// 64-row tiles of the BSR GEMM.
template <class F>
std::vector<std::pair<std::size_t, std::size_t>> int8_shapes(rng& r) {
    std::vector<std::pair<std::size_t, std::size_t>> out = {{1, 1},  {1, 3},   {3, 31},   {5, 33},   {4, 64},
                                                            {6, 65}, {9, 127}, {2, 129}, {17, 200}, {70, 260}};
    for (int i = 0; i < 6; ++i) out.emplace_back(r.index(1, 40), r.index(1, 300));
    return out;
}

}  // namespace

// Runs check(w, k, o, i, r) on packed weights of every shape in int8_shapes, with the
// epilogue, view/matrix and unaligned-output choices rotating across the shapes.
template <class F, class Check>
void for_each_int8_case(std::uint32_t seed, float weight_range, Check&& check) {
    CAPTURE(seed);
    rng r(seed);
    const auto& epilogues = epilogue_cases();
    std::size_t i = 0;
    for (const auto& shape : int8_shapes<F>(r)) {
        const std::size_t m = shape.first, k = shape.second;
        CAPTURE(i, m, k);
        const auto w =
            pack_weights<F>(random_matrix(r, m, k, {i % 3 ? 0.6 : 1.0, -weight_range, weight_range, 0.15}), i % 2);
        run_options o;
        o.epilogue = &epilogues[i % epilogues.size()];
        o.via_view = i % 4 == 1;
        check(w, k, o, i, r);
        ++i;
    }
}

// Blocks of 16 weights with one scale per row: on AVX-512 (16 lanes) the BSR GEMV's
// whole-vector loop with its scales spread once per block row; the list above has only
// 8-weight blocks per row.
using bsr_16x1_i8_row = int8<bsr_16x1, 0>;
using bsr_4x4_i8_row = int8<bsr_4x4, 0>;

TEMPLATE_TEST_CASE("int8 weight-only gemv and gemm match the dequantized product", "[int8][gemv][gemm]",
                   SIEVE_TEST_INT8_FORMATS, bsr_16x1_i8_row, bsr_4x4_i8_row) {
    SIEVE_ON_EACH_ISA();
    for_each_int8_case<TestType>(811, 2.0f, [](const auto& w, std::size_t k, run_options o, std::size_t i, rng& r) {
        o.y_layout = i % 3 == 2 ? unaligned() : layout{};
        check_gemv(w, random_vector(r, k, {1.0, -3.0f, 3.0f}, i % 2 ? unaligned() : layout{}), r, o);
        o.y_layout = i % 3 == 2 ? strided() : layout{};
        check_gemm(w, random_matrix(r, r.index(1, 40), k, {1.0, -3.0f, 3.0f}, i % 2 ? strided(3) : layout{}), r, o);
    });
}

TEMPLATE_TEST_CASE("w8a8 gemv and gemm match the quantized-token product and stay within the rounding bound",
                   "[int8][w8a8][gemv][gemm]", SIEVE_TEST_INT8_FORMATS) {
    SIEVE_ON_EACH_ISA();
    for_each_int8_case<TestType>(821, 1.0f, [](const auto& w, std::size_t k, run_options o, std::size_t i, rng& r) {
        o.y_layout = i % 3 == 1 ? unaligned() : layout{};
        check_gemv_w8a8(w, random_vector(r, k, {0.9, -4.0f, 4.0f}, i % 2 ? unaligned() : layout{}), r, o);
        o.y_layout = i % 3 == 1 ? strided() : layout{};
        // Up to 40 tokens: more than one 16-token panel, and a partial one.
        check_gemm_w8a8(w, random_matrix(r, r.index(1, 40), k, {0.9, -4.0f, 4.0f, 0.1}, i % 2 ? strided(2) : layout{}),
                        r, o);
    });
}

TEMPLATE_TEST_CASE("w8a8: a token holding NaN or Inf gives NaN in every output of that token, others are untouched",
                   "[int8][w8a8][nan]", dense_i8_g32, csr_i8_g64, bitmap_i8_g32, nm_2_4_i8_g32, bsr_1x4_i8_g32, bsr_4x1_i8_g128) {
    SIEVE_ON_EACH_ISA();
    rng r(831);
    const auto w = pack_weights<TestType>(random_matrix(r, 13, 70), false);
    test_matrix x = random_matrix(r, 5, 70);
    x(1, 3) = std::numeric_limits<float>::infinity();
    x(3, 69) = std::numeric_limits<float>::quiet_NaN();
    run_options o;
    o.epilogue = &epilogue_cases()[1];
    check_gemm_w8a8(w, x, r, o);
    test_matrix y(5, 13, {}, -7.0f);
    REQUIRE(sieve::gemm_w8a8(w.matrix, x.view(), y.mutable_view()).ok());
    for (std::size_t n = 0; n < 5; ++n)
        for (std::size_t m = 0; m < 13; ++m) CHECK(std::isnan(y(n, m)) == (n == 1 || n == 3));
    check_gemv_w8a8(w, random_vector(r, 70), r, o);
}

TEMPLATE_TEST_CASE("int8 kernels on all-zero, fully dense and empty-row matrices", "[int8][special]",
                   SIEVE_TEST_INT8_FORMATS, bsr_16x1_i8_row, bsr_4x4_i8_row) {
    SIEVE_ON_EACH_ISA();
    rng r(841);
    const std::size_t m = 19, k = 97;
    const test_matrix sources[] = {test_matrix(m, k), random_matrix(r, m, k, {1.0, -1.0f, 1.0f}),
                                   random_matrix(r, m, k, {0.4, -1.0f, 1.0f, 0.5})};
    for (const auto& source : sources) {
        const auto w = pack_weights<TestType>(source, false);
        const test_matrix x = random_vector(r, k);
        check_gemv(w, x, r);
        check_gemv_w8a8(w, x, r);
        check_gemm(w, random_matrix(r, 7, k), r);
        check_gemm_w8a8(w, random_matrix(r, 7, k), r);
    }
}

TEST_CASE("w8a8 gemv equals gemm on each token, bit for bit", "[int8][w8a8]") {
    SIEVE_ON_EACH_ISA();
    rng r(851);
    auto w = sieve::quantize(*sieve::nm_matrix<>::pack(random_matrix(r, 37, 150).view(), {2, 4},
                                                        sieve::selection::magnitude()),
                             sieve::quant_config::per_group(64));
    REQUIRE(w.ok());
    const test_matrix x = random_matrix(r, 21, 150);
    test_matrix y(21, 37);
    REQUIRE(sieve::gemm_w8a8(*w, x.view(), y.mutable_view()).ok());
    for (std::size_t n = 0; n < 21; ++n) {
        std::vector<float> row(37);
        REQUIRE(sieve::gemv_w8a8(*w, {&x(n, 0), 150}, {row.data(), row.size()}).ok());
        for (std::size_t m = 0; m < 37; ++m) {
            CAPTURE(n, m);
            CHECK(row[m] == Approx(y(n, m)).epsilon(1e-5).margin(1e-5));
        }
    }
}

TEST_CASE("w8a8 argument checks: workspace size, alignment and aliasing", "[int8][w8a8][errors]") {
    rng r(861);
    auto w = sieve::quantize(*sieve::dense_matrix<>::pack(random_matrix(r, 8, 100).view()));
    REQUIRE(w.ok());
    std::vector<float> x(100, 1.0f), y(8);
    sieve::aligned_buffer<float> small;
    REQUIRE(small.allocate(sieve::gemv_workspace_size(100) - 1).ok());
    CHECK(sieve::gemv_w8a8(*w, {x.data(), 100}, {y.data(), 8}, {}, {small.data(), small.size()}).code() ==
          sieve::errc::shape_mismatch);
    sieve::aligned_buffer<float> big;
    REQUIRE(big.allocate(sieve::gemm_workspace_size(100) + 1).ok());
    CHECK(sieve::gemv_w8a8(*w, {x.data(), 100}, {y.data(), 8}, {}, {big.data() + 1, big.size() - 1}).code() ==
          sieve::errc::bad_argument);
    CHECK(sieve::gemv_w8a8(*w, {x.data(), 100}, {y.data(), 8}, {}, {big.data(), big.size()}).ok());
    CHECK(sieve::gemv_w8a8(*w, {x.data(), 100}, {x.data(), 8}).code() == sieve::errc::aliasing);
    test_matrix xs = random_matrix(r, 3, 100), ys(3, 8);
    CHECK(sieve::gemm_w8a8(*w, xs.view(), ys.mutable_view(), {}, {big.data(), 16}).code() ==
          sieve::errc::shape_mismatch);
    CHECK(sieve::gemm_w8a8(*w, xs.view(), ys.mutable_view(), {}, {big.data(), big.size()}).ok());
    test_matrix wrong(3, 9);
    CHECK(sieve::gemm_w8a8(*w, xs.view(), wrong.mutable_view()).code() == sieve::errc::shape_mismatch);
}
