// GEMM (Y = X W^T, a batch of tokens) through the public sieve::gemm, for every format:
// agreement with the scalar reference and the naive dense product for N in
// {1, 2, 3, 7, 8, 9, 16, 17, 33, 40} (around the token panels of one and two vectors, and a
// one-vector panel after a two-vector one), a few tokens on long rows (N 2-8, 36, 40), a
// lone token past whole 32-token tiles (N = 33, 65: it takes the GEMV kernel), edge shapes,
// shapes past the 64-row tiles, strided and misaligned X and Y (the gap in Y stays
// untouched), every epilogue, NaN/Inf activations, 32-bit indices and a caller-provided
// workspace.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sieve/sieve.hpp>
#include <thread>
#include <type_traits>
#include <vector>

#include "support/compare.hpp"
#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/ops_check.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {
// Around the kernels' token panels: one vector of tokens when the tokens left fit one, else
// two (4 / 8 for SSE and NEON, 8 / 16 for AVX2, 16 / 32 for AVX-512); 40 ends on a narrow one.
const std::size_t batch_sizes[] = {1, 2, 3, 7, 8, 9, 16, 17, 33, 40};
// N tokens against M x K weights.
struct gemm_shape {
    std::size_t n, m, k;
};
}  // namespace

TEMPLATE_TEST_CASE(
    "gemm matches the reference and the naive product for N in {1, 2, 3, 7, 8, 9, 16, 17, 33, 40}",
    "[gemm]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 601;
    CAPTURE(seed);
    rng r(seed);
    const auto& epilogues = epilogue_cases();
    std::size_t i = 0;
    for (std::size_t shape = 0; shape < 6; ++shape) {
        const std::size_t m = r.index(1, 64), k = r.index(1, 64);
        const double density = shape % 2 ? 0.2 : 0.7;
        const auto w = pack_weights<TestType>(random_matrix(r, m, k, {density, -1.0f, 1.0f, 0.1}),
                                              shape % 3 == 2);
        for (std::size_t n : batch_sizes) {
            CAPTURE(shape, m, k, n, density);
            const test_matrix x = random_matrix(r, n, k, {1.0, -2.0f, 2.0f});
            run_options o;
            o.epilogue = &epilogues[i % epilogues.size()];
            o.via_view = i % 4 == 3;
            ++i;
            check_gemm(w, x, r, o);
        }
    }
}

TEMPLATE_TEST_CASE("gemm with a lone token past whole 32-token tiles (N = 33, 65) matches the reference",
                   "[gemm]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 613;
    CAPTURE(seed);
    rng r(seed);
    for (std::size_t n : {33, 65}) {
        const std::size_t m = r.index(1, 24), k = r.index(60, 140);
        CAPTURE(m, k, n);
        const auto w = pack_weights<TestType>(random_matrix(r, m, k, {n == 33 ? 0.3 : 0.8, -1.0f, 1.0f, 0.1}), n == 65);
        test_matrix x = random_matrix(r, n, k, {1.0, -2.0f, 2.0f});
        x(n - 1, r.index(0, k - 1)) = n == 33 ? INFINITY : NAN;  // the lone token: through stored entries only
        run_options o;
        o.epilogue = &epilogue_cases()[n % 3];
        check_gemm(w, x, r, o);
    }
}

TEMPLATE_TEST_CASE(
    "gemm matches the reference on edge shapes (M, K = 1, around the tile, not multiples of 16)",
    "[gemm][edge]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 602;
    CAPTURE(seed);
    rng r(seed);
    std::size_t i = 0;
    for (std::size_t m : edge_rows<TestType>())
        for (std::size_t k : edge_cols<TestType>()) {
            const std::size_t n = batch_sizes[i % 6];  // 1, 2, 3, 7, 8, 9
            CAPTURE(m, k, n);
            const auto w = pack_weights<TestType>(random_matrix(r, m, k, {0.5}), false);
            const test_matrix x = random_matrix(r, n, k);
            run_options o;
            o.epilogue = &epilogue_cases()[i++ % 2];  // plain, bias
            check_gemm(w, x, r, o);
        }
}

