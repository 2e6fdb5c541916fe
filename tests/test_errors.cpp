// Every bad input at an API boundary (gemv, gemm, pack, unpack, validate) comes back as its
// errc with a message that says what is wrong, before any memory is touched and without
// writing the output; with exceptions on, check() / value_or_throw() throw it.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <sieve/sieve.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "support/catch_sieve.hpp"
#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

const float nan_f = std::numeric_limits<float>::quiet_NaN();
const float inf_f = std::numeric_limits<float>::infinity();
constexpr std::size_t two_pow_31 = std::size_t{1} << 31;

// A small packed matrix (M = 6, K = 10) for the argument checks.
template <class F>
packed_weights<F> small_weights() {
    rng r(700);
    return pack_weights<F>(random_matrix(r, 6, 10, {0.6}), false);
}

}  // namespace

TEMPLATE_TEST_CASE("gemv refuses x, y and bias of the wrong size with shape_mismatch",
                   "[gemv][errors]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix x(1, 10, {}, 1.0f), y(1, 6);
    const std::vector<float> bias(6, 0.5f), short_bias(5, 0.5f);
    require_error(sieve::gemv(w.matrix, {x.data(), 9}, y.mutable_span()),
                  sieve::errc::shape_mismatch, {"x", "9"});
    require_error(sieve::gemv(w.matrix, {x.data(), 10}, {y.data(), 7}), sieve::errc::shape_mismatch,
                  {"y", "7"});
    require_error(sieve::gemv(w.matrix, x.span(), {y.data(), 5}), sieve::errc::shape_mismatch,
                  {"y"});
    sieve::epilogue ep;
    ep.bias = short_bias;
    require_error(sieve::gemv(w.matrix, x.span(), y.mutable_span(), ep),
                  sieve::errc::shape_mismatch, {"bias", "5"});
    ep.bias = bias;
    CHECK(sieve::gemv(w.matrix, x.span(), y.mutable_span(), ep).ok());
}

TEMPLATE_TEST_CASE("gemm refuses X, Y and bias of the wrong shape with shape_mismatch",
                   "[gemm][errors]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix x(3, 11, {}, 1.0f), y(4, 7);
    const auto X = [&](std::size_t rows, std::size_t cols) {
        return sieve::matrix_view<const float>(x.data(), rows, cols, 11);
    };
    const auto Y = [&](std::size_t rows, std::size_t cols) {
        return sieve::matrix_view<float>(y.data(), rows, cols, 7);
    };
    require_error(sieve::gemm(w.matrix, X(3, 11), Y(3, 6)), sieve::errc::shape_mismatch,
                  {"X", "11"});
    require_error(sieve::gemm(w.matrix, X(3, 10), Y(3, 7)), sieve::errc::shape_mismatch, {"Y"});
    require_error(sieve::gemm(w.matrix, X(3, 10), Y(4, 6)), sieve::errc::shape_mismatch, {"Y"});
    require_error(sieve::gemm(w.matrix, X(3, 10), Y(2, 6)), sieve::errc::shape_mismatch, {"Y"});
    const std::vector<float> long_bias(7, 0.5f);
    sieve::epilogue ep;
    ep.bias = long_bias;
    require_error(sieve::gemm(w.matrix, X(3, 10), Y(3, 6), ep), sieve::errc::shape_mismatch,
                  {"bias", "7"});
    CHECK(sieve::gemm(w.matrix, X(3, 10), Y(3, 6)).ok());
}

