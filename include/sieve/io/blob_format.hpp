// The sieve blob: a versioned binary container of named packed matrices, read in place.
//
// Packed weights are written once offline (io/blob_writer.hpp) and loaded many times: an
// engine memory-maps the file, a firmware image links it as a const array, and the reader
// (io/blob_reader.hpp) returns views pointing into those bytes: no copy, no heap.
//
// ---- Byte layout, format version 1 (this comment is the specification) ------------------
// All integers are little-endian and unsigned; offsets are from the first byte of the blob.
// The blob itself must start 64-byte aligned in memory; every section starts at an offset
// that is a multiple of 64, so every array a kernel reads is 64-byte aligned.
//
// File header, 64 bytes at offset 0:
//     0  8  magic            "SIEVEBLB"
//     8  4  version          1 (a reader refuses any other: errc::unsupported_version)
//    12  4  header_size      64
//    16  4  entry_count      number of directory entries (may be 0)
//    20  4  entry_size       320
//    24  8  directory_offset 64 (the directory follows the header)
//    32  8  total_size       bytes of the blob; trailing bytes past it are ignored
//    40  4  flags            0 (reserved)
//    44  4  directory_crc    CRC-32C of bytes [0, 44) followed by the whole directory
//    48 16  reserved         0
//
// Directory: entry_count entries of 320 bytes, sorted by name (bytewise, strictly
// ascending: no duplicates; lookups are binary searches). Entry:
//     0 64  name             1..63 bytes, then NUL bytes to the end of the field
//    64  2  format           blob_format tag (dense 1, csr 2, nm 3, bsr 4, channel_pruned 5,
//                                 bitmap 6)
//    66  1  dtype            blob_dtype tag (f32 1, i8 2)
//    67  1  index_bytes      width of stored column/block indices: 2 or 4 (CSR, BSR), else 0
//    68  4  section_count    sections used in the table below (the format fixes it)
//    72  8  rows             M: the layer's output rows
//    80  8  cols             K: the layer's input columns
//    88  4  param_a          N:M: N;  BSR: block rows R;  else 0
//    92  4  param_b          N:M: M;  BSR: block cols C;  else 0
//    96  4  quant_group      int8: scale group (0 = one scale per row, 32, 64, 128); f32: 0
//   100  4  data_crc         CRC-32C of the entry's sections' bytes, in table order
//   104  8  inner_rows       channel_pruned: kept outputs M'; else 0
//   112  8  inner_cols       channel_pruned: kept inputs K'; else 0
//   120  8  reserved         0
//   128 192  sections        8 records of 24 bytes; unused records are all zero:
//            +0 4 kind       section_kind tag
//            +4 4 reserved   0
//            +8 8 offset     multiple of 64
//           +16 8 size       bytes of the array (no padding)
//
// Sections lie after the directory, in directory order and table order. Each is followed
// by 64 zero bytes (kernels may load one vector past an array's end, as they may past an
// aligned_buffer), inside total_size, and the next section starts after those (no overlap). What each format stores, in table order (T = float or int8_t;
// "scales" = int8 only: rows x ceil(K / group) floats, or rows x 1 for group 0):
//   dense          values  rows x ld T, ld = K rounded up to 64 bytes of T, padding zero;
//                  scales
//   csr            row_ptr (rows + 1) u32, row_ptr[0] = 0, nnz = row_ptr[rows];
//                  col_index nnz indices of index_bytes; values nnz T; scales
//   nm             values  rows x (G * N) T, G = ceil(K / M);  nm_meta rows x meta_ld bytes,
//                  meta_ld = ceil(G * M / 64) * 8, M-bit masks (formats/nm.hpp); scales
//   bsr            row_ptr (ceil(rows / R) + 1) u32 block-row pointers; col_index nnzb
//                  block-column indices of index_bytes; values nnzb x R x C T; scales
//   channel_pruned values and scales of the inner dense M' x K' matrix (as dense);
//                  kept_inputs K' u32; kept_outputs M' u32 (ascending channel indices)
//   bitmap         row_ptr (rows + 1) u32, row_ptr[0] = 0, nnz = row_ptr[rows];
//                  bitmap_mask rows x ceil(K / 64) u64 words (formats/bitmap.hpp);
//                  values nnz T; scales
// Section sizes must be exactly these (a shorter one is errc::truncated, a longer one
// errc::corrupt_data).
//
// Checksum: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final
// xor 0xFFFFFFFF; crc32c("123456789") = 0xE3069283), computed by slicing-by-8 tables built
// at compile time. A CRC detects every single-byte change and every burst of up to 32 bits,
// which a 64-bit hash only does with high probability; it runs at about 1-2 bytes per cycle.
// ------------------------------------------------------------------------------------------
//
// This header holds the layout constants, the tags, the checksum and the little-endian field
// access shared by the reader and the writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"
#include "../core/views.hpp"

