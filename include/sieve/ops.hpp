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

#include <atomic>
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
#include "formats/bitmap.hpp"
#include "formats/bsr.hpp"
#include "formats/csr.hpp"
#include "formats/dense.hpp"
#include "formats/nm.hpp"
#include "quant/quantize.hpp"
#include "dispatch/dispatch.hpp"
#include "parallel/executor.hpp"
#include "parallel/partition.hpp"
#include "reference/kernels.hpp"

namespace sieve {
namespace detail {

// Owning formats and views both reach the kernels as views.
template <class T> dense_view<T> view_of(const dense_matrix<T>& w) noexcept { return w.view(); }
template <class T> csr_view<T> view_of(const csr_matrix<T>& w) noexcept { return w.view(); }
template <class T> nm_view<T> view_of(const nm_matrix<T>& w) noexcept { return w.view(); }
template <class T> bitmap_view<T> view_of(const bitmap_matrix<T>& w) noexcept { return w.view(); }
template <class T, std::size_t R, std::size_t C>
bsr_view<T, R, C> view_of(const bsr_matrix<T, R, C>& w) noexcept { return w.view(); }
template <class T> const dense_view<T>& view_of(const dense_view<T>& w) noexcept { return w; }
template <class T> const csr_view<T>& view_of(const csr_view<T>& w) noexcept { return w; }
template <class T> const nm_view<T>& view_of(const nm_view<T>& w) noexcept { return w; }
template <class T> const bitmap_view<T>& view_of(const bitmap_view<T>& w) noexcept { return w; }
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

// Floats of workspace a call with this executor may need: one part per task.
inline std::size_t gemm_workspace_size(std::size_t k, const executor& exec) noexcept {
    return gemm_workspace_size(k) * exec.max_tasks();
}
inline std::size_t gemv_workspace_size(std::size_t k, const executor& exec) noexcept {
    return gemv_workspace_size(k) * exec.max_tasks();
}

// What runs the tasks of one call (beside ABI-dependent code, hence not sieve::detail).
namespace task_detail {
using namespace ::sieve::detail;

// The epilogue of output rows [m0, m1): the bias slice (bias indices follow the sub-view).
inline epilogue rows_of(const epilogue& ep, std::size_t m0, std::size_t m1) noexcept {
    epilogue out = ep;
    if (ep.bias.size != 0) out.bias = span<const float>(ep.bias.data + m0, m1 - m0);
    return out;
}

// Runs kernel(sub_view, m0, m1, task) over the GEMV tasks: one task runs the whole view on
// the calling thread (the serial path, unchanged), more run rows [m0, m1) each.
template <class View, class Kernel>
void for_each_row_task(const executor& exec, const View& w, std::size_t tasks, Kernel&& kernel) {
    if (tasks == 1) {
        kernel(w, std::size_t{0}, w.rows, std::size_t{0});
        return;
    }
    auto body = [&](std::size_t t) {
        const row_range r = part_rows(w, t, tasks);
        if (r.m0 < r.m1) kernel(slice_units(w, r.m0, r.m1), r.m0, r.m1, t);
    };
    run_tasks(exec, tasks, body);
}

// Runs kernel(sub_view, X_tile, Y_tile, m0, m1, task) over the GEMM tiles.
template <class View, class Kernel>
void for_each_tile_task(const executor& exec, const View& w, const gemm_plan& plan, matrix_view<const float> x,
                        matrix_view<float> y, Kernel&& kernel) {
    if (plan.tasks() == 1) {
        kernel(w, x, y, std::size_t{0}, w.rows, std::size_t{0});
        return;
    }
    auto body = [&](std::size_t t) {
        const row_range n = plan.tokens(t / plan.row_parts, x.rows);
        const row_range m = part_rows(w, t % plan.row_parts, plan.row_parts);
        if (n.m0 == n.m1 || m.m0 == m.m1) return;
        const matrix_view<const float> x_tile(x.row(n.m0), n.m1 - n.m0, x.cols, x.ld);
        const matrix_view<float> y_tile(y.row(n.m0) + m.m0, n.m1 - n.m0, m.m1 - m.m0, y.ld);
        kernel(slice_units(w, m.m0, m.m1), x_tile, y_tile, m.m0, m.m1, t);
    };
    run_tasks(exec, plan.tasks(), body);
}

// Per-task scratch of `floats`: part `task` of the caller's workspace (or, for a single
// task, the calling thread's, both taken before any task ran), else the running thread's
// own buffer; null (and `failed` set) when that cannot be allocated.
struct task_scratch {
    float* shared = nullptr;
    std::size_t floats = 0;
    std::atomic<bool> failed{false};

