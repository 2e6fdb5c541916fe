#!/usr/bin/env bash
# Builds and runs the consumer projects in tests/consumers/ against this source tree, the
# three ways users take sieve:
#   find_package      an installed sieve (installed, then moved: the package must be
#                     relocatable and find xsimd on its own)
#   add_subdirectory  sieve as a subproject (its tests etc. must stay off)
#   vendored          include/ on the include path, no sieve CMake at all
# plus the vendored case as one plain compiler command. Consumers compile with
# -Wall -Wextra -Wpedantic -Werror: the headers must be warning-clean in a user's build.
#
# Usage: tools/check-consumers.sh   (CXX picks the compiler; works from any directory)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
consumers="$root/tests/consumers"
work="$(mktemp -d "${TMPDIR:-/tmp}/sieve-consumers.XXXXXX")"
trap 'rm -rf "$work"' EXIT

flags="-Wall -Wextra -Wpedantic -Werror"
jobs="${SIEVE_JOBS:-2}"

# build_and_run NAME [cmake args...]: configure, build, run every program it made.
build_and_run() {
    local name="$1"
    shift
    echo "== consumer: $name"
    cmake -S "$consumers/$name" -B "$work/$name" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_FLAGS="$flags" "$@" >"$work/$name.log" 2>&1 || {
        cat "$work/$name.log"
        return 1
    }
    cmake --build "$work/$name" --parallel "$jobs"
    local program
    for program in "$work/$name"/consumer*; do
        if [ ! -f "$program" ] || [ ! -x "$program" ]; then continue; fi
        "$program"
    done
}

echo "== install sieve into a temporary prefix"
cmake -S "$root" -B "$work/sieve-build" -DCMAKE_INSTALL_PREFIX="$work/prefix" \
    -DSIEVE_BUILD_TESTS=OFF -DSIEVE_BUILD_BENCHMARKS=OFF -DSIEVE_BUILD_EXAMPLES=OFF \
    >"$work/sieve-build.log" 2>&1 || {
    cat "$work/sieve-build.log"
    exit 1
}
cmake --install "$work/sieve-build" >/dev/null
mv "$work/prefix" "$work/moved-prefix"  # relocated: nothing may point at the old prefix

build_and_run find_package -DCMAKE_PREFIX_PATH="$work/moved-prefix"
build_and_run add_subdirectory -DSIEVE_SOURCE_DIR="$root"
build_and_run vendored -DSIEVE_INCLUDE_DIR="$root/include"

echo "== consumer: plain compiler command"
# shellcheck disable=SC2086  # $flags is a list of words
"${CXX:-c++}" -std=c++17 -O2 $flags -I"$root/include" "$consumers/consumer_main.cpp" \
    -o "$work/consumer_plain"
"$work/consumer_plain"

echo "consumers: all passed"
