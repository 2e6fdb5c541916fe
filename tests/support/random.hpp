// Seeded test data: dense matrices with a chosen density, value range and exact-zero rows,
// stored in awkward layouts (leading dimension larger than the row with NaN sentinels in
// the gap, data misaligned by one float from 64 bytes), with guard zones around them so a
// kernel that reads or writes outside its elements is caught.
//
// Every generator draws from `sieve_test::rng`, seeded with a constant the test prints
// (CAPTURE(seed)): a failure replays exactly. std::random_device is never used, and the
// mapping from engine output to values is written here rather than taken from <random>'s
// distributions, whose output differs between standard libraries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <sieve/core/views.hpp>
#include <utility>
#include <vector>

namespace sieve_test {

class rng {
public:
    explicit rng(std::uint32_t seed) : engine_(seed) {}

    // Uniform in [0, 1), 24 random bits.
    double unit() { return static_cast<double>(engine_() >> 8) * (1.0 / 16777216.0); }
    double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }
    // Uniform in [lo, hi] rounded to float, never exactly zero.
    float nonzero(float lo, float hi) {
        for (;;) {
            const float v = static_cast<float>(uniform(lo, hi));
            if (v != 0.0f) return v;
        }
    }
    bool bernoulli(double p) { return p >= 1.0 || (p > 0.0 && unit() < p); }
    // Uniform integer in [lo, hi] (modulo bias is irrelevant at test sizes).
    std::size_t index(std::size_t lo, std::size_t hi) {
        return lo + static_cast<std::size_t>(engine_() % static_cast<std::uint32_t>(hi - lo + 1));
    }

private:
    std::mt19937 engine_;
};

// The bit pattern kernels must never produce or disturb: a quiet NaN with a payload.
inline float sentinel() {
    const std::uint32_t bits = 0x7fc0beefu;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}
inline bool is_sentinel(float f) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits == 0x7fc0beefu;
}

// Where a test matrix lives: `ld_pad` extra floats per row (ld = cols + ld_pad) and the
// first element `misalign` floats past a 64-byte boundary.
struct layout {
    std::size_t ld_pad = 0;
    std::size_t misalign = 0;
};
inline layout strided(std::size_t pad = 5) { return {pad, 0}; }
inline layout unaligned() { return {0, 1}; }

// A row-major rows x cols float matrix (a vector is one row) owned by the test. Every float
// of its buffer that is not an element (guard zones before and after, and the gap between
// cols and ld) holds `sentinel()`, so `layout_intact()` tells whether anything wrote there.
// Move-only: a copy would lose the alignment it was made with (use copy_with_layout).
class test_matrix {
public:
    static constexpr std::size_t guard = 16;  // sentinel floats before and after

