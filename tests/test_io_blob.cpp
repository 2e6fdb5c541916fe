// The blob container (io/): every format and dtype saved and loaded, zero-copy and owning,
// runs bitwise like the matrix it was saved from on every ISA path; every corruption the
// loader documents is refused with its own error; every truncation and random single-byte
// flips are refused or give a usable matrix; several matrices in one blob, found by name.
#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <sieve/sieve.hpp>
#include <string>
#include <vector>

#include "firmware/golden_blob.hpp"
#include "support/blob.hpp"
#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/random.hpp"

using namespace sieve_test;
namespace io = sieve::io;

namespace {

// Channel-pruned traits beside those of support/formats.hpp.
struct channel {
    using matrix = sieve::channel_pruned_matrix<float>;
    static constexpr std::size_t tile_m = 1, tile_k = 16;
    static constexpr bool sparsity_target = true;
    static sieve::result<matrix> pack(sieve::matrix_view<const float> w, bool prune) {
        return matrix::pack(w, prune ? sieve::selection::magnitude(0.5) : sieve::selection::nonzeros());
    }
};
using channel_i8_row = int8<channel, 0>;
using channel_i8_g32 = int8<channel, 32>;
using bsr_3x5 = bsr<3, 5>;  // a shape outside the runtime-dispatch list: the reference path
using bsr_3x5_i8_row = int8<bsr_3x5, 0>;

// Shapes with K = 1, M = 1, an empty matrix, and a K past every vector width and group.
struct shape_case {
    std::size_t m, k;
    fill_spec fill;
};
const std::vector<shape_case>& round_trip_shapes() {
    static const std::vector<shape_case> shapes = {
        {1, 1, {1.0}},  {1, 37, {0.5}},         {9, 1, {0.7}},         {6, 20, {0.6, -1.0f, 1.0f, 0.4}},
        {5, 33, {0.0}}, {17, 70, {0.3, -2.0f, 2.0f, 0.2}}, {0, 5, {1.0}}, {4, 0, {1.0}},
    };
    return shapes;
}

template <class Matrix>
sieve::aligned_buffer<std::byte> blob_of(const char* name, const Matrix& m) {
    io::blob_writer w;
    const sieve::status s = w.add(name, m);
    INFO(s.message());
    REQUIRE(s.ok());
    auto bytes = w.to_bytes();
    INFO(bytes.message());
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() == w.serialized_size());
    return std::move(*bytes);
}

// A file name for this test case and process: ctest runs test cases in parallel, and
// tools/check-emulated.sh runs the whole binary twice at once in the same directory.
std::string temp_path() {
    static const std::string process_tag = std::to_string(std::random_device{}());
    std::string name = "sieve_io_" + Catch::getResultCapture().getCurrentTestName() + "_" + process_tag + ".blob";
    for (char& c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_')) c = '_';
    return name;
}

// True when [p, p + bytes) lies inside the blob.
bool inside(const void* p, std::size_t bytes, const sieve::aligned_buffer<std::byte>& blob) {
    const auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(blob.data());
    return a >= b && a + bytes <= b + blob.size();
}

template <class V>
const void* values_of(const V& v) {
    return v.values;
}
template <class T>
const void* values_of(const sieve::channel_pruned_view<T>& v) {
    return v.inner.values;
}

template <class F>
void check_round_trips(std::uint32_t seed) {
    SIEVE_ON_EACH_ISA();
    CAPTURE(seed);
    rng r(seed);
    std::size_t i = 0;
    for (const auto& shape : round_trip_shapes()) {
        // K = 0 in int8 is left out: gemm_w8a8 on the in-memory N:M int8 matrix crashes on the
        // SSE path with K = 0 (a kernel issue, reported; nothing to do with loading).
        if (shape.k == 0 && sieve::is_int8_weight<sieve::io::value_type_of<decltype(F::pack({}, false)->view())>>)
            continue;
        CAPTURE(shape.m, shape.k, i);
        const test_matrix source = random_matrix(r, shape.m, shape.k, shape.fill);
        auto packed = F::pack(source.view(), i % 2 == 1);
        INFO(packed.message());
        REQUIRE(packed.ok());
        using view_type = decltype(packed->view());
        const auto bytes = blob_of("layer", *packed);

        // Zero-copy: the view points into the blob's bytes.
        auto blob = io::open_blob({bytes.data(), bytes.size()});
        INFO(blob.message());
        REQUIRE(blob.ok());
        REQUIRE(blob->size() == 1);
        auto loaded = blob->template get<view_type>("layer");
        INFO(loaded.message());
        REQUIRE(loaded.ok());
        REQUIRE(sieve::validate(*loaded).ok());
        CHECK(inside(values_of(*loaded), 0, bytes));
        require_same_results(packed->view(), *loaded, r);

        // Owning: from a file, and from a copy of unaligned bytes.
        const std::string path = temp_path();
        {
            io::blob_writer w;
            REQUIRE(w.add("layer", *packed).ok());
            const sieve::status s = w.write_file(path.c_str());
            INFO(s.message());
            REQUIRE(s.ok());
        }
        auto owned = io::load_blob_file(path.c_str());
        std::remove(path.c_str());
        INFO(owned.message());
        REQUIRE(owned.ok());
        auto from_file = owned->template get<view_type>("layer");
        REQUIRE(from_file.ok());
        require_same_results(packed->view(), *from_file, r);

        std::vector<std::byte> unaligned(bytes.size() + 1);
        std::memcpy(unaligned.data() + 1, bytes.data(), bytes.size());
        auto copied = io::copy_blob({unaligned.data() + 1, bytes.size()});
        INFO(copied.message());
        REQUIRE(copied.ok());
        auto from_copy = copied->template get<view_type>("layer");
        REQUIRE(from_copy.ok());
        require_same_results(packed->view(), *from_copy, r);
        ++i;
    }
}

}  // namespace

