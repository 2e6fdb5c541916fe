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
    avx512vnni = 5,  // avx512 + VNNI, VBMI2 and VL (Ice Lake, Zen 4 and later): int8 dot products, byte expand
    neondot = 6,     // neon + the dot-product extension (sdot; Armv8.2 and later)
};

inline const char* to_string(isa level) noexcept {
    switch (level) {
    case isa::scalar: return "scalar";
    case isa::sse: return "sse";
    case isa::avx2: return "avx2";
    case isa::avx512: return "avx512";
    case isa::neon: return "neon";
    case isa::avx512vnni: return "avx512vnni";
    case isa::neondot: return "neondot";
    }
    return "unknown";
}

// Parses the names to_string gives ("avx512vnni", "avx512", "avx2", "sse", "neondot", "neon",
// "scalar").
inline bool parse_isa(const char* name, isa& out) noexcept {
    if (name == nullptr) return false;
    for (isa level : {isa::scalar, isa::sse, isa::avx2, isa::avx512, isa::avx512vnni, isa::neon, isa::neondot})
        if (std::strcmp(name, to_string(level)) == 0) {
            out = level;
            return true;
        }
    return false;
}

inline bool is_arm(isa level) noexcept { return level == isa::neon || level == isa::neondot; }

// Height on the ladder of its family.
inline int isa_rank(isa level) noexcept {
    switch (level) {
    case isa::scalar: return 0;
    case isa::sse: return 1;
    case isa::avx2: return 2;
    case isa::avx512: return 3;
    case isa::avx512vnni: return 4;
    case isa::neon: return 1;
    case isa::neondot: return 2;
    }
    return 0;
}

// Whether `level` may run where `cap` is the ceiling. Each family is its own ladder
// (scalar < sse < avx2 < avx512 < avx512vnni, scalar < neon < neondot): a cap never
// selects a foreign ISA.
inline bool isa_within(isa level, isa cap) noexcept {
    if (level == isa::scalar) return true;
    if (cap == isa::scalar || is_arm(level) != is_arm(cap)) return false;
    return isa_rank(level) <= isa_rank(cap);
}

}  // namespace sieve