TEMPLATE_TEST_CASE(
    "gemm matches the reference past the 64-row tiles of the BSR GEMM (M 65 and 131, K to 520)",
    "[gemm][edge]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 607;
    CAPTURE(seed);
    rng r(seed);
    std::size_t i = 0;
    for (std::size_t m : {65, 131})
        for (std::size_t k : {129, 257, 520}) {
            const std::size_t n = i % 2 ? 17 : 2;
            CAPTURE(m, k, n);
            const auto w = pack_weights<TestType>(random_matrix(r, m, k, {i % 3 ? 0.5 : 0.1}), false);
            const test_matrix x = random_matrix(r, n, k);
            run_options o;
            o.epilogue = &epilogue_cases()[i++ % 2];  // plain, bias
            check_gemm(w, x, r, o);
        }
}

TEMPLATE_TEST_CASE(
    "gemm of a few tokens, alone or after whole 32-token tiles (N 2-8, 36, 40), matches the reference on long rows",
    "[gemm]", SIEVE_TEST_FORMATS) {
    // Long rows take several 64-bit N:M metadata words and int8 scale groups per row, on the
    // path that runs a few tokens as one GEMV (AVX-512); pruned sources keep every group full.
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 614;
    CAPTURE(seed);
    rng r(seed);
    std::size_t i = 0;
    for (std::size_t n : {2, 4, 5, 8, 36, 40}) {
        const std::size_t m = r.index(1, 37), k = r.index(200, 700);
        const bool prune = i % 2 == 0;
        CAPTURE(m, k, n, prune);
        const auto w = pack_weights<TestType>(random_matrix(r, m, k, {prune ? 0.9 : 0.4, -1.0f, 1.0f, 0.1}), prune);
        test_matrix x = random_matrix(r, n, k, {1.0, -2.0f, 2.0f});
        if (i % 3 == 1) sprinkle_non_finite(x, r, 3);
        run_options o;
        o.epilogue = &epilogue_cases()[i++ % epilogue_cases().size()];
        check_gemm(w, x, r, o);
    }
}

// Five to eight tokens run on AVX-512 as two groups of four over blocks of 64 rows
// (kernels/nm.hpp, few_token_gemm): rows past the first block and a short last block, alone
// and after a whole 32-token tile, with the epilogue's bias per row.
TEMPLATE_TEST_CASE("gemm of 5-8 tokens matches the reference over several 64-row blocks", "[gemm]", nm_2_4,
                   nm_2_4_i8_row, nm_2_4_i8_g32, nm_1_4) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 616;
    CAPTURE(seed);
    rng r(seed);
    std::size_t i = 0;
    for (std::size_t n : {5, 7, 8, 38}) {
        const std::size_t m = r.index(65, 200), k = r.index(60, 300);
        CAPTURE(m, k, n);
        const auto w = pack_weights<TestType>(random_matrix(r, m, k, {0.9, -1.0f, 1.0f, 0.1}), true);
        test_matrix x = random_matrix(r, n, k, {1.0, -2.0f, 2.0f});
        if (i % 2 == 1) sprinkle_non_finite(x, r, 3);
        run_options o;
        o.epilogue = &epilogue_cases()[i++ % epilogue_cases().size()];
        check_gemm(w, x, r, o);
    }
}

