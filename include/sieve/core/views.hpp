// Non-owning, trivially copyable views over user memory: contiguous vectors (span) and
// row-major matrices with a leading dimension (row stride, in elements).
#pragma once

#include <cstddef>
#include <type_traits>

namespace sieve {

template <class T>
struct span {
    T* data = nullptr;
    std::size_t size = 0;

    constexpr span() = default;
    constexpr span(T* ptr, std::size_t count) noexcept : data(ptr), size(count) {}
    // From any contiguous container with data() and size() (std::vector, std::array, ...).
    template <class Container,
              class = std::enable_if_t<std::is_convertible<
                  decltype(std::declval<Container&>().data()), T*>::value>>
    constexpr span(Container& c) noexcept : data(c.data()), size(c.size()) {}  // NOLINT
    // span<T> -> span<const T>
    template <class U, class = std::enable_if_t<std::is_same<const U, T>::value &&
                                                !std::is_same<U, T>::value>>
    constexpr span(span<U> other) noexcept : data(other.data), size(other.size) {}  // NOLINT

    constexpr T& operator[](std::size_t i) const noexcept { return data[i]; }
    constexpr T* begin() const noexcept { return data; }
    constexpr T* end() const noexcept { return data + size; }
};

// Row-major matrix view: element (r, c) lives at data[r * ld + c], ld >= cols.
template <class T>
struct matrix_view {
    T* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::size_t ld = 0;

    constexpr matrix_view() = default;
    constexpr matrix_view(T* ptr, std::size_t r, std::size_t c) noexcept
        : data(ptr), rows(r), cols(c), ld(c) {}
    constexpr matrix_view(T* ptr, std::size_t r, std::size_t c, std::size_t stride) noexcept
        : data(ptr), rows(r), cols(c), ld(stride) {}
    template <class U, class = std::enable_if_t<std::is_same<const U, T>::value &&
                                                !std::is_same<U, T>::value>>
    constexpr matrix_view(matrix_view<U> other) noexcept  // NOLINT: view<T> -> view<const T>
        : data(other.data), rows(other.rows), cols(other.cols), ld(other.ld) {}

    constexpr T* row(std::size_t r) const noexcept { return data + r * ld; }
    constexpr T& operator()(std::size_t r, std::size_t c) const noexcept { return data[r * ld + c]; }
    constexpr bool empty() const noexcept { return rows == 0 || cols == 0; }
};

static_assert(std::is_trivially_copyable<span<const float>>::value, "views are trivially copyable");
static_assert(std::is_trivially_copyable<matrix_view<const float>>::value, "views are trivially copyable");

}  // namespace sieve
