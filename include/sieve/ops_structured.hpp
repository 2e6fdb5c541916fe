// gemv / gemm (and, for int8 weights, gemv_w8a8 / gemm_w8a8) on a channel-pruned matrix
// (formats/structured.hpp): gather the kept input activations, run the dense operation on
// the inner M' x K' matrix, scatter its outputs back.
//
// Semantics are those of ops.hpp for the unpacked M x K matrix, with the removed weights as
// structural zeros:
//   - a removed input channel is never read (Inf or NaN there does not reach the output;
//     W8A8 also quantizes each token from its kept channels only);
//   - a removed output neuron is the epilogue applied to an empty dot product:
//       y[m] = act(bias[m]) + beta * y[m]     (act(0) + beta * y[m] without bias),
//     computed exactly in double (no kernel approximation of gelu/silu for these few);
//     beta == 0 leaves y write-only, as everywhere.
// Gathering needs scratch: K' floats (GEMV) or N x K' (GEMM), plus M' (or N x M') outputs
// and M' bias entries when outputs were removed. Pass it (`gemv_scratch_size` /
// `gemm_scratch_size` floats, 64-byte aligned; it includes the dense operation's own
// workspace) or leave it empty to use a per-thread buffer kept between calls.
//
// These functions call sieve::gemv / gemm, so they live in the same per-dispatch-mode
// inline namespace (ops.hpp explains why).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned_buffer.hpp"
#include "core/checks.hpp"
#include "core/error.hpp"
#include "core/views.hpp"
#include "epilogue.hpp"
#include "formats/structured.hpp"
#include "ops.hpp"
#include "reference/common.hpp"

