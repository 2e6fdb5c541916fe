// BSR: block-sparse rows with a compile-time block shape R x C. The matrix is tiled into
// R x C blocks; a block is stored (R*C values, row-major inside the block) when it holds any
// kept weight. Block rows index their blocks CSR-style: 32-bit block-row pointers and
// block-column indices (16-bit when ceil(K / C) <= 65536).
//
// Shapes: 1xC blocks along K suit GEMV and 4-byte int8 dot products; Rx1 blocks along M let
// one activation load feed R outputs in GEMM; 4x4 does both. Edge blocks are padded with
// zeros when M or K is not a multiple of the block; kernels never touch rows >= M or
// activations >= K.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "common.hpp"
#include "selection.hpp"

namespace sieve {

template <class T, std::size_t R, std::size_t C>
struct bsr_view {
    static constexpr std::size_t block_rows = R;
    static constexpr std::size_t block_cols = C;

    std::size_t rows = 0, cols = 0;
    std::size_t row_blocks = 0;  // ceil(rows / R)
    std::size_t col_blocks = 0;  // ceil(cols / C)
    const std::uint32_t* block_row_ptr = nullptr;  // row_blocks + 1 entries
    const void* block_col = nullptr;               // nnz_blocks entries of `width`
    index_width width = index_width::u16;
    const T* values = nullptr;  // nnz_blocks * R * C
    quant_scales scales{};

    std::size_t nnz_blocks() const noexcept { return row_blocks == 0 ? 0 : block_row_ptr[row_blocks]; }
    std::uint32_t col_block(std::size_t i) const noexcept { return load_index(block_col, width, i); }
    const T* block(std::size_t i) const noexcept { return values + i * R * C; }
};

template <class T, std::size_t R, std::size_t C>
class bsr_matrix {
    static_assert(is_weight_type<T>, "bsr_matrix holds fp32 or int8 values");
    static_assert(R >= 1 && C >= 1 && R <= 64 && C <= 64, "block sides are 1..64");

public:
    using view_type = bsr_view<T, R, C>;

    // Magnitude pruning ranks blocks by the sum of |w| inside them (sparsity = fraction of
    // blocks removed, per block row or per matrix). With nonzeros() or from_mask(), a block is
    // stored when any of its weights is kept; weights of a stored block that are not kept are
    // stored as zeros.
    static result<bsr_matrix> pack(matrix_view<const float> weights,
                                   const selection& how = selection::nonzeros()) {
        static_assert(std::is_same<T, float>::value, "int8 matrices come from sieve::quantize");
        const char* op = "bsr pack";
        SIEVE_TRY(detail::check_format_shape(op, weights.rows, weights.cols));
        auto mask = build_keep_mask(op, weights, how, prune_structure::block(R, C));
        if (!mask.ok()) return mask.error();

        bsr_matrix out;
        out.rows_ = weights.rows;
        out.cols_ = weights.cols;
        out.row_blocks_ = (out.rows_ + R - 1) / R;
        out.col_blocks_ = (out.cols_ + C - 1) / C;
        auto block_kept = [&](std::size_t bi, std::size_t bj) {
            for (std::size_t r = bi * R; r < out.rows_ && r < (bi + 1) * R; ++r)
                for (std::size_t c = bj * C; c < out.cols_ && c < (bj + 1) * C; ++c)
                    if ((*mask)(r, c)) return true;
            return false;
        };
        SIEVE_TRY(out.block_row_ptr_.allocate(out.row_blocks_ + 1));
        std::size_t nnzb = 0;
        for (std::size_t bi = 0; bi < out.row_blocks_; ++bi) {
            for (std::size_t bj = 0; bj < out.col_blocks_; ++bj) nnzb += block_kept(bi, bj);
            if (nnzb > std::numeric_limits<std::uint32_t>::max())
                return status::error(errc::index_overflow, "%s: more than 2^32 - 1 blocks", op);
            out.block_row_ptr_[bi + 1] = static_cast<std::uint32_t>(nnzb);
        }
        std::size_t value_count = 0;
        if (!detail::checked_mul(nnzb, R * C, value_count))
            return status::error(errc::size_overflow, "%s: %zu blocks overflow", op, nnzb);
        SIEVE_TRY(out.block_col_.allocate(nnzb, index_width_for(out.col_blocks_)));
        SIEVE_TRY(out.values_.allocate(value_count));
        std::size_t i = 0;
        for (std::size_t bi = 0; bi < out.row_blocks_; ++bi)
            for (std::size_t bj = 0; bj < out.col_blocks_; ++bj) {
                if (!block_kept(bi, bj)) continue;
                out.block_col_.set(i, static_cast<std::uint32_t>(bj));
                T* block = out.values_.data() + i * R * C;
                for (std::size_t r = bi * R; r < out.rows_ && r < (bi + 1) * R; ++r)
                    for (std::size_t c = bj * C; c < out.cols_ && c < (bj + 1) * C; ++c)
                        if ((*mask)(r, c)) block[(r - bi * R) * C + (c - bj * C)] = weights(r, c);
                ++i;
            }
        return out;
    }

