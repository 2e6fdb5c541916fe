// CSR format: packing (nonzeros, mask, magnitude), unpacking, the reported sizes and index
// width, strided/unaligned sources, and validate() on packed and corrupted views.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <sieve/sieve.hpp>
#include <vector>

#include "support/catch_sieve.hpp"
#include "support/formats.hpp"
#include "support/pruning.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

std::size_t count_nonzero(const test_matrix& w) {
    std::size_t n = 0;
    for (std::size_t r = 0; r < w.rows(); ++r)
        for (std::size_t c = 0; c < w.cols(); ++c) n += w(r, c) != 0.0f;
    return n;
}

std::vector<std::uint8_t> nonzero_mask(const test_matrix& w) {
    std::vector<std::uint8_t> m(w.size());
    for (std::size_t r = 0; r < w.rows(); ++r)
        for (std::size_t c = 0; c < w.cols(); ++c) m[r * w.cols() + c] = w(r, c) != 0.0f;
    return m;
}

std::vector<std::uint8_t> as_flags(const std::vector<std::uint8_t>& mask) {
    std::vector<std::uint8_t> f(mask.size());
    for (std::size_t i = 0; i < mask.size(); ++i) f[i] = mask[i] != 0;
    return f;
}

// An independent, editable copy of a packed CSR view's arrays.
struct csr_copy {
    std::vector<std::uint32_t> row_ptr;
    std::vector<std::uint32_t> cols32;
    std::vector<std::uint16_t> cols16;
    std::vector<float> values;
    sieve::csr_view<float> base;

    explicit csr_copy(const sieve::csr_view<float>& v) : base(v) {
        row_ptr.assign(v.row_ptr, v.row_ptr + v.rows + 1);
        for (std::size_t i = 0; i < v.nnz(); ++i) {
            cols32.push_back(v.col(i));
            cols16.push_back(static_cast<std::uint16_t>(v.col(i)));
        }
        values.assign(v.values, v.values + v.nnz());
    }
    sieve::csr_view<float> view() const {
        sieve::csr_view<float> v = base;
        v.row_ptr = row_ptr.data();
        v.col_index = v.width == sieve::index_width::u16 ? static_cast<const void*>(cols16.data())
                                                         : static_cast<const void*>(cols32.data());
        v.values = values.data();
        return v;
    }
    void set_col(std::size_t i, std::uint32_t c) {
        cols32[i] = c;
        cols16[i] = static_cast<std::uint16_t>(c);
    }
};

}  // namespace

TEST_CASE("csr pack/unpack round-trips random matrices", "[csr][pack]") {
    const std::uint32_t seed = 201;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes())
        for (double density : {0.0, 0.1, 0.5, 1.0}) {
            CAPTURE(shape.first, shape.second, density);
            const test_matrix w =
                random_matrix(r, shape.first, shape.second, {density, -2.0f, 2.0f, 0.25});
            auto packed = sieve::csr_matrix<>::pack(w.view());
            REQUIRE(packed.ok());
            CHECK(packed->nnz() == count_nonzero(w));
            CHECK(stored_positions(packed->view()) == nonzero_mask(w));
            require_unpacks_to(*packed, w);
        }
}

TEST_CASE("csr pack keeps NaN and Inf weights as nonzeros and drops -0", "[csr][pack]") {
    test_matrix w(2, 4);
    w(0, 1) = std::numeric_limits<float>::quiet_NaN();
    w(0, 3) = std::numeric_limits<float>::infinity();
    w(1, 0) = -std::numeric_limits<float>::infinity();
    w(1, 2) = -0.0f;
    auto packed = sieve::csr_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    CHECK(packed->nnz() == 3);
    w(1, 2) = 0.0f;
    require_unpacks_to(*packed, w);
}

TEST_CASE("csr pack from a mask stores exactly the masked positions, explicit zeros included",
          "[csr][pack][mask]") {
    const std::uint32_t seed = 202;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w =
            random_matrix(r, shape.first, shape.second, {0.6});  // zeros under the mask too
        const auto mask = random_mask(r, shape.first, shape.second, 0.5);
        auto packed = sieve::csr_matrix<>::pack(
            w.view(), sieve::selection::from_mask(mask_view(mask, shape.first, shape.second)));
        REQUIRE(packed.ok());
        CHECK(packed->nnz() == count_nonzero(mask));
        CHECK(stored_positions(packed->view()) == as_flags(mask));
        require_unpacks_to(*packed, masked(w, mask));
    }
}

TEST_CASE("csr magnitude pruning keeps exactly the largest weights per row and per matrix",
          "[csr][pack][magnitude]") {
    const std::uint32_t seed = 203;
    CAPTURE(seed);
    rng r(seed);
    for (auto scope : {sieve::prune_scope::per_row, sieve::prune_scope::per_matrix})
        for (double sparsity : {0.0, 0.3, 0.5, 0.9, 1.0})
            for (const auto& shape : format_shapes()) {
                CAPTURE(static_cast<int>(scope), sparsity, shape.first, shape.second);
                const test_matrix w =
                    random_matrix(r, shape.first, shape.second, {1.0, -3.0f, 3.0f});
                auto packed = sieve::csr_matrix<>::pack(
                    w.view(), sieve::selection::magnitude(sparsity, scope));
                REQUIRE(packed.ok());
                const auto keep = expected_element_keep(w, sparsity, scope);
                if (scope == sieve::prune_scope::per_matrix) {
                    CHECK(packed->nnz() == expected_kept(w.size(), sparsity));
                } else {
                    const auto v = packed->view();
                    for (std::size_t i = 0; i < v.rows; ++i)
                        CHECK(v.row_ptr[i + 1] - v.row_ptr[i] == expected_kept(w.cols(), sparsity));
                }
                CHECK(stored_positions(packed->view()) == keep);
                require_unpacks_to(*packed, masked(w, keep));
            }
}

