#!/usr/bin/env bash
# Runs an x86-64 test binary under qemu-x86_64 as older CPUs, so runtime dispatch must
# detect a smaller machine than this one and pick a narrower ISA (a wrong CPUID/XGETBV
# reading shows up as SIGILL or a wrong ISA). qemu 7.2 emulates no AVX-512: the AVX-512 path
# is tested natively only.
#   Haswell   AVX2 + FMA, no AVX-512
#   Nehalem   SSE4.2, no AVX
#
# Usage: tools/check-emulated.sh BINARY [ARGS...]
#   SIEVE_EMULATED_CPUS="Haswell Nehalem" selects the CPU models (qemu-x86_64 -cpu help).
set -euo pipefail
if [ "$#" -lt 1 ]; then
    echo "usage: $0 BINARY [ARGS...]" >&2
    exit 2
fi
binary="$1"
shift

for cpu in ${SIEVE_EMULATED_CPUS:-Haswell Nehalem}; do
    # The ISA each model must reach: a detection bug may not fall back silently.
    case "$cpu" in
        Haswell*|Broadwell*|Skylake-Client*) expect=avx2 ;;
        Nehalem*|Westmere*) expect=sse ;;
        *) expect="" ;;
    esac
    echo "== $binary under qemu-x86_64 -cpu $cpu${expect:+ (must reach $expect)}"
    SIEVE_EXPECT_ISA="$expect" qemu-x86_64 -cpu "$cpu" "$binary" "$@"
done
