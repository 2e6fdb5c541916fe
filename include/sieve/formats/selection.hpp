// Which weights a packer keeps: the shared first step of every format's packer.
//
// A `selection` says how to choose the kept weights of a dense matrix:
//   - nonzeros():        keep every weight that is not 0 (NaN counts as nonzero);
//   - from_mask(mask):   keep exactly where the byte mask is nonzero (explicit zeros kept);
//   - magnitude(s):      prune to sparsity s by |w|, respecting the format's structure:
//                        per element, per N:M group (the pattern fixes s), or per block.
// `build_keep_mask` turns it into a byte mask (1 = keep) shaped like the matrix. Ties in
// magnitude keep the lower column index, so packing is deterministic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../core/checks.hpp"
#include "../core/error.hpp"
#include "../core/views.hpp"

namespace sieve {

// Over which set of weights magnitude pruning ranks: each row (block row) on its own, or
// the whole matrix.
enum class prune_scope : std::uint8_t { per_row, per_matrix };

struct selection {
    enum class kind : std::uint8_t { nonzeros, mask, magnitude };

    kind how = kind::nonzeros;
    matrix_view<const std::uint8_t> mask{};
    double sparsity = 0.0;  // fraction of weights (or blocks) removed, in [0, 1]
    prune_scope scope = prune_scope::per_row;

    static selection nonzeros() noexcept { return {}; }
    static selection from_mask(matrix_view<const std::uint8_t> keep) noexcept {
        selection s;
        s.how = kind::mask;
        s.mask = keep;
        return s;
    }
    // For N:M formats the pattern fixes the sparsity and `target` is ignored.
    static selection magnitude(double target = 0.5, prune_scope in = prune_scope::per_row) noexcept {
        selection s;
        s.how = kind::magnitude;
        s.sparsity = target;
        s.scope = in;
        return s;
    }
};

// The structure magnitude pruning must respect: single elements (unstructured), groups of
// `m` consecutive columns keeping `n` each, or `block_rows x block_cols` tiles.
struct prune_structure {
    enum class kind : std::uint8_t { element, nm_group, block };
    kind shape = kind::element;
    std::size_t n = 0, m = 0;                    // nm_group
    std::size_t block_rows = 1, block_cols = 1;  // block

    static prune_structure element() noexcept { return {}; }
    static prune_structure nm(std::size_t n, std::size_t m) noexcept {
        prune_structure s;
        s.shape = kind::nm_group;
        s.n = n;
        s.m = m;
        return s;
    }
    static prune_structure block(std::size_t r, std::size_t c) noexcept {
        prune_structure s;
        s.shape = kind::block;
        s.block_rows = r;
        s.block_cols = c;
        return s;
    }
};

// A dense row-major 0/1 mask, rows x cols, ld == cols.
struct keep_mask {
    aligned_buffer<std::uint8_t> bytes;
    std::size_t rows = 0, cols = 0;

    bool operator()(std::size_t r, std::size_t c) const noexcept { return bytes[r * cols + c] != 0; }
    std::uint8_t& at(std::size_t r, std::size_t c) noexcept { return bytes[r * cols + c]; }
};

namespace detail {

// Keep the `keep` largest scores among `items` (indices into scores); ties keep the lower
// index. Marks kept items in `flags`.
inline void keep_largest(const std::vector<double>& scores, std::size_t keep,
                         std::vector<std::uint8_t>& flags) {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    keep = std::min(keep, order.size());
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                     [&](std::size_t a, std::size_t b) {
                         return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
                     });
    flags.assign(scores.size(), 0);
    for (std::size_t i = 0; i < keep; ++i) flags[order[i]] = 1;
}

inline std::size_t kept_count(std::size_t total, double sparsity) noexcept {
    auto removed = static_cast<std::size_t>(std::llround(sparsity * static_cast<double>(total)));
    return total - std::min(removed, total);
}

}  // namespace detail

