// How one call is cut into tasks: by work, not by rows, and never so finely that the
// threads cost more than they save.
//
// A task is a range of output rows (GEMV), or a tile of tokens x output rows (GEMM), and it
// runs the unchanged kernel on a sub-view of the weights: rows [m0, m1) of a format are
// another view of the same format (dense: values + m0 * ld; CSR: row_ptr + m0, whose
// entries stay absolute; N:M: values + m0 * values_ld, meta + m0 * meta_ld; bitmap: mask +
// m0 * words, row_ptr + m0 (absolute, as for CSR); BSR:
// block_row_ptr + m0 / R, m0 a multiple of R; int8 scales + m0 * ld), with y + m0 and the
// bias + m0. Every kernel computes each output row (GEMV) or each (token, row) element
// (GEMM) from that row's weights alone, in an order fixed by the row, and groups rows or
// tokens only to store them element-wise (store_rows, store_column) or to share a packed
// activation panel whose lanes never mix: so an element's value does not depend on which
// task computed it, and results are bitwise identical for any task count, any executor and
// any order the tasks run in (tests/test_parallel.cpp checks it for every format).
//
// Row cuts follow the format's cost: CSR rows by nonzeros (row_ptr is a prefix sum already;
// a binary search finds each cut), bitmap rows by nonzeros plus the mask (a mask word
// costs about what two stored values do, so a row costs nnz + 2 * words), BSR block rows by stored blocks, dense and N:M (uniform
// rows) by row count in steps of 16 rows (a whole epilogue vector on every arch). Each row
// also costs one unit, so runs of empty rows are spread too. GEMM cuts tokens first, in
// tiles of 32 (whole activation panels on every arch: fp32 panels are 8..32 tokens, W8A8
// panels 4..16), then rows: cutting tokens keeps each task's panel packing its own.
//
// Grain (an executor may override both): a GEMV task streams at least gemv_task_bytes of
// weights (64 KiB, ~2-3 us from DRAM on one core, about the cost of waking a pool thread), a
// GEMM task does at least gemm_task_macs multiply-adds (~10-20 us on one core): below that
// the call stays on one thread. No cut is stored: each task finds its own range in
// O(log rows).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../formats/bitmap.hpp"
#include "../formats/bsr.hpp"
#include "../formats/csr.hpp"
#include "../formats/dense.hpp"
#include "../formats/nm.hpp"
#include "../kernels/declare.hpp"
#include "executor.hpp"

