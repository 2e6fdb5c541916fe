// N:M format: packing (nonzeros, mask, magnitude) for 2:4, 1:4, 4:8, 1:2 and 8:16, K not a
// multiple of M, refusals, the metadata layout nm.hpp documents, the reported sizes, and
// validate() on packed and corrupted views.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <sieve/sieve.hpp>
#include <vector>

#include "support/catch_sieve.hpp"
#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/pruning.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

const std::vector<sieve::nm_pattern>& patterns() {
    static const std::vector<sieve::nm_pattern> p = {{2, 4}, {1, 4}, {4, 8}, {1, 2}, {8, 16}};
    return p;
}

// K values around the group width: below, at, above, and several groups with a partial one.
std::vector<std::size_t> nm_cols(std::size_t m) {
    return {1, m - 1, m, m + 1, 3 * m, 5 * m + 3, 64 + m / 2};
}

// Row r's kept positions in a group: up to n of the group's `width` positions, at random.
std::vector<std::uint8_t> random_nm_mask(rng& r, std::size_t rows, std::size_t cols, std::size_t n,
                                         std::size_t m) {
    std::vector<std::uint8_t> mask(rows * cols, 0);
    std::vector<std::size_t> pos;
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t c0 = 0; c0 < cols; c0 += m) {
            const std::size_t width = std::min(m, cols - c0);
            pos.resize(width);
            std::iota(pos.begin(), pos.end(), c0);
            for (std::size_t j = width; j > 1; --j) std::swap(pos[j - 1], pos[r.index(0, j - 1)]);
            const std::size_t kept = r.index(0, std::min(n, width));
            for (std::size_t j = 0; j < kept; ++j) mask[i * cols + pos[j]] = 1;
        }
    return mask;
}

// A matrix that is N:M sparse: random nonzeros exactly where random_nm_mask says.
test_matrix random_nm_matrix(rng& r, std::size_t rows, std::size_t cols, std::size_t n,
                             std::size_t m) {
    test_matrix w = random_matrix(r, rows, cols, {1.0});
    return masked(w, random_nm_mask(r, rows, cols, n, m));
}

// Bit j of group g of row r, read from the raw metadata bytes as nm.hpp documents them:
// M-bit group masks packed little-endian into a bitstream, meta_ld bytes per row.
bool raw_meta_bit(const sieve::nm_view<float>& v, std::size_t r, std::size_t g, std::size_t j) {
    const std::size_t bit = g * v.pattern.m + j;
    return (v.meta[r * v.meta_ld + bit / 8] >> (bit % 8)) & 1u;
}

std::uint32_t popcount(std::uint32_t x) {
    std::uint32_t n = 0;
    for (; x; x &= x - 1) ++n;
    return n;
}

}  // namespace

TEST_CASE("nm pack/unpack round-trips N:M-sparse matrices for 2:4, 1:4, 4:8, 1:2 and 8:16",
          "[nm][pack]") {
    const std::uint32_t seed = 301;
    CAPTURE(seed);
    rng r(seed);
    for (const auto p : patterns())
        for (std::size_t rows : {1, 3, 8})
            for (std::size_t cols : nm_cols(p.m)) {
                CAPTURE(p.n, p.m, rows, cols);
                const test_matrix w = random_nm_matrix(r, rows, cols, p.n, p.m);
                auto packed = sieve::nm_matrix<>::pack(w.view(), p);
                INFO(packed.message());
                REQUIRE(packed.ok());
                CHECK(packed->pattern().n == p.n);
                CHECK(packed->pattern().m == p.m);
                CHECK(sieve::validate(packed->view()).ok());
                require_unpacks_to(*packed, w);
            }
}

TEST_CASE("nm pack defaults to the 2:4 pattern", "[nm][pack]") {
    const std::uint32_t seed = 302;
    CAPTURE(seed);
    rng r(seed);
    const test_matrix w = random_nm_matrix(r, 4, 16, 2, 4);
    auto packed = sieve::nm_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    CHECK(packed->pattern().n == 2);
    CHECK(packed->pattern().m == 4);
    CHECK(packed->view().pattern.n == 2);
    CHECK(packed->view().pattern.m == 4);
    require_unpacks_to(*packed, w);
}

