// Invariants the fuzz harnesses check after a successful pack. A violated invariant prints
// what failed and traps, which libFuzzer reports as a crash with the input that caused it.
//
// The oracles are independent of the library: the keep set of nonzeros()/from_mask() is
// recomputed here, magnitude pruning is checked by its defining property (no dropped unit
// outranks a kept one, and at most the requested count is kept), and products are compared
// with tests/support/compare.hpp's naive product and error bound, as the unit tests do.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sieve/sieve.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "fuzz_input.hpp"
#include "support/compare.hpp"

namespace sieve_fuzz {

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
inline void require(bool ok, const char* format, ...) {
    if (ok) return;
    std::va_list args;
    va_start(args, format);
    std::fputs("fuzz invariant violated: ", stderr);
    std::vfprintf(stderr, format, args);
    std::fputc('\n', stderr);
    va_end(args);
    __builtin_trap();
}

// A status that must be ok (invariants such as validate() and unpack()).
inline void require_ok(const sieve::status& s, const char* what) {
    require(s.ok(), "%s failed: %s", what, s.message());
}

// Bitwise-agnostic equality: both NaN, or equal (-0 == +0).
inline bool same_value(float a, float b) noexcept { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Runs the kernels of a fuzz-chosen ISA among those this CPU and build offer.
inline void pick_isa(input_reader& in) {
    const sieve::isa_list isas = sieve::available_isas();
    sieve::set_isa_cap(isas.items[in.below(static_cast<std::size_t>(isas.count))]);
}

// Whether build_keep_mask accepts the selection: magnitude pruning refuses NaN weights and,
// outside N:M (where the pattern fixes the sparsity), a sparsity outside [0, 1].
inline bool selection_accepted(const weights& w, const sieve::selection& how, bool nm) {
    if (how.how != sieve::selection::kind::magnitude) return true;
    for (float v : w.values)
        if (std::isnan(v)) return false;
    return nm || (how.sparsity >= 0.0 && how.sparsity <= 1.0);
}

// The keep set of nonzeros() or from_mask(), computed independently (NaN is nonzero).
inline std::vector<std::uint8_t> explicit_keep(const weights& w, const selection_case& s) {
    std::vector<std::uint8_t> keep(w.values.size());
    for (std::size_t i = 0; i < keep.size(); ++i)
        keep[i] = s.how.how == sieve::selection::kind::mask ? s.mask[i] != 0 : w.values[i] != 0.0f;
    return keep;
}

// Unpacks any sieve matrix into a NaN-prefilled buffer (unpack must write every element).
template <class Matrix>
std::vector<float> unpack_all(const Matrix& a) {
    std::vector<float> out(a.rows() * a.cols(), std::numeric_limits<float>::quiet_NaN());
    require_ok(a.unpack({out.data(), a.rows(), a.cols()}), "unpack");
    return out;
}

// Lossless formats with an explicit keep set: kept weights come back as they were, every
// other position as 0 (N:M fill and BSR padding are zeros).
inline void require_unpack_equals(const std::vector<float>& unpacked, const weights& w,
                                  const std::vector<std::uint8_t>& keep) {
    for (std::size_t i = 0; i < unpacked.size(); ++i) {
        const float want = keep[i] ? w.values[i] : 0.0f;
        require(same_value(unpacked[i], want), "unpack (%zu, %zu) is %g, packed %g (kept %d)", i / w.cols,
                i % w.cols, static_cast<double>(unpacked[i]), static_cast<double>(w.values[i]), keep[i]);
    }
}

// Magnitude pruning, by its definition. Positions are grouped into units (an element, an
// N:M position, a block, a column) ranked by their score (sum of |w|) within a ranking
// group (a row, the matrix, an N:M group). Seen from the unpacked matrix a unit looks kept
// when any of its weights is nonzero; a kept unit of zeros looks dropped, but has score 0.
// So: every unit that looks dropped and has a positive score must not outrank any unit
// that looks kept, and no more than `allowed(group size)` units may look kept.
class unit_ranking {
public:
    unit_ranking(std::size_t groups, std::size_t units_per_group)
        : units_per_group_(units_per_group), units_(groups * units_per_group) {}

    void add(std::size_t group, std::size_t unit_id, float weight, float unpacked) {
        unit& u = units_[group * units_per_group_ + unit_id];
        u.score += std::fabs(static_cast<double>(weight));
        u.present = true;
        u.looks_kept = u.looks_kept || unpacked != 0.0f;
    }

    // allowed(n): how many of a group's n units may be kept.
    template <class Allowed>
    void require_consistent(const char* what, Allowed&& allowed) const {
        for (std::size_t g = 0; g * units_per_group_ < units_.size(); ++g) {
            double min_kept = std::numeric_limits<double>::infinity(), max_dropped = 0.0;
            std::size_t kept = 0, present = 0;
            for (std::size_t i = g * units_per_group_; i < (g + 1) * units_per_group_; ++i) {
                const unit& u = units_[i];
                if (!u.present) continue;
                ++present;
                if (u.looks_kept) {
                    ++kept;
                    min_kept = std::min(min_kept, u.score);
                } else {
                    max_dropped = std::max(max_dropped, u.score);
                }
            }
            require(kept <= allowed(present), "%s: group %zu keeps %zu of %zu units, %zu allowed", what, g, kept,
                    present, allowed(present));
            require(max_dropped <= min_kept, "%s: group %zu dropped a unit of score %g but kept one of %g", what, g,
                    max_dropped, min_kept);
        }
    }

private:
    struct unit {
        double score = 0.0;
        bool present = false, looks_kept = false;
    };
    std::size_t units_per_group_;
    std::vector<unit> units_;
};

// Magnitude pruning only removes: every unpacked weight is 0 or the packed one.
inline void require_unpack_subset(const std::vector<float>& unpacked, const weights& w) {
    for (std::size_t i = 0; i < unpacked.size(); ++i)
        require(unpacked[i] == 0.0f || same_value(unpacked[i], w.values[i]), "unpack (%zu, %zu) is %g, packed %g",
                i / w.cols, i % w.cols, static_cast<double>(unpacked[i]), static_cast<double>(w.values[i]));
}

// Units kept of `total` at sparsity s: the fraction s (rounded, halves away from zero) is
// removed.
inline std::size_t kept_of(std::size_t total, double sparsity) {
    const double removed = std::round(sparsity * static_cast<double>(total));
    return removed >= static_cast<double>(total) ? 0 : total - static_cast<std::size_t>(removed);
}

// --- products --------------------------------------------------------------------------------

// Whether the naive error bound is meaningful: finite weights whose products cannot
// overflow fp32 along the way (sum |w| * max|x| stays far below FLT_MAX).
inline bool products_comparable(const std::vector<float>& dense, std::size_t cols, float x_max) {
    for (std::size_t start = 0; start < dense.size(); start += cols) {
        double s = 0.0;
        for (std::size_t k = 0; k < cols; ++k) {
            const float v = dense[start + k];
            if (!std::isfinite(v)) return false;
            s += std::fabs(static_cast<double>(v));
        }
        if (s * static_cast<double>(x_max) > 1e30) return false;
    }
    return true;
}

// compare.hpp's bound ignores underflow; each rounding into the denormal range adds up to
// half of the smallest denormal, absolutely.
inline bool close_enough(float got, sieve_test::expected_value want, std::size_t k) {
    want.bound += static_cast<double>(k + 4) * static_cast<double>(std::numeric_limits<float>::denorm_min());
    return sieve_test::close(got, want);
}

// The scalar reference covers the formats whose view holds the values itself (not the
// channel-pruned wrapper, which runs the dense kernels on its inner matrix).
template <class Matrix, class = void>
struct has_reference : std::false_type {};
template <class Matrix>
struct has_reference<Matrix, std::void_t<decltype(std::declval<const Matrix&>().view().values)>> : std::true_type {};

// gemv and gemm on `packed` (whose unpacked, dequantized form is `dense`) against the naive
// product, and the scalar reference against it too. Activations, the epilogue and the token
// count come from the input. Non-comparable weights (Inf, NaN, overflow) still run the
// kernels, for the sanitizers.
template <class Matrix>
void check_products(const Matrix& packed, const std::vector<float>& dense, input_reader& in) {
    const std::size_t rows = packed.rows(), cols = packed.cols();
    const std::size_t tokens = 1 + in.below(3);
    std::vector<float> x(tokens * cols);
    float x_max = 0.0f;
    for (float& v : x) {
        v = in.activation();
        x_max = std::max(x_max, std::fabs(v));
    }
    const auto& cases = sieve_test::epilogue_cases();
    const sieve_test::epilogue_case& ec = cases[in.below(cases.size())];
    std::vector<float> bias(rows);
    for (float& b : bias) b = in.activation();
    const sieve::epilogue ep = sieve_test::make_epilogue(ec, bias);
    std::vector<float> before(tokens * rows);
    for (float& b : before) b = in.activation();
    const bool comparable = products_comparable(dense, cols, x_max);
    const sieve::matrix_view<const float> w_dense(dense.data(), rows, cols);

    // gemv, token 0; y starts as `before` (read when beta != 0).
    std::vector<float> y(before.begin(), before.begin() + static_cast<std::ptrdiff_t>(rows));
    require_ok(sieve::gemv(packed, {x.data(), cols}, {y.data(), rows}, ep), "gemv");
    // gemm over all tokens.
    std::vector<float> ys(before);
    require_ok(sieve::gemm(packed, {x.data(), tokens, cols}, {ys.data(), tokens, rows}, ep), "gemm");
    if (!comparable) return;

    std::vector<float> y_ref(before.begin(), before.begin() + static_cast<std::ptrdiff_t>(rows));
    if constexpr (has_reference<Matrix>::value) sieve::reference::gemv(packed.view(), x.data(), y_ref.data(), ep);
    for (std::size_t t = 0; t < tokens; ++t) {
        const auto want = sieve_test::naive_gemv(w_dense, {}, x.data() + t * cols, before.data() + t * rows, ep);
        for (std::size_t m = 0; m < rows; ++m) {
            if (t == 0) {
                require(close_enough(y[m], want[m], cols), "gemv y[%zu] = %.9g, naive %.9g +- %.3g (%s)", m,
                        static_cast<double>(y[m]), want[m].value, want[m].bound, ec.name);
                if (has_reference<Matrix>::value)
                    require(close_enough(y_ref[m], want[m], cols), "reference y[%zu] = %.9g, naive %.9g +- %.3g", m,
                            static_cast<double>(y_ref[m]), want[m].value, want[m].bound);
            }
            const float got = ys[t * rows + m];
            require(close_enough(got, want[m], cols), "gemm Y(%zu, %zu) = %.9g, naive %.9g +- %.3g (%s)", t, m,
                    static_cast<double>(got), want[m].value, want[m].bound, ec.name);
        }
    }
}

}  // namespace sieve_fuzz
