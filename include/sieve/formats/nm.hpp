// N:M semi-structured sparsity: in every group of M consecutive columns of a row at most N
// weights are nonzero (2:4 by default; 1:4, 4:8 and any N <= M with M in {2, 4, 8, 16}).
//
// Layout, per row:
//   values: exactly N values per group, in column order (G = ceil(K / M) groups; a group
//           with fewer kept weights stores explicit zeros at its lowest free positions);
//   meta:   an M-bit mask per group saying which positions the N values occupy, groups
//           packed little-endian into bytes (2:4: two groups per byte, 2 bits per kept
//           value), each row's metadata padded to a multiple of 8 bytes.
// The mask form (rather than a list of indices) is what decompressing loads and
// pattern-table permutes consume directly; for 2:4 it costs the same 2 bits per value.
//
// Kernels may load up to 64 bytes past the last value (one vector): arrays that sieve
// allocates carry that padding (core/aligned_buffer.hpp), and so must any view a caller
// builds over its own memory.
//
// K not a multiple of M is padded, not refused: the last group is partial and positions
// at or past K hold zeros; kernels never read activations past K.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "common.hpp"
#include "selection.hpp"

namespace sieve {

struct nm_pattern {
    std::uint32_t n = 2;
    std::uint32_t m = 4;
};

inline status check_nm_pattern(const char* op, nm_pattern p) noexcept {
    if (!(p.m == 2 || p.m == 4 || p.m == 8 || p.m == 16) || p.n < 1 || p.n > p.m)
        return status::error(errc::bad_argument, "%s: pattern %u:%u unsupported (need 1 <= N <= M, M in {2,4,8,16})",
                             op, p.n, p.m);
    return {};
}

// Mask of group g in a row's metadata bitstream.
inline std::uint32_t nm_group_mask(const std::uint8_t* meta_row, std::size_t g, std::uint32_t m) noexcept {
    const std::size_t bit = g * m;
    if (m == 16) return meta_row[bit / 8] | (static_cast<std::uint32_t>(meta_row[bit / 8 + 1]) << 8);
    return (meta_row[bit / 8] >> (bit % 8)) & ((1u << m) - 1u);
}

template <class T = float>
struct nm_view {
    std::size_t rows = 0, cols = 0;
    nm_pattern pattern{};
    std::size_t groups = 0;     // per row: ceil(cols / m)
    const T* values = nullptr;  // rows x (groups * n)
    std::size_t values_ld = 0;  // groups * n
    const std::uint8_t* meta = nullptr;  // rows x meta_ld bytes
    std::size_t meta_ld = 0;
    quant_scales scales{};

    const T* row_values(std::size_t r) const noexcept { return values + r * values_ld; }
    const std::uint8_t* row_meta(std::size_t r) const noexcept { return meta + r * meta_ld; }
    std::uint32_t group_mask(std::size_t r, std::size_t g) const noexcept {
        return nm_group_mask(row_meta(r), g, pattern.m);
    }
};

template <class T = float>
class nm_matrix {
    static_assert(is_weight_type<T>, "nm_matrix holds fp32 or int8 values");

public:
    // selection::nonzeros() and from_mask() refuse a matrix with more than N kept weights in
    // a group (errc::not_nm_sparse, naming the row and group); magnitude() keeps the N
    // largest of each group.
    static result<nm_matrix> pack(matrix_view<const float> weights, nm_pattern pattern = {},
                                  const selection& how = selection::nonzeros()) {
        static_assert(std::is_same<T, float>::value, "int8 matrices come from sieve::quantize");
        const char* op = "nm pack";
        SIEVE_TRY(check_nm_pattern(op, pattern));
        SIEVE_TRY(detail::check_format_shape(op, weights.rows, weights.cols));
        auto mask = build_keep_mask(op, weights, how, prune_structure::nm(pattern.n, pattern.m));
        if (!mask.ok()) return mask.error();

        nm_matrix out;
        out.rows_ = weights.rows;
        out.cols_ = weights.cols;
        out.pattern_ = pattern;
        const std::size_t m = pattern.m, n = pattern.n;
        out.groups_ = (out.cols_ + m - 1) / m;
        out.values_ld_ = out.groups_ * n;
        out.meta_ld_ = (out.groups_ * m + 63) / 64 * 8;
        SIEVE_TRY(out.values_.allocate(out.rows_ * out.values_ld_));
        SIEVE_TRY(out.meta_.allocate(out.rows_ * out.meta_ld_));

        for (std::size_t r = 0; r < out.rows_; ++r) {
            T* values = out.values_.data() + r * out.values_ld_;
            std::uint8_t* meta = out.meta_.data() + r * out.meta_ld_;
            for (std::size_t g = 0; g < out.groups_; ++g) {
                const std::size_t c0 = g * m;
                std::uint32_t bits = 0, kept = 0;
                for (std::size_t j = 0; j < m && c0 + j < out.cols_; ++j)
                    if ((*mask)(r, c0 + j)) {
                        bits |= 1u << j;
                        ++kept;
                    }
                if (kept > n)
                    return status::error(errc::not_nm_sparse,
                                         "%s: row %zu, columns %zu..%zu keep %u weights; %u:%u allows %u",
                                         op, r, c0, std::min(c0 + m, out.cols_) - 1, kept, pattern.n, pattern.m,
                                         pattern.n);
                // Fill to exactly N with explicit zeros at the lowest free positions, so every
                // group has the same size and the values of group g start at g * N.
                for (std::uint32_t j = 0; j < m && kept < n; ++j)
                    if (!(bits & (1u << j))) {
                        bits |= 1u << j;
                        ++kept;
                    }
                std::size_t slot = g * n;
                for (std::uint32_t j = 0; j < m; ++j)
                    if (bits & (1u << j)) {
                        values[slot++] = (c0 + j < out.cols_ && (*mask)(r, c0 + j)) ? weights(r, c0 + j) : 0.0f;
                    }
                const std::size_t bit = g * m;
                if (m == 16) {
                    meta[bit / 8] = static_cast<std::uint8_t>(bits);
                    meta[bit / 8 + 1] = static_cast<std::uint8_t>(bits >> 8);
                } else {
                    meta[bit / 8] |= static_cast<std::uint8_t>(bits << (bit % 8));
                }
            }
        }
        return out;
    }

