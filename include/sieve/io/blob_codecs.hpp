// The format table of the blob: one codec per packed format, saying how its view maps onto
// a directory entry and its sections (io/blob_format.hpp holds the byte layout).
//
// A codec is a struct with
//   format, name                  its blob_format tag and a name for messages;
//   uses                          which optional header fields it uses (others must be 0);
//   sections(dtype)               the section kinds it stores, in table order;
//   check<T>(entry)               exact section sizes from the header and earlier sections,
//                                 then the format's own linear validate() on the view;
//   bind<View>(entry)             the view over a checked entry (errc::type_mismatch when a
//                                 compile-time parameter, the BSR block shape, differs);
//   describe(view, plan)          the writer's side: header fields and section sources.
// Adding a format is one tag in blob_format, one codec struct here, one entry
// in `blob_codecs` and one `codec_of` specialization; neither the reader nor the writer changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "../formats/bitmap.hpp"
#include "../formats/bsr.hpp"
#include "../formats/csr.hpp"
#include "../formats/dense.hpp"
#include "../formats/nm.hpp"
#include "../formats/structured.hpp"
#include "blob_format.hpp"

namespace sieve::io {

// Where the writer takes a section's bytes from: `rows` rows of `row_bytes` bytes, `stride`
// bytes apart in memory, written `padded_row` bytes apart (the gap zero-filled). A
// contiguous array is one row.
struct section_source {
    section_kind kind = section_kind::values;
    const void* data = nullptr;
    std::size_t rows = 0, row_bytes = 0, stride = 0, padded_row = 0;

