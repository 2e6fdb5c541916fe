// Writing a sieve blob (layout: io/blob_format.hpp): collect named packed matrices, then
// write them to memory or a file. Offline code: this may allocate.
//
//   sieve::io::blob_writer out;
//   SIEVE_TRY(out.add("layers.0.up", up));       // any packed matrix or view, fp32 or int8
//   SIEVE_TRY(out.add("layers.0.down", down));
//   SIEVE_TRY(out.write_file("model.sieve"));     // or out.to_bytes()
//
// The writer keeps pointers to the matrices' storage, not copies: they must stay alive and
// unchanged until the last write. Each matrix is validated (its format's validate()) when
// added; names are 1..63 bytes without NUL, unique. The output is deterministic: entries
// sorted by name, sections in table order, every gap and tail zero.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../core/aligned_buffer.hpp"
#include "../core/error.hpp"
#include "../core/views.hpp"
#include "blob_codecs.hpp"
#include "blob_format.hpp"

namespace sieve::io {
namespace detail {

// An owning matrix's view, or the view itself.
template <class M>
auto as_view(const M& m, int) -> decltype(m.view()) {
    return m.view();
}
template <class V>
const V& as_view(const V& v, long) {
    return v;
}

}  // namespace detail

class blob_writer {
public:
    // Adds `matrix` (dense, CSR, N:M, BSR, channel-pruned; owning or view; fp32 or int8)
    // under `name`.
    template <class Matrix>
    status add(name_ref name, const Matrix& matrix) {
        const auto& view = detail::as_view(matrix, 0);
        using view_type = std::decay_t<decltype(view)>;
        using codec = typename codec_of<view_type>::type;
        SIEVE_TRY(check_name(name));
        status valid = validate(view);
        if (!valid.ok())
            return status::error(valid.code(), "blob writer: '%.*s': %s", static_cast<int>(name.size), name.data,
                                 valid.message());
        item it;
        it.name.assign(name.data, name.size);
        codec::describe(view, it.plan);
        const auto at = std::lower_bound(items_.begin(), items_.end(), name,
                                         [](const item& a, name_ref b) { return name_ref(a.name).compare(b) < 0; });
        if (at != items_.end() && name_ref(at->name).compare(name) == 0)
            return status::error(errc::bad_argument, "blob writer: duplicate name '%.*s'", static_cast<int>(name.size),
                                 name.data);
        items_.insert(at, std::move(it));
        return {};
    }

    std::size_t size() const noexcept { return items_.size(); }

    // Bytes the blob will take.
    std::size_t serialized_size() const noexcept {
        std::uint64_t cursor = layout::header_size + items_.size() * layout::entry_size;
        for (const item& it : items_)
            for (std::size_t s = 0; s < it.plan.entry.section_count; ++s)
                cursor = next_offset(cursor, it.plan.sources[s].bytes());
        return static_cast<std::size_t>(cursor);
    }