TEST_CASE("nm pack from a mask keeps W where the mask is set and 0 elsewhere", "[nm][pack][mask]") {
    const std::uint32_t seed = 303;
    CAPTURE(seed);
    rng r(seed);
    for (const auto p : patterns())
        for (std::size_t cols : nm_cols(p.m)) {
            CAPTURE(p.n, p.m, cols);
            const std::size_t rows = 5;
            const test_matrix w = random_matrix(r, rows, cols, {0.8});
            auto mask = random_nm_mask(r, rows, cols, p.n, p.m);
            for (auto& b : mask)
                b = static_cast<std::uint8_t>(b * 7);  // any nonzero byte means keep
            auto packed = sieve::nm_matrix<>::pack(
                w.view(), p, sieve::selection::from_mask(mask_view(mask, rows, cols)));
            INFO(packed.message());
            REQUIRE(packed.ok());
            require_unpacks_to(*packed, masked(w, mask));
        }
}

TEST_CASE("nm 2:4 pack refuses a group with three nonzeros, naming the row and columns",
          "[nm][pack][refuse]") {
    test_matrix w(3, 10, {}, 0.0f);
    w(0, 0) = 1;
    w(0, 3) = 1;  // group 0 of row 0: two, fine
    w(1, 4) = 1;
    w(1, 5) = 2;
    w(1, 7) = 3;  // row 1, columns 4..7: three
    auto packed = sieve::nm_matrix<>::pack(w.view());
    require_error(packed.error(), sieve::errc::not_nm_sparse, {"row 1", "4..7"});

    SECTION("an explicit mask with three kept positions is refused the same way") {
        std::vector<std::uint8_t> mask(30, 0);
        mask[2 * 10 + 0] = mask[2 * 10 + 1] = mask[2 * 10 + 2] = 1;  // row 2, columns 0..3
        auto from_mask =
            sieve::nm_matrix<>::pack(test_matrix(3, 10, {}, 1.0f).view(), {2, 4},
                                     sieve::selection::from_mask(mask_view(mask, 3, 10)));
        require_error(from_mask.error(), sieve::errc::not_nm_sparse, {"row 2", "0..3"});
    }
}

TEST_CASE("nm pack refuses N + 1 nonzeros in a group for every pattern", "[nm][pack][refuse]") {
    for (const auto p : patterns()) {
        if (p.n == p.m) continue;
        CAPTURE(p.n, p.m);
        test_matrix w(2, 2 * p.m + 1, {}, 0.0f);
        for (std::size_t j = 0; j <= p.n; ++j) w(1, p.m + j) = 1.0f;  // row 1, group 1
        auto packed = sieve::nm_matrix<>::pack(w.view(), p);
        require_error(packed.error(), sieve::errc::not_nm_sparse, {"row 1"});
    }
}

TEST_CASE(
    "nm magnitude pruning keeps exactly N per full group, the largest, ties to the lower column",
    "[nm][pack][magnitude]") {
    const std::uint32_t seed = 304;
    CAPTURE(seed);
    rng r(seed);
    for (const auto p : patterns())
        for (std::size_t cols : nm_cols(p.m)) {
            CAPTURE(p.n, p.m, cols);
            const std::size_t rows = 4;
            test_matrix w = random_matrix(r, rows, cols, {1.0, -4.0f, 4.0f});
            for (std::size_t c = 0; c < cols; ++c) w(3, c) = (c % 2) ? 1.5f : -1.5f;  // all ties
            // The target sparsity is ignored: the pattern fixes it.
            auto packed = sieve::nm_matrix<>::pack(w.view(), p, sieve::selection::magnitude(0.9));
            REQUIRE(packed.ok());
            const auto keep = expected_nm_keep(w, p.n, p.m);
            require_unpacks_to(*packed, masked(w, keep));
            const test_matrix got = unpack_to_test(*packed);
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t c0 = 0; c0 < cols; c0 += p.m) {
                    const std::size_t width = std::min<std::size_t>(p.m, cols - c0);
                    std::size_t kept = 0;
                    for (std::size_t j = 0; j < width; ++j) kept += got(i, c0 + j) != 0.0f;
                    CAPTURE(i, c0);
                    CHECK(kept == std::min<std::size_t>(p.n, width));
                }
        }
}

