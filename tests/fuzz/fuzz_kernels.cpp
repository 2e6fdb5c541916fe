// sieve_fuzz_kernels' own unit: the per-ISA kernel units sieve_add_runtime_dispatch()
// generates are the library's content; a static library needs one source of its own.
#include <sieve/sieve.hpp>
