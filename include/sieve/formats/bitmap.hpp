// Bitmap: unstructured sparsity stored as one bit per weight position plus the kept values.
//
// Layout:
//   mask:    rows x words 64-bit words, words = ceil(K / 64); bit j of word w of row r says
//            whether position (r, 64 w + j) is kept. Each row starts on a whole word, so a
//            kernel takes the bits of any L-position chunk (L = 4, 8, 16, 32, 64) from one
//            word with a shift; bits at or past K are 0.
//   row_ptr: rows + 1 32-bit offsets (row_ptr[0] = 0): row r's values are
//            values[row_ptr[r] .. row_ptr[r + 1]), so rows and row ranges are independent
//            (the parallel executor cuts rows by stored values, as for CSR).
//   values:  the kept values in row order, then column order: no padding between rows.
//
// Bytes per weight position at density d: sizeof(T) * d + 1/8, against CSR's
// (sizeof(T) + 2) * d: at 50% fp32 that is 2.125 against 3 bytes (dense: 4), so the bitmap
// beats CSR below ~94% sparsity and dense fp32 above ~3%.
//
// Kernels decode in register: the bits of the next L positions say which lanes receive the
// next popcount values (an expand load), so they read a whole vector from the current value:
// up to 64 bytes past the last value. Arrays that sieve allocates carry that padding
// (core/aligned_buffer.hpp), and so must any view a caller builds over its own memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "common.hpp"
#include "selection.hpp"

namespace sieve {

inline constexpr std::size_t bitmap_word_bits = 64;

inline std::size_t bitmap_words(std::size_t cols) noexcept { return (cols + bitmap_word_bits - 1) / bitmap_word_bits; }

template <class T = float>
struct bitmap_view {
    std::size_t rows = 0, cols = 0;
    std::size_t words = 0;                // mask words per row: ceil(cols / 64)
    const std::uint64_t* mask = nullptr;  // rows x words
    const std::uint32_t* row_ptr = nullptr;  // rows + 1 entries, absolute offsets into values
    const T* values = nullptr;
    quant_scales scales{};

    std::size_t nnz() const noexcept { return rows == 0 ? 0 : std::size_t{row_ptr[rows]} - row_ptr[0]; }
    const std::uint64_t* row_mask(std::size_t r) const noexcept { return mask + r * words; }
    const T* row_values(std::size_t r) const noexcept { return values + row_ptr[r]; }
    bool kept(std::size_t r, std::size_t c) const noexcept {
        return (row_mask(r)[c / bitmap_word_bits] >> (c % bitmap_word_bits)) & 1u;
    }
};

template <class T = float>
class bitmap_matrix {
    static_assert(is_weight_type<T>, "bitmap_matrix holds fp32 or int8 values");

public:
    static result<bitmap_matrix> pack(matrix_view<const float> weights, const selection& how = selection::nonzeros()) {
        static_assert(std::is_same<T, float>::value, "int8 matrices come from sieve::quantize");
        const char* op = "bitmap pack";
        SIEVE_TRY(detail::check_format_shape(op, weights.rows, weights.cols));
        auto keep = build_keep_mask(op, weights, how, prune_structure::element());
        if (!keep.ok()) return keep.error();

        bitmap_matrix out;
        out.rows_ = weights.rows;
        out.cols_ = weights.cols;
        out.words_ = bitmap_words(weights.cols);
        SIEVE_TRY(out.mask_.allocate(out.rows_ * out.words_));
        SIEVE_TRY(out.row_ptr_.allocate(out.rows_ + 1));
        std::size_t nnz = 0;
        for (std::size_t r = 0; r < out.rows_; ++r) {
            std::uint64_t* words = out.mask_.data() + r * out.words_;
            for (std::size_t c = 0; c < out.cols_; ++c)
                if ((*keep)(r, c)) {
                    words[c / bitmap_word_bits] |= std::uint64_t{1} << (c % bitmap_word_bits);
                    ++nnz;
                }
            if (nnz > std::numeric_limits<std::uint32_t>::max())
                return status::error(errc::index_overflow,
                                     "%s: more than 2^32 - 1 kept weights do not fit 32-bit row offsets", op);
            out.row_ptr_[r + 1] = static_cast<std::uint32_t>(nnz);
        }
        SIEVE_TRY(out.values_.allocate(nnz));
        std::size_t i = 0;
        for (std::size_t r = 0; r < out.rows_; ++r)
            for (std::size_t c = 0; c < out.cols_; ++c)
                if ((*keep)(r, c)) out.values_[i++] = weights(r, c);
        return out;
    }

