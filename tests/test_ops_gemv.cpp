// GEMV through the public sieve::gemv, for every format (dense, CSR, N:M 2:4 / 1:4 / 4:8,
// BSR of every shape): agreement with the scalar reference and the naive dense product on
// random and edge shapes, special matrices, every epilogue, misaligned vectors, and NaN/Inf
// activations. The comparison lives in support/ops_check.hpp, written once for all formats.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sieve/sieve.hpp>
#include <type_traits>
#include <vector>

#include "support/compare.hpp"
#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/ops_check.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {
const float nan_f = std::numeric_limits<float>::quiet_NaN();
const float inf_f = std::numeric_limits<float>::infinity();
}  // namespace

TEMPLATE_TEST_CASE("gemv matches the reference and the naive product on random shapes", "[gemv]",
                   SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 501;
    CAPTURE(seed);
    rng r(seed);
    const double densities[] = {0.05, 0.3, 0.6, 1.0};
    const auto& epilogues = epilogue_cases();
    for (std::size_t i = 0; i < 30; ++i) {
        const std::size_t m = r.index(1, 100), k = r.index(1, 100);
        const double density = densities[i % 4];
        const bool prune = i % 3 == 1;
        CAPTURE(i, m, k, density, prune);
        const auto w =
            pack_weights<TestType>(random_matrix(r, m, k, {density, -1.0f, 1.0f, 0.1}), prune);
        const test_matrix x =
            random_vector(r, k, {1.0, -2.0f, 2.0f}, i % 2 ? unaligned() : layout{});
        run_options o;
        o.epilogue = &epilogues[i % epilogues.size()];
        o.y_layout = i % 4 >= 2 ? unaligned() : layout{};
        o.via_view = i % 5 == 0;
        check_gemv(w, x, r, o);
    }
}

TEMPLATE_TEST_CASE(
    "gemv matches the reference on edge shapes (M, K = 1, around the tile, not multiples of 16)",
    "[gemv][edge]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 502;
    CAPTURE(seed);
    rng r(seed);
    std::size_t i = 0;
    for (std::size_t m : edge_rows<TestType>())
        for (std::size_t k : edge_cols<TestType>()) {
            CAPTURE(m, k);
            const auto w = pack_weights<TestType>(random_matrix(r, m, k, {0.5}), false);
            const test_matrix x = random_vector(r, k);
            run_options o;
            o.epilogue = &epilogue_cases()[i++ % 2];  // plain, bias
            check_gemv(w, x, r, o);
        }
}

// Long 2:4 and 1:4 rows: the GEMV walks many 64-position metadata words per row (the other
// tests stop at K = 100), several rows side by side, each prefetching into the next block's
// rows, then single steps and the tail past the last whole word; int8 with scale groups
// too (2:4 picks activations, 1:4 expands its values).
using nm_1_4_i8_g32 = int8<nm_1_4, 32>;
using nm_1_4_i8_row = int8<nm_1_4, 0>;
TEMPLATE_TEST_CASE("N:M gemv on long rows (many metadata words) matches the reference", "[gemv][nm][int8]", nm_2_4,
                   nm_2_4_i8_row, nm_2_4_i8_g32, nm_2_4_i8_g128, nm_1_4, nm_1_4_i8_row, nm_1_4_i8_g32, nm_1_4_i8_g128) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 506;
    CAPTURE(seed);
    rng r(seed);
    std::size_t i = 0;
    for (std::size_t k : {512, 575, 576, 1024, 1100, 1600, 2049}) {
        const std::size_t m = r.index(1, 13);
        CAPTURE(m, k);
        const auto w = pack_weights<TestType>(random_matrix(r, m, k, {0.8, -1.0f, 1.0f, 0.1}), true);
        test_matrix x = random_vector(r, k, {1.0, -2.0f, 2.0f}, i % 2 ? unaligned() : layout{});
        run_options o;
        o.epilogue = &epilogue_cases()[i++ % 2];
        check_gemv(w, x, r, o);
    }
}

