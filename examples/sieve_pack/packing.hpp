// sieve-pack's packing options and the one place that turns a dense fp32 tensor into a
// packed (and optionally int8) sieve matrix. Shared by the tool and its round-trip check,
// so both pack exactly the same way.
#pragma once

#include <cstdlib>
#include <sieve/sieve.hpp>
#include <string>

namespace sieve_pack {

using sieve::errc;
using sieve::status;

// --format dense | csr | N:M | bsr:RxC | bitmap
struct format_choice {
    enum class kind { dense, csr, nm, bsr, bitmap };
    kind what = kind::dense;
    sieve::nm_pattern pattern{};
    std::size_t block_rows = 0, block_cols = 0;
};

// --int8 row | group:G   (absent: fp32)
struct int8_choice {
    bool enabled = false;
    sieve::quant_config config{};
};

struct pack_options {
    format_choice format{};
    int8_choice int8{};
    bool prune = false;     // --prune[=S]: magnitude pruning to the format
    double sparsity = 0.5;  // fraction removed by --prune for csr, bsr, bitmap and dense
};

// The BSR block shapes the library instantiates kernels for (kernels/declare.hpp).
template <std::size_t R, std::size_t C>
struct block_shape {};
// clang-format off
#define SIEVE_PACK_BSR_SHAPES                                                                \
    block_shape<1, 4>{}, block_shape<1, 8>{}, block_shape<1, 16>{}, block_shape<4, 1>{},     \
    block_shape<8, 1>{}, block_shape<16, 1>{}, block_shape<4, 4>{}
// clang-format on
constexpr const char* bsr_shape_list = "1x4, 1x8, 1x16, 4x1, 8x1, 16x1, 4x4";

namespace detail {

// A whole decimal number in [1, 2^31), or 0.
inline std::size_t parse_count(const std::string& s) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
        return 0;
    return static_cast<std::size_t>(std::strtoul(s.c_str(), nullptr, 10));
}

// Calls fn(block_shape<R, C>{}) for the instantiated shape r x c; false when there is none.
template <class Fn>
bool with_block_shape(std::size_t, std::size_t, Fn&&) {
    return false;
}
template <class Fn, std::size_t R, std::size_t C, class... Rest>
bool with_block_shape(std::size_t r, std::size_t c, Fn&& fn, block_shape<R, C> shape,
                      Rest... rest) {
    if (r == R && c == C) {
        fn(shape);
        return true;
    }
    return with_block_shape(r, c, fn, rest...);
}

}  // namespace detail

inline sieve::result<format_choice> parse_format(const std::string& text) {
    format_choice f;
    const auto colon = text.find(':');
    if (text == "dense") {
        f.what = format_choice::kind::dense;
    } else if (text == "csr") {
        f.what = format_choice::kind::csr;
    } else if (text == "bitmap") {
        f.what = format_choice::kind::bitmap;
    } else if (text.compare(0, 4, "bsr:") == 0) {
        const auto x = text.find('x', 4);
        f.what = format_choice::kind::bsr;
        if (x != std::string::npos) {
            f.block_rows = detail::parse_count(text.substr(4, x - 4));
            f.block_cols = detail::parse_count(text.substr(x + 1));
        }
        bool found = f.block_rows != 0 && f.block_cols != 0 &&
                     detail::with_block_shape(
                         f.block_rows, f.block_cols, [](auto) {}, SIEVE_PACK_BSR_SHAPES);
        if (!found)
            return status::error(errc::bad_argument, "--format %s: BSR blocks are one of %s",
                                 text.c_str(), bsr_shape_list);
    } else if (colon != std::string::npos) {
        f.what = format_choice::kind::nm;
        const std::size_t n = detail::parse_count(text.substr(0, colon)),
                          m = detail::parse_count(text.substr(colon + 1));
        f.pattern = {static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(m)};
        status s = sieve::check_nm_pattern("--format", f.pattern);
        if (n == 0 || m == 0 || !s.ok())
            return status::error(errc::bad_argument,
                                 "--format %s: N:M needs 1 <= N <= M with M in 2, 4, 8, 16",
                                 text.c_str());
    } else {
        return status::error(errc::bad_argument,
                             "--format %s: expected dense, csr, N:M (e.g. 2:4), bsr:RxC or bitmap",
                             text.c_str());
    }
    return f;
}