    test_matrix() = default;
    test_matrix(std::size_t rows, std::size_t cols, layout l = {}, float fill = 0.0f)
        : rows_(rows), cols_(cols), ld_(cols + l.ld_pad) {
        const std::size_t extent = rows == 0 ? 0 : (rows - 1) * ld_ + cols;
        buf_.assign(guard + 16 + extent + guard, sentinel());
        // First index at or after the front guard whose address is `misalign` floats past a
        // 64-byte boundary (vector storage is at least 4-byte aligned, so one exists within 16).
        offset_ = guard;
        while ((reinterpret_cast<std::uintptr_t>(buf_.data() + offset_) % 64) !=
               (l.misalign % 16) * 4)
            ++offset_;
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t c = 0; c < cols_; ++c) (*this)(r, c) = fill;
    }
    test_matrix(test_matrix&&) = default;
    test_matrix& operator=(test_matrix&&) = default;
    test_matrix(const test_matrix&) = delete;
    test_matrix& operator=(const test_matrix&) = delete;

    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    std::size_t ld() const { return ld_; }
    std::size_t size() const { return rows_ * cols_; }
    float* data() { return buf_.data() + offset_; }
    const float* data() const { return buf_.data() + offset_; }
    float& operator()(std::size_t r, std::size_t c) { return data()[r * ld_ + c]; }
    const float& operator()(std::size_t r, std::size_t c) const { return data()[r * ld_ + c]; }
    // Vector access (one-row matrices).
    float& operator[](std::size_t i) { return data()[i]; }
    const float& operator[](std::size_t i) const { return data()[i]; }

    sieve::matrix_view<const float> view() const { return {data(), rows_, cols_, ld_}; }
    sieve::matrix_view<float> mutable_view() { return {data(), rows_, cols_, ld_}; }
    sieve::span<const float> span() const { return {data(), rows_ * cols_}; }
    sieve::span<float> mutable_span() { return {data(), rows_ * cols_}; }

    void fill(float v) {
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t c = 0; c < cols_; ++c) (*this)(r, c) = v;
    }

    // True when every float outside the elements still holds the sentinel bit pattern.
    bool layout_intact() const {
        const float* base = data();
        for (std::size_t i = 0; i < offset_; ++i)
            if (!is_sentinel(buf_[i])) return false;
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t c = cols_; c < ld_ && (r + 1 < rows_); ++c)
                if (!is_sentinel(base[r * ld_ + c])) return false;
        const std::size_t extent = rows_ == 0 ? 0 : (rows_ - 1) * ld_ + cols_;
        for (std::size_t i = offset_ + extent; i < buf_.size(); ++i)
            if (!is_sentinel(buf_[i])) return false;
        return true;
    }

private:
    std::vector<float> buf_;
    std::size_t offset_ = 0;
    std::size_t rows_ = 0, cols_ = 0, ld_ = 0;
};

// What a random matrix looks like: each element is nonzero with probability `density`
// (0 gives the all-zero matrix, 1 a fully dense one), nonzeros uniform in [lo, hi] and
// never exactly 0, and each row is forced to all zeros with probability `zero_rows`.
struct fill_spec {
    double density = 1.0;
    float lo = -1.0f, hi = 1.0f;
    double zero_rows = 0.0;
};

inline void fill_random(test_matrix& m, rng& r, const fill_spec& spec = {}) {
    for (std::size_t i = 0; i < m.rows(); ++i) {
        const bool zero_row = r.bernoulli(spec.zero_rows);
        for (std::size_t c = 0; c < m.cols(); ++c)
            m(i, c) = (!zero_row && r.bernoulli(spec.density)) ? r.nonzero(spec.lo, spec.hi) : 0.0f;
    }
}

inline test_matrix random_matrix(rng& r, std::size_t rows, std::size_t cols,
                                 const fill_spec& spec = {}, layout l = {}) {
    test_matrix m(rows, cols, l);
    fill_random(m, r, spec);
    return m;
}

inline test_matrix random_vector(rng& r, std::size_t n, const fill_spec& spec = {}, layout l = {}) {
    return random_matrix(r, 1, n, spec, l);
}

// The same elements in another layout (bitwise copies, NaN payloads included).
inline test_matrix copy_with_layout(const test_matrix& src, layout l) {
    test_matrix out(src.rows(), src.cols(), l);
    for (std::size_t r = 0; r < src.rows(); ++r)
        std::memcpy(&out(r, 0), &src(r, 0), src.cols() * sizeof(float));
    return out;
}
inline test_matrix strided_copy(const test_matrix& src, std::size_t pad = 5) {
    return copy_with_layout(src, strided(pad));
}
inline test_matrix unaligned_copy(const test_matrix& src) {
    return copy_with_layout(src, unaligned());
}

// Elementwise bitwise equality of two matrices of the same shape (layouts may differ).
inline bool bitwise_equal(const test_matrix& a, const test_matrix& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (std::size_t r = 0; r < a.rows(); ++r)
        if (a.cols() != 0 && std::memcmp(&a(r, 0), &b(r, 0), a.cols() * sizeof(float)) != 0)
            return false;
    return true;
}

}  // namespace sieve_test