TEMPLATE_TEST_CASE("gemv on all-zero, fully dense and empty-row matrices matches the reference",
                   "[gemv][edge]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 503;
    CAPTURE(seed);
    rng r(seed);
    struct special {
        const char* name;
        fill_spec spec;
    };
    const special specials[] = {
        {"all zero", {0.0}},
        {"fully dense", {1.0}},
        {"half the rows empty", {1.0, -1.0f, 1.0f, 0.5}},
        {"sparse with empty rows", {0.2, -1.0f, 1.0f, 0.3}},
    };
    for (const auto& sp : specials)
        for (std::size_t m : {1, 9, 33})
            for (std::size_t k : {1, 16, 37}) {
                CAPTURE(sp.name, m, k);
                const auto w = pack_weights<TestType>(random_matrix(r, m, k, sp.spec), false);
                const test_matrix x = random_vector(r, k);
                for (std::size_t e : {0, 1}) {  // plain: zeros; bias: the bias alone
                    run_options o;
                    o.epilogue = &epilogue_cases()[e];
                    check_gemv(w, x, r, o);
                }
            }
}

TEMPLATE_TEST_CASE("gemv applies every epilogue: bias, alpha, beta accumulate, relu, gelu, silu",
                   "[gemv][epilogue]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 504;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& ec : epilogue_cases())
        for (auto shape : {std::make_pair(7, 33), std::make_pair(17, 64), std::make_pair(32, 5)}) {
            CAPTURE(ec.name, shape.first, shape.second);
            // Values large enough that activations see both signs well away from 0.
            const auto w = pack_weights<TestType>(
                random_matrix(r, static_cast<std::size_t>(shape.first),
                              static_cast<std::size_t>(shape.second), {0.7, -2.0f, 2.0f}),
                true);
            const test_matrix x =
                random_vector(r, static_cast<std::size_t>(shape.second), {1.0, -2.0f, 2.0f});
            run_options o;
            o.epilogue = &ec;
            check_gemv(w, x, r, o);
        }
}

TEMPLATE_TEST_CASE("gemv with beta = 0 never reads y, with beta != 0 it accumulates into y",
                   "[gemv][epilogue]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 505;
    CAPTURE(seed);
    rng r(seed);
    const auto w = pack_weights<TestType>(random_matrix(r, 19, 40, {0.5}), false);
    const test_matrix x = random_vector(r, 40);
    const std::vector<float> bias = random_bias(r, 19);

    SECTION("beta = 0: NaN and Inf in y before the call do not reach the result") {
        sieve::epilogue ep;
        ep.bias = sieve::span<const float>(bias.data(), bias.size());
        test_matrix y(1, 19, {}, nan_f);
        y[3] = inf_f;
        y[4] = -inf_f;
        REQUIRE(sieve::gemv(w.matrix, x.span(), y.mutable_span(), ep).ok());
        for (std::size_t i = 0; i < 19; ++i) {
            CAPTURE(i);
            CHECK(std::isfinite(y[i]));
        }
    }
    SECTION("beta = 1 adds the old y, beta = -2 scales it") {
        for (float beta : {1.0f, -2.0f}) {
            CAPTURE(beta);
            sieve::epilogue ep;
            ep.beta = beta;
            test_matrix y0(1, 19), y(1, 19);
            REQUIRE(sieve::gemv(w.matrix, x.span(), y0.mutable_span()).ok());  // W x alone
            for (std::size_t i = 0; i < 19; ++i) y[i] = static_cast<float>(i) - 9.0f;
            REQUIRE(sieve::gemv(w.matrix, x.span(), y.mutable_span(), ep).ok());
            for (std::size_t i = 0; i < 19; ++i) {
                CAPTURE(i);
                const double want =
                    static_cast<double>(y0[i]) + beta * (static_cast<double>(i) - 9.0);
                CHECK(std::fabs(y[i] - want) <= 1e-5 * (1.0 + std::fabs(want)));
            }
        }
    }
}

