// What a pruner aims at and what it hands back, shared by magnitude, Wanda and SparseGPT.
//
// A `prune_target` names the structure of the sparsity and how much of it:
//   - unstructured(s):       single weights; fraction s removed per row or per matrix;
//   - nm(n, m):              n kept in every group of m consecutive columns (2:4, 1:4, 4:8);
//   - blocks(r, c, s):       r x c tiles as BSR stores them; fraction s of tiles removed;
//   - input_channels(s):     whole columns of W (input features) removed;
//   - output_neurons(s):     whole rows of W (output features) removed.
// The first three are the existing `prune_structure` plus a sparsity and a scope; the two
// structured kinds become tiles that span the matrix, ranked over the whole matrix.
//
// A pruner returns a `pruned_layer`: the keep mask and the weights to pack (SparseGPT
// updates the kept ones; the others copy them). `selection()` feeds any format's packer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "../core/aligned_buffer.hpp"
#include "../core/checks.hpp"
#include "../core/error.hpp"
#include "../core/views.hpp"
#include "../formats/nm.hpp"
#include "../formats/selection.hpp"

namespace sieve {

struct prune_target {
    enum class kind : std::uint8_t { element, nm_group, block, input_channels, output_neurons };

    kind shape = kind::element;
    double sparsity = 0.5;  // fraction of weights / tiles / channels removed; unused for N:M
    prune_scope scope = prune_scope::per_row;  // element and block: rank per (block) row or matrix
    std::size_t n = 0, m = 0;                    // nm_group
    std::size_t block_rows = 1, block_cols = 1;  // block

    static prune_target unstructured(double s, prune_scope in = prune_scope::per_row) noexcept {
        prune_target t;
        t.sparsity = s;
        t.scope = in;
        return t;
    }
    static prune_target nm(std::size_t keep, std::size_t group) noexcept {
        prune_target t;
        t.shape = kind::nm_group;
        t.n = keep;
        t.m = group;
        t.sparsity = group == 0 ? 0.0 : 1.0 - static_cast<double>(keep) / static_cast<double>(group);
        return t;
    }
    static prune_target blocks(std::size_t r, std::size_t c, double s,
                               prune_scope in = prune_scope::per_row) noexcept {
        prune_target t;
        t.shape = kind::block;
        t.block_rows = r;
        t.block_cols = c;
        t.sparsity = s;
        t.scope = in;
        return t;
    }
    static prune_target input_channels(double s) noexcept {
        prune_target t;
        t.shape = kind::input_channels;
        t.sparsity = s;
        t.scope = prune_scope::per_matrix;
        return t;
    }
    static prune_target output_neurons(double s) noexcept {
        prune_target t;
        t.shape = kind::output_neurons;
        t.sparsity = s;
        t.scope = prune_scope::per_matrix;
        return t;
    }
    // The target an existing `prune_structure` describes.
    static prune_target from(const prune_structure& st, double s,
                             prune_scope in = prune_scope::per_row) noexcept {
        switch (st.shape) {
        case prune_structure::kind::nm_group: return nm(st.n, st.m);
        case prune_structure::kind::block: return blocks(st.block_rows, st.block_cols, s, in);
        case prune_structure::kind::element: break;
        }
        return unstructured(s, in);
    }

    bool structured() const noexcept {
        return shape == kind::input_channels || shape == kind::output_neurons;
    }
    // The tiles pruning removes on a rows x cols matrix, as the packers' prune_structure:
    // an input channel is a rows x 1 tile, an output neuron a 1 x cols tile.
    prune_structure tiles(std::size_t rows, std::size_t cols) const noexcept {
        switch (shape) {
        case kind::nm_group: return prune_structure::nm(n, m);
        case kind::block: return prune_structure::block(block_rows, block_cols);
        case kind::input_channels: return prune_structure::block(std::max<std::size_t>(rows, 1), 1);
        case kind::output_neurons: return prune_structure::block(1, std::max<std::size_t>(cols, 1));
        case kind::element: break;
        }
        return prune_structure::element();
    }
    // Over which set tiles are ranked: channels always compete across the whole matrix (per
    // row, a 1 x cols tile would be alone in its row).
    prune_scope ranking_scope() const noexcept { return structured() ? prune_scope::per_matrix : scope; }
};

// Short human-readable name of a target, e.g. "2:4", "50% unstructured", "50% 4x4 blocks".
struct target_name {
    char text[48];
    const char* c_str() const noexcept { return text; }
};
inline target_name describe(const prune_target& t) noexcept {
    target_name out{};
    const double pct = 100.0 * t.sparsity;
    switch (t.shape) {
    case prune_target::kind::element: std::snprintf(out.text, sizeof out.text, "%g%% unstructured", pct); break;
    case prune_target::kind::nm_group: std::snprintf(out.text, sizeof out.text, "%zu:%zu", t.n, t.m); break;
    case prune_target::kind::block:
        std::snprintf(out.text, sizeof out.text, "%g%% %zux%zu blocks", pct, t.block_rows, t.block_cols);
        break;
    case prune_target::kind::input_channels:
        std::snprintf(out.text, sizeof out.text, "%g%% input channels", pct);
        break;
    case prune_target::kind::output_neurons:
        std::snprintf(out.text, sizeof out.text, "%g%% output neurons", pct);
        break;
    }
    return out;
}

// What a pruning run did, filled when the caller passes a report.
struct prune_report {
    std::size_t kept = 0;           // weights kept (mask bits set)
    std::size_t total = 0;          // weight positions
    std::size_t dead_channels = 0;  // inputs whose calibration activations were all zero
    double damping = 0.0;           // SparseGPT: damping finally used, fraction of mean diag(H)
    int damping_retries = 0;        // SparseGPT: factorizations retried with more damping

