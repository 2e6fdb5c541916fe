#!/usr/bin/env bash
# Installs the Debian 12 packages sieve needs, or does nothing (quickly) when they are all
# there. A fresh Debian has no compiler, no cmake, no git and no sudo: as root this runs
# apt-get itself; otherwise it prints the exact command for root and exits 1.
#
# Usage: tools/deps.sh [SET...]   (default: test)
#   test   compiler, cmake, make, xsimd, Catch2 v2, fmt, and nlohmann-json + python3 for
#          sieve-pack and its tests: build and run the tests
#   bench  test + Google Benchmark and the baselines (OpenBLAS, oneDNN, Eigen)
#   cross  test + the aarch64 cross compiler and qemu (tests run under qemu-aarch64)
#   fuzz   test + clang and its runtime libraries (libFuzzer, ASan, UBSan): tools/fuzz.sh
#   ci     all of the above + git and binutils (nm, objdump) for .ci/run
set -euo pipefail

test_pkgs=(g++ cmake make libxsimd-dev catch2 libfmt-dev nlohmann-json3-dev python3)
bench_pkgs=(libbenchmark-dev libopenblas-dev libdnnl-dev libeigen3-dev)
cross_pkgs=(qemu-user g++-aarch64-linux-gnu)
fuzz_pkgs=(clang libclang-rt-14-dev)  # Debian 12's clang is 14; libFuzzer is in libclang-rt
ci_pkgs=(git binutils)

wanted=()
for set in "${@:-test}"; do
    case "$set" in
        test) wanted+=("${test_pkgs[@]}") ;;
        bench) wanted+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
        cross) wanted+=("${test_pkgs[@]}" "${cross_pkgs[@]}") ;;
        fuzz) wanted+=("${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
        ci) wanted+=("${test_pkgs[@]}" "${bench_pkgs[@]}" "${cross_pkgs[@]}" "${fuzz_pkgs[@]}" "${ci_pkgs[@]}") ;;
        *)
            echo "usage: $0 [test|bench|cross|fuzz|ci]..." >&2
            exit 2
            ;;
    esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian: nothing to check with; the configure step will name what is missing.
    echo "deps.sh: no dpkg-query (not Debian?); skipping the package check" >&2
    exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [ "$status" != "install ok installed" ]; then
        case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
    fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    echo "deps.sh: installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "deps.sh: missing packages: ${missing[*]}" >&2
    echo "deps.sh: run as root, then run this again:" >&2
    echo "    $install_cmd" >&2
    exit 1
fi