TEMPLATE_TEST_CASE("blob round trip: fp32 formats run bitwise as saved, zero-copy and owning", "[io]",
                   SIEVE_TEST_FORMATS, bsr_3x5, channel) {
    check_round_trips<TestType>(9101);
}

TEMPLATE_TEST_CASE("blob round trip: int8 formats run bitwise as saved, weight-only and w8a8", "[io][int8]",
                   SIEVE_TEST_INT8_FORMATS, bsr_3x5_i8_row, channel_i8_row, channel_i8_g32) {
    check_round_trips<TestType>(9102);
}


TEST_CASE("blob round trip: 32-bit CSR and BSR indices", "[io]") {
    SIEVE_ON_EACH_ISA();
    rng r(9103);
    // K past 65536: the CSR packer itself picks 32-bit indices.
    const test_matrix wide = random_matrix(r, 2, 70000, {0.01});
    auto csr_wide = sieve::csr_matrix<>::pack(wide.view());
    REQUIRE(csr_wide.ok());
    REQUIRE(csr_wide->width() == sieve::index_width::u32);
    auto wide_bytes = blob_of("wide", *csr_wide);
    auto wide_blob = io::open_blob({wide_bytes.data(), wide_bytes.size()});
    REQUIRE(wide_blob.ok());
    auto wide_view = wide_blob->get<sieve::csr_view<float>>("wide");
    REQUIRE(wide_view.ok());
    CHECK(wide_view->width == sieve::index_width::u32);
    require_same_results(csr_wide->view(), *wide_view, r);

    // Small K with 32-bit indices, as a view built outside the packer may hold them.
    const test_matrix source = random_matrix(r, 9, 40, {0.4});
    auto csr = sieve::quantize(*sieve::csr_matrix<>::pack(source.view()), sieve::quant_config::per_group(32));
    REQUIRE(csr.ok());
    sieve::csr_view<std::int8_t> csr32 = csr->view();
    std::vector<std::uint32_t> cols(csr32.nnz() + 1);
    for (std::size_t i = 0; i < csr32.nnz(); ++i) cols[i] = csr32.col(i);
    csr32.col_index = cols.data();
    csr32.width = sieve::index_width::u32;
    auto bsr = sieve::bsr_matrix<float, 4, 4>::pack(source.view());
    REQUIRE(bsr.ok());
    sieve::bsr_view<float, 4, 4> bsr32 = bsr->view();
    std::vector<std::uint32_t> blocks(bsr32.nnz_blocks() + 1);
    for (std::size_t i = 0; i < bsr32.nnz_blocks(); ++i) blocks[i] = bsr32.col_block(i);
    bsr32.block_col = blocks.data();
    bsr32.width = sieve::index_width::u32;

    io::blob_writer w;
    REQUIRE(w.add("csr32", csr32).ok());
    REQUIRE(w.add("bsr32", bsr32).ok());
    auto bytes = w.to_bytes();
    REQUIRE(bytes.ok());
    auto blob = io::open_blob({bytes->data(), bytes->size()});
    INFO(blob.message());
    REQUIRE(blob.ok());
    auto c = blob->get<sieve::csr_view<std::int8_t>>("csr32");
    auto b = blob->get<sieve::bsr_view<float, 4, 4>>("bsr32");
    REQUIRE(c.ok());
    REQUIRE(b.ok());
    CHECK(c->width == sieve::index_width::u32);
    CHECK(b->width == sieve::index_width::u32);
    require_same_results(csr->view(), *c, r);
    require_same_results(bsr->view(), *b, r);
}

namespace {

// A blob of five matrices, one per format (sorted names: the directory order):
//   0 "a.csr"    CSR fp32 5 x 10           row_ptr, col_index, values
//   1 "b.nm8"    2:4 int8, groups of 32    values, nm_meta, scales
//   2 "c.bsr"    BSR 4x4 fp32 8 x 12       row_ptr, col_index, values
//   3 "d.chan8"  channel-pruned int8       values, scales, kept_inputs, kept_outputs
//   4 "e.dense"  dense fp32 3 x 5          values
struct fixture {
    sieve::csr_matrix<float> a;
    sieve::nm_matrix<std::int8_t> b;
    sieve::bsr_matrix<float, 4, 4> c;
    sieve::channel_pruned_matrix<std::int8_t> d;
    sieve::dense_matrix<float> e;
    sieve::aligned_buffer<std::byte> bytes;

    fixture() {
        rng r(9104);
        const test_matrix sa = random_matrix(r, 5, 10, {0.5});
        const test_matrix sb = random_matrix(r, 4, 40, {1.0});
        const test_matrix sc = random_matrix(r, 8, 12, {0.3});
        test_matrix sd = random_matrix(r, 6, 10, {1.0});
        for (std::size_t i = 0; i < 6; ++i) sd(i, 3) = sd(i, 7) = 0.0f;  // two pruned input channels
        const test_matrix se = random_matrix(r, 3, 5, {1.0});
        a = sieve::csr_matrix<float>::pack(sa.view()).value();
        b = sieve::quantize(*sieve::nm_matrix<float>::pack(sb.view(), {2, 4}, sieve::selection::magnitude()),
                            sieve::quant_config::per_group(32))
                .value();
        c = sieve::bsr_matrix<float, 4, 4>::pack(sc.view()).value();
        d = sieve::quantize(*sieve::channel_pruned_matrix<float>::pack(sd.view())).value();
        e = sieve::dense_matrix<float>::pack(se.view()).value();
        io::blob_writer w;
        // Added out of order: the writer sorts.
        REQUIRE(w.add("e.dense", e).ok());
        REQUIRE(w.add("c.bsr", c).ok());
        REQUIRE(w.add("a.csr", a).ok());
        REQUIRE(w.add(std::string("d.chan8"), d).ok());
        REQUIRE(w.add("b.nm8", b.view()).ok());
        bytes = w.to_bytes().value();
    }