namespace sieve::io {

inline constexpr char blob_magic[8] = {'S', 'I', 'E', 'V', 'E', 'B', 'L', 'B'};
inline constexpr std::uint32_t blob_version = 1;
inline constexpr std::size_t blob_alignment = 64;    // blob base and every section offset
inline constexpr std::size_t blob_tail_bytes = 64;   // readable bytes after every section
inline constexpr std::size_t max_sections = 8;
inline constexpr std::size_t max_name_length = 63;

// Offsets of the fields the specification above names.
namespace layout {
inline constexpr std::size_t header_size = 64;
inline constexpr std::size_t magic = 0, version = 8, header_size_field = 12, entry_count = 16, entry_size_field = 20,
                             directory_offset = 24, total_size = 32, flags = 40, directory_crc = 44,
                             header_reserved = 48;
inline constexpr std::size_t entry_size = 320;
inline constexpr std::size_t name = 0, name_field = 64, format = 64, dtype = 66, index_bytes = 67,
                             section_count = 68, rows = 72, cols = 80, param_a = 88, param_b = 92,
                             quant_group = 96, data_crc = 100, inner_rows = 104, inner_cols = 112,
                             entry_reserved = 120, sections = 128;
inline constexpr std::size_t section_record = 24;
inline constexpr std::size_t section_kind = 0, section_reserved = 4, section_offset = 8, section_size = 16;
}  // namespace layout

// Format tags. Adding a format: one value here, its codec in io/blob_codecs.hpp.
enum class blob_format : std::uint16_t { dense = 1, csr = 2, nm = 3, bsr = 4, channel_pruned = 5, bitmap = 6 };

enum class blob_dtype : std::uint8_t { f32 = 1, i8 = 2 };

enum class section_kind : std::uint16_t {
    values = 1,
    scales = 2,
    row_ptr = 3,    // CSR and bitmap row pointers, BSR block-row pointers
    col_index = 4,  // CSR column indices, BSR block-column indices
    nm_meta = 5,
    kept_inputs = 6,
    kept_outputs = 7,
    bitmap_mask = 8,
};

inline const char* to_string(blob_dtype d) noexcept {
    switch (d) {
    case blob_dtype::f32: return "f32";
    case blob_dtype::i8: return "int8";
    }
    return "unknown dtype";
}

inline const char* to_string(section_kind k) noexcept {
    switch (k) {
    case section_kind::values: return "values";
    case section_kind::scales: return "scales";
    case section_kind::row_ptr: return "row_ptr";
    case section_kind::col_index: return "col_index";
    case section_kind::nm_meta: return "nm_meta";
    case section_kind::kept_inputs: return "kept_inputs";
    case section_kind::kept_outputs: return "kept_outputs";
    case section_kind::bitmap_mask: return "bitmap_mask";
    }
    return "unknown section";
}

template <class T>
constexpr blob_dtype dtype_of() noexcept {
    static_assert(std::is_same<T, float>::value || std::is_same<T, std::int8_t>::value, "fp32 or int8 values");
    return std::is_same<T, float>::value ? blob_dtype::f32 : blob_dtype::i8;
}

// A name: a pointer and a length (no terminator needed). Converts from a C string and from
// any string type with data() and size() (std::string, std::string_view).
struct name_ref {
    const char* data = nullptr;
    std::size_t size = 0;

    constexpr name_ref() = default;
    constexpr name_ref(const char* ptr, std::size_t count) noexcept : data(ptr), size(count) {}
    name_ref(const char* c_string) noexcept  // NOLINT: implicit by design
        : data(c_string), size(c_string == nullptr ? 0 : std::strlen(c_string)) {}
    template <class String, class = decltype(std::declval<const String&>().data()),
              class = decltype(std::declval<const String&>().size())>
    name_ref(const String& s) noexcept : data(s.data()), size(s.size()) {}  // NOLINT

