// The channel-pruned format (formats/structured.hpp) and its gemv / gemm
// (ops_structured.hpp): packing from masks, nonzeros and magnitude, unpacking, sizes,
// validate(), and the products on every ISA path against the naive product of the unpacked
// matrix, with every epilogue, removed inputs holding NaN/Inf, caller scratch or the
// per-thread buffer, and the argument checks.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sieve/sieve.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/catch_sieve.hpp"
#include "support/compare.hpp"
#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/ops_check.hpp"
#include "support/pruning.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

// A mask keeping the rows and columns whose flag is set (the shape channel pruning makes).
std::vector<std::uint8_t> channel_mask(const std::vector<bool>& rows,
                                       const std::vector<bool>& cols) {
    std::vector<std::uint8_t> mask(rows.size() * cols.size(), 0);
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t c = 0; c < cols.size(); ++c)
            mask[r * cols.size() + c] = rows[r] && cols[c];
    return mask;
}

std::vector<bool> random_flags(rng& r, std::size_t n, double keep) {
    std::vector<bool> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = r.bernoulli(keep);
    return out;
}

struct channel_case {
    const char* name;
    double keep_rows, keep_cols;
};
const channel_case channel_cases[] = {
    {"inputs removed", 1.0, 0.5},      {"outputs removed", 0.6, 1.0},
    {"both removed", 0.7, 0.4},        {"nothing removed", 1.0, 1.0},
    {"every input removed", 1.0, 0.0}, {"every output removed", 0.0, 1.0},
};

sieve::channel_pruned_matrix<> pack_channels(const test_matrix& w,
                                             const std::vector<std::uint8_t>& mask) {
    auto packed = sieve::channel_pruned_matrix<>::pack(
        w.view(), sieve::selection::from_mask(mask_view(mask, w.rows(), w.cols())));
    INFO(packed.message());
    REQUIRE(packed.ok());
    return std::move(*packed);
}

}  // namespace

TEST_CASE("channel pack keeps whole rows and columns and unpacks to the masked matrix",
          "[prune][structured][pack]") {
    const std::uint32_t seed = 701;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes())
        for (const auto& c : channel_cases) {
            CAPTURE(shape.first, shape.second, c.name);
            const test_matrix w = random_matrix(r, shape.first, shape.second, {0.9});
            const auto rows = random_flags(r, shape.first, c.keep_rows);
            const auto cols = random_flags(r, shape.second, c.keep_cols);
            const auto mask = channel_mask(rows, cols);
            const auto packed = pack_channels(w, mask);
            require_unpacks_to(packed, masked(w, mask));
            std::size_t kept_rows = 0, kept_cols = 0;
            for (bool b : rows) kept_rows += b;
            for (bool b : cols) kept_cols += b;
            // A channel survives only when some weight in it does.
            if (kept_rows != 0 && kept_cols != 0) {
                CHECK(packed.kept_outputs().size == kept_rows);
                CHECK(packed.kept_inputs().size == kept_cols);
            }
            CHECK(packed.nnz() == packed.inner().rows() * packed.inner().cols());
            CHECK(packed.bytes() == packed.inner().bytes() + 4 * (packed.kept_inputs().size +
                                                                  packed.kept_outputs().size));
            CHECK(sieve::validate(packed.view()).ok());
        }
}

TEST_CASE("channel pack drops zero channels with nonzeros and input channels with magnitude",
          "[prune][structured][pack]") {
    test_matrix w(3, 5, {}, 1.0f);
    for (std::size_t r = 0; r < 3; ++r) w(r, 1) = w(r, 3) = 0.0f;
    for (std::size_t c = 0; c < 5; ++c) w(2, c) = 0.0f;
    auto nz = sieve::channel_pruned_matrix<>::pack(w.view());
    REQUIRE(nz.ok());
    CHECK(std::vector<std::uint32_t>(nz->kept_inputs().begin(), nz->kept_inputs().end()) ==
          std::vector<std::uint32_t>{0, 2, 4});
    CHECK(std::vector<std::uint32_t>(nz->kept_outputs().begin(), nz->kept_outputs().end()) ==
          std::vector<std::uint32_t>{0, 1});
    require_unpacks_to(*nz, w);

    // Magnitude removes the input channels of smallest sum |w|.
    test_matrix v(2, 4);
    const float values[2][4] = {{1, -5, 0.5f, 2}, {1, 1, -0.25f, -2}};
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t c = 0; c < 4; ++c) v(r, c) = values[r][c];
    auto mag = sieve::channel_pruned_matrix<>::pack(v.view(), sieve::selection::magnitude(0.5));
    REQUIRE(mag.ok());
    CHECK(std::vector<std::uint32_t>(mag->kept_inputs().begin(), mag->kept_inputs().end()) ==
          std::vector<std::uint32_t>{1, 3});
    CHECK(mag->kept_outputs().size == 2);
}