    status unpack(matrix_view<float> out) const noexcept {
        SIEVE_TRY(detail::check_unpack_target("bsr unpack", out, rows_, cols_));
        detail::fill_zero(out);
        const view_type v = view();
        for (std::size_t bi = 0; bi < row_blocks_; ++bi)
            for (std::size_t i = v.block_row_ptr[bi]; i < v.block_row_ptr[bi + 1]; ++i) {
                const std::size_t bj = v.col_block(i);
                const T* block = v.block(i);
                for (std::size_t r = bi * R; r < rows_ && r < (bi + 1) * R; ++r)
                    for (std::size_t c = bj * C; c < cols_ && c < (bj + 1) * C; ++c)
                        out(r, c) = detail::dequantize(block[(r - bi * R) * C + (c - bj * C)], scales(), r, c);
            }
        return {};
    }

    view_type view() const noexcept {
        return {rows_, cols_, row_blocks_, col_blocks_, block_row_ptr_.data(), block_col_.data(),
                block_col_.width(), values_.data(), scales()};
    }
    quant_scales scales() const noexcept { return {scales_.data(), group_, detail::scales_per_row(cols_, group_)}; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t nnz_blocks() const noexcept { return block_col_.size(); }
    std::size_t nnz() const noexcept { return values_.size(); }  // stored values, R*C per block
    // Stored values per weight position. It counts the zeros the format stores (N:M fill,
    // BSR block padding), so it can exceed the kept fraction, even 1 for tiny matrices.
    double density() const noexcept {
        return rows_ * cols_ == 0 ? 0.0 : static_cast<double>(nnz()) / static_cast<double>(rows_ * cols_);
    }
    std::size_t bytes() const noexcept {
        return block_row_ptr_.bytes() + block_col_.bytes() + values_.bytes() + scales_.bytes();
    }

private:
    template <class, std::size_t, std::size_t>
    friend class bsr_matrix;
    friend struct detail::quantizer;

    aligned_buffer<std::uint32_t> block_row_ptr_;
    index_array block_col_;
    aligned_buffer<T> values_;
    aligned_buffer<float> scales_;  // int8 only
    std::size_t rows_ = 0, cols_ = 0, row_blocks_ = 0, col_blocks_ = 0, group_ = 0;
};

namespace detail {
// Constant-time: block counts and the pointers a kernel will dereference.
template <class T, std::size_t R, std::size_t C>
status check_view_pointers(const char* op, const bsr_view<T, R, C>& v) noexcept {
    if (v.row_blocks != (v.rows + R - 1) / R || v.col_blocks != (v.cols + C - 1) / C)
        return status::error(errc::corrupt_data, "%s: bsr block counts disagree with the shape", op);
    if (v.block_row_ptr == nullptr) return status::error(errc::null_pointer, "%s: bsr block_row_ptr is null", op);
    if (v.nnz_blocks() != 0 && (v.block_col == nullptr || v.values == nullptr))
        return status::error(errc::null_pointer, "%s: bsr indices or values are null", op);
    if (v.width != index_width::u16 && v.width != index_width::u32)
        return status::error(errc::corrupt_data, "%s: unknown bsr index width", op);
    SIEVE_TRY(check_scales_pointers<T>(op, v.scales, v.rows, v.cols));
    if (is_int8_weight<T> && v.scales.group % C != 0)
        return status::error(errc::corrupt_data, "%s: scale groups of %zu split %zu-column blocks", op,
                             v.scales.group, C);
    return {};
}
}  // namespace detail

// Structural check, linear in the number of blocks.
template <class T, std::size_t R, std::size_t C>
status validate(const bsr_view<T, R, C>& v) noexcept {
    const char* op = "bsr view";
    SIEVE_TRY(detail::check_format_shape(op, v.rows, v.cols));
    SIEVE_TRY(detail::check_view_pointers(op, v));
    if (v.block_row_ptr[0] != 0) return status::error(errc::corrupt_data, "%s: block_row_ptr[0] is not 0", op);
    if (v.width == index_width::u16 && v.col_blocks > (std::size_t{1} << 16))
        return status::error(errc::index_overflow, "%s: 16-bit indices cannot address %zu block columns", op,
                             v.col_blocks);
    for (std::size_t bi = 0; bi < v.row_blocks; ++bi)
        if (v.block_row_ptr[bi + 1] < v.block_row_ptr[bi])
            return status::error(errc::corrupt_data, "%s: block_row_ptr decreases at block row %zu", op, bi);
    for (std::size_t bi = 0; bi < v.row_blocks; ++bi)
        for (std::size_t i = v.block_row_ptr[bi]; i < v.block_row_ptr[bi + 1]; ++i) {
            const std::uint32_t bj = v.col_block(i);
            if (bj >= v.col_blocks)
                return status::error(errc::corrupt_data, "%s: block row %zu has block column %u >= %zu", op, bi,
                                     bj, v.col_blocks);
            if (i > v.block_row_ptr[bi] && bj <= v.col_block(i - 1))
                return status::error(errc::corrupt_data, "%s: block row %zu columns not increasing", op, bi);
        }
    return detail::validate_scales<T>(op, v.scales, v.rows, v.cols);
}

}  // namespace sieve