    std::size_t bytes() const noexcept { return rows * padded_row; }
};

// What the writer stores for one matrix: the entry's header fields (offsets not yet
// assigned) and where each section's bytes come from.
struct entry_plan {
    blob_entry entry{};
    section_source sources[max_sections]{};
};

// Optional header fields; a codec lists those it uses, the reader requires 0 in the others.
namespace fields {
inline constexpr unsigned index_bytes = 1, params = 2, inner = 4;
}

struct section_list {
    section_kind kinds[max_sections]{};
    std::size_t count = 0;
};

namespace detail {

using sieve::detail::scales_per_row;

inline bool mul_u64(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
    out = a * b;
    return true;
}

inline std::uint64_t round_up(std::uint64_t v, std::uint64_t to) noexcept { return (v + to - 1) / to * to; }

// The kinds in `base`, then scales for int8.
inline section_list with_scales(blob_dtype d, std::initializer_list<section_kind> base) noexcept {
    section_list out;
    for (section_kind k : base) out.kinds[out.count++] = k;
    if (d == blob_dtype::i8) out.kinds[out.count++] = section_kind::scales;
    return out;
}

// Section `i` holds exactly `count` elements of `element` bytes (count * element computed
// without wrapping).
inline status expect_size(const blob_entry& e, std::size_t i, std::uint64_t count, std::uint64_t element) noexcept {
    std::uint64_t want = 0;
    if (!mul_u64(count, element, want))
        return status::error(errc::size_overflow, "%s section of %llu x %llu bytes overflows",
                             to_string(e.sections[i].kind), static_cast<unsigned long long>(count),
                             static_cast<unsigned long long>(element));
    const std::uint64_t got = e.sections[i].size;
    if (got < want)
        return status::error(errc::truncated, "%s section has %llu bytes, needs %llu",
                             to_string(e.sections[i].kind), static_cast<unsigned long long>(got),
                             static_cast<unsigned long long>(want));
    if (got > want)
        return status::error(errc::corrupt_data, "%s section has %llu bytes, %llu more than the %llu it needs",
                             to_string(e.sections[i].kind), static_cast<unsigned long long>(got),
                             static_cast<unsigned long long>(got - want), static_cast<unsigned long long>(want));
    return {};
}

// The int8 scales section (at `i`) of a rows x cols matrix; nothing for fp32.
template <class T>
status expect_scales(const blob_entry& e, std::size_t i, std::uint64_t rows, std::uint64_t cols) noexcept {
    if constexpr (is_int8_weight<T>) {
        std::uint64_t per_row = e.quant_group == 0 ? 1 : (cols + e.quant_group - 1) / e.quant_group;
        std::uint64_t count = 0;
        if (!mul_u64(rows, per_row, count)) return status::error(errc::size_overflow, "scales overflow");
        return expect_size(e, i, count, sizeof(float));
    } else {
        (void)e, (void)i, (void)rows, (void)cols;
        return {};
    }
}

template <class T>
quant_scales scales_at(const blob_entry& e, std::size_t i, std::size_t cols) noexcept {
    const std::size_t group = e.quant_group;
    const float* data = is_int8_weight<T> ? reinterpret_cast<const float*>(e.sections[i].data) : nullptr;
    return {data, group, scales_per_row(cols, group)};
}

template <class T>
const T* array_at(const blob_entry& e, std::size_t i) noexcept {
    return reinterpret_cast<const T*>(e.sections[i].data);
}

// The last u32 of a pointer section (its size was checked to hold `count` >= 1 entries).
inline std::uint32_t last_u32(const blob_entry& e, std::size_t i, std::size_t count) noexcept {
    return load_le32(e.sections[i].data + (count - 1) * 4);
}

inline index_width width_of(const blob_entry& e) noexcept {
    return e.index_bytes == 4 ? index_width::u32 : index_width::u16;
}

inline status check_index_bytes(const blob_entry& e) noexcept {
    if (e.index_bytes != 2 && e.index_bytes != 4)
        return status::error(errc::corrupt_data, "index width of %u bytes (2 or 4)", e.index_bytes);
    return {};
}

// A shape every format accepts, converted to size_t (errc::index_overflow past 2^31 - 1).
inline status check_shape(const char* what, std::uint64_t rows, std::uint64_t cols) noexcept {
    constexpr std::uint64_t limit = std::uint64_t{1} << 31;
    if (rows >= limit || cols >= limit)
        return status::error(errc::index_overflow, "%s shape %llu x %llu exceeds 2^31 - 1 per dimension", what,
                             static_cast<unsigned long long>(rows), static_cast<unsigned long long>(cols));
    return {};
}

// An error that validate() reports as a bad argument is, in a blob, bad data.
inline status as_data_error(status s) noexcept {
    if (s.ok() || s.code() != errc::bad_argument) return s;
    return status::error(errc::corrupt_data, "%s", s.message());
}

template <class T>
void set_common(blob_entry& e, blob_format f, std::size_t rows, std::size_t cols, const quant_scales& s) noexcept {
    e.format = f;
    e.dtype = dtype_of<T>();
    e.rows = rows;
    e.cols = cols;
    e.quant_group = is_int8_weight<T> ? static_cast<std::uint32_t>(s.group) : 0;
}

inline void add_source(entry_plan& p, section_kind kind, const void* data, std::size_t rows, std::size_t row_bytes,
                       std::size_t stride, std::size_t padded_row) noexcept {
    const std::size_t i = p.entry.section_count++;
    p.sources[i] = {kind, data, rows, row_bytes, stride, padded_row};
    p.entry.sections[i].kind = kind;
    p.entry.sections[i].size = p.sources[i].bytes();
}
inline void add_array(entry_plan& p, section_kind kind, const void* data, std::size_t bytes) noexcept {
    add_source(p, kind, data, 1, bytes, bytes, bytes);
}
template <class T>
void add_scales(entry_plan& p, const quant_scales& s, std::size_t rows) noexcept {
    if (is_int8_weight<T>) add_array(p, section_kind::scales, s.data, rows * s.ld * sizeof(float));
}

// A dense block of values (dense format, channel-pruned inner matrix): rows padded to the
// dense_matrix row length.
template <class T>
std::uint64_t dense_ld(std::uint64_t cols) noexcept {
    return round_up(cols, 64 / sizeof(T));
}
template <class T>
void add_dense_values(entry_plan& p, const dense_view<T>& v) noexcept {
    add_source(p, section_kind::values, v.values, v.rows, v.cols * sizeof(T), v.ld * sizeof(T),
               static_cast<std::size_t>(dense_ld<T>(v.cols)) * sizeof(T));
}
template <class T>
status expect_dense(const blob_entry& e, std::size_t values, std::uint64_t rows, std::uint64_t cols) noexcept {
    std::uint64_t count = 0;
    if (!mul_u64(rows, dense_ld<T>(cols), count))
        return status::error(errc::size_overflow, "%llu x %llu values overflow", static_cast<unsigned long long>(rows),
                             static_cast<unsigned long long>(cols));
    SIEVE_TRY(expect_size(e, values, count, sizeof(T)));
    return expect_scales<T>(e, values + 1, rows, cols);
}
template <class T>
dense_view<T> bind_dense(const blob_entry& e, std::size_t values, std::size_t rows, std::size_t cols) noexcept {
    return {array_at<T>(e, values), rows, cols, static_cast<std::size_t>(dense_ld<T>(cols)),
            scales_at<T>(e, values + 1, cols)};
}

}  // namespace detail

// The codec that stores a view type, and the view's value type (float or int8_t).
template <class View>
struct codec_of;
struct dense_codec;
struct csr_codec;
struct nm_codec;
struct bsr_codec;
struct channel_pruned_codec;
struct bitmap_codec;
template <class T>
struct codec_of<dense_view<T>> { using type = dense_codec; using value_type = T; };
template <class T>
struct codec_of<csr_view<T>> { using type = csr_codec; using value_type = T; };
template <class T>
struct codec_of<nm_view<T>> { using type = nm_codec; using value_type = T; };
template <class T, std::size_t R, std::size_t C>
struct codec_of<bsr_view<T, R, C>> { using type = bsr_codec; using value_type = T; };
template <class T>
struct codec_of<channel_pruned_view<T>> { using type = channel_pruned_codec; using value_type = T; };
template <class T>
struct codec_of<bitmap_view<T>> { using type = bitmap_codec; using value_type = T; };
template <class View>
using value_type_of = typename codec_of<View>::value_type;

// ---- dense ---------------------------------------------------------------------------------
struct dense_codec {
    static constexpr blob_format format = blob_format::dense;
    static constexpr const char* name = "dense";
    static constexpr unsigned uses = 0;
    static section_list sections(blob_dtype d) noexcept { return detail::with_scales(d, {section_kind::values}); }

