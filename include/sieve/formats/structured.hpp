// Structured (channel) pruning: whole input channels (columns of W) and/or whole output
// neurons (rows of W) removed. What is left is a smaller dense matrix, M' x K', plus the
// ascending indices of the kept inputs (K') and kept outputs (M'). The dense kernels run it
// after gathering the K' kept activations; outputs are scattered back to their rows
// (ops_structured.hpp). Every weight of the inner matrix is stored, as in dense_matrix.
//
// Bytes: 4 M' K' (+ row padding) + 4 (M' + K'); at 50% of the input channels removed, half
// of dense, with the dense kernels' speed and no index per weight.
// channel_pruned_matrix<std::int8_t> comes from sieve::quantize (quant/structured.hpp): its
// inner matrix is a dense_matrix<std::int8_t> with scales per row or per group of kept
// input channels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "common.hpp"
#include "dense.hpp"
#include "selection.hpp"

namespace sieve {

template <class T = float>
struct channel_pruned_view {
    dense_view<T> inner{};                          // kept outputs x kept inputs
    std::size_t rows = 0, cols = 0;                 // the layer before pruning: M x K
    const std::uint32_t* kept_inputs = nullptr;    // inner.cols ascending indices < cols
    const std::uint32_t* kept_outputs = nullptr;   // inner.rows ascending indices < rows

    // Ascending, distinct and in range, so a full count means the identity.
    bool all_inputs() const noexcept { return inner.cols == cols; }
    bool all_outputs() const noexcept { return inner.rows == rows; }
};

namespace detail {
struct channel_quantizer;  // quant/structured.hpp
}

template <class T = float>
class channel_pruned_matrix {
    static_assert(is_weight_type<T>, "channel_pruned_matrix holds fp32 or int8 values");

public:
    // Packs W (M x K). An input channel is kept when any weight in its column is kept, an
    // output neuron when any weight in its row is; kept rows and columns are stored whole
    // (a weight inside them that the selection drops is stored as 0). nonzeros() thus drops
    // all-zero rows and columns, from_mask() takes a channel mask as prune/ makes, and
    // magnitude(s) removes the fraction s of input channels of smallest sum |w|.
    static result<channel_pruned_matrix> pack(matrix_view<const float> weights,
                                              const selection& how = selection::nonzeros()) {
        static_assert(std::is_same<T, float>::value, "int8 matrices come from sieve::quantize");
        const char* op = "channel pack";
        SIEVE_TRY(detail::check_format_shape(op, weights.rows, weights.cols));
        const prune_structure structure =
            how.how == selection::kind::magnitude
                ? prune_structure::block(weights.rows == 0 ? 1 : weights.rows, 1)
                : prune_structure::element();
        auto mask = build_keep_mask(op, weights, how, structure);
        if (!mask.ok()) return mask.error();
        const std::size_t rows = weights.rows, cols = weights.cols;

        channel_pruned_matrix out;
        out.rows_ = rows;
        out.cols_ = cols;
        std::size_t kept_cols = 0, kept_rows = 0;
        for (std::size_t c = 0; c < cols; ++c) kept_cols += column_kept(*mask, c);
        for (std::size_t r = 0; r < rows; ++r) kept_rows += row_kept(*mask, r);
        SIEVE_TRY(out.inputs_.allocate(kept_cols));
        SIEVE_TRY(out.outputs_.allocate(kept_rows));
        for (std::size_t c = 0, i = 0; c < cols; ++c)
            if (column_kept(*mask, c)) out.inputs_[i++] = static_cast<std::uint32_t>(c);
        for (std::size_t r = 0, i = 0; r < rows; ++r)
            if (row_kept(*mask, r)) out.outputs_[i++] = static_cast<std::uint32_t>(r);

        // The kept block, gathered and masked, becomes the inner dense matrix.
        aligned_buffer<float> inner;
        SIEVE_TRY(inner.allocate(kept_rows * kept_cols));
        for (std::size_t i = 0; i < kept_rows; ++i)
            for (std::size_t j = 0; j < kept_cols; ++j) {
                const std::size_t r = out.outputs_[i], c = out.inputs_[j];
                if ((*mask)(r, c)) inner[i * kept_cols + j] = weights(r, c);
            }
        auto packed = dense_matrix<T>::pack(matrix_view<const float>(inner.data(), kept_rows, kept_cols));
        if (!packed.ok()) return packed.error();
        out.inner_ = std::move(*packed);
        return out;
    }

