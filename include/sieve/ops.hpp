// The public operations: GEMV (batch 1, decode) and GEMM (a batch of tokens).
//
//   gemv(W, x, y, ep):  y[M]     = epilogue(W x)          W: M x K, x: K, y: M
//   gemm(W, X, Y, ep):  Y[N x M] = epilogue(X W^T)        X: N x K row-major (ld >= K),
//                                                         Y: N x M row-major (ld >= M)
// W is any sieve format (owning matrix or its view). X and Y are in the layout an engine
// holds a batch of tokens: one token per row. Every argument is checked here, at the
// boundary; errors come back as a status and nothing is written. Past the checks the
// kernels cannot fail.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/aligned_buffer.hpp"
#include "core/checks.hpp"
#include "core/error.hpp"
#include "core/views.hpp"
#include "epilogue.hpp"
#include "formats/bsr.hpp"
#include "formats/csr.hpp"
#include "formats/dense.hpp"
#include "formats/nm.hpp"
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

}  // namespace detail

inline namespace SIEVE_DISPATCH_ABI {

// Per-thread GEMM scratch, grown on demand and kept for later calls.
inline float* thread_workspace(std::size_t floats) noexcept {
    thread_local aligned_buffer<float> buffer;
    if (floats == 0) floats = 1;  // K = 0 still needs a non-null (if unused) scratch pointer
    if (buffer.size() < floats && !buffer.allocate(floats).ok()) return nullptr;
    return buffer.data();
}

template <class Weights>
status gemv(const Weights& weights, span<const float> x, span<float> y, const epilogue& ep = {}) noexcept {
    const char* op = "gemv";
    const auto& w = detail::view_of(weights);
    SIEVE_TRY(detail::check_weights(op, w));
    SIEVE_TRY(detail::check_span(op, "x", x, w.cols));
    SIEVE_TRY(detail::check_span(op, "y", y, w.rows));
    SIEVE_TRY(detail::check_epilogue(op, ep, w.rows));
    const auto y0 = detail::address(y.data), y1 = detail::address(y.data + y.size);
    if (detail::ranges_overlap(y0, y1, detail::address(x.data), detail::address(x.data + x.size)))
        return status::error(errc::aliasing, "gemv: y overlaps x");
    if (detail::ranges_overlap(y0, y1, detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)))
        return status::error(errc::aliasing, "gemv: y overlaps bias");
    using view_type = std::decay_t<decltype(w)>;
    const bool ran = with_active_arch<view_type>(
        [&](auto arch) { kernels::gemv<decltype(arch)>(w, x.data, y.data, ep); });
    if (!ran) reference::gemv(w, x.data, y.data, ep);
    return {};
}

// Floats of scratch a GEMM with K columns needs (the packed activation panel).
inline std::size_t gemm_workspace_size(std::size_t k) noexcept { return k * kernels::max_panel_width; }

// `workspace`, when given, must hold gemm_workspace_size(K) floats and be 64-byte aligned;
// without it each thread keeps one growing scratch buffer (the only allocation sieve makes
// outside packing; firmware builds pass their own).
template <class Weights>
status gemm(const Weights& weights, matrix_view<const float> x, matrix_view<float> y,
            const epilogue& ep = {}, span<float> workspace = {}) noexcept {
    const char* op = "gemm";
    const auto& w = detail::view_of(weights);
    SIEVE_TRY(detail::check_weights(op, w));
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
    if (workspace.data != nullptr) {
        if (workspace.size < gemm_workspace_size(w.cols))
            return status::error(errc::shape_mismatch, "gemm: workspace has %zu floats, needs %zu", workspace.size,
                                 gemm_workspace_size(w.cols));
        if (detail::address(workspace.data) % storage_alignment != 0)
            return status::error(errc::bad_argument, "gemm: workspace is not 64-byte aligned");
        const auto w0 = detail::address(workspace.data), w1 = detail::address(workspace.data + workspace.size);
        if (detail::ranges_overlap(w0, w1, x0, x1) || detail::ranges_overlap(w0, w1, y0, y1) ||
            detail::ranges_overlap(w0, w1, detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)))
            return status::error(errc::aliasing, "gemm: workspace overlaps X, Y or bias");
    } else if (x.rows != 0 && w.rows != 0 && thread_workspace(gemm_workspace_size(w.cols)) == nullptr) {
        return status::error(errc::out_of_memory, "gemm: cannot allocate %zu floats of workspace",
                             gemm_workspace_size(w.cols));
    }
    if (x.rows == 0 || w.rows == 0) return {};
    using view_type = std::decay_t<decltype(w)>;
    const bool ran = with_active_arch<view_type>([&](auto arch) {
        float* scratch = workspace.data;
        if (scratch == nullptr) scratch = thread_workspace(gemm_workspace_size(w.cols));
        SIEVE_DEBUG_ASSERT(scratch != nullptr);  // allocated above, before any output is touched
        kernels::gemm<decltype(arch)>(w, x, y, ep, scratch);
    });
    if (!ran) reference::gemm(w, x, y, ep);
    return {};
}

}  // namespace SIEVE_DISPATCH_ABI
}  // namespace sieve