    template <class T>
    static status check(const blob_entry& e) noexcept {
        SIEVE_TRY(detail::check_shape("dense", e.rows, e.cols));
        SIEVE_TRY(detail::expect_dense<T>(e, 0, e.rows, e.cols));
        return validate(bind<dense_view<T>>(e).value());
    }
    template <class View>
    static result<View> bind(const blob_entry& e) noexcept {
        return detail::bind_dense<value_type_of<View>>(e, 0, static_cast<std::size_t>(e.rows),
                                                      static_cast<std::size_t>(e.cols));
    }
    template <class T>
    static void describe(const dense_view<T>& v, entry_plan& p) noexcept {
        detail::set_common<T>(p.entry, format, v.rows, v.cols, v.scales);
        detail::add_dense_values(p, v);
        detail::add_scales<T>(p, v.scales, v.rows);
    }
};

// ---- CSR -----------------------------------------------------------------------------------
struct csr_codec {
    static constexpr blob_format format = blob_format::csr;
    static constexpr const char* name = "csr";
    static constexpr unsigned uses = fields::index_bytes;
    static section_list sections(blob_dtype d) noexcept {
        return detail::with_scales(d, {section_kind::row_ptr, section_kind::col_index, section_kind::values});
    }

    template <class T>
    static status check(const blob_entry& e) noexcept {
        SIEVE_TRY(detail::check_shape("csr", e.rows, e.cols));
        SIEVE_TRY(detail::check_index_bytes(e));
        SIEVE_TRY(detail::expect_size(e, 0, e.rows + 1, 4));
        const std::uint32_t nnz = detail::last_u32(e, 0, static_cast<std::size_t>(e.rows) + 1);
        SIEVE_TRY(detail::expect_size(e, 1, nnz, e.index_bytes));
        SIEVE_TRY(detail::expect_size(e, 2, nnz, sizeof(T)));
        SIEVE_TRY(detail::expect_scales<T>(e, 3, e.rows, e.cols));
        return validate(bind<csr_view<T>>(e).value());
    }
    template <class View>
    static result<View> bind(const blob_entry& e) noexcept {
        using T = value_type_of<View>;
        return View{static_cast<std::size_t>(e.rows), static_cast<std::size_t>(e.cols),
                    detail::array_at<std::uint32_t>(e, 0), e.sections[1].data, detail::width_of(e),
                    detail::array_at<T>(e, 2), detail::scales_at<T>(e, 3, static_cast<std::size_t>(e.cols))};
    }
    template <class T>
    static void describe(const csr_view<T>& v, entry_plan& p) noexcept {
        detail::set_common<T>(p.entry, format, v.rows, v.cols, v.scales);
        p.entry.index_bytes = static_cast<std::uint8_t>(v.width);
        detail::add_array(p, section_kind::row_ptr, v.row_ptr, (v.rows + 1) * 4);
        detail::add_array(p, section_kind::col_index, v.col_index, v.nnz() * static_cast<std::size_t>(v.width));
        detail::add_array(p, section_kind::values, v.values, v.nnz() * sizeof(T));
        detail::add_scales<T>(p, v.scales, v.rows);
    }
};

// ---- N:M -----------------------------------------------------------------------------------
struct nm_codec {
    static constexpr blob_format format = blob_format::nm;
    static constexpr const char* name = "nm";
    static constexpr unsigned uses = fields::params;
    static section_list sections(blob_dtype d) noexcept {
        return detail::with_scales(d, {section_kind::values, section_kind::nm_meta});
    }