    status unpack(matrix_view<float> out) const noexcept {
        SIEVE_TRY(detail::check_unpack_target("bitmap unpack", out, rows_, cols_));
        detail::fill_zero(out);
        const bitmap_view<T> v = view();
        for (std::size_t r = 0; r < rows_; ++r) {
            const T* values = v.row_values(r);
            for (std::size_t c = 0; c < cols_; ++c)
                if (v.kept(r, c)) out(r, c) = detail::dequantize(*values++, scales(), r, c);
        }
        return {};
    }

    bitmap_view<T> view() const noexcept {
        return {rows_, cols_, words_, mask_.data(), row_ptr_.data(), values_.data(), scales()};
    }
    quant_scales scales() const noexcept { return {scales_.data(), group_, detail::scales_per_row(cols_, group_)}; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t nnz() const noexcept { return values_.size(); }
    // Stored values per weight position (the kept fraction: the bitmap stores no fill).
    double density() const noexcept {
        return rows_ * cols_ == 0 ? 0.0 : static_cast<double>(nnz()) / static_cast<double>(rows_ * cols_);
    }
    std::size_t bytes() const noexcept {
        return mask_.bytes() + row_ptr_.bytes() + values_.bytes() + scales_.bytes();
    }

private:
    template <class>
    friend class bitmap_matrix;
    friend struct detail::quantizer;

    aligned_buffer<std::uint64_t> mask_;
    aligned_buffer<std::uint32_t> row_ptr_;
    aligned_buffer<T> values_;
    aligned_buffer<float> scales_;  // int8 only
    std::size_t rows_ = 0, cols_ = 0, words_ = 0, group_ = 0;
};

namespace detail {
// Constant-time: the stride and pointers a kernel will dereference exist.
template <class T>
status check_view_pointers(const char* op, const bitmap_view<T>& v) noexcept {
    if (v.words != bitmap_words(v.cols))
        return status::error(errc::corrupt_data, "%s: bitmap has %zu mask words per row, %zu columns need %zu", op,
                             v.words, v.cols, bitmap_words(v.cols));
    if (v.row_ptr == nullptr) return status::error(errc::null_pointer, "%s: bitmap row_ptr is null", op);
    if (v.rows * v.words != 0 && v.mask == nullptr)
        return status::error(errc::null_pointer, "%s: bitmap mask is null", op);
    if (v.nnz() != 0 && v.values == nullptr) return status::error(errc::null_pointer, "%s: bitmap values are null", op);
    return check_scales_pointers<T>(op, v.scales, v.rows, v.cols);
}
}  // namespace detail

// Structural check, linear in the mask: row offsets start at 0 and never decrease, each
// row's mask has exactly as many set bits as the row has values, and no bit is set at or
// past K.
template <class T>
status validate(const bitmap_view<T>& v) noexcept {
    const char* op = "bitmap view";
    SIEVE_TRY(detail::check_format_shape(op, v.rows, v.cols));
    if (v.row_ptr == nullptr) return status::error(errc::null_pointer, "%s: row_ptr is null", op);
    if (v.row_ptr[0] != 0) return status::error(errc::corrupt_data, "%s: row_ptr[0] is %u, not 0", op, v.row_ptr[0]);
    for (std::size_t r = 0; r < v.rows; ++r)
        if (v.row_ptr[r + 1] < v.row_ptr[r])
            return status::error(errc::corrupt_data, "%s: row_ptr decreases at row %zu", op, r);
    SIEVE_TRY(detail::check_view_pointers(op, v));
    const std::size_t tail = v.cols % bitmap_word_bits;
    const std::uint64_t past_k = tail == 0 ? 0 : ~std::uint64_t{0} << tail;
    for (std::size_t r = 0; r < v.rows; ++r) {
        const std::uint64_t* words = v.row_mask(r);
        std::size_t count = 0;
        for (std::size_t w = 0; w < v.words; ++w) count += static_cast<std::size_t>(__builtin_popcountll(words[w]));
        if (v.words != 0 && (words[v.words - 1] & past_k) != 0)
            return status::error(errc::corrupt_data, "%s: row %zu has mask bits set at or past column %zu", op, r,
                                 v.cols);
        if (count != std::size_t{v.row_ptr[r + 1]} - v.row_ptr[r])
            return status::error(errc::corrupt_data, "%s: row %zu has %zu mask bits set but %u values", op, r, count,
                                 v.row_ptr[r + 1] - v.row_ptr[r]);
    }
    return detail::validate_scales<T>(op, v.scales, v.rows, v.cols);
}

}  // namespace sieve
