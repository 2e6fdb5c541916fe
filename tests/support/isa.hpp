// Runs the enclosing test case once per ISA path that is compiled in and supported by this
// CPU (filled in by the dispatch layer). Place at the top of every test case that calls
// sieve::gemv / sieve::gemm.
#pragma once

#define SIEVE_ON_EACH_ISA() \
    do {                    \
    } while (0)