    float* get(std::size_t task) noexcept {
        if (shared != nullptr) return shared + task * floats;
        float* own = thread_workspace(floats);
        if (own == nullptr) failed.store(true, std::memory_order_relaxed);
        return own;
    }
    status report(const char* op) const noexcept {
        if (!failed.load(std::memory_order_relaxed)) return {};
        return status::error(errc::out_of_memory,
                             "%s: cannot allocate %zu floats of workspace on a worker thread (the rows of "
                             "other tasks may have been written)",
                             op, floats);
    }
};

}  // namespace task_detail

// ---- the entry points: each has a form without an executor (serial, on the calling thread)
// and one with (parallel/executor.hpp). Results are bitwise identical either way. ----------

template <class Weights>
status gemv(const Weights& weights, span<const float> x, span<float> y, const epilogue& ep,
            const executor& exec) noexcept {
    const auto& w = detail::view_of(weights);
    SIEVE_TRY(detail::check_gemv("gemv", w, x, y, ep));
    using view_type = std::decay_t<decltype(w)>;
    const std::size_t tasks = detail::gemv_tasks(w, exec);
    const bool ran = w.cols != 0 && with_gemv_arch<view_type>([&](auto arch) {
        task_detail::for_each_row_task(exec, w, tasks, [&](const view_type& sub, std::size_t m0, std::size_t m1, std::size_t) {
            kernels::gemv<decltype(arch)>(sub, x.data, y.data + m0, task_detail::rows_of(ep, m0, m1));
        });
    });
    if (!ran)
        task_detail::for_each_row_task(exec, w, tasks, [&](const view_type& sub, std::size_t m0, std::size_t m1, std::size_t) {
            reference::gemv(sub, x.data, y.data + m0, task_detail::rows_of(ep, m0, m1));
        });
    return {};
}

template <class Weights>
status gemv(const Weights& weights, span<const float> x, span<float> y, const epilogue& ep = {}) noexcept {
    return gemv(weights, x, y, ep, executor{});
}

// `workspace`, when given, must hold gemm_workspace_size(K) floats (gemm_workspace_size(K,
// exec) with an executor: one part per task) and be 64-byte aligned; without it each thread
// that runs a task keeps one growing scratch buffer (the only allocation sieve makes outside
// packing; firmware builds pass their own).
template <class Weights>
status gemm(const Weights& weights, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
            const executor& exec, span<float> workspace = {}) noexcept {
    const char* op = "gemm";
    const auto& w = detail::view_of(weights);
    SIEVE_TRY(detail::check_gemm(op, w, x, y, ep));
    const detail::gemm_plan plan = detail::plan_gemm(w, x.rows, exec);
    task_detail::task_scratch scratch;
    scratch.floats = gemm_workspace_size(w.cols);
    if (plan.tasks() == 1 || workspace.data != nullptr) {
        std::uintptr_t y0, y1, x0, x1;
        detail::byte_range(y, y0, y1);
        detail::byte_range(x, x0, x1);
        auto buffer = workspace_for(op, workspace, scratch.floats * plan.tasks(),
                                    {{x0, x1}, {y0, y1}, {detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)}});
        if (!buffer.ok()) return buffer.error();
        scratch.shared = *buffer;
    }
    if (x.rows == 0 || w.rows == 0) return {};
    using view_type = std::decay_t<decltype(w)>;
    const bool ran = w.cols != 0 && with_active_arch<view_type>([&](auto arch) {
        task_detail::for_each_tile_task(exec, w, plan, x, y,
                                   [&](const view_type& sub, matrix_view<const float> xt, matrix_view<float> yt,
                                       std::size_t m0, std::size_t m1, std::size_t t) {
                                       float* ws = scratch.get(t);
                                       if (ws == nullptr) return;
                                       // A lone token past whole tiles (N = 1, 33, ...) takes the
                                       // GEMV, which streams the weights at the memory bound where a
                                       // panel would spend all its lanes' FMAs on one token. Tiles
                                       // split alike for any thread count, so its method does too.
                                       // It runs the arch gemv() picks, so it gets gemv's bits.
                                       const epilogue ep_rows = task_detail::rows_of(ep, m0, m1);
                                       if (xt.rows % gemm_token_tile == 1) {
                                           --xt.rows;
                                           --yt.rows;
                                           with_gemv_arch<view_type>([&](auto gemv_arch) {
                                               kernels::gemv<decltype(gemv_arch)>(sub, xt.row(xt.rows), yt.row(yt.rows),
                                                                                  ep_rows);
                                           });
                                       }
                                       if (xt.rows != 0) kernels::gemm<decltype(arch)>(sub, xt, yt, ep_rows, ws);
                                   });
    });
    if (!ran)
        task_detail::for_each_tile_task(exec, w, plan, x, y,
                                   [&](const view_type& sub, matrix_view<const float> xt, matrix_view<float> yt,
                                       std::size_t m0, std::size_t m1, std::size_t) {
                                       reference::gemm(sub, xt, yt, task_detail::rows_of(ep, m0, m1));
                                   });
    return scratch.report(op);
}

template <class Weights>
status gemm(const Weights& weights, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep = {},
            span<float> workspace = {}) noexcept {
    return gemm(weights, x, y, ep, executor{}, workspace);
}

// W8A8 GEMV (int8 weights only; see the top of this file). `workspace`, when given, holds
// gemv_workspace_size(K) floats (gemv_workspace_size(K, exec) with an executor), 64-byte
// aligned. Each task quantizes the token itself (the same bits every time).
template <class Weights>
status gemv_w8a8(const Weights& weights, span<const float> x, span<float> y, const epilogue& ep,
                 const executor& exec, span<float> workspace = {}) noexcept {
    const char* op = "gemv_w8a8";
    const auto& w = detail::view_of(weights);
    using view_type = std::decay_t<decltype(w)>;
    static_assert(detail::holds_int8<view_type>(), "gemv_w8a8 takes int8 weights (sieve::quantize)");
    SIEVE_TRY(detail::check_gemv(op, w, x, y, ep));
    const std::size_t tasks = detail::gemv_tasks(w, exec);
    task_detail::task_scratch scratch;
    scratch.floats = gemv_workspace_size(w.cols);
    if (tasks == 1 || workspace.data != nullptr) {
        auto buffer = workspace_for(op, workspace, scratch.floats * tasks,
                                    {{detail::address(x.data), detail::address(x.data + x.size)},
                                     {detail::address(y.data), detail::address(y.data + y.size)},
                                     {detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)}});
        if (!buffer.ok()) return buffer.error();
        scratch.shared = *buffer;
    }
    const bool ran = w.cols != 0 && with_active_arch<view_type>([&](auto arch) {
        task_detail::for_each_row_task(exec, w, tasks, [&](const view_type& sub, std::size_t m0, std::size_t m1, std::size_t t) {
            float* ws = scratch.get(t);
            if (ws != nullptr)
                kernels::gemv_w8a8<decltype(arch)>(sub, x.data, y.data + m0, task_detail::rows_of(ep, m0, m1),
                                                   reinterpret_cast<std::int8_t*>(ws));
        });
    });
    if (!ran)
        task_detail::for_each_row_task(exec, w, tasks, [&](const view_type& sub, std::size_t m0, std::size_t m1, std::size_t) {
            reference::gemv_w8a8(sub, x.data, y.data + m0, task_detail::rows_of(ep, m0, m1));
        });
    return scratch.report(op);
}

