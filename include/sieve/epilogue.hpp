// What happens to each output element at store time, fused into every kernel:
//
//     out = act(alpha * acc + bias[m]) + beta * out_before
//
// acc is the dot product of weight row m with the activations. bias is empty (no bias) or
// has one entry per output feature (M). beta == 0 means the output is write-only: its prior
// contents are never read (NaN there is harmless), as in BLAS. beta = 1 accumulates, e.g.
// into a residual stream.
#pragma once

#include <cstdint>

#include "core/views.hpp"

namespace sieve {

enum class activation : std::uint8_t {
    none,
    relu,  // v < 0 ? 0 : v (NaN stays NaN)
    gelu,  // v * Phi(v), the exact (erf) form; fast kernels approximate it closely
    silu,  // v * sigmoid(v)
};

struct epilogue {
    span<const float> bias{};
    float alpha = 1.0f;
    float beta = 0.0f;
    activation act = activation::none;
};

}  // namespace sieve
