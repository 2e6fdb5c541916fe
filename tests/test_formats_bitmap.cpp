// Bitmap format: packing (nonzeros, mask, magnitude), unpacking, the mask layout (one bit
// per position, rows on whole 64-bit words, nothing past K), the reported sizes,
// strided/unaligned sources, and validate() on packed and corrupted views.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <sieve/sieve.hpp>
#include <vector>

#include "support/catch_sieve.hpp"
#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/ops_check.hpp"
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

// An independent, editable copy of a packed bitmap view's arrays.
struct bitmap_copy {
    std::vector<std::uint64_t> mask;
    std::vector<std::uint32_t> row_ptr;
    std::vector<float> values;
    sieve::bitmap_view<float> base;

    explicit bitmap_copy(const sieve::bitmap_view<float>& v) : base(v) {
        mask.assign(v.mask, v.mask + v.rows * v.words);
        row_ptr.assign(v.row_ptr, v.row_ptr + v.rows + 1);
        values.assign(v.values, v.values + v.nnz());
        values.resize(values.size() + 16);  // the padding kernels may read (not read here)
    }
    sieve::bitmap_view<float> view() const {
        sieve::bitmap_view<float> v = base;
        v.mask = mask.data();
        v.row_ptr = row_ptr.data();
        v.values = values.data();
        return v;
    }
};

}  // namespace

TEST_CASE("bitmap pack/unpack round-trips random matrices", "[bitmap][pack]") {
    const std::uint32_t seed = 301;
    CAPTURE(seed);
    rng r(seed);
    auto shapes = format_shapes();
    shapes.push_back({3, 64});
    shapes.push_back({2, 128});
    shapes.push_back({5, 129});
    for (const auto& shape : shapes)
        for (double density : {0.0, 0.1, 0.5, 1.0}) {
            CAPTURE(shape.first, shape.second, density);
            const test_matrix w = random_matrix(r, shape.first, shape.second, {density, -2.0f, 2.0f, 0.25});
            auto packed = sieve::bitmap_matrix<>::pack(w.view());
            REQUIRE(packed.ok());
            CHECK(packed->nnz() == count_nonzero(w));
            CHECK(stored_positions(packed->view()) == nonzero_mask(w));
            CHECK(sieve::validate(packed->view()).ok());
            require_unpacks_to(*packed, w);
        }
}

TEST_CASE("bitmap stores row r's position c at bit c % 64 of word c / 64 and values in order",
          "[bitmap][pack][layout]") {
    test_matrix w(2, 130);
    w(0, 0) = 1.0f;
    w(0, 63) = 2.0f;
    w(0, 64) = 3.0f;
    w(0, 129) = 4.0f;
    w(1, 5) = 5.0f;
    auto packed = sieve::bitmap_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    const auto v = packed->view();
    REQUIRE(v.words == 3);
    CHECK(v.mask[0] == ((std::uint64_t{1} << 63) | 1u));
    CHECK(v.mask[1] == 1u);
    CHECK(v.mask[2] == 2u);
    CHECK(v.mask[3] == (std::uint64_t{1} << 5));
    CHECK(v.mask[4] == 0u);
    CHECK(v.mask[5] == 0u);
    CHECK(v.row_ptr[0] == 0);
    CHECK(v.row_ptr[1] == 4);
    CHECK(v.row_ptr[2] == 5);
    const std::vector<float> values(v.values, v.values + 5), want = {1, 2, 3, 4, 5};
    CHECK(values == want);
    CHECK(v.row_values(1)[0] == 5.0f);
    CHECK(v.kept(0, 129));
    CHECK_FALSE(v.kept(0, 128));
}

TEST_CASE("bitmap pack keeps NaN and Inf weights as nonzeros and drops -0", "[bitmap][pack]") {
    test_matrix w(2, 4);
    w(0, 1) = std::numeric_limits<float>::quiet_NaN();
    w(0, 3) = std::numeric_limits<float>::infinity();
    w(1, 0) = -std::numeric_limits<float>::infinity();
    w(1, 2) = -0.0f;
    auto packed = sieve::bitmap_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    CHECK(packed->nnz() == 3);
    w(1, 2) = 0.0f;
    require_unpacks_to(*packed, w);
}

