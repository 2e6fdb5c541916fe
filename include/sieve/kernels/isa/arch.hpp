// The arch tags kernels are instantiated for, and the traits helpers branch on.
//
// Kernels are templated on an xsimd arch. xsimd 8.1 has no arch for AVX-512 VNNI/VBMI2 or
// for the Arm dot-product extension, so sieve derives two tags. Their batches are their
// base's (simd_arch below: xsimd 8.1's NEON kernels only accept the exact neon64 tag),
// while their own mangled names keep the VNNI build of a kernel apart from the plain
// AVX-512 build of the same kernel (the ODR trap: same symbol, different instructions).
// Only int8 kernels are built for them.
//
// Helpers branch with `if constexpr` on the family traits below rather than overloading on
// concrete tags, so a derived tag finds its base's code and every helper stays a template
// whose symbol names its arch.
#pragma once

#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace sieve::kernels {

// AVX-512 F/CD/DQ/BW plus VNNI (vpdpbusd), VBMI2 (vpexpandb) and VL.
struct avx512vnni : xsimd::avx512bw {
    static constexpr char const* name() noexcept { return "avx512vnni"; }
};
// aarch64 Advanced SIMD plus the dot-product extension (sdot).
struct neondot : xsimd::neon64 {
    static constexpr char const* name() noexcept { return "neondot"; }
};

// The xsimd arch whose batches a kernel for tag A uses.
template <class A>
struct simd_arch {
    using type = A;
};
template <>
struct simd_arch<avx512vnni> {
    using type = xsimd::avx512bw;
};
template <>
struct simd_arch<neondot> {
    using type = xsimd::neon64;
};
template <class A>
using simd_arch_t = typename simd_arch<A>::type;

template <class A>
inline constexpr bool is_avx512 = std::is_base_of<xsimd::avx512bw, A>::value;
template <class A>
inline constexpr bool is_avx2 = std::is_base_of<xsimd::fma3<xsimd::avx2>, A>::value;
template <class A>
inline constexpr bool is_sse = std::is_same<A, xsimd::sse4_2>::value;
template <class A>
inline constexpr bool is_neon = std::is_base_of<xsimd::neon64, A>::value;
template <class A>
inline constexpr bool has_vnni = std::is_base_of<avx512vnni, A>::value;
template <class A>
inline constexpr bool has_dotprod = std::is_base_of<neondot, A>::value;

}  // namespace sieve::kernels
