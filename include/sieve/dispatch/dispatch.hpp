// Which kernels run: static selection (the compiler flags decide; firmware builds) or
// runtime selection (one baseline x86-64 binary, the CPU decides), plus the ISA cap.
//
// Static (default): kernels are compiled into the including file for the widest arch its
// flags enable (-mavx512bw... > -mavx2 -mfma > -msse4.2 > aarch64 NEON), or the scalar
// reference when none is enabled. No CPU detection code is linked in. int8 kernels also
// use VNNI + VBMI2 (-mavx512vnni -mavx512vbmi2 -mavx512vl) or the Arm dot product
// (-march=armv8.2-a+dotprod) when the flags enable them.
//
// Runtime: define SIEVE_RUNTIME_DISPATCH=1 and compile one instantiation unit per ISA
// (dispatch/instantiate.hpp) with that ISA's flags; the CMake helper
// sieve_add_runtime_dispatch(target) does both. Each unit defines SIEVE_DISPATCH_<ISA>=1
// for the dispatcher so it only calls what exists. The including files stay baseline.
//
// The int8-only tiers avx512vnni and neondot run int8 kernels; fp32 kernels run on their
// base (avx512, neon) there.
//
// The cap: SIEVE_ISA=avx512vnni|avx512|avx2|sse|neondot|neon|scalar in the environment (read once), or
// set_isa_cap() (wins over the environment). The active ISA is the widest one compiled in,
// supported by this CPU, and within the cap: an ISA the CPU lacks is never chosen.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "isa.hpp"

#include <xsimd/xsimd.hpp>

#include "../kernels/declare.hpp"
#include "../kernels/isa/arch.hpp"

#if SIEVE_RUNTIME_DISPATCH
#include "cpu.hpp"
#else
#if XSIMD_WITH_AVX512BW && defined(__AVX512VNNI__) && defined(__AVX512VBMI2__) && defined(__AVX512VL__)
#define SIEVE_STATIC_ARCH ::xsimd::avx512bw
#define SIEVE_STATIC_INT8_ARCH ::sieve::kernels::avx512vnni
#define SIEVE_STATIC_ISA ::sieve::isa::avx512vnni
#elif XSIMD_WITH_AVX512BW
#define SIEVE_STATIC_ARCH ::xsimd::avx512bw
#define SIEVE_STATIC_ISA ::sieve::isa::avx512
#elif XSIMD_WITH_FMA3_AVX2
#define SIEVE_STATIC_ARCH ::xsimd::fma3<::xsimd::avx2>
#define SIEVE_STATIC_ISA ::sieve::isa::avx2
#elif XSIMD_WITH_SSE4_2
#define SIEVE_STATIC_ARCH ::xsimd::sse4_2
#define SIEVE_STATIC_ISA ::sieve::isa::sse
#elif XSIMD_WITH_NEON64 && defined(__ARM_FEATURE_DOTPROD)
#define SIEVE_STATIC_ARCH ::xsimd::neon64
#define SIEVE_STATIC_INT8_ARCH ::sieve::kernels::neondot
#define SIEVE_STATIC_ISA ::sieve::isa::neondot
#elif XSIMD_WITH_NEON64
#define SIEVE_STATIC_ARCH ::xsimd::neon64
#define SIEVE_STATIC_ISA ::sieve::isa::neon
#endif
#if defined(SIEVE_STATIC_ARCH) && !defined(SIEVE_STATIC_INT8_ARCH)
#define SIEVE_STATIC_INT8_ARCH SIEVE_STATIC_ARCH
#endif
#ifdef SIEVE_STATIC_ARCH
#include "../kernels/bitmap.hpp"
#include "../kernels/bsr.hpp"
#include "../kernels/csr.hpp"
#include "../kernels/dense.hpp"
#include "../kernels/nm.hpp"
#endif
#endif

// Everything whose meaning depends on the dispatch mode lives in an inline namespace named
// after it, so files built in different modes can share one program without an ODR clash.
#if SIEVE_RUNTIME_DISPATCH
#define SIEVE_DISPATCH_ABI dispatch_runtime
#elif defined(SIEVE_STATIC_ARCH) && XSIMD_WITH_AVX512BW && defined(__AVX512VNNI__) && defined(__AVX512VBMI2__) && \
    defined(__AVX512VL__)
