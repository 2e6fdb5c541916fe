// CSR: unstructured sparsity. Row pointers (32-bit), column indices (16-bit when K <= 65536,
// else 32-bit: chosen at pack time) and the kept values in row order.
//
// Bytes per kept weight: 4 (value) + 2 or 4 (index); CSR beats dense fp32 in bytes only
// below ~67% density with 16-bit indices, which is why GEMV gains start at high sparsity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "common.hpp"
#include "selection.hpp"

namespace sieve {

template <class T = float>
struct csr_view {
    std::size_t rows = 0, cols = 0;
    const std::uint32_t* row_ptr = nullptr;  // rows + 1 entries, row_ptr[0] == 0
    const void* col_index = nullptr;         // nnz entries of `width`
    index_width width = index_width::u16;
    const T* values = nullptr;  // nnz entries
    quant_scales scales{};

    std::size_t nnz() const noexcept { return rows == 0 ? 0 : row_ptr[rows]; }
    std::uint32_t col(std::size_t i) const noexcept { return load_index(col_index, width, i); }
};

template <class T = float>
class csr_matrix {
    static_assert(is_weight_type<T>, "csr_matrix holds fp32 or int8 values");

public:
    static result<csr_matrix> pack(matrix_view<const float> weights,
                                   const selection& how = selection::nonzeros()) {
        static_assert(std::is_same<T, float>::value, "int8 matrices come from sieve::quantize");
        const char* op = "csr pack";
        SIEVE_TRY(detail::check_format_shape(op, weights.rows, weights.cols));
        auto mask = build_keep_mask(op, weights, how, prune_structure::element());
        if (!mask.ok()) return mask.error();

        csr_matrix out;
        out.rows_ = weights.rows;
        out.cols_ = weights.cols;
        SIEVE_TRY(out.row_ptr_.allocate(out.rows_ + 1));
        std::size_t nnz = 0;
        for (std::size_t r = 0; r < out.rows_; ++r) {
            for (std::size_t c = 0; c < out.cols_; ++c) nnz += (*mask)(r, c);
            if (nnz > std::numeric_limits<std::uint32_t>::max())
                return status::error(errc::index_overflow,
                                     "%s: more than 2^32 - 1 kept weights do not fit 32-bit row pointers", op);
            out.row_ptr_[r + 1] = static_cast<std::uint32_t>(nnz);
        }
        SIEVE_TRY(out.col_index_.allocate(nnz, index_width_for(out.cols_)));
        SIEVE_TRY(out.values_.allocate(nnz));
        std::size_t i = 0;
        for (std::size_t r = 0; r < out.rows_; ++r)
            for (std::size_t c = 0; c < out.cols_; ++c)
                if ((*mask)(r, c)) {
                    out.col_index_.set(i, static_cast<std::uint32_t>(c));
                    out.values_[i++] = weights(r, c);
                }
        return out;
    }

    status unpack(matrix_view<float> out) const noexcept {
        SIEVE_TRY(detail::check_unpack_target("csr unpack", out, rows_, cols_));
        detail::fill_zero(out);
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t i = row_ptr_[r]; i < row_ptr_[r + 1]; ++i)
                out(r, col_index_.get(i)) = detail::dequantize(values_[i], scales(), r, col_index_.get(i));
        return {};
    }

    csr_view<T> view() const noexcept {
        return {rows_, cols_, row_ptr_.data(), col_index_.data(), col_index_.width(), values_.data(), scales()};
    }
    quant_scales scales() const noexcept { return {scales_.data(), group_, detail::scales_per_row(cols_, group_)}; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t nnz() const noexcept { return values_.size(); }
    // Stored values per weight position. It counts the zeros the format stores (N:M fill,
    // BSR block padding), so it can exceed the kept fraction, even 1 for tiny matrices.
    double density() const noexcept {
        return rows_ * cols_ == 0 ? 0.0 : static_cast<double>(nnz()) / static_cast<double>(rows_ * cols_);
    }
    index_width width() const noexcept { return col_index_.width(); }
    std::size_t bytes() const noexcept {
        return row_ptr_.bytes() + col_index_.bytes() + values_.bytes() + scales_.bytes();
    }

private:
    template <class>
    friend class csr_matrix;
    friend struct detail::quantizer;

    aligned_buffer<std::uint32_t> row_ptr_;
    index_array col_index_;
    aligned_buffer<T> values_;
    aligned_buffer<float> scales_;  // int8 only
    std::size_t rows_ = 0, cols_ = 0, group_ = 0;
};

namespace detail {
// Constant-time: the pointers a kernel will dereference exist.
template <class T>
status check_view_pointers(const char* op, const csr_view<T>& v) noexcept {
    if (v.row_ptr == nullptr) return status::error(errc::null_pointer, "%s: csr row_ptr is null", op);
    if (v.nnz() != 0 && (v.col_index == nullptr || v.values == nullptr))
        return status::error(errc::null_pointer, "%s: csr indices or values are null", op);
    if (v.width != index_width::u16 && v.width != index_width::u32)
        return status::error(errc::corrupt_data, "%s: unknown csr index width", op);
    return check_scales_pointers<T>(op, v.scales, v.rows, v.cols);
}
}  // namespace detail

// Structural check, linear in nnz: row pointers start at 0 and never decrease, column
// indices are below K and strictly increase within a row.
template <class T>
status validate(const csr_view<T>& v) noexcept {
    const char* op = "csr view";
    SIEVE_TRY(detail::check_format_shape(op, v.rows, v.cols));
    if (v.row_ptr == nullptr) return status::error(errc::null_pointer, "%s: row_ptr is null", op);
    if (v.row_ptr[0] != 0) return status::error(errc::corrupt_data, "%s: row_ptr[0] is %u, not 0", op, v.row_ptr[0]);
    if (v.width != index_width::u16 && v.width != index_width::u32)
        return status::error(errc::corrupt_data, "%s: unknown index width", op);
    if (v.width == index_width::u16 && v.cols > (std::size_t{1} << 16))
        return status::error(errc::index_overflow, "%s: 16-bit indices cannot address %zu columns", op, v.cols);
    for (std::size_t r = 0; r < v.rows; ++r)
        if (v.row_ptr[r + 1] < v.row_ptr[r])
            return status::error(errc::corrupt_data, "%s: row_ptr decreases at row %zu", op, r);
    if (v.nnz() != 0 && (v.col_index == nullptr || v.values == nullptr))
        return status::error(errc::null_pointer, "%s: indices or values are null", op);
    for (std::size_t r = 0; r < v.rows; ++r)
        for (std::size_t i = v.row_ptr[r]; i < v.row_ptr[r + 1]; ++i) {
            const std::uint32_t c = v.col(i);
            if (c >= v.cols)
                return status::error(errc::corrupt_data, "%s: row %zu has column %u >= %zu", op, r, c, v.cols);
            if (i > v.row_ptr[r] && c <= v.col(i - 1))
                return status::error(errc::corrupt_data, "%s: row %zu columns not increasing at entry %zu", op, r, i);
        }
    return detail::validate_scales<T>(op, v.scales, v.rows, v.cols);
}

}  // namespace sieve