TEST_CASE("bitmap pack from a mask stores exactly the masked positions, explicit zeros included",
          "[bitmap][pack][mask]") {
    const std::uint32_t seed = 302;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w = random_matrix(r, shape.first, shape.second, {0.6});  // zeros under the mask too
        const auto mask = random_mask(r, shape.first, shape.second, 0.5);
        auto packed = sieve::bitmap_matrix<>::pack(
            w.view(), sieve::selection::from_mask(mask_view(mask, shape.first, shape.second)));
        REQUIRE(packed.ok());
        CHECK(packed->nnz() == count_nonzero(mask));
        CHECK(stored_positions(packed->view()) == as_flags(mask));
        require_unpacks_to(*packed, masked(w, mask));
    }
}

TEST_CASE("bitmap magnitude pruning keeps exactly the largest weights per row and per matrix",
          "[bitmap][pack][magnitude]") {
    const std::uint32_t seed = 303;
    CAPTURE(seed);
    rng r(seed);
    for (auto scope : {sieve::prune_scope::per_row, sieve::prune_scope::per_matrix})
        for (double sparsity : {0.0, 0.3, 0.5, 0.9, 1.0})
            for (const auto& shape : format_shapes()) {
                CAPTURE(static_cast<int>(scope), sparsity, shape.first, shape.second);
                const test_matrix w = random_matrix(r, shape.first, shape.second, {1.0, -3.0f, 3.0f});
                auto packed = sieve::bitmap_matrix<>::pack(w.view(), sieve::selection::magnitude(sparsity, scope));
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

TEST_CASE("bitmap packs what CSR packs: the same positions and values", "[bitmap][pack]") {
    const std::uint32_t seed = 304;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w = random_matrix(r, shape.first, shape.second, {1.0, -1.0f, 1.0f});
        const auto how = sieve::selection::magnitude(0.6, sieve::prune_scope::per_matrix);
        auto b = sieve::bitmap_matrix<>::pack(w.view(), how);
        auto c = sieve::csr_matrix<>::pack(w.view(), how);
        REQUIRE(b.ok());
        REQUIRE(c.ok());
        CHECK(stored_positions(b->view()) == stored_positions(c->view()));
        const std::vector<float> bv(b->view().values, b->view().values + b->nnz()),
            cv(c->view().values, c->view().values + c->nnz());
        CHECK(bv == cv);
    }
}

TEST_CASE("bitmap reports nnz, bytes and density exactly", "[bitmap][size]") {
    const std::uint32_t seed = 305;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes())
        for (double density : {0.0, 0.4, 1.0}) {
            const std::size_t m = shape.first, k = shape.second;
            CAPTURE(m, k, density);
            const test_matrix w = random_matrix(r, m, k, {density});
            auto packed = sieve::bitmap_matrix<>::pack(w.view());
            REQUIRE(packed.ok());
            const std::size_t nnz = count_nonzero(w), words = (k + 63) / 64;
            CHECK(packed->nnz() == nnz);
            CHECK(packed->view().words == words);
            CHECK(packed->bytes() == 8 * m * words + 4 * (m + 1) + 4 * nnz);
            CHECK(packed->density() == static_cast<double>(nnz) / static_cast<double>(m * k));
        }
    // The int8 form: one byte per value plus a scale per row, the same mask and offsets.
    const test_matrix w = random_matrix(r, 8, 200, {0.5});
    auto packed = sieve::bitmap_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    auto w8 = sieve::quantize(*packed);
    REQUIRE(w8.ok());
    CHECK(w8->bytes() == 8 * 8 * 4 + 4 * 9 + packed->nnz() + 4 * 8);
    CHECK(sieve::validate(w8->view()).ok());
}

TEST_CASE("bitmap packs empty shapes", "[bitmap][pack][edge]") {
    for (const auto& shape : {std::pair<std::size_t, std::size_t>{0, 5}, {3, 0}, {0, 0}}) {
        CAPTURE(shape.first, shape.second);
        test_matrix w(shape.first, shape.second);
        auto packed = sieve::bitmap_matrix<>::pack(w.view());
        REQUIRE(packed.ok());
        CHECK(packed->nnz() == 0);
        CHECK(packed->density() == 0.0);
        CHECK(sieve::validate(packed->view()).ok());
        require_unpacks_to(*packed, w);
    }
}

TEST_CASE("bitmap pack reads strided and unaligned sources", "[bitmap][pack][layout]") {
    const std::uint32_t seed = 306;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w = random_matrix(r, shape.first, shape.second, {0.5});
        for (layout l : {strided(1), strided(9), unaligned(), layout{4, 1}}) {
            CAPTURE(l.ld_pad, l.misalign);
            const test_matrix src = copy_with_layout(w, l);  // NaN sentinels in the row gaps
            auto packed = sieve::bitmap_matrix<>::pack(src.view());
            REQUIRE(packed.ok());
            CHECK(packed->nnz() == count_nonzero(w));
            require_unpacks_to(*packed, w);
        }
    }
}

