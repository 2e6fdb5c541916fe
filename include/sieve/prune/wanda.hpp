// Wanda (Sun et al., "A Simple and Effective Pruning Approach for Large Language Models"):
// score each weight by |W_ij| * ||X_j||, its magnitude times the L2 norm of the input
// channel it multiplies over the calibration tokens, and keep the best scores within each
// output row (the paper's comparison group), each N:M group, or over the matrix. A tile
// (BSR block, channel) scores the sum of its weights' scores. Weights are not updated.
//
// Why it works: LLM activations carry a few channels whose magnitude is orders above the
// rest; a small weight on such a channel moves the output more than a large weight on a
// quiet one, and magnitude pruning cannot see that.
#pragma once

#include <cmath>
#include <cstddef>

#include "../formats/selection.hpp"
#include "calibration.hpp"
#include "target.hpp"

namespace sieve {

namespace detail {
inline status check_stats(const char* op, const calibration& stats, std::size_t cols, bool need_hessian) {
    if (stats.in_features() != cols)
        return status::error(errc::shape_mismatch, "%s: statistics cover %zu input channels, weights have %zu",
                             op, stats.in_features(), cols);
    if (need_hessian && !stats.has_hessian())
        return status::error(errc::bad_argument, "%s: the calibration holds no Hessian (create it with "
                             "calibration::statistics::norms_and_hessian)", op);
    if (stats.samples() == 0 && cols != 0)
        return status::error(errc::bad_argument, "%s: the calibration has seen no tokens", op);
    return {};
}
}  // namespace detail

inline result<keep_mask> wanda_mask(matrix_view<const float> weights, const calibration& stats,
                                    const prune_target& target) {
    const char* op = "wanda prune";
    SIEVE_TRY(detail::check_prune_inputs(op, weights, target));
    SIEVE_TRY(detail::check_stats(op, stats, weights.cols, false));
    const std::size_t rows = weights.rows, cols = weights.cols;

    // The ranking is the packers' magnitude ranking applied to the score matrix, so every
    // structure and scope is handled by the same code. Norms are divided by the largest one
    // first: a common positive factor changes no ranking and keeps the float scores from
    // overflowing.
    double largest = 0.0;
    for (std::size_t j = 0; j < cols; ++j) largest = std::fmax(largest, stats.channel_norm(j));
    aligned_buffer<float> scores;
    SIEVE_TRY(scores.allocate(rows * cols));
    for (std::size_t j = 0; j < cols; ++j) {
        const double norm = largest > 0.0 ? stats.channel_norm(j) / largest : 0.0;
        for (std::size_t r = 0; r < rows; ++r)
            scores[r * cols + j] = static_cast<float>(std::fabs(static_cast<double>(weights(r, j))) * norm);
    }
    return build_keep_mask(op, matrix_view<const float>(scores.data(), rows, cols),
                           selection::magnitude(target.sparsity, target.ranking_scope()),
                           target.tiles(rows, cols));
}

// The pruned weights: W where kept, 0 elsewhere.
inline result<pruned_layer> wanda_prune(matrix_view<const float> weights, const calibration& stats,
                                        const prune_target& target, prune_report* report = nullptr) {
    auto mask = wanda_mask(weights, stats, target);
    if (!mask.ok()) return mask.error();
    auto out = detail::masked_layer(weights, std::move(*mask));
    if (out.ok()) {
        detail::fill_report(report, *out);
        if (report != nullptr)
            for (std::size_t j = 0; j < weights.cols; ++j) report->dead_channels += stats.channel_sq_norm(j) == 0.0;
    }
    return out;
}

}  // namespace sieve
