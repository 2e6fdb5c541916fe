// Build configuration: version, exception detection, debug checks.
#pragma once

#define SIEVE_VERSION_MAJOR 0
#define SIEVE_VERSION_MINOR 1
#define SIEVE_VERSION_PATCH 0

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define SIEVE_HAS_EXCEPTIONS 1
#else
#define SIEVE_HAS_EXCEPTIONS 0
#endif

// Debug checks inside kernels (cheap invariant checks). On by default when NDEBUG is not
// defined; a firmware build can force either way with -DSIEVE_DEBUG_CHECKS=0/1.
#ifndef SIEVE_DEBUG_CHECKS
#ifdef NDEBUG
#define SIEVE_DEBUG_CHECKS 0
#else
#define SIEVE_DEBUG_CHECKS 1
#endif
#endif

#if SIEVE_DEBUG_CHECKS
#include <cstdio>
#include <cstdlib>
// A broken internal invariant is a bug in sieve, not bad user input: report and stop.
#define SIEVE_DEBUG_ASSERT(cond)                                                            \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::fprintf(stderr, "sieve: internal check failed: %s (%s:%d)\n", #cond,      \
                         __FILE__, __LINE__);                                               \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)
#else
#define SIEVE_DEBUG_ASSERT(cond) ((void)0)
#endif

// For the small helpers a kernel calls inside its row loop (storing a block of results):
// a call there clobbers every vector register, and GCC then keeps the loop's pointers and
// accumulators in memory. Left to its heuristics, GCC stops inlining such a helper once a
// unit holds many of its callers (the N:M int8 GEMV measured 30% slower that way).
#if defined(__GNUC__) || defined(__clang__)
#define SIEVE_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define SIEVE_ALWAYS_INLINE __forceinline
#else
#define SIEVE_ALWAYS_INLINE inline
#endif

// Keeps a computed pointer in a register of its own: without it the compiler folds the
// pointer's arithmetic into each use's address, and an indexed memory operand costs Intel
// cores an extra micro-op per use (the 2:4 GEMM's four FMAs per kept weight).
#if defined(__GNUC__) || defined(__clang__)
#define SIEVE_IN_REGISTER(pointer) __asm__("" : "+r"(pointer))
#else
#define SIEVE_IN_REGISTER(pointer) ((void)(pointer))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SIEVE_PRINTF_FORMAT(fmt_index, args_index) \
    __attribute__((format(printf, fmt_index, args_index)))
#else
#define SIEVE_PRINTF_FORMAT(fmt_index, args_index)
#endif
