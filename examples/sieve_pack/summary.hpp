// sieve-pack's per-layer table: one row per packed matrix, printed with fmt.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <sieve/io/blob_reader.hpp>
#include <sieve/sieve.hpp>
#include <string>
#include <type_traits>
#include <vector>

namespace sieve_pack {

struct summary_row {
    std::string name, shape, format, dtype;
    std::size_t rows = 0, cols = 0, nnz = 0, bytes = 0;
    bool int8 = false;
    bool error_known = false;  // the quantization error is known when packing, not from a blob
    double max_quant_error = 0.0;

    // Bytes saved against the same matrix stored dense in fp32 (negative: the format costs more).
    long long saved() const noexcept {
        return static_cast<long long>(rows * cols * sizeof(float)) - static_cast<long long>(bytes);
    }
};

inline std::string shape_text(const std::vector<std::uint64_t>& shape) {
    std::string s;
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
    return shape.empty() ? "scalar" : s;
}

template <class Matrix>
summary_row describe(const std::string& name, const std::string& format, const Matrix& m,
                     const sieve::quant_report& report) {
    using value_type = std::remove_cv_t<std::remove_pointer_t<decltype(m.view().values)>>;
    summary_row row;
    row.name = name;
    row.rows = m.rows();
    row.cols = m.cols();
    row.shape = std::to_string(row.rows) + "x" + std::to_string(row.cols);
    row.format = format;
    row.int8 = sieve::is_int8_weight<value_type>;
    row.dtype = row.int8 ? "int8" : "fp32";
    row.nnz = m.nnz();
    row.bytes = m.bytes();
    row.error_known = row.int8;
    row.max_quant_error = report.max_abs_error;
    return row;
}

// The same row for a blob entry (the quantization error is not stored: "n/a").
inline summary_row describe(const sieve::io::blob_entry& e) {
    summary_row row;
    row.name.assign(e.name.data, e.name.size);
    row.rows = static_cast<std::size_t>(e.rows);
    row.cols = static_cast<std::size_t>(e.cols);
    row.shape = std::to_string(row.rows) + "x" + std::to_string(row.cols);
    row.int8 = e.dtype == sieve::io::blob_dtype::i8;
    row.dtype = row.int8 ? "int8" : "fp32";
    const std::size_t value_bytes = row.int8 ? 1 : 4;
    for (std::size_t s = 0; s < e.section_count; ++s) {
        row.bytes += static_cast<std::size_t>(e.sections[s].size);
        if (e.sections[s].kind == sieve::io::section_kind::values)
            row.nnz = static_cast<std::size_t>(e.sections[s].size) / value_bytes;
    }
    switch (e.format) {
        case sieve::io::blob_format::dense:
            row.format = "dense";
            row.nnz = row.rows * row.cols;
            break;
        case sieve::io::blob_format::csr:
            row.format = "csr";
            break;
        case sieve::io::blob_format::nm:
            row.format = fmt::format("{}:{}", e.param_a, e.param_b);
            break;
        case sieve::io::blob_format::bsr:
            row.format = fmt::format("bsr:{}x{}", e.param_a, e.param_b);
            break;
        default:
            row.format = sieve::io::to_string(e.format);
            break;
    }
    return row;
}

// Columns: name shape format dtype nnz bytes saved saved% max|err|. `nnz` counts the stored
// values (with the zeros a format pads: N:M fill, BSR block padding); `max|err|` is "-" for
// fp32, "n/a" for int8 read back from a blob.
inline void print_table(const std::vector<summary_row>& rows) {
    std::size_t name_width = 4;
    for (const summary_row& r : rows)
        name_width = r.name.size() > name_width ? r.name.size() : name_width;
    fmt::print("{:<{}}  {:>11}  {:>9}  {:>5}  {:>9}  {:>10}  {:>10}  {:>7}  {:>10}\n", "name",
               name_width, "shape", "format", "dtype", "nnz", "bytes", "saved", "saved%",
               "max|err|");
    std::size_t total_bytes = 0, total_dense = 0;
    for (const summary_row& r : rows) {
        const double dense = static_cast<double>(r.rows * r.cols * sizeof(float));
        const double percent = dense == 0.0 ? 0.0 : 100.0 * static_cast<double>(r.saved()) / dense;
        const std::string error = r.error_known ? fmt::format("{:.3e}", r.max_quant_error)
                                                : std::string(r.int8 ? "n/a" : "-");
        fmt::print("{:<{}}  {:>11}  {:>9}  {:>5}  {:>9}  {:>10}  {:>10}  {:>6.1f}%  {:>10}\n",
                   r.name, name_width, r.shape, r.format, r.dtype, r.nnz, r.bytes, r.saved(),
                   percent, error);
        total_bytes += r.bytes;
        total_dense += r.rows * r.cols * sizeof(float);
    }
    const long long saved =
        static_cast<long long>(total_dense) - static_cast<long long>(total_bytes);
    fmt::print("total: {} matrices, {} bytes, {} saved against dense fp32 ({:.1f}%)\n", rows.size(),
               total_bytes, saved,
               total_dense == 0
                   ? 0.0
                   : 100.0 * static_cast<double>(saved) / static_cast<double>(total_dense));
}

}  // namespace sieve_pack
