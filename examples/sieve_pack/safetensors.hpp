// A safetensors reader: the untrusted-input boundary of sieve-pack. Every length, offset and
// type read from the file is checked before it is used; a bad file yields a sieve::status
// saying what is wrong, never a crash. A fuzz harness can call parse_safetensors_index() on
// raw bytes and read_tensor_f32() on the result.
//
// The format: an 8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F16", "shape": [M, K], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value", ...}}          (optional, string values)
// then the data section; offsets are relative to its start, tensors are row-major and
// little-endian. F32, F16 and BF16 convert to fp32 exactly; the other dtypes of the format
// are recognised (so their sizes are checked) but cannot be converted.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sieve/core/error.hpp>
#include <string>
#include <vector>

namespace sieve_pack {

// Exact conversions to fp32 (every half and bfloat16 value is an fp32 value). -------------

// IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
inline float half_to_float(std::uint16_t h) noexcept {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1fu;
    std::uint32_t mantissa = h & 0x3ffu;
    std::uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);  // Inf, or NaN keeping its payload
    } else if (exponent != 0) {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;  // +-0
    } else {
        // Subnormal: mantissa * 2^-24. Normalise: the top set bit p (0..9) becomes the
        // implicit 1, so the value is 1.f * 2^(p - 24).
        int p = 9;
        while ((mantissa & (1u << p)) == 0) --p;
        mantissa = (mantissa << (23 - p)) & 0x7fffffu;
        bits = sign | (static_cast<std::uint32_t>(p - 24 + 127) << 23) | mantissa;
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// bfloat16 is the top half of an fp32.
inline float bfloat16_to_float(std::uint16_t b) noexcept {
    const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// The index ---------------------------------------------------------------------------------

enum class st_dtype : std::uint8_t { f32, f16, bf16, other };

struct tensor_info {
    std::string name;
    std::string dtype_name;  // as in the file: "F32", "I64", ...
    st_dtype dtype = st_dtype::other;
    std::size_t element_bytes = 0;
    std::vector<std::uint64_t> shape;
    std::uint64_t elements = 0;
    std::uint64_t begin = 0, end = 0;  // byte range in the data section

    bool convertible() const noexcept { return dtype != st_dtype::other; }
};

struct safetensors_index {
    std::vector<tensor_info> tensors;  // sorted by name
    std::vector<std::pair<std::string, std::string>> metadata;
    std::uint64_t data_offset = 0;  // where the data section starts in the file: 8 + N
};

// The largest header accepted (the reference implementation's limit too).
constexpr std::uint64_t max_header_bytes = 100u << 20;

namespace detail {

using sieve::errc;
using sieve::status;

struct dtype_entry {
    const char* name;
    std::size_t bytes;
    st_dtype dtype;
};

// Every dtype the format defines.
inline const dtype_entry* find_dtype(const std::string& name) noexcept {
    static const dtype_entry table[] = {
        {"F32", 4, st_dtype::f32},       {"F16", 2, st_dtype::f16},
        {"BF16", 2, st_dtype::bf16},     {"F64", 8, st_dtype::other},
        {"I64", 8, st_dtype::other},     {"U64", 8, st_dtype::other},
        {"I32", 4, st_dtype::other},     {"U32", 4, st_dtype::other},
        {"I16", 2, st_dtype::other},     {"U16", 2, st_dtype::other},
        {"I8", 1, st_dtype::other},      {"U8", 1, st_dtype::other},
        {"BOOL", 1, st_dtype::other},    {"F8_E4M3", 1, st_dtype::other},
        {"F8_E5M2", 1, st_dtype::other},
    };
    for (const dtype_entry& e : table)
        if (name == e.name) return &e;
    return nullptr;
}

inline std::uint64_t load_le(const std::uint8_t* p, std::size_t bytes) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = bytes; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

// A non-negative JSON integer, or false.
inline bool get_unsigned(const nlohmann::json& j, std::uint64_t& out) {
    if (!j.is_number_unsigned()) return false;
    out = j.get<std::uint64_t>();
    return true;
}

inline status parse_tensor(const std::string& name, const nlohmann::json& entry,
                           std::uint64_t data_size, tensor_info& t) {
    const char* n = name.c_str();
    t.name = name;
    if (!entry.is_object())
        return status::error(errc::corrupt_data, "tensor '%s': entry is not a JSON object", n);
    for (const auto& field : entry.items())
        if (field.key() != "dtype" && field.key() != "shape" && field.key() != "data_offsets")
            return status::error(errc::corrupt_data, "tensor '%s': unknown field '%s'", n,
                                 field.key().c_str());

    const auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string())
        return status::error(errc::corrupt_data, "tensor '%s': missing or non-string \"dtype\"", n);
    t.dtype_name = dtype->get<std::string>();
    const dtype_entry* known = find_dtype(t.dtype_name);
    if (known == nullptr)
        return status::error(errc::unsupported, "tensor '%s': unknown dtype '%s'", n,
                             t.dtype_name.c_str());
    t.dtype = known->dtype;
    t.element_bytes = known->bytes;

    const auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array())
        return status::error(errc::corrupt_data, "tensor '%s': missing or non-array \"shape\"", n);
    t.elements = 1;
    for (const auto& dim : *shape) {
        std::uint64_t d = 0;
        if (!get_unsigned(dim, d))
            return status::error(errc::corrupt_data,
                                 "tensor '%s': shape[%zu] is %.40s, not a non-negative integer", n,
                                 t.shape.size(), dim.dump().c_str());
        if (d != 0 && t.elements > std::numeric_limits<std::uint64_t>::max() / d)
            return status::error(errc::size_overflow, "tensor '%s': shape overflows", n);
        t.elements *= d;
        t.shape.push_back(d);
    }

    const auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
        !get_unsigned((*offsets)[0], t.begin) || !get_unsigned((*offsets)[1], t.end))
        return status::error(errc::corrupt_data,
                             "tensor '%s': \"data_offsets\" must be two non-negative integers", n);
    if (t.begin > t.end)
        return status::error(
            errc::corrupt_data, "tensor '%s': data_offsets [%llu, %llu) run backwards", n,
            static_cast<unsigned long long>(t.begin), static_cast<unsigned long long>(t.end));
    if (t.end > data_size)
        return status::error(
            errc::corrupt_data,
            "tensor '%s': data_offsets [%llu, %llu) run past the data section (%llu bytes)", n,
            static_cast<unsigned long long>(t.begin), static_cast<unsigned long long>(t.end),
            static_cast<unsigned long long>(data_size));
    if (t.elements > std::numeric_limits<std::uint64_t>::max() / t.element_bytes ||
        t.end - t.begin != t.elements * t.element_bytes)
        return status::error(
            errc::corrupt_data,
            "tensor '%s': data_offsets hold %llu bytes, %s x %llu elements need %llu", n,
            static_cast<unsigned long long>(t.end - t.begin), t.dtype_name.c_str(),
            static_cast<unsigned long long>(t.elements),
            static_cast<unsigned long long>(t.elements * t.element_bytes));
    return {};
}

}  // namespace detail