    status unpack(matrix_view<float> out) const noexcept {
        SIEVE_TRY(detail::check_unpack_target("channel unpack", out, rows_, cols_));
        detail::fill_zero(out);
        const dense_view<T> v = inner_.view();
        for (std::size_t i = 0; i < v.rows; ++i)
            for (std::size_t j = 0; j < v.cols; ++j)
                out(outputs_[i], inputs_[j]) = detail::dequantize(v.row(i)[j], v.scales, i, j);
        return {};
    }

    channel_pruned_view<T> view() const noexcept {
        return {inner_.view(), rows_, cols_, inputs_.data(), outputs_.data()};
    }
    const dense_matrix<T>& inner() const noexcept { return inner_; }
    span<const std::uint32_t> kept_inputs() const noexcept { return {inputs_.data(), inputs_.size()}; }
    span<const std::uint32_t> kept_outputs() const noexcept { return {outputs_.data(), outputs_.size()}; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t nnz() const noexcept { return inner_.rows() * inner_.cols(); }
    double density() const noexcept {
        return rows_ * cols_ == 0 ? 0.0 : static_cast<double>(nnz()) / static_cast<double>(rows_ * cols_);
    }
    std::size_t bytes() const noexcept { return inner_.bytes() + inputs_.bytes() + outputs_.bytes(); }

private:
    friend struct detail::channel_quantizer;

    static bool column_kept(const keep_mask& m, std::size_t c) noexcept {
        for (std::size_t r = 0; r < m.rows; ++r)
            if (m(r, c)) return true;
        return false;
    }
    static bool row_kept(const keep_mask& m, std::size_t r) noexcept {
        for (std::size_t c = 0; c < m.cols; ++c)
            if (m(r, c)) return true;
        return false;
    }

    dense_matrix<T> inner_;
    aligned_buffer<std::uint32_t> inputs_, outputs_;
    std::size_t rows_ = 0, cols_ = 0;
};

namespace detail {
// Constant-time: the counts and pointers the gather, the inner kernel and the scatter use.
template <class T>
status check_view_pointers(const char* op, const channel_pruned_view<T>& v) noexcept {
    if (v.inner.rows > v.rows || v.inner.cols > v.cols)
        return status::error(errc::corrupt_data, "%s: inner %zu x %zu exceeds the layer's %zu x %zu", op,
                             v.inner.rows, v.inner.cols, v.rows, v.cols);
    if ((v.inner.cols != 0 && v.kept_inputs == nullptr) || (v.inner.rows != 0 && v.kept_outputs == nullptr))
        return status::error(errc::null_pointer, "%s: kept channel indices are null", op);
    return check_view_pointers(op, v.inner);
}

inline status check_kept_indices(const char* what, const std::uint32_t* idx, std::size_t count,
                                 std::size_t extent) noexcept {
    for (std::size_t i = 0; i < count; ++i)
        if (idx[i] >= extent || (i > 0 && idx[i] <= idx[i - 1]))
            return status::error(errc::corrupt_data, "channel view: kept %s index %zu (%u) is not ascending "
                                 "below %zu", what, i, idx[i], extent);
    return {};
}
}  // namespace detail

// Structural check, linear in the kept channels: indices ascending and in range, and the
// inner dense view valid.
template <class T>
status validate(const channel_pruned_view<T>& v) noexcept {
    SIEVE_TRY(detail::check_format_shape("channel view", v.rows, v.cols));
    SIEVE_TRY(detail::check_view_pointers("channel view", v));
    SIEVE_TRY(detail::check_kept_indices("input", v.kept_inputs, v.inner.cols, v.cols));
    SIEVE_TRY(detail::check_kept_indices("output", v.kept_outputs, v.inner.rows, v.rows));
    return validate(v.inner);
}

}  // namespace sieve
