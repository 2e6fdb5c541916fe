// Pieces every format shares: index arrays whose width is chosen at pack time, the int8
// dequantization scales, and the checks of pack sources and unpack targets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cmath>
#include <limits>
#include <type_traits>

#include "../core/aligned_buffer.hpp"
#include "../core/checks.hpp"
#include "../core/error.hpp"
#include "../core/views.hpp"

namespace sieve {

// Width of stored column (or block-column) indices: 16 bits whenever every index fits.
enum class index_width : std::uint8_t { u16 = 2, u32 = 4 };

inline index_width index_width_for(std::size_t extent) noexcept {
    return extent <= std::size_t{1} << 16 ? index_width::u16 : index_width::u32;
}

// Dequantization scales of int8 weights (empty for fp32): weight (m, k) is value * scale(m,
// k). `group` is the number of consecutive K positions sharing a scale, 0 for one scale per
// output row; a row holds `ld` scales: 1, or ceil(K / group).
struct quant_scales {
    const float* data = nullptr;
    std::size_t group = 0;
    std::size_t ld = 0;

    // k's group by a shift: groups are 32, 64 or 128 (check_quant_group), and kernels ask
    // once per block or group, where a division cost more than the block's arithmetic.
    std::size_t group_of(std::size_t k) const noexcept {
        return group == 0 ? 0 : k >> static_cast<unsigned>(__builtin_ctzll(group));
    }
    float at(std::size_t m, std::size_t k) const noexcept { return data[m * ld + group_of(k)]; }
};

// How int8 weights are quantized: symmetric, values in -127..127, one fp32 scale per output
// row or per group of `group` consecutive K positions (32, 64 or 128).
struct quant_config {
    std::size_t group = 0;

    static quant_config per_row() noexcept { return {0}; }
    static quant_config per_group(std::size_t group) noexcept { return {group}; }
};

// Value types the formats store: fp32, or int8 with quant_scales.
template <class T>
inline constexpr bool is_int8_weight = std::is_same<T, std::int8_t>::value;
template <class T>
inline constexpr bool is_weight_type = std::is_same<T, float>::value || is_int8_weight<T>;

// Packed indices of either width, as one byte buffer.
class index_array {
public:
    status allocate(std::size_t count, index_width width) noexcept {
        width_ = width;
        std::size_t bytes = 0;
        if (!detail::checked_mul(count, static_cast<std::size_t>(width), bytes))
            return status::error(errc::size_overflow, "index array of %zu entries overflows", count);
        count_ = count;
        return bytes_.allocate(bytes);
    }
    void set(std::size_t i, std::uint32_t value) noexcept {
        if (width_ == index_width::u16)
            reinterpret_cast<std::uint16_t*>(bytes_.data())[i] = static_cast<std::uint16_t>(value);
        else
            reinterpret_cast<std::uint32_t*>(bytes_.data())[i] = value;
    }
    std::uint32_t get(std::size_t i) const noexcept {
        return width_ == index_width::u16 ? reinterpret_cast<const std::uint16_t*>(bytes_.data())[i]
                                          : reinterpret_cast<const std::uint32_t*>(bytes_.data())[i];
    }
    const void* data() const noexcept { return bytes_.data(); }
    index_width width() const noexcept { return width_; }
    std::size_t size() const noexcept { return count_; }
    std::size_t bytes() const noexcept { return count_ * static_cast<std::size_t>(width_); }

private:
    aligned_buffer<std::uint8_t> bytes_;
    index_width width_ = index_width::u16;
    std::size_t count_ = 0;
};

// Reads index i of a view's type-erased index array.
inline std::uint32_t load_index(const void* indices, index_width width, std::size_t i) noexcept {
    return width == index_width::u16 ? static_cast<const std::uint16_t*>(indices)[i]
                                     : static_cast<const std::uint32_t*>(indices)[i];
}

namespace detail {

struct quantizer;  // quant/quantize.hpp: builds the int8 form of each format

inline std::size_t scales_per_row(std::size_t cols, std::size_t group) noexcept {
    return group == 0 ? 1 : (cols + group - 1) / group;
}

inline status check_quant_group(const char* op, std::size_t group) noexcept {
    if (group != 0 && group != 32 && group != 64 && group != 128)
        return status::error(errc::bad_argument, "%s: scale group %zu unsupported (0 = per row, 32, 64 or 128)", op,
                             group);
    return {};
}

// Constant-time: an int8 view carries scales of a supported layout; fp32 views none.
template <class T>
status check_scales_pointers(const char* op, const quant_scales& s, std::size_t rows, std::size_t cols) noexcept {
    if constexpr (is_int8_weight<T>) {
        SIEVE_TRY(check_quant_group(op, s.group));
        if (s.ld != scales_per_row(cols, s.group))
            return status::error(errc::corrupt_data, "%s: %zu scales per row, %zu columns in groups of %zu need %zu",
                                 op, s.ld, cols, s.group, scales_per_row(cols, s.group));
        if (rows * cols != 0 && s.data == nullptr)
            return status::error(errc::null_pointer, "%s: int8 weights without scales", op);
    } else {
        (void)op, (void)s, (void)rows, (void)cols;
    }
    return {};
}

// Linear-time: every scale is finite and non-negative.
template <class T>
status validate_scales(const char* op, const quant_scales& s, std::size_t rows, std::size_t cols) noexcept {
    SIEVE_TRY(check_scales_pointers<T>(op, s, rows, cols));
    if constexpr (is_int8_weight<T>) {
        for (std::size_t i = 0; i < rows * s.ld; ++i)
            if (!(std::isfinite(s.data[i]) && s.data[i] >= 0.0f))
                return status::error(errc::corrupt_data, "%s: scale %zu of row %zu is %g", op, i % s.ld, i / s.ld,
                                     static_cast<double>(s.data[i]));
    }
    return {};
}

// The fp32 weight a stored value stands for.
template <class T>
float dequantize(T value, const quant_scales& s, std::size_t m, std::size_t k) noexcept {
    if constexpr (is_int8_weight<T>) return static_cast<float>(value) * s.at(m, k);
    else return (void)s, (void)m, (void)k, value;
}

// Shapes every format accepts: each dimension below 2^31, so row and column indices fit
// 32 bits with room for the arithmetic kernels do on them.
inline status check_format_shape(const char* op, std::size_t rows, std::size_t cols) noexcept {
    constexpr std::size_t limit = std::size_t{1} << 31;
    if (rows >= limit || cols >= limit)
        return status::error(errc::index_overflow, "%s: shape %zu x %zu exceeds 2^31 - 1 per dimension",
                             op, rows, cols);
    return {};
}

inline status check_unpack_target(const char* op, matrix_view<float> out, std::size_t rows,
                                  std::size_t cols) noexcept {
    SIEVE_TRY(check_matrix(op, "output", out));
    if (out.rows != rows || out.cols != cols)
        return status::error(errc::shape_mismatch, "%s: output is %zu x %zu, matrix is %zu x %zu", op,
                             out.rows, out.cols, rows, cols);
    return {};
}

// Writes zeros over a matrix view (unpackers start from an all-zero matrix).
inline void fill_zero(matrix_view<float> out) noexcept {
    for (std::size_t r = 0; r < out.rows; ++r)
        for (std::size_t c = 0; c < out.cols; ++c) out(r, c) = 0.0f;
}

}  // namespace detail
}  // namespace sieve
