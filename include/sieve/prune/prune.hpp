// The pruning toolkit in one call: dense weights + calibration statistics + a target ->
// a packed sieve matrix, in any format, fp32 or int8.
//
//   auto stats = sieve::calibration::create(K);            // then stats->add(batch) per batch
//   auto w = sieve::prune_and_pack<sieve::nm_matrix<>>(
//       W, *stats, {sieve::prune_method::sparsegpt, sieve::prune_target::nm(2, 4)});
//   auto w8 = sieve::prune_and_pack<sieve::nm_matrix<std::int8_t>>(      // int8 weights
//       W, *stats, {sieve::prune_method::sparsegpt, sieve::prune_target::nm(2, 4), {},
//                   sieve::quant_config::per_group(64)});
//
// Which targets a format takes: dense_matrix, csr_matrix and bitmap_matrix any; nm_matrix an N:M target;
// bsr_matrix<T, R, C> R x C blocks; channel_pruned_matrix input channels or output
// neurons. A mismatch (or a bad quantization group) is refused before any pruning work.
// An int8 format is the fp32 one pruned and packed, then quantized (quant/quantize.hpp):
// quantization comes after SparseGPT's updates, which it does not see.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <type_traits>

#include "../formats/bitmap.hpp"
#include "../formats/bsr.hpp"
#include "../formats/csr.hpp"
#include "../formats/dense.hpp"
#include "../formats/nm.hpp"
#include "../formats/structured.hpp"
#include "../quant/quantize.hpp"
#include "../quant/structured.hpp"
#include "calibration.hpp"
#include "magnitude.hpp"
#include "sparsegpt.hpp"
#include "target.hpp"
#include "wanda.hpp"

