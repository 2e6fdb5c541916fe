// gemv / gemm on a channel-pruned matrix (formats/structured.hpp): gather the kept input
// activations, run the dense kernel on the inner M' x K' matrix, scatter its outputs back.
//
// Semantics are those of ops.hpp for the unpacked M x K matrix, with the removed weights as
// structural zeros:
//   - a removed input channel is never read (Inf or NaN there does not reach the output);
//   - a removed output neuron is the epilogue applied to an empty dot product:
//       y[m] = act(bias[m]) + beta * y[m]     (act(0) + beta * y[m] without bias),
//     computed exactly in double (no kernel approximation of gelu/silu for these few);
//     beta == 0 leaves y write-only, as everywhere.
// Gathering needs scratch: K' floats (GEMV) or N x K' (GEMM), plus M' (or N x M') outputs
// and M' bias entries when outputs were removed. Pass it (`gemv_scratch_size` /
// `gemm_scratch_size` floats, 64-byte aligned; for GEMM it includes the dense kernel's own
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

inline bool overlaps_any(std::uintptr_t a0, std::uintptr_t a1, std::uintptr_t b0, std::uintptr_t b1,
                         std::uintptr_t c0, std::uintptr_t c1, std::uintptr_t d0, std::uintptr_t d1) noexcept {
    return ranges_overlap(a0, a1, b0, b1) || ranges_overlap(a0, a1, c0, c1) || ranges_overlap(a0, a1, d0, d1);
}

// Checks caller scratch: big enough, aligned, and clear of the operands.
inline status check_scratch(const char* op, span<float> scratch, std::size_t need, std::uintptr_t x0,
                            std::uintptr_t x1, std::uintptr_t y0, std::uintptr_t y1, const epilogue& ep) noexcept {
    if (scratch.size < need)
        return status::error(errc::shape_mismatch, "%s: scratch has %zu floats, needs %zu", op, scratch.size, need);
    if (address(scratch.data) % storage_alignment != 0)
        return status::error(errc::bad_argument, "%s: scratch is not 64-byte aligned", op);
    const auto s0 = address(scratch.data), s1 = address(scratch.data + scratch.size);
    if (overlaps_any(s0, s1, x0, x1, y0, y1, address(ep.bias.data), address(ep.bias.data + ep.bias.size)))
        return status::error(errc::aliasing, "%s: scratch overlaps x, y or bias", op);
    return {};
}

}  // namespace detail

