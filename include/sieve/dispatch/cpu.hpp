// CPU feature detection, sieve's own (xsimd 8.1's misreads AVX and SSE2 and ignores OS
// support). x86: CPUID leaves 1 and 7 plus XGETBV for the register state the OS saves.
// aarch64: Advanced SIMD is architectural; the dot-product extension comes from AT_HWCAP. Used only by runtime dispatch.
#pragma once

#include <cstdint>

#include "isa.hpp"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define SIEVE_ARCH_X86 1
#include <cpuid.h>
#elif defined(__aarch64__)
#define SIEVE_ARCH_AARCH64 1
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

namespace sieve {

struct cpu_features {
    bool sse42 = false, popcnt = false, bmi1 = false, avx2 = false, fma = false, avx512f = false, avx512cd = false,
         avx512dq = false, avx512bw = false, avx512vl = false, avx512vnni = false,
         avx512vbmi2 = false, os_ymm = false, os_zmm = false, neon = false, neon_dotprod = false;
    // vgatherdps costs more than the scalar loads it replaces: an Intel core of the
    // generations (Skylake to Tiger Lake) whose microcode fix for gather data sampling
    // serializes it, or an AMD core (Zen 4 and 5), where it is microcoded.
    bool slow_gathers = false;
};

namespace detail {

#if defined(SIEVE_ARCH_X86)
inline std::uint64_t read_xcr0() noexcept {
    std::uint32_t eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<std::uint64_t>(edx) << 32) | eax;
}
#endif

#if defined(SIEVE_ARCH_X86)
// Whether gathers are slow (cpu_features::slow_gathers). Intel: the family 6 models listed
// as affected by gather data sampling (Skylake, Cascade and Cooper Lake, Kaby, Coffee and
// Comet Lake, Ice Lake, Tiger Lake and Rocket Lake). AMD: every core with AVX-512 (a 16-lane
// vpgatherdd takes about 19 cycles on Zen 5 from L1; the CSR GEMV at 90%, 11008x4096,
// runs 1.41 ms with it and 1.04 ms with scalar loads).
inline bool gathers_are_slow() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return false;
    if (ebx == 0x68747541u && edx == 0x69746e65u && ecx == 0x444d4163u) return true;  // AuthenticAMD
    const bool intel = ebx == 0x756e6547u && edx == 0x49656e69u && ecx == 0x6c65746eu;  // GenuineIntel
    if (!intel || !__get_cpuid(1, &eax, &ebx, &ecx, &edx) || ((eax >> 8) & 0xFu) != 6) return false;
    const unsigned model = ((eax >> 4) & 0xFu) | ((eax >> 12) & 0xF0u);
    for (unsigned affected : {0x4Eu, 0x5Eu, 0x55u, 0x8Eu, 0x9Eu, 0xA5u, 0xA6u, 0x6Au, 0x6Cu, 0x7Du, 0x7Eu, 0x8Cu, 0x8Du, 0xA7u})
        if (model == affected) return true;
    return false;
}
#endif

inline cpu_features probe_cpu() noexcept {
    cpu_features f;
#if defined(SIEVE_ARCH_X86)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    f.sse42 = (ecx >> 20) & 1u;
    f.popcnt = (ecx >> 23) & 1u;  // every x86 unit is built with -mpopcnt
    f.fma = (ecx >> 12) & 1u;
    const bool osxsave = (ecx >> 27) & 1u, avx = (ecx >> 28) & 1u;
    if (osxsave) {
        const std::uint64_t xcr0 = read_xcr0();
        f.os_ymm = avx && (xcr0 & 0x6) == 0x6;               // XMM and YMM state
        f.os_zmm = f.os_ymm && (xcr0 & 0xE0) == 0xE0;         // opmask, ZMM_Hi256, Hi16_ZMM
    }
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        f.bmi1 = (ebx >> 3) & 1u;
        f.avx2 = f.os_ymm && ((ebx >> 5) & 1u);
        f.avx512f = f.os_zmm && ((ebx >> 16) & 1u);
        f.avx512dq = f.avx512f && ((ebx >> 17) & 1u);
        f.avx512cd = f.avx512f && ((ebx >> 28) & 1u);
        f.avx512bw = f.avx512f && ((ebx >> 30) & 1u);
        f.avx512vl = f.avx512f && ((ebx >> 31) & 1u);
        f.avx512vbmi2 = f.avx512f && ((ecx >> 6) & 1u);
        f.avx512vnni = f.avx512f && ((ecx >> 11) & 1u);
    }
    f.fma = f.fma && f.os_ymm;
    f.slow_gathers = gathers_are_slow();
#elif defined(SIEVE_ARCH_AARCH64)
    f.neon = true;
#if defined(__linux__)
    f.neon_dotprod = (getauxval(AT_HWCAP) >> 20) & 1u;  // HWCAP_ASIMDDP
#endif
#endif
    return f;
}

}  // namespace detail

// Probed once per process.
inline const cpu_features& cpu() noexcept {
    static const cpu_features features = detail::probe_cpu();
    return features;
}

// Whether this CPU (and its OS) can run `level`.
inline bool cpu_supports(isa level) noexcept {
    const cpu_features& f = cpu();
    switch (level) {
    case isa::scalar: return true;
    case isa::sse: return f.sse42 && f.popcnt;
    case isa::avx2: return f.avx2 && f.fma && f.popcnt;
    case isa::avx512: return f.avx512f && f.avx512cd && f.avx512dq && f.avx512bw && f.popcnt && f.bmi1;
    case isa::avx512vnni: return cpu_supports(isa::avx512) && f.avx512vl && f.avx512vnni && f.avx512vbmi2;
    case isa::neon: return f.neon;
    case isa::neondot: return f.neon && f.neon_dotprod;
    }
    return false;
}

}  // namespace sieve
