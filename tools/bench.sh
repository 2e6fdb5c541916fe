#!/usr/bin/env bash
# The README's benchmark command: installs what is missing (Google Benchmark and the
# baselines), configures the Release preset, builds only the sieve_bench target and runs it.
# Arguments go to sieve_bench unchanged: none runs the headline subset, --all every case,
# --help lists the options. sieve_bench prints the table and writes its reports (JSON,
# Markdown, SVG plot) to build/release/bench-report/ unless --out says otherwise.
#
# Usage: tools/bench.sh [sieve_bench arguments...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

"$root/tools/deps.sh" bench

log="$(mktemp "${TMPDIR:-/tmp}/sieve-bench.XXXXXX")"
trap 'rm -f "$log"' EXIT
cmake --preset release 2>&1 | tee "$log" >/dev/null || {
    cat "$log" >&2
    exit 1
}

# CMakeLists.txt skips sieve_bench with a "sieve: ... sieve_bench skipped" line when
# something it needs is missing: say that instead of a confusing build error.
if grep -q 'sieve_bench skipped' "$log"; then
    echo "bench.sh: sieve_bench was not built:" >&2
    grep -E '^-- sieve: .*(sieve_bench skipped|not found)' "$log" | sed 's/^-- /    /' >&2
    exit 1
fi
grep -E '^-- sieve: (sieve_bench with baselines|.*baseline skipped)' "$log" | sed 's/^-- //'

# The bench build preset builds the sieve_bench target alone (not the tests or examples).
start=$SECONDS
cmake --build --preset bench
echo "bench.sh: sieve_bench built in $((SECONDS - start)) s"
bin="$root/build/release/benchmarks/sieve_bench"
if [ ! -x "$bin" ]; then
    echo "bench.sh: $bin was not built" >&2
    exit 1
fi
exec "$bin" "$@"
