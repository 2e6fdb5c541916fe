// Zero-copy loading of a sieve blob (layout: io/blob_format.hpp).
//
//   alignas(64) static const std::byte weights[] = {...};        // or a memory-mapped file
//   auto blob = sieve::io::open_blob({weights, sizeof weights});
//   if (!blob.ok()) return blob.error();
//   auto w = blob->get<sieve::nm_view<float>>("layers.0.mlp.up");  // a view into `weights`
//   sieve::gemv(*w, x, y);
//
// open_blob validates the whole blob once, in time linear in its size, and the views it
// hands out afterwards point into the caller's bytes: no allocation, no copy, usable with
// -fno-exceptions -fno-rtti and no heap (nothing here allocates). The bytes must stay
// alive and unchanged while the reader or its views are used.
//
// What open_blob checks, in order, each with its own error (nothing is read before its
// bounds are checked; header fields are assembled byte by byte, so no unaligned loads):
//   the first bytes differ from the magic                 errc::bad_magic
//   fewer bytes than the 64-byte header                   errc::truncated
//   blob base not 64-byte aligned                         errc::misaligned
//   version != 1 (a newer writer)                         errc::unsupported_version
//   fewer bytes than the header's total_size              errc::truncated
//   header sizes, flags, reserved bytes                   errc::corrupt_data
//   directory past total_size                             errc::truncated
//   directory checksum                                    errc::checksum_mismatch
//   per entry, in directory order:
//     name empty, unterminated, or not after the previous one (duplicate / unsorted)
//                                                         errc::corrupt_data
//     unknown format or dtype tag, nonzero unused fields, bad quant group, wrong section
//     count or kinds                                      errc::corrupt_data
//     a section offset not a multiple of 64               errc::misaligned
//     a section starting before the previous one and its 64 tail bytes end (overlap, or
//     out of order)                                       errc::corrupt_data
//     a section (plus the 64 tail bytes after it) past total_size
//                                                         errc::truncated
//     tail bytes not zero (kernels may load them)         errc::corrupt_data
//     data checksum                                       errc::checksum_mismatch
//     shape: a side >= 2^31                               errc::index_overflow
//     a size product that overflows                       errc::size_overflow
//     section sizes: shorter than the header implies      errc::truncated
//                    longer                               errc::corrupt_data
//     the format's own validate(): row pointers that decrease (or exceed nnz, which is the
//     last row pointer), column indices >= K or not ascending, N:M masks without exactly N
//     bits or an illegal N:M pattern, kept-channel indices, non-finite or negative scales
//                                                         errc::corrupt_data (index_overflow
//                                                         for 16-bit indices past 65536)
// Messages name the entry ("blob entry 2 'layers.1.up': ..."). open_options::
// verify_checksums = false skips only the two checksums (for flash a caller trusts); every
// bounds and structure check still runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../core/error.hpp"
#include "../core/views.hpp"
#include "blob_codecs.hpp"
#include "blob_format.hpp"

namespace sieve::io {

struct open_options {
    bool verify_checksums = true;
};

class blob_reader;
result<blob_reader> open_blob(span<const std::byte> blob, open_options options = {}) noexcept;

// A validated blob: its directory and typed views of its entries. Trivially copyable; it
// points into the bytes given to open_blob.
class blob_reader {
public:
    blob_reader() = default;

    std::size_t size() const noexcept { return count_; }  // number of entries
    span<const std::byte> bytes() const noexcept { return {data_, size_}; }

    // Entry `i` in directory (name) order. Precondition: i < size().
    blob_entry entry(std::size_t i) const noexcept { return decode_entry(data_, size_, i); }