// Parses and checks the JSON header (`header` holds its `header_bytes` bytes) against a data
// section of `data_size` bytes: every field typed, every dtype known, every byte range
// inside the data section, sized as dtype x shape, and no two ranges overlapping.
inline sieve::result<safetensors_index> parse_safetensors_index(const std::uint8_t* header,
                                                                std::size_t header_bytes,
                                                                std::uint64_t data_size) {
    using sieve::errc;
    using sieve::status;
    // Duplicate top-level names would silently shadow each other: refuse them.
    std::set<std::string> seen;
    std::string duplicate;
    const auto on_event = [&](int depth, nlohmann::json::parse_event_t event,
                              nlohmann::json& parsed) {
        if (depth == 1 && event == nlohmann::json::parse_event_t::key && parsed.is_string() &&
            !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
            duplicate = parsed.get<std::string>();
        return true;
    };
    const nlohmann::json root =
        nlohmann::json::parse(header, header + header_bytes, on_event, /*allow_exceptions=*/false);
    if (root.is_discarded())
        return status::error(errc::corrupt_data, "the header is not valid JSON");
    if (!root.is_object())
        return status::error(errc::corrupt_data, "the header is JSON but not an object");
    if (!duplicate.empty())
        return status::error(errc::corrupt_data, "the header names '%s' twice", duplicate.c_str());

    safetensors_index index;
    for (const auto& item : root.items()) {
        if (item.key() == "__metadata__") {
            if (!item.value().is_object())
                return status::error(errc::corrupt_data, "__metadata__ is not a JSON object");
            for (const auto& kv : item.value().items()) {
                if (!kv.value().is_string())
                    return status::error(errc::corrupt_data,
                                         "__metadata__ value of '%s' is not a string",
                                         kv.key().c_str());
                index.metadata.emplace_back(kv.key(), kv.value().get<std::string>());
            }
            continue;
        }
        tensor_info t;
        SIEVE_TRY(detail::parse_tensor(item.key(), item.value(), data_size, t));
        index.tensors.push_back(std::move(t));
    }

    // Overlap: sorted by start, each non-empty range must begin at or after the previous end.
    std::vector<const tensor_info*> by_offset;
    for (const tensor_info& t : index.tensors)
        if (t.begin != t.end) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const tensor_info* a, const tensor_info* b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < by_offset.size(); ++i)
        if (by_offset[i]->begin < by_offset[i - 1]->end)
            return status::error(errc::corrupt_data,
                                 "tensors '%s' and '%s' overlap in the data section",
                                 by_offset[i - 1]->name.c_str(), by_offset[i]->name.c_str());
    std::sort(index.tensors.begin(), index.tensors.end(),
              [](const tensor_info& a, const tensor_info& b) { return a.name < b.name; });
    return index;
}

