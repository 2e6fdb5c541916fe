// Dense format: the baseline every sparse format is measured against.
//
// Layout: row-major, each row padded to a multiple of 64 bytes (16 fp32 or 64 int8 values)
// with zeros, so every row starts 64-byte aligned and a kernel may load whole vectors up to
// the padded row end. The padding never meets an activation: kernels stop at `cols`.
// dense_matrix<std::int8_t> comes from sieve::quantize (quant/quantize.hpp) and carries
// its scales.
#pragma once

#include <cstddef>
#include <type_traits>

#include "common.hpp"
#include "selection.hpp"

namespace sieve {

template <class T = float>
struct dense_view {
    const T* values = nullptr;
    std::size_t rows = 0, cols = 0;
    std::size_t ld = 0;  // elements between rows, >= cols (dense_matrix uses a multiple of 16)
    quant_scales scales{};

    const T* row(std::size_t r) const noexcept { return values + r * ld; }
};

template <class T = float>
class dense_matrix {
    static_assert(is_weight_type<T>, "dense_matrix holds fp32 or int8 values");

public:
    static constexpr std::size_t row_alignment = 64 / sizeof(T);  // elements

    // Packs W (M x K, any leading dimension). The selection decides which weights are kept;
    // the rest are stored as zeros (magnitude pruning gives the dense form of a pruned layer).
    static result<dense_matrix> pack(matrix_view<const float> weights,
                                     const selection& how = selection::nonzeros()) {
        static_assert(std::is_same<T, float>::value, "int8 matrices come from sieve::quantize");
        SIEVE_TRY(detail::check_format_shape("dense pack", weights.rows, weights.cols));
        auto mask = build_keep_mask("dense pack", weights, how, prune_structure::element());
        if (!mask.ok()) return mask.error();
        dense_matrix out;
        out.rows_ = weights.rows;
        out.cols_ = weights.cols;
        out.ld_ = (weights.cols + row_alignment - 1) / row_alignment * row_alignment;
        std::size_t count = 0;
        if (!detail::checked_mul(out.rows_, out.ld_, count))
            return status::error(errc::size_overflow, "dense pack: %zu x %zu overflows", out.rows_,
                                 out.cols_);
        SIEVE_TRY(out.values_.allocate(count));
        for (std::size_t r = 0; r < out.rows_; ++r)
            for (std::size_t c = 0; c < out.cols_; ++c)
                if ((*mask)(r, c)) out.values_[r * out.ld_ + c] = weights(r, c);
        return out;
    }

    status unpack(matrix_view<float> out) const noexcept {
        SIEVE_TRY(detail::check_unpack_target("dense unpack", out, rows_, cols_));
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t c = 0; c < cols_; ++c) out(r, c) = detail::dequantize(values_[r * ld_ + c], scales(), r, c);
        return {};
    }

    dense_view<T> view() const noexcept { return {values_.data(), rows_, cols_, ld_, scales()}; }
    quant_scales scales() const noexcept { return {scales_.data(), group_, detail::scales_per_row(cols_, group_)}; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t nnz() const noexcept { return rows_ * cols_; }  // every position is stored
    double density() const noexcept { return rows_ * cols_ == 0 ? 0.0 : 1.0; }
    std::size_t bytes() const noexcept { return values_.bytes() + scales_.bytes(); }

private:
    template <class>
    friend class dense_matrix;
    friend struct detail::quantizer;

    aligned_buffer<T> values_;
    aligned_buffer<float> scales_;  // int8 only
    std::size_t rows_ = 0, cols_ = 0, ld_ = 0, group_ = 0;
};

namespace detail {
// Constant-time: the pointers a kernel will dereference exist.
template <class T>
status check_view_pointers(const char* op, const dense_view<T>& v) noexcept {
    if (v.rows * v.cols != 0 && v.values == nullptr) return status::error(errc::null_pointer, "%s: dense values are null", op);
    if (v.rows > 1 && v.ld < v.cols) return status::error(errc::bad_stride, "%s: dense ld %zu < %zu columns", op, v.ld, v.cols);
    return check_scales_pointers<T>(op, v.scales, v.rows, v.cols);
}
}  // namespace detail

// Structural check of a view (views may come from outside sieve, e.g. a loaded blob).
template <class T>
status validate(const dense_view<T>& v) noexcept {
    SIEVE_TRY(detail::check_format_shape("dense view", v.rows, v.cols));
    if (v.rows * v.cols != 0 && v.values == nullptr)
        return status::error(errc::null_pointer, "dense view: values are null");
    if (v.ld < v.cols)
        return status::error(errc::bad_stride, "dense view: ld %zu < %zu columns", v.ld, v.cols);
    return detail::validate_scales<T>("dense view", v.scales, v.rows, v.cols);
}

}  // namespace sieve
