// The fuzz input reader: turns libFuzzer's byte string into shapes, options and weight
// values. Every read succeeds: past the end of the input it yields zeros, so any byte
// string (including the empty one) decodes to some case. Shapes are bounded so one run
// stays in the microseconds; values mix ordinary numbers with what breaks code: NaN, both
// infinities, denormals, huge magnitudes, -0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sieve/formats/selection.hpp>
#include <sieve/core/views.hpp>
#include <vector>

namespace sieve_fuzz {

class input_reader {
public:
    input_reader(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

    std::uint8_t byte() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }
    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(byte() | byte() << 8); }
    std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(u16()) | static_cast<std::uint32_t>(u16()) << 16; }
    bool flag() noexcept { return (byte() & 1u) != 0; }
    // A number in [0, n) (0 when n == 0); one byte when n <= 256, so mutations stay local.
    std::size_t below(std::size_t n) noexcept {
        if (n == 0) return 0;
        return (n <= 256 ? byte() : u32()) % n;
    }
    template <class T, std::size_t N>
    const T& pick(const T (&options)[N]) noexcept {
        return options[below(N)];
    }
    std::size_t remaining() const noexcept { return size_ - pos_; }

    // A weight: zero often (sparse inputs), small exact values, raw bit patterns and the
    // special values.
    float value() noexcept {
        const std::uint8_t tag = byte();
        switch (tag % 16) {
        case 0: case 1: case 2: case 3: case 4: case 5: return 0.0f;
        case 6: case 7: case 8: case 9: case 10: return static_cast<float>(static_cast<std::int8_t>(byte())) / 16.0f;
        case 11: {
            const std::uint32_t bits = u32();
            float f;
            std::memcpy(&f, &bits, sizeof f);
            return f;
        }
        case 12: return special();
        default: return static_cast<float>(static_cast<std::int16_t>(u16())) / 256.0f;
        }
    }
    // A finite activation of moderate size (the gemv comparison needs finite inputs).
    float activation() noexcept { return static_cast<float>(static_cast<std::int8_t>(byte())) / 32.0f; }

    float special() noexcept {
        constexpr float specials[] = {
            std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min(),
            -std::numeric_limits<float>::denorm_min(), 1e-40f, std::numeric_limits<float>::min(),
            std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 1e30f, -0.0f, 3e38f};
        return pick(specials);
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// A dense weight matrix (row-major, ld == cols) decoded from the input.
struct weights {
    std::size_t rows = 0, cols = 0;
    std::vector<float> values;

    sieve::matrix_view<const float> view() const noexcept { return {values.data(), rows, cols}; }
    float operator()(std::size_t r, std::size_t c) const noexcept { return values[r * cols + c]; }
};

// Bounds of a small case. One case in 32 is instead "wide": 1-2 rows of just over 65536
// columns, mostly zeros, so packers must switch to 32-bit column indices.
struct shape_limits {
    std::size_t max_rows = 24;
    std::size_t max_cols = 160;
};

inline constexpr std::size_t wide_cols = (std::size_t{1} << 16) + 1;

inline weights read_weights(input_reader& in, shape_limits limits = {}) {
    weights w;
    const std::uint8_t mode = in.byte();
    if (mode % 32 == 31) {
        w.rows = 1 + in.below(2);
        w.cols = wide_cols + in.below(48);
        w.values.assign(w.rows * w.cols, 0.0f);
        const std::size_t count = in.below(24);
        for (std::size_t i = 0; i < count; ++i) {
            // Nonzeros near either end of a row are the interesting ones (index width edges).
            const std::size_t r = in.below(w.rows), off = in.below(64);
            const std::size_t c = in.flag() ? off : w.cols - 1 - off;
            w.values[r * w.cols + c] = in.value();
        }
        return w;
    }
    w.rows = in.below(limits.max_rows + 1);
    w.cols = in.below(limits.max_cols + 1);
    w.values.resize(w.rows * w.cols);
    for (float& v : w.values) v = in.value();
    return w;
}

// A selection (how a packer picks the kept weights) plus the mask it may point into.
struct selection_case {
    sieve::selection how;
    std::vector<std::uint8_t> mask;  // rows x cols when how.how == mask
};

inline selection_case read_selection(input_reader& in, const weights& w) {
    selection_case s;
    switch (in.below(3)) {
    case 0: s.how = sieve::selection::nonzeros(); break;
    case 1: {
        s.mask.assign(w.rows * w.cols, 0);
        std::uint8_t bits = 0;
        for (std::size_t i = 0; i < s.mask.size(); ++i) {
            if (i % 8 == 0) bits = in.byte();
            s.mask[i] = (bits >> (i % 8)) & 1u;
        }
        s.how = sieve::selection::from_mask({s.mask.data(), w.rows, w.cols});
        break;
    }
    default: {
        constexpr double sparsities[] = {0.0, 0.25, 0.5, 0.75, 1.0, 0.1, 0.9, 0.3333, -0.25, 1.5,
                                         std::numeric_limits<double>::quiet_NaN()};
        const std::size_t i = in.below(sizeof sparsities / sizeof sparsities[0] + 1);
        const double sparsity = i < sizeof sparsities / sizeof sparsities[0] ? sparsities[i] : in.byte() / 255.0;
        s.how = sieve::selection::magnitude(sparsity, in.flag() ? sieve::prune_scope::per_matrix
                                                                : sieve::prune_scope::per_row);
    }
    }
    return s;
}

}  // namespace sieve_fuzz