TEMPLATE_TEST_CASE(
    "gemv and gemm refuse null x, y, X, Y and bias with null_pointer, accept null when empty",
    "[gemv][gemm][errors]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix x(2, 10, {}, 1.0f), y(2, 6);
    require_error(sieve::gemv(w.matrix, {nullptr, 10}, y.mutable_span()), sieve::errc::null_pointer,
                  {"x"});
    require_error(sieve::gemv(w.matrix, {x.data(), 10}, {nullptr, 6}), sieve::errc::null_pointer,
                  {"y"});
    require_error(sieve::gemm(w.matrix, {nullptr, 2, 10}, y.mutable_view()),
                  sieve::errc::null_pointer, {"X"});
    require_error(sieve::gemm(w.matrix, x.view(), {nullptr, 2, 6}), sieve::errc::null_pointer,
                  {"Y"});
    sieve::epilogue ep;
    ep.bias = {nullptr, 6};
    require_error(sieve::gemv(w.matrix, {x.data(), 10}, {y.data(), 6}, ep),
                  sieve::errc::null_pointer, {"bias"});
    require_error(sieve::gemm(w.matrix, x.view(), y.mutable_view(), ep), sieve::errc::null_pointer,
                  {"bias"});

    // Empty operands may be null: a batch of no tokens, a layer with no outputs.
    CHECK(sieve::gemm(w.matrix, {nullptr, 0, 10}, {nullptr, 0, 6}).ok());
    auto none = TestType::pack(test_matrix(0, 10).view(), false);
    REQUIRE(none.ok());
    CHECK(sieve::gemv(*none, {x.data(), 10}, {nullptr, 0}).ok());
}

TEMPLATE_TEST_CASE(
    "gemm refuses X and Y with ld < cols (bad_stride) and extents that overflow (size_overflow)",
    "[gemm][errors]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix x(3, 10, {}, 1.0f), y(3, 6);
    require_error(sieve::gemm(w.matrix, {x.data(), 3, 10, 9}, y.mutable_view()),
                  sieve::errc::bad_stride, {"X", "9"});
    require_error(sieve::gemm(w.matrix, x.view(), {y.data(), 3, 6, 5}), sieve::errc::bad_stride,
                  {"Y", "5"});
    const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
    require_error(sieve::gemm(w.matrix, {x.data(), 3, 10, huge}, y.mutable_view()),
                  sieve::errc::size_overflow, {"X"});
    require_error(sieve::gemm(w.matrix, x.view(), {y.data(), 3, 6, huge}),
                  sieve::errc::size_overflow, {"Y"});
}

TEMPLATE_TEST_CASE(
    "gemm refuses a workspace that is too small (shape_mismatch) or misaligned (bad_argument)",
    "[gemm][errors][workspace]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix x(3, 10, {}, 1.0f), y(3, 6, {}, 42.0f);
    const std::size_t need = sieve::gemm_workspace_size(10);
    test_matrix aligned(1, need + 16), unaligned_ws(1, need, {0, 1});
    require_error(sieve::gemm(w.matrix, x.view(), y.mutable_view(), {}, {aligned.data(), need - 1}),
                  sieve::errc::shape_mismatch, {"workspace"});
    require_error(
        sieve::gemm(w.matrix, x.view(), y.mutable_view(), {}, {unaligned_ws.data(), need}),
        sieve::errc::bad_argument, {"workspace", "aligned"});
    CHECK(y(0, 0) == 42.0f);
    CHECK(sieve::gemm(w.matrix, x.view(), y.mutable_view(), {}, {aligned.data(), need}).ok());
}

// The workspace is written (the packed activation panel): one that overlaps X would
// corrupt the input mid-call, one that overlaps Y or the bias the output.
TEMPLATE_TEST_CASE("gemm refuses a workspace overlapping X, Y or the bias with aliasing",
                   "[gemm][errors][workspace]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    const std::size_t need = sieve::gemm_workspace_size(10);
    test_matrix buf(1, need + 256, {}, 1.0f);  // 64-byte aligned
    float* p = buf.data();
    test_matrix x(3, 10, {}, 1.0f), y(3, 6);
    const std::vector<float> bias(6, 0.0f);
    SECTION("workspace overlaps X") {
        require_error(
            sieve::gemm(w.matrix, {p + need - 16, 3, 10}, y.mutable_view(), {}, {p, need}),
            sieve::errc::aliasing, {"workspace"});
    }
    SECTION("workspace overlaps Y") {
        require_error(sieve::gemm(w.matrix, x.view(), {p + 16, 3, 6}, {}, {p, need}),
                      sieve::errc::aliasing, {"workspace"});
    }
    SECTION("workspace overlaps the bias") {
        sieve::epilogue ep;
        ep.bias = {p + 32, 6};
        require_error(sieve::gemm(w.matrix, x.view(), y.mutable_view(), ep, {p, need}),
                      sieve::errc::aliasing, {"workspace"});
    }
}