TEST_CASE("csr magnitude pruning keeps zeros when it must and breaks ties toward the lower column",
          "[csr][pack][magnitude]") {
    // Row 0: four equal magnitudes, keep 2 -> columns 0 and 1. Row 1: one nonzero among
    // zeros, keep 2 -> the nonzero and the lowest zero (an explicit stored zero).
    test_matrix w(2, 4);
    w(0, 0) = 1;
    w(0, 1) = -1;
    w(0, 2) = 1;
    w(0, 3) = -1;
    w(1, 2) = 5;
    auto packed = sieve::csr_matrix<>::pack(w.view(), sieve::selection::magnitude(0.5));
    REQUIRE(packed.ok());
    const std::vector<std::uint8_t> want = {1, 1, 0, 0, 1, 0, 1, 0};
    CHECK(stored_positions(packed->view()) == want);
    CHECK(packed->nnz() == 4);
}

TEST_CASE("csr reports nnz, bytes and density exactly", "[csr][size]") {
    const std::uint32_t seed = 204;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes())
        for (double density : {0.0, 0.4, 1.0}) {
            const std::size_t m = shape.first, k = shape.second;
            CAPTURE(m, k, density);
            const test_matrix w = random_matrix(r, m, k, {density});
            auto packed = sieve::csr_matrix<>::pack(w.view());
            REQUIRE(packed.ok());
            const std::size_t nnz = count_nonzero(w);
            CHECK(packed->nnz() == nnz);
            CHECK(packed->width() == sieve::index_width::u16);
            CHECK(packed->bytes() == 4 * (m + 1) + 2 * nnz + 4 * nnz);
            CHECK(packed->density() == static_cast<double>(nnz) / static_cast<double>(m * k));
        }
}

TEST_CASE("csr uses 16-bit column indices up to K = 65536 and 32-bit from K = 65537",
          "[csr][size][index]") {
    for (std::size_t k : {std::size_t{65536}, std::size_t{65537}}) {
        CAPTURE(k);
        test_matrix w(2, k);
        w(0, 0) = 1.0f;
        w(0, k - 1) = 2.0f;  // the largest column index must survive the chosen width
        w(1, 12345) = 3.0f;
        auto packed = sieve::csr_matrix<>::pack(w.view());
        REQUIRE(packed.ok());
        const std::size_t width = k <= 65536 ? 2 : 4;
        CHECK(static_cast<std::size_t>(packed->width()) == width);
        CHECK(packed->view().width == packed->width());
        CHECK(packed->nnz() == 3);
        CHECK(packed->bytes() == 4 * 3 + width * 3 + 4 * 3);
        CHECK(packed->view().col(1) == k - 1);
        CHECK(sieve::validate(packed->view()).ok());
        require_unpacks_to(*packed, w);
    }
}

TEST_CASE("csr pack reads strided and unaligned sources", "[csr][pack][layout]") {
    const std::uint32_t seed = 205;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w = random_matrix(r, shape.first, shape.second, {0.5});
        for (layout l : {strided(1), strided(9), unaligned(), layout{4, 1}}) {
            CAPTURE(l.ld_pad, l.misalign);
            const test_matrix src = copy_with_layout(w, l);  // NaN sentinels in the row gaps
            auto packed = sieve::csr_matrix<>::pack(src.view());
            REQUIRE(packed.ok());
            CHECK(packed->nnz() == count_nonzero(w));
            require_unpacks_to(*packed, w);
        }
    }
}

TEST_CASE("csr validate accepts packed views and rejects corrupted copies", "[csr][validate]") {
    const std::uint32_t seed = 206;
    CAPTURE(seed);
    rng r(seed);
    test_matrix w = random_matrix(r, 4, 10, {0.6});
    w(0, 0) = 1.0f;                                                            // row 0 not empty
    for (std::size_t c = 0; c < 10; ++c) w(1, c) = static_cast<float>(c + 1);  // row 1 full
    auto packed = sieve::csr_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    CHECK(sieve::validate(packed->view()).ok());
    csr_copy copy(packed->view());
    CHECK(sieve::validate(copy.view()).ok());
    const std::size_t row1 = copy.row_ptr[1];  // first entry of row 1

    SECTION("row_ptr[0] is not 0") {
        copy.row_ptr[0] = 1;
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row_ptr"});
    }
    SECTION("row_ptr decreases") {
        copy.row_ptr[2] = copy.row_ptr[1] - 1;
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row 1"});
    }
    SECTION("a column index >= K") {
        copy.set_col(row1 + 9, 10);
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row 1", "10"});
    }
    SECTION("columns out of order") {
        copy.set_col(row1 + 3, 1);
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row 1"});
    }
    SECTION("a repeated column") {
        copy.set_col(row1 + 4, 3);
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row 1"});
    }
    SECTION("null row pointers") {
        auto v = copy.view();
        v.row_ptr = nullptr;
        require_error(sieve::validate(v), sieve::errc::null_pointer, {"row_ptr"});
    }
    SECTION("null values") {
        auto v = copy.view();
        v.values = nullptr;
        require_error(sieve::validate(v), sieve::errc::null_pointer);
    }
    SECTION("16-bit indices with more than 65536 columns") {
        auto v = copy.view();
        v.cols = 65537;
        require_error(sieve::validate(v), sieve::errc::index_overflow, {"65537"});
    }
    SECTION("a dimension of 2^31, refused before the arrays are read") {
        auto v = copy.view();
        v.rows = std::size_t{1} << 31;
        require_error(sieve::validate(v), sieve::errc::index_overflow);
    }
}