    // The entry named `name` (binary search: the directory is sorted); errc::not_found.
    result<blob_entry> find(name_ref name) const noexcept {
        std::size_t lo = 0, hi = count_;
        while (lo < hi) {
            const std::size_t mid = lo + (hi - lo) / 2;
            const int c = entry_name(data_, mid).compare(name);
            if (c == 0) return entry(mid);
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        return status::error(errc::not_found, "blob has no entry named '%.*s'", printable_length(name),
                             name.data != nullptr ? name.data : "");
    }

    // The view of the entry named `name`, pointing into the blob: errc::not_found, or
    // errc::type_mismatch when the entry holds another format, dtype or BSR block shape.
    // View: dense_view<T>, csr_view<T>, nm_view<T>, bsr_view<T, R, C>, channel_pruned_view<T>,
    // bitmap_view<T>
    // with T = float or std::int8_t.
    template <class View>
    result<View> get(name_ref name) const noexcept {
        auto e = find(name);
        if (!e.ok()) return e.error();
        return view_of<View>(*e);
    }
    template <class View>
    result<View> get(std::size_t index) const noexcept {
        if (index >= count_)
            return status::error(errc::not_found, "blob has %zu entries, no entry %zu", count_, index);
        return view_of<View>(entry(index));
    }

    // Decoding of directory records (bounds checked by open_blob before any use).
    static name_ref entry_name(const std::byte* blob, std::size_t i) noexcept {
        const std::byte* record = blob + layout::header_size + i * layout::entry_size;
        const char* name = reinterpret_cast<const char*>(record + layout::name);
        std::size_t length = 0;
        while (length < layout::name_field && name[length] != '\0') ++length;
        return {name, length};
    }
    static blob_entry decode_entry(const std::byte* blob, std::uint64_t total, std::size_t i) noexcept {
        const std::byte* r = blob + layout::header_size + i * layout::entry_size;
        blob_entry e;
        e.name = entry_name(blob, i);
        e.format = static_cast<blob_format>(load_le16(r + layout::format));
        e.dtype = static_cast<blob_dtype>(load_le(r + layout::dtype, 1));
        e.index_bytes = static_cast<std::uint8_t>(load_le(r + layout::index_bytes, 1));
        e.section_count = load_le32(r + layout::section_count);
        e.rows = load_le64(r + layout::rows);
        e.cols = load_le64(r + layout::cols);
        e.param_a = load_le32(r + layout::param_a);
        e.param_b = load_le32(r + layout::param_b);
        e.quant_group = load_le32(r + layout::quant_group);
        e.data_crc = load_le32(r + layout::data_crc);
        e.inner_rows = load_le64(r + layout::inner_rows);
        e.inner_cols = load_le64(r + layout::inner_cols);
        for (std::size_t s = 0; s < max_sections; ++s) {
            const std::byte* rec = r + layout::sections + s * layout::section_record;
            blob_section& out = e.sections[s];
            out.kind = static_cast<section_kind>(load_le32(rec + layout::section_kind));
            out.offset = load_le64(rec + layout::section_offset);
            out.size = load_le64(rec + layout::section_size);
            out.data = s < e.section_count && out.offset <= total ? blob + out.offset : nullptr;
        }
        return e;
    }

    static int printable_length(name_ref name) noexcept {
        return static_cast<int>(name.size < 100 ? name.size : 100);
    }

private:
    friend result<blob_reader> open_blob(span<const std::byte>, open_options) noexcept;

    template <class View>
    static result<View> view_of(const blob_entry& e) noexcept {
        using codec = typename codec_of<View>::type;
        using T = value_type_of<View>;
        if (e.format != codec::format || e.dtype != dtype_of<T>())
            return status::error(errc::type_mismatch, "blob entry '%.*s' holds %s %s, asked for %s %s",
                                 printable_length(e.name), e.name.data, to_string(e.format), to_string(e.dtype),
                                 codec::name, to_string(dtype_of<T>()));
        auto v = codec::template bind<View>(e);
        if (!v.ok())
            return status::error(v.error().code(), "blob entry '%.*s': %s", printable_length(e.name), e.name.data,
                                 v.message());
        return v;
    }

    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t count_ = 0;
};

namespace detail {

inline bool all_zero(const std::byte* p, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        if (p[i] != std::byte{0}) return false;
    return true;
}

// Header fields, tags and section bounds of entry `e` (its record lies in bounds). Sections
// must start at or after `end` (updated past the last one's tail) and, with their 64 zero
// tail bytes, end within `total`.
inline status check_entry_frame(const std::byte* record, const blob_entry& e, const blob_entry* previous,
                                 std::uint64_t& end, std::uint64_t total) noexcept {
    if (e.name.size == 0) return status::error(errc::corrupt_data, "empty name");
    if (e.name.size == layout::name_field) return status::error(errc::corrupt_data, "name is not NUL-terminated");
    if (!all_zero(record + e.name.size, layout::name_field - e.name.size))
        return status::error(errc::corrupt_data, "bytes after the name's terminator are not zero");
    if (previous != nullptr) {
        const int order = previous->name.compare(e.name);
        if (order == 0) return status::error(errc::corrupt_data, "duplicate name");
        if (order > 0) return status::error(errc::corrupt_data, "directory not sorted by name");
    }

    section_list expected;
    unsigned uses = 0;
    if (!blob_codecs::visit(e.format, [&](auto codec) {
            expected = decltype(codec)::sections(e.dtype);
            uses = decltype(codec)::uses;
        }))
        return status::error(errc::corrupt_data, "unknown format tag %u", static_cast<unsigned>(e.format));
    if (e.dtype != blob_dtype::f32 && e.dtype != blob_dtype::i8)
        return status::error(errc::corrupt_data, "unknown dtype tag %u", static_cast<unsigned>(e.dtype));
    if (!(uses & fields::index_bytes) && e.index_bytes != 0)
        return status::error(errc::corrupt_data, "index width %u set on a format without indices", e.index_bytes);
    if (!(uses & fields::params) && (e.param_a != 0 || e.param_b != 0))
        return status::error(errc::corrupt_data, "block / pattern fields set on a format without them");
    if (!(uses & fields::inner) && (e.inner_rows != 0 || e.inner_cols != 0))
        return status::error(errc::corrupt_data, "inner shape set on a format without one");
    if (e.dtype == blob_dtype::f32 && e.quant_group != 0)
        return status::error(errc::corrupt_data, "fp32 entry with scale group %u", e.quant_group);
    if (e.dtype == blob_dtype::i8 && !sieve::detail::check_quant_group("int8 entry", e.quant_group).ok())
        return status::error(errc::corrupt_data, "scale group %u (0, 32, 64 or 128)", e.quant_group);
    if (!all_zero(record + layout::entry_reserved, 8))
        return status::error(errc::corrupt_data, "reserved entry bytes are not zero");
    if (e.section_count != expected.count)
        return status::error(errc::corrupt_data, "%u sections, %s %s stores %zu", e.section_count,
                             to_string(e.format), to_string(e.dtype), expected.count);

    for (std::size_t i = 0; i < max_sections; ++i) {
        const std::byte* rec = record + layout::sections + i * layout::section_record;
        const blob_section& s = e.sections[i];
        if (i >= expected.count) {
            if (!all_zero(rec, layout::section_record))
                return status::error(errc::corrupt_data, "unused section record %zu is not zero", i);
            continue;
        }
        if (load_le32(rec + layout::section_kind) != static_cast<std::uint32_t>(expected.kinds[i]))
            return status::error(errc::corrupt_data, "section %zu has kind %u, %s expects %s", i,
                                 load_le32(rec + layout::section_kind), to_string(e.format),
                                 to_string(expected.kinds[i]));
        if (load_le32(rec + layout::section_reserved) != 0)
            return status::error(errc::corrupt_data, "section %zu: reserved bytes are not zero", i);
        if (s.offset % blob_alignment != 0)
            return status::error(errc::misaligned, "%s section at offset %llu is not 64-byte aligned",
                                 to_string(s.kind), static_cast<unsigned long long>(s.offset));
        if (s.offset < end)
            return status::error(errc::corrupt_data,
                                 "%s section at offset %llu overlaps what precedes it (ends, with its tail, at %llu)",
                                 to_string(s.kind), static_cast<unsigned long long>(s.offset),
                                 static_cast<unsigned long long>(end));
        if (s.offset > total || s.size > total - s.offset || total - s.offset - s.size < blob_tail_bytes)
            return status::error(errc::truncated,
                                 "%s section [%llu, +%llu) and its %zu tail bytes pass the end of the blob (%llu bytes)",
                                 to_string(s.kind), static_cast<unsigned long long>(s.offset),
                                 static_cast<unsigned long long>(s.size), blob_tail_bytes,
                                 static_cast<unsigned long long>(total));
        if (!all_zero(s.data + s.size, blob_tail_bytes))
            return status::error(errc::corrupt_data, "the %zu bytes after the %s section are not zero", blob_tail_bytes,
                                 to_string(s.kind));
        end = s.offset + s.size + blob_tail_bytes;
    }
    return {};
}

inline std::uint32_t entry_data_crc(const blob_entry& e) noexcept {
    std::uint32_t state = crc32c_init;
    for (std::size_t i = 0; i < e.section_count; ++i)
        state = crc32c_update(state, e.sections[i].data, static_cast<std::size_t>(e.sections[i].size));
    return crc32c_finish(state);
}

// Sizes and structure, by the entry's codec.
inline status check_entry_contents(const blob_entry& e) noexcept {
    status s;
    blob_codecs::visit(e.format, [&](auto codec) {
        using codec_t = decltype(codec);
        s = e.dtype == blob_dtype::f32 ? codec_t::template check<float>(e) : codec_t::template check<std::int8_t>(e);
    });
    return as_data_error(std::move(s));
}

}  // namespace detail

// Validates `blob` (see the top of this file) and returns a reader over it. Linear in the
// blob's size; reads nothing outside [blob.data, blob.data + blob.size).
inline result<blob_reader> open_blob(span<const std::byte> blob, open_options options) noexcept {
    const std::byte* p = blob.data;
    if (blob.size != 0 && p == nullptr) return status::error(errc::null_pointer, "blob: null data");
    if (!host_is_little_endian())
        return status::error(errc::unsupported, "blob: zero-copy views need a little-endian host");
    const std::size_t prefix = blob.size < sizeof blob_magic ? blob.size : sizeof blob_magic;
    if (prefix != 0 && std::memcmp(p, blob_magic, prefix) != 0)
        return status::error(errc::bad_magic, "blob: not a sieve blob (magic differs)");
    if (blob.size < layout::header_size)
        return status::error(errc::truncated, "blob: %zu bytes, shorter than the %zu-byte header", blob.size,
                             layout::header_size);
    if (reinterpret_cast<std::uintptr_t>(p) % blob_alignment != 0)
        return status::error(errc::misaligned, "blob: data at %p is not 64-byte aligned", static_cast<const void*>(p));

    const std::uint32_t version = load_le32(p + layout::version);
    if (version != blob_version)
        return status::error(errc::unsupported_version, "blob: format version %u, this reader reads version %u",
                             version, blob_version);
    const std::uint64_t total = load_le64(p + layout::total_size);
    if (total > blob.size)
        return status::error(errc::truncated, "blob: %zu bytes, the header declares %llu", blob.size,
                             static_cast<unsigned long long>(total));
    if (load_le32(p + layout::header_size_field) != layout::header_size ||
        load_le32(p + layout::entry_size_field) != layout::entry_size ||
        load_le64(p + layout::directory_offset) != layout::header_size)
        return status::error(errc::corrupt_data, "blob: header, entry or directory placement differs from version 1");
    if (load_le32(p + layout::flags) != 0 || !detail::all_zero(p + layout::header_reserved, 16))
        return status::error(errc::corrupt_data, "blob: reserved header bytes are not zero");
    if (total < layout::header_size)
        return status::error(errc::corrupt_data, "blob: declared size %llu is smaller than the header",
                             static_cast<unsigned long long>(total));
    const std::uint64_t count = load_le32(p + layout::entry_count);
    const std::uint64_t directory_end = layout::header_size + count * layout::entry_size;  // < 2^42: no wrap
    if (directory_end > total)
        return status::error(errc::truncated, "blob: %llu directory entries pass the end (%llu bytes)",
                             static_cast<unsigned long long>(count), static_cast<unsigned long long>(total));
    if (options.verify_checksums) {
        const std::uint32_t stored = load_le32(p + layout::directory_crc);
        const std::uint32_t computed = directory_crc(p, static_cast<std::size_t>(count));
        if (stored != computed)
            return status::error(errc::checksum_mismatch, "blob: directory checksum %08x, computed %08x", stored,
                                 computed);
    }

    std::uint64_t end = directory_end;
    blob_entry previous;
    for (std::size_t i = 0; i < count; ++i) {
        const blob_entry e = blob_reader::decode_entry(p, total, i);
        const std::byte* record = p + layout::header_size + i * layout::entry_size;
        status s = detail::check_entry_frame(record, e, i == 0 ? nullptr : &previous, end, total);
        if (s.ok() && options.verify_checksums) {
            const std::uint32_t computed = detail::entry_data_crc(e);
            if (computed != e.data_crc)
                s = status::error(errc::checksum_mismatch, "data checksum %08x, computed %08x", e.data_crc, computed);
        }
        if (s.ok()) s = detail::check_entry_contents(e);
        if (!s.ok())
            return status::error(s.code(), "blob entry %zu '%.*s': %s", i, blob_reader::printable_length(e.name),
                                 e.name.data, s.message());
        previous = e;
    }

    blob_reader r;
    r.data_ = p;
    r.size_ = static_cast<std::size_t>(total);
    r.count_ = static_cast<std::size_t>(count);
    return r;
}

}  // namespace sieve::io