    // The layout nm_matrix packs: values_ld = G * N, meta_ld = ceil(G * M / 64) * 8.
    static std::size_t groups(const blob_entry& e) noexcept { return (e.cols + e.param_b - 1) / e.param_b; }
    static std::size_t meta_ld(std::size_t groups, std::size_t m) noexcept { return (groups * m + 63) / 64 * 8; }

    template <class T>
    static status check(const blob_entry& e) noexcept {
        SIEVE_TRY(detail::check_shape("nm", e.rows, e.cols));
        SIEVE_TRY(detail::as_data_error(check_nm_pattern("nm entry", {e.param_a, e.param_b})));
        const std::size_t g = groups(e);
        std::uint64_t count = 0;
        if (!detail::mul_u64(e.rows, std::uint64_t{g} * e.param_a, count))
            return status::error(errc::size_overflow, "nm values overflow");
        SIEVE_TRY(detail::expect_size(e, 0, count, sizeof(T)));
        SIEVE_TRY(detail::expect_size(e, 1, e.rows, meta_ld(g, e.param_b)));
        SIEVE_TRY(detail::expect_scales<T>(e, 2, e.rows, e.cols));
        return validate(bind<nm_view<T>>(e).value());
    }
    template <class View>
    static result<View> bind(const blob_entry& e) noexcept {
        using T = value_type_of<View>;
        const std::size_t g = groups(e);
        return View{static_cast<std::size_t>(e.rows), static_cast<std::size_t>(e.cols),
                    nm_pattern{e.param_a, e.param_b}, g, detail::array_at<T>(e, 0), g * e.param_a,
                    detail::array_at<std::uint8_t>(e, 1), meta_ld(g, e.param_b),
                    detail::scales_at<T>(e, 2, static_cast<std::size_t>(e.cols))};
    }
    template <class T>
    static void describe(const nm_view<T>& v, entry_plan& p) noexcept {
        detail::set_common<T>(p.entry, format, v.rows, v.cols, v.scales);
        p.entry.param_a = v.pattern.n;
        p.entry.param_b = v.pattern.m;
        detail::add_source(p, section_kind::values, v.values, v.rows, v.groups * v.pattern.n * sizeof(T),
                           v.values_ld * sizeof(T), v.groups * v.pattern.n * sizeof(T));
        detail::add_source(p, section_kind::nm_meta, v.meta, v.rows, (v.groups * v.pattern.m + 7) / 8, v.meta_ld,
                           meta_ld(v.groups, v.pattern.m));
        detail::add_scales<T>(p, v.scales, v.rows);
    }
};

// ---- BSR -----------------------------------------------------------------------------------
// The block shape is a compile-time parameter of the view: the entry stores R and C, bind
// refuses another shape. Validation at open time cannot name the view type (R and C are
// runtime there), so it checks the block index as the CSR pattern over the grid of blocks
// it is (csr validate(): pointers never decrease, block columns ascending and in range), and
// the scales with validate_scales, as bsr validate() does.
struct bsr_codec {
    static constexpr blob_format format = blob_format::bsr;
    static constexpr const char* name = "bsr";
    static constexpr unsigned uses = fields::index_bytes | fields::params;
    static section_list sections(blob_dtype d) noexcept {
        return detail::with_scales(d, {section_kind::row_ptr, section_kind::col_index, section_kind::values});
    }