TEMPLATE_TEST_CASE("gemv and gemm refuse an output overlapping an input with aliasing",
                   "[gemv][gemm][errors]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix buf(1, 64, {}, 1.0f);
    float* p = buf.data();
    SECTION("gemv: y overlaps the end of x") {
        require_error(sieve::gemv(w.matrix, {p, 10}, {p + 9, 6}), sieve::errc::aliasing,
                      {"y", "x"});
    }
    SECTION("gemv: y overlaps the start of x") {
        require_error(sieve::gemv(w.matrix, {p + 5, 10}, {p, 6}), sieve::errc::aliasing,
                      {"y", "x"});
    }
    SECTION("gemv: y overlaps the bias") {
        sieve::epilogue ep;
        ep.bias = {p + 20, 6};
        require_error(sieve::gemv(w.matrix, {p, 10}, {p + 23, 6}, ep), sieve::errc::aliasing,
                      {"bias"});
    }
    SECTION("gemv: y right after x is not aliasing") {
        CHECK(sieve::gemv(w.matrix, {p, 10}, {p + 10, 6}).ok());
    }
    SECTION("gemm: Y overlaps X") {
        require_error(sieve::gemm(w.matrix, {p, 2, 10}, {p + 12, 2, 6}), sieve::errc::aliasing,
                      {"Y", "X"});
    }
    SECTION("gemm: Y is X") {
        require_error(sieve::gemm(w.matrix, {p, 2, 10}, {p, 2, 6, 10}), sieve::errc::aliasing,
                      {"Y", "X"});
    }
    SECTION("gemm: Y overlaps the bias") {
        sieve::epilogue ep;
        ep.bias = {p + 40, 6};
        require_error(sieve::gemm(w.matrix, {p, 2, 10}, {p + 30, 2, 6}, ep), sieve::errc::aliasing,
                      {"bias"});
    }
    SECTION("gemm: Y right after X is not aliasing") {
        CHECK(sieve::gemm(w.matrix, {p, 2, 10}, {p + 20, 2, 6}).ok());
    }
}

TEMPLATE_TEST_CASE("gemv and gemm refuse non-finite alpha or beta with non_finite",
                   "[gemv][gemm][errors]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix x(2, 10, {}, 1.0f), y(2, 6);
    for (float bad : {nan_f, inf_f, -inf_f})
        for (bool is_alpha : {true, false}) {
            CAPTURE(bad, is_alpha);
            sieve::epilogue ep;
            (is_alpha ? ep.alpha : ep.beta) = bad;
            require_error(sieve::gemv(w.matrix, {x.data(), 10}, {y.data(), 6}, ep),
                          sieve::errc::non_finite, {is_alpha ? "alpha" : "beta"});
            require_error(sieve::gemm(w.matrix, x.view(), y.mutable_view(), ep),
                          sieve::errc::non_finite, {is_alpha ? "alpha" : "beta"});
        }
}