    blob_copy copy() const { return blob_copy(bytes); }
};

// Every entry of an opened fixture-shaped blob can be looked up, is valid, and runs (a
// changed shape field may leave a valid matrix too large to run here: those are only
// validated).
void run_every_entry(const io::blob_reader& blob) {
    REQUIRE(blob.size() == 5);
    auto run = [&](auto view) {
        INFO(view.message());
        REQUIRE(view.ok());
        CHECK(sieve::validate(*view).ok());
        if (view->rows > 4096 || view->cols > 4096) return;
        std::vector<float> x(view->cols, 0.5f), y(view->rows);
        const sieve::status s = sieve::gemv(*view, x, y);
        INFO(s.message());
        CHECK(s.ok());
    };
    run(blob.get<sieve::csr_view<float>>(0));  // by index: a changed name may still sort right
    run(blob.get<sieve::nm_view<std::int8_t>>(1));
    run(blob.get<sieve::bsr_view<float, 4, 4>>(2));
    run(blob.get<sieve::channel_pruned_view<std::int8_t>>(3));
    run(blob.get<sieve::dense_view<float>>(4));
}

std::size_t float_bits(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

}  // namespace

TEST_CASE("blob: several matrices in one blob, found by name; lookups refuse missing names and other types",
          "[io]") {
    const fixture f;
    auto blob = io::open_blob({f.bytes.data(), f.bytes.size()});
    INFO(blob.message());
    REQUIRE(blob.ok());
    run_every_entry(*blob);
    const char* names[] = {"a.csr", "b.nm8", "c.bsr", "d.chan8", "e.dense"};
    for (std::size_t i = 0; i < 5; ++i) CHECK(std::string(blob->entry(i).name.data, blob->entry(i).name.size) == names[i]);
    CHECK(blob->entry(1).format == io::blob_format::nm);
    CHECK(blob->entry(1).dtype == io::blob_dtype::i8);
    CHECK(blob->entry(1).param_a == 2);
    CHECK(blob->entry(1).param_b == 4);
    CHECK(blob->entry(1).quant_group == 32);
    CHECK(blob->entry(2).param_a == 4);
    CHECK(blob->entry(3).inner_cols == 8);

    // Views point into the blob, and the loaded matrices run as the originals.
    rng r(9105);
    auto a = blob->get<sieve::csr_view<float>>(std::string("a.csr"));
    REQUIRE(a.ok());
    CHECK(static_cast<const void*>(a->values) > static_cast<const void*>(f.bytes.data()));
    CHECK(reinterpret_cast<std::uintptr_t>(a->values) % 64 == 0);
    require_same_results(f.a.view(), *a, r);
    require_same_results(f.b.view(), *blob->get<sieve::nm_view<std::int8_t>>("b.nm8"), r);
    require_same_results(f.c.view(), *blob->get<sieve::bsr_view<float, 4, 4>>("c.bsr"), r);
    require_same_results(f.d.view(), *blob->get<sieve::channel_pruned_view<std::int8_t>>("d.chan8"), r);
    require_same_results(f.e.view(), *blob->get<sieve::dense_view<float>>(4), r);

    auto missing = blob->get<sieve::dense_view<float>>("a.cs");
    CHECK(missing.error().code() == sieve::errc::not_found);
    CHECK(std::string(missing.message()).find("a.cs") != std::string::npos);
    CHECK(blob->find("zzz").error().code() == sieve::errc::not_found);
    CHECK(blob->find("").error().code() == sieve::errc::not_found);
    CHECK(blob->get<sieve::dense_view<float>>(5).error().code() == sieve::errc::not_found);
    auto wrong_format = blob->get<sieve::dense_view<float>>("a.csr");
    CHECK(wrong_format.error().code() == sieve::errc::type_mismatch);
    CHECK(std::string(wrong_format.message()).find("holds csr f32, asked for dense f32") != std::string::npos);
    CHECK(blob->get<sieve::csr_view<std::int8_t>>("a.csr").error().code() == sieve::errc::type_mismatch);
    auto wrong_block = blob->get<sieve::bsr_view<float, 1, 4>>("c.bsr");
    CHECK(wrong_block.error().code() == sieve::errc::type_mismatch);
    CHECK(std::string(wrong_block.message()).find("4 x 4 blocks, asked for 1 x 4") != std::string::npos);
    CHECK(blob->get<sieve::bsr_view<float, 4, 1>>("c.bsr").error().code() == sieve::errc::type_mismatch);
}

TEST_CASE("blob writer: refuses bad names, duplicates and invalid matrices; an empty blob opens", "[io]") {
    const fixture f;
    io::blob_writer w;
    REQUIRE(w.add("x", f.e).ok());
    CHECK(w.add("x", f.a).code() == sieve::errc::bad_argument);
    CHECK(w.add("", f.a).code() == sieve::errc::bad_argument);
    CHECK(w.add(std::string(64, 'n'), f.a).code() == sieve::errc::bad_argument);
    CHECK(w.add(std::string(63, 'n'), f.a).ok());
    CHECK(w.add(io::name_ref("a\0b", 3), f.a).code() == sieve::errc::bad_argument);
    sieve::csr_view<float> broken = f.a.view();
    std::vector<std::uint16_t> cols(broken.nnz() + 1, 0);
    cols[0] = 10;  // K = 10
    broken.col_index = cols.data();
    const sieve::status s = w.add("broken", broken);
    CHECK(s.code() == sieve::errc::corrupt_data);
    CHECK(std::string(s.message()).find("'broken'") != std::string::npos);
    CHECK(w.size() == 2);

    io::blob_writer empty;
    auto bytes = empty.to_bytes();
    REQUIRE(bytes.ok());
    CHECK(bytes->size() == io::layout::header_size);
    auto blob = io::open_blob({bytes->data(), bytes->size()});
    REQUIRE(blob.ok());
    CHECK(blob->size() == 0);
    CHECK(blob->find("x").error().code() == sieve::errc::not_found);

    CHECK(io::load_blob_file("/nonexistent/dir/model.blob").error().code() == sieve::errc::io_error);
    CHECK(w.write_file("/nonexistent/dir/model.blob").code() == sieve::errc::io_error);
}

TEST_CASE("crc32c: published check values and a bitwise oracle at every length and offset", "[io]") {
    auto bytes_of = [](const char* s) {
        std::vector<std::byte> out(std::strlen(s));
        std::memcpy(out.data(), s, out.size());
        return out;
    };
    const auto digits = bytes_of("123456789");
    CHECK(io::crc32c(digits.data(), digits.size()) == 0xE3069283u);
    std::vector<std::byte> zeros(32, std::byte{0}), ones(32, std::byte{0xFF});
    CHECK(io::crc32c(zeros.data(), 32) == 0x8A9136AAu);  // RFC 3720 B.4
    CHECK(io::crc32c(ones.data(), 32) == 0x62A8AB43u);
    CHECK(io::crc32c(nullptr, 0) == 0u);

    // One bit at a time, the textbook definition.
    auto bitwise = [](const std::byte* p, std::size_t n) {
        std::uint32_t c = 0xFFFFFFFFu;
        for (std::size_t i = 0; i < n; ++i) {
            c ^= static_cast<std::uint32_t>(p[i]);
            for (int b = 0; b < 8; ++b) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        }
        return ~c;
    };
    rng r(9106);
    std::vector<std::byte> data(300);
    for (auto& b : data) b = static_cast<std::byte>(r.index(0, 255));
    for (std::size_t offset = 0; offset < 8; ++offset)
        for (std::size_t n = 0; n + offset <= data.size(); n += 7) {
            CAPTURE(offset, n);
            REQUIRE(io::crc32c(data.data() + offset, n) == bitwise(data.data() + offset, n));
        }
    // Incremental updates give the one-shot value.
    std::uint32_t state = io::crc32c_init;
    state = io::crc32c_update(state, data.data(), 13);
    state = io::crc32c_update(state, data.data() + 13, 287);
    CHECK(io::crc32c_finish(state) == io::crc32c(data.data(), 300));
}

TEST_CASE("blob: header corruptions are refused with their own errors", "[io]") {
    namespace L = io::layout;
    const fixture f;
    {
        auto b = f.copy();
        b.data()[3] = std::byte{'X'};
        require_open_error(open(b), sieve::errc::bad_magic, {"magic"});
        auto text = f.copy();
        std::memcpy(text.data(), "not a blob at all", 17);
        require_open_error(open(text), sieve::errc::bad_magic, {});
    }
    for (std::uint32_t version : {0u, 2u, 0xFFFFFFFFu}) {
        auto b = f.copy();
        b.set(L::version, version, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::unsupported_version, {"version"});
    }
    {
        blob_copy b(f.bytes, 16);  // base 16 bytes past a 64-byte boundary
        require_open_error(open(b), sieve::errc::misaligned, {"aligned"});
    }
    {
        auto b = f.copy();
        b.set(L::total_size, b.size() + 64, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"declares"});
    }
    {
        auto b = f.copy();  // the declared size cuts the last entry's section off
        b.set(L::total_size, b.size() - 64, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"e.dense", "pass the end"});
    }
    {
        auto b = f.copy();
        b.set(L::entry_count, 1000, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"directory"});
    }
    for (std::size_t field : {L::header_size_field, L::entry_size_field, L::directory_offset}) {
        auto b = f.copy();
        b.set(field, 128, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"version 1"});
    }
    for (std::size_t pos : {L::flags, L::header_reserved, L::header_reserved + 15}) {
        auto b = f.copy();
        b.data()[pos] = std::byte{1};
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"reserved"});
    }
    {
        auto b = f.copy();  // a name byte changed, checksum not updated
        b.data()[blob_copy::entry(0) + 4] = std::byte{'q'};
        require_open_error(open(b), sieve::errc::checksum_mismatch, {"directory checksum"});
        auto trusted = open(b, false);  // still a valid blob: "a.csq" sorts where "a.csr" did
        INFO(trusted.message());
        CHECK(trusted.ok());
    }
}

