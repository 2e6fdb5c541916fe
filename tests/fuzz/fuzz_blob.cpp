// Fuzzes the blob loader, sieve::io::open_blob, on raw bytes. The bytes are copied into an
// allocation of exactly their size, 64-byte aligned (open_blob requires the alignment, and
// an exact size lets ASan catch any read past the end). Every entry that binds to a view
// must pass its format's validate() and run gemv (and gemv_w8a8 for int8) without a
// sanitizer report: the loader's checks are what keeps the kernels in bounds.
//
// Built twice: fuzz_blob opens with and without checksum verification (random mutations
// rarely keep a CRC right, so most inputs test the unchecked path, as for trusted flash);
// fuzz_blob_crc (SIEVE_FUZZ_FIX_CHECKSUMS) adds a custom mutator that recomputes the
// directory and data checksums after each mutation, so mutated blobs reach the checked
// path's structure checks too.
#include <cstdlib>
#include <cstring>
#include <sieve/io/blob_reader.hpp>
#include <sieve/sieve.hpp>
#include <vector>

#include "fuzz_checks.hpp"
#include "fuzz_pack.hpp"

namespace sieve_fuzz {
namespace {

namespace io = sieve::io;

template <class T>
struct type_tag {
    using type = T;
};

template <class T>
const T* view_values(const sieve::dense_view<T>& v) { return v.values; }
template <class T>
const T* view_values(const sieve::csr_view<T>& v) { return v.values; }
template <class T>
const T* view_values(const sieve::nm_view<T>& v) { return v.values; }
template <class T, std::size_t R, std::size_t C>
const T* view_values(const sieve::bsr_view<T, R, C>& v) { return v.values; }
template <class T>
const T* view_values(const sieve::channel_pruned_view<T>& v) { return v.inner.values; }
template <class T>
const T* view_values(const sieve::bitmap_view<T>& v) { return v.values; }

// Runs the kernels on one bound view of shape that fits a run.
template <class View>
void run_view(const View& v) {
    require_ok(sieve::validate(v), "validate of a loaded view");
    constexpr std::size_t limit = std::size_t{1} << 20;
    if (v.rows > limit || v.cols > limit) return;
    std::vector<float> x(v.cols), y(v.rows);
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(k % 7) - 3.0f;
    require_ok(sieve::gemv(v, {x.data(), x.size()}, {y.data(), y.size()}), "gemv on a loaded view");
    using value_type = std::remove_cv_t<std::remove_pointer_t<decltype(view_values(v))>>;
    if constexpr (std::is_same<value_type, std::int8_t>::value)
        require_ok(sieve::gemv_w8a8(v, {x.data(), x.size()}, {y.data(), y.size()}), "gemv_w8a8 on a loaded view");
}

// Binds entry i as the view its directory record names; an entry a valid blob holds (all
// of them, after open_blob succeeded) must bind, except BSR shapes sieve has no kernels for.
template <class T>
void run_entry_typed(const io::blob_reader& blob, std::size_t i, const io::blob_entry& e) {
    auto bind = [&](auto tag) {
        using View = typename decltype(tag)::type;
        auto v = blob.get<View>(i);
        require(v.ok(), "entry %zu of an opened blob does not bind: %s", i, v.ok() ? "" : v.error().message());
        run_view(*v);
    };
    switch (e.format) {
    case io::blob_format::dense: return bind(type_tag<sieve::dense_view<T>>{});
    case io::blob_format::csr: return bind(type_tag<sieve::csr_view<T>>{});
    case io::blob_format::nm: return bind(type_tag<sieve::nm_view<T>>{});
    case io::blob_format::channel_pruned: return bind(type_tag<sieve::channel_pruned_view<T>>{});
    case io::blob_format::bitmap: return bind(type_tag<sieve::bitmap_view<T>>{});
    case io::blob_format::bsr:
        for (std::size_t s = 0; s < 7; ++s)
            with_block_shape(s, [&](auto r, auto c) {
                constexpr std::size_t R = decltype(r)::value, C = decltype(c)::value;
                if (e.param_a == R && e.param_b == C) bind(type_tag<sieve::bsr_view<T, R, C>>{});
            });
        return;
    }
}

void run_blob(const io::blob_reader& blob) {
    for (std::size_t i = 0; i < blob.size(); ++i) {
        const io::blob_entry e = blob.entry(i);
        if (e.dtype == io::blob_dtype::f32) run_entry_typed<float>(blob, i, e);
        else run_entry_typed<std::int8_t>(blob, i, e);
    }
}

}  // namespace
}  // namespace sieve_fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sieve_fuzz;
    void* memory = nullptr;
    if (posix_memalign(&memory, 64, size == 0 ? 1 : size) != 0) return 0;
    if (size != 0) std::memcpy(memory, data, size);
    const sieve::span<const std::byte> bytes(static_cast<const std::byte*>(memory), size);

    auto checked = io::open_blob(bytes);
    auto unchecked = io::open_blob(bytes, io::open_options{false});
    // Checksums are the only difference between the two.
    require(!checked.ok() || unchecked.ok(), "a blob that opens with checksums fails without: %s",
            unchecked.ok() ? "" : unchecked.error().message());
    if (!checked.ok() && unchecked.ok())
        require(checked.error().code() == sieve::errc::checksum_mismatch,
                "a blob that opens without checksums fails with them for another reason: %s", checked.error().message());
    if (unchecked.ok()) run_blob(*unchecked);
    std::free(memory);
    return 0;
}

#if SIEVE_FUZZ_FIX_CHECKSUMS
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

// After libFuzzer's mutation, rewrite every checksum the mutated bytes have room for: the
// data CRC of each entry whose sections lie inside the input, then the directory CRC.
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
    namespace io = sieve::io;
    namespace layout = io::layout;
    (void)seed;
    size = LLVMFuzzerMutate(data, size, max_size);
    auto* p = reinterpret_cast<std::byte*>(data);
    if (size < layout::header_size) return size;
    const std::uint64_t count = io::load_le32(p + layout::entry_count);
    if (count > (size - layout::header_size) / layout::entry_size) return size;
    for (std::size_t i = 0; i < count; ++i) {
        std::byte* record = p + layout::header_size + i * layout::entry_size;
        const std::uint32_t sections = io::load_le32(record + layout::section_count);
        if (sections > io::max_sections) continue;
        std::uint32_t state = io::crc32c_init;
        bool inside = true;
        for (std::size_t s = 0; s < sections && inside; ++s) {
            const std::byte* rec = record + layout::sections + s * layout::section_record;
            const std::uint64_t offset = io::load_le64(rec + layout::section_offset);
            const std::uint64_t bytes = io::load_le64(rec + layout::section_size);
            inside = offset <= size && bytes <= size - offset;
            if (inside) state = io::crc32c_update(state, p + offset, static_cast<std::size_t>(bytes));
        }
        if (inside) io::store_le32(record + layout::data_crc, io::crc32c_finish(state));
    }
    io::store_le32(p + layout::directory_crc, io::directory_crc(p, static_cast<std::size_t>(count)));
    return size;
}
#endif
