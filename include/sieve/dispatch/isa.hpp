// The ISA levels sieve has kernels for, ordered from the plainest to the widest per family.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace sieve {

enum class isa : std::uint8_t {
    scalar = 0,  // the reference loops: always available
    sse = 1,     // x86 SSE4.2 (128-bit)
    avx2 = 2,    // x86 AVX2 + FMA (256-bit)
    avx512 = 3,  // x86 AVX-512 F/CD/DQ/BW (512-bit)
    neon = 4,    // aarch64 Advanced SIMD (128-bit)
};

inline const char* to_string(isa level) noexcept {
    switch (level) {
    case isa::scalar: return "scalar";
    case isa::sse: return "sse";
    case isa::avx2: return "avx2";
    case isa::avx512: return "avx512";
    case isa::neon: return "neon";
    }
    return "unknown";
}

// Parses the names to_string gives ("avx512", "avx2", "sse", "neon", "scalar").
inline bool parse_isa(const char* name, isa& out) noexcept {
    if (name == nullptr) return false;
    for (isa level : {isa::scalar, isa::sse, isa::avx2, isa::avx512, isa::neon})
        if (std::strcmp(name, to_string(level)) == 0) {
            out = level;
            return true;
        }
    return false;
}

// Whether `level` may run where `cap` is the ceiling. Each family is its own ladder
// (scalar < sse < avx2 < avx512, scalar < neon): a cap never selects a foreign ISA.
inline bool isa_within(isa level, isa cap) noexcept {
    if (level == isa::scalar) return true;
    if (level == isa::neon || cap == isa::neon) return level == cap;
    return static_cast<int>(level) <= static_cast<int>(cap);
}

}  // namespace sieve
