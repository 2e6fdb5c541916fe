// Owning load of a sieve blob: the bytes are read (or copied) into 64-byte-aligned storage
// that the returned object owns, then opened exactly as open_blob does; views stay valid
// while the owned_blob lives (moving it keeps them valid: the storage does not move).
//
//   auto model = sieve::io::load_blob_file("model.sieve");
//   auto up = model->get<sieve::csr_view<std::int8_t>>("layers.0.up");
//
// For a memory-mapped file or a linked array, use open_blob (io/blob_reader.hpp) instead:
// no copy at all.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <utility>

#include "../core/aligned_buffer.hpp"
#include "../core/error.hpp"
#include "blob_reader.hpp"

namespace sieve::io {

class owned_blob {
public:
    const blob_reader& reader() const noexcept { return reader_; }
    const blob_reader* operator->() const noexcept { return &reader_; }

    template <class View>
    result<View> get(name_ref name) const noexcept {
        return reader_.get<View>(name);
    }

    // Takes ownership of `storage` holding a blob and opens it.
    static result<owned_blob> adopt(aligned_buffer<std::byte> storage, std::size_t size,
                                    open_options options = {}) noexcept {
        owned_blob out;
        out.storage_ = std::move(storage);
        auto r = open_blob({out.storage_.data(), size}, options);
        if (!r.ok()) return r.error();
        out.reader_ = *r;
        return out;
    }

private:
    aligned_buffer<std::byte> storage_;
    blob_reader reader_;
};

// Copies `bytes` (any alignment) into owned aligned storage and opens them.
inline result<owned_blob> copy_blob(span<const std::byte> bytes, open_options options = {}) noexcept {
    aligned_buffer<std::byte> storage;
    SIEVE_TRY(storage.allocate(bytes.size));
    if (bytes.size != 0) std::memcpy(storage.data(), bytes.data, bytes.size);
    return owned_blob::adopt(std::move(storage), bytes.size, options);
}

// Reads the file at `path` and opens it (errc::io_error when it cannot be read).
inline result<owned_blob> load_blob_file(const char* path, open_options options = {}) noexcept {
    std::FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return status::error(errc::io_error, "blob: cannot open '%s'", path);
    long length = -1;
    if (std::fseek(f, 0, SEEK_END) == 0) length = std::ftell(f);
    if (length < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
        std::fclose(f);
        return status::error(errc::io_error, "blob: cannot size '%s'", path);
    }
    const std::size_t size = static_cast<std::size_t>(length);
    aligned_buffer<std::byte> storage;
    status s = storage.allocate(size);
    if (s.ok() && size != 0 && std::fread(storage.data(), 1, size, f) != size)
        s = status::error(errc::io_error, "blob: cannot read %zu bytes of '%s'", size, path);
    std::fclose(f);
    if (!s.ok()) return s;
    return owned_blob::adopt(std::move(storage), size, options);
}

}  // namespace sieve::io
