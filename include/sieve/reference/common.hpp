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
#include <cstdint>

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

// W8A8 activation quantization, per token and symmetric (the contract in ops.hpp):
// amax = max |x|, scale = amax / 127, q = round-to-nearest-even(x * (127 / amax)) clamped to
// -127..127, all in fp32. An all-zero token has scale 0; a token holding NaN or Inf has a
// NaN scale, so all of its outputs are NaN.
struct token_quantization {
    float scale = 0.0f;
    float inverse = 0.0f;  // 127 / amax, 0 when amax is 0 or not finite

    std::int32_t value(float x) const {
        if (inverse == 0.0f) return 0;
        const float q = std::nearbyint(x * inverse);
        return static_cast<std::int32_t>(q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q));
    }
};

inline token_quantization quantize_token(const float* x, std::size_t k) {
    float amax = 0.0f;
    bool finite = true;
    for (std::size_t i = 0; i < k; ++i) {
        if (!std::isfinite(x[i])) finite = false;
        else if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]);
    }
    token_quantization t;
    if (!finite) t.scale = NAN;
    else if (amax > 0.0f) {
        t.scale = amax / 127.0f;
        t.inverse = 127.0f / amax;
    }
    return t;
}

}  // namespace sieve::reference
