#!/usr/bin/env bash
# Builds sieve's libFuzzer harnesses (tests/fuzz, clang, ASan + UBSan) in build/fuzz and
# runs them over the committed seed corpus (tests/fuzz/corpus/<harness>/).
#
# Usage: tools/fuzz.sh [--time SECONDS | --runs N] [--jobs J] [harness...]
#        tools/fuzz.sh --replay [harness...]     every committed input once (CI; fast)
#        tools/fuzz.sh --build-only              build only: build/fuzz/fuzz_* + corpus/
#        tools/fuzz.sh --write-seeds             regenerate tests/fuzz/corpus/ (seeds only)
#   --time S   fuzz each harness for S seconds (default 60)
#   --runs N   or for N executions
#   --jobs J   run J harnesses at once (default 1; each harness is one process)
#   harness    fuzz_pack_dense, fuzz_pack_csr, ... or a suffix (csr, blob); default: all
# New interesting inputs go to build/fuzz/work/<harness>/ (the committed corpus is only
# read); crashes to build/fuzz/artifacts/<harness>/. Per harness it prints executions,
# exec/s, corpus size and coverage (libFuzzer's cov/ft); any crash, leak, timeout or
# invariant violation makes the exit status non-zero and prints the input's path.
#
# Environment: SIEVE_FUZZ_CXX (default clang++), SIEVE_FUZZ_STATIC_RUNTIME (default ON: binaries
# carry libstdc++/libgcc, so they run on other x86-64 glibc Linux systems), and
# SIEVE_FUZZ_FLAGS (extra libFuzzer flags, e.g. "-max_len=16384") and SIEVE_FUZZ_ISAS (the
# kernels' ISAs, cmake/SieveDispatch.cmake: default every one; host = those of this CPU).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode=fuzz
limit=(-max_total_time=60)
jobs=1
names=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --time) limit=(-max_total_time="$2"); shift 2 ;;
        --runs) limit=(-runs="$2"); shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --replay) mode=replay; shift ;;
        --build-only) mode=build; shift ;;
        --write-seeds) mode=seeds; shift ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done

"$root/tools/deps.sh" fuzz
build="$root/build/fuzz"
corpus="$root/tests/fuzz/corpus"
cxx="${SIEVE_FUZZ_CXX:-clang++}"
if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "fuzz.sh: $cxx not found (Debian: tools/deps.sh fuzz)" >&2
    exit 1
fi
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" \
    -DSIEVE_BUILD_FUZZERS=ON -DSIEVE_FUZZ_STATIC_RUNTIME="${SIEVE_FUZZ_STATIC_RUNTIME:-ON}" \
    -DSIEVE_DISPATCH_ISAS="${SIEVE_FUZZ_ISAS:-}" \
    -DSIEVE_BUILD_TESTS=OFF -DSIEVE_BUILD_BENCHMARKS=OFF -DSIEVE_BUILD_EXAMPLES=OFF -DSIEVE_INSTALL=OFF >/dev/null
all=($(sed -n 's/^sieve_fuzzers=//p' "$build/fuzzers.txt"))

# Harness names from the arguments (a unique suffix is enough).
harnesses=()
for name in "${names[@]-}"; do
    [ -z "$name" ] && continue
    match=()
    for h in "${all[@]}"; do [[ "$h" == "$name" || "$h" == *"_$name" ]] && match+=("$h"); done
    if [ "${#match[@]}" -ne 1 ]; then
        echo "fuzz.sh: '$name' names ${#match[@]} harnesses (have: ${all[*]})" >&2
        exit 2
    fi
    harnesses+=("${match[0]}")
done
[ "${#harnesses[@]}" -eq 0 ] && harnesses=("${all[@]}")

targets=("${harnesses[@]}")
[ "$mode" = seeds ] && targets=(sieve_fuzz_corpus)
[ "$mode" = build ] && targets=("${all[@]}")
cmake --build "$build" -j "${SIEVE_FUZZ_BUILD_JOBS:-2}" --target "${targets[@]}"

case "$mode" in
    seeds)
        "$build/sieve_fuzz_corpus" "$corpus"
        du -sh "$corpus"/*
        exit 0
        ;;
    build)
        rm -rf "$build/corpus"
        cp -r "$corpus" "$build/corpus"
        cp "$root"/tests/fuzz/*.dict "$build/"
        echo "fuzz.sh: built in $build:"
        for h in "${all[@]}"; do echo "    $build/$h   (corpus: $build/corpus/${h%_crc})"; done
        exit 0
        ;;
esac

common=(-print_final_stats=1 -timeout=25 -rss_limit_mb=2560 ${SIEVE_FUZZ_FLAGS:-})
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p "$build/logs"

# One harness: libFuzzer with the committed corpus read-only behind a scratch corpus.
run_one() {
    local h="$1" log="$build/logs/$1.log"
    local seeds="$corpus/${h%_crc}"  # fuzz_blob_crc starts from fuzz_blob's corpus
    mkdir -p "$build/artifacts/$h" "$build/work/$h"
    [ -d "$seeds" ] || { echo "fuzz.sh: no corpus for $h" >"$log"; return 1; }
    local dict=()
    local base="${h#fuzz_}"
    base="${base%_crc}"
    [ -f "$root/tests/fuzz/$base.dict" ] && dict=(-dict="$root/tests/fuzz/$base.dict")
    if [ "$mode" = replay ]; then
        "$build/$h" "${common[@]}" -runs=0 -artifact_prefix="$build/artifacts/$h/" "$seeds" >"$log" 2>&1
    else
        "$build/$h" "${common[@]}" "${dict[@]}" "${limit[@]}" -artifact_prefix="$build/artifacts/$h/" \
            "$build/work/$h" "$seeds" >"$log" 2>&1
    fi
}

# Start the harnesses, at most $jobs at once; remember each one's exit status.
declare -A pid_of status_of
running=0
for h in "${harnesses[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$h" &
    pid_of[$h]=$!
    running=$((running + 1))
done
for h in "${harnesses[@]}"; do
    status_of[$h]=0
    wait "${pid_of[$h]}" || status_of[$h]=$?
done

# The summary, from libFuzzer's last status line and final stats.
failed=0
printf '\n%-18s %10s %8s %8s %7s %7s  %s\n' harness executions exec/s corpus cov ft result
for h in "${harnesses[@]}"; do
    log="$build/logs/$h.log"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    last="$(grep -E '^#[0-9]+[[:space:]]+(INITED|DONE|NEW|REDUCE|pulse)' "$log" | tail -n 1 || true)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    corp="$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")"
    result=ok
    if [ "${status_of[$h]}" -ne 0 ]; then
        failed=1
        crash="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        result="FAILED (exit ${status_of[$h]}): ${crash:-no input saved}; log $log"
    fi
    printf '%-18s %10s %8s %8s %7s %7s  %s\n' "$h" "${execs:--}" "${rate:--}" "${corp:--}" "${cov:--}" "${ft:--}" "$result"
done
if [ "$failed" -ne 0 ]; then
    echo
    echo "fuzz.sh: a harness failed; reproduce with: build/fuzz/<harness> <input>"
    exit 1
fi