    // Bytewise order, a shorter prefix first: the directory's sort order.
    int compare(name_ref other) const noexcept {
        const std::size_t common = size < other.size ? size : other.size;
        const int c = common == 0 ? 0 : std::memcmp(data, other.data, common);
        if (c != 0) return c;
        return size < other.size ? -1 : (size > other.size ? 1 : 0);
    }
};

// One section of a directory entry: what it holds, where (offset from the blob's start and,
// once the blob is open, the address) and how many bytes.
struct blob_section {
    section_kind kind = section_kind::values;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    const std::byte* data = nullptr;  // reader: the blob's base + offset; writer: unused
};

// A directory entry, decoded. Fields a format does not use are 0.
struct blob_entry {
    name_ref name;  // reader: points into the blob
    blob_format format = blob_format::dense;
    blob_dtype dtype = blob_dtype::f32;
    std::uint8_t index_bytes = 0;
    std::uint32_t section_count = 0;
    std::uint64_t rows = 0, cols = 0;
    std::uint32_t param_a = 0, param_b = 0;  // N:M: N, M; BSR: R, C
    std::uint32_t quant_group = 0;
    std::uint32_t data_crc = 0;
    std::uint64_t inner_rows = 0, inner_cols = 0;  // channel_pruned: M', K'
    blob_section sections[max_sections]{};
};

// ---- little-endian fields ------------------------------------------------------------------
// Header fields are read byte by byte (no alignment or endianness assumption). The arrays
// of sections are used in place, which needs a little-endian host: open_blob refuses
// others.

inline bool host_is_little_endian() noexcept {
    const std::uint32_t probe = 1;
    unsigned char first = 0;
    std::memcpy(&first, &probe, 1);
    return first == 1;
}

inline std::uint64_t load_le(const std::byte* p, std::size_t bytes) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
}
inline std::uint16_t load_le16(const std::byte* p) noexcept { return static_cast<std::uint16_t>(load_le(p, 2)); }
inline std::uint32_t load_le32(const std::byte* p) noexcept { return static_cast<std::uint32_t>(load_le(p, 4)); }
inline std::uint64_t load_le64(const std::byte* p) noexcept { return load_le(p, 8); }

inline void store_le(std::byte* p, std::uint64_t v, std::size_t bytes) noexcept {
    for (std::size_t i = 0; i < bytes; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFu);
}
inline void store_le16(std::byte* p, std::uint16_t v) noexcept { store_le(p, v, 2); }
inline void store_le32(std::byte* p, std::uint32_t v) noexcept { store_le(p, v, 4); }
inline void store_le64(std::byte* p, std::uint64_t v) noexcept { store_le(p, v, 8); }

// ---- CRC-32C, slicing-by-8 -------------------------------------------------------------------
namespace detail {

struct crc32c_tables {
    std::uint32_t t[8][256];
};

// t[0] is the classic byte table; t[k][b] is the CRC of byte b followed by k zero bytes, so
// eight table lookups fold eight input bytes at once.
constexpr crc32c_tables make_crc32c_tables() noexcept {
    crc32c_tables tables{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t c = b;
        for (int i = 0; i < 8; ++i) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        tables.t[0][b] = c;
    }
    for (std::uint32_t b = 0; b < 256; ++b)
        for (int k = 1; k < 8; ++k)
            tables.t[k][b] = (tables.t[k - 1][b] >> 8) ^ tables.t[0][tables.t[k - 1][b] & 0xFFu];
    return tables;
}

inline constexpr crc32c_tables crc32c_table = make_crc32c_tables();

}  // namespace detail

// Continues a CRC-32C over `size` more bytes. Start with crc32c_init, finish with
// crc32c_finish (or use crc32c() for one buffer).
inline constexpr std::uint32_t crc32c_init = 0xFFFFFFFFu;
inline std::uint32_t crc32c_update(std::uint32_t state, const std::byte* p, std::size_t size) noexcept {
    const auto& t = detail::crc32c_table.t;
    while (size >= 8) {
        const std::uint32_t lo = state ^ static_cast<std::uint32_t>(load_le(p, 4));
        const std::uint32_t hi = static_cast<std::uint32_t>(load_le(p + 4, 4));
        state = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
                t[3][hi & 0xFFu] ^ t[2][(hi >> 8) & 0xFFu] ^ t[1][(hi >> 16) & 0xFFu] ^ t[0][hi >> 24];
        p += 8;
        size -= 8;
    }
    for (; size != 0; --size, ++p) state = (state >> 8) ^ t[0][(state ^ static_cast<std::uint32_t>(*p)) & 0xFFu];
    return state;
}
inline constexpr std::uint32_t crc32c_finish(std::uint32_t state) noexcept { return state ^ 0xFFFFFFFFu; }
inline std::uint32_t crc32c(const std::byte* p, std::size_t size) noexcept {
    return crc32c_finish(crc32c_update(crc32c_init, p, size));
}

// The directory checksum of a blob whose header and directory lie in [p, p + 64 + entries *
// 320) (the caller checked those bounds).
inline std::uint32_t directory_crc(const std::byte* p, std::size_t entries) noexcept {
    std::uint32_t state = crc32c_update(crc32c_init, p, layout::directory_crc);
    state = crc32c_update(state, p + layout::header_size, entries * layout::entry_size);
    return crc32c_finish(state);
}

}  // namespace sieve::io