TEST_CASE("channel validate refuses unordered, repeated or out-of-range indices",
          "[prune][structured][errors]") {
    test_matrix w(4, 6, {}, 1.0f);
    const auto packed = pack_channels(
        w, channel_mask({true, false, true, true}, {true, true, false, true, false, true}));
    sieve::channel_pruned_view<> v = packed.view();
    CHECK(sieve::validate(v).ok());
    std::vector<std::uint32_t> inputs(packed.kept_inputs().begin(), packed.kept_inputs().end());
    v.kept_inputs = inputs.data();
    inputs[1] = inputs[0];
    require_error(sieve::validate(v), sieve::errc::corrupt_data, {"input"});
    inputs[1] = 9;
    require_error(sieve::validate(v), sieve::errc::corrupt_data, {"input"});
    std::vector<std::uint32_t> outputs = {2, 0, 3};
    v = packed.view();
    v.kept_outputs = outputs.data();
    require_error(sieve::validate(v), sieve::errc::corrupt_data, {"output"});
    v = packed.view();
    v.kept_inputs = nullptr;
    require_error(sieve::validate(v), sieve::errc::null_pointer);
    v = packed.view();
    v.rows = 2;  // inner has 3 rows
    require_error(sieve::validate(v), sieve::errc::corrupt_data);
}

namespace {

// The problem a channel-pruned matrix solves, written out: its unpacked (dequantized) weights
// at the kept input channels (M x K'), which of them are stored (the kept output rows), and
// the kept activations. The naive oracles run on it as they are (the W8A8 one then quantizes
// each token from its kept channels, as the format specifies).
struct gathered_problem {
    test_matrix dense;
    std::vector<std::uint8_t> stored;
    std::vector<std::uint32_t> inputs;

    test_matrix gather(const test_matrix& x) const {
        test_matrix out(x.rows(), inputs.size());
        for (std::size_t t = 0; t < x.rows(); ++t)
            for (std::size_t j = 0; j < inputs.size(); ++j) out(t, j) = x(t, inputs[j]);
        return out;
    }
};

template <class T>
gathered_problem gather_problem(const sieve::channel_pruned_matrix<T>& w) {
    const test_matrix full = unpack_to_test(w);
    gathered_problem p;
    p.inputs.assign(w.kept_inputs().begin(), w.kept_inputs().end());
    const std::size_t kk = p.inputs.size();
    p.dense = test_matrix(w.rows(), kk);
    p.stored.assign(w.rows() * kk, 0);
    for (std::size_t r = 0; r < w.rows(); ++r)
        for (std::size_t j = 0; j < kk; ++j) p.dense(r, j) = full(r, p.inputs[j]);
    for (std::uint32_t r : w.kept_outputs())
        for (std::size_t j = 0; j < kk; ++j) p.stored[r * kk + j] = 1;
    return p;
}

// Puts NaN / Inf on removed input channels only: they must never reach an output.
template <class T>
void poison_removed_inputs(test_matrix& x, const sieve::channel_pruned_matrix<T>& w) {
    std::vector<bool> kept(x.cols(), false);
    for (std::uint32_t c : w.kept_inputs()) kept[c] = true;
    for (std::size_t t = 0; t < x.rows(); ++t)
        for (std::size_t c = 0; c < x.cols(); ++c)
            if (!kept[c])
                x(t, c) = (c % 2) ? std::numeric_limits<float>::infinity() : std::nanf("");
}

struct product_check {
    const sieve::epilogue* ep;
    const test_matrix* x;       // full activations (N x K), removed channels poisoned
    const test_matrix* before;  // Y before the call (N x M)
    bool caller_scratch;
};

// Runs gemm and gemv (through the view) on `w` and checks them against the naive product
// of the gathered problem: `w8a8` selects gemm_w8a8 / gemv_w8a8 and their oracles.
template <class T>
void check_channel_products(const sieve::channel_pruned_matrix<T>& w, const gathered_problem& p,
                            const product_check& c, bool w8a8) {
    const sieve::epilogue& ep = *c.ep;
    const std::size_t n = c.x->rows(), m = w.rows();
    sieve::aligned_buffer<float> scratch;
    REQUIRE(scratch.allocate(sieve::gemm_scratch_size(w, n) + sieve::gemv_scratch_size(w)).ok());
    const sieve::span<float> s = c.caller_scratch
                                     ? sieve::span<float>(scratch.data(), scratch.size())
                                     : sieve::span<float>();
    const test_matrix xg = p.gather(*c.x);

    test_matrix y = copy_with_layout(*c.before, strided(3));
    sieve::status st{};
    if constexpr (std::is_same<T, std::int8_t>::value)
        st = w8a8 ? sieve::gemm_w8a8(w, c.x->view(), y.mutable_view(), ep, s)
                  : sieve::gemm(w, c.x->view(), y.mutable_view(), ep, s);
    else
        st = sieve::gemm(w, c.x->view(), y.mutable_view(), ep, s);
    INFO(st.message());
    REQUIRE(st.ok());
    CHECK(y.layout_intact());

    test_matrix y_row(1, m), x_row(1, c.x->cols(), unaligned());
    for (std::size_t i = 0; i < m; ++i) y_row(0, i) = (*c.before)(0, i);
    for (std::size_t j = 0; j < c.x->cols(); ++j) x_row(0, j) = (*c.x)(0, j);
    if constexpr (std::is_same<T, std::int8_t>::value)
        st = w8a8 ? sieve::gemv_w8a8(w.view(), x_row.span(), y_row.mutable_span(), ep, s)
                  : sieve::gemv(w.view(), x_row.span(), y_row.mutable_span(), ep, s);
    else
        st = sieve::gemv(w.view(), x_row.span(), y_row.mutable_span(), ep, s);
    INFO(st.message());
    REQUIRE(st.ok());

    if (w8a8) {
        w8a8_expected want;
        for (std::size_t t = 0; t < n; ++t) {
            const w8a8_expected row =
                naive_gemv_w8a8(p.dense.view(), p.stored, &xg(t, 0), &(*c.before)(t, 0), ep);
            want.exact.insert(want.exact.end(), row.exact.begin(), row.exact.end());
            want.vs_float.insert(want.vs_float.end(), row.vs_float.begin(), row.vs_float.end());
        }
        require_w8a8_agreement("gemm_w8a8 Y", elements(y), want);
        require_w8a8_agreement(
            "gemv_w8a8 y", elements(y_row),
            naive_gemv_w8a8(p.dense.view(), p.stored, &xg(0, 0), &(*c.before)(0, 0), ep));
        return;
    }
    std::vector<expected_value> want;
    for (std::size_t t = 0; t < n; ++t) {
        const auto row = naive_gemv(p.dense.view(), p.stored, &xg(t, 0), &(*c.before)(t, 0), ep);
        want.insert(want.end(), row.begin(), row.end());
    }
    const comparison gemm_cmp = compare("gemm Y vs naive", elements(y), want);
    INFO(gemm_cmp.text());
    CHECK(gemm_cmp.ok);
    const comparison gemv_cmp =
        compare("gemv y vs naive", elements(y_row),
                naive_gemv(p.dense.view(), p.stored, &xg(0, 0), &(*c.before)(0, 0), ep));
    INFO(gemv_cmp.text());
    CHECK(gemv_cmp.ok);
}

}  // namespace

