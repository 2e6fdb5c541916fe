// The one error type of sieve: a code plus a formatted message, usable with exceptions off.
//
// Every API boundary (packing, validation, gemv/gemm) returns `status` or `result<T>`;
// kernels behind the boundary never fail. With exceptions enabled, `check()` and
// `value_or_throw()` turn an error into a `sieve::error_exception`.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "config.hpp"

#if SIEVE_HAS_EXCEPTIONS
#include <exception>
#endif

namespace sieve {

enum class errc : std::uint8_t {
    ok = 0,
    null_pointer,     // a required pointer is null
    shape_mismatch,   // operand shapes do not agree
    bad_stride,       // leading dimension smaller than the row length
    aliasing,         // output overlaps an input
    not_nm_sparse,    // a group holds more values than the N:M pattern allows
    bad_argument,     // an option is outside its domain (sparsity, N:M pattern, ...)
    index_overflow,   // an index does not fit the format's index type
    size_overflow,    // a size computation overflows
    out_of_memory,    // packing could not allocate
    non_finite,       // NaN or Inf where a finite value is required
    corrupt_data,     // a view's internal structure is inconsistent
    unsupported,      // the operation is not available for this format or dtype
    // Loading packed weights (io/): what a caller may want to tell apart.
    bad_magic,            // the bytes are not a sieve blob
    unsupported_version,  // a blob format version this reader does not know (newer)
    truncated,            // the blob or a section ends before its declared contents
    misaligned,           // a blob or section is not 64-byte aligned
    checksum_mismatch,    // stored and computed checksums differ
    not_found,            // no entry of that name
    type_mismatch,        // the entry exists but holds another format, dtype or block shape
    io_error,             // a file could not be opened, read or written
};

inline const char* to_string(errc code) noexcept {
    switch (code) {
    case errc::ok: return "ok";
    case errc::null_pointer: return "null pointer";
    case errc::shape_mismatch: return "shape mismatch";
    case errc::bad_stride: return "bad stride";
    case errc::aliasing: return "aliasing";
    case errc::not_nm_sparse: return "not N:M sparse";
    case errc::bad_argument: return "bad argument";
    case errc::index_overflow: return "index overflow";
    case errc::size_overflow: return "size overflow";
    case errc::out_of_memory: return "out of memory";
    case errc::non_finite: return "non-finite value";
    case errc::corrupt_data: return "corrupt data";
    case errc::unsupported: return "unsupported";
    case errc::bad_magic: return "bad magic";
    case errc::unsupported_version: return "unsupported version";
    case errc::truncated: return "truncated";
    case errc::misaligned: return "misaligned";
    case errc::checksum_mismatch: return "checksum mismatch";
    case errc::not_found: return "not found";
    case errc::type_mismatch: return "type mismatch";
    case errc::io_error: return "i/o error";
    }
    return "unknown error";
}

// Success, or an error code with a human-readable message ("gemv: x has 17 elements, W has
// 16 columns"). Fixed-size storage: no heap, safe to return from noexcept code.
class [[nodiscard]] status {
public:
    static constexpr int message_capacity = 200;

    status() noexcept { message_[0] = '\0'; }

    static status error(errc code, const char* format, ...) noexcept SIEVE_PRINTF_FORMAT(2, 3) {
        status s;
        s.code_ = code;
        std::va_list args;
        va_start(args, format);
        std::vsnprintf(s.message_, message_capacity, format, args);
        va_end(args);
        return s;
    }

    bool ok() const noexcept { return code_ == errc::ok; }
    errc code() const noexcept { return code_; }
    const char* message() const noexcept { return ok() ? "ok" : message_; }

private:
    errc code_ = errc::ok;
    char message_[message_capacity];
};

// Evaluates an expression yielding `status` and returns it from the enclosing function
// when it is an error.
#define SIEVE_TRY(expr)                           \
    do {                                          \
        ::sieve::status sieve_try_status_ = (expr); \
        if (!sieve_try_status_.ok()) return sieve_try_status_; \
    } while (0)

// A value or the status saying why there is none. T must be default-constructible and
// movable (every sieve owning type is).
template <class T>
class [[nodiscard]] result {
public:
    result(T value) noexcept : value_(std::move(value)) {}  // NOLINT: implicit by design
    result(status error) noexcept : status_(std::move(error)) {  // NOLINT
        SIEVE_DEBUG_ASSERT(!status_.ok());
    }

    bool ok() const noexcept { return status_.ok(); }
    const sieve::status& error() const noexcept { return status_; }
    const char* message() const noexcept { return status_.message(); }

    // Precondition: ok(). Checked in debug builds.
    T& value() & noexcept { SIEVE_DEBUG_ASSERT(ok()); return value_; }
    const T& value() const& noexcept { SIEVE_DEBUG_ASSERT(ok()); return value_; }
    T&& value() && noexcept { SIEVE_DEBUG_ASSERT(ok()); return std::move(value_); }
    T* operator->() noexcept { return &value(); }
    const T* operator->() const noexcept { return &value(); }
    T& operator*() & noexcept { return value(); }
    const T& operator*() const& noexcept { return value(); }
    T&& operator*() && noexcept { return std::move(*this).value(); }  // `auto m = *pack(...);` moves

private:
    T value_{};
    sieve::status status_{};
};

#if SIEVE_HAS_EXCEPTIONS
class error_exception : public std::exception {
public:
    explicit error_exception(const status& s) : status_(s) {}
    const char* what() const noexcept override { return status_.message(); }
    errc code() const noexcept { return status_.code(); }

private:
    status status_;
};

inline void check(const status& s) {
    if (!s.ok()) throw error_exception(s);
}

template <class T>
T value_or_throw(result<T>&& r) {
    check(r.error());
    return std::move(r).value();
}
#endif

}  // namespace sieve
