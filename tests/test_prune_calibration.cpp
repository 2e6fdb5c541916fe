// Calibration statistics: per-channel squared norms and H = 2 X X^T, accumulated in double,
// streaming over batches of any size (the result does not depend on how the tokens are
// split), mergeable, over strided batches; bad batches are refused and change nothing.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sieve/sieve.hpp>
#include <vector>

#include "support/catch_sieve.hpp"
#include "support/layers.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

// Statistics of `x` by the definition, summed in token order like the accumulator does:
// each product of two floats is exact in double, so the sums must agree bit for bit.
struct naive_stats {
    std::vector<double> sq_norm, hessian;
};

naive_stats naive_statistics(const test_matrix& x) {
    const std::size_t k = x.cols();
    naive_stats s{std::vector<double>(k, 0.0), std::vector<double>(k * k, 0.0)};
    for (std::size_t t = 0; t < x.rows(); ++t)
        for (std::size_t i = 0; i < k; ++i) {
            const double xi = x(t, i);
            s.sq_norm[i] += xi * xi;
            for (std::size_t j = 0; j < k; ++j)
                s.hessian[i * k + j] += xi * static_cast<double>(x(t, j));
        }
    for (double& h : s.hessian) h *= 2.0;
    return s;
}

void require_equal_stats(const sieve::calibration& a, const naive_stats& want) {
    const std::size_t k = a.in_features();
    for (std::size_t i = 0; i < k; ++i) {
        CAPTURE(i);
        REQUIRE(a.channel_sq_norm(i) == want.sq_norm[i]);
        REQUIRE(a.channel_norm(i) == std::sqrt(want.sq_norm[i]));
        if (!a.has_hessian()) continue;
        for (std::size_t j = 0; j < k; ++j) {
            CAPTURE(j);
            REQUIRE(a.hessian(i, j) == want.hessian[std::min(i, j) * k + std::max(i, j)]);
        }
    }
}

}  // namespace

TEST_CASE("calibration matches the definition whatever the batch split", "[prune][calibration]") {
    const std::uint32_t seed = 401;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t k = 37, tokens = 61;  // odd sizes: partial token chunks everywhere
    const activation_model model = make_activation_model(r, k, 5, 2);
    test_matrix x = draw_activations(r, model, tokens);
    for (std::size_t t = 0; t < tokens; t += 7) x(t, 3) = 0.0f;  // some exact zeros
    const naive_stats want = naive_statistics(x);

    for (std::size_t batch :
         {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{9}, tokens}) {
        CAPTURE(batch);
        auto stats = sieve::calibration::create(k);
        REQUIRE(stats.ok());
        for (std::size_t t0 = 0; t0 < tokens; t0 += batch) {
            const std::size_t n = std::min(batch, tokens - t0);
            REQUIRE(stats->add(sieve::matrix_view<const float>(&x(t0, 0), n, k, x.ld())).ok());
        }
        CHECK(stats->samples() == tokens);
        CHECK(stats->has_hessian());
        require_equal_stats(*stats, want);
    }
}

TEST_CASE("calibration takes strided batches, empty batches, and merges", "[prune][calibration]") {
    const std::uint32_t seed = 402;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t k = 20;
    const activation_model model = make_activation_model(r, k, 4, 1);
    const test_matrix a = draw_activations(r, model, 13), b = draw_activations(r, model, 10);
    const test_matrix b_strided = strided_copy(b, 7);

    auto whole = sieve::calibration::create(k);
    auto first = sieve::calibration::create(k);
    auto second = sieve::calibration::create(k);
    REQUIRE((whole.ok() && first.ok() && second.ok()));
    REQUIRE(whole->add(a.view()).ok());
    REQUIRE(whole->add(b.view()).ok());
    REQUIRE(first->add(a.view()).ok());
    REQUIRE(second->add(sieve::matrix_view<const float>(nullptr, 0, k)).ok());  // no tokens
    REQUIRE(second->add(b_strided.view()).ok());
    CHECK(b_strided.layout_intact());
    REQUIRE(first->merge(*second).ok());
    CHECK(first->samples() == 23);
    for (std::size_t i = 0; i < k; ++i) {
        CHECK(first->channel_sq_norm(i) == Approx(whole->channel_sq_norm(i)).epsilon(1e-14));
        for (std::size_t j = 0; j < k; ++j)
            CHECK(first->hessian(i, j) ==
                  Approx(whole->hessian(i, j)).epsilon(1e-14).margin(1e-12));
    }

    // Norms alone are the same numbers as beside a Hessian.
    auto norms_only = sieve::calibration::create(k, sieve::calibration::statistics::norms);
    REQUIRE(norms_only.ok());
    REQUIRE(norms_only->add(a.view()).ok());
    REQUIRE(norms_only->add(b.view()).ok());
    CHECK_FALSE(norms_only->has_hessian());
    for (std::size_t i = 0; i < k; ++i)
        CHECK(norms_only->channel_sq_norm(i) == whole->channel_sq_norm(i));
    require_error(first->merge(*norms_only), sieve::errc::shape_mismatch, {"Hessian"});
    auto other_width = sieve::calibration::create(k + 1);
    REQUIRE(other_width.ok());
    require_error(first->merge(*other_width), sieve::errc::shape_mismatch, {"21"});
}

TEST_CASE("calibration sums in double: small contributions beside large ones survive",
          "[prune][calibration]") {
    // One token of 4096 then 100000 tokens of 1: in float the running sum of squares stalls
    // at 2^24 + ... and loses the ones; in double every one of them counts.
    const std::size_t k = 2, tokens = 100000;
    test_matrix x(tokens + 1, k, {}, 1.0f);
    x(0, 0) = 4096.0f;  // 4096^2 = 2^24: float's integer range ends here
    auto stats = sieve::calibration::create(k);
    REQUIRE(stats.ok());
    REQUIRE(stats->add(x.view()).ok());
    CHECK(stats->channel_sq_norm(0) == 16777216.0 + tokens);
    CHECK(stats->channel_sq_norm(1) == tokens + 1.0);
    CHECK(stats->hessian(0, 1) == 2.0 * (4096.0 + tokens));
}

TEST_CASE("calibration refuses bad batches and keeps its state", "[prune][calibration][errors]") {
    const std::size_t k = 6;
    auto stats = sieve::calibration::create(k);
    REQUIRE(stats.ok());
    test_matrix good(3, k, {}, 0.5f);
    REQUIRE(stats->add(good.view()).ok());

    test_matrix bad(4, k, {}, 1.0f);
    bad(2, 4) = std::numeric_limits<float>::quiet_NaN();
    require_error(stats->add(bad.view()), sieve::errc::non_finite, {"token 2", "channel 4", "NaN"});
    bad(2, 4) = -std::numeric_limits<float>::infinity();
    require_error(stats->add(bad.view()), sieve::errc::non_finite, {"infinite"});
    test_matrix wide(2, k + 1, {}, 1.0f);
    require_error(stats->add(wide.view()), sieve::errc::shape_mismatch, {"7", "6"});
    require_error(stats->add(sieve::matrix_view<const float>(nullptr, 2, k)),
                  sieve::errc::null_pointer);

    CHECK(stats->samples() == 3);
    for (std::size_t i = 0; i < k; ++i) {
        CHECK(stats->channel_sq_norm(i) == 0.75);
        for (std::size_t j = 0; j < k; ++j) CHECK(stats->hessian(i, j) == 1.5);
    }
}