TEST_CASE("nm metadata is a little-endian bitstream of M-bit masks with exactly N bits per group",
          "[nm][layout]") {
    const std::uint32_t seed = 305;
    CAPTURE(seed);
    rng r(seed);
    for (const auto p : patterns())
        for (std::size_t cols : nm_cols(p.m)) {
            CAPTURE(p.n, p.m, cols);
            const std::size_t rows = 3;
            const auto keep = random_nm_mask(r, rows, cols, p.n, p.m);
            const test_matrix w = masked(random_matrix(r, rows, cols, {1.0}), keep);
            auto packed = sieve::nm_matrix<>::pack(w.view(), p);
            REQUIRE(packed.ok());
            const auto v = packed->view();
            REQUIRE(v.groups == (cols + p.m - 1) / p.m);
            REQUIRE(v.values_ld == v.groups * p.n);
            REQUIRE(v.meta_ld % 8 == 0);
            REQUIRE(v.meta_ld * 8 >= v.groups * p.m);
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t g = 0; g < v.groups; ++g) {
                    CAPTURE(i, g);
                    std::uint32_t raw = 0;
                    for (std::size_t j = 0; j < p.m; ++j)
                        raw |= static_cast<std::uint32_t>(raw_meta_bit(v, i, g, j)) << j;
                    REQUIRE(raw == v.group_mask(i, g));
                    REQUIRE(popcount(raw) == p.n);
                    // The stored positions: the kept ones, then explicit zeros at the lowest free
                    // positions (which may lie at or past K in a partial last group).
                    std::uint32_t want = 0, count = 0;
                    for (std::size_t j = 0; j < p.m; ++j) {
                        const std::size_t c = g * p.m + j;
                        if (c < cols && keep[i * cols + c]) want |= 1u << j, ++count;
                    }
                    for (std::size_t j = 0; j < p.m && count < p.n; ++j)
                        if (!(want & (1u << j))) want |= 1u << j, ++count;
                    CHECK(raw == want);
                    // Values in column order; fill slots hold zeros.
                    std::size_t slot = g * p.n;
                    for (std::size_t j = 0; j < p.m; ++j)
                        if (raw & (1u << j)) {
                            const std::size_t c = g * p.m + j;
                            const float expect = c < cols ? w(i, c) : 0.0f;
                            CHECK(v.row_values(i)[slot] == expect);
                            ++slot;
                        }
                }
        }
}

TEST_CASE("nm reports nnz, bytes and density exactly", "[nm][size]") {
    for (const auto p : patterns())
        for (std::size_t rows : {1, 7})
            for (std::size_t cols : nm_cols(p.m)) {
                CAPTURE(p.n, p.m, rows, cols);
                const test_matrix w(rows, cols);
                auto packed = sieve::nm_matrix<>::pack(w.view(), p);
                REQUIRE(packed.ok());
                const std::size_t groups = (cols + p.m - 1) / p.m;
                const std::size_t nnz = rows * groups * p.n;  // stored values, N per group
                const std::size_t meta_row_bytes =
                    (groups * p.m + 63) / 64 * 8;  // bits, padded to 8 bytes
                CHECK(packed->nnz() == nnz);
                CHECK(packed->bytes() == 4 * nnz + rows * meta_row_bytes);
                CHECK(packed->density() ==
                      static_cast<double>(nnz) / static_cast<double>(rows * cols));
            }
}

TEST_CASE("nm pack reads strided and unaligned sources", "[nm][pack][layout]") {
    const std::uint32_t seed = 306;
    CAPTURE(seed);
    rng r(seed);
    for (const auto p : patterns()) {
        CAPTURE(p.n, p.m);
        const test_matrix w = random_nm_matrix(r, 5, 3 * p.m + 1, p.n, p.m);
        for (layout l : {strided(1), strided(7), unaligned(), layout{3, 1}}) {
            CAPTURE(l.ld_pad, l.misalign);
            const test_matrix src = copy_with_layout(w, l);
            auto packed = sieve::nm_matrix<>::pack(src.view(), p);
            REQUIRE(packed.ok());
            require_unpacks_to(*packed, w);
            auto pruned = sieve::nm_matrix<>::pack(src.view(), p, sieve::selection::magnitude());
            INFO(pruned.message());
            REQUIRE(pruned.ok());  // a NaN sentinel read from the gap would be refused
            require_unpacks_to(*pruned, w);
        }
    }
}

