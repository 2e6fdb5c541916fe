// The flow every packer harness shares: decode a case, pack it, check the outcome.
//
//   error expected (magnitude of NaN, sparsity outside [0, 1]) -> that error, nothing else;
//   success -> validate() passes, unpack gives back the kept weights (explicit selections)
//              or a magnitude-consistent subset, and gemv/gemm agree with the naive product.
// The format-specific parts (the packer, its structural errors, how magnitude pruning
// groups weights) come in as callables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sieve/sieve.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "fuzz_checks.hpp"
#include "fuzz_input.hpp"

namespace sieve_fuzz {

inline bool is_magnitude(const selection_case& s) { return s.how.how == sieve::selection::kind::magnitude; }

// Magnitude ranking of R x C blocks (elements: 1 x 1) per block row or over the matrix.
inline void require_block_ranking(const char* what, const weights& w, const selection_case& s,
                                  const std::vector<float>& unpacked, std::size_t br, std::size_t bc) {
    const std::size_t row_blocks = (w.rows + br - 1) / br, col_blocks = (w.cols + bc - 1) / bc;
    const bool per_row = s.how.scope == sieve::prune_scope::per_row;
    unit_ranking ranking(per_row ? row_blocks : 1, per_row ? col_blocks : row_blocks * col_blocks);
    for (std::size_t r = 0; r < w.rows; ++r)
        for (std::size_t c = 0; c < w.cols; ++c) {
            const std::size_t bi = r / br, bj = c / bc;
            ranking.add(per_row ? bi : 0, per_row ? bj : bi * col_blocks + bj, w(r, c), unpacked[r * w.cols + c]);
        }
    const double sparsity = s.how.sparsity;
    ranking.require_consistent(what, [&](std::size_t n) { return kept_of(n, sparsity); });
}

// Decodes the weights and selection, packs with `pack(weights, selection_case)`, and checks
// the invariants. `structural_error(weights, keep)` returns the error code the format must
// give for an explicit keep set it cannot hold (errc::ok: none); `on_magnitude(weights,
// selection, unpacked)` checks magnitude pruning's ranking for the format's structure.
template <class Pack, class StructuralError, class OnMagnitude>
void run_pack_case(input_reader& in, const char* what, Pack&& pack, StructuralError&& structural_error,
                   OnMagnitude&& on_magnitude, bool nm = false, shape_limits limits = {}) {
    pick_isa(in);
    const weights w = read_weights(in, limits);
    const selection_case s = read_selection(in, w);
    auto packed = pack(w, s);

    if (!selection_accepted(w, s.how, nm)) {
        require(!packed.ok(), "%s: accepted a magnitude selection it must refuse", what);
        const sieve::errc code = packed.error().code();
        require(code == sieve::errc::non_finite || code == sieve::errc::bad_argument, "%s: refused with %s: %s",
                what, sieve::to_string(code), packed.error().message());
        return;
    }
    std::vector<std::uint8_t> keep;
    if (!is_magnitude(s)) {
        keep = explicit_keep(w, s);
        const sieve::errc expected = structural_error(w, keep);
        if (expected != sieve::errc::ok) {
            require(!packed.ok() && packed.error().code() == expected, "%s: must refuse with %s, got %s", what,
                    sieve::to_string(expected), packed.ok() ? "success" : packed.error().message());
            return;
        }
    }
    require(packed.ok(), "%s failed: %s", what, packed.ok() ? "" : packed.error().message());
    require_ok(sieve::validate(packed->view()), "validate");
    require(packed->rows() == w.rows && packed->cols() == w.cols, "%s: shape changed", what);
    const std::vector<float> unpacked = unpack_all(*packed);
    if (is_magnitude(s)) {
        require_unpack_subset(unpacked, w);
        on_magnitude(w, s, unpacked);
    } else {
        require_unpack_equals(unpacked, w, keep);
    }
    check_products(*packed, unpacked, in);
}

// No structural limit (dense, CSR, BSR, channel-pruned hold any keep set).
inline sieve::errc any_keep_set(const weights&, const std::vector<std::uint8_t>&) { return sieve::errc::ok; }

// --- runtime choices of compile-time parameters ---------------------------------------------

// The BSR block shapes sieve instantiates kernels for (kernels/declare.hpp).
template <class Fn>
void with_block_shape(std::size_t index, Fn&& fn) {
    using std::integral_constant;
    using z = std::size_t;
    switch (index % 7) {
    case 0: return fn(integral_constant<z, 1>{}, integral_constant<z, 4>{});
    case 1: return fn(integral_constant<z, 1>{}, integral_constant<z, 8>{});
    case 2: return fn(integral_constant<z, 1>{}, integral_constant<z, 16>{});
    case 3: return fn(integral_constant<z, 4>{}, integral_constant<z, 1>{});
    case 4: return fn(integral_constant<z, 8>{}, integral_constant<z, 1>{});
    case 5: return fn(integral_constant<z, 16>{}, integral_constant<z, 1>{});
    default: return fn(integral_constant<z, 4>{}, integral_constant<z, 4>{});
    }
}

// Every legal N:M pattern (M in {2, 4, 8, 16}, 1 <= N <= M), plus illegal ones now and then
// (the packer must refuse them with bad_argument).
inline sieve::nm_pattern read_nm_pattern(input_reader& in) {
    const std::uint8_t b = in.byte();
    if (b >= 250) return {static_cast<std::uint32_t>(in.byte() % 20), static_cast<std::uint32_t>(in.byte() % 20)};
    constexpr std::uint32_t ms[] = {2, 4, 8, 16};
    const std::uint32_t m = ms[b % 4];
    return {1 + static_cast<std::uint32_t>((b / 4) % m), m};
}

inline bool nm_pattern_legal(sieve::nm_pattern p) {
    return (p.m == 2 || p.m == 4 || p.m == 8 || p.m == 16) && p.n >= 1 && p.n <= p.m;
}

// not_nm_sparse when some group of M columns keeps more than N weights.
inline sieve::errc nm_structural_error(sieve::nm_pattern p, const weights& w, const std::vector<std::uint8_t>& keep) {
    for (std::size_t r = 0; r < w.rows; ++r)
        for (std::size_t c0 = 0; c0 < w.cols; c0 += p.m) {
            std::size_t kept = 0;
            for (std::size_t c = c0; c < c0 + p.m && c < w.cols; ++c) kept += keep[r * w.cols + c];
            if (kept > p.n) return sieve::errc::not_nm_sparse;
        }
    return sieve::errc::ok;
}

// Magnitude N:M: in each group of M columns of a row the N largest |w| are kept.
inline void require_nm_ranking(sieve::nm_pattern p, const weights& w, const std::vector<float>& unpacked) {
    const std::size_t groups = (w.cols + p.m - 1) / p.m;
    unit_ranking ranking(w.rows * groups, p.m);
    for (std::size_t r = 0; r < w.rows; ++r)
        for (std::size_t c = 0; c < w.cols; ++c)
            ranking.add(r * groups + c / p.m, c % p.m, w(r, c), unpacked[r * w.cols + c]);
    ranking.require_consistent("nm magnitude", [&](std::size_t) { return std::size_t{p.n}; });
}

}  // namespace sieve_fuzz