TEST_CASE("blob: every truncation of a blob is refused cleanly", "[io]") {
    const fixture f;
    auto b = f.copy();
    for (std::size_t length = 0; length < b.size(); ++length) {
        CAPTURE(length);
        auto r = io::open_blob(b.span(length));
        REQUIRE_FALSE(r.ok());
        REQUIRE(r.error().code() == sieve::errc::truncated);
    }
    // Bytes past the declared size are ignored.
    blob_copy longer(f.bytes.data(), f.bytes.size());
    CHECK(io::open_blob(longer.span(f.bytes.size() + 1)).ok());
}

TEST_CASE("blob: directory entry corruptions are refused with their own errors", "[io]") {
    namespace L = io::layout;
    const fixture f;
    // Changes one field of entry `i` (`bytes` wide at `field`), reseals, and expects `code`
    // with the entry's name and `words` in the message.
    auto expect = [&](std::size_t i, std::size_t field, std::uint64_t value, std::size_t bytes, sieve::errc code,
                      std::initializer_list<const char*> words) {
        auto b = f.copy();
        b.set(blob_copy::entry(i) + field, value, bytes);
        b.reseal();
        auto r = open(b);
        CAPTURE(i, field, value);
        require_open_error(r, code, words);
        const char* names[] = {"'a.csr'", "'b.nm8'", "'c.bsr'", "'d.chan8'", "'e.dense'"};
        if (field >= L::name_field) CHECK(std::string(r.message()).find(names[i]) != std::string::npos);
    };
    expect(4, L::format, 99, 2, sieve::errc::corrupt_data, {"unknown format tag 99"});
    expect(4, L::format, 0, 2, sieve::errc::corrupt_data, {"unknown format tag 0"});
    expect(4, L::dtype, 7, 1, sieve::errc::corrupt_data, {"unknown dtype tag 7"});
    expect(0, L::index_bytes, 3, 1, sieve::errc::corrupt_data, {"index width of 3"});
    expect(4, L::index_bytes, 2, 1, sieve::errc::corrupt_data, {"without indices"});
    expect(0, L::param_a, 2, 4, sieve::errc::corrupt_data, {"without them"});
    expect(4, L::inner_rows, 2, 8, sieve::errc::corrupt_data, {"without one"});
    expect(4, L::quant_group, 32, 4, sieve::errc::corrupt_data, {"fp32 entry with scale group 32"});
    expect(1, L::quant_group, 48, 4, sieve::errc::corrupt_data, {"scale group 48"});
    expect(1, L::quant_group, 64, 4, sieve::errc::corrupt_data, {"scales section"});  // sizes follow the group
    expect(0, L::entry_reserved + 3, 1, 1, sieve::errc::corrupt_data, {"reserved entry"});
    expect(0, L::section_count, 2, 4, sieve::errc::corrupt_data, {"2 sections, csr f32 stores 3"});
    expect(0, L::section_count, 0xFFFFFFFF, 4, sieve::errc::corrupt_data, {"sections"});
    expect(4, L::sections + 5 * L::section_record, 1, 4, sieve::errc::corrupt_data, {"unused section record 5"});
    expect(0, L::sections + L::section_kind, 1, 4, sieve::errc::corrupt_data, {"kind 1, csr expects row_ptr"});
    expect(0, L::sections + L::section_reserved, 1, 4, sieve::errc::corrupt_data, {"reserved"});

    // Names: empty, unterminated, bytes after the terminator, duplicate, out of order.
    expect(0, L::name, 0, 1, sieve::errc::corrupt_data, {"empty name"});
    {
        auto b = f.copy();
        std::memset(b.data() + blob_copy::entry(0), 'a', L::name_field);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"not NUL-terminated"});
    }
    expect(0, L::name + 20, 'x', 1, sieve::errc::corrupt_data, {"terminator"});
    {
        auto b = f.copy();
        std::memcpy(b.data() + blob_copy::entry(1), b.data() + blob_copy::entry(0), L::name_field);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"entry 1 'a.csr'", "duplicate name"});
    }
    {
        auto b = f.copy();
        std::memcpy(b.data() + blob_copy::entry(0), "zzz", 3);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"entry 1 'b.nm8'", "not sorted"});
    }

    // Shapes whose products would overflow. Sides are limited to 2^31 - 1 (index_overflow),
    // which keeps every size product, computed in 64 bits, exact: a side of 2^32 squared
    // would wrap to 0 bytes.
    expect(4, L::rows, (std::uint64_t{1} << 31) - 1, 8, sieve::errc::truncated, {"values section"});
    {
        auto b = f.copy();
        b.set(blob_copy::entry(4) + L::rows, (std::uint64_t{1} << 31) - 1, 8);
        b.set(blob_copy::entry(4) + L::cols, (std::uint64_t{1} << 31) - 1, 8);
        b.reseal();  // (2^31 - 1) rows of 2^31 floats: 2^64 - 2^33 bytes, exact
        require_open_error(open(b), sieve::errc::truncated, {"'e.dense'", "needs 18446744065119617024"});
        auto c = f.copy();
        c.set(blob_copy::entry(4) + L::rows, std::uint64_t{1} << 32, 8);
        c.set(blob_copy::entry(4) + L::cols, std::uint64_t{1} << 32, 8);
        c.reseal();
        require_open_error(open(c), sieve::errc::index_overflow, {"'e.dense'", "2^31"});
    }
    expect(4, L::rows, std::uint64_t{1} << 31, 8, sieve::errc::index_overflow, {"2^31"});
    expect(4, L::cols, ~std::uint64_t{0}, 8, sieve::errc::index_overflow, {"2^31"});
    expect(3, L::inner_rows, 7, 8, sieve::errc::corrupt_data, {"kept 7 x 8 channels of a 6 x 10 layer"});

    // Pattern and block parameters.
    expect(1, L::param_a, 3, 4, sieve::errc::truncated, {"values section"});  // 3:4 is legal: sizes disagree
    {
        auto b = f.copy();
        b.set(blob_copy::entry(1) + L::param_a, 3, 4);
        b.set(blob_copy::entry(1) + L::param_b, 5, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"pattern 3:5"});
    }
    expect(1, L::param_b, 0, 4, sieve::errc::corrupt_data, {"pattern 2:0"});
    expect(2, L::param_a, 0, 4, sieve::errc::corrupt_data, {"block shape 0 x 4"});
    expect(2, L::param_b, 65, 4, sieve::errc::corrupt_data, {"block shape 4 x 65"});
    expect(2, L::param_b, 2, 4, sieve::errc::corrupt_data, {"section"});  // 4x2 blocks: other sizes
}

