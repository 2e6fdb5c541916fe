// Argument checks shared by every API boundary: null pointers, strides, overflow, aliasing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "error.hpp"
#include "views.hpp"

namespace sieve::detail {

// a * b without wrapping; false on overflow.
inline bool checked_mul(std::size_t a, std::size_t b, std::size_t& out) noexcept {
    if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
    out = a * b;
    return true;
}

// A matrix view is usable when its pointer is non-null (unless it is empty), ld >= cols,
// and its byte extent does not overflow.
template <class T>
status check_matrix(const char* op, const char* name, matrix_view<T> m) noexcept {
    if (m.empty()) return {};
    if (m.data == nullptr)
        return status::error(errc::null_pointer, "%s: %s is null (%zu x %zu)", op, name, m.rows, m.cols);
    if (m.ld < m.cols)
        return status::error(errc::bad_stride, "%s: %s has leading dimension %zu < %zu columns", op,
                             name, m.ld, m.cols);
    std::size_t elements = 0;
    if (!checked_mul(m.rows - 1, m.ld, elements) || elements + m.cols < elements ||
        (elements + m.cols) > std::numeric_limits<std::size_t>::max() / sizeof(T))
        return status::error(errc::size_overflow, "%s: %s extent (%zu x %zu, ld %zu) overflows",
                             op, name, m.rows, m.cols, m.ld);
    return {};
}

template <class T>
status check_span(const char* op, const char* name, span<T> s, std::size_t expected) noexcept {
    if (s.size != expected)
        return status::error(errc::shape_mismatch, "%s: %s has %zu elements, expected %zu", op, name,
                             s.size, expected);
    if (expected != 0 && s.data == nullptr)
        return status::error(errc::null_pointer, "%s: %s is null", op, name);
    return {};
}

// Byte range [begin, end) of a matrix view (empty range for an empty view).
template <class T>
void byte_range(matrix_view<T> m, std::uintptr_t& begin, std::uintptr_t& end) noexcept {
    begin = reinterpret_cast<std::uintptr_t>(m.data);
    end = m.empty() ? begin : begin + ((m.rows - 1) * m.ld + m.cols) * sizeof(T);
}

inline bool ranges_overlap(std::uintptr_t a0, std::uintptr_t a1, std::uintptr_t b0,
                           std::uintptr_t b1) noexcept {
    return a0 < a1 && b0 < b1 && a0 < b1 && b0 < a1;
}

}  // namespace sieve::detail