inline namespace SIEVE_DISPATCH_ABI {

// The per-thread gather buffer (separate from the GEMM workspace the inner kernel uses).
inline float* channel_scratch(std::size_t floats) noexcept {
    thread_local aligned_buffer<float> buffer;
    if (floats == 0) floats = 1;
    if (buffer.size() < floats && !buffer.allocate(floats).ok()) return nullptr;
    return buffer.data();
}

template <class T>
std::size_t gemv_scratch_size(const channel_pruned_view<T>& w) noexcept {
    return detail::padded_floats(w.inner.cols) + 2 * detail::padded_floats(w.inner.rows);
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

template <class T>
status gemv(const channel_pruned_view<T>& w, span<const float> x, span<float> y, const epilogue& ep = {},
            span<float> scratch = {}) noexcept {
    const char* op = "gemv";
    SIEVE_TRY(detail::check_channel_weights(op, w));
    SIEVE_TRY(detail::check_span(op, "x", x, w.cols));
    SIEVE_TRY(detail::check_span(op, "y", y, w.rows));
    SIEVE_TRY(detail::check_epilogue(op, ep, w.rows));
    const auto x0 = detail::address(x.data), x1 = detail::address(x.data + x.size);
    const auto y0 = detail::address(y.data), y1 = detail::address(y.data + y.size);
    if (detail::ranges_overlap(y0, y1, x0, x1)) return status::error(errc::aliasing, "gemv: y overlaps x");
    if (detail::ranges_overlap(y0, y1, detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)))
        return status::error(errc::aliasing, "gemv: y overlaps bias");
    const std::size_t kk = w.inner.cols, mk = w.inner.rows;
    float* buf = scratch.data;
    if (buf != nullptr) {
        SIEVE_TRY(detail::check_scratch(op, scratch, gemv_scratch_size(w), x0, x1, y0, y1, ep));
    } else if ((buf = channel_scratch(gemv_scratch_size(w))) == nullptr) {
        return status::error(errc::out_of_memory, "gemv: cannot allocate %zu floats of scratch", gemv_scratch_size(w));
    }
    float* xs = buf;
    float* ys = xs + detail::padded_floats(kk);
    float* bs = ys + detail::padded_floats(mk);

    const float* xin = x.data;
    if (!w.all_inputs()) {
        for (std::size_t j = 0; j < kk; ++j) xs[j] = x[w.kept_inputs[j]];
        xin = xs;
    }
    if (w.all_outputs()) return gemv(w.inner, span<const float>(xin, kk), y, ep);

    epilogue inner_ep = ep;
    if (ep.bias.size != 0) {
        for (std::size_t i = 0; i < mk; ++i) bs[i] = ep.bias[w.kept_outputs[i]];
        inner_ep.bias = span<const float>(bs, mk);
    }
    if (ep.beta != 0.0f)
        for (std::size_t i = 0; i < mk; ++i) ys[i] = y[w.kept_outputs[i]];
    SIEVE_TRY(gemv(w.inner, span<const float>(xin, kk), span<float>(ys, mk), inner_ep));
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

template <class T>
status gemv(const channel_pruned_matrix<T>& w, span<const float> x, span<float> y, const epilogue& ep = {},
            span<float> scratch = {}) noexcept {
    return gemv(w.view(), x, y, ep, scratch);
}

template <class T>
status gemm(const channel_pruned_view<T>& w, matrix_view<const float> x, matrix_view<float> y,
            const epilogue& ep = {}, span<float> scratch = {}) noexcept {
    const char* op = "gemm";
    SIEVE_TRY(detail::check_channel_weights(op, w));
    SIEVE_TRY(detail::check_matrix(op, "X", x));
    SIEVE_TRY(detail::check_matrix(op, "Y", y));
    if (x.cols != w.cols)
        return status::error(errc::shape_mismatch, "gemm: X has %zu columns, W has %zu (K)", x.cols, w.cols);
    if (y.rows != x.rows || y.cols != w.rows)
        return status::error(errc::shape_mismatch, "gemm: Y is %zu x %zu, expected %zu x %zu (N x M)", y.rows,
                             y.cols, x.rows, w.rows);
    SIEVE_TRY(detail::check_epilogue(op, ep, w.rows));
    std::uintptr_t y0, y1, x0, x1;
    detail::byte_range(y, y0, y1);
    detail::byte_range(x, x0, x1);
    if (detail::ranges_overlap(y0, y1, x0, x1)) return status::error(errc::aliasing, "gemm: Y overlaps X");
    if (detail::ranges_overlap(y0, y1, detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)))
        return status::error(errc::aliasing, "gemm: Y overlaps bias");
    const std::size_t n = x.rows, kk = w.inner.cols, mk = w.inner.rows;
    const std::size_t need = gemm_scratch_size(w, n);
    float* buf = scratch.data;
    if (buf != nullptr) {
        SIEVE_TRY(detail::check_scratch(op, scratch, need, x0, x1, y0, y1, ep));
    } else if (n != 0 && (buf = channel_scratch(need)) == nullptr) {
        return status::error(errc::out_of_memory, "gemm: cannot allocate %zu floats of scratch", need);
    }
    if (n == 0 || w.rows == 0) return {};
    float* xs = buf;
    float* ys = xs + detail::padded_floats(n * kk);
    float* bs = ys + detail::padded_floats(n * mk);
    // The dense kernel's own workspace: the caller's, or (empty) its per-thread one.
    span<float> workspace;
    if (scratch.data != nullptr)
        workspace = span<float>(bs + detail::padded_floats(mk), detail::padded_floats(gemm_workspace_size(kk)));

    matrix_view<const float> xin = x;
    if (!w.all_inputs()) {
        for (std::size_t t = 0; t < n; ++t)
            for (std::size_t j = 0; j < kk; ++j) xs[t * kk + j] = x(t, w.kept_inputs[j]);
        xin = matrix_view<const float>(xs, n, kk);
    }
    if (w.all_outputs()) return gemm(w.inner, xin, y, ep, workspace);

    epilogue inner_ep = ep;
    if (ep.bias.size != 0) {
        for (std::size_t i = 0; i < mk; ++i) bs[i] = ep.bias[w.kept_outputs[i]];
        inner_ep.bias = span<const float>(bs, mk);
    }
    if (ep.beta != 0.0f)
        for (std::size_t t = 0; t < n; ++t)
            for (std::size_t i = 0; i < mk; ++i) ys[t * mk + i] = y(t, w.kept_outputs[i]);
    SIEVE_TRY(gemm(w.inner, xin, matrix_view<float>(ys, n, mk), inner_ep, workspace));
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

template <class T>
status gemm(const channel_pruned_matrix<T>& w, matrix_view<const float> x, matrix_view<float> y,
            const epilogue& ep = {}, span<float> scratch = {}) noexcept {
    return gemm(w.view(), x, y, ep, scratch);
}

}  // namespace SIEVE_DISPATCH_ABI
}  // namespace sieve