// Builds the keep-mask of `weights` for `how`, respecting `structure` when pruning by
// magnitude. Explicit masks and nonzeros are taken as they are; the format's packer checks
// that they fit its structure.
inline result<keep_mask> build_keep_mask(const char* op, matrix_view<const float> weights,
                                         const selection& how, const prune_structure& structure) {
    status s = detail::check_matrix(op, "weights", weights);
    if (!s.ok()) return s;
    keep_mask out;
    out.rows = weights.rows;
    out.cols = weights.cols;
    std::size_t count = 0;
    if (!detail::checked_mul(weights.rows, weights.cols, count))
        return status::error(errc::size_overflow, "%s: %zu x %zu weights overflow", op,
                             weights.rows, weights.cols);
    s = out.bytes.allocate(count);
    if (!s.ok()) return s;
    const std::size_t rows = weights.rows, cols = weights.cols;

    switch (how.how) {
    case selection::kind::nonzeros:
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) out.at(r, c) = weights(r, c) != 0.0f;
        return out;

    case selection::kind::mask:
        s = detail::check_matrix(op, "mask", how.mask);
        if (!s.ok()) return s;
        if (how.mask.rows != rows || how.mask.cols != cols)
            return status::error(errc::shape_mismatch, "%s: mask is %zu x %zu, weights are %zu x %zu",
                                 op, how.mask.rows, how.mask.cols, rows, cols);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) out.at(r, c) = how.mask(r, c) != 0;
        return out;

    case selection::kind::magnitude: break;
    }

    // Magnitude pruning: NaN has no order, so it is refused rather than guessed.
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            if (std::isnan(weights(r, c)))
                return status::error(errc::non_finite, "%s: weight (%zu, %zu) is NaN; magnitude "
                                     "pruning needs an order", op, r, c);
    const bool nm = structure.shape == prune_structure::kind::nm_group;
    if (!nm && !(how.sparsity >= 0.0 && how.sparsity <= 1.0))
        return status::error(errc::bad_argument, "%s: sparsity %g is outside [0, 1]", op,
                             how.sparsity);

    std::vector<double> scores;
    std::vector<std::uint8_t> flags;
    if (nm) {
        // Per group of m columns keep the n largest (the last group may be partial).
        const std::size_t m = structure.m, n = structure.n;
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c0 = 0; c0 < cols; c0 += m) {
                const std::size_t width = std::min(m, cols - c0);
                scores.resize(width);
                for (std::size_t j = 0; j < width; ++j) scores[j] = std::fabs(weights(r, c0 + j));
                detail::keep_largest(scores, n, flags);
                for (std::size_t j = 0; j < width; ++j) out.at(r, c0 + j) = flags[j];
            }
        return out;
    }

    // Elements are 1x1 blocks: one code path ranks blocks by the sum of |w| inside them.
    const std::size_t br = structure.shape == prune_structure::kind::block ? structure.block_rows : 1;
    const std::size_t bc = structure.shape == prune_structure::kind::block ? structure.block_cols : 1;
    if (br == 0 || bc == 0)
        return status::error(errc::bad_argument, "%s: block shape %zu x %zu is empty", op, br, bc);
    const std::size_t block_rows = (rows + br - 1) / br, block_cols = (cols + bc - 1) / bc;
    auto block_score = [&](std::size_t bi, std::size_t bj) {
        double sum = 0.0;
        for (std::size_t r = bi * br; r < std::min(rows, (bi + 1) * br); ++r)
            for (std::size_t c = bj * bc; c < std::min(cols, (bj + 1) * bc); ++c)
                sum += std::fabs(weights(r, c));
        return sum;
    };
    auto mark_block = [&](std::size_t bi, std::size_t bj) {
        for (std::size_t r = bi * br; r < std::min(rows, (bi + 1) * br); ++r)
            for (std::size_t c = bj * bc; c < std::min(cols, (bj + 1) * bc); ++c) out.at(r, c) = 1;
    };
    if (how.scope == prune_scope::per_row) {
        scores.resize(block_cols);
        for (std::size_t bi = 0; bi < block_rows; ++bi) {
            for (std::size_t bj = 0; bj < block_cols; ++bj) scores[bj] = block_score(bi, bj);
            detail::keep_largest(scores, detail::kept_count(block_cols, how.sparsity), flags);
            for (std::size_t bj = 0; bj < block_cols; ++bj)
                if (flags[bj]) mark_block(bi, bj);
        }
    } else {
        scores.resize(block_rows * block_cols);
        for (std::size_t bi = 0; bi < block_rows; ++bi)
            for (std::size_t bj = 0; bj < block_cols; ++bj)
                scores[bi * block_cols + bj] = block_score(bi, bj);
        detail::keep_largest(scores, detail::kept_count(scores.size(), how.sparsity), flags);
        for (std::size_t i = 0; i < flags.size(); ++i)
            if (flags[i]) mark_block(i / block_cols, i % block_cols);
    }
    return out;
}

}  // namespace sieve