TEST_CASE("bitmap validate accepts packed views and rejects corrupted copies", "[bitmap][validate]") {
    const std::uint32_t seed = 307;
    CAPTURE(seed);
    rng r(seed);
    test_matrix w = random_matrix(r, 4, 70, {0.6});
    w(0, 0) = 1.0f;                                                            // row 0 not empty
    for (std::size_t c = 0; c < 70; ++c) w(1, c) = static_cast<float>(c + 1);  // row 1 full
    auto packed = sieve::bitmap_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    CHECK(sieve::validate(packed->view()).ok());
    bitmap_copy copy(packed->view());
    CHECK(sieve::validate(copy.view()).ok());

    SECTION("row_ptr[0] is not 0") {
        copy.row_ptr[0] = 1;
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row_ptr"});
    }
    SECTION("row_ptr decreases") {
        copy.row_ptr[2] = copy.row_ptr[1] - 1;
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row 1"});
    }
    SECTION("a row's mask has more bits than the row has values") {
        copy.mask[2 * 2] |= ~copy.mask[2 * 2] & (copy.mask[2 * 2] + 1);  // its lowest clear bit set
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row 2"});
    }
    SECTION("a row's mask has fewer bits than the row has values") {
        copy.mask[1 * 2] &= copy.mask[1 * 2] - 1;  // row 1 loses its lowest position
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row 1"});
    }
    SECTION("a bit set past K") {
        copy.mask[3 * 2 + 1] |= std::uint64_t{1} << (70 - 64);  // column 70 of row 3
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"row 3", "70"});
    }
    SECTION("words per row disagree with K") {
        auto v = copy.view();
        v.words = 1;
        require_error(sieve::validate(v), sieve::errc::corrupt_data, {"mask words"});
    }
    SECTION("null row pointers") {
        auto v = copy.view();
        v.row_ptr = nullptr;
        require_error(sieve::validate(v), sieve::errc::null_pointer, {"row_ptr"});
    }
    SECTION("null mask") {
        auto v = copy.view();
        v.mask = nullptr;
        require_error(sieve::validate(v), sieve::errc::null_pointer, {"mask"});
    }
    SECTION("null values") {
        auto v = copy.view();
        v.values = nullptr;
        require_error(sieve::validate(v), sieve::errc::null_pointer, {"values"});
    }
    SECTION("a dimension of 2^31, refused before the arrays are read") {
        auto v = copy.view();
        v.rows = std::size_t{1} << 31;
        require_error(sieve::validate(v), sieve::errc::index_overflow);
    }
}

TEST_CASE("bitmap gemv and gemm refuse a view whose mask stride disagrees with K", "[bitmap][gemv][gemm][errors]") {
    rng r(308);
    const test_matrix w = random_matrix(r, 3, 65, {0.5});
    auto packed = sieve::bitmap_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    auto v = packed->view();
    v.words = 1;
    std::vector<float> x(65, 1.0f), y(3, 0.0f), ys(2 * 3, 0.0f);
    require_error(sieve::gemv(v, {x.data(), 65}, {y.data(), 3}), sieve::errc::corrupt_data, {"mask words"});
    require_error(sieve::gemm(v, {x.data(), 1, 65}, {ys.data(), 1, 3}), sieve::errc::corrupt_data, {"mask words"});
}

// The AVX2 fp32 GEMV packs x in blocks of 512 positions, two rows at a time (leftover rows
// one at a time): rows longer than a block, blocks cut short by K, blocks holding exactly a
// whole number of vectors (density 1) or none (density 0), row counts off the pairs and
// the 8-row result vectors, and NaN / Inf in x that only kept positions may pass on.
TEST_CASE("bitmap gemv over rows of several packing blocks matches the reference on every ISA",
          "[bitmap][gemv][edge]") {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 309;
    CAPTURE(seed);
    rng r(seed);
    const double densities[] = {0.0, 0.05, 0.5, 1.0};
    std::size_t i = 0;
    for (std::size_t k : {511, 512, 513, 1100, 1600})
        for (std::size_t m : {1, 3, 9, 18}) {
            const double density = densities[i % 4];
            CAPTURE(k, m, density);
            const auto w = pack_weights<bitmap>(random_matrix(r, m, k, {density}), false);
            test_matrix x = random_vector(r, k);
            if (i % 2 == 1) sprinkle_non_finite(x, r, 3);
            run_options o;
            o.epilogue = &epilogue_cases()[i++ % 2];  // plain, bias
            check_gemv(w, x, r, o);
        }
}
