// sieve::quantize for every format: symmetric int8 with scales per row or per group of K,
// structure kept, the error bound each weight must meet, the range ends, zero rows and
// groups, and the inputs it refuses.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <sieve/sieve.hpp>
#include <vector>

#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

// Every stored weight of the fp32 matrix comes back from the int8 one within half its
// scale, and the largest |w| of each row or group lands exactly on +-127.
template <class F8>
void check_quantized(const test_matrix& source, bool prune) {
    auto fp32 = F8::base::pack(source.view(), prune);
    REQUIRE(fp32.ok());
    sieve::quant_report report;
    auto q = sieve::quantize(*fp32, sieve::quant_config{F8::group}, &report);
    INFO(q.message());
    REQUIRE(q.ok());
    const test_matrix original = unpack_to_test(*fp32), restored = unpack_to_test(*q);
    const auto view = q->view();
    const auto stored = stored_positions(view);
    REQUIRE(stored == stored_positions(fp32->view()));  // the structure is unchanged
    REQUIRE(sieve::validate(view).ok());
    const std::size_t G = F8::group == 0 ? source.cols() : F8::group;
    double worst = 0.0, largest = 0.0;
    std::size_t values = 0;
    for (std::size_t m = 0; m < source.rows(); ++m)
        for (std::size_t g0 = 0; g0 < source.cols(); g0 += G) {
            float amax = 0.0f;
            for (std::size_t k = g0; k < g0 + G && k < source.cols(); ++k) amax = std::max(amax, std::fabs(original(m, k)));
            const float scale = view.scales.at(m, g0);
            REQUIRE(scale == amax / 127.0f);
            for (std::size_t k = g0; k < g0 + G && k < source.cols(); ++k) {
                const double err = std::fabs(static_cast<double>(original(m, k)) - restored(m, k));
                REQUIRE(err <= 0.5 * scale * (1.0 + 1e-6));
                if (std::fabs(original(m, k)) == amax && amax > 0.0f)
                    REQUIRE(std::fabs(std::fabs(restored(m, k) / scale) - 127.0f) < 1e-3f);
                if (original(m, k) == 0.0f) REQUIRE(restored(m, k) == 0.0f);
                worst = std::max(worst, err);
                largest = std::max(largest, std::fabs(static_cast<double>(original(m, k))));
                values += stored[m * source.cols() + k];
            }
        }
    CHECK(report.values == values);
    // The report measures in double, the test on the fp32 dequantized value: they differ by
    // that value's rounding.
    CHECK(report.max_abs_error == Approx(worst).epsilon(1e-3).margin(1e-6 * largest));
    CHECK(report.relative_error >= 0.0);
    CHECK(report.relative_error < 0.01);
    if (source.rows() >= 4 && source.cols() >= 64) CHECK(q->bytes() < fp32->bytes());
}

}  // namespace

TEMPLATE_TEST_CASE("quantize keeps the structure and each weight within half a scale", "[int8][quantize]",
                   SIEVE_TEST_INT8_FORMATS) {
    const std::uint32_t seed = 801;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        check_quantized<TestType>(random_matrix(r, shape.first, shape.second, {0.7, -3.0f, 3.0f, 0.2}), false);
        check_quantized<TestType>(random_matrix(r, shape.first, shape.second + 40, {1.0, -0.01f, 0.01f}), true);
    }
}

TEST_CASE("quantize: zero rows and groups get scale 0 and produce 0, never NaN", "[int8][quantize]") {
    SIEVE_ON_EACH_ISA();
    test_matrix w(3, 70);
    for (std::size_t k = 0; k < 70; ++k) w(1, k) = k < 64 ? 0.0f : 0.5f;  // row 0 and 2 all zero, row 1: one group
    auto q = sieve::quantize(*sieve::dense_matrix<>::pack(w.view()), sieve::quant_config::per_group(32));
    REQUIRE(q.ok());
    const auto v = q->view();
    CHECK(v.scales.at(0, 0) == 0.0f);
    CHECK(v.scales.at(1, 0) == 0.0f);
    CHECK(v.scales.at(1, 64) == 0.5f / 127.0f);
    std::vector<float> x(70, 1e30f), y(3, -1.0f);  // huge, yet 0 * x must stay 0
    REQUIRE(sieve::gemv(*q, {x.data(), x.size()}, {y.data(), y.size()}).ok());
    CHECK(y[0] == 0.0f);
    CHECK(y[2] == 0.0f);
    REQUIRE(sieve::gemv_w8a8(*q, {x.data(), x.size()}, {y.data(), y.size()}).ok());
    CHECK(y[0] == 0.0f);
    CHECK(y[2] == 0.0f);
    CHECK(std::isfinite(y[1]));
}