namespace sieve {
namespace detail {

inline std::size_t padded_floats(std::size_t n) noexcept { return (n + 15) / 16 * 16; }

template <class T>
status check_channel_weights(const char* op, const channel_pruned_view<T>& w) noexcept {
    SIEVE_TRY(check_format_shape(op, w.rows, w.cols));
    SIEVE_TRY(check_view_pointers(op, w));
#if SIEVE_DEBUG_CHECKS
    status s = validate(w);
    if (!s.ok()) return status::error(s.code(), "%s: invalid weights: %s", op, s.message());
#endif
    return {};
}

// The output of a removed neuron before the beta term: the epilogue of a zero dot product.
// reference::activate is the definition of the activations; reusing it keeps these values
// defined exactly as the oracle defines them.
inline double removed_output(const epilogue& ep, std::size_t m) noexcept {
    return reference::activate(ep.act, ep.bias.size != 0 ? static_cast<double>(ep.bias[m]) : 0.0);
}

}  // namespace detail

inline namespace SIEVE_DISPATCH_ABI {

// The per-thread gather buffer (separate from the workspace the dense operation uses).
inline float* channel_scratch(std::size_t floats) noexcept {
    thread_local aligned_buffer<float> buffer;
    if (floats == 0) floats = 1;
    if (buffer.size() < floats && !buffer.allocate(floats).ok()) return nullptr;
    return buffer.data();
}

template <class T>
std::size_t gemv_scratch_size(const channel_pruned_view<T>& w) noexcept {
    return detail::padded_floats(w.inner.cols) + 2 * detail::padded_floats(w.inner.rows) +
           detail::padded_floats(gemv_workspace_size(w.inner.cols));
}
template <class T>
std::size_t gemv_scratch_size(const channel_pruned_matrix<T>& w) noexcept { return gemv_scratch_size(w.view()); }

template <class T>
std::size_t gemm_scratch_size(const channel_pruned_view<T>& w, std::size_t n) noexcept {
    return detail::padded_floats(n * w.inner.cols) + detail::padded_floats(n * w.inner.rows) +
           detail::padded_floats(w.inner.rows) + detail::padded_floats(gemm_workspace_size(w.inner.cols));
}
template <class T>
std::size_t gemm_scratch_size(const channel_pruned_matrix<T>& w, std::size_t n) noexcept {
    return gemm_scratch_size(w.view(), n);
}

namespace channel_ops {

// The caller's scratch (checked: size, alignment, clear of the operands) or this thread's.
inline result<float*> scratch_for(const char* op, span<float> scratch, std::size_t floats, std::uintptr_t x0,
                                  std::uintptr_t x1, std::uintptr_t y0, std::uintptr_t y1,
                                  const epilogue& ep) noexcept {
    const auto b0 = detail::address(ep.bias.data), b1 = detail::address(ep.bias.data + ep.bias.size);
    if (scratch.data != nullptr) return workspace_for(op, scratch, floats, {{x0, x1}, {y0, y1}, {b0, b1}});
    float* own = channel_scratch(floats);
    if (own == nullptr)
        return status::error(errc::out_of_memory, "%s: cannot allocate %zu floats of scratch", op, floats);
    return own;
}

// Bias of the kept outputs, gathered into `to` (M' floats); the epilogue the dense
// operation runs with.
template <class T>
epilogue inner_epilogue(const channel_pruned_view<T>& w, const epilogue& ep, float* to) noexcept {
    epilogue inner = ep;
    if (ep.bias.size != 0) {
        for (std::size_t i = 0; i < w.inner.rows; ++i) to[i] = ep.bias[w.kept_outputs[i]];
        inner.bias = span<const float>(to, w.inner.rows);
    }
    return inner;
}

// gather -> `run(inner, x', y', ep', workspace)` (gemv or gemv_w8a8) -> scatter.
template <class T, class Run>
status gemv(const char* op, const channel_pruned_view<T>& w, span<const float> x, span<float> y, const epilogue& ep,
            span<float> scratch, Run&& run) noexcept {
    SIEVE_TRY(detail::check_channel_weights(op, w));
    SIEVE_TRY(detail::check_span(op, "x", x, w.cols));
    SIEVE_TRY(detail::check_span(op, "y", y, w.rows));
    SIEVE_TRY(detail::check_epilogue(op, ep, w.rows));
    const auto x0 = detail::address(x.data), x1 = detail::address(x.data + x.size);
    const auto y0 = detail::address(y.data), y1 = detail::address(y.data + y.size);
    if (detail::ranges_overlap(y0, y1, x0, x1)) return status::error(errc::aliasing, "%s: y overlaps x", op);
    if (detail::ranges_overlap(y0, y1, detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)))
        return status::error(errc::aliasing, "%s: y overlaps bias", op);
    auto buffer = scratch_for(op, scratch, gemv_scratch_size(w), x0, x1, y0, y1, ep);
    if (!buffer.ok()) return buffer.error();
    const std::size_t kk = w.inner.cols, mk = w.inner.rows;
    float* xs = *buffer;
    float* ys = xs + detail::padded_floats(kk);
    float* bs = ys + detail::padded_floats(mk);
    span<float> workspace;  // the dense operation's: the caller's, or (empty) its own
    if (scratch.data != nullptr)
        workspace = span<float>(bs + detail::padded_floats(mk), detail::padded_floats(gemv_workspace_size(kk)));

    const float* xin = x.data;
    if (!w.all_inputs()) {
        for (std::size_t j = 0; j < kk; ++j) xs[j] = x[w.kept_inputs[j]];
        xin = xs;
    }
    if (w.all_outputs()) return run(w.inner, span<const float>(xin, kk), y, ep, workspace);

    const epilogue inner_ep = inner_epilogue(w, ep, bs);
    if (ep.beta != 0.0f)
        for (std::size_t i = 0; i < mk; ++i) ys[i] = y[w.kept_outputs[i]];
    SIEVE_TRY(run(w.inner, span<const float>(xin, kk), span<float>(ys, mk), inner_ep, workspace));
    for (std::size_t m = 0, i = 0; m < w.rows; ++m) {
        if (i < mk && w.kept_outputs[i] == m) {
            y[m] = ys[i++];
            continue;
        }
        double v = detail::removed_output(ep, m);
        if (ep.beta != 0.0f) v += static_cast<double>(ep.beta) * y[m];
        y[m] = static_cast<float>(v);
    }
    return {};
}

// gather -> `run(inner, X', Y', ep', workspace)` (gemm or gemm_w8a8) -> scatter.
template <class T, class Run>
status gemm(const char* op, const channel_pruned_view<T>& w, matrix_view<const float> x, matrix_view<float> y,
            const epilogue& ep, span<float> scratch, Run&& run) noexcept {
    SIEVE_TRY(detail::check_channel_weights(op, w));
    SIEVE_TRY(detail::check_matrix(op, "X", x));
    SIEVE_TRY(detail::check_matrix(op, "Y", y));
    if (x.cols != w.cols)
        return status::error(errc::shape_mismatch, "%s: X has %zu columns, W has %zu (K)", op, x.cols, w.cols);
    if (y.rows != x.rows || y.cols != w.rows)
        return status::error(errc::shape_mismatch, "%s: Y is %zu x %zu, expected %zu x %zu (N x M)", op, y.rows,
                             y.cols, x.rows, w.rows);
    SIEVE_TRY(detail::check_epilogue(op, ep, w.rows));
    std::uintptr_t y0, y1, x0, x1;
    detail::byte_range(y, y0, y1);
    detail::byte_range(x, x0, x1);
    if (detail::ranges_overlap(y0, y1, x0, x1)) return status::error(errc::aliasing, "%s: Y overlaps X", op);
    if (detail::ranges_overlap(y0, y1, detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)))
        return status::error(errc::aliasing, "%s: Y overlaps bias", op);
    const std::size_t n = x.rows, kk = w.inner.cols, mk = w.inner.rows;
    auto buffer = scratch_for(op, scratch, gemm_scratch_size(w, n), x0, x1, y0, y1, ep);
    if (!buffer.ok()) return buffer.error();
    if (n == 0 || w.rows == 0) return {};
    float* xs = *buffer;
    float* ys = xs + detail::padded_floats(n * kk);
    float* bs = ys + detail::padded_floats(n * mk);
    span<float> workspace;
    if (scratch.data != nullptr)
        workspace = span<float>(bs + detail::padded_floats(mk), detail::padded_floats(gemm_workspace_size(kk)));

    matrix_view<const float> xin = x;
    if (!w.all_inputs()) {
        for (std::size_t t = 0; t < n; ++t)
            for (std::size_t j = 0; j < kk; ++j) xs[t * kk + j] = x(t, w.kept_inputs[j]);
        xin = matrix_view<const float>(xs, n, kk);
    }
    if (w.all_outputs()) return run(w.inner, xin, y, ep, workspace);

    const epilogue inner_ep = inner_epilogue(w, ep, bs);
    if (ep.beta != 0.0f)
        for (std::size_t t = 0; t < n; ++t)
            for (std::size_t i = 0; i < mk; ++i) ys[t * mk + i] = y(t, w.kept_outputs[i]);
    SIEVE_TRY(run(w.inner, xin, matrix_view<float>(ys, n, mk), inner_ep, workspace));
    for (std::size_t m = 0, i = 0; m < w.rows; ++m) {
        if (i < mk && w.kept_outputs[i] == m) {
            for (std::size_t t = 0; t < n; ++t) y(t, m) = ys[t * mk + i];
            ++i;
            continue;
        }
        const double v = detail::removed_output(ep, m);
        for (std::size_t t = 0; t < n; ++t)
            y(t, m) = static_cast<float>(ep.beta != 0.0f ? v + static_cast<double>(ep.beta) * y(t, m) : v);
    }
    return {};
}

}  // namespace channel_ops