TEST_CASE("blob: section corruptions are refused with their own errors", "[io]") {
    namespace L = io::layout;
    const fixture f;
    auto field = [](std::size_t i, std::size_t s, std::size_t what) { return blob_copy::section(i, s) + what; };

    {   // misaligned, overlapping, out of order, past the end
        auto b = f.copy();
        b.set(field(0, 1, L::section_offset), b.section_offset(0, 1) + 8, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::misaligned, {"'a.csr'", "col_index section", "aligned"});
    }
    {
        auto b = f.copy();
        b.set(field(0, 1, L::section_offset), b.section_offset(0, 0), 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.csr'", "overlaps"});
    }
    {
        auto b = f.copy();  // entry 1's first section placed back at entry 0's
        b.set(field(1, 0, L::section_offset), b.section_offset(0, 2), 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'b.nm8'", "overlaps"});
    }
    {
        auto b = f.copy();  // inside the previous section's 64 tail bytes
        b.set(field(0, 1, L::section_offset), b.section_offset(0, 0) + 64, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"overlaps"});
    }
    {
        auto b = f.copy();
        b.set(field(4, 0, L::section_offset), b.size(), 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"'e.dense'", "pass the end"});
    }
    for (std::uint64_t huge : {~std::uint64_t{0}, std::uint64_t{1} << 63}) {
        auto b = f.copy();
        b.set(field(4, 0, L::section_size), huge, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"pass the end"});
        auto c = f.copy();
        c.set(field(4, 0, L::section_offset), huge & ~std::uint64_t{63}, 8);
        c.reseal();
        require_open_error(open(c), sieve::errc::truncated, {"pass the end"});
    }
    {
        auto b = f.copy();  // a byte of the 64 after a.csr's values is not zero
        b.data()[b.section_offset(0, 2) + b.section_size(0, 2) + 63] = std::byte{1};
        require_open_error(open(b), sieve::errc::corrupt_data, {"after the values section are not zero"});
    }

    // Sizes: longer and shorter than the header implies.
    const std::size_t values_size = f.copy().section_size(0, 2);
    REQUIRE(values_size % 64 != 0);  // room in the padding to grow the section by 4 bytes
    REQUIRE(values_size % 64 <= 60);
    {
        auto b = f.copy();
        b.set(field(0, 2, L::section_size), values_size + 4, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.csr'", "values section has", "4 more than"});
    }
    {
        auto b = f.copy();  // the last value set to 0 (so its bytes may become tail), then cut off
        std::memset(b.data() + b.section_offset(0, 2) + values_size - 4, 0, 4);
        b.set(field(0, 2, L::section_size), values_size - 4, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"'a.csr'", "values section has", "needs"});
    }

    // CSR structure: row pointers that decrease or pass nnz, column indices >= K.
    const std::size_t row_ptr = f.copy().section_offset(0, 0);
    {
        auto b = f.copy();
        b.set(row_ptr + 4, b.get(row_ptr + 8, 4) + 1, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.csr'", "row_ptr decreases at row 1"});
    }
    {
        auto b = f.copy();  // the last row pointer is nnz: one more than the indices stored
        b.set(row_ptr + 5 * 4, b.get(row_ptr + 5 * 4, 4) + 1, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"'a.csr'", "col_index section"});
    }
    {
        auto b = f.copy();  // a middle row pointer past nnz
        b.set(row_ptr + 2 * 4, 1000, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"row_ptr decreases at row 2"});
    }
    {
        auto b = f.copy();
        b.set(row_ptr, 1, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"row_ptr[0]"});
    }
    {
        auto b = f.copy();
        b.set(b.section_offset(0, 1), 10, 2);  // K = 10
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.csr'", "column 10 >= 10"});
    }
    {
        auto b = f.copy();  // BSR: block column 3 of a 3-block-wide grid
        b.set(b.section_offset(2, 1), 3, 2);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'c.bsr'", "block index", "3 >= 3"});
    }

    // N:M masks with other than N positions.
    for (std::uint64_t mask : {0x07u, 0x01u, 0x00u, 0xFFu}) {
        auto b = f.copy();
        b.set(b.section_offset(1, 1), (b.get(b.section_offset(1, 1), 1) & 0xF0u) | (mask & 0x0Fu), 1);
        if (mask == 0xFFu) b.set(b.section_offset(1, 1), 0xFF, 1);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'b.nm8'", "group", "pattern needs 2"});
    }

    // Scales: NaN, infinite, negative.
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -0.5f}) {
        auto b = f.copy();
        b.set(b.section_offset(1, 2) + 4, float_bits(bad), 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'b.nm8'", "scale 1 of row 0"});
        auto c = f.copy();  // the channel-pruned inner scales
        c.set(c.section_offset(3, 1), float_bits(bad), 4);
        c.reseal();
        require_open_error(open(c), sieve::errc::corrupt_data, {"'d.chan8'", "scale 0 of row 0"});
    }

    // Channel indices: not ascending, out of range.
    {
        auto b = f.copy();
        b.set(b.section_offset(3, 2) + 4, b.get(b.section_offset(3, 2), 4), 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'d.chan8'", "kept input index 1"});
        auto c = f.copy();
        c.set(c.section_offset(3, 3) + 5 * 4, 6, 4);  // M = 6
        c.reseal();
        require_open_error(open(c), sieve::errc::corrupt_data, {"'d.chan8'", "kept output index 5"});
    }

    // A changed value: the data checksum refuses it; trusted, it is a valid matrix.
    {
        auto b = f.copy();
        b.data()[b.section_offset(4, 0) + 5] ^= std::byte{0x10};
        require_open_error(open(b), sieve::errc::checksum_mismatch, {"'e.dense'", "data checksum"});
        auto trusted = open(b, false);
        INFO(trusted.message());
        REQUIRE(trusted.ok());
        run_every_entry(*trusted);
    }
}

namespace {

// A blob of two bitmap matrices (K = 70: two mask words per row, the second with 58 bits
// past K):
//   0 "a.bitmap"   fp32 6 x 70                    row_ptr, bitmap_mask, values
//   1 "b.bitmap8"  int8 5 x 70, groups of 32      row_ptr, bitmap_mask, values, scales
struct bitmap_fixture {
    sieve::bitmap_matrix<float> a;
    sieve::bitmap_matrix<std::int8_t> b;
    sieve::aligned_buffer<std::byte> bytes;

    bitmap_fixture() {
        rng r(9108);
        const test_matrix sa = random_matrix(r, 6, 70, {0.5});
        const test_matrix sb = random_matrix(r, 5, 70, {0.6});
        a = sieve::bitmap_matrix<float>::pack(sa.view()).value();
        b = sieve::quantize(*sieve::bitmap_matrix<float>::pack(sb.view()), sieve::quant_config::per_group(32)).value();
        io::blob_writer w;
        REQUIRE(w.add("b.bitmap8", b).ok());
        REQUIRE(w.add("a.bitmap", a).ok());
        bytes = w.to_bytes().value();
    }

    blob_copy copy() const { return blob_copy(bytes); }
};

void run_bitmap_entries(const io::blob_reader& blob) {
    REQUIRE(blob.size() == 2);
    auto run = [&](auto view) {
        INFO(view.message());
        REQUIRE(view.ok());
        CHECK(sieve::validate(*view).ok());
        if (view->rows > 4096 || view->cols > 4096) return;
        std::vector<float> x(view->cols, 0.5f), y(view->rows);
        const sieve::status s = sieve::gemv(*view, x, y);
        INFO(s.message());
        CHECK(s.ok());
    };
    run(blob.get<sieve::bitmap_view<float>>(0));
    run(blob.get<sieve::bitmap_view<std::int8_t>>(1));
}

}  // namespace

TEST_CASE("blob: bitmap entries hold their layout; mask, row offset and scale corruptions are refused", "[io]") {
    namespace L = io::layout;
    const bitmap_fixture f;
    {
        auto blob = io::open_blob({f.bytes.data(), f.bytes.size()});
        INFO(blob.message());
        REQUIRE(blob.ok());
        run_bitmap_entries(*blob);
        const io::blob_entry e = blob->entry(0);
        CHECK(e.format == io::blob_format::bitmap);
        CHECK(e.section_count == 3);
        CHECK(e.sections[0].kind == io::section_kind::row_ptr);
        CHECK(e.sections[1].kind == io::section_kind::bitmap_mask);
        CHECK(e.sections[1].size == 6 * 2 * 8);
        CHECK(e.sections[2].size == f.a.nnz() * 4);
        CHECK(blob->entry(1).section_count == 4);
        CHECK(blob->entry(1).sections[3].size == 5 * 3 * 4);  // ceil(70 / 32) scales per row
        auto wrong = blob->get<sieve::csr_view<float>>("a.bitmap");
        REQUIRE_FALSE(wrong.ok());
        CHECK(wrong.error().code() == sieve::errc::type_mismatch);
        CHECK(std::string(wrong.message()).find("holds bitmap f32, asked for csr f32") != std::string::npos);
    }
    const std::size_t row_ptr = f.copy().section_offset(0, 0), mask = f.copy().section_offset(0, 1);
    const sieve::bitmap_view<float> v = f.a.view();

    {   // a mask bit set where row 0 keeps nothing: more bits than values
        std::size_t c = 0;
        while (c < v.cols && v.kept(0, c)) ++c;
        REQUIRE(c < v.cols);
        auto b = f.copy();
        const std::size_t word = mask + c / 64 * 8;
        b.set(word, b.get(word, 8) | std::uint64_t{1} << (c % 64), 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.bitmap'", "row 0 has", "mask bits set but"});
    }
    {   // a kept bit cleared in row 2: fewer bits than values
        std::size_t c = 0;
        while (c < v.cols && !v.kept(2, c)) ++c;
        REQUIRE(c < v.cols);
        auto b = f.copy();
        const std::size_t word = mask + (2 * v.words + c / 64) * 8;
        b.set(word, b.get(word, 8) & ~(std::uint64_t{1} << (c % 64)), 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.bitmap'", "row 2 has", "mask bits set but"});
    }
    {   // bit 70 of row 0 (word 1, bit 6): past K
        auto b = f.copy();
        b.set(mask + 8, b.get(mask + 8, 8) | std::uint64_t{1} << 6, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.bitmap'", "at or past column 70"});
    }
    {   // row offsets that decrease
        auto b = f.copy();
        b.set(row_ptr + 4, b.get(row_ptr + 8, 4) + 1, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.bitmap'", "row_ptr decreases at row 1"});
    }
    {   // a middle offset past nnz
        auto b = f.copy();
        b.set(row_ptr + 3 * 4, 100000, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.bitmap'", "row_ptr decreases at row 3"});
    }
    {
        auto b = f.copy();
        b.set(row_ptr, 1, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'a.bitmap'", "row_ptr[0]"});
    }
    {   // the last offset is nnz: one more than the values stored
        auto b = f.copy();
        b.set(row_ptr + 6 * 4, b.get(row_ptr + 6 * 4, 4) + 1, 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"'a.bitmap'", "values section has", "needs"});
    }
    {   // a mask one word short (the word zeroed, so it may become tail bytes)
        auto b = f.copy();
        const std::size_t size = b.section_size(0, 1);
        b.set(mask + size - 8, 0, 8);
        b.set(blob_copy::section(0, 1) + L::section_size, size - 8, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"'a.bitmap'", "bitmap_mask section has", "needs"});
    }
    {   // K grown to 200: four mask words per row, the section holds two
        auto b = f.copy();
        b.set(blob_copy::entry(0) + L::cols, 200, 8);
        b.reseal();
        require_open_error(open(b), sieve::errc::truncated, {"'a.bitmap'", "bitmap_mask section"});
    }
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), -0.5f}) {
        auto b = f.copy();
        b.set(b.section_offset(1, 3) + 4, float_bits(bad), 4);
        b.reseal();
        require_open_error(open(b), sieve::errc::corrupt_data, {"'b.bitmap8'", "scale 1 of row 0"});
    }
    {   // a nonzero header field bitmap does not use
        auto b = f.copy();
        b.set(blob_copy::entry(0) + L::param_a, 2, 4);
        b.reseal();
        CHECK_FALSE(open(b).ok());
    }

    // Every single-byte change, checksums off: refused, or a matrix that validates and runs.
    rng r(9109);
    auto b = f.copy();
    std::size_t refused = 0;
    for (std::size_t pos = 0; pos < b.size(); ++pos) {
        CAPTURE(pos);
        const std::byte old = b.data()[pos];
        b.data()[pos] ^= static_cast<std::byte>(r.index(1, 255));
        auto blob = open(b, false);
        if (blob.ok()) run_bitmap_entries(*blob);
        else ++refused;
        b.data()[pos] = old;
    }
    CHECK(refused > 0);
}

TEST_CASE("blob: random single-byte changes are refused or give usable matrices, never a bad read", "[io]") {
    const fixture f;
    rng r(9107);
    const auto pristine = f.copy();
    auto b = f.copy();
    std::size_t refused_with_checksums = 0, refused_without = 0;
    for (std::size_t pos = 0; pos < b.size(); ++pos) {
        CAPTURE(pos);
        const std::byte old = b.data()[pos];
        b.data()[pos] ^= static_cast<std::byte>(r.index(1, 255));
        for (bool checksums : {true, false}) {
            auto blob = open(b, checksums);
            if (!blob.ok()) {
                ++(checksums ? refused_with_checksums : refused_without);
                continue;
            }
            run_every_entry(*blob);
        }
        b.data()[pos] = old;
    }
    // With checksums every byte that means something is covered: all but the padding
    // between a section's 64 zero tail bytes and the next 64-byte boundary.
    std::size_t padding = 0;
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t s = 0; s < 4; ++s) {
            auto p = f.copy();
            const std::size_t size = p.section_size(i, s), offset = p.section_offset(i, s);
            if (offset != 0) padding += (64 - (offset + size) % 64) % 64;
        }
    CHECK(refused_with_checksums == b.size() - padding);
    CHECK(refused_without > 0);
    CHECK(open(pristine).ok());
}

namespace {

// The golden blob's matrices, packed and written as the firmware check expects them.
sieve::aligned_buffer<std::byte> golden_blob_bytes() {
    float down[sieve_golden::rows * sieve_golden::cols], up[sieve_golden::rows * sieve_golden::cols];
    sieve_golden::down_weights(down);
    sieve_golden::up_weights(up);
    auto nm = sieve::nm_matrix<>::pack({down, sieve_golden::rows, sieve_golden::cols}, {2, 4},
                                       sieve::selection::magnitude());
    REQUIRE(nm.ok());
    auto csr = sieve::csr_matrix<>::pack({up, sieve_golden::rows, sieve_golden::cols});
    REQUIRE(csr.ok());
    auto csr8 = sieve::quantize(*csr, sieve::quant_config::per_row());
    REQUIRE(csr8.ok());
    io::blob_writer w;
    REQUIRE(w.add("mlp.down", *nm).ok());
    REQUIRE(w.add("mlp.up", *csr8).ok());
    return w.to_bytes().value();
}

}  // namespace

TEST_CASE("blob: the writer still writes the golden version-1 bytes the firmware check links", "[io]") {
    const auto bytes = golden_blob_bytes();
    REQUIRE(bytes.size() == sizeof sieve_golden::blob);
    CHECK(std::memcmp(bytes.data(), sieve_golden::blob, bytes.size()) == 0);
    auto blob = io::open_blob({reinterpret_cast<const std::byte*>(sieve_golden::blob), sizeof sieve_golden::blob});
    INFO(blob.message());
    CHECK(blob.ok());
}

// Prints tests/firmware/golden_blob.hpp's array (hidden: run `sieve_tests "[.generate]"`
// only when the format version changes on purpose).
TEST_CASE("blob: print the golden blob", "[.generate]") {
    const auto bytes = golden_blob_bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i)
        std::printf("0x%02x,%s", static_cast<unsigned>(bytes[i]), i % 16 == 15 ? "\n" : " ");
    std::printf("\n");
}