// The 2:4 GEMM of more than one vector of tokens on AVX-512 takes panels of up to 64 tokens
// (a 48- or 64-token panel, then 26 or 32 more), 64 positions (one metadata word) at a time,
// in blocks of 96 rows: rows past a block, K on and off a word, int8 in every scale layout;
// dense and BSR 4x4 on their panels alongside.
using nm_2_4_i8_g64 = int8<nm_2_4, 64>;
TEMPLATE_TEST_CASE(
    "gemm of many tokens (N 48, 90, 128) matches the reference past 96-row blocks and 64-position words",
    "[gemm][edge]", nm_2_4, nm_2_4_i8_g32, nm_2_4_i8_row, nm_2_4_i8_g64, nm_2_4_i8_g128, dense, bsr_4x4) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 615;
    CAPTURE(seed);
    rng r(seed);
    std::size_t i = 0;
    for (const gemm_shape s : {gemm_shape{48, 97, 64}, {90, 97, 263}, {128, 200, 64}, {48, 200, 263}}) {
        const bool prune = i % 2 == 0;
        CAPTURE(s.m, s.k, s.n, prune);
        const auto w = pack_weights<TestType>(random_matrix(r, s.m, s.k, {prune ? 0.9 : 0.4, -1.0f, 1.0f, 0.1}), prune);
        test_matrix x = random_matrix(r, s.n, s.k, {1.0, -2.0f, 2.0f});
        if (i == 3) sprinkle_non_finite(x, r, 4);  // through stored entries only
        run_options o;
        o.epilogue = &epilogue_cases()[i++ % epilogue_cases().size()];
        check_gemm(w, x, r, o);
    }
}

TEMPLATE_TEST_CASE("gemm on all-zero, fully dense and empty-row matrices matches the reference",
                   "[gemm][edge]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 603;
    CAPTURE(seed);
    rng r(seed);
    const fill_spec specs[] = {{0.0}, {1.0}, {1.0, -1.0f, 1.0f, 0.5}};
    for (const auto& spec : specs)
        for (std::size_t m : {1, 17})
            for (std::size_t k : {1, 33}) {
                CAPTURE(spec.density, spec.zero_rows, m, k);
                const auto w = pack_weights<TestType>(random_matrix(r, m, k, spec), false);
                const test_matrix x = random_matrix(r, 9, k);
                run_options o;
                o.epilogue = &epilogue_cases()[1];
                check_gemm(w, x, r, o);
            }
}

TEMPLATE_TEST_CASE("gemm with strided X and Y (ld > cols) leaves the gap in Y untouched",
                   "[gemm][layout]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 604;
    CAPTURE(seed);
    rng r(seed);
    for (auto shape : {std::make_pair(5, 17), std::make_pair(33, 64), std::make_pair(16, 3)})
        for (std::size_t n : {1, 3, 9}) {
            const std::size_t m = static_cast<std::size_t>(shape.first),
                              k = static_cast<std::size_t>(shape.second);
            const auto w = pack_weights<TestType>(random_matrix(r, m, k, {0.5}), false);
            for (std::size_t x_pad : {0, 1, 16})
                for (std::size_t y_pad : {1, 7}) {
                    CAPTURE(m, k, n, x_pad, y_pad);
                    // The X gap holds NaN sentinels: reading it would poison Y.
                    const test_matrix x = random_matrix(r, n, k, {}, strided(x_pad));
                    run_options o;
                    o.epilogue = &epilogue_cases()[n % 2 ? 4 : 1];  // alpha/beta/bias, bias
                    o.y_layout = strided(y_pad);
                    check_gemm(w, x, r, o);
                }
        }
}

TEMPLATE_TEST_CASE("gemm accepts unaligned X and Y, from the matrix and from its view",
                   "[gemm][layout]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 605;
    CAPTURE(seed);
    rng r(seed);
    const auto w = pack_weights<TestType>(random_matrix(r, 21, 50, {0.5}), false);
    for (std::size_t x_mis : {0, 1, 3})
        for (std::size_t y_mis : {0, 1})
            for (bool via_view : {false, true}) {
                CAPTURE(x_mis, y_mis, via_view);
                const test_matrix x = random_matrix(r, 7, 50, {}, {x_mis == 3 ? 2u : 0u, x_mis});
                run_options o;
                o.epilogue = &epilogue_cases()[2];
                o.y_layout = {y_mis ? 3u : 0u, y_mis};
                o.via_view = via_view;
                check_gemm(w, x, r, o);
            }
}

TEMPLATE_TEST_CASE("gemm applies every epilogue: bias, alpha, beta accumulate, relu, gelu, silu",
                   "[gemm][epilogue]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 606;
    CAPTURE(seed);
    rng r(seed);
    const auto w = pack_weights<TestType>(random_matrix(r, 19, 40, {0.7, -2.0f, 2.0f}), true);
    for (const auto& ec : epilogue_cases())
        for (std::size_t n : {1, 8, 9}) {
            CAPTURE(ec.name, n);
            const test_matrix x = random_matrix(r, n, 40, {1.0, -2.0f, 2.0f});
            run_options o;
            o.epilogue = &ec;
            o.y_layout = strided(2);
            check_gemm(w, x, r, o);
        }
}