TEST_CASE("nm validate accepts packed views and rejects corrupted copies", "[nm][validate]") {
    const std::uint32_t seed = 307;
    CAPTURE(seed);
    rng r(seed);
    const test_matrix w = random_nm_matrix(r, 3, 18, 2, 4);
    auto packed = sieve::nm_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    const auto good = packed->view();
    CHECK(sieve::validate(good).ok());
    std::vector<std::uint8_t> meta(good.meta, good.meta + good.rows * good.meta_ld);
    auto copy = good;
    copy.meta = meta.data();
    CHECK(sieve::validate(copy).ok());

    SECTION("a group mask with three positions") {
        const std::uint32_t bits = copy.group_mask(1, 2);
        std::uint32_t free_bit = 0;
        while (bits & (1u << free_bit)) ++free_bit;
        meta[1 * copy.meta_ld + 1] |=
            static_cast<std::uint8_t>(1u << free_bit);  // group 2 = low nibble of byte 1
        require_error(sieve::validate(copy), sieve::errc::corrupt_data, {"row 1", "group 2"});
    }
    SECTION("a group mask with one position") {
        meta[2 * copy.meta_ld + 0] = 0x81;  // row 2, groups 0 and 1: one bit each
        require_error(sieve::validate(copy), sieve::errc::corrupt_data, {"row 2", "group 0"});
    }
    SECTION("group count disagrees with the shape") {
        copy.groups += 1;
        require_error(sieve::validate(copy), sieve::errc::corrupt_data);
    }
    SECTION("value stride below N per group") {
        copy.values_ld -= 1;
        require_error(sieve::validate(copy), sieve::errc::corrupt_data);
    }
    SECTION("metadata stride too short for the groups") {
        copy.meta_ld = 0;
        require_error(sieve::validate(copy), sieve::errc::corrupt_data);
    }
    SECTION("null values") {
        copy.values = nullptr;
        require_error(sieve::validate(copy), sieve::errc::null_pointer);
    }
    SECTION("null metadata") {
        copy.meta = nullptr;
        require_error(sieve::validate(copy), sieve::errc::null_pointer);
    }
    SECTION("an unsupported pattern") {
        copy.pattern = {3, 5};
        require_error(sieve::validate(copy), sieve::errc::bad_argument, {"3:5"});
    }
    SECTION("a dimension of 2^31") {
        copy.cols = std::size_t{1} << 31;
        require_error(sieve::validate(copy), sieve::errc::index_overflow);
    }
}

// sieve pads each row's metadata to 8 bytes, but kernels read only the bytes a row's groups
// occupy: tightly packed metadata from a caller is valid and gives the same results.
TEST_CASE("nm gemv runs a view with tightly packed metadata like the padded one", "[nm][gemv][validate]") {
    SIEVE_ON_EACH_ISA();
    const test_matrix w(4, 8, {}, 1.0f);
    auto packed = sieve::nm_matrix<>::pack(w.view(), {2, 4}, sieve::selection::magnitude());
    REQUIRE(packed.ok());
    const auto v = packed->view();
    // Re-lay the metadata with 1 byte per row (2 groups of 4 bits): dense, not padded.
    std::vector<std::uint8_t> meta(v.rows);
    for (std::size_t i = 0; i < v.rows; ++i) meta[i] = v.meta[i * v.meta_ld];
    auto tight = v;
    tight.meta = meta.data();
    tight.meta_ld = 1;
    REQUIRE(sieve::validate(tight).ok());
    const std::vector<float> x = {1.5f, -2.0f, 0.25f, 3.0f, -1.0f, 0.5f, 2.0f, -0.75f};
    std::vector<float> expected(v.rows), got(v.rows);
    REQUIRE(sieve::gemv(v, x, expected).ok());
    REQUIRE(sieve::gemv(tight, x, got).ok());
    CHECK(expected == got);
}