template <class Weights>
status gemv_w8a8(const Weights& weights, span<const float> x, span<float> y, const epilogue& ep = {},
                 span<float> workspace = {}) noexcept {
    return gemv_w8a8(weights, x, y, ep, executor{}, workspace);
}

// W8A8 GEMM (int8 weights only; see the top of this file). `workspace` as for gemm().
template <class Weights>
status gemm_w8a8(const Weights& weights, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep,
                 const executor& exec, span<float> workspace = {}) noexcept {
    const char* op = "gemm_w8a8";
    const auto& w = detail::view_of(weights);
    using view_type = std::decay_t<decltype(w)>;
    static_assert(detail::holds_int8<view_type>(), "gemm_w8a8 takes int8 weights (sieve::quantize)");
    SIEVE_TRY(detail::check_gemm(op, w, x, y, ep));
    const detail::gemm_plan plan = detail::plan_gemm(w, x.rows, exec);
    task_detail::task_scratch scratch;
    scratch.floats = gemm_workspace_size(w.cols);
    if (plan.tasks() == 1 || workspace.data != nullptr) {
        std::uintptr_t y0, y1, x0, x1;
        detail::byte_range(y, y0, y1);
        detail::byte_range(x, x0, x1);
        auto buffer = workspace_for(op, workspace, scratch.floats * plan.tasks(),
                                    {{x0, x1}, {y0, y1}, {detail::address(ep.bias.data), detail::address(ep.bias.data + ep.bias.size)}});
        if (!buffer.ok()) return buffer.error();
        scratch.shared = *buffer;
    }
    if (x.rows == 0 || w.rows == 0) return {};
    const bool ran = w.cols != 0 && with_active_arch<view_type>([&](auto arch) {
        task_detail::for_each_tile_task(exec, w, plan, x, y,
                                   [&](const view_type& sub, matrix_view<const float> xt, matrix_view<float> yt,
                                       std::size_t m0, std::size_t m1, std::size_t t) {
                                       float* ws = scratch.get(t);
                                       if (ws != nullptr)
                                           kernels::gemm_w8a8<decltype(arch)>(sub, xt, yt, task_detail::rows_of(ep, m0, m1), ws);
                                   });
    });
    if (!ran)
        task_detail::for_each_tile_task(exec, w, plan, x, y,
                                   [&](const view_type& sub, matrix_view<const float> xt, matrix_view<float> yt,
                                       std::size_t m0, std::size_t m1, std::size_t) {
                                       reference::gemm_w8a8(sub, xt, yt, task_detail::rows_of(ep, m0, m1));
                                   });
    return scratch.report(op);
}

template <class Weights>
status gemm_w8a8(const Weights& weights, matrix_view<const float> x, matrix_view<float> y, const epilogue& ep = {},
                 span<float> workspace = {}) noexcept {
    return gemm_w8a8(weights, x, y, ep, executor{}, workspace);
}

}  // namespace SIEVE_DISPATCH_ABI
}  // namespace sieve
