// The public operations: GEMV (batch 1, decode) and GEMM (a batch of tokens).
//
//   gemv(W, x, y, ep):  y[M]     = epilogue(W x)          W: M x K, x: K, y: M
//   gemm(W, X, Y, ep):  Y[N x M] = epilogue(X W^T)        X: N x K row-major (ld >= K),
//                                                         Y: N x M row-major (ld >= M)
// W is any sieve format (owning matrix or its view), fp32 or int8 (from sieve::quantize):
// int8 weights with fp32 activations are dequantized in register (weight-only). X and Y
// are in the layout an engine holds a batch of tokens: one token per row.
//
//   gemv_w8a8(W8, x, y, ep), gemm_w8a8(W8, X, Y, ep): int8 x int8. Each token is quantized
//   on the fly, per token and symmetric: scale = max|x| / 127, q = round-to-nearest-even
//   (x * 127 / max|x|) in -127..127 (symmetric keeps the int8 dot products exact on every
//   ISA: no zero-point corrections, no vpmaddubsw saturation). Integer dot products
//   accumulate in int32, are dequantized per weight scale group and by the token scale,
//   then the epilogue runs in fp32. A token holding NaN or Inf has no int8 form: all of its
//   outputs are NaN.
//
// Every argument is checked here, at the boundary; errors come back as a status and
// nothing is written. Past the checks the kernels cannot fail.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <utility>

#include "core/aligned_buffer.hpp"
#include "core/checks.hpp"
#include "core/error.hpp"
#include "core/views.hpp"
#include "epilogue.hpp"
#include "formats/bsr.hpp"
#include "formats/csr.hpp"
#include "formats/dense.hpp"
#include "formats/nm.hpp"
#include "quant/quantize.hpp"
#include "dispatch/dispatch.hpp"
#include "reference/kernels.hpp"