TEMPLATE_TEST_CASE("gemm propagates NaN and Inf in X through stored entries only", "[gemm][nan]",
                   SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 607;
    CAPTURE(seed);
    rng r(seed);
    for (std::size_t i = 0; i < 6; ++i) {
        const std::size_t m = r.index(1, 40), k = r.index(1, 50), n = batch_sizes[i];
        CAPTURE(i, m, k, n);
        const auto w = pack_weights<TestType>(random_matrix(r, m, k, {i % 2 ? 0.2 : 0.6}), false);
        test_matrix x = random_matrix(r, n, k);
        sprinkle_non_finite(x, r, 2 + n / 2);
        run_options o;
        o.epilogue = &epilogue_cases()[i % 3];
        check_gemm(w, x, r, o);
    }
}

TEMPLATE_TEST_CASE(
    "gemm on empty shapes (N = 0, M = 0 or K = 0) succeeds and K = 0 gives the epilogue of 0",
    "[gemm][edge]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 608;
    CAPTURE(seed);
    rng r(seed);
    for (const gemm_shape s : {gemm_shape{0, 4, 5}, {3, 0, 5}, {3, 4, 0}, {0, 0, 0}}) {
        CAPTURE(s.n, s.m, s.k);
        const auto w = pack_weights<TestType>(test_matrix(s.m, s.k), false);
        const test_matrix x = random_matrix(r, s.n, s.k);
        for (std::size_t e : {1, 3, 7}) {
            run_options o;
            o.epilogue = &epilogue_cases()[e];
            check_gemm(w, x, r, o);
        }
    }
}

TEMPLATE_TEST_CASE("gemm row n equals gemv on row n of X", "[gemm][gemv]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 609;
    CAPTURE(seed);
    rng r(seed);
    const auto w = pack_weights<TestType>(random_matrix(r, 23, 45, {0.4}), false);
    const test_matrix x = random_matrix(r, 9, 45, {}, strided(3));
    test_matrix y(9, 23, {}, std::numeric_limits<float>::quiet_NaN());
    REQUIRE(sieve::gemm(w.matrix, x.view(), y.mutable_view()).ok());
    for (std::size_t n = 0; n < 9; ++n) {
        CAPTURE(n);
        test_matrix yn(1, 23, {}, std::numeric_limits<float>::quiet_NaN());
        REQUIRE(sieve::gemv(w.matrix, {&x(n, 0), 45}, yn.mutable_span()).ok());
        std::vector<expected_value> want(23);
        const auto naive = naive_gemv(w.dense.view(), w.stored, &x(n, 0), nullptr, {});
        for (std::size_t i = 0; i < 23; ++i) want[i] = {yn[i], 2.0 * naive[i].bound};
        std::vector<float> row(&y(n, 0), &y(n, 0) + 23);
        const comparison c = compare("gemm row vs gemv", row, want);
        INFO(c.text());
        CHECK(c.ok);
    }
}

TEMPLATE_TEST_CASE("a lone token past whole 32-token tiles (N = 1, 33) gets gemv's bits", "[gemm][gemv]",
                   SIEVE_TEST_FORMATS) {
    // It runs the GEMV kernel gemv() picks (CSR: the same gathers, see SIEVE_GATHERS).
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 616;
    CAPTURE(seed);
    rng r(seed);
    const auto w = pack_weights<TestType>(random_matrix(r, 41, 150, {0.3}), false);
    for (std::size_t n : {1, 33}) {
        CAPTURE(n);
        const test_matrix x = random_matrix(r, n, 150);
        test_matrix y(n, 41);
        REQUIRE(sieve::gemm(w.matrix, x.view(), y.mutable_view()).ok());
        test_matrix yn(1, 41);
        REQUIRE(sieve::gemv(w.matrix, {&x(n - 1, 0), 150}, yn.mutable_span()).ok());
        for (std::size_t i = 0; i < 41; ++i) CHECK(std::memcmp(&y(n - 1, i), &yn[i], sizeof(float)) == 0);
    }
}

