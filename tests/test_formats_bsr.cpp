// BSR format, for every block shape we ship (1x4, 1x8, 1x16, 4x1, 8x1, 16x1, 4x4): packing
// (nonzeros, mask, block magnitude), unpacking with M and K not multiples of the block, the
// block layout bsr.hpp documents, the reported sizes and index width, and validate().
#include <catch2/catch.hpp>
#include <cstdint>
#include <sieve/sieve.hpp>
#include <vector>

#include "support/catch_sieve.hpp"
#include "support/formats.hpp"
#include "support/pruning.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

// Shapes around the block: one block, partial blocks on either side, several blocks.
template <std::size_t R, std::size_t C>
std::vector<std::pair<std::size_t, std::size_t>> bsr_shapes() {
    return {{1, 1},         {R, C},      {R + 1, C + 1}, {2 * R - 1, 3 * C - 1},
            {3 * R, 2 * C}, {R + 5, 40}, {37, 5 * C + 2}};
}

// Random values with whole blocks zeroed: each R x C block survives with `block_density`,
// and inside a surviving block each element is nonzero with `density`.
test_matrix random_block_sparse(rng& r, std::size_t rows, std::size_t cols, std::size_t br,
                                std::size_t bc, double block_density, double density) {
    test_matrix w = random_matrix(r, rows, cols, {density});
    for (std::size_t bi = 0; bi * br < rows; ++bi)
        for (std::size_t bj = 0; bj * bc < cols; ++bj)
            if (!r.bernoulli(block_density))
                for (std::size_t i = bi * br; i < rows && i < (bi + 1) * br; ++i)
                    for (std::size_t c = bj * bc; c < cols && c < (bj + 1) * bc; ++c)
                        w(i, c) = 0.0f;
    return w;
}

// Blocks holding at least one kept position, row-major over the block grid.
std::vector<std::uint8_t> blocks_touched(const std::vector<std::uint8_t>& keep, std::size_t rows,
                                         std::size_t cols, std::size_t br, std::size_t bc) {
    const std::size_t nbc = (cols + bc - 1) / bc;
    std::vector<std::uint8_t> out(((rows + br - 1) / br) * nbc, 0);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t c = 0; c < cols; ++c)
            if (keep[i * cols + c]) out[(i / br) * nbc + c / bc] = 1;
    return out;
}

std::vector<std::uint8_t> nonzero_mask(const test_matrix& w) {
    std::vector<std::uint8_t> m(w.size());
    for (std::size_t r = 0; r < w.rows(); ++r)
        for (std::size_t c = 0; c < w.cols(); ++c) m[r * w.cols() + c] = w(r, c) != 0.0f;
    return m;
}

// The stored block grid decoded from a view (row-major over the block grid).
template <std::size_t R, std::size_t C>
std::vector<std::uint8_t> stored_blocks(const sieve::bsr_view<float, R, C>& v) {
    std::vector<std::uint8_t> out(v.row_blocks * v.col_blocks, 0);
    for (std::size_t bi = 0; bi < v.row_blocks; ++bi)
        for (std::size_t i = v.block_row_ptr[bi]; i < v.block_row_ptr[bi + 1]; ++i)
            out[bi * v.col_blocks + v.col_block(i)] = 1;
    return out;
}

// An independent, editable copy of a packed BSR view's arrays.
template <std::size_t R, std::size_t C>
struct bsr_copy {
    std::vector<std::uint32_t> row_ptr;
    std::vector<std::uint32_t> cols32;
    std::vector<std::uint16_t> cols16;
    std::vector<float> values;
    sieve::bsr_view<float, R, C> base;