template <class T>
status gemv(const channel_pruned_view<T>& w, span<const float> x, span<float> y, const epilogue& ep = {},
            span<float> scratch = {}) noexcept {
    return channel_ops::gemv("gemv", w, x, y, ep, scratch,
                             [](const dense_view<T>& inner, span<const float> xi, span<float> yi, const epilogue& e,
                                span<float>) { return gemv(inner, xi, yi, e); });
}

template <class T>
status gemm(const channel_pruned_view<T>& w, matrix_view<const float> x, matrix_view<float> y,
            const epilogue& ep = {}, span<float> scratch = {}) noexcept {
    return channel_ops::gemm("gemm", w, x, y, ep, scratch,
                             [](const dense_view<T>& inner, matrix_view<const float> xi, matrix_view<float> yi,
                                const epilogue& e, span<float> ws) { return gemm(inner, xi, yi, e, ws); });
}

// W8A8 (int8 weights from sieve::quantize): each token is quantized from its kept channels.
inline status gemv_w8a8(const channel_pruned_view<std::int8_t>& w, span<const float> x, span<float> y,
                        const epilogue& ep = {}, span<float> scratch = {}) noexcept {
    return channel_ops::gemv("gemv_w8a8", w, x, y, ep, scratch,
                             [](const dense_view<std::int8_t>& inner, span<const float> xi, span<float> yi,
                                const epilogue& e, span<float> ws) { return gemv_w8a8(inner, xi, yi, e, ws); });
}

inline status gemm_w8a8(const channel_pruned_view<std::int8_t>& w, matrix_view<const float> x, matrix_view<float> y,
                        const epilogue& ep = {}, span<float> scratch = {}) noexcept {
    return channel_ops::gemm("gemm_w8a8", w, x, y, ep, scratch,
                             [](const dense_view<std::int8_t>& inner, matrix_view<const float> xi,
                                matrix_view<float> yi, const epilogue& e, span<float> ws) {
                                 return gemm_w8a8(inner, xi, yi, e, ws);
                             });
}

// The owning matrix runs through its view.
template <class T>
status gemv(const channel_pruned_matrix<T>& w, span<const float> x, span<float> y, const epilogue& ep = {},
            span<float> scratch = {}) noexcept {
    return gemv(w.view(), x, y, ep, scratch);
}
template <class T>
status gemm(const channel_pruned_matrix<T>& w, matrix_view<const float> x, matrix_view<float> y,
            const epilogue& ep = {}, span<float> scratch = {}) noexcept {
    return gemm(w.view(), x, y, ep, scratch);
}
inline status gemv_w8a8(const channel_pruned_matrix<std::int8_t>& w, span<const float> x, span<float> y,
                        const epilogue& ep = {}, span<float> scratch = {}) noexcept {
    return gemv_w8a8(w.view(), x, y, ep, scratch);
}
inline status gemm_w8a8(const channel_pruned_matrix<std::int8_t>& w, matrix_view<const float> x,
                        matrix_view<float> y, const epilogue& ep = {}, span<float> scratch = {}) noexcept {
    return gemm_w8a8(w.view(), x, y, ep, scratch);
}

}  // namespace SIEVE_DISPATCH_ABI
}  // namespace sieve
