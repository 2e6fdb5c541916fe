// One runtime-dispatch unit: instantiates the fast kernels for one arch. A unit is a .cpp
// file compiled with that ISA's flags, containing only:
//
//     #define SIEVE_INSTANTIATE_ARCH xsimd::fma3<xsimd::avx2>
//     #include <sieve/dispatch/instantiate.hpp>
//
// (sieve_add_runtime_dispatch() in cmake/SieveDispatch.cmake generates them.) A unit for an
// int8-only tier (avx512vnni, neondot) also defines SIEVE_INSTANTIATE_INT8_ONLY: its fp32
// kernels would be the base arch's. Every symbol such a unit defines is a template
// specialised on the arch, so no function compiled with AVX-512 flags can stand in for the
// AVX2 or SSE build of the same name.
#pragma once

#ifndef SIEVE_INSTANTIATE_ARCH
#error "define SIEVE_INSTANTIATE_ARCH to an xsimd arch before including instantiate.hpp"
#endif

#include "../kernels/bitmap.hpp"
#include "../kernels/bsr.hpp"
#include "../kernels/csr.hpp"
#include "../kernels/declare.hpp"
#include "../kernels/dense.hpp"
#include "../kernels/nm.hpp"

#define SIEVE_INSTANTIATE_VIEW(V)                                                                      \
    template void sieve::kernels::gemv<SIEVE_INSTANTIATE_ARCH>(const V&, const float*, float*,          \
                                                               const ::sieve::epilogue&) noexcept;     \
    template void sieve::kernels::gemm<SIEVE_INSTANTIATE_ARCH>(const V&, ::sieve::matrix_view<const float>, \
                                                               ::sieve::matrix_view<float>,            \
                                                               const ::sieve::epilogue&, float*) noexcept;
#define SIEVE_INSTANTIATE_W8A8(V)                                                                      \
    template void sieve::kernels::gemv_w8a8<SIEVE_INSTANTIATE_ARCH>(                                   \
        const V&, const float*, float*, const ::sieve::epilogue&, ::std::int8_t*) noexcept;            \
    template void sieve::kernels::gemm_w8a8<SIEVE_INSTANTIATE_ARCH>(                                   \
        const V&, ::sieve::matrix_view<const float>, ::sieve::matrix_view<float>,                      \
        const ::sieve::epilogue&, float*) noexcept;
#ifndef SIEVE_INSTANTIATE_INT8_ONLY
SIEVE_RUNTIME_VIEWS(SIEVE_INSTANTIATE_VIEW)
#endif
SIEVE_RUNTIME_INT8_VIEWS(SIEVE_INSTANTIATE_VIEW)
SIEVE_RUNTIME_INT8_VIEWS(SIEVE_INSTANTIATE_W8A8)
#undef SIEVE_INSTANTIATE_VIEW
#undef SIEVE_INSTANTIATE_W8A8
