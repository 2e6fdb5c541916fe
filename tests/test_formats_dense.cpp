// Dense format: packing (nonzeros, mask, magnitude), unpacking, the reported sizes, the
// padded row layout dense.hpp documents, and validate().
#include <catch2/catch.hpp>
#include <cstring>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sieve/sieve.hpp>
#include <vector>

#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/pruning.hpp"
#include "support/random.hpp"

using namespace sieve_test;

TEST_CASE("dense pack/unpack round-trips random matrices", "[dense][pack]") {
    const std::uint32_t seed = 101;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes())
        for (double density : {0.0, 0.3, 1.0}) {
            CAPTURE(shape.first, shape.second, density);
            const test_matrix w =
                random_matrix(r, shape.first, shape.second, {density, -2.0f, 2.0f, 0.2});
            auto packed = sieve::dense_matrix<>::pack(w.view());
            REQUIRE(packed.ok());
            require_unpacks_to(*packed, w);
        }
}

TEST_CASE("dense pack keeps NaN and Inf weights bit for bit and drops -0", "[dense][pack]") {
    test_matrix w(2, 3);
    w(0, 0) = std::numeric_limits<float>::quiet_NaN();
    w(0, 2) = std::numeric_limits<float>::infinity();
    w(1, 1) = -std::numeric_limits<float>::infinity();
    auto packed = sieve::dense_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    require_unpacks_to(*packed, w);

    // -0 compares equal to 0: it is not a kept weight and comes back as +0.
    w(1, 2) = -0.0f;
    auto signed_zero = sieve::dense_matrix<>::pack(w.view());
    REQUIRE(signed_zero.ok());
    w(1, 2) = 0.0f;
    require_unpacks_to(*signed_zero, w);
}

TEST_CASE("dense pack from a mask keeps W where the mask is set and 0 elsewhere",
          "[dense][pack][mask]") {
    const std::uint32_t seed = 102;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w = random_matrix(r, shape.first, shape.second, {0.8});
        const auto mask = random_mask(r, shape.first, shape.second, 0.5);
        auto packed = sieve::dense_matrix<>::pack(
            w.view(), sieve::selection::from_mask(mask_view(mask, shape.first, shape.second)));
        REQUIRE(packed.ok());
        require_unpacks_to(*packed, masked(w, mask));
    }
}

TEST_CASE("dense magnitude pruning keeps exactly the largest weights per row and per matrix",
          "[dense][pack][magnitude]") {
    const std::uint32_t seed = 103;
    CAPTURE(seed);
    rng r(seed);
    for (auto scope : {sieve::prune_scope::per_row, sieve::prune_scope::per_matrix})
        for (double sparsity : {0.0, 0.25, 0.5, 0.7, 1.0})
            for (const auto& shape : format_shapes()) {
                CAPTURE(static_cast<int>(scope), sparsity, shape.first, shape.second);
                const test_matrix w =
                    random_matrix(r, shape.first, shape.second, {1.0, -3.0f, 3.0f});
                auto packed = sieve::dense_matrix<>::pack(
                    w.view(), sieve::selection::magnitude(sparsity, scope));
                REQUIRE(packed.ok());
                const auto keep = expected_element_keep(w, sparsity, scope);
                require_unpacks_to(*packed, masked(w, keep));
                // The source has no zeros, so the kept count is visible in the unpacked matrix.
                const test_matrix got = unpack_to_test(*packed);
                std::size_t total = 0;
                for (std::size_t i = 0; i < got.rows(); ++i) {
                    std::size_t kept = 0;
                    for (std::size_t c = 0; c < got.cols(); ++c) kept += got(i, c) != 0.0f;
                    if (scope == sieve::prune_scope::per_row)
                        REQUIRE(kept == expected_kept(got.cols(), sparsity));
                    total += kept;
                }
                if (scope == sieve::prune_scope::per_matrix)
                    REQUIRE(total == expected_kept(w.size(), sparsity));
            }
}

TEST_CASE("dense magnitude pruning breaks ties toward the lower column",
          "[dense][pack][magnitude]") {
    test_matrix w(2, 6);
    const float row0[] = {1, -1, 1, -1, 1, -1};
    const float row1[] = {0.5f, 2, -0.5f, 2, 0.5f, -2};
    for (std::size_t c = 0; c < 6; ++c) {
        w(0, c) = row0[c];
        w(1, c) = row1[c];
    }
    auto packed = sieve::dense_matrix<>::pack(w.view(), sieve::selection::magnitude(0.5));
    REQUIRE(packed.ok());
    const test_matrix got = unpack_to_test(*packed);
    const float want0[] = {1, -1, 1, 0, 0, 0};
    const float want1[] = {0, 2, 0, 2, 0, -2};
    for (std::size_t c = 0; c < 6; ++c) {
        CAPTURE(c);
        CHECK(got(0, c) == want0[c]);
        CHECK(got(1, c) == want1[c]);
    }
}