    template <class T>
    static status check(const blob_entry& e) noexcept {
        SIEVE_TRY(detail::check_shape("bsr", e.rows, e.cols));
        SIEVE_TRY(detail::check_index_bytes(e));
        const std::uint32_t r = e.param_a, c = e.param_b;
        if (r < 1 || r > 64 || c < 1 || c > 64)
            return status::error(errc::corrupt_data, "block shape %u x %u (sides 1..64)", r, c);
        const std::size_t row_blocks = (e.rows + r - 1) / r, col_blocks = (e.cols + c - 1) / c;
        SIEVE_TRY(detail::expect_size(e, 0, row_blocks + 1, 4));
        const std::uint32_t nnzb = detail::last_u32(e, 0, row_blocks + 1);
        SIEVE_TRY(detail::expect_size(e, 1, nnzb, e.index_bytes));
        SIEVE_TRY(detail::expect_size(e, 2, std::uint64_t{nnzb} * r * c, sizeof(T)));
        SIEVE_TRY(detail::expect_scales<T>(e, 3, e.rows, e.cols));
        static constexpr float no_values = 0.0f;  // csr validate() only asks that values exist
        const csr_view<float> blocks{row_blocks,           col_blocks,         detail::array_at<std::uint32_t>(e, 0),
                                     e.sections[1].data, detail::width_of(e), &no_values, quant_scales{}};
        status s = validate(blocks);
        if (!s.ok()) return status::error(s.code(), "block index: %s", s.message());
        const quant_scales scales = detail::scales_at<T>(e, 3, static_cast<std::size_t>(e.cols));
        if (is_int8_weight<T> && scales.group % c != 0)
            return status::error(errc::corrupt_data, "scale groups of %zu split %u-column blocks", scales.group, c);
        return sieve::detail::validate_scales<T>("bsr", scales, static_cast<std::size_t>(e.rows),
                                                 static_cast<std::size_t>(e.cols));
    }
    template <class View>
    static result<View> bind(const blob_entry& e) noexcept {
        using T = value_type_of<View>;
        constexpr std::size_t r = View::block_rows, c = View::block_cols;
        if (e.param_a != r || e.param_b != c)
            return status::error(errc::type_mismatch, "holds %u x %u blocks, asked for %zu x %zu", e.param_a,
                                 e.param_b, r, c);
        return View{static_cast<std::size_t>(e.rows), static_cast<std::size_t>(e.cols),
                    static_cast<std::size_t>((e.rows + r - 1) / r), static_cast<std::size_t>((e.cols + c - 1) / c),
                    detail::array_at<std::uint32_t>(e, 0), e.sections[1].data, detail::width_of(e),
                    detail::array_at<T>(e, 2), detail::scales_at<T>(e, 3, static_cast<std::size_t>(e.cols))};
    }
    template <class T, std::size_t R, std::size_t C>
    static void describe(const bsr_view<T, R, C>& v, entry_plan& p) noexcept {
        detail::set_common<T>(p.entry, format, v.rows, v.cols, v.scales);
        p.entry.index_bytes = static_cast<std::uint8_t>(v.width);
        p.entry.param_a = R;
        p.entry.param_b = C;
        detail::add_array(p, section_kind::row_ptr, v.block_row_ptr, (v.row_blocks + 1) * 4);
        detail::add_array(p, section_kind::col_index, v.block_col, v.nnz_blocks() * static_cast<std::size_t>(v.width));
        detail::add_array(p, section_kind::values, v.values, v.nnz_blocks() * R * C * sizeof(T));
        detail::add_scales<T>(p, v.scales, v.rows);
    }
};

// ---- channel-pruned ------------------------------------------------------------------------
struct channel_pruned_codec {
    static constexpr blob_format format = blob_format::channel_pruned;
    static constexpr const char* name = "channel_pruned";
    static constexpr unsigned uses = fields::inner;
    static section_list sections(blob_dtype d) noexcept {
        section_list out = detail::with_scales(d, {section_kind::values});
        out.kinds[out.count++] = section_kind::kept_inputs;
        out.kinds[out.count++] = section_kind::kept_outputs;
        return out;
    }