    status unpack(matrix_view<float> out) const noexcept {
        SIEVE_TRY(detail::check_unpack_target("nm unpack", out, rows_, cols_));
        detail::fill_zero(out);
        const nm_view<T> v = view();
        for (std::size_t r = 0; r < rows_; ++r) {
            const T* values = v.row_values(r);
            for (std::size_t g = 0; g < groups_; ++g) {
                const std::uint32_t bits = v.group_mask(r, g);
                std::size_t slot = g * pattern_.n;
                for (std::uint32_t j = 0; j < pattern_.m; ++j)
                    if (bits & (1u << j)) {
                        const std::size_t c = g * pattern_.m + j;
                        if (c < cols_) out(r, c) = detail::dequantize(values[slot], scales(), r, c);
                        ++slot;
                    }
            }
        }
        return {};
    }

    nm_view<T> view() const noexcept {
        return {rows_, cols_, pattern_, groups_, values_.data(), values_ld_, meta_.data(), meta_ld_, scales()};
    }
    quant_scales scales() const noexcept { return {scales_.data(), group_, detail::scales_per_row(cols_, group_)}; }
    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    nm_pattern pattern() const noexcept { return pattern_; }
    std::size_t nnz() const noexcept { return values_.size(); }  // stored values, N per group
    // Stored values per weight position. It counts the zeros the format stores (N:M fill,
    // BSR block padding), so it can exceed the kept fraction, even 1 for tiny matrices.
    double density() const noexcept {
        return rows_ * cols_ == 0 ? 0.0 : static_cast<double>(nnz()) / static_cast<double>(rows_ * cols_);
    }
    std::size_t bytes() const noexcept { return values_.bytes() + meta_.bytes() + scales_.bytes(); }

private:
    template <class>
    friend class nm_matrix;
    friend struct detail::quantizer;

    aligned_buffer<T> values_;
    aligned_buffer<std::uint8_t> meta_;
    aligned_buffer<float> scales_;  // int8 only
    nm_pattern pattern_{};
    std::size_t rows_ = 0, cols_ = 0, groups_ = 0, values_ld_ = 0, meta_ld_ = 0, group_ = 0;
};

namespace detail {
// Constant-time: the pattern, strides and pointers a kernel relies on.
template <class T>
status check_view_pointers(const char* op, const nm_view<T>& v) noexcept {
    SIEVE_TRY(check_nm_pattern(op, v.pattern));
    const std::size_t m = v.pattern.m, n = v.pattern.n;
    if (v.groups != (v.cols + m - 1) / m || v.values_ld < v.groups * n || v.meta_ld * 8 < v.groups * m)
        return status::error(errc::corrupt_data, "%s: nm groups/strides disagree with %zu columns", op, v.cols);
    if (v.rows * v.groups != 0 && (v.values == nullptr || v.meta == nullptr))
        return status::error(errc::null_pointer, "%s: nm values or metadata are null", op);
    return check_scales_pointers<T>(op, v.scales, v.rows, v.cols);
}
}  // namespace detail

// Structural check, linear in the metadata: the pattern is legal, strides agree with the
// shape, and every group mask has exactly N bits set.
template <class T>
status validate(const nm_view<T>& v) noexcept {
    const char* op = "nm view";
    SIEVE_TRY(detail::check_format_shape(op, v.rows, v.cols));
    SIEVE_TRY(detail::check_view_pointers(op, v));
    const std::size_t n = v.pattern.n;
    for (std::size_t r = 0; r < v.rows; ++r)
        for (std::size_t g = 0; g < v.groups; ++g) {
            std::uint32_t bits = v.group_mask(r, g), count = 0;
            for (; bits; bits &= bits - 1) ++count;
            if (count != n)
                return status::error(errc::corrupt_data, "%s: row %zu group %zu has %u positions, pattern needs %zu",
                                     op, r, g, count, n);
        }
    return detail::validate_scales<T>(op, v.scales, v.rows, v.cols);
}

}  // namespace sieve