TEMPLATE_TEST_CASE("gemv accepts unaligned x and y, from the matrix and from its view",
                   "[gemv][layout]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 506;
    CAPTURE(seed);
    rng r(seed);
    for (auto shape : {std::make_pair(1, 1), std::make_pair(5, 17), std::make_pair(33, 64),
                       std::make_pair(16, 100)}) {
        const std::size_t m = static_cast<std::size_t>(shape.first),
                          k = static_cast<std::size_t>(shape.second);
        const auto w = pack_weights<TestType>(random_matrix(r, m, k, {0.5}), false);
        for (std::size_t x_mis : {0, 1, 3})
            for (std::size_t y_mis : {0, 1, 2})
                for (bool via_view : {false, true}) {
                    CAPTURE(m, k, x_mis, y_mis, via_view);
                    const test_matrix x = random_vector(r, k, {}, {0, x_mis});
                    run_options o;
                    o.epilogue = &epilogue_cases()[1];
                    o.y_layout = {0, y_mis};
                    o.via_view = via_view;
                    check_gemv(w, x, r, o);
                }
    }
}

TEMPLATE_TEST_CASE("gemv propagates NaN and Inf in x through stored entries only", "[gemv][nan]",
                   SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 507;
    CAPTURE(seed);
    rng r(seed);
    for (std::size_t i = 0; i < 12; ++i) {
        const std::size_t m = r.index(1, 40), k = r.index(1, 70);
        CAPTURE(i, m, k);
        const auto w =
            pack_weights<TestType>(random_matrix(r, m, k, {i % 2 ? 0.2 : 0.6}), i % 3 == 0);
        test_matrix x = random_vector(r, k);
        sprinkle_non_finite(x, r, 1 + i % 3);
        run_options o;
        o.epilogue = &epilogue_cases()[i % 3];  // plain, bias, alpha + bias
        check_gemv(w, x, r, o);
    }
}

TEMPLATE_TEST_CASE(
    "gemv on empty shapes (M = 0 or K = 0) succeeds and K = 0 gives the epilogue of 0",
    "[gemv][edge]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 508;
    CAPTURE(seed);
    rng r(seed);
    for (auto shape : {std::make_pair(0, 5), std::make_pair(3, 0), std::make_pair(0, 0)}) {
        const std::size_t m = static_cast<std::size_t>(shape.first),
                          k = static_cast<std::size_t>(shape.second);
        CAPTURE(m, k);
        const auto w = pack_weights<TestType>(test_matrix(m, k), false);
        const test_matrix x = random_vector(r, k);
        for (const auto& ec : epilogue_cases()) {
            run_options o;
            o.epilogue = &ec;
            check_gemv(w, x, r, o);
        }
    }
}

TEMPLATE_TEST_CASE(
    "gemv with 32-bit indices (more than 65536 columns or block columns) matches the reference",
    "[gemv][index]", csr, csr_i8_g64, bsr_4x1, bsr_1x4) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 509;
    CAPTURE(seed);
    rng r(seed);
    // CSR int8 in scale groups: each entry's scale is gathered by a 32-bit index too.
    constexpr bool is_csr = std::is_same<TestType, csr>::value || std::is_same<TestType, csr_i8_g64>::value;
    const std::size_t k = (is_csr ? 1 : TestType::tile_k) * 65536 + 1;
    test_matrix source = random_matrix(r, 5, k, {0.002});
    source(0, k - 1) = 0.5f;  // an index past 2^16 is used
    source(4, k - 1) = -0.25f;
    const auto w = pack_weights<TestType>(source, false);
    REQUIRE(w.matrix.view().width == sieve::index_width::u32);
    for (std::size_t e = 0; e < 3; ++e) {
        test_matrix x = random_vector(r, k, {}, e == 1 ? unaligned() : layout{});
        if (e == 2) sprinkle_non_finite(x, r, 50);
        run_options o;
        o.epilogue = &epilogue_cases()[e];
        check_gemv(w, x, r, o);
    }
}

