#!/usr/bin/env bash
# The README's test command: installs what is missing, then configures, builds and runs
# every test through a CMake workflow preset, and ends with ctest's summary line.
#
# Usage: tools/test.sh [WORKFLOW]   (default: test = Release in build/release)
#   Other workflows (CMakePresets.json): debug, ci (Release, -Werror), ci-debug (Debug,
#   -Werror, ASan + UBSan), aarch64 (cross build, tests under qemu-aarch64).
# Works from any directory; runs again incrementally.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

workflow="${1:-test}"
case "$workflow" in
    aarch64) deps="cross" ;;
    *) deps="test" ;;
esac
"$root/tools/deps.sh" "$deps"

log="$(mktemp "${TMPDIR:-/tmp}/sieve-test.XXXXXX")"
trap 'rm -f "$log"' EXIT

# Keep going after a failure so the summary (or its absence) is still the last line.
status=0
cmake --workflow --preset "$workflow" 2>&1 | tee "$log" || status=$?

summary="$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)"
echo
if [ -n "$summary" ]; then
    echo "$summary"
else
    echo "no test summary: the configure or build step failed (exit status $status)"
fi
exit "$status"