inline sieve::result<int8_choice> parse_int8(const std::string& text) {
    int8_choice q;
    q.enabled = true;
    if (text == "row") return q;
    if (text.compare(0, 6, "group:") == 0) {
        const std::size_t group = detail::parse_count(text.substr(6));
        q.config = sieve::quant_config::per_group(group);
        if (group == 32 || group == 64 || group == 128) return q;
    }
    return status::error(errc::bad_argument,
                         "--int8 %s: expected row or group:G with G in 32, 64, 128", text.c_str());
}

inline std::string format_name(const format_choice& f) {
    switch (f.what) {
        case format_choice::kind::dense:
            return "dense";
        case format_choice::kind::csr:
            return "csr";
        case format_choice::kind::nm:
            return std::to_string(f.pattern.n) + ":" + std::to_string(f.pattern.m);
        case format_choice::kind::bsr:
            return "bsr:" + std::to_string(f.block_rows) + "x" + std::to_string(f.block_cols);
        case format_choice::kind::bitmap:
            return "bitmap";
    }
    return "?";
}

template <std::size_t R, std::size_t C>
sieve::result<sieve::bsr_matrix<float, R, C>> pack_bsr(sieve::matrix_view<const float> weights,
                                                       const sieve::selection& how,
                                                       block_shape<R, C>) {
    return sieve::bsr_matrix<float, R, C>::pack(weights, how);
}

// Packs the M x K fp32 `weights` of tensor `name` as the options say, then calls
// consume(matrix, quant_report) with the owning sieve matrix (fp32, or int8 with the
// quantization report; the report is empty for fp32), an lvalue it may move from, and
// returns what it returns. Errors name the tensor.
template <class Consume>
status pack_tensor(const std::string& name, sieve::matrix_view<const float> weights,
                   const pack_options& options, Consume&& consume) {
    const sieve::selection how = options.prune ? sieve::selection::magnitude(options.sparsity)
                                               : sieve::selection::nonzeros();
    status outcome{};
    auto finish = [&](auto&& packed) {
        if (!packed.ok()) {
            const bool pattern = packed.error().code() == errc::not_nm_sparse;
            outcome = status::error(packed.error().code(), "tensor '%s': %s%s", name.c_str(),
                                    packed.message(),
                                    pattern ? " (--prune prunes by magnitude to the format)" : "");
            return;
        }
        if (!options.int8.enabled) {
            outcome = consume(packed.value(), sieve::quant_report{});
            return;
        }
        sieve::quant_report report;
        auto quantized = sieve::quantize(*packed, options.int8.config, &report);
        if (!quantized.ok()) {
            outcome = status::error(quantized.error().code(), "tensor '%s': %s", name.c_str(),
                                    quantized.message());
            return;
        }
        outcome = consume(quantized.value(), report);
    };

    const format_choice& f = options.format;
    switch (f.what) {
        case format_choice::kind::dense:
            finish(sieve::dense_matrix<>::pack(weights, how));
            break;
        case format_choice::kind::csr:
            finish(sieve::csr_matrix<>::pack(weights, how));
            break;
        case format_choice::kind::nm:
            finish(sieve::nm_matrix<>::pack(weights, f.pattern, how));
            break;
        case format_choice::kind::bsr:
            detail::with_block_shape(
                f.block_rows, f.block_cols,
                [&](auto shape) { finish(pack_bsr(weights, how, shape)); }, SIEVE_PACK_BSR_SHAPES);
            break;
        case format_choice::kind::bitmap:
            finish(sieve::bitmap_matrix<>::pack(weights, how));
            break;
    }
    return outcome;
}

}  // namespace sieve_pack