namespace sieve {

enum class prune_method : std::uint8_t { magnitude, wanda, sparsegpt };

inline const char* to_string(prune_method m) noexcept {
    switch (m) {
    case prune_method::magnitude: return "magnitude";
    case prune_method::wanda: return "wanda";
    case prune_method::sparsegpt: return "sparsegpt";
    }
    return "unknown";
}

struct prune_config {
    prune_method method = prune_method::sparsegpt;
    prune_target target = prune_target::unstructured(0.5);
    sparsegpt_options sparsegpt{};
    quant_config quant{};  // int8 formats only: scales per row (default) or per group
};

// Prunes with the configured method. `stats` may be null for magnitude pruning only.
inline result<pruned_layer> prune(matrix_view<const float> weights, const calibration* stats,
                                  const prune_config& config, prune_report* report = nullptr) {
    if (config.method != prune_method::magnitude && stats == nullptr)
        return status::error(errc::null_pointer, "prune: %s needs calibration statistics",
                             to_string(config.method));
    switch (config.method) {
    case prune_method::magnitude: return magnitude_prune(weights, config.target, report);
    case prune_method::wanda: return wanda_prune(weights, *stats, config.target, report);
    case prune_method::sparsegpt:
        return sparsegpt_prune(weights, *stats, config.target, config.sparsegpt, report);
    }
    return status::error(errc::bad_argument, "prune: unknown method %d", static_cast<int>(config.method));
}

namespace detail {

inline status target_mismatch(const char* format, const char* wants, const prune_target& t) noexcept {
    return status::error(errc::bad_argument, "prune_and_pack: %s needs %s, the target is %s", format, wants,
                         describe(t).c_str());
}

// How each format packs a pruned layer, and which targets it takes. Unknown formats fail
// to compile here.
template <class Format>
struct pruned_packer;

template <>
struct pruned_packer<dense_matrix<float>> {
    static status accepts(const prune_target&) noexcept { return {}; }
    static result<dense_matrix<float>> pack(const pruned_layer& l, const prune_target&) {
        return dense_matrix<float>::pack(l.weights(), l.as_selection());
    }
};

template <>
struct pruned_packer<csr_matrix<float>> {
    static status accepts(const prune_target&) noexcept { return {}; }
    static result<csr_matrix<float>> pack(const pruned_layer& l, const prune_target&) {
        return csr_matrix<float>::pack(l.weights(), l.as_selection());
    }
};

template <>
struct pruned_packer<bitmap_matrix<float>> {
    static status accepts(const prune_target&) noexcept { return {}; }
    static result<bitmap_matrix<float>> pack(const pruned_layer& l, const prune_target&) {
        return bitmap_matrix<float>::pack(l.weights(), l.as_selection());
    }
};

template <>
struct pruned_packer<nm_matrix<float>> {
    static status accepts(const prune_target& t) noexcept {
        return t.shape == prune_target::kind::nm_group ? status{} : target_mismatch("nm_matrix", "an N:M target", t);
    }
    static result<nm_matrix<float>> pack(const pruned_layer& l, const prune_target& t) {
        const nm_pattern pattern{static_cast<std::uint32_t>(t.n), static_cast<std::uint32_t>(t.m)};
        return nm_matrix<float>::pack(l.weights(), pattern, l.as_selection());
    }
};

template <std::size_t R, std::size_t C>
struct pruned_packer<bsr_matrix<float, R, C>> {
    static status accepts(const prune_target& t) noexcept {
        if (t.shape == prune_target::kind::block && t.block_rows == R && t.block_cols == C) return {};
        char wants[40];
        std::snprintf(wants, sizeof wants, "a %zux%zu block target", R, C);
        return target_mismatch("bsr_matrix", wants, t);
    }
    static result<bsr_matrix<float, R, C>> pack(const pruned_layer& l, const prune_target&) {
        return bsr_matrix<float, R, C>::pack(l.weights(), l.as_selection());
    }
};

template <>
struct pruned_packer<channel_pruned_matrix<float>> {
    static status accepts(const prune_target& t) noexcept {
        return t.structured() ? status{}
                              : target_mismatch("channel_pruned_matrix", "an input-channel or output-neuron target", t);
    }
    static result<channel_pruned_matrix<float>> pack(const pruned_layer& l, const prune_target&) {
        return channel_pruned_matrix<float>::pack(l.weights(), l.as_selection());
    }
};

}  // namespace detail

namespace detail {
// The fp32 format an int8 format is quantized from (itself for fp32 formats).
template <class Format>
struct fp32_form;
template <template <class> class Format, class T>
struct fp32_form<Format<T>> {
    using type = Format<float>;
};
template <class T, std::size_t R, std::size_t C>
struct fp32_form<bsr_matrix<T, R, C>> {
    using type = bsr_matrix<float, R, C>;
};
}  // namespace detail

// Prunes `weights` (M x K) as `config` says and packs the result into `Format`; an int8
// Format is quantized with `config.quant` after packing (`quantization` receives its
// error). `stats` may be null for magnitude pruning only.
template <class Format>
result<Format> prune_and_pack(matrix_view<const float> weights, const calibration* stats, const prune_config& config,
                              prune_report* report = nullptr, quant_report* quantization = nullptr) {
    using fp32_format = typename detail::fp32_form<Format>::type;
    constexpr bool int8 = !std::is_same<Format, fp32_format>::value;
    SIEVE_TRY(detail::pruned_packer<fp32_format>::accepts(config.target));
    if (int8) SIEVE_TRY(detail::check_quant_group("prune_and_pack", config.quant.group));
    auto layer = prune(weights, stats, config, report);
    if (!layer.ok()) return layer.error();
    auto packed = detail::pruned_packer<fp32_format>::pack(*layer, config.target);
    if constexpr (int8) {
        if (!packed.ok()) return packed.error();
        return quantize(*packed, config.quant, quantization);
    } else {
        (void)quantization;
        return packed;
    }
}

template <class Format>
result<Format> prune_and_pack(matrix_view<const float> weights, const calibration& stats, const prune_config& config,
                              prune_report* report = nullptr, quant_report* quantization = nullptr) {
    return prune_and_pack<Format>(weights, &stats, config, report, quantization);
}

}  // namespace sieve