    explicit bsr_copy(const sieve::bsr_view<float, R, C>& v) : base(v) {
        row_ptr.assign(v.block_row_ptr, v.block_row_ptr + v.row_blocks + 1);
        for (std::size_t i = 0; i < v.nnz_blocks(); ++i) {
            cols32.push_back(v.col_block(i));
            cols16.push_back(static_cast<std::uint16_t>(v.col_block(i)));
        }
        values.assign(v.values, v.values + v.nnz_blocks() * R * C);
    }
    sieve::bsr_view<float, R, C> view() const {
        auto v = base;
        v.block_row_ptr = row_ptr.data();
        v.block_col = v.width == sieve::index_width::u16 ? static_cast<const void*>(cols16.data())
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

TEMPLATE_TEST_CASE("bsr pack/unpack round-trips block-sparse matrices with partial edge blocks",
                   "[bsr][pack]", SIEVE_TEST_BSR_SHAPES) {
    using matrix = typename TestType::matrix;
    constexpr std::size_t R = TestType::tile_m, C = TestType::tile_k;
    const std::uint32_t seed = 401;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : bsr_shapes<R, C>())
        for (double block_density : {0.0, 0.5, 1.0})
            for (double density : {0.3, 1.0}) {
                CAPTURE(shape.first, shape.second, block_density, density);
                const test_matrix w =
                    random_block_sparse(r, shape.first, shape.second, R, C, block_density, density);
                auto packed = matrix::pack(w.view());
                REQUIRE(packed.ok());
                const auto v = packed->view();
                REQUIRE(v.row_blocks == (shape.first + R - 1) / R);
                REQUIRE(v.col_blocks == (shape.second + C - 1) / C);
                CHECK(stored_blocks(v) ==
                      blocks_touched(nonzero_mask(w), w.rows(), w.cols(), R, C));
                CHECK(sieve::validate(v).ok());
                require_unpacks_to(*packed, w);
            }
}

TEMPLATE_TEST_CASE("bsr pack from a mask stores blocks holding a masked weight, zeros elsewhere",
                   "[bsr][pack][mask]", SIEVE_TEST_BSR_SHAPES) {
    using matrix = typename TestType::matrix;
    constexpr std::size_t R = TestType::tile_m, C = TestType::tile_k;
    const std::uint32_t seed = 402;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : bsr_shapes<R, C>()) {
        const std::size_t rows = shape.first, cols = shape.second;
        CAPTURE(rows, cols);
        const test_matrix w = random_matrix(r, rows, cols, {1.0});
        const auto mask = random_mask(r, rows, cols, 0.08);
        auto packed =
            matrix::pack(w.view(), sieve::selection::from_mask(mask_view(mask, rows, cols)));
        REQUIRE(packed.ok());
        CHECK(stored_blocks(packed->view()) == blocks_touched(mask, rows, cols, R, C));
        require_unpacks_to(*packed, masked(w, mask));
    }
}

TEMPLATE_TEST_CASE(
    "bsr block magnitude pruning keeps the right number of blocks, the largest by sum |w|",
    "[bsr][pack][magnitude]", SIEVE_TEST_BSR_SHAPES) {
    using matrix = typename TestType::matrix;
    constexpr std::size_t R = TestType::tile_m, C = TestType::tile_k;
    const std::uint32_t seed = 403;
    CAPTURE(seed);
    rng r(seed);
    for (auto scope : {sieve::prune_scope::per_row, sieve::prune_scope::per_matrix})
        for (double sparsity : {0.0, 0.5, 0.75, 1.0})
            for (const auto& shape : bsr_shapes<R, C>()) {
                const std::size_t rows = shape.first, cols = shape.second;
                CAPTURE(static_cast<int>(scope), sparsity, rows, cols);
                const test_matrix w = random_matrix(r, rows, cols, {1.0, -2.0f, 2.0f});
                auto packed = matrix::pack(w.view(), sieve::selection::magnitude(sparsity, scope));
                REQUIRE(packed.ok());
                const auto v = packed->view();
                if (scope == sieve::prune_scope::per_matrix) {
                    CHECK(packed->nnz_blocks() ==
                          expected_kept(v.row_blocks * v.col_blocks, sparsity));
                } else {
                    for (std::size_t bi = 0; bi < v.row_blocks; ++bi)
                        CHECK(v.block_row_ptr[bi + 1] - v.block_row_ptr[bi] ==
                              expected_kept(v.col_blocks, sparsity));
                }
                const auto keep = expected_block_keep(w, R, C, sparsity, scope);
                CHECK(stored_blocks(v) == blocks_touched(keep, rows, cols, R, C));
                require_unpacks_to(*packed, masked(w, keep));
            }
}

