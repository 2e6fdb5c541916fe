// int8 quantization of a channel-pruned matrix: its inner dense matrix is quantized as any
// dense_matrix (quant/quantize.hpp: scales per output row or per group of 32, 64 or 128
// kept input channels), the kept-channel indices are copied.
#pragma once

#include <cstdint>
#include <cstring>
#include <utility>

#include "../formats/structured.hpp"
#include "quantize.hpp"

namespace sieve {
namespace detail {

struct channel_quantizer {
    static result<channel_pruned_matrix<std::int8_t>> run(const channel_pruned_matrix<float>& w, quant_config cfg,
                                                         quant_report* report) {
        auto inner = quantize(w.inner_, cfg, report);
        if (!inner.ok()) return inner.error();
        channel_pruned_matrix<std::int8_t> out;
        out.inner_ = std::move(*inner);
        out.rows_ = w.rows_;
        out.cols_ = w.cols_;
        SIEVE_TRY(copy(out.inputs_, w.inputs_));
        SIEVE_TRY(copy(out.outputs_, w.outputs_));
        return out;
    }

private:
    static status copy(aligned_buffer<std::uint32_t>& to, const aligned_buffer<std::uint32_t>& from) noexcept {
        SIEVE_TRY(to.allocate(from.size()));
        if (from.size() != 0) std::memcpy(to.data(), from.data(), from.bytes());
        return {};
    }
};

}  // namespace detail

inline result<channel_pruned_matrix<std::int8_t>> quantize(const channel_pruned_matrix<float>& w,
                                                           quant_config cfg = {}, quant_report* report = nullptr) {
    return detail::channel_quantizer::run(w, cfg, report);
}

}  // namespace sieve
