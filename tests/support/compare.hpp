// The second oracle and the fp32 tolerance.
//
// `naive_gemv` is a triple loop over a dense (unpacked) matrix that accumulates in double
// and applies the epilogue as epilogue.hpp defines it, written here independently of
// reference/common.hpp:  out = act(alpha * acc + bias[m]) + beta * out_before.
// Next to each expected value it derives the error a correct fp32 kernel may make on that
// output from the problem itself (see `tolerance_factor`), and `compare` checks outputs
// against it NaN-aware: both NaN, both the same infinity, or within the bound.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sieve/core/views.hpp>
#include <sieve/epilogue.hpp>
#include <string>
#include <vector>

namespace sieve_test {

// FLT_EPSILON = 2u, u the unit roundoff of float.
inline constexpr double float_eps = std::numeric_limits<float>::epsilon();

// Error model. A float dot product of K terms computed in any order, with or without FMA,
// is within gamma_K * S of the exact value, S = sum_k |w_mk| |x_k| and
// gamma_K = K u / (1 - K u) <= 0.51 K FLT_EPSILON at these sizes (Higham, Accuracy and
// Stability, ch. 3). Scaling by alpha and adding the bias round twice more, so the value
// fed to the activation is within (K + 2) * 0.51 * FLT_EPSILON * (|alpha| S + |bias|).
// The reference accumulates in double and rounds once to float (u |out|), so the distance
// kernel-to-oracle is at most about half of
//     tolerance_factor * (K + 2) * FLT_EPSILON * (|alpha| S + |bias|)
// with tolerance_factor = 2: a factor-4 margin for blocked/split accumulators and
// double-rounded partial sums, yet a dropped or doubled term (|w_mk x_k|, typically S / K)
// exceeds it by orders of magnitude at every K we test.
inline constexpr double tolerance_factor = 2.0;

// After the dot product: the activation's slope scales the error (|gelu'| <= 1.13,
// |silu'| <= 1.10), and fast kernels may approximate gelu/silu; they must stay within
// `activation_slack * (1 + |v|)` of the exact function (about 4e-6 relative: a polynomial
// erf/exp of float quality passes, the tanh form of GELU, off by up to ~5e-4, does not).
// The beta term and the final store round twice more.
inline constexpr double activation_slack = 32.0 * float_eps;

inline double activation_slope(sieve::activation act) {
    return act == sieve::activation::gelu || act == sieve::activation::silu ? 1.25 : 1.0;
}

// The activations as epilogue.hpp defines them. relu propagates NaN (a NaN is never
// "below zero"), as frameworks do; gelu is the exact form v * Phi(v), Phi written with
// erfc; silu is v * sigmoid(v).
inline double naive_activate(sieve::activation act, double v) {
    switch (act) {
        case sieve::activation::none:
            return v;
        case sieve::activation::relu:
            return v < 0.0 ? 0.0 : v;
        case sieve::activation::gelu:
            return v * 0.5 * std::erfc(-v / std::sqrt(2.0));
        case sieve::activation::silu:
            return v / (1.0 + std::exp(-v));
    }
    return v;
}

struct expected_value {
    double value = 0.0;
    double bound = 0.0;
};

// The epilogue applied to one exact dot product `acc` whose magnitude sum is `s`.
inline expected_value naive_finish(double acc, double s, std::size_t k, std::size_t m,
                                   const sieve::epilogue& ep, float out_before) {
    const double bias = ep.bias.size != 0 ? static_cast<double>(ep.bias[m]) : 0.0;
    const double pre = static_cast<double>(ep.alpha) * acc + bias;
    const double pre_err = tolerance_factor * static_cast<double>(k + 2) * float_eps *
                           (std::fabs(ep.alpha) * s + std::fabs(bias));
    const double activated = naive_activate(ep.act, pre);
    double err = activation_slope(ep.act) * pre_err;
    if (ep.act == sieve::activation::gelu || ep.act == sieve::activation::silu)
        err += activation_slack * (1.0 + std::fabs(pre));
    double out = activated;
    double beta_term = 0.0;
    if (ep.beta != 0.0f) {  // beta == 0: the old output is never read, whatever it holds
        beta_term = static_cast<double>(ep.beta) * static_cast<double>(out_before);
        out += beta_term;
    }
    err += 2.0 * tolerance_factor * float_eps * (std::fabs(activated) + std::fabs(beta_term));
    return {out, err};
}

// y = epilogue(W x) by the definition. `stored` (rows x cols, 1 = stored entry) names the
// entries the format stores; an empty `stored` means every position is stored. Only stored
// entries multiply their activation (0 * Inf = NaN there; a structural zero never touches
// its activation). `y_before` is read only when beta != 0.
inline std::vector<expected_value> naive_gemv(sieve::matrix_view<const float> w,
                                              const std::vector<std::uint8_t>& stored,
                                              const float* x, const float* y_before,
                                              const sieve::epilogue& ep) {
    std::vector<expected_value> out(w.rows);
    for (std::size_t m = 0; m < w.rows; ++m) {
        double acc = 0.0, s = 0.0;
        for (std::size_t k = 0; k < w.cols; ++k) {
            if (!stored.empty() && stored[m * w.cols + k] == 0) continue;
            const double p = static_cast<double>(w(m, k)) * static_cast<double>(x[k]);
            acc += p;
            if (std::isfinite(p)) s += std::fabs(p);
        }
        out[m] = naive_finish(acc, s, w.cols, m, ep, ep.beta != 0.0f ? y_before[m] : 0.0f);
    }
    return out;
}

// NaN-aware closeness of a float output to its expected value.
inline bool close(float got, const expected_value& want) {
    if (std::isnan(want.value)) return std::isnan(got);
    if (std::isinf(want.value)) return got == want.value;
    if (!std::isfinite(got)) return false;
    return std::fabs(static_cast<double>(got) - want.value) <= want.bound;
}

// Outcome of comparing a run of outputs: how many are off, and the first one in detail.
struct comparison {
    bool ok = true;
    std::size_t mismatches = 0;
    std::size_t first = 0;
    float got = 0.0f;
    expected_value want{};
    std::string what;  // e.g. "gemv y vs naive"

