#!/usr/bin/env bash
# Runs a test binary natively once per SIEVE_ISA cap, from the widest ISA this CPU has
# down to scalar, so the environment path of the cap is exercised and every lower x86
# level runs the whole suite again on its own. Without a cap the binary must reach the
# widest ISA the CPU offers (avx512vnni or avx512 where the CPU has them).
#
# Usage: tools/check-isa-caps.sh BINARY [ARGS...]
set -euo pipefail
if [ "$#" -lt 1 ]; then
    echo "usage: $0 BINARY [ARGS...]" >&2
    exit 2
fi
binary="$1"
shift

flags="$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo || true)"
has() { [[ " $flags " == *" $1 "* ]]; }
# The ladder of this CPU's family, plainest first, up to the widest level it has.
if [ "$(uname -m)" = aarch64 ]; then
    ladder=(scalar neon)
    if has asimddp; then ladder+=(neondot); fi
else
    ladder=(scalar)
    if has sse4_2 && has popcnt; then ladder+=(sse); fi
    if [ "${#ladder[@]}" = 2 ] && has avx2 && has fma; then ladder+=(avx2); fi
    if [ "${#ladder[@]}" = 3 ] && has avx512f && has avx512bw && has avx512dq && has avx512cd && has bmi1; then ladder+=(avx512); fi
    if [ "${#ladder[@]}" = 4 ] && has avx512vl && has avx512_vnni && has avx512_vbmi2; then ladder+=(avx512vnni); fi
fi
widest="${ladder[${#ladder[@]}-1]}"

echo "== $binary, no cap (must reach $widest)"
SIEVE_EXPECT_ISA="$widest" "$binary" "$@"
for ((i = ${#ladder[@]} - 1; i >= 0; --i)); do
    cap="${ladder[$i]}"
    echo "== $binary with SIEVE_ISA=$cap"
    SIEVE_ISA="$cap" SIEVE_EXPECT_ISA="$cap" "$binary" "$@"
done
