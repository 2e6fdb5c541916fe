#!/usr/bin/env bash
# sieve's performance targets in one command, from a clone: installs what is missing, builds
# sieve_bench in Release (tools/bench.sh) and runs `sieve_bench --targets`: the 11008x4096
# cases the targets need (GEMV, GEMM N=8 and N=128; cold weights, one thread) with their
# dense baselines, then one line per target: workload, achieved, target, PASS or MISS.
# Every ratio comes from this one run. Takes about 10 minutes on 2 cores.
#
# Usage: benchmarks/targets.sh [extra sieve_bench / Google Benchmark flags...]
# Exit status: 0 when every target is met, 3 when one is missed, else an error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/tools/bench.sh" --targets "$@"
