// Owning, 64-byte-aligned, zero-initialised storage for trivially copyable elements.
//
// Every buffer carries `tail_padding` readable zero bytes past its last element, so SIMD
// kernels may load a full vector at the end of a row without reading outside the
// allocation. Allocation failure is reported through `status`, never by throwing.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

#include "error.hpp"

namespace sieve {

inline constexpr std::size_t storage_alignment = 64;
inline constexpr std::size_t tail_padding = 64;

template <class T>
class aligned_buffer {
    static_assert(std::is_trivially_copyable<T>::value, "aligned_buffer holds plain data");

public:
    aligned_buffer() = default;
    aligned_buffer(const aligned_buffer&) = delete;
    aligned_buffer& operator=(const aligned_buffer&) = delete;
    aligned_buffer(aligned_buffer&& other) noexcept
        : data_(other.data_), size_(other.size_) {
        other.data_ = nullptr;
        other.size_ = 0;
    }
    aligned_buffer& operator=(aligned_buffer&& other) noexcept {
        if (this != &other) {
            release();
            data_ = other.data_;
            size_ = other.size_;
            other.data_ = nullptr;
            other.size_ = 0;
        }
        return *this;
    }
    ~aligned_buffer() { release(); }

    // Replaces the contents with `count` zero elements.
    status allocate(std::size_t count) noexcept {
        release();
        if (count == 0) return {};
        if (count > (std::numeric_limits<std::size_t>::max() - tail_padding - storage_alignment) /
                        sizeof(T))
            return status::error(errc::size_overflow, "allocation of %zu elements overflows", count);
        std::size_t bytes = count * sizeof(T) + tail_padding;
        bytes = (bytes + storage_alignment - 1) / storage_alignment * storage_alignment;
        void* p = std::aligned_alloc(storage_alignment, bytes);
        if (p == nullptr)
            return status::error(errc::out_of_memory, "cannot allocate %zu bytes", bytes);
        std::memset(p, 0, bytes);
        data_ = static_cast<T*>(p);
        size_ = count;
        return {};
    }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    std::size_t bytes() const noexcept { return size_ * sizeof(T); }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    void release() noexcept {
        std::free(data_);
        data_ = nullptr;
        size_ = 0;
    }

    T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace sieve