TEST_CASE("channel gemv and gemm, fp32 and int8, match the naive product on every ISA",
          "[prune][structured][ops]") {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 702;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& c : channel_cases)
        for (auto shape : {std::pair<std::size_t, std::size_t>{7, 70}, {20, 16}}) {
            CAPTURE(c.name, shape.first, shape.second);
            const test_matrix source = random_matrix(r, shape.first, shape.second, {0.8});
            const auto mask = channel_mask(random_flags(r, shape.first, c.keep_rows),
                                           random_flags(r, shape.second, c.keep_cols));
            const auto fp32 = pack_channels(source, mask);
            auto per_row = sieve::quantize(fp32, sieve::quant_config::per_row());
            auto per_group = sieve::quantize(fp32, sieve::quant_config::per_group(32));
            REQUIRE((per_row.ok() && per_group.ok()));
            const gathered_problem p32 = gather_problem(fp32), prow = gather_problem(*per_row),
                                   pgroup = gather_problem(*per_group);
            for (const auto& ec : epilogue_cases())
                for (bool caller_scratch : {false, true}) {
                    INFO("epilogue " << ec.name
                                     << (caller_scratch ? ", caller scratch" : ", thread scratch"));
                    const std::vector<float> bias = random_bias(r, shape.first);
                    const sieve::epilogue ep = make_epilogue(ec, bias);
                    test_matrix x =
                        random_matrix(r, 5, shape.second, {1.0, -1.0f, 1.0f}, unaligned());
                    poison_removed_inputs(x, fp32);
                    const test_matrix before = prior_output(r, 5, shape.first, ep);
                    const product_check check{&ep, &x, &before, caller_scratch};
                    {
                        INFO("fp32");
                        check_channel_products(fp32, p32, check, false);
                    }
                    for (bool w8a8 : {false, true}) {
                        INFO("int8 per row, " << (w8a8 ? "W8A8" : "weight-only"));
                        check_channel_products(*per_row, prow, check, w8a8);
                    }
                    for (bool w8a8 : {false, true}) {
                        INFO("int8 groups of 32, " << (w8a8 ? "W8A8" : "weight-only"));
                        check_channel_products(*per_group, pgroup, check, w8a8);
                    }
                }
        }
}

