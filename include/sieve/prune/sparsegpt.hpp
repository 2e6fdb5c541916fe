// SparseGPT (Frantar & Alistarh, "SparseGPT: Massive Language Models Can Be Accurately
// Pruned in One-Shot"): prune a layer column by column and, after each column, move the
// error it leaves onto the columns not yet visited, so the layer's output on the
// calibration data stays as close as the remaining weights allow (optimal brain surgeon
// updates, one column at a time, shared by every row).
//
// The steps, all in double:
//   1. H = 2 X X^T from the calibration. An input channel whose activations were all zero
//      ("dead") has a zero row and column: it gets a positive diagonal so H can be factored,
//      and its weights score 0 so they are the first ones pruned (they never moved the
//      output on the calibration data); kept ones stay as they were.
//   2. Damping: lambda = damping * mean(diag H) is added to the diagonal (default 1%). If H +
//      lambda I or its inverse is not numerically positive definite, the factorization is
//      retried with 10x the damping (a zero damping retries at 0.001), up to max_retries
//      times, then reported as an error; a failed factorization is never used.
//   3. U = upper Cholesky factor of (H + lambda I)^-1. Row i of U holds what pruning column
//      i propagates to later columns, and U_ii^2 is the inverse Hessian's diagonal over
//      the columns still to come.
//   4. Sweep columns in blocks (default 128). At the start of a block the mask inside it
//      is chosen from the current (already updated) weights by the score w^2 / U_jj^2, a
//      tile scoring the sum over its weights, with the exact count of the target (per row
//      or per matrix; counts are spread over blocks by cumulative rounding, so the total is
//      exact). N:M masks are chosen at the first column of each group of M instead, from
//      the weights as the sweep has updated them up to that column. For each column:
//      q = w where kept, else 0; err = (w - q) / U_ii; later columns of the block receive
//      -err * U_i,j at once, the columns past the block once per block (lazy batch update).
//
// Whole output neurons cannot be compensated (rows are independent), so that target ranks
// rows by the output energy they carry on the calibration data, w_i^T H w_i, and removes
// the smallest.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../core/error.hpp"
#include "../core/views.hpp"
#include "../formats/selection.hpp"
#include "calibration.hpp"
#include "linalg.hpp"
#include "target.hpp"
#include "wanda.hpp"  // detail::check_stats

namespace sieve {

struct sparsegpt_options {
    double damping = 0.01;         // fraction of the mean diagonal of H added to the diagonal
    std::size_t block_size = 128;  // columns per sweep block; rounded up to a multiple of M or
                                   // of the block width
    int max_retries = 4;           // factorizations retried, each with 10x the damping
};

namespace detail {

inline status check_sparsegpt_options(const char* op, const sparsegpt_options& o) {
    if (!(o.damping >= 0.0) || !std::isfinite(o.damping))
        return status::error(errc::bad_argument, "%s: damping %g must be finite and >= 0", op, o.damping);
    if (o.block_size == 0) return status::error(errc::bad_argument, "%s: block size is 0", op);
    if (o.max_retries < 0) return status::error(errc::bad_argument, "%s: max_retries %d < 0", op, o.max_retries);
    return {};
}

// The number of tiles pruned among the first `tiles` of a ranked set: counts per sweep
// block are differences of this, so they add up to exactly round(sparsity * total).
inline std::size_t pruned_prefix(double sparsity, std::size_t tiles) noexcept {
    return std::min(tiles, static_cast<std::size_t>(std::llround(sparsity * static_cast<double>(tiles))));
}

// Factors the damped Hessian, retrying with more damping. `h` is K x K (full, symmetric).
inline status sparsegpt_factor(const char* op, const double* h, std::size_t k, double mean_diag,
                               const sparsegpt_options& o, aligned_buffer<double>& u, prune_report& info) {
    aligned_buffer<double> a, b;
    SIEVE_TRY(a.allocate(k * k));
    SIEVE_TRY(b.allocate(k * k));
    SIEVE_TRY(u.allocate(k * k));
    double fraction = o.damping;
    for (int attempt = 0;; ++attempt) {
        const double lambda = fraction * mean_diag;
        for (std::size_t i = 0; i < k; ++i) {
            for (std::size_t j = 0; j < i; ++j) a[i * k + j] = h[i * k + j];
            a[i * k + i] = h[i * k + i] + lambda;
        }
        if (upper_cholesky_of_inverse(a.data(), k, b.data(), u.data())) {
            info.damping = fraction;
            info.damping_retries = attempt;
            return {};
        }
        if (attempt >= o.max_retries)
            return status::error(errc::bad_argument,
                                 "%s: the Hessian is not positive definite with damping %g of its mean "
                                 "diagonal (%d retries); add calibration tokens or raise the damping",
                                 op, fraction, attempt);
        fraction = fraction > 0.0 ? fraction * 10.0 : 1e-3;
    }
}

// The column sweep over W (rows x k, double, row-major) with the factor U.
class sparsegpt_sweep {
public:
    sparsegpt_sweep(double* w, std::size_t rows, std::size_t k, const double* u, const double* score_weight,
                    keep_mask& mask, const prune_target& target)
        : w_(w), rows_(rows), k_(k), u_(u), score_weight_(score_weight), mask_(mask), target_(target) {
        const prune_structure tiles = target.tiles(rows, k);
        nm_ = tiles.shape == prune_structure::kind::nm_group;
        tile_rows_ = nm_ ? 1 : tiles.block_rows;
        tile_cols_ = nm_ ? tiles.m : tiles.block_cols;  // the unit a sweep block is a multiple of
    }

