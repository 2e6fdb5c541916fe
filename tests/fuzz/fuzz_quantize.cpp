// Fuzzes sieve::quantize for every format (dense, CSR, each N:M pattern, each BSR block
// shape, channel-pruned) with scales per row and per group of 32, 64 or 128 (and illegal
// groups). Checks: non-finite stored weights are refused with non_finite; otherwise each
// scale is its group's max |w| / 127, every weight comes back within half a scale, and
// gemv / gemm (weight-only) and gemv_w8a8 / gemm_w8a8 agree with the naive product.
#include "fuzz_pack.hpp"

namespace sieve_fuzz {
namespace {

// Index into the view's scale array of position (r, c), or -1 where nothing is stored.
template <class Matrix>
std::ptrdiff_t scale_slot(const Matrix& q, std::size_t r, std::size_t c) {
    const sieve::quant_scales s = q.scales();
    return static_cast<std::ptrdiff_t>(r * s.ld + (s.group == 0 ? 0 : c / s.group));
}
std::ptrdiff_t scale_slot(const sieve::channel_pruned_matrix<std::int8_t>& q, std::size_t r, std::size_t c) {
    const auto outs = q.kept_outputs(), ins = q.kept_inputs();
    const auto i = std::lower_bound(outs.begin(), outs.end(), r), j = std::lower_bound(ins.begin(), ins.end(), c);
    if (i == outs.end() || *i != r || j == ins.end() || *j != c) return -1;
    return scale_slot(q.inner(), static_cast<std::size_t>(i - outs.begin()), static_cast<std::size_t>(j - ins.begin()));
}
template <class Matrix>
const float* scale_data(const Matrix& q) { return q.scales().data; }
const float* scale_data(const sieve::channel_pruned_matrix<std::int8_t>& q) { return q.inner().scales().data; }

template <class Matrix>
void check_w8a8(const Matrix& q, const std::vector<float>& deq, input_reader& in) {
    const std::size_t rows = q.rows(), cols = q.cols(), tokens = 1 + in.below(2);
    std::vector<float> x(tokens * cols), y(tokens * rows, 0.0f), y1(rows, 0.0f);
    for (float& v : x) v = in.activation();
    require_ok(sieve::gemv_w8a8(q, {x.data(), cols}, {y1.data(), rows}), "gemv_w8a8");
    require_ok(sieve::gemm_w8a8(q, {x.data(), tokens, cols}, {y.data(), tokens, rows}), "gemm_w8a8");
    for (std::size_t t = 0; t < tokens; ++t) {
        const float* xt = x.data() + t * cols;
        float x_max = 0.0f;
        for (std::size_t k = 0; k < cols; ++k) x_max = std::max(x_max, std::fabs(xt[k]));
        if (!products_comparable(deq, cols, x_max)) return;
        // The fp32 product, widened by what rounding the token to int8 may move it: each
        // |x_k - q_k s| <= s / 2 with s = max|x| / 127 (the unit tests' "vs_float" oracle).
        const auto want = sieve_test::naive_gemv({deq.data(), rows, cols}, {}, xt, nullptr, sieve::epilogue{});
        const double token_scale = static_cast<double>(x_max) / 127.0;
        for (std::size_t m = 0; m < rows; ++m) {
            double w_abs = 0.0;
            for (std::size_t k = 0; k < cols; ++k) w_abs += std::fabs(static_cast<double>(deq[m * cols + k]));
            sieve_test::expected_value e = want[m];
            e.bound = 2.0 * e.bound + w_abs * token_scale * (0.5 + 4.0 * sieve_test::float_eps);
            const float got = y[t * rows + m];
            require(close_enough(got, e, cols), "gemm_w8a8 Y(%zu, %zu) = %.9g, fp32 product %.9g +- %.3g", t, m,
                    static_cast<double>(got), e.value, e.bound);
            if (t == 0)
                require(close_enough(y1[m], e, cols), "gemv_w8a8 y[%zu] = %.9g, fp32 product %.9g +- %.3g", m,
                        static_cast<double>(y1[m]), e.value, e.bound);
        }
    }
}

template <class Matrix>
void quantize_and_check(const Matrix& fp32, std::size_t group, input_reader& in) {
    const std::vector<float> src = unpack_all(fp32);
    sieve::quant_report report;
    auto q = sieve::quantize(fp32, sieve::quant_config::per_group(group), &report);
    if (group != 0 && group != 32 && group != 64 && group != 128) {
        require(!q.ok() && q.error().code() == sieve::errc::bad_argument, "quantize accepted group %zu", group);
        return;
    }
    const bool finite = std::all_of(src.begin(), src.end(), [](float v) { return std::isfinite(v); });
    if (!finite) {
        require(!q.ok() && q.error().code() == sieve::errc::non_finite, "quantize of a non-finite weight: %s",
                q.ok() ? "success" : q.error().message());
        return;
    }
    require(q.ok(), "quantize failed: %s", q.ok() ? "" : q.error().message());
    require_ok(sieve::validate(q->view()), "validate int8");
    require(std::isfinite(report.max_abs_error) && std::isfinite(report.rms_error) &&
                std::isfinite(report.relative_error),
            "quant report not finite");
    const std::vector<float> deq = unpack_all(*q);
    const std::size_t rows = fp32.rows(), cols = fp32.cols();

    // Each scale is max |w| / 127 over the weights it serves.
    const float* scales = scale_data(*q);
    std::vector<double> amax;
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const std::ptrdiff_t slot = scale_slot(*q, r, c);
            if (slot < 0) continue;
            if (amax.size() <= static_cast<std::size_t>(slot)) amax.resize(static_cast<std::size_t>(slot) + 1, 0.0);
            amax[static_cast<std::size_t>(slot)] =
                std::max(amax[static_cast<std::size_t>(slot)], std::fabs(static_cast<double>(src[r * cols + c])));
        }
    const double tiny = 256.0 * static_cast<double>(std::numeric_limits<float>::denorm_min());
    for (std::size_t i = 0; i < amax.size(); ++i)
        require(std::fabs(127.0 * static_cast<double>(scales[i]) - amax[i]) <= 4.0 * sieve_test::float_eps * amax[i] + tiny,
                "scale %zu is %g, max |w| / 127 = %g", i, static_cast<double>(scales[i]), amax[i] / 127.0);
    // Every weight within half a scale (plus the rounding of w / s and of q * s).
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const std::ptrdiff_t slot = scale_slot(*q, r, c);
            const double w = src[r * cols + c], got = deq[r * cols + c];
            const double bound = slot < 0 ? 0.0
                                          : static_cast<double>(scales[slot]) / 2.0 +
                                                4.0 * sieve_test::float_eps * std::fabs(w) + tiny;
            require(std::fabs(got - w) <= bound, "dequantized (%zu, %zu) is %g, weight %g, bound %g", r, c, got, w,
                    bound);
        }
    check_products(*q, deq, in);
    check_w8a8(*q, deq, in);
}

}  // namespace
}  // namespace sieve_fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sieve_fuzz;
    input_reader in(data, size);
    pick_isa(in);
    const std::uint8_t format = in.byte();
    constexpr std::size_t groups[] = {0, 32, 64, 128, 0, 32, 64, 128, 16, 48, 256};
    const std::size_t group = in.pick(groups);
    const sieve::nm_pattern pattern = read_nm_pattern(in);
    const std::uint8_t shape = in.byte();
    const weights w = read_weights(in);
    // Magnitude at 50% (N:M: the pattern) or the nonzeros; packing errors are another
    // harness's concern.
    const sieve::selection how = in.flag() ? sieve::selection::magnitude(0.5) : sieve::selection::nonzeros();
    switch (format % 5) {
    case 0:
        if (auto p = sieve::dense_matrix<>::pack(w.view(), how); p.ok()) quantize_and_check(*p, group, in);
        break;
    case 1:
        if (auto p = sieve::csr_matrix<>::pack(w.view(), how); p.ok()) quantize_and_check(*p, group, in);
        break;
    case 2:
        if (auto p = sieve::nm_matrix<>::pack(w.view(), pattern, how); p.ok()) quantize_and_check(*p, group, in);
        break;
    case 3:
        with_block_shape(shape, [&](auto r, auto c) {
            constexpr std::size_t R = decltype(r)::value, C = decltype(c)::value;
            if (auto p = sieve::bsr_matrix<float, R, C>::pack(w.view(), how); p.ok()) quantize_and_check(*p, group, in);
        });
        break;
    default:
        if (auto p = sieve::channel_pruned_matrix<>::pack(w.view(), how); p.ok()) quantize_and_check(*p, group, in);
    }
    return 0;
}