TEST_CASE("quantize: the ends of the range map to +-127 and nothing saturates", "[int8][quantize]") {
    test_matrix w(2, 8);
    const float row0[8] = {1.0f, -1.0f, 0.25f, -0.25f, 1e-9f, 0.0f, 0.99999f, -0.99999f};
    for (std::size_t k = 0; k < 8; ++k) {
        w(0, k) = row0[k];
        w(1, k) = -3.0e38f * row0[k];  // near the float limit: the scale stays finite
    }
    auto q = sieve::quantize(*sieve::dense_matrix<>::pack(w.view()));
    REQUIRE(q.ok());
    const auto v = q->view();
    const std::int8_t want[8] = {127, -127, 32, -32, 0, 0, 127, -127};
    for (std::size_t k = 0; k < 8; ++k) {
        CHECK(v.row(0)[k] == want[k]);
        CHECK(v.row(1)[k] == -want[k]);
    }
    CHECK(std::isfinite(v.scales.at(1, 0)));
}

TEST_CASE("quantize refuses NaN and Inf weights and unsupported groups", "[int8][quantize][errors]") {
    test_matrix w(2, 40, {}, 0.25f);
    auto dense = sieve::dense_matrix<>::pack(w.view());
    REQUIRE(dense.ok());
    for (std::size_t g : {std::size_t{1}, std::size_t{16}, std::size_t{48}, std::size_t{256}}) {
        auto q = sieve::quantize(*dense, sieve::quant_config::per_group(g));
        REQUIRE_FALSE(q.ok());
        CHECK(q.error().code() == sieve::errc::bad_argument);
    }
    const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()};
    for (float special : specials) {
        w(1, 33) = special;
        auto csr = sieve::csr_matrix<>::pack(w.view());
        REQUIRE(csr.ok());
        auto q = sieve::quantize(*csr);
        REQUIRE_FALSE(q.ok());
        CHECK(q.error().code() == sieve::errc::non_finite);
        CHECK(std::string(q.error().message()).find("(1, 33)") != std::string::npos);
    }
    // BSR scale groups hold whole blocks.
    auto wide = sieve::bsr_matrix<float, 1, 64>::pack(test_matrix(2, 128, {}, 1.0f).view());
    REQUIRE(wide.ok());
    CHECK(sieve::quantize(*wide, sieve::quant_config::per_group(32)).error().code() == sieve::errc::bad_argument);
    CHECK(sieve::quantize(*wide, sieve::quant_config::per_group(64)).ok());
}

TEST_CASE("validate rejects int8 views with missing, mis-sized or non-finite scales", "[int8][errors]") {
    SIEVE_ON_EACH_ISA();
    test_matrix w(4, 64, {}, 0.5f);
    auto q = sieve::quantize(*sieve::nm_matrix<>::pack(w.view(), {2, 4}, sieve::selection::magnitude()),
                             sieve::quant_config::per_group(32));
    REQUIRE(q.ok());
    std::vector<float> x(64, 1.0f), y(4);
    auto v = q->view();
    v.scales.data = nullptr;
    CHECK(sieve::gemv(v, {x.data(), x.size()}, {y.data(), y.size()}).code() == sieve::errc::null_pointer);
    v = q->view();
    v.scales.ld = 3;
    CHECK(sieve::gemv(v, {x.data(), x.size()}, {y.data(), y.size()}).code() == sieve::errc::corrupt_data);
    v = q->view();
    v.scales.group = 48;
    CHECK(sieve::gemv_w8a8(v, {x.data(), x.size()}, {y.data(), y.size()}).code() == sieve::errc::bad_argument);
    std::vector<float> scales(q->view().scales.data, q->view().scales.data + 8);
    scales[5] = std::numeric_limits<float>::infinity();
    v = q->view();
    v.scales.data = scales.data();
    CHECK(sieve::validate(v).code() == sieve::errc::corrupt_data);
}