    std::string text() const {
        if (ok) return what + ": all match";
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "%s: %zu mismatches; first at %zu: got %.9g, want %.9g +- %.3g", what.c_str(),
                      mismatches, first, static_cast<double>(got), want.value, want.bound);
        return buf;
    }
};

inline comparison compare(const std::string& what, const std::vector<float>& got,
                          const std::vector<expected_value>& want) {
    comparison c;
    c.what = what;
    if (got.size() != want.size()) {
        c.ok = false;
        c.what += " (size differs)";
        return c;
    }
    for (std::size_t i = 0; i < got.size(); ++i)
        if (!close(got[i], want[i])) {
            if (c.ok) {
                c.first = i;
                c.got = got[i];
                c.want = want[i];
            }
            c.ok = false;
            ++c.mismatches;
        }
    return c;
}

// The oracle's float outputs as expected values, with the naive product's bounds widened by
// the oracle's own final rounding.
inline std::vector<expected_value> as_expected(const std::vector<float>& oracle,
                                               const std::vector<expected_value>& bounds) {
    std::vector<expected_value> out(oracle.size());
    for (std::size_t i = 0; i < oracle.size(); ++i)
        out[i] = {static_cast<double>(oracle[i]),
                  bounds[i].bound + float_eps * std::fabs(static_cast<double>(oracle[i]))};
    return out;
}

// The epilogues every operation is checked with. `make_epilogue` points the bias at
// `bias` (M entries) when the case has one; keep `bias` alive while the epilogue is used.
struct epilogue_case {
    const char* name;
    bool bias;
    float alpha;
    float beta;
    sieve::activation act;
};

inline const std::vector<epilogue_case>& epilogue_cases() {
    static const std::vector<epilogue_case> cases = {
        {"plain", false, 1.0f, 0.0f, sieve::activation::none},
        {"bias", true, 1.0f, 0.0f, sieve::activation::none},
        {"alpha -0.75 + bias", true, -0.75f, 0.0f, sieve::activation::none},
        {"beta 1 (accumulate)", false, 1.0f, 1.0f, sieve::activation::none},
        {"alpha 2, beta -0.5, bias", true, 2.0f, -0.5f, sieve::activation::none},
        {"relu + bias", true, 1.0f, 0.0f, sieve::activation::relu},
        {"gelu, alpha 1.5 + bias", true, 1.5f, 0.0f, sieve::activation::gelu},
        {"silu + bias, beta 0.5", true, 1.0f, 0.5f, sieve::activation::silu},
    };
    return cases;
}

inline sieve::epilogue make_epilogue(const epilogue_case& c, const std::vector<float>& bias) {
    sieve::epilogue ep;
    if (c.bias) ep.bias = sieve::span<const float>(bias.data(), bias.size());
    ep.alpha = c.alpha;
    ep.beta = c.beta;
    ep.act = c.act;
    return ep;
}

}  // namespace sieve_test