namespace sieve {

// Weight bytes one GEMV task streams at least.
inline constexpr std::size_t gemv_task_bytes = std::size_t{64} << 10;
// Multiply-adds one GEMM task does at least.
inline constexpr std::size_t gemm_task_macs = std::size_t{1} << 20;
// Tokens per GEMM tile: a multiple of every arch's panel width.
inline constexpr std::size_t gemm_token_tile = kernels::token_tile;
static_assert(gemm_token_tile % kernels::max_panel_width == 0, "panels never straddle two tiles");

namespace detail {

// ---- per format: the unit rows are cut at, the cost of the first u units, the bytes and
// stored weights (multiply-adds per token), and the sub-view of units [u0, u1) ------------

template <class T>
std::size_t scale_bytes(const quant_scales& s, std::size_t rows) noexcept {
    return is_int8_weight<T> ? rows * s.ld * sizeof(float) : 0;
}
template <class T>
quant_scales scales_from(const quant_scales& s, std::size_t m0) noexcept {
    quant_scales out = s;
    if (s.data != nullptr) out.data = s.data + m0 * s.ld;  // fp32 views have none
    return out;
}

inline constexpr std::size_t uniform_unit_rows = 16;

template <class T>
std::size_t unit_rows(const dense_view<T>&) noexcept {
    return uniform_unit_rows;
}
template <class T>
std::size_t unit_rows(const nm_view<T>&) noexcept {
    return uniform_unit_rows;
}
template <class T>
std::size_t unit_rows(const csr_view<T>&) noexcept {
    return 1;
}
template <class T>
std::size_t unit_rows(const bitmap_view<T>&) noexcept {
    return 1;
}
template <class T, std::size_t R, std::size_t C>
std::size_t unit_rows(const bsr_view<T, R, C>&) noexcept {
    return R;
}

template <class View>
std::size_t units_of(const View& w) noexcept {
    const std::size_t u = unit_rows(w);
    return (w.rows + u - 1) / u;
}

template <class T>
std::uint64_t cost_before(const dense_view<T>&, std::size_t u) noexcept {
    return u;
}
template <class T>
std::uint64_t cost_before(const nm_view<T>&, std::size_t u) noexcept {
    return u;
}
template <class T>
std::uint64_t cost_before(const csr_view<T>& w, std::size_t u) noexcept {
    return std::uint64_t{w.row_ptr[u]} - w.row_ptr[0] + u;
}
template <class T>
std::uint64_t cost_before(const bitmap_view<T>& w, std::size_t u) noexcept {
    return std::uint64_t{w.row_ptr[u]} - w.row_ptr[0] + u * (2 * std::uint64_t{w.words} + 1);
}
template <class T, std::size_t R, std::size_t C>
std::uint64_t cost_before(const bsr_view<T, R, C>& w, std::size_t u) noexcept {
    return (std::uint64_t{w.block_row_ptr[u]} - w.block_row_ptr[0]) * (R * C) + u * R;
}

template <class T>
std::size_t weight_bytes(const dense_view<T>& w) noexcept {
    return w.rows * w.cols * sizeof(T) + scale_bytes<T>(w.scales, w.rows);
}
template <class T>
std::size_t weight_bytes(const csr_view<T>& w) noexcept {
    return w.nnz() * (sizeof(T) + static_cast<std::size_t>(w.width)) + w.rows * 4 +
           scale_bytes<T>(w.scales, w.rows);
}
template <class T>
std::size_t weight_bytes(const nm_view<T>& w) noexcept {
    return w.rows * (w.values_ld * sizeof(T) + w.meta_ld) + scale_bytes<T>(w.scales, w.rows);
}
template <class T>
std::size_t weight_bytes(const bitmap_view<T>& w) noexcept {
    return w.nnz() * sizeof(T) + w.rows * (w.words * 8 + 4) + scale_bytes<T>(w.scales, w.rows);
}
template <class T, std::size_t R, std::size_t C>
std::size_t weight_bytes(const bsr_view<T, R, C>& w) noexcept {
    return w.nnz_blocks() * (R * C * sizeof(T) + static_cast<std::size_t>(w.width)) +
           scale_bytes<T>(w.scales, w.rows);
}

template <class T>
std::size_t stored_weights(const dense_view<T>& w) noexcept {
    return w.rows * w.cols;
}
template <class T>
std::size_t stored_weights(const csr_view<T>& w) noexcept {
    return w.nnz();
}
template <class T>
std::size_t stored_weights(const nm_view<T>& w) noexcept {
    return w.rows * w.groups * w.pattern.n;
}
template <class T>
std::size_t stored_weights(const bitmap_view<T>& w) noexcept {
    return w.nnz();
}
template <class T, std::size_t R, std::size_t C>
std::size_t stored_weights(const bsr_view<T, R, C>& w) noexcept {
    return w.nnz_blocks() * R * C;
}

template <class T>
dense_view<T> slice_units(const dense_view<T>& w, std::size_t m0, std::size_t m1) noexcept {
    dense_view<T> out = w;
    out.values = w.values + m0 * w.ld;
    out.rows = m1 - m0;
    out.scales = scales_from<T>(w.scales, m0);
    return out;
}
template <class T>
csr_view<T> slice_units(const csr_view<T>& w, std::size_t m0, std::size_t m1) noexcept {
    csr_view<T> out = w;  // row_ptr entries stay absolute indices into col_index / values
    out.row_ptr = w.row_ptr + m0;
    out.rows = m1 - m0;
    out.scales = scales_from<T>(w.scales, m0);
    return out;
}
template <class T>
nm_view<T> slice_units(const nm_view<T>& w, std::size_t m0, std::size_t m1) noexcept {
    nm_view<T> out = w;
    out.values = w.values + m0 * w.values_ld;
    out.meta = w.meta + m0 * w.meta_ld;
    out.rows = m1 - m0;
    out.scales = scales_from<T>(w.scales, m0);
    return out;
}
template <class T>
bitmap_view<T> slice_units(const bitmap_view<T>& w, std::size_t m0, std::size_t m1) noexcept {
    bitmap_view<T> out = w;  // row_ptr entries stay absolute indices into values
    out.mask = w.mask + m0 * w.words;
    out.row_ptr = w.row_ptr + m0;
    out.rows = m1 - m0;
    out.scales = scales_from<T>(w.scales, m0);
    return out;
}
template <class T, std::size_t R, std::size_t C>
bsr_view<T, R, C> slice_units(const bsr_view<T, R, C>& w, std::size_t m0, std::size_t m1) noexcept {
    bsr_view<T, R, C> out = w;  // block_row_ptr entries stay absolute
    out.block_row_ptr = w.block_row_ptr + m0 / R;
    out.row_blocks = (m1 - m0 + R - 1) / R;
    out.rows = m1 - m0;
    out.scales = scales_from<T>(w.scales, m0);
    return out;
}

// ---- cuts ---------------------------------------------------------------------------------

// The first unit of part `part` of `parts`: the first u whose cost prefix reaches
// part / parts of the total (0 for part 0, all units for part == parts).
template <class View>
std::size_t cut(const View& w, std::size_t part, std::size_t parts) noexcept {
    const std::size_t units = units_of(w);
    if (part == 0) return 0;
    if (part >= parts) return units;
    // target = ceil(total * part / parts), without overflowing the product.
    const std::uint64_t total = cost_before(w, units), q = total / parts, r = total % parts;
    const std::uint64_t target = q * part + (r * part + parts - 1) / parts;
    std::size_t lo = 0, hi = units;  // the smallest u in [0, units] with cost_before(u) >= target
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (cost_before(w, mid) >= target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

// Rows [m0, m1) of part `part` of `parts`.
struct row_range {
    std::size_t m0 = 0, m1 = 0;
};

template <class View>
row_range part_rows(const View& w, std::size_t part, std::size_t parts) noexcept {
    const std::size_t u = unit_rows(w);
    const std::size_t m0 = cut(w, part, parts) * u, m1 = cut(w, part + 1, parts) * u;
    return {m0 < w.rows ? m0 : w.rows, m1 < w.rows ? m1 : w.rows};
}

inline std::size_t clamp_tasks(std::size_t wanted, std::size_t limit) noexcept {
    if (wanted > limit) wanted = limit;
    return wanted < 1 ? 1 : wanted;
}

// GEMV: tasks of at least gemv_task_bytes, at most one per unit and per executor thread.
template <class View>
std::size_t gemv_tasks(const View& w, const executor& exec) noexcept {
    const std::size_t limit = exec.max_tasks();
    if (limit <= 1) return 1;
    const std::size_t grain = exec.min_task_bytes != 0 ? exec.min_task_bytes : gemv_task_bytes;
    return clamp_tasks(clamp_tasks(weight_bytes(w) / grain, units_of(w)), limit);
}

// GEMM: token_parts x row_parts tiles, task t = (t / row_parts, t % row_parts).
struct gemm_plan {
    std::size_t token_parts = 1, row_parts = 1;

    std::size_t tasks() const noexcept { return token_parts * row_parts; }
    // Tokens [n0, n1) of token part `part` for N tokens: whole tiles of gemm_token_tile.
    row_range tokens(std::size_t part, std::size_t n) const noexcept {
        const std::size_t tiles = (n + gemm_token_tile - 1) / gemm_token_tile;
        const std::size_t t0 = tiles * part / token_parts, t1 = tiles * (part + 1) / token_parts;
        const std::size_t n0 = t0 * gemm_token_tile, n1 = t1 * gemm_token_tile;
        return {n0 < n ? n0 : n, n1 < n ? n1 : n};
    }
};

template <class View>
gemm_plan plan_gemm(const View& w, std::size_t n, const executor& exec) noexcept {
    gemm_plan plan;
    const std::size_t limit = exec.max_tasks();
    if (limit <= 1 || n == 0) return plan;
    const std::size_t tiles = (n + gemm_token_tile - 1) / gemm_token_tile;
    const std::size_t stored = stored_weights(w);
    // Every panel costs a whole tile's FMAs whatever its token count.
    const std::size_t macs = stored > static_cast<std::size_t>(-1) / (tiles * gemm_token_tile)
                                 ? static_cast<std::size_t>(-1)
                                 : stored * tiles * gemm_token_tile;
    const std::size_t grain = exec.min_task_macs != 0 ? exec.min_task_macs : gemm_task_macs;
    const std::size_t tasks = clamp_tasks(macs / grain, limit);
    plan.token_parts = clamp_tasks(tasks, tiles);
    plan.row_parts = clamp_tasks(tasks / plan.token_parts, units_of(w));
    return plan;
}

// Calls body(t) for every task t < tasks through the executor.
template <class Body>
void run_tasks(const executor& exec, std::size_t tasks, Body& body) {
    exec.parallel_for(
        tasks,
        [](void* arg, std::size_t begin, std::size_t end) {
            for (std::size_t t = begin; t < end; ++t) (*static_cast<Body*>(arg))(t);
        },
        &body);
}

}  // namespace detail
}  // namespace sieve