// Converts `t.elements` little-endian values at `bytes` (exactly t.end - t.begin of them) to fp32.
inline sieve::status convert_to_f32(const tensor_info& t, const std::uint8_t* bytes,
                                    std::size_t size, std::vector<float>& out) {
    using sieve::errc;
    using sieve::status;
    if (!t.convertible())
        return status::error(errc::unsupported, "tensor '%s': dtype %s cannot be converted to fp32",
                             t.name.c_str(), t.dtype_name.c_str());
    if (size != t.end - t.begin || t.elements * t.element_bytes != size)
        return status::error(errc::corrupt_data, "tensor '%s': %zu bytes given, %llu expected",
                             t.name.c_str(), size,
                             static_cast<unsigned long long>(t.end - t.begin));
    out.resize(static_cast<std::size_t>(t.elements));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::uint8_t* p = bytes + i * t.element_bytes;
        if (t.dtype == st_dtype::f32) {
            const auto bits = static_cast<std::uint32_t>(detail::load_le(p, 4));
            std::memcpy(&out[i], &bits, sizeof bits);
        } else if (t.dtype == st_dtype::f16) {
            out[i] = half_to_float(static_cast<std::uint16_t>(detail::load_le(p, 2)));
        } else {
            out[i] = bfloat16_to_float(static_cast<std::uint16_t>(detail::load_le(p, 2)));
        }
    }
    return {};
}

// A safetensors file on disk: the index is read at open, tensor data on demand.
class safetensors_file {
public:
    static sieve::result<safetensors_file> open(const std::string& path) {
        using sieve::errc;
        using sieve::status;
        safetensors_file f;
        f.path_ = path;
        f.in_.open(path, std::ios::binary);
        if (!f.in_) return status::error(errc::bad_argument, "cannot open '%s'", path.c_str());
        f.in_.seekg(0, std::ios::end);
        const std::streamoff size = f.in_.tellg();
        if (size < 0)
            return status::error(errc::bad_argument, "cannot read the size of '%s'", path.c_str());
        f.file_size_ = static_cast<std::uint64_t>(size);
        if (f.file_size_ < 8)
            return status::error(errc::corrupt_data,
                                 "file is %llu bytes: too short for the 8-byte header length",
                                 static_cast<unsigned long long>(f.file_size_));
        std::uint8_t prefix[8];
        SIEVE_TRY(f.read_at(0, prefix, 8));
        const std::uint64_t header_bytes = detail::load_le(prefix, 8);
        if (header_bytes > f.file_size_ - 8)
            return status::error(errc::corrupt_data,
                                 "header length %llu runs past the end of the file (%llu bytes)",
                                 static_cast<unsigned long long>(header_bytes),
                                 static_cast<unsigned long long>(f.file_size_));
        if (header_bytes > max_header_bytes)
            return status::error(errc::corrupt_data,
                                 "header length %llu exceeds the %llu-byte limit",
                                 static_cast<unsigned long long>(header_bytes),
                                 static_cast<unsigned long long>(max_header_bytes));
        std::vector<std::uint8_t> header(static_cast<std::size_t>(header_bytes));
        SIEVE_TRY(f.read_at(8, header.data(), header.size()));
        auto index =
            parse_safetensors_index(header.data(), header.size(), f.file_size_ - 8 - header_bytes);
        if (!index.ok()) return index.error();
        f.index_ = std::move(index).value();
        f.index_.data_offset = 8 + header_bytes;
        return f;
    }

    const safetensors_index& index() const noexcept { return index_; }
    const std::vector<tensor_info>& tensors() const noexcept { return index_.tensors; }

    sieve::status read_f32(const tensor_info& t, std::vector<float>& out) {
        std::vector<std::uint8_t> bytes(static_cast<std::size_t>(t.end - t.begin));
        SIEVE_TRY(read_at(index_.data_offset + t.begin, bytes.data(), bytes.size()));
        return convert_to_f32(t, bytes.data(), bytes.size(), out);
    }

private:
    sieve::status read_at(std::uint64_t offset, std::uint8_t* out, std::size_t bytes) {
        if (offset > file_size_ || bytes > file_size_ - offset)
            return sieve::status::error(sieve::errc::corrupt_data,
                                        "read of %zu bytes at %llu runs past the file end", bytes,
                                        static_cast<unsigned long long>(offset));
        in_.clear();
        in_.seekg(static_cast<std::streamoff>(offset));
        in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(bytes));
        if (!in_)
            return sieve::status::error(sieve::errc::corrupt_data, "cannot read '%s'",
                                        path_.c_str());
        return {};
    }

    std::string path_;
    std::ifstream in_;
    std::uint64_t file_size_ = 0;
    safetensors_index index_;
};

}  // namespace sieve_pack
