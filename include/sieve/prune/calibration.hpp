// Calibration statistics of a linear layer's inputs, accumulated over batches of activations.
//
//   Wanda:      the squared L2 norm of each input channel, ||X_j||^2 = sum_n x_nj^2;
//   SparseGPT:  the Hessian of the layer-wise squared error, H = 2 X X^T (K x K), with X the
//               K x N matrix of every calibration token seen so far.
//
// Batches come in the layout an engine holds them (N x K, one token per row, any leading
// dimension, any N, any number of batches): feed each layer the inputs it sees. Sums are
// kept in double (a product of two floats is exact in double, so only the additions round)
// and H is the plain sum, not a mean: the pruners are invariant to its scale, and a sum
// streams without the rescaling a running mean needs. Only the upper triangle is
// accumulated (H is symmetric), a chunk of tokens at a time so each pass over H does
// several tokens' work.
//
// The Hessian costs K^2 doubles (an 11008-wide layer: 970 MB); Wanda needs only the norms,
// so `create(K, calibration::statistics::norms)` skips it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../core/aligned_buffer.hpp"
#include "../core/checks.hpp"
#include "../core/error.hpp"
#include "../core/views.hpp"

namespace sieve {

class calibration {
public:
    enum class statistics : std::uint8_t { norms, norms_and_hessian };

    static result<calibration> create(std::size_t in_features,
                                      statistics what = statistics::norms_and_hessian) {
        calibration out;
        out.k_ = in_features;
        SIEVE_TRY(out.sq_norms_.allocate(in_features));
        if (what == statistics::norms_and_hessian) {
            std::size_t count = 0;
            if (!detail::checked_mul(in_features, in_features, count))
                return status::error(errc::size_overflow, "calibration: a %zu x %zu Hessian overflows",
                                     in_features, in_features);
            SIEVE_TRY(out.gram_.allocate(count));
            out.hessian_ = true;
        }
        return out;
    }

    // Adds a batch of N tokens (N x K). Refuses NaN and Inf (they would poison every later
    // statistic) before accumulating anything, so a refused batch leaves the state as it was.
    status add(matrix_view<const float> batch) {
        const char* op = "calibration add";
        SIEVE_TRY(detail::check_matrix(op, "batch", batch));
        if (batch.rows != 0 && batch.cols != k_)
            return status::error(errc::shape_mismatch, "%s: batch has %zu channels, the layer has %zu",
                                 op, batch.cols, k_);
        for (std::size_t n = 0; n < batch.rows; ++n)
            for (std::size_t j = 0; j < k_; ++j)
                if (!std::isfinite(batch(n, j)))
                    return status::error(errc::non_finite, "%s: activation (token %zu, channel %zu) is %s",
                                         op, n, j, std::isnan(batch(n, j)) ? "NaN" : "infinite");

        for (std::size_t n = 0; n < batch.rows; ++n)
            for (std::size_t j = 0; j < k_; ++j) {
                const double v = batch(n, j);
                sq_norms_[j] += v * v;
            }
        if (hessian_) {
            if (chunk_.size() != chunk * k_) SIEVE_TRY(chunk_.allocate(chunk * k_));
            for (std::size_t n0 = 0; n0 < batch.rows; n0 += chunk) {
                const std::size_t t = batch.rows - n0 < chunk ? batch.rows - n0 : chunk;
                for (std::size_t i = 0; i < t; ++i)
                    for (std::size_t j = 0; j < k_; ++j) chunk_[i * k_ + j] = batch(n0 + i, j);
                accumulate_gram(t);
            }
        }
        samples_ += batch.rows;
        return {};
    }

    // Adds the statistics of another calibration of the same layer (e.g. one per thread).
    status merge(const calibration& other) {
        if (other.k_ != k_ || other.hessian_ != hessian_)
            return status::error(errc::shape_mismatch,
                                 "calibration merge: %zu channels%s vs %zu channels%s", k_,
                                 hessian_ ? " with Hessian" : "", other.k_, other.hessian_ ? " with Hessian" : "");
        for (std::size_t j = 0; j < k_; ++j) sq_norms_[j] += other.sq_norms_[j];
        for (std::size_t i = 0; i < gram_.size(); ++i) gram_[i] += other.gram_[i];
        samples_ += other.samples_;
        return {};
    }

    std::size_t in_features() const noexcept { return k_; }
    std::size_t samples() const noexcept { return samples_; }  // tokens seen
    bool has_hessian() const noexcept { return hessian_; }

    // ||X_j||^2 and ||X_j|| over every token seen.
    double channel_sq_norm(std::size_t j) const noexcept { return sq_norms_[j]; }
    double channel_norm(std::size_t j) const noexcept { return std::sqrt(sq_norms_[j]); }
    // H(i, j) = 2 sum_n x_ni x_nj. Precondition: has_hessian().
    double hessian(std::size_t i, std::size_t j) const noexcept {
        return 2.0 * (i <= j ? gram_[i * k_ + j] : gram_[j * k_ + i]);
    }

private:
    static constexpr std::size_t chunk = 8;  // tokens per pass over H

    // gram += chunk_^T chunk_ (upper triangle), for the first t tokens of the chunk.
    void accumulate_gram(std::size_t t) noexcept {
        for (std::size_t i = 0; i < k_; ++i) {
            double xi[chunk];
            bool any = false;
            for (std::size_t s = 0; s < t; ++s) {
                xi[s] = chunk_[s * k_ + i];
                any = any || xi[s] != 0.0;
            }
            if (!any) continue;  // ReLU-like inputs: a zero row adds nothing
            double* row = gram_.data() + i * k_;
            for (std::size_t s = 0; s < t; ++s) {
                const double a = xi[s];
                const double* x = chunk_.data() + s * k_;
                for (std::size_t j = i; j < k_; ++j) row[j] += a * x[j];
            }
        }
    }

    aligned_buffer<double> sq_norms_;
    aligned_buffer<double> gram_;   // K x K, upper triangle: sum_n x_ni x_nj
    aligned_buffer<double> chunk_;  // scratch: `chunk` tokens as double
    std::size_t k_ = 0, samples_ = 0;
    bool hessian_ = false;
};

}  // namespace sieve