TEST_CASE("dense reports nnz, bytes and density exactly", "[dense][size]") {
    for (const auto& shape : format_shapes()) {
        const std::size_t m = shape.first, k = shape.second;
        CAPTURE(m, k);
        const test_matrix w(m, k);  // all zeros: dense stores every position anyway
        auto packed = sieve::dense_matrix<>::pack(w.view());
        REQUIRE(packed.ok());
        const std::size_t padded_k = (k + 15) / 16 * 16;
        CHECK(packed->rows() == m);
        CHECK(packed->cols() == k);
        CHECK(packed->nnz() == m * k);
        CHECK(packed->bytes() == 4 * m * padded_k);
        CHECK(packed->density() == 1.0);
    }
    const test_matrix empty(0, 5);
    auto packed = sieve::dense_matrix<>::pack(empty.view());
    REQUIRE(packed.ok());
    CHECK(packed->nnz() == 0);
    CHECK(packed->bytes() == 0);
    CHECK(packed->density() == 0.0);
}

TEST_CASE("dense pack reads strided and unaligned sources", "[dense][pack][layout]") {
    const std::uint32_t seed = 104;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w = random_matrix(r, shape.first, shape.second, {0.5});
        for (layout l : {strided(3), strided(16), unaligned(), layout{7, 1}}) {
            CAPTURE(l.ld_pad, l.misalign);
            const test_matrix src = copy_with_layout(w, l);  // NaN sentinels in the row gaps
            auto packed = sieve::dense_matrix<>::pack(src.view());
            REQUIRE(packed.ok());
            require_unpacks_to(*packed, w);
            auto pruned = sieve::dense_matrix<>::pack(src.view(), sieve::selection::magnitude(0.5));
            INFO(pruned.message());
            REQUIRE(pruned.ok());  // a NaN read from the gap would be refused as non_finite
        }
    }
}

TEST_CASE("dense view rows are 64-byte aligned and zero-padded to a multiple of 16",
          "[dense][layout]") {
    const std::uint32_t seed = 105;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : format_shapes()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w = random_matrix(r, shape.first, shape.second, {1.0});
        auto packed = sieve::dense_matrix<>::pack(w.view());
        REQUIRE(packed.ok());
        const auto v = packed->view();
        REQUIRE(v.ld % 16 == 0);
        REQUIRE(v.ld >= v.cols);
        REQUIRE(v.ld < v.cols + 16);
        for (std::size_t i = 0; i < v.rows; ++i) {
            CHECK(reinterpret_cast<std::uintptr_t>(v.row(i)) % 64 == 0);
            for (std::size_t c = v.cols; c < v.ld; ++c) CHECK(v.row(i)[c] == 0.0f);
        }
    }
}

TEST_CASE("dense validate accepts packed views and rejects corrupted copies", "[dense][validate]") {
    test_matrix w(3, 20, {}, 1.0f);
    auto packed = sieve::dense_matrix<>::pack(w.view());
    REQUIRE(packed.ok());
    const sieve::dense_view<float> good = packed->view();
    CHECK(sieve::validate(good).ok());

    SECTION("ld below the row length") {
        auto v = good;
        v.ld = 19;
        CHECK(sieve::validate(v).code() == sieve::errc::bad_stride);
    }
    SECTION("null values") {
        auto v = good;
        v.values = nullptr;
        CHECK(sieve::validate(v).code() == sieve::errc::null_pointer);
    }
    SECTION("a dimension of 2^31") {
        auto v = good;
        v.rows = std::size_t{1} << 31;
        CHECK(sieve::validate(v).code() == sieve::errc::index_overflow);
    }
}

// Kernels never rely on the padding dense_matrix adds: a view over a caller's own rows (any
// ld, any alignment) runs as is, and bit for bit as the packed copy does.
TEST_CASE("dense gemv runs a caller's view with any ld and alignment like the packed matrix",
          "[dense][gemv][validate]") {
    SIEVE_ON_EACH_ISA();
    const std::size_t rows = 5, cols = 21, ld = 23;
    std::vector<float> storage(1 + rows * ld, std::numeric_limits<float>::quiet_NaN());
    std::vector<float> x(cols), expected(rows), got(rows);
    for (std::size_t k = 0; k < cols; ++k) x[k] = 0.25f * static_cast<float>(k % 7) - 0.5f;
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) storage[1 + r * ld + c] = static_cast<float>((r * 31 + c * 7) % 13) - 6.0f;
    const sieve::matrix_view<const float> w(storage.data() + 1, rows, cols, ld);
    auto packed = sieve::dense_matrix<>::pack(w);
    REQUIRE(packed.ok());
    sieve::dense_view<float> foreign;
    foreign.values = storage.data() + 1;  // 4 bytes past an allocation boundary: misaligned
    foreign.rows = rows;
    foreign.cols = cols;
    foreign.ld = ld;  // not a multiple of 16; the gap holds NaN that must never be read
    REQUIRE(sieve::validate(foreign).ok());
    REQUIRE(sieve::gemv(*packed, x, expected).ok());
    REQUIRE(sieve::gemv(foreign, x, got).ok());
    CHECK(std::memcmp(expected.data(), got.data(), rows * sizeof(float)) == 0);
}