// Format-specific consequences of the NaN semantics (reference/common.hpp): a structural
// zero never touches its activation; a stored entry, even an explicit zero, does.
TEST_CASE("csr gemv ignores NaN and Inf at pruned positions but not at stored zeros",
          "[csr][gemv][nan]") {
    SIEVE_ON_EACH_ISA();
    test_matrix w(3, 4);
    w(0, 0) = 1.0f;  // row 0 stores column 0 only
    w(1, 1) = 2.0f;  // row 1 stores column 1, and (by mask) an explicit zero at column 2
    w(2, 3) = 3.0f;
    const std::vector<std::uint8_t> mask = {1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1};
    auto packed =
        sieve::csr_matrix<>::pack(w.view(), sieve::selection::from_mask({mask.data(), 3, 4}));
    REQUIRE(packed.ok());
    test_matrix x(1, 4);
    x[0] = 1.0f;
    x[1] = 1.0f;
    x[2] = inf_f;  // meets row 1's stored zero: 0 * Inf = NaN
    x[3] = 1.0f;
    test_matrix y(1, 3, {}, nan_f);
    REQUIRE(sieve::gemv(*packed, x.span(), y.mutable_span()).ok());
    CHECK(y[0] == 1.0f);
    CHECK(std::isnan(y[1]));
    CHECK(y[2] == 3.0f);

    x[2] = 1.0f;
    x[1] = nan_f;  // pruned in rows 0 and 2
    REQUIRE(sieve::gemv(*packed, x.span(), y.mutable_span()).ok());
    CHECK(y[0] == 1.0f);
    CHECK(std::isnan(y[1]));
    CHECK(y[2] == 3.0f);
}

TEST_CASE("dense gemv: NaN anywhere in x reaches every row, Inf times a stored zero is NaN",
          "[dense][gemv][nan]") {
    SIEVE_ON_EACH_ISA();
    test_matrix w(2, 3);
    w(0, 0) = 1.0f;
    w(1, 2) = 1.0f;
    auto packed = sieve::dense_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    test_matrix x(1, 3, {}, 1.0f);
    x[1] = nan_f;
    test_matrix y(1, 2, {}, 0.0f);
    REQUIRE(sieve::gemv(*packed, x.span(), y.mutable_span()).ok());
    CHECK(std::isnan(y[0]));
    CHECK(std::isnan(y[1]));
    x[1] = -inf_f;
    REQUIRE(sieve::gemv(*packed, x.span(), y.mutable_span()).ok());
    CHECK(std::isnan(y[0]));
    CHECK(std::isnan(y[1]));
}

TEST_CASE("nm gemv: Inf meets the explicit zero filling a group and gives NaN", "[nm][gemv][nan]") {
    SIEVE_ON_EACH_ISA();
    // Row 0 keeps only column 2 of its 2:4 group: the packer fills the lowest free position
    // (column 0) with an explicit zero, which is a stored entry. Column 1 is not stored.
    test_matrix w(1, 4);
    w(0, 2) = 2.0f;
    auto packed = sieve::nm_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    test_matrix x(1, 4, {}, 1.0f);
    test_matrix y(1, 1, {}, 0.0f);
    x[1] = inf_f;
    REQUIRE(sieve::gemv(*packed, x.span(), y.mutable_span()).ok());
    CHECK(y[0] == 2.0f);
    x[1] = 1.0f;
    x[0] = inf_f;
    REQUIRE(sieve::gemv(*packed, x.span(), y.mutable_span()).ok());
    CHECK(std::isnan(y[0]));
}

// A NaN reaching the activation must come out as NaN: relu(NaN) = NaN, as in frameworks
// (max(v, 0) written as `v > 0 ? v : 0` turns it into 0 and hides the fault).
TEST_CASE("dense gemv relu propagates a NaN activation instead of clamping it to 0",
          "[dense][gemv][nan][epilogue]") {
    SIEVE_ON_EACH_ISA();
    test_matrix w(2, 2, {}, 1.0f);
    auto packed = sieve::dense_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    test_matrix x(1, 2, {}, 1.0f);
    x[0] = nan_f;
    sieve::epilogue ep;
    ep.act = sieve::activation::relu;
    test_matrix y(1, 2, {}, 0.0f);
    REQUIRE(sieve::gemv(*packed, x.span(), y.mutable_span(), ep).ok());
    CHECK(std::isnan(y[0]));
    CHECK(std::isnan(y[1]));
}
