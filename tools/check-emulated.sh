#!/usr/bin/env bash
# Runs an x86-64 test binary under qemu-x86_64 as older CPUs, so runtime dispatch must
# detect a smaller machine than this one and pick a narrower ISA (a wrong CPUID/XGETBV
# reading shows up as SIGILL or a wrong ISA). qemu 7.2 emulates no AVX-512: the AVX-512 path
# is tested natively only.
#   Haswell   AVX2 + FMA, no AVX-512
#   Nehalem   SSE4.2, no AVX
# The CPU models run at the same time (one qemu process each, its output kept until it ends).
#
# Usage: tools/check-emulated.sh BINARY [ARGS...]
#   SIEVE_EMULATED_CPUS="Haswell Nehalem" selects the CPU models (qemu-x86_64 -cpu help).
#   ARGS go to the binary: .ci/run passes a Catch2 test spec (see there).
set -euo pipefail
if [ "$#" -lt 1 ]; then
    echo "usage: $0 BINARY [ARGS...]" >&2
    exit 2
fi
binary="$1"
shift

work="$(mktemp -d "${TMPDIR:-/tmp}/sieve-emulated.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cpus=(${SIEVE_EMULATED_CPUS:-Haswell Nehalem})
pids=()
for cpu in "${cpus[@]}"; do
    # The ISA each model must reach: a detection bug may not fall back silently.
    case "$cpu" in
        Haswell*|Broadwell*|Skylake-Client*) expect=avx2 ;;
        Nehalem*|Westmere*) expect=sse ;;
        *) expect="" ;;
    esac
    echo "== $binary under qemu-x86_64 -cpu $cpu${expect:+ (must reach $expect)}" >"$work/$cpu.log"
    SIEVE_EXPECT_ISA="$expect" qemu-x86_64 -cpu "$cpu" "$binary" "$@" >>"$work/$cpu.log" 2>&1 &
    pids+=($!)
done
failed=0
for i in "${!cpus[@]}"; do
    status=0
    wait "${pids[$i]}" || status=$?
    cat "$work/${cpus[$i]}.log"
    if [ "$status" -ne 0 ]; then
        echo "check-emulated: FAILED under -cpu ${cpus[$i]} (exit status $status)"
        failed=1
    fi
done
exit "$failed"
