// Regression tests for bugs the fuzz harnesses (tests/fuzz) found. Each case names the
// committed corpus input that reproduces it (tests/fuzz/corpus/<harness>/regression-*),
// which CI also replays through the harness (tools/fuzz.sh --replay).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sieve/sieve.hpp>
#include <vector>

namespace {

// Every dequantized weight is finite and within half its scale of the original.
template <class Matrix>
void check_dequantized_near(const Matrix& fp32, const std::vector<float>& w, std::size_t group) {
    auto q = sieve::quantize(fp32, sieve::quant_config::per_group(group));
    INFO(q.message());
    REQUIRE(q.ok());
    REQUIRE(sieve::validate(q->view()).ok());
    const std::size_t rows = fp32.rows(), cols = fp32.cols();
    std::vector<float> back(rows * cols);
    REQUIRE(q->unpack({back.data(), rows, cols}).ok());
    const sieve::quant_scales s = q->scales();
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            CAPTURE(r, c, group, w[r * cols + c], back[r * cols + c]);
            REQUIRE(std::isfinite(back[r * cols + c]));
            REQUIRE(std::isfinite(127.0f * s.at(r, c)));
            const double err = std::fabs(static_cast<double>(back[r * cols + c]) - w[r * cols + c]);
            CHECK(err <= 0.5 * static_cast<double>(s.at(r, c)) * (1.0 + 1e-6));
        }
}

}  // namespace

// fuzz_quantize, corpus regression-flt-max-scale: a weight of FLT_MAX got scale
// FLT_MAX / 127 rounded up, so 127 * scale (its dequantized value) overflowed to +Inf.
TEST_CASE("quantize: weights near FLT_MAX dequantize to finite values", "[fuzz-regression][quantize][int8]") {
    const float big = std::numeric_limits<float>::max();
    const std::size_t rows = 3, cols = 130;
    std::vector<float> w(rows * cols, 0.0f);
    w[0] = big;                // row 0: FLT_MAX alone
    w[cols + 5] = -big;        // row 1: -FLT_MAX with small neighbours
    w[cols + 6] = 1.0f;
    w[2 * cols + 129] = big;   // row 2: in the last, partial group
    w[2 * cols + 1] = big / 3;
    const sieve::matrix_view<const float> src(w.data(), rows, cols);
    for (std::size_t group : {std::size_t{0}, std::size_t{32}, std::size_t{128}}) {
        auto dense = sieve::dense_matrix<>::pack(src);
        REQUIRE(dense.ok());
        check_dequantized_near(*dense, w, group);
        auto csr = sieve::csr_matrix<>::pack(src);
        REQUIRE(csr.ok());
        check_dequantized_near(*csr, w, group);
        auto bsr = sieve::bsr_matrix<float, 1, 4>::pack(src);
        REQUIRE(bsr.ok());
        check_dequantized_near(*bsr, w, group);
    }
}
