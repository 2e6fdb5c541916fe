#!/usr/bin/env bash
# Runs a test binary natively once per SIEVE_ISA cap, from the widest ISA this CPU has
# down to scalar, so the environment path of the cap is exercised and every lower x86
# level runs the whole suite again on its own. Without a cap the binary must reach the
# widest ISA the CPU offers (avx512 where the CPU has it).
#
# Usage: tools/check-isa-caps.sh BINARY [ARGS...]
set -euo pipefail
if [ "$#" -lt 1 ]; then
    echo "usage: $0 BINARY [ARGS...]" >&2
    exit 2
fi
binary="$1"
shift

flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
has() { [[ " $flags " == *" $1 "* ]]; }
widest=scalar
if has sse4_2 && has popcnt; then widest=sse; fi
if [ "$widest" = sse ] && has avx2 && has fma; then widest=avx2; fi
if [ "$widest" = avx2 ] && has avx512f && has avx512bw && has avx512dq && has avx512cd; then widest=avx512; fi
if [ "$(uname -m)" = aarch64 ]; then widest=neon; fi

echo "== $binary, no cap (must reach $widest)"
SIEVE_EXPECT_ISA="$widest" "$binary" "$@"
for cap in avx512 avx2 sse scalar; do
    case "$widest:$cap" in
        scalar:avx512|scalar:avx2|scalar:sse|sse:avx512|sse:avx2|avx2:avx512|neon:avx*|neon:sse) continue ;;
    esac
    echo "== $binary with SIEVE_ISA=$cap"
    SIEVE_ISA="$cap" SIEVE_EXPECT_ISA="$cap" "$binary" "$@"
done
