// Regression tests for bugs the fuzz harnesses (tests/fuzz) found. Each case names the
// committed corpus input that reproduces it (tests/fuzz/corpus/<harness>/regression-*),
// which CI also replays through the harness (tools/fuzz.sh --replay).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sieve/sieve.hpp>
#include <type_traits>
#include <vector>

#include "support/isa.hpp"

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

namespace {

// K = 0: every output is the epilogue of an empty sum, bias + beta * y, on every entry point.
template <class Matrix>
void check_empty_rows_product(const Matrix& w) {
    const std::size_t m = w.rows(), n = 3;
    const std::vector<float> bias = {1.0f, -2.0f, 0.5f, 4.0f};
    sieve::epilogue ep;
    ep.bias = {bias.data(), m};
    ep.beta = 0.5f;
    const float x_dummy[1] = {0.0f};
    auto run = [&](const char* op, auto&& call, std::size_t tokens) {
        std::vector<float> y(tokens * m, 2.0f);
        const sieve::status s = call(y.data());
        INFO(op << ": " << s.message());
        REQUIRE(s.ok());
        for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == bias[i % m] + 1.0f);
    };
    run("gemv", [&](float* y) { return sieve::gemv(w, {x_dummy, 0}, {y, m}, ep); }, 1);
    run("gemm", [&](float* y) {
        return sieve::gemm(w, sieve::matrix_view<const float>(x_dummy, n, 0), sieve::matrix_view<float>(y, n, m), ep);
    }, n);
    using weight = std::remove_const_t<std::remove_pointer_t<decltype(w.view().values)>>;
    if constexpr (std::is_same<weight, std::int8_t>::value) {
        run("gemv_w8a8", [&](float* y) { return sieve::gemv_w8a8(w, {x_dummy, 0}, {y, m}, ep); }, 1);
        run("gemm_w8a8", [&](float* y) {
            return sieve::gemm_w8a8(w, sieve::matrix_view<const float>(x_dummy, n, 0),
                                    sieve::matrix_view<float>(y, n, m), ep);
        }, n);
    }
}

template <class Matrix>
void check_empty_rows_all_dtypes(sieve::result<Matrix> packed) {
    INFO(packed.message());
    REQUIRE(packed.ok());
    check_empty_rows_product(*packed);
    for (const sieve::quant_config q : {sieve::quant_config::per_row(), sieve::quant_config::per_group(32)}) {
        auto int8 = sieve::quantize(*packed, q);
        INFO(int8.message());
        REQUIRE(int8.ok());
        check_empty_rows_product(*int8);
    }
}

}  // namespace

// fuzz_quantize (on an AVX-512 VNNI machine) and the blob round trips: an int8 N:M matrix
// with no columns made gemm_w8a8 read the scale of a group that does not exist (a null
// scale array). With K = 0 no kernel runs now: the output is the epilogue alone.
TEST_CASE("K = 0: every format, dtype and entry point gives bias + beta * y", "[fuzz-regression][int8][edge]") {
    SIEVE_ON_EACH_ISA();
    const std::vector<float> none;
    const sieve::matrix_view<const float> empty(none.data(), 4, 0);
    check_empty_rows_all_dtypes(sieve::dense_matrix<>::pack(empty));
    check_empty_rows_all_dtypes(sieve::csr_matrix<>::pack(empty));
    check_empty_rows_all_dtypes(sieve::nm_matrix<>::pack(empty));
    check_empty_rows_all_dtypes(sieve::bsr_matrix<float, 4, 4>::pack(empty));
    check_empty_rows_all_dtypes(sieve::bitmap_matrix<>::pack(empty));
}