    status run(std::size_t block_size) {
        const std::size_t unit = tile_cols_;
        const std::size_t bs = (block_size + unit - 1) / unit * unit;
        SIEVE_TRY(err_.allocate(bs));
        for (std::size_t i1 = 0; i1 < k_; i1 += bs) {
            const std::size_t i2 = std::min(i1 + bs, k_);
            if (!nm_) select_tiles(i1, i2);
            for (std::size_t r = 0; r < rows_; ++r) sweep_row(r, i1, i2);
        }
        return {};
    }

private:
    double score(std::size_t r, std::size_t c) const noexcept {
        const double v = w_[r * k_ + c];
        return v * v * score_weight_[c];
    }

    // Chooses the kept tiles whose columns lie in [i1, i2) (i1 is a multiple of the tile width).
    void select_tiles(std::size_t i1, std::size_t i2) {
        const std::size_t tr = tile_rows_, tc = tile_cols_;
        const std::size_t row_tiles = (rows_ + tr - 1) / tr;
        const std::size_t cb1 = i1 / tc, cb2 = (i2 + tc - 1) / tc, width = cb2 - cb1;
        auto tile_score = [&](std::size_t bi, std::size_t bj) {
            double s = 0.0;
            for (std::size_t r = bi * tr; r < std::min(rows_, (bi + 1) * tr); ++r)
                for (std::size_t c = bj * tc; c < std::min(k_, (bj + 1) * tc); ++c) s += score(r, c);
            return s;
        };
        auto clear_tile = [&](std::size_t bi, std::size_t bj) {
            for (std::size_t r = bi * tr; r < std::min(rows_, (bi + 1) * tr); ++r)
                for (std::size_t c = bj * tc; c < std::min(k_, (bj + 1) * tc); ++c) mask_.at(r, c) = 0;
        };
        const double s = target_.sparsity;
        if (target_.ranking_scope() == prune_scope::per_row) {
            const std::size_t keep = width - (pruned_prefix(s, cb2) - pruned_prefix(s, cb1));
            scores_.resize(width);
            for (std::size_t bi = 0; bi < row_tiles; ++bi) {
                for (std::size_t j = 0; j < width; ++j) scores_[j] = tile_score(bi, cb1 + j);
                keep_largest(scores_, keep, flags_);
                for (std::size_t j = 0; j < width; ++j)
                    if (!flags_[j]) clear_tile(bi, cb1 + j);
            }
        } else {
            const std::size_t total = row_tiles * width;
            const std::size_t keep =
                total - (pruned_prefix(s, row_tiles * cb2) - pruned_prefix(s, row_tiles * cb1));
            scores_.resize(total);
            for (std::size_t bi = 0; bi < row_tiles; ++bi)
                for (std::size_t j = 0; j < width; ++j) scores_[bi * width + j] = tile_score(bi, cb1 + j);
            keep_largest(scores_, keep, flags_);
            for (std::size_t t = 0; t < total; ++t)
                if (!flags_[t]) clear_tile(t / width, cb1 + t % width);
        }
    }

    // N:M: keeps the n best of the group of row r starting at column c0.
    void select_group(std::size_t r, std::size_t c0) {
        const std::size_t width = std::min(target_.m, k_ - c0);
        scores_.resize(width);
        for (std::size_t j = 0; j < width; ++j) scores_[j] = score(r, c0 + j);
        keep_largest(scores_, target_.n, flags_);
        for (std::size_t j = 0; j < width; ++j) mask_.at(r, c0 + j) = flags_[j];
    }

    void sweep_row(std::size_t r, std::size_t i1, std::size_t i2) {
        double* wr = w_ + r * k_;
        for (std::size_t i = i1; i < i2; ++i) {
            if (nm_ && i % target_.m == 0) select_group(r, i);
            const double* ui = u_ + i * k_;
            const double q = mask_(r, i) ? wr[i] : 0.0;
            const double e = (wr[i] - q) / ui[i];
            wr[i] = q;
            err_[i - i1] = e;
            if (e != 0.0)
                for (std::size_t j = i + 1; j < i2; ++j) wr[j] -= e * ui[j];
        }
        for (std::size_t i = i1; i < i2; ++i) {
            const double e = err_[i - i1];
            if (e == 0.0) continue;
            const double* ui = u_ + i * k_;
            for (std::size_t j = i2; j < k_; ++j) wr[j] -= e * ui[j];
        }
    }