TEST_CASE("channel quantize keeps the channels and rounds each weight within half a scale",
          "[prune][structured][int8]") {
    const std::uint32_t seed = 703;
    CAPTURE(seed);
    rng r(seed);
    const test_matrix w = random_matrix(r, 9, 50, {0.9, -3.0f, 3.0f});
    const auto fp32 =
        pack_channels(w, channel_mask(random_flags(r, 9, 0.7), random_flags(r, 50, 0.6)));
    for (std::size_t group : {std::size_t{0}, std::size_t{32}}) {
        CAPTURE(group);
        sieve::quant_report report;
        auto q = sieve::quantize(fp32, sieve::quant_config{group}, &report);
        REQUIRE(q.ok());
        CHECK(std::vector<std::uint32_t>(q->kept_inputs().begin(), q->kept_inputs().end()) ==
              std::vector<std::uint32_t>(fp32.kept_inputs().begin(), fp32.kept_inputs().end()));
        CHECK(std::vector<std::uint32_t>(q->kept_outputs().begin(), q->kept_outputs().end()) ==
              std::vector<std::uint32_t>(fp32.kept_outputs().begin(), fp32.kept_outputs().end()));
        CHECK(q->bytes() < fp32.bytes());
        CHECK(report.values == fp32.nnz());
        CHECK(sieve::validate(q->view()).ok());
        const test_matrix a = unpack_to_test(fp32), b = unpack_to_test(*q);
        for (std::size_t i = 0; i < 9; ++i)
            for (std::size_t j = 0; j < 50; ++j)
                REQUIRE(std::fabs(a(i, j) - b(i, j)) <= 3.0f / 127.0f / 2.0f * 1.0001f);
    }
    require_error(sieve::quantize(fp32, sieve::quant_config{48}).error(), sieve::errc::bad_argument,
                  {"48"});
}

TEST_CASE("channel gemv and gemm check their arguments and scratch",
          "[prune][structured][errors]") {
    test_matrix w(6, 10, {}, 1.0f);
    const auto packed = pack_channels(
        w, channel_mask({true, false, true, true, false, true},
                        {true, false, true, true, true, false, false, true, true, true}));
    test_matrix x(1, 10, {}, 1.0f), y(1, 6), xs(3, 10, {}, 1.0f), ys(3, 6);
    require_error(sieve::gemv(packed, x.span(), sieve::span<float>(y.data(), 5)),
                  sieve::errc::shape_mismatch, {"y"});
    require_error(sieve::gemv(packed, sieve::span<const float>(x.data(), 9), y.mutable_span()),
                  sieve::errc::shape_mismatch, {"x"});
    require_error(sieve::gemm(packed, xs.view(), sieve::matrix_view<float>(ys.data(), 2, 6)),
                  sieve::errc::shape_mismatch, {"Y"});
    std::vector<float> bias(5, 0.0f);
    sieve::epilogue ep;
    ep.bias = sieve::span<const float>(bias);
    require_error(sieve::gemv(packed, x.span(), y.mutable_span(), ep), sieve::errc::shape_mismatch,
                  {"bias"});

    sieve::aligned_buffer<float> scratch;
    REQUIRE(scratch.allocate(sieve::gemm_scratch_size(packed, 3) + 16).ok());
    require_error(sieve::gemm(packed, xs.view(), ys.mutable_view(), {},
                              sieve::span<float>(scratch.data(), 3)),
                  sieve::errc::shape_mismatch, {"workspace"});
    require_error(
        sieve::gemm(packed, xs.view(), ys.mutable_view(), {},
                    sieve::span<float>(scratch.data() + 1, sieve::gemm_scratch_size(packed, 3))),
        sieve::errc::bad_argument, {"aligned"});
    // Scratch over the output is refused before anything is written.
    sieve::aligned_buffer<float> shared;
    REQUIRE(shared.allocate(sieve::gemv_scratch_size(packed) + 16).ok());
    require_error(sieve::gemv(packed, x.span(), sieve::span<float>(shared.data(), 6), {},
                              sieve::span<float>(shared.data(), sieve::gemv_scratch_size(packed))),
                  sieve::errc::aliasing, {"workspace"});
    require_error(sieve::gemv(packed, x.span(), sieve::span<float>(x.data(), 6)),
                  sieve::errc::aliasing);
    // Views built over foreign memory are checked at the call.
    sieve::channel_pruned_view<> bad = packed.view();
    bad.kept_outputs = nullptr;
    require_error(sieve::gemv(bad, x.span(), y.mutable_span()), sieve::errc::null_pointer);
}