TEMPLATE_TEST_CASE("gemv and gemm write nothing when they refuse their arguments",
                   "[gemv][gemm][errors]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix x(2, 10, {}, 1.0f);
    test_matrix y(2, 6, {}, 42.0f);
    const std::vector<float> short_bias(5, 1.0f);
    sieve::epilogue bad_bias;
    bad_bias.bias = short_bias;
    sieve::epilogue bad_alpha;
    bad_alpha.alpha = nan_f;
    CHECK_FALSE(sieve::gemv(w.matrix, {x.data(), 10}, {y.data(), 6}, bad_bias).ok());
    CHECK_FALSE(sieve::gemv(w.matrix, {x.data(), 10}, {y.data(), 6}, bad_alpha).ok());
    CHECK_FALSE(sieve::gemv(w.matrix, {x.data(), 9}, {y.data(), 6}).ok());
    CHECK_FALSE(sieve::gemm(w.matrix, x.view(), y.mutable_view(), bad_bias).ok());
    CHECK_FALSE(sieve::gemm(w.matrix, x.view(), y.mutable_view(), bad_alpha).ok());
    CHECK_FALSE(sieve::gemm(w.matrix, {x.data(), 2, 9, 10}, y.mutable_view()).ok());
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t c = 0; c < 6; ++c) CHECK(y(r, c) == 42.0f);
    CHECK(y.layout_intact());
}

TEMPLATE_TEST_CASE(
    "gemv and gemm refuse weights with a dimension >= 2^31 (index_overflow) before touching memory",
    "[gemv][gemm][errors]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = small_weights<TestType>();
    test_matrix x(1, 10, {}, 1.0f), y(1, 6);
    auto wide = w.matrix.view();
    wide.cols = two_pow_31;
    require_error(sieve::gemv(wide, x.span(), y.mutable_span()), sieve::errc::index_overflow,
                  {"2147483648"});
    require_error(sieve::gemm(wide, x.view(), y.mutable_view()), sieve::errc::index_overflow);
    auto tall = w.matrix.view();
    tall.rows = two_pow_31;
    require_error(sieve::gemv(tall, x.span(), y.mutable_span()), sieve::errc::index_overflow,
                  {"2147483648"});
}