#define SIEVE_DISPATCH_ABI dispatch_static_avx512vnni
#elif defined(SIEVE_STATIC_ARCH) && XSIMD_WITH_AVX512BW
#define SIEVE_DISPATCH_ABI dispatch_static_avx512
#elif defined(SIEVE_STATIC_ARCH) && XSIMD_WITH_FMA3_AVX2
#define SIEVE_DISPATCH_ABI dispatch_static_avx2
#elif defined(SIEVE_STATIC_ARCH) && XSIMD_WITH_SSE4_2
#define SIEVE_DISPATCH_ABI dispatch_static_sse
#elif defined(SIEVE_STATIC_ARCH) && defined(__ARM_FEATURE_DOTPROD)
#define SIEVE_DISPATCH_ABI dispatch_static_neondot
#elif defined(SIEVE_STATIC_ARCH)
#define SIEVE_DISPATCH_ABI dispatch_static_neon
#else
#define SIEVE_DISPATCH_ABI dispatch_scalar
#endif

namespace sieve {

// The ISAs this build can run on this CPU, widest last; scalar is always first.
struct isa_list {
    isa items[7] = {};
    int count = 0;
    const isa* begin() const noexcept { return items; }
    const isa* end() const noexcept { return items + count; }
    bool contains(isa level) const noexcept {
        for (isa i : *this)
            if (i == level) return true;
        return false;
    }
};

inline namespace SIEVE_DISPATCH_ABI {

// The ISAs this build can run on this CPU, widest last; scalar is always first.
inline isa_list available_isas() noexcept {
    isa_list list;
    list.items[list.count++] = isa::scalar;
#if SIEVE_RUNTIME_DISPATCH
#if SIEVE_DISPATCH_SSE
    if (cpu_supports(isa::sse)) list.items[list.count++] = isa::sse;
#endif
#if SIEVE_DISPATCH_AVX2
    if (cpu_supports(isa::avx2)) list.items[list.count++] = isa::avx2;
#endif
#if SIEVE_DISPATCH_AVX512
    if (cpu_supports(isa::avx512)) list.items[list.count++] = isa::avx512;
#endif
#if SIEVE_DISPATCH_AVX512 && SIEVE_DISPATCH_AVX512VNNI
    if (cpu_supports(isa::avx512vnni)) list.items[list.count++] = isa::avx512vnni;
#endif
#if SIEVE_DISPATCH_NEON
    if (cpu_supports(isa::neon)) list.items[list.count++] = isa::neon;
#endif
#if SIEVE_DISPATCH_NEON && SIEVE_DISPATCH_NEONDOT
    if (cpu_supports(isa::neondot)) list.items[list.count++] = isa::neondot;
#endif
#elif defined(SIEVE_STATIC_ISA)
    list.items[list.count++] = SIEVE_STATIC_ISA;
#endif
    return list;
}

constexpr int no_cap = -1;

inline std::atomic<int>& api_cap() noexcept {
    static std::atomic<int> cap{no_cap};
    return cap;
}

// SIEVE_ISA, parsed once. An unknown value is reported once and ignored.
inline int environment_cap() noexcept {
    static const int cap = [] {
        const char* value = std::getenv("SIEVE_ISA");
        if (value == nullptr || *value == '\0') return no_cap;
        isa level;
        if (parse_isa(value, level)) return static_cast<int>(level);
        std::fprintf(stderr,
                     "sieve: ignoring SIEVE_ISA=%s (expected avx512vnni, avx512, avx2, sse, neondot, neon or scalar)\n",
                     value);
        return no_cap;
    }();
    return cap;
}

// Caps the ISA for every later call in this process (overrides SIEVE_ISA).
inline void set_isa_cap(isa cap) noexcept { api_cap().store(static_cast<int>(cap)); }
// Back to SIEVE_ISA, or no cap.
inline void clear_isa_cap() noexcept { api_cap().store(no_cap); }

// The ISA the next call will use.
inline isa active_isa() noexcept {
    int cap = api_cap().load(std::memory_order_relaxed);
    if (cap == no_cap) cap = environment_cap();
    isa best = isa::scalar;
    for (isa level : available_isas())
        if (cap == no_cap || isa_within(level, static_cast<isa>(cap))) best = level;
    return best;
}

// Whether runtime dispatch has per-ISA kernels for this view type.
template <class View>
struct has_runtime_kernel : std::false_type {};
#if SIEVE_RUNTIME_DISPATCH
#define SIEVE_MARK_RUNTIME_VIEW(V) \
    template <>                    \
    struct has_runtime_kernel<V> : std::true_type {};
SIEVE_RUNTIME_VIEWS(SIEVE_MARK_RUNTIME_VIEW)
SIEVE_RUNTIME_INT8_VIEWS(SIEVE_MARK_RUNTIME_VIEW)
#undef SIEVE_MARK_RUNTIME_VIEW
#endif

// Calls `run(arch_tag)` with the arch of the active ISA, or returns false when the scalar
// reference must run instead. int8 views get the int8 tiers' tags (avx512vnni, neondot);
// fp32 views their base arch.
template <class View, class Run>
bool with_active_arch(Run&& run) noexcept {
    const isa level = active_isa();
    constexpr bool int8 = is_int8_weight<std::remove_cv_t<std::remove_pointer_t<decltype(View{}.values)>>>;
#if SIEVE_RUNTIME_DISPATCH
    if constexpr (has_runtime_kernel<View>::value) {
        switch (level) {
#if SIEVE_DISPATCH_AVX512 && SIEVE_DISPATCH_AVX512VNNI
        case isa::avx512vnni:
            if constexpr (int8) run(kernels::avx512vnni{});
            else run(xsimd::avx512bw{});
            return true;
#endif
#if SIEVE_DISPATCH_AVX512
        case isa::avx512: run(xsimd::avx512bw{}); return true;
#endif
#if SIEVE_DISPATCH_AVX2
        case isa::avx2: run(xsimd::fma3<xsimd::avx2>{}); return true;
#endif
#if SIEVE_DISPATCH_SSE
        case isa::sse: run(xsimd::sse4_2{}); return true;
#endif
#if SIEVE_DISPATCH_NEON && SIEVE_DISPATCH_NEONDOT
        case isa::neondot:
            if constexpr (int8) run(kernels::neondot{});
            else run(xsimd::neon64{});
            return true;
#endif
#if SIEVE_DISPATCH_NEON
        case isa::neon: run(xsimd::neon64{}); return true;
#endif
        default: return false;
        }
    }
    (void)level;
    (void)int8;
    return false;
#elif defined(SIEVE_STATIC_ARCH)
    if (level == isa::scalar) return false;
    if constexpr (int8) run(SIEVE_STATIC_INT8_ARCH{});
    else run(SIEVE_STATIC_ARCH{});
    return true;
#else
    (void)level;
    (void)run;
    (void)int8;
    return false;
#endif
}

// Whether the CSR GEMV on an AVX-512 tier runs the AVX2 kernel, whose activations come from
// scalar loads, instead of the AVX-512 one and its vgatherdps: on cores with Intel's gather
// data sampling fix and on AMD's the loads win (11008x4096 CSR 90% fp32: a Cascade Lake VM
// 3.7 ms with the gathers, 2.4 ms with the AVX2 kernel; Zen 5 1.41 against 1.04 ms), on other
// Intel cores the gathers do (a Xeon model 207: 2.0-2.2 against 2.6-2.8 ms for AVX-512 with
// scalar loads). SIEVE_GATHERS=loads|hardware (read once) overrides the CPU model.
// Static builds keep their one arch.
inline bool csr_gathers_from_loads() noexcept {
#if SIEVE_RUNTIME_DISPATCH
    static const bool loads = [] {
        const char* value = std::getenv("SIEVE_GATHERS");
        if (value != nullptr && std::strcmp(value, "loads") == 0) return true;
        if (value != nullptr && std::strcmp(value, "hardware") == 0) return false;
        if (value != nullptr && *value != '\0')
            std::fprintf(stderr, "sieve: ignoring SIEVE_GATHERS=%s (expected loads or hardware)\n", value);
        return cpu().slow_gathers;
    }();
    return loads;
#else
    return false;
#endif
}

template <class View>
struct is_csr_view : std::false_type {};
template <class T>
struct is_csr_view<csr_view<T>> : std::true_type {};

// with_active_arch for a GEMV: the same, except for CSR on cores whose gathers are slow.
template <class View, class Run>
bool with_gemv_arch(Run&& run) noexcept {
#if SIEVE_RUNTIME_DISPATCH && SIEVE_DISPATCH_AVX2 && SIEVE_DISPATCH_AVX512
    if constexpr (is_csr_view<View>::value) {
        const isa level = active_isa();
        if ((level == isa::avx512 || level == isa::avx512vnni) && csr_gathers_from_loads()) {
            run(xsimd::fma3<xsimd::avx2>{});
            return true;
        }
    }
#endif
    return with_active_arch<View>(run);
}

}  // namespace SIEVE_DISPATCH_ABI
}  // namespace sieve
