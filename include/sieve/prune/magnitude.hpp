// Magnitude pruning: keep the weights (or tiles, or channels) of largest |w|, ranked per
// output row or over the whole matrix. The baseline every other pruner must beat; it needs
// no calibration data. Tiles score the sum of |w| inside them, ties keep the lower index,
// exactly as the formats' own `selection::magnitude` packs (selection.hpp ranks for both).
#pragma once

#include "../formats/selection.hpp"
#include "target.hpp"

namespace sieve {

inline result<keep_mask> magnitude_mask(matrix_view<const float> weights, const prune_target& target) {
    const char* op = "magnitude prune";
    SIEVE_TRY(detail::check_prune_inputs(op, weights, target));
    return build_keep_mask(op, weights, selection::magnitude(target.sparsity, target.ranking_scope()),
                           target.tiles(weights.rows, weights.cols));
}

// The pruned weights: W where kept, 0 elsewhere.
inline result<pruned_layer> magnitude_prune(matrix_view<const float> weights, const prune_target& target,
                                            prune_report* report = nullptr) {
    auto mask = magnitude_mask(weights, target);
    if (!mask.ok()) return mask.error();
    auto out = detail::masked_layer(weights, std::move(*mask));
    if (out.ok()) detail::fill_report(report, *out);
    return out;
}

}  // namespace sieve