    double* w_;
    std::size_t rows_, k_;
    const double* u_;
    const double* score_weight_;  // 1 / U_jj^2, 0 for dead channels
    keep_mask& mask_;
    const prune_target& target_;
    bool nm_ = false;
    std::size_t tile_rows_ = 1, tile_cols_ = 1;
    aligned_buffer<double> err_;
    std::vector<double> scores_;
    std::vector<std::uint8_t> flags_;
};

// Whole output neurons: keep the rows of largest output energy w_i^T H w_i.
inline result<pruned_layer> prune_rows_by_energy(matrix_view<const float> weights, const double* h,
                                                 const prune_target& target) {
    const std::size_t rows = weights.rows, k = weights.cols;
    std::vector<double> energy(rows, 0.0), wr(k);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t j = 0; j < k; ++j) wr[j] = weights(r, j);
        double e = 0.0;
        for (std::size_t p = 0; p < k; ++p) {
            if (wr[p] == 0.0) continue;
            double t = 0.0;
            for (std::size_t q = 0; q < k; ++q) t += h[p * k + q] * wr[q];
            e += wr[p] * t;
        }
        energy[r] = e;
    }
    std::vector<std::uint8_t> flags;
    keep_largest(energy, kept_count(rows, target.sparsity), flags);
    auto mask = full_mask(rows, k);
    if (!mask.ok()) return mask.error();
    for (std::size_t r = 0; r < rows; ++r)
        if (!flags[r])
            for (std::size_t j = 0; j < k; ++j) mask->at(r, j) = 0;
    return masked_layer(weights, std::move(*mask));
}

}  // namespace detail

// Prunes `weights` (M x K) to `target` with SparseGPT; `stats` must hold the Hessian of the
// layer's inputs. Returns the mask and the updated weights (0 where pruned).
inline result<pruned_layer> sparsegpt_prune(matrix_view<const float> weights, const calibration& stats,
                                            const prune_target& target, const sparsegpt_options& options = {},
                                            prune_report* report = nullptr) {
    const char* op = "sparsegpt prune";
    SIEVE_TRY(detail::check_prune_inputs(op, weights, target));
    SIEVE_TRY(detail::check_stats(op, stats, weights.cols, true));
    SIEVE_TRY(detail::check_sparsegpt_options(op, options));
    const std::size_t rows = weights.rows, k = weights.cols;

    aligned_buffer<double> h;
    SIEVE_TRY(h.allocate(k * k));
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < k; ++j) h[i * k + j] = stats.hessian(i, j);
    prune_report info;
    double live_diag = 0.0;
    for (std::size_t j = 0; j < k; ++j) {
        if (h[j * k + j] == 0.0) ++info.dead_channels;
        live_diag += h[j * k + j];
    }

    if (target.shape == prune_target::kind::output_neurons) {
        auto out = detail::prune_rows_by_energy(weights, h.data(), target);
        if (out.ok() && report != nullptr) {
            detail::fill_report(report, *out);
            report->dead_channels = info.dead_channels;
        }
        return out;
    }

    // A dead channel gets the mean live diagonal (its scale matches the others, so the
    // damping, a fraction of the mean, is not skewed by it).
    const double mean_diag =
        info.dead_channels == k ? 1.0 : live_diag / static_cast<double>(k - info.dead_channels);
    aligned_buffer<double> score_weight;
    SIEVE_TRY(score_weight.allocate(k));
    for (std::size_t j = 0; j < k; ++j)
        if (h[j * k + j] == 0.0) h[j * k + j] = mean_diag;
    aligned_buffer<double> u;
    SIEVE_TRY(detail::sparsegpt_factor(op, h.data(), k, mean_diag, options, u, info));
    for (std::size_t j = 0; j < k; ++j)
        score_weight[j] = stats.channel_sq_norm(j) == 0.0 ? 0.0 : 1.0 / (u[j * k + j] * u[j * k + j]);

    aligned_buffer<double> w;
    SIEVE_TRY(w.allocate(rows * k));
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < k; ++j) w[r * k + j] = weights(r, j);
    auto mask = detail::full_mask(rows, k);
    if (!mask.ok()) return mask.error();
    detail::sparsegpt_sweep sweep(w.data(), rows, k, u.data(), score_weight.data(), *mask, target);
    SIEVE_TRY(sweep.run(options.block_size));

    pruned_layer out;
    out.rows = rows;
    out.cols = k;
    SIEVE_TRY(out.values.allocate(rows * k));
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < k; ++j) {
            const float v = static_cast<float>(w[r * k + j]);
            if (!std::isfinite(v))
                return status::error(errc::non_finite,
                                     "%s: the update made weight (%zu, %zu) non-finite; raise the damping", op, r, j);
            out.values[r * k + j] = v;
        }
    out.mask = std::move(*mask);
    if (report != nullptr) {
        detail::fill_report(report, out);
        report->dead_channels = info.dead_channels;
        report->damping = info.damping;
        report->damping_retries = info.damping_retries;
    }
    return out;
}

}  // namespace sieve