TEMPLATE_TEST_CASE("bsr reports nnz, block count, bytes and density exactly", "[bsr][size]",
                   SIEVE_TEST_BSR_SHAPES) {
    using matrix = typename TestType::matrix;
    constexpr std::size_t R = TestType::tile_m, C = TestType::tile_k;
    const std::uint32_t seed = 404;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : bsr_shapes<R, C>()) {
        const std::size_t rows = shape.first, cols = shape.second;
        CAPTURE(rows, cols);
        const test_matrix w = random_block_sparse(r, rows, cols, R, C, 0.5, 0.5);
        auto packed = matrix::pack(w.view());
        REQUIRE(packed.ok());
        const auto touched = blocks_touched(nonzero_mask(w), rows, cols, R, C);
        const std::size_t nnzb = count_nonzero(touched);
        const std::size_t row_blocks = (rows + R - 1) / R;
        CHECK(packed->nnz_blocks() == nnzb);
        CHECK(packed->nnz() == nnzb * R * C);  // stored values, edge padding included
        CHECK(packed->bytes() == 4 * (row_blocks + 1) + 2 * nnzb + 4 * nnzb * R * C);
        CHECK(packed->density() ==
              static_cast<double>(nnzb * R * C) / static_cast<double>(rows * cols));
    }
}

TEMPLATE_TEST_CASE("bsr uses 16-bit block columns up to 65536 block columns and 32-bit beyond",
                   "[bsr][size][index]", SIEVE_TEST_BSR_SHAPES) {
    using matrix = typename TestType::matrix;
    constexpr std::size_t R = TestType::tile_m, C = TestType::tile_k;
    for (std::size_t cols : {C * 65536, C * 65536 + 1}) {
        CAPTURE(cols);
        test_matrix w(1, cols);
        w(0, 0) = 1.0f;
        w(0, cols - 1) = 2.0f;  // the last block column must survive the chosen width
        auto packed = matrix::pack(w.view());
        REQUIRE(packed.ok());
        const auto v = packed->view();
        const std::size_t width = v.col_blocks <= 65536 ? 2 : 4;
        CHECK(static_cast<std::size_t>(v.width) == width);
        CHECK(packed->nnz_blocks() == 2);
        CHECK(v.col_block(1) == v.col_blocks - 1);
        CHECK(packed->bytes() == 4 * 2 + width * 2 + 4 * 2 * R * C);
        CHECK(sieve::validate(v).ok());
        require_unpacks_to(*packed, w);
    }
}

TEMPLATE_TEST_CASE("bsr pack reads strided and unaligned sources", "[bsr][pack][layout]",
                   SIEVE_TEST_BSR_SHAPES) {
    using matrix = typename TestType::matrix;
    constexpr std::size_t R = TestType::tile_m, C = TestType::tile_k;
    const std::uint32_t seed = 405;
    CAPTURE(seed);
    rng r(seed);
    for (const auto& shape : bsr_shapes<R, C>()) {
        CAPTURE(shape.first, shape.second);
        const test_matrix w = random_block_sparse(r, shape.first, shape.second, R, C, 0.5, 0.7);
        for (layout l : {strided(1), strided(C + 3), unaligned(), layout{2, 1}}) {
            CAPTURE(l.ld_pad, l.misalign);
            const test_matrix src = copy_with_layout(w, l);
            auto packed = matrix::pack(src.view());
            REQUIRE(packed.ok());
            require_unpacks_to(*packed, w);
            auto pruned = matrix::pack(src.view(), sieve::selection::magnitude(0.5));
            INFO(pruned.message());
            REQUIRE(pruned.ok());  // a NaN sentinel read from the gap would be refused
        }
    }
}