TEMPLATE_TEST_CASE(
    "gemm with 32-bit indices (more than 65536 columns or block columns) matches the reference",
    "[gemm][index]", csr, csr_i8_g64, bsr_4x1, bsr_1x4) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 610;
    CAPTURE(seed);
    rng r(seed);
    // CSR int8 in scale groups: each entry's scale is gathered by a 32-bit index too.
    constexpr bool is_csr = std::is_same<TestType, csr>::value || std::is_same<TestType, csr_i8_g64>::value;
    const std::size_t k = (is_csr ? 1 : TestType::tile_k) * 65536 + 1;
    test_matrix source = random_matrix(r, 5, k, {0.002});
    source(0, k - 1) = 0.5f;  // an index past 2^16 is used
    source(4, k - 1) = -0.25f;
    const auto w = pack_weights<TestType>(source, false);
    const auto v = w.matrix.view();
    REQUIRE(v.width == sieve::index_width::u32);
    for (std::size_t n : {1, 3}) {
        CAPTURE(n);
        const test_matrix x = random_matrix(r, n, k);
        run_options o;
        o.epilogue = &epilogue_cases()[2];
        check_gemm(w, x, r, o);
    }
}

TEMPLATE_TEST_CASE("gemm with a caller-provided workspace matches the reference",
                   "[gemm][workspace]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 611;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t k = 37;
    const auto w = pack_weights<TestType>(random_matrix(r, 13, k, {0.5}), false);
    // A 64-byte aligned workspace of exactly the documented size, guarded by sentinels.
    test_matrix workspace(1, sieve::gemm_workspace_size(k));
    for (std::size_t n : {1, 9, 33}) {
        CAPTURE(n);
        const test_matrix x = random_matrix(r, n, k);
        test_matrix y(n, 13, {}, std::numeric_limits<float>::quiet_NaN());
        test_matrix y_ref(n, 13, {}, std::numeric_limits<float>::quiet_NaN());
        const sieve::status s =
            sieve::gemm(w.matrix, x.view(), y.mutable_view(), {}, workspace.mutable_span());
        INFO(s.message());
        REQUIRE(s.ok());
        CHECK(workspace.layout_intact());
        sieve::reference::gemm(w.matrix.view(), x.view(), y_ref.mutable_view(), {});
        std::vector<expected_value> naive;
        for (std::size_t i = 0; i < n; ++i) {
            const auto row = naive_gemv(w.dense.view(), w.stored, &x(i, 0), nullptr, {});
            naive.insert(naive.end(), row.begin(), row.end());
        }
        require_agreement("gemm Y (caller workspace)", elements(y), elements(y_ref), naive);
    }
}

// The per-thread workspace starts empty: a thread's first GEMM must not depend on an earlier
// call having allocated it, also when K = 0 needs no panel at all.
TEMPLATE_TEST_CASE("gemm with K = 0 writes the epilogue of 0 on a thread that never ran a gemm",
                   "[gemm][edge][workspace]", SIEVE_TEST_FORMAT_FAMILIES) {
    SIEVE_ON_EACH_ISA();
    const auto w = pack_weights<TestType>(test_matrix(4, 0), false);
    const std::vector<float> bias = {1.0f, -2.0f, 3.0f, -4.0f};
    sieve::epilogue ep;
    ep.bias = bias;
    const test_matrix x(3, 0);
    test_matrix y(3, 4, {}, std::numeric_limits<float>::quiet_NaN());
    sieve::status s;
    std::thread fresh([&] { s = sieve::gemm(w.matrix, x.view(), y.mutable_view(), ep); });
    fresh.join();
    INFO(s.message());
    REQUIRE(s.ok());
    for (std::size_t n = 0; n < 3; ++n)
        for (std::size_t m = 0; m < 4; ++m) {
            CAPTURE(n, m);
            CHECK(y(n, m) == bias[m]);
        }
}