    template <class T>
    static status check(const blob_entry& e) noexcept {
        SIEVE_TRY(detail::check_shape("channel_pruned", e.rows, e.cols));
        if (e.inner_rows > e.rows || e.inner_cols > e.cols)
            return status::error(errc::corrupt_data, "kept %llu x %llu channels of a %llu x %llu layer",
                                 static_cast<unsigned long long>(e.inner_rows),
                                 static_cast<unsigned long long>(e.inner_cols), static_cast<unsigned long long>(e.rows),
                                 static_cast<unsigned long long>(e.cols));
        SIEVE_TRY(detail::expect_dense<T>(e, 0, e.inner_rows, e.inner_cols));
        const std::size_t kept = is_int8_weight<T> ? 2 : 1;
        SIEVE_TRY(detail::expect_size(e, kept, e.inner_cols, 4));
        SIEVE_TRY(detail::expect_size(e, kept + 1, e.inner_rows, 4));
        return validate(bind<channel_pruned_view<T>>(e).value());
    }
    template <class View>
    static result<View> bind(const blob_entry& e) noexcept {
        using T = value_type_of<View>;
        const std::size_t kept = is_int8_weight<T> ? 2 : 1;
        return View{detail::bind_dense<T>(e, 0, static_cast<std::size_t>(e.inner_rows),
                                          static_cast<std::size_t>(e.inner_cols)),
                    static_cast<std::size_t>(e.rows), static_cast<std::size_t>(e.cols),
                    detail::array_at<std::uint32_t>(e, kept), detail::array_at<std::uint32_t>(e, kept + 1)};
    }
    template <class T>
    static void describe(const channel_pruned_view<T>& v, entry_plan& p) noexcept {
        detail::set_common<T>(p.entry, format, v.rows, v.cols, v.inner.scales);
        p.entry.inner_rows = v.inner.rows;
        p.entry.inner_cols = v.inner.cols;
        detail::add_dense_values(p, v.inner);
        detail::add_scales<T>(p, v.inner.scales, v.inner.rows);
        detail::add_array(p, section_kind::kept_inputs, v.kept_inputs, v.inner.cols * 4);
        detail::add_array(p, section_kind::kept_outputs, v.kept_outputs, v.inner.rows * 4);
    }
};

// ---- bitmap --------------------------------------------------------------------------------
// Row pointers first, as for CSR: their last entry sizes the values. bitmap validate() then
// checks the offsets (start at 0, never decrease, so none passes nnz) against the mask's
// popcounts, row by row, before any kernel reads a value.
struct bitmap_codec {
    static constexpr blob_format format = blob_format::bitmap;
    static constexpr const char* name = "bitmap";
    static constexpr unsigned uses = 0;
    static section_list sections(blob_dtype d) noexcept {
        return detail::with_scales(d, {section_kind::row_ptr, section_kind::bitmap_mask, section_kind::values});
    }

    template <class T>
    static status check(const blob_entry& e) noexcept {
        SIEVE_TRY(detail::check_shape("bitmap", e.rows, e.cols));
        SIEVE_TRY(detail::expect_size(e, 0, e.rows + 1, 4));
        SIEVE_TRY(detail::expect_size(e, 1, e.rows * bitmap_words(static_cast<std::size_t>(e.cols)),
                                      sizeof(std::uint64_t)));
        const std::uint32_t nnz = detail::last_u32(e, 0, static_cast<std::size_t>(e.rows) + 1);
        SIEVE_TRY(detail::expect_size(e, 2, nnz, sizeof(T)));
        SIEVE_TRY(detail::expect_scales<T>(e, 3, e.rows, e.cols));
        return validate(bind<bitmap_view<T>>(e).value());
    }
    template <class View>
    static result<View> bind(const blob_entry& e) noexcept {
        using T = value_type_of<View>;
        const std::size_t cols = static_cast<std::size_t>(e.cols);
        return View{static_cast<std::size_t>(e.rows),           cols,
                    bitmap_words(cols),                         detail::array_at<std::uint64_t>(e, 1),
                    detail::array_at<std::uint32_t>(e, 0),      detail::array_at<T>(e, 2),
                    detail::scales_at<T>(e, 3, cols)};
    }
    template <class T>
    static void describe(const bitmap_view<T>& v, entry_plan& p) noexcept {
        detail::set_common<T>(p.entry, format, v.rows, v.cols, v.scales);
        detail::add_array(p, section_kind::row_ptr, v.row_ptr, (v.rows + 1) * 4);
        detail::add_array(p, section_kind::bitmap_mask, v.mask, v.rows * v.words * sizeof(std::uint64_t));
        detail::add_array(p, section_kind::values, v.values, v.nnz() * sizeof(T));
        detail::add_scales<T>(p, v.scales, v.rows);
    }
};

// ---- the table -------------------------------------------------------------------------------
template <class... Codecs>
struct codec_list {
    // Calls fn(Codec{}) for the codec of tag `f`; false when no codec has that tag.
    template <class Fn>
    static bool visit(blob_format f, Fn&& fn) {
        return ((Codecs::format == f ? (fn(Codecs{}), true) : false) || ...);
    }
};
using blob_codecs = codec_list<dense_codec, csr_codec, nm_codec, bsr_codec, channel_pruned_codec, bitmap_codec>;

inline const char* to_string(blob_format f) noexcept {
    const char* out = "unknown format";
    blob_codecs::visit(f, [&](auto codec) { out = decltype(codec)::name; });
    return out;
}

}  // namespace sieve::io
