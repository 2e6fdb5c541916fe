// What magnitude pruning must keep, derived from selection.hpp's contract rather than its
// code: rank the candidates (elements, or blocks scored by the sum of |w| inside them) by
// magnitude, larger first, ties to the lower index; keep `total - round(sparsity * total)`
// of each ranked set (a row / block row, or the whole matrix), rounding halves away from 0.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <sieve/formats/selection.hpp>
#include <vector>

#include "random.hpp"

namespace sieve_test {

inline std::size_t expected_kept(std::size_t total, double sparsity) {
    const auto removed =
        static_cast<std::size_t>(std::llround(sparsity * static_cast<double>(total)));
    return total - std::min(removed, total);
}

// Flags (1 = keep) for the `keep` best of `scores`: larger first, ties to the lower index.
inline std::vector<std::uint8_t> keep_best(const std::vector<double>& scores, std::size_t keep) {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    std::vector<std::uint8_t> flags(scores.size(), 0);
    for (std::size_t i = 0; i < keep && i < order.size(); ++i) flags[order[i]] = 1;
    return flags;
}

// Keep mask (rows x cols) of magnitude pruning with R x C blocks (1 x 1: unstructured).
inline std::vector<std::uint8_t> expected_block_keep(const test_matrix& w, std::size_t br,
                                                     std::size_t bc, double sparsity,
                                                     sieve::prune_scope scope) {
    const std::size_t rows = w.rows(), cols = w.cols();
    const std::size_t nbr = (rows + br - 1) / br, nbc = (cols + bc - 1) / bc;
    std::vector<double> score(nbr * nbc, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) score[(r / br) * nbc + c / bc] += std::fabs(w(r, c));
    std::vector<std::uint8_t> block_keep(nbr * nbc, 0);
    if (scope == sieve::prune_scope::per_matrix) {
        block_keep = keep_best(score, expected_kept(score.size(), sparsity));
    } else {
        for (std::size_t bi = 0; bi < nbr; ++bi) {
            std::vector<double> row(score.begin() + static_cast<std::ptrdiff_t>(bi * nbc),
                                    score.begin() + static_cast<std::ptrdiff_t>((bi + 1) * nbc));
            const auto flags = keep_best(row, expected_kept(nbc, sparsity));
            std::copy(flags.begin(), flags.end(),
                      block_keep.begin() + static_cast<std::ptrdiff_t>(bi * nbc));
        }
    }
    std::vector<std::uint8_t> keep(rows * cols, 0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            keep[r * cols + c] = block_keep[(r / br) * nbc + c / bc];
    return keep;
}

inline std::vector<std::uint8_t> expected_element_keep(const test_matrix& w, double sparsity,
                                                       sieve::prune_scope scope) {
    return expected_block_keep(w, 1, 1, sparsity, scope);
}

// Keep mask of N:M magnitude pruning: in each group of m columns (the last may be partial)
// the n largest |w|, ties to the lower column.
inline std::vector<std::uint8_t> expected_nm_keep(const test_matrix& w, std::size_t n,
                                                  std::size_t m) {
    std::vector<std::uint8_t> keep(w.rows() * w.cols(), 0);
    for (std::size_t r = 0; r < w.rows(); ++r)
        for (std::size_t c0 = 0; c0 < w.cols(); c0 += m) {
            const std::size_t width = std::min(m, w.cols() - c0);
            std::vector<double> scores(width);
            for (std::size_t j = 0; j < width; ++j) scores[j] = std::fabs(w(r, c0 + j));
            const auto flags = keep_best(scores, n);
            for (std::size_t j = 0; j < width; ++j) keep[r * w.cols() + c0 + j] = flags[j];
        }
    return keep;
}

// W where `keep` else 0: what unpacking a pruned matrix must give back, bit for bit.
inline test_matrix masked(const test_matrix& w, const std::vector<std::uint8_t>& keep) {
    test_matrix out(w.rows(), w.cols());
    for (std::size_t r = 0; r < w.rows(); ++r)
        for (std::size_t c = 0; c < w.cols(); ++c)
            out(r, c) = keep[r * w.cols() + c] ? w(r, c) : 0.0f;
    return out;
}

// A random byte mask (nonzero bytes vary, so "nonzero means keep" is what is tested).
inline std::vector<std::uint8_t> random_mask(rng& r, std::size_t rows, std::size_t cols,
                                             double density) {
    std::vector<std::uint8_t> mask(rows * cols);
    for (auto& b : mask) b = r.bernoulli(density) ? static_cast<std::uint8_t>(r.index(1, 255)) : 0;
    return mask;
}

inline sieve::matrix_view<const std::uint8_t> mask_view(const std::vector<std::uint8_t>& mask,
                                                        std::size_t rows, std::size_t cols) {
    return {mask.data(), rows, cols};
}

inline std::size_t count_nonzero(const std::vector<std::uint8_t>& mask) {
    return static_cast<std::size_t>(
        std::count_if(mask.begin(), mask.end(), [](std::uint8_t b) { return b != 0; }));
}

}  // namespace sieve_test
