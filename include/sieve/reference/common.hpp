// The scalar oracle's finishing step. The reference kernels are the plainest loops over
// the stored entries of each format, accumulating in double; they share no code with the
// fast kernels, and every fast kernel is tested against them.
//
// Semantics they define: stored entries (including explicit zeros kept in N:M groups, BSR
// blocks and dense rows) multiply their activation with IEEE rules, so 0 * Inf = NaN; a
// structural zero never touches its activation, so Inf or NaN at a pruned position does not
// reach the output.
#pragma once

#include <cmath>
#include <cstddef>

#include "../epilogue.hpp"

namespace sieve::reference {

inline double activate(activation act, double v) {
    switch (act) {
    case activation::none: return v;
    case activation::relu: return v < 0.0 ? 0.0 : v;  // NaN stays NaN
    case activation::gelu: return v == -INFINITY ? 0.0 : 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    case activation::silu: return v == -INFINITY ? 0.0 : v / (1.0 + std::exp(-v));  // the limits at -Inf
    }
    return v;
}

// Applies the epilogue to the dot product `acc` of output feature m and stores it.
inline void finish(double acc, std::size_t m, const epilogue& ep, float& out) {
    double v = static_cast<double>(ep.alpha) * acc;
    if (ep.bias.size != 0) v += ep.bias[m];
    v = activate(ep.act, v);
    if (ep.beta != 0.0f) v += static_cast<double>(ep.beta) * out;
    out = static_cast<float>(v);
}

}  // namespace sieve::reference