namespace sieve {
namespace detail {

// Owning formats and views both reach the kernels as views.
template <class T> dense_view<T> view_of(const dense_matrix<T>& w) noexcept { return w.view(); }
template <class T> csr_view<T> view_of(const csr_matrix<T>& w) noexcept { return w.view(); }
template <class T> nm_view<T> view_of(const nm_matrix<T>& w) noexcept { return w.view(); }
template <class T, std::size_t R, std::size_t C>
bsr_view<T, R, C> view_of(const bsr_matrix<T, R, C>& w) noexcept { return w.view(); }
template <class T> const dense_view<T>& view_of(const dense_view<T>& w) noexcept { return w; }
template <class T> const csr_view<T>& view_of(const csr_view<T>& w) noexcept { return w; }
template <class T> const nm_view<T>& view_of(const nm_view<T>& w) noexcept { return w; }
template <class T, std::size_t R, std::size_t C>
const bsr_view<T, R, C>& view_of(const bsr_view<T, R, C>& w) noexcept { return w; }

// Constant-time sanity of a view; the linear-time validate() runs too in debug builds.
template <class View>
status check_weights(const char* op, const View& w) noexcept {
    SIEVE_TRY(check_format_shape(op, w.rows, w.cols));
    SIEVE_TRY(check_view_pointers(op, w));
#if SIEVE_DEBUG_CHECKS
    status s = validate(w);
    if (!s.ok()) return status::error(s.code(), "%s: invalid weights: %s", op, s.message());
#endif
    return {};
}

inline status check_epilogue(const char* op, const epilogue& ep, std::size_t rows) noexcept {
    if (ep.bias.size != 0) SIEVE_TRY(check_span(op, "bias", ep.bias, rows));
    if (!std::isfinite(ep.alpha) || !std::isfinite(ep.beta))
        return status::error(errc::non_finite, "%s: alpha (%g) and beta (%g) must be finite", op,
                             static_cast<double>(ep.alpha), static_cast<double>(ep.beta));
    return {};
}

template <class T>
std::uintptr_t address(const T* p) noexcept { return reinterpret_cast<std::uintptr_t>(p); }

template <class View>
status check_gemv(const char* op, const View& w, span<const float> x, span<float> y, const epilogue& ep) noexcept {
    SIEVE_TRY(check_weights(op, w));
    SIEVE_TRY(check_span(op, "x", x, w.cols));
    SIEVE_TRY(check_span(op, "y", y, w.rows));
    SIEVE_TRY(check_epilogue(op, ep, w.rows));
    const auto y0 = address(y.data), y1 = address(y.data + y.size);
    if (ranges_overlap(y0, y1, address(x.data), address(x.data + x.size)))
        return status::error(errc::aliasing, "%s: y overlaps x", op);
    if (ranges_overlap(y0, y1, address(ep.bias.data), address(ep.bias.data + ep.bias.size)))
        return status::error(errc::aliasing, "%s: y overlaps bias", op);
    return {};
}

template <class View>
status check_gemm(const char* op, const View& w, matrix_view<const float> x, matrix_view<float> y,
                  const epilogue& ep) noexcept {
    SIEVE_TRY(check_weights(op, w));
    SIEVE_TRY(check_matrix(op, "X", x));
    SIEVE_TRY(check_matrix(op, "Y", y));
    if (x.cols != w.cols)
        return status::error(errc::shape_mismatch, "%s: X has %zu columns, W has %zu (K)", op, x.cols, w.cols);
    if (y.rows != x.rows || y.cols != w.rows)
        return status::error(errc::shape_mismatch, "%s: Y is %zu x %zu, expected %zu x %zu (N x M)", op, y.rows,
                             y.cols, x.rows, w.rows);
    SIEVE_TRY(check_epilogue(op, ep, w.rows));
    std::uintptr_t y0, y1, x0, x1;
    byte_range(y, y0, y1);
    byte_range(x, x0, x1);
    if (ranges_overlap(y0, y1, x0, x1)) return status::error(errc::aliasing, "%s: Y overlaps X", op);
    if (ranges_overlap(y0, y1, address(ep.bias.data), address(ep.bias.data + ep.bias.size)))
        return status::error(errc::aliasing, "%s: Y overlaps bias", op);
    return {};
}

template <class View>
constexpr bool holds_int8() noexcept {
    return is_int8_weight<std::remove_cv_t<std::remove_pointer_t<decltype(std::declval<View>().values)>>>;
}

}  // namespace detail

inline namespace SIEVE_DISPATCH_ABI {

// Per-thread kernel scratch, grown on demand and kept for later calls.
inline float* thread_workspace(std::size_t floats) noexcept {
    thread_local aligned_buffer<float> buffer;
    if (floats == 0) floats = 1;  // K = 0 still needs a non-null (if unused) scratch pointer
    if (buffer.size() < floats && !buffer.allocate(floats).ok()) return nullptr;
    return buffer.data();
}

// Floats of scratch a GEMM (fp32, int8 or W8A8) with K columns needs (the packed panel).
inline std::size_t gemm_workspace_size(std::size_t k) noexcept { return kernels::gemm_workspace_floats(k); }
// Floats of scratch a W8A8 GEMV with K columns needs (the quantized token).
inline std::size_t gemv_workspace_size(std::size_t k) noexcept { return (kernels::gemv_scratch_bytes(k) + 3) / 4; }


// The caller's workspace (checked: size, alignment, no overlap with the operands), or this
// thread's own; null only when that cannot be allocated (reported before anything is
// written).
inline result<float*> workspace_for(const char* op, span<float> workspace, std::size_t floats,
                              std::initializer_list<std::pair<std::uintptr_t, std::uintptr_t>> operands) noexcept {
    if (workspace.data == nullptr) {
        float* own = thread_workspace(floats);
        if (own == nullptr)
            return status::error(errc::out_of_memory, "%s: cannot allocate %zu floats of workspace", op, floats);
        return own;
    }
    if (workspace.size < floats)
        return status::error(errc::shape_mismatch, "%s: workspace has %zu floats, needs %zu", op, workspace.size,
                             floats);
    if (detail::address(workspace.data) % storage_alignment != 0)
        return status::error(errc::bad_argument, "%s: workspace is not 64-byte aligned", op);
    const auto w0 = detail::address(workspace.data), w1 = detail::address(workspace.data + workspace.size);
    for (const auto& range : operands)
        if (detail::ranges_overlap(w0, w1, range.first, range.second))
            return status::error(errc::aliasing, "%s: workspace overlaps X, Y or bias", op);
    return workspace.data;
}

template <class Weights>
status gemv(const Weights& weights, span<const float> x, span<float> y, const epilogue& ep = {}) noexcept {
    const auto& w = detail::view_of(weights);
    SIEVE_TRY(detail::check_gemv("gemv", w, x, y, ep));
    using view_type = std::decay_t<decltype(w)>;
    const bool ran = with_active_arch<view_type>(
        [&](auto arch) { kernels::gemv<decltype(arch)>(w, x.data, y.data, ep); });
    if (!ran) reference::gemv(w, x.data, y.data, ep);
    return {};
}

// `workspace`, when given, must hold gemm_workspace_size(K) floats and be 64-byte aligned;
// without it each thread keeps one growing scratch buffer (the only allocation sieve makes
// outside packing; firmware builds pass their own).
template <class Weights>
status gemm(const Weights& weights, matrix_view<const float> x, matrix_view<float> y,
            const epilogue& ep = {}, span<float> workspace = {}) noexcept {
    const char* op = "gemm";
    const auto& w = detail::view_of(weights);
    SIEVE_TRY(detail::check_gemm(op, w, x, y, ep));
    std::uintptr_t y0, y1, x0, x1;
    detail::byte_range(y, y0, y1);
    detail::byte_range(x, x0, x1);
    auto buffer = workspace_for(op, workspace, gemm_workspace_size(w.cols),
                                  {{x0, x1}, {y0, y1}, {detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)}});
    if (!buffer.ok()) return buffer.error();
    if (x.rows == 0 || w.rows == 0) return {};
    using view_type = std::decay_t<decltype(w)>;
    const bool ran = with_active_arch<view_type>(
        [&](auto arch) { kernels::gemm<decltype(arch)>(w, x, y, ep, *buffer); });
    if (!ran) reference::gemm(w, x, y, ep);
    return {};
}

// W8A8 GEMV (int8 weights only; see the top of this file). `workspace`, when given, holds
// gemv_workspace_size(K) floats, 64-byte aligned.
template <class Weights>
status gemv_w8a8(const Weights& weights, span<const float> x, span<float> y, const epilogue& ep = {},
                 span<float> workspace = {}) noexcept {
    const char* op = "gemv_w8a8";
    const auto& w = detail::view_of(weights);
    using view_type = std::decay_t<decltype(w)>;
    static_assert(detail::holds_int8<view_type>(), "gemv_w8a8 takes int8 weights (sieve::quantize)");
    SIEVE_TRY(detail::check_gemv(op, w, x, y, ep));
    auto buffer = workspace_for(op, workspace, gemv_workspace_size(w.cols),
                                  {{detail::address(x.data), detail::address(x.data + x.size)},
                                   {detail::address(y.data), detail::address(y.data + y.size)},
                                   {detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)}});
    if (!buffer.ok()) return buffer.error();
    const bool ran = with_active_arch<view_type>([&](auto arch) {
        kernels::gemv_w8a8<decltype(arch)>(w, x.data, y.data, ep, reinterpret_cast<std::int8_t*>(*buffer));
    });
    if (!ran) reference::gemv_w8a8(w, x.data, y.data, ep);
    return {};
}

