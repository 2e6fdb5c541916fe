// The layer the firmware example carries: a 2:4-sparse 24 x 64 linear layer and one input,
// both defined by formulas, so the blob generator (make_firmware_blob.cpp) and the firmware
// (firmware_blob.cpp) know the same numbers without sharing any data.
//
// Chosen so that every result is exact in fp32 whatever the summation order or ISA: weights
// are q / 128 with integer q in -127..127 and every row holding a +-127 (its int8 scale is
// then exactly 1/128 and quantization is lossless), inputs are integers in -127..127 with a
// 127 (W8A8 quantizes them losslessly, scale 1), and every partial sum is a multiple of 1/128
// below 2^16: fewer than 24 significant bits.
#pragma once

#include <cstddef>

namespace firmware_layer {

constexpr std::size_t rows = 24, cols = 64;

// Which 2 of each group of 4 columns a row keeps: the 6 possible pairs in turn.
constexpr bool kept(std::size_t m, std::size_t k) {
    constexpr unsigned pairs[6] = {0x3, 0x5, 0x9, 0x6, 0xa, 0xc};
    return (pairs[(m * 5 + k / 4) % 6] >> (k % 4)) & 1u;
}

// q(m, k) in -127..127 (0 where not kept); the first kept weight of a row is +-127.
constexpr int weight_q(std::size_t m, std::size_t k) {
    if (!kept(m, k)) return 0;
    bool first = true;
    for (std::size_t j = 0; j < k; ++j) first = first && !kept(m, j);
    if (first) return m % 2 == 0 ? 127 : -127;
    const int q = static_cast<int>((m * 31 + k * 17) % 251) - 125;  // -125..125
    return q == 0 ? 1 : q;
}

constexpr float weight(std::size_t m, std::size_t k) {
    return static_cast<float>(weight_q(m, k)) / 128.0f;
}

constexpr float input(std::size_t k) {
    return k == 0 ? 127.0f : static_cast<float>(static_cast<int>((k * 13 + 5) % 255) - 127);
}

// The two blob entries.
constexpr const char* fp32_name = "fc.weight";
constexpr const char* int8_name = "fc.weight.int8";

}  // namespace firmware_layer
