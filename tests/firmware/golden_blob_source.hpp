// The matrices of the golden blob (golden_blob.hpp): two 4 x 8 layers built from a fixed
// formula, so the firmware check can pack them again and compare, and the blob tests can
// check that the writer still produces these exact bytes (format version 1 is stable).
//   "mlp.down"  2:4 fp32, pruned by magnitude
//   "mlp.up"    CSR int8, one scale per row, every third weight zero
#pragma once

#include <cstddef>

namespace sieve_golden {

constexpr std::size_t rows = 4, cols = 8;

inline void down_weights(float* w) {
    for (std::size_t i = 0; i < rows * cols; ++i) w[i] = static_cast<float>(static_cast<int>(i * 7 % 11) - 5) * 0.25f;
}

inline void up_weights(float* w) {
    for (std::size_t i = 0; i < rows * cols; ++i)
        w[i] = (i / cols + i % cols) % 3 == 0 ? 0.0f : static_cast<float>(static_cast<int>(i * 5 % 13) - 6) * 0.125f;
}

}  // namespace sieve_golden