// W8A8 GEMM (int8 weights only; see the top of this file). `workspace` as for gemm().
template <class Weights>
status gemm_w8a8(const Weights& weights, matrix_view<const float> x, matrix_view<float> y,
                 const epilogue& ep = {}, span<float> workspace = {}) noexcept {
    const char* op = "gemm_w8a8";
    const auto& w = detail::view_of(weights);
    using view_type = std::decay_t<decltype(w)>;
    static_assert(detail::holds_int8<view_type>(), "gemm_w8a8 takes int8 weights (sieve::quantize)");
    SIEVE_TRY(detail::check_gemm(op, w, x, y, ep));
    std::uintptr_t y0, y1, x0, x1;
    detail::byte_range(y, y0, y1);
    detail::byte_range(x, x0, x1);
    auto buffer = workspace_for(op, workspace, gemm_workspace_size(w.cols),
                                  {{x0, x1}, {y0, y1}, {detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)}});
    if (!buffer.ok()) return buffer.error();
    if (x.rows == 0 || w.rows == 0) return {};
    const bool ran = with_active_arch<view_type>(
        [&](auto arch) { kernels::gemm_w8a8<decltype(arch)>(w, x, y, ep, *buffer); });
    if (!ran) reference::gemm_w8a8(w, x, y, ep);
    return {};
}

}  // namespace SIEVE_DISPATCH_ABI
}  // namespace sieve