    // Writes the blob into `out` (at least serialized_size() bytes; open it in place only if
    // it is 64-byte aligned).
    status write_to(span<std::byte> out) const noexcept {
        if (!host_is_little_endian())
            return status::error(errc::unsupported, "blob writer: blobs are written on little-endian hosts");
        const std::size_t total = serialized_size();
        if (out.size < total)
            return status::error(errc::shape_mismatch, "blob writer: %zu bytes given, the blob needs %zu", out.size,
                                 total);
        if (out.data == nullptr) return status::error(errc::null_pointer, "blob writer: null output");
        std::byte* p = out.data;
        std::memset(p, 0, total);
        std::memcpy(p + layout::magic, blob_magic, sizeof blob_magic);
        store_le32(p + layout::version, blob_version);
        store_le32(p + layout::header_size_field, layout::header_size);
        store_le32(p + layout::entry_count, static_cast<std::uint32_t>(items_.size()));
        store_le32(p + layout::entry_size_field, layout::entry_size);
        store_le64(p + layout::directory_offset, layout::header_size);
        store_le64(p + layout::total_size, total);

        std::uint64_t cursor = layout::header_size + items_.size() * layout::entry_size;
        for (std::size_t i = 0; i < items_.size(); ++i) {
            const item& it = items_[i];
            const blob_entry& e = it.plan.entry;
            std::byte* r = p + layout::header_size + i * layout::entry_size;
            std::memcpy(r + layout::name, it.name.data(), it.name.size());
            store_le16(r + layout::format, static_cast<std::uint16_t>(e.format));
            store_le(r + layout::dtype, static_cast<std::uint8_t>(e.dtype), 1);
            store_le(r + layout::index_bytes, e.index_bytes, 1);
            store_le32(r + layout::section_count, e.section_count);
            store_le64(r + layout::rows, e.rows);
            store_le64(r + layout::cols, e.cols);
            store_le32(r + layout::param_a, e.param_a);
            store_le32(r + layout::param_b, e.param_b);
            store_le32(r + layout::quant_group, e.quant_group);
            store_le64(r + layout::inner_rows, e.inner_rows);
            store_le64(r + layout::inner_cols, e.inner_cols);
            std::uint32_t crc = crc32c_init;
            for (std::size_t s = 0; s < e.section_count; ++s) {
                const section_source& src = it.plan.sources[s];
                std::byte* rec = r + layout::sections + s * layout::section_record;
                store_le32(rec + layout::section_kind, static_cast<std::uint32_t>(src.kind));
                store_le64(rec + layout::section_offset, cursor);
                store_le64(rec + layout::section_size, src.bytes());
                std::byte* dst = p + cursor;
                for (std::size_t row = 0; row < src.rows && src.row_bytes != 0; ++row)
                    std::memcpy(dst + row * src.padded_row, static_cast<const std::byte*>(src.data) + row * src.stride,
                                src.row_bytes);
                crc = crc32c_update(crc, dst, src.bytes());
                cursor = next_offset(cursor, src.bytes());
            }
            store_le32(r + layout::data_crc, crc32c_finish(crc));
        }
        store_le32(p + layout::directory_crc, directory_crc(p, items_.size()));
        return {};
    }

    // The blob in fresh 64-byte-aligned storage, ready for open_blob.
    result<aligned_buffer<std::byte>> to_bytes() const noexcept {
        aligned_buffer<std::byte> out;
        SIEVE_TRY(out.allocate(serialized_size()));
        SIEVE_TRY(write_to({out.data(), out.size()}));
        return out;
    }

    status write_file(const char* path) const noexcept {
        auto bytes = to_bytes();
        if (!bytes.ok()) return bytes.error();
        std::FILE* f = std::fopen(path, "wb");
        if (f == nullptr) return status::error(errc::io_error, "blob writer: cannot open '%s' for writing", path);
        const bool written = std::fwrite(bytes->data(), 1, bytes->size(), f) == bytes->size();
        const bool closed = std::fclose(f) == 0;
        if (!written || !closed) return status::error(errc::io_error, "blob writer: cannot write '%s'", path);
        return {};
    }

private:
    struct item {
        std::string name;
        entry_plan plan;
    };

    // Where the section after one of `bytes` at `offset` starts: past its 64 zero tail
    // bytes, 64-byte aligned.
    static std::uint64_t next_offset(std::uint64_t offset, std::uint64_t bytes) noexcept {
        return (offset + bytes + blob_tail_bytes + blob_alignment - 1) / blob_alignment * blob_alignment;
    }

    static status check_name(name_ref name) noexcept {
        if (name.size == 0 || name.size > max_name_length)
            return status::error(errc::bad_argument, "blob writer: name of %zu bytes (1..%zu)", name.size,
                                 max_name_length);
        if (std::memchr(name.data, 0, name.size) != nullptr)
            return status::error(errc::bad_argument, "blob writer: name holds a NUL byte");
        return {};
    }

    std::vector<item> items_;
};

}  // namespace sieve::io