    double sparsity() const noexcept {
        return total == 0 ? 0.0 : 1.0 - static_cast<double>(kept) / static_cast<double>(total);
    }
};

// A pruned weight matrix: which weights survive, and their values (rows x cols, ld == cols;
// 0 at every pruned position).
struct pruned_layer {
    keep_mask mask;
    aligned_buffer<float> values;
    std::size_t rows = 0, cols = 0;

    matrix_view<const float> weights() const noexcept { return {values.data(), rows, cols}; }
    matrix_view<const std::uint8_t> keep() const noexcept { return {mask.bytes.data(), rows, cols}; }
    // What a format's packer takes: exactly the kept positions, explicit zeros included.
    sieve::selection as_selection() const noexcept { return sieve::selection::from_mask(keep()); }
    std::size_t kept() const noexcept {
        std::size_t count = 0;
        for (std::size_t i = 0; i < rows * cols; ++i) count += mask.bytes[i] != 0;
        return count;
    }
};

namespace detail {

// The checks every pruner starts with: a usable weight matrix, finite everywhere (a NaN has
// no rank and an Inf poisons the statistics), and a target that makes sense for its shape.
inline status check_prune_inputs(const char* op, matrix_view<const float> w, const prune_target& t) {
    SIEVE_TRY(check_matrix(op, "weights", w));
    for (std::size_t r = 0; r < w.rows; ++r)
        for (std::size_t c = 0; c < w.cols; ++c)
            if (!std::isfinite(w(r, c)))
                return status::error(errc::non_finite, "%s: weight (%zu, %zu) is %s", op, r, c,
                                     std::isnan(w(r, c)) ? "NaN" : "infinite");
    switch (t.shape) {
    case prune_target::kind::nm_group: {
        if (t.n > 0xffffffffu || t.m > 0xffffffffu)
            return status::error(errc::bad_argument, "%s: pattern %zu:%zu unsupported", op, t.n, t.m);
        return check_nm_pattern(op, {static_cast<std::uint32_t>(t.n), static_cast<std::uint32_t>(t.m)});
    }
    case prune_target::kind::block:
        if (t.block_rows == 0 || t.block_cols == 0)
            return status::error(errc::bad_argument, "%s: block shape %zu x %zu is empty", op,
                                 t.block_rows, t.block_cols);
        break;
    default: break;
    }
    if (!(t.sparsity >= 0.0 && t.sparsity <= 1.0))
        return status::error(errc::bad_argument, "%s: sparsity %g is outside [0, 1]", op, t.sparsity);
    return {};
}

// Pruned weights from a mask: W where kept, 0 elsewhere (the form magnitude and Wanda give).
inline result<pruned_layer> masked_layer(matrix_view<const float> w, keep_mask&& mask) {
    pruned_layer out;
    out.rows = w.rows;
    out.cols = w.cols;
    SIEVE_TRY(out.values.allocate(w.rows * w.cols));
    for (std::size_t r = 0; r < w.rows; ++r)
        for (std::size_t c = 0; c < w.cols; ++c)
            if (mask(r, c)) out.values[r * w.cols + c] = w(r, c);
    out.mask = std::move(mask);
    return out;
}

inline void fill_report(prune_report* report, const pruned_layer& layer) noexcept {
    if (report == nullptr) return;
    *report = prune_report{};
    report->kept = layer.kept();
    report->total = layer.rows * layer.cols;
}

// An all-ones rows x cols mask, for pruners that clear what they remove.
inline result<keep_mask> full_mask(std::size_t rows, std::size_t cols) {
    keep_mask out;
    out.rows = rows;
    out.cols = cols;
    SIEVE_TRY(out.bytes.allocate(rows * cols));
    for (std::size_t i = 0; i < rows * cols; ++i) out.bytes[i] = 1;
    return out;
}

}  // namespace detail
}  // namespace sieve
