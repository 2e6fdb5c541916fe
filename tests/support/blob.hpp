// Helpers for the blob tests: aligned copies of a blob to corrupt, field access by the
// layout constants of io/blob_format.hpp, re-sealing the checksums after a deliberate
// change (so the check under test, not the checksum, reports it), and running a loaded
// view beside the matrix it was saved from.
#pragma once

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sieve/sieve.hpp>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "random.hpp"

namespace sieve_test {

// A blob in 64-byte-aligned storage that a test may change. `offset` places the blob that
// many bytes past the aligned start (to test a misaligned base).
class blob_copy {
public:
    blob_copy(const std::byte* data, std::size_t size, std::size_t offset = 0) : size_(size), offset_(offset) {
        REQUIRE(storage_.allocate(size + offset + 1).ok());
        if (size != 0) std::memcpy(storage_.data() + offset, data, size);
    }
    explicit blob_copy(const sieve::aligned_buffer<std::byte>& b, std::size_t offset = 0)
        : blob_copy(b.data(), b.size(), offset) {}

    std::byte* data() { return storage_.data() + offset_; }
    std::size_t size() const { return size_; }
    sieve::span<const std::byte> span(std::size_t size) const { return {storage_.data() + offset_, size}; }
    sieve::span<const std::byte> span() const { return span(size_); }

    std::uint64_t get(std::size_t pos, std::size_t bytes) { return sieve::io::load_le(data() + pos, bytes); }
    void set(std::size_t pos, std::uint64_t value, std::size_t bytes) { sieve::io::store_le(data() + pos, value, bytes); }

    // Byte positions of directory fields and section records.
    static std::size_t entry(std::size_t i) { return sieve::io::layout::header_size + i * sieve::io::layout::entry_size; }
    static std::size_t section(std::size_t i, std::size_t s) {
        return entry(i) + sieve::io::layout::sections + s * sieve::io::layout::section_record;
    }
    std::size_t section_offset(std::size_t i, std::size_t s) {
        return static_cast<std::size_t>(get(section(i, s) + sieve::io::layout::section_offset, 8));
    }
    std::size_t section_size(std::size_t i, std::size_t s) {
        return static_cast<std::size_t>(get(section(i, s) + sieve::io::layout::section_size, 8));
    }

    // Recomputes every checksum whose bytes lie inside the blob.
    void reseal() {
        namespace L = sieve::io::layout;
        if (size_ < L::header_size) return;
        const std::size_t count = static_cast<std::size_t>(get(L::entry_count, 4));
        if (L::header_size + count * L::entry_size > size_) return;
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t sections = static_cast<std::size_t>(get(entry(i) + L::section_count, 4));
            std::uint32_t state = sieve::io::crc32c_init;
            bool inside = sections <= sieve::io::max_sections;
            for (std::size_t s = 0; inside && s < sections; ++s) {
                const std::uint64_t off = get(section(i, s) + L::section_offset, 8);
                const std::uint64_t sz = get(section(i, s) + L::section_size, 8);
                inside = off <= size_ && sz <= size_ - off;
                if (inside) state = sieve::io::crc32c_update(state, data() + off, static_cast<std::size_t>(sz));
            }
            if (inside) set(entry(i) + L::data_crc, sieve::io::crc32c_finish(state), 4);
        }
        set(L::directory_crc, sieve::io::directory_crc(data(), count), 4);
    }

private:
    sieve::aligned_buffer<std::byte> storage_;
    std::size_t size_ = 0, offset_ = 0;
};

inline sieve::result<sieve::io::blob_reader> open(const blob_copy& b, bool checksums = true) {
    return sieve::io::open_blob(b.span(), {checksums});
}

// The blob fails to open with `code` and a message holding every one of `words`.
inline void require_open_error(const sieve::result<sieve::io::blob_reader>& r, sieve::errc code,
                               std::initializer_list<const char*> words) {
    INFO("message: " << r.message());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == code);
    for (const char* w : words) CHECK(std::string(r.message()).find(w) != std::string::npos);
}

template <class View>
constexpr bool holds_int8_view() {
    return sieve::is_int8_weight<sieve::io::value_type_of<View>>;
}

inline bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// gemv and gemm (and, for int8, gemv_w8a8 and gemm_w8a8) on `loaded` give bitwise what
// they give on `original` (the view of the matrix it was saved from).
template <class View>
void require_same_results(const View& original, const View& loaded, rng& r) {
    const std::size_t m = loaded.rows, k = loaded.cols;
    REQUIRE(original.rows == m);
    REQUIRE(original.cols == k);
    const std::size_t n = r.index(1, 6);
    std::vector<float> x(k), xs(n * k), bias(m);
    for (auto& v : x) v = r.nonzero(-2.0f, 2.0f);
    for (auto& v : xs) v = r.nonzero(-2.0f, 2.0f);
    for (auto& v : bias) v = r.nonzero(-1.0f, 1.0f);
    sieve::epilogue ep;
    ep.bias = {bias.data(), bias.size()};
    ep.act = sieve::activation::relu;
    const float nan = std::numeric_limits<float>::quiet_NaN();

    auto run_gemv = [&](const auto& w, auto w8a8) {
        std::vector<float> y(m, nan);
        sieve::status s;
        if constexpr (decltype(w8a8)::value) s = sieve::gemv_w8a8(w, x, y, ep);
        else s = sieve::gemv(w, x, y, ep);
        INFO(s.message());
        REQUIRE(s.ok());
        return y;
    };
    auto run_gemm = [&](const auto& w, auto w8a8) {
        std::vector<float> y(n * m, nan);
        const sieve::matrix_view<const float> xv(xs.data(), n, k);
        const sieve::matrix_view<float> yv(y.data(), n, m);
        sieve::status s;
        if constexpr (decltype(w8a8)::value) s = sieve::gemm_w8a8(w, xv, yv, ep);
        else s = sieve::gemm(w, xv, yv, ep);
        INFO(s.message());
        REQUIRE(s.ok());
        return y;
    };
    CHECK(bitwise_equal(run_gemv(original, std::false_type{}), run_gemv(loaded, std::false_type{})));
    CHECK(bitwise_equal(run_gemm(original, std::false_type{}), run_gemm(loaded, std::false_type{})));
    if constexpr (holds_int8_view<View>()) {
        CHECK(bitwise_equal(run_gemv(original, std::true_type{}), run_gemv(loaded, std::true_type{})));
        CHECK(bitwise_equal(run_gemm(original, std::true_type{}), run_gemm(loaded, std::true_type{})));
    }
}

}  // namespace sieve_test