TEMPLATE_TEST_CASE("bsr blocks are row-major R x C tiles, zero-padded past M and K",
                   "[bsr][layout]", SIEVE_TEST_BSR_SHAPES) {
    using matrix = typename TestType::matrix;
    constexpr std::size_t R = TestType::tile_m, C = TestType::tile_k;
    const std::uint32_t seed = 406;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t rows = 2 * R + 1, cols = 2 * C + 1;
    const test_matrix w = random_matrix(r, rows, cols, {1.0});
    auto packed = matrix::pack(w.view());
    REQUIRE(packed.ok());
    const auto v = packed->view();
    REQUIRE(packed->nnz_blocks() == 9);
    for (std::size_t bi = 0; bi < 3; ++bi)
        for (std::size_t i = v.block_row_ptr[bi]; i < v.block_row_ptr[bi + 1]; ++i) {
            const std::size_t bj = v.col_block(i);
            CHECK(bj == i - v.block_row_ptr[bi]);
            for (std::size_t rr = 0; rr < R; ++rr)
                for (std::size_t cc = 0; cc < C; ++cc) {
                    const std::size_t row = bi * R + rr, col = bj * C + cc;
                    const float want = row < rows && col < cols ? w(row, col) : 0.0f;
                    CAPTURE(bi, bj, rr, cc);
                    CHECK(v.block(i)[rr * C + cc] == want);
                }
        }
}

TEMPLATE_TEST_CASE("bsr validate accepts packed views and rejects corrupted copies",
                   "[bsr][validate]", SIEVE_TEST_BSR_SHAPES) {
    using matrix = typename TestType::matrix;
    constexpr std::size_t R = TestType::tile_m, C = TestType::tile_k;
    const test_matrix w(3 * R, 4 * C, {}, 1.0f);  // every block stored
    auto packed = matrix::pack(w.view());
    REQUIRE(packed.ok());
    CHECK(sieve::validate(packed->view()).ok());
    bsr_copy<R, C> copy(packed->view());
    CHECK(sieve::validate(copy.view()).ok());
    // Block row 1 holds entries 4..7 (block columns 0..3).

    SECTION("a block column out of range") {
        copy.set_col(7, 4);
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data,
                      {"block row 1", "4"});
    }
    SECTION("block columns out of order") {
        copy.set_col(5, 0);
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"block row 1"});
    }
    SECTION("block_row_ptr decreases") {
        copy.row_ptr[2] = 3;
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data, {"block row 1"});
    }
    SECTION("block_row_ptr[0] is not 0") {
        copy.row_ptr[0] = 1;
        require_error(sieve::validate(copy.view()), sieve::errc::corrupt_data);
    }
    SECTION("block counts disagree with the shape") {
        auto v = copy.view();
        v.col_blocks += 1;
        require_error(sieve::validate(v), sieve::errc::corrupt_data);
    }
    SECTION("null block row pointers") {
        auto v = copy.view();
        v.block_row_ptr = nullptr;
        require_error(sieve::validate(v), sieve::errc::null_pointer);
    }
    SECTION("null values") {
        auto v = copy.view();
        v.values = nullptr;
        require_error(sieve::validate(v), sieve::errc::null_pointer);
    }
    SECTION("16-bit indices with more than 65536 block columns") {
        auto v = copy.view();
        v.cols = C * 65536 + 1;
        v.col_blocks = 65537;
        require_error(sieve::validate(v), sieve::errc::index_overflow);
    }
    SECTION("a dimension of 2^31") {
        auto v = copy.view();
        v.rows = std::size_t{1} << 31;
        require_error(sieve::validate(v), sieve::errc::index_overflow);
    }
}