TEMPLATE_TEST_CASE("pack refuses null, badly strided, overflowing and oversized weight sources",
                   "[pack][errors]", SIEVE_TEST_FORMATS) {
    float one[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    const auto pack = [](sieve::matrix_view<const float> w) {
        return TestType::pack_with(w, sieve::selection::nonzeros());
    };
    require_error(pack({nullptr, 2, 3}).error(), sieve::errc::null_pointer, {"weights"});
    require_error(pack({one, 2, 2, 1}).error(), sieve::errc::bad_stride, {"weights"});
    require_error(pack({one, 2, 1, std::numeric_limits<std::size_t>::max() / 2}).error(),
                  sieve::errc::size_overflow);
    // A real 4-float buffer: any read past it would be a bug the sanitizers catch.
    require_error(pack({one, 1, two_pow_31, two_pow_31}).error(), sieve::errc::index_overflow,
                  {"2147483648"});
    require_error(pack({one, two_pow_31, 1, 1}).error(), sieve::errc::index_overflow,
                  {"2147483648"});
    // Empty sources may be null.
    CHECK(pack({nullptr, 0, 3}).ok());
    CHECK(pack({nullptr, 3, 0}).ok());
}

TEMPLATE_TEST_CASE("pack refuses a mask of the wrong shape, null or badly strided",
                   "[pack][mask][errors]", SIEVE_TEST_FORMATS) {
    const test_matrix w(4, 8, {}, 1.0f);
    const std::vector<std::uint8_t> mask(64, 0);
    const auto pack = [&](sieve::matrix_view<const std::uint8_t> m) {
        return TestType::pack_with(w.view(), sieve::selection::from_mask(m));
    };
    require_error(pack({mask.data(), 4, 7}).error(), sieve::errc::shape_mismatch, {"mask"});
    require_error(pack({mask.data(), 5, 8}).error(), sieve::errc::shape_mismatch, {"mask"});
    require_error(pack({nullptr, 4, 8}).error(), sieve::errc::null_pointer, {"mask"});
    require_error(pack({mask.data(), 4, 8, 7}).error(), sieve::errc::bad_stride, {"mask"});
    CHECK(pack({mask.data(), 4, 8, 16}).ok());
}

TEMPLATE_TEST_CASE(
    "pack by magnitude refuses NaN weights (non_finite) and sparsity outside [0, 1] (bad_argument)",
    "[pack][magnitude][errors]", SIEVE_TEST_FORMATS) {
    test_matrix w(3, 8, {}, 1.0f);
    w(1, 2) = nan_f;
    require_error(TestType::pack_with(w.view(), sieve::selection::magnitude(0.5)).error(),
                  sieve::errc::non_finite, {"(1, 2)", "NaN"});
    // NaN is a nonzero like any other when nothing is ranked.
    if (TestType::sparsity_target)
        CHECK(TestType::pack_with(w.view(), sieve::selection::nonzeros()).ok());
    w(1, 2) = inf_f;  // Inf has an order: fine
    CHECK(TestType::pack_with(w.view(), sieve::selection::magnitude(0.5)).ok());

    if (TestType::sparsity_target) {
        for (double bad : {-0.1, 1.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
            CAPTURE(bad);
            require_error(TestType::pack_with(w.view(), sieve::selection::magnitude(bad)).error(),
                          sieve::errc::bad_argument, {"sparsity"});
        }
    } else {
        // N:M: the pattern fixes the sparsity, the target is ignored.
        CHECK(TestType::pack_with(w.view(), sieve::selection::magnitude(1.5)).ok());
    }
}

TEMPLATE_TEST_CASE("unpack refuses a target of the wrong shape, null or badly strided",
                   "[unpack][errors]", SIEVE_TEST_FORMATS) {
    const auto w = small_weights<TestType>();  // 6 x 10
    test_matrix out(7, 12, {}, 5.0f);
    const auto& a = w.matrix;
    require_error(a.unpack({out.data(), 6, 9, 12}), sieve::errc::shape_mismatch, {"output"});
    require_error(a.unpack({out.data(), 7, 10, 12}), sieve::errc::shape_mismatch, {"output"});
    require_error(a.unpack({nullptr, 6, 10}), sieve::errc::null_pointer, {"output"});
    require_error(a.unpack({out.data(), 6, 10, 9}), sieve::errc::bad_stride, {"output"});
    for (std::size_t r = 0; r < 7; ++r)
        for (std::size_t c = 0; c < 12; ++c) CHECK(out(r, c) == 5.0f);
    CHECK(a.unpack({out.data(), 6, 10, 12}).ok());
}

TEST_CASE("nm pack refuses unsupported patterns (3:5, 0:4, 5:4, 2:3, 1:32) with bad_argument",
          "[nm][pack][errors]") {
    const test_matrix w(2, 8, {}, 1.0f);
    const sieve::nm_pattern bad[] = {{3, 5}, {0, 4}, {5, 4}, {2, 3}, {1, 32}};
    for (const auto p : bad) {
        CAPTURE(p.n, p.m);
        char name[32];
        std::snprintf(name, sizeof name, "%u:%u", p.n, p.m);
        require_error(sieve::nm_matrix<>::pack(w.view(), p, sieve::selection::magnitude()).error(),
                      sieve::errc::bad_argument, {name});
    }
    // Refused before the source is looked at.
    require_error(sieve::nm_matrix<>::pack({nullptr, 2, 8}, {3, 5}).error(),
                  sieve::errc::bad_argument);
}

TEST_CASE("nm pack refuses a matrix that is not N:M sparse with not_nm_sparse",
          "[nm][pack][errors]") {
    const test_matrix w(2, 8, {}, 1.0f);
    require_error(sieve::nm_matrix<>::pack(w.view()).error(), sieve::errc::not_nm_sparse,
                  {"row 0", "0..3", "2:4"});
    require_error(sieve::nm_matrix<>::pack(w.view(), {4, 8}).error(), sieve::errc::not_nm_sparse,
                  {"row 0", "4:8"});
    CHECK(sieve::nm_matrix<>::pack(w.view(), {8, 8}).ok());
}

#if SIEVE_DEBUG_CHECKS
// validate() runs inside gemv / gemm in debug builds: a corrupt view is refused with the
// validation error, prefixed by the operation.
TEST_CASE("csr gemv and gemm refuse a corrupt view in debug builds", "[csr][gemv][gemm][errors]") {
    SIEVE_ON_EACH_ISA();
    const test_matrix w(3, 4, {}, 1.0f);
    auto packed = sieve::csr_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    std::vector<std::uint32_t> row_ptr(packed->view().row_ptr, packed->view().row_ptr + 4);
    row_ptr[2] = 1;  // decreases
    auto v = packed->view();
    v.row_ptr = row_ptr.data();
    test_matrix x(2, 4, {}, 1.0f), y(2, 3, {}, 7.0f);
    require_error(sieve::gemv(v, {x.data(), 4}, {y.data(), 3}), sieve::errc::corrupt_data,
                  {"gemv", "row_ptr"});
    require_error(sieve::gemm(v, x.view(), y.mutable_view()), sieve::errc::corrupt_data,
                  {"gemm", "row_ptr"});
    v.row_ptr = nullptr;
    require_error(sieve::gemv(v, {x.data(), 4}, {y.data(), 3}), sieve::errc::null_pointer,
                  {"gemv"});
    CHECK(y(0, 0) == 7.0f);
}

TEST_CASE("nm gemv and gemm refuse a view whose group mask has the wrong popcount in debug builds",
          "[nm][gemv][gemm][errors]") {
    SIEVE_ON_EACH_ISA();
    const test_matrix w(2, 8, {}, 1.0f);
    auto packed = sieve::nm_matrix<>::pack(w.view(), {2, 4}, sieve::selection::magnitude());
    REQUIRE(packed.ok());
    auto v = packed->view();
    std::vector<std::uint8_t> meta(v.meta, v.meta + v.rows * v.meta_ld);
    meta[v.meta_ld] = 0xff;  // row 1: both groups claim four positions
    v.meta = meta.data();
    test_matrix x(1, 8, {}, 1.0f), y(1, 2);
    require_error(sieve::gemv(v, x.span(), y.mutable_span()), sieve::errc::corrupt_data,
                  {"gemv", "row 1"});
    require_error(sieve::gemm(v, x.view(), y.mutable_view()), sieve::errc::corrupt_data,
                  {"gemm", "row 1"});
}

TEST_CASE("bsr gemv and gemm refuse a view with a block column out of range in debug builds",
          "[bsr][gemv][gemm][errors]") {
    SIEVE_ON_EACH_ISA();
    const test_matrix w(4, 8, {}, 1.0f);
    auto packed = sieve::bsr_matrix<float, 4, 4>::pack(w.view());
    REQUIRE(packed.ok());
    auto v = packed->view();
    REQUIRE(v.width == sieve::index_width::u16);
    std::vector<std::uint16_t> cols = {0, 2};  // block column 2 of 2
    v.block_col = cols.data();
    test_matrix x(1, 8, {}, 1.0f), y(1, 4);
    require_error(sieve::gemv(v, x.span(), y.mutable_span()), sieve::errc::corrupt_data,
                  {"gemv", "block column 2"});
    require_error(sieve::gemm(v, x.view(), y.mutable_view()), sieve::errc::corrupt_data, {"gemm"});
}

TEST_CASE("dense gemv refuses a view with null values or ld < cols in debug builds",
          "[dense][gemv][errors]") {
    SIEVE_ON_EACH_ISA();
    const test_matrix w(2, 3, {}, 1.0f);
    auto packed = sieve::dense_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    test_matrix x(1, 3, {}, 1.0f), y(1, 2);
    auto v = packed->view();
    v.values = nullptr;
    require_error(sieve::gemv(v, x.span(), y.mutable_span()), sieve::errc::null_pointer, {"gemv"});
    v = packed->view();
    v.ld = 2;
    require_error(sieve::gemv(v, x.span(), y.mutable_span()), sieve::errc::bad_stride, {"gemv"});
}
#endif

#if SIEVE_HAS_EXCEPTIONS
TEST_CASE("check and value_or_throw throw error_exception carrying the code and message",
          "[errors][exceptions]") {
    SIEVE_ON_EACH_ISA();
    test_matrix x(1, 3, {}, 1.0f), y(1, 2);
    auto packed = sieve::dense_matrix<>::pack(test_matrix(2, 3, {}, 1.0f).view());
    REQUIRE(packed.ok());

    CHECK_NOTHROW(sieve::check(sieve::gemv(*packed, x.span(), y.mutable_span())));
    try {
        sieve::check(sieve::gemv(*packed, {x.data(), 2}, y.mutable_span()));
        FAIL("check did not throw");
    } catch (const sieve::error_exception& e) {
        CHECK(e.code() == sieve::errc::shape_mismatch);
        CHECK(std::string(e.what()).find("x") != std::string::npos);
    }

    const test_matrix w(2, 8, {}, 1.0f);
    try {
        (void)sieve::value_or_throw(sieve::nm_matrix<>::pack(w.view()));
        FAIL("value_or_throw did not throw");
    } catch (const sieve::error_exception& e) {
        CHECK(e.code() == sieve::errc::not_nm_sparse);
        CHECK(std::strlen(e.what()) > 0);
    }
    const auto ok = sieve::value_or_throw(sieve::csr_matrix<>::pack(w.view()));
    CHECK(ok.nnz() == 16);
    CHECK_THROWS_AS(sieve::value_or_throw(sieve::csr_matrix<>::pack({nullptr, 1, 1})),
                    sieve::error_exception);
}
#endif

TEST_CASE("every errc has a distinct, non-empty name and ok statuses say ok", "[errors]") {
    const sieve::errc all[] = {
        sieve::errc::ok,
        sieve::errc::null_pointer,
        sieve::errc::shape_mismatch,
        sieve::errc::bad_stride,
        sieve::errc::aliasing,
        sieve::errc::not_nm_sparse,
        sieve::errc::bad_argument,
        sieve::errc::index_overflow,
        sieve::errc::size_overflow,
        sieve::errc::out_of_memory,
        sieve::errc::non_finite,
        sieve::errc::corrupt_data,
        sieve::errc::unsupported,
    };
    std::set<std::string> names;
    for (auto e : all) {
        const std::string name = sieve::to_string(e);
        CHECK_FALSE(name.empty());
        CHECK(name != "unknown error");
        names.insert(name);
    }
    CHECK(names.size() == sizeof all / sizeof all[0]);
    const sieve::status ok;
    CHECK(ok.ok());
    CHECK(ok.code() == sieve::errc::ok);
    CHECK(std::string(ok.message()) == "ok");
}

TEST_CASE("a packed matrix moves out of a temporary result with *", "[errors]") {
    // Packed matrices own their arrays and cannot be copied: `*pack(...)` must move.
    static_assert(std::is_same<decltype(*sieve::csr_matrix<>::pack({})), sieve::csr_matrix<>&&>::value,
                  "operator* of an rvalue result yields an rvalue");
    const test_matrix w(3, 8, {}, 1.0f);
    sieve::csr_matrix<> moved = *sieve::csr_matrix<>::pack(w.view());
    CHECK(moved.nnz() == 24);
    auto kept = sieve::csr_matrix<>::pack(w.view());
    REQUIRE(kept.ok());
    CHECK((*kept).nnz() == 24);  // an lvalue result keeps its value
    CHECK(kept->nnz() == 24);
}
