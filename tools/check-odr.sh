#!/usr/bin/env bash
# The runtime-dispatch ODR check (DESIGN.md, "The ODR trap"). A function with external
# linkage emitted both by a per-ISA unit (sieve_dispatch/<target>_<isa>.cpp) and by another
# object of the same program is merged by the linker into ONE copy. If the kept copy holds
# instructions some of its callers' ISA lacks, those paths die with SIGILL on a smaller CPU.
# Functions templated on the arch, or with internal linkage, have distinct names: safe.
#
# For each target with per-ISA units, in each build directory given:
#   1. nm: code symbols (T, W, i) defined in a per-ISA object and in another object;
#   2. objdump: every object's copy, and the copy the linker kept in the target's program;
#   3. each copy's ISA from its instructions (VEX/EVEX or ymm = AVX, zmm or mask registers =
#      AVX-512, SSE3..SSE4.2 mnemonics = SSE4.2) against the lowest ISA of the objects
#      defining (so calling) it.
# FAIL: the kept copy needs more than its lowest caller has.
# LATENT: this link kept a safe copy, but a copy that needs more exists: another linker or
#         link order may keep it. A warning; SIEVE_ODR_STRICT=1 makes it a failure.
# Run it on Debug and Release builds: at -O0 nothing is inlined, so far more is emitted.
#
# Usage: tools/check-odr.sh BUILD_DIR...   (e.g. build/ci build/ci-debug)
set -euo pipefail
if [ "$#" -lt 1 ]; then
    echo "usage: $0 BUILD_DIR..." >&2
    exit 2
fi
strict="${SIEVE_ODR_STRICT:-0}"

work="$(mktemp -d "${TMPDIR:-/tmp}/sieve-odr.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# shellcheck disable=SC2016  # an awk program, not shell
# Normalises objdump lines on stdin to "insn; insn; ..." with addresses, branch targets
# and rip-relative displacements removed, so identical code compares equal.
normalise='
    /^ *[0-9a-f]+:\t/ {
        sub(/^ *[0-9a-f]+:\t/, "")
        gsub(/[0-9a-f]+ <[^>]*>/, "<ref>")
        gsub(/-?0x[0-9a-f]+\(%rip\)/, "(%rip)")
        sub(/ *#.*/, "")
        printf "%s; ", $0
    }
    END { print "" }'

# bodies OBJECT SYMBOL...: "symbol<TAB>object<TAB>instructions" for each symbol. GCC puts
# each inline or template function in its own COMDAT section .text.<symbol>: disassembling
# only those sections keeps this fast on big Debug objects. A symbol not found there (plain
# .text) is disassembled alone.
bodies() {
    local object="$1" symbol
    shift
    local sections=()
    for symbol in "$@"; do sections+=(-j ".text.$symbol"); done
    { objdump -d --no-show-raw-insn "${sections[@]}" "$object" 2>/dev/null || true; } |
        awk -v o="$object" '
            /^[0-9a-f]+ <.*>:$/ { if (sym != "") print sym "\t" o "\t" body; sym = $2; gsub(/^<|>:$/, "", sym); body = ""; next }
            /^ *[0-9a-f]+:\t/ { sub(/^ *[0-9a-f]+:\t/, ""); gsub(/[0-9a-f]+ <[^>]*>/, "<ref>"); gsub(/-?0x[0-9a-f]+\(%rip\)/, "(%rip)"); sub(/ *#.*/, ""); body = body $0 "; " }
            END { if (sym != "") print sym "\t" o "\t" body }' >"$work/object-bodies"
    cat "$work/object-bodies"
    for symbol in "$@"; do
        awk -F'\t' -v s="$symbol" '$1 == s { found = 1 } END { exit !found }' \
            "$work/object-bodies" && continue
        printf '%s\t%s\t' "$symbol" "$object"
        { objdump -d --no-show-raw-insn --disassemble="$symbol" "$object" || true; } | awk "$normalise"
    done
}

# kept PROGRAM SYMBOL...: "symbol<TAB>program<TAB>instructions" for the copies the linker
# kept, located by address and size (nm -S) so only those bytes are disassembled.
kept() {
    local program="$1"
    shift
    printf '%s\n' "$@" >"$work/wanted"
    nm -S --defined-only "$program" | awk 'NR == FNR { want[$1] = 1; next }
        NF == 4 && ($4 in want) { print $4, $1, $2 }' "$work/wanted" - |
        while read -r symbol address size; do
            printf '%s\t%s\t' "$symbol" "$program"
            objdump -d --no-show-raw-insn --start-address="0x$address" \
                --stop-address="$(printf '0x%x' $((0x$address + 0x$size)))" "$program" |
                awk "$normalise"
        done
}

failures=0
latent=0
checked=0
# Each target with per-ISA units, one line "TARGET_DIR<TAB>PROGRAM<TAB>SHARED_UNITS": its own
# units are in its object directory (TARGET_DIR/sieve_dispatch/*.o); units shared across
# targets (sieve_add_runtime_dispatch(... SHARED)) are listed in sieve_dispatch/<target>.shared
# beside the target's object directory, the objects separated by ';'.
targets_of() {
    local build="$1" unit_dir target_dir target shared
    while IFS= read -r unit_dir; do
        target_dir="$(dirname "$unit_dir")"
        case "$(basename "$target_dir")" in sieve_dispatch_*.dir) continue ;; esac  # shared units alone
        target="$(basename "$target_dir" .dir)"
        printf '%s\t%s\t\n' "$target_dir" "$(dirname "$(dirname "$target_dir")")/$target"
    done < <(find "$build" -type d -name sieve_dispatch -path '*CMakeFiles/*.dir/*' | sort)
    while IFS= read -r shared; do
        target="$(basename "$shared" .shared)"
        target_dir="$(dirname "$(dirname "$shared")")/CMakeFiles/$target.dir"
        printf '%s\t%s\t%s\n' "$target_dir" "$(sed -n 's/^program=//p' "$shared")" "$(sed -n 's/^units=//p' "$shared")"
    done < <(find "$build" -path '*/sieve_dispatch/*.shared' -not -path '*CMakeFiles*' | sort)
}

for build in "$@"; do
    while IFS=$'\t' read -r target_dir program shared_units; do
        target="$(basename "$target_dir" .dir)"
        mapfile -t objects < <({ find "$target_dir" -name '*.o'; tr ';' '\n' <<<"$shared_units" | sed '/^$/d'; } | sort -u)
        : >"$work/symbols"
        for object in "${objects[@]}"; do
            # Code symbols with external linkage: global (T), weak or COMDAT (W), indirect (i).
            nm --defined-only -P "$object" |
                awk -v o="$object" '$2 ~ /^[TWi]$/ { print $1 "\t" o }' >>"$work/symbols"
        done
        sort -u -o "$work/symbols" "$work/symbols"
        # Symbols defined in a per-ISA object and in at least one other object.
        awk -F'\t' '{ n[$1]++; if ($2 ~ /\/sieve_dispatch\//) isa[$1] = 1 }
            END { for (s in n) if (n[s] > 1 && isa[s]) print s }' "$work/symbols" |
            sort >"$work/shared"
        checked=$((checked + 1))
        echo "== $build: $target: ${#objects[@]} objects, $(wc -l <"$work/shared") symbols shared with a per-ISA unit"
        [ -s "$work/shared" ] || continue

        : >"$work/copies"
        for object in "${objects[@]}"; do
            mapfile -t wanted < <(awk -F'\t' -v o="$object" \
                'NR == FNR { want[$1] = 1; next } $2 == o && ($1 in want) { print $1 }' \
                "$work/shared" "$work/symbols")
            [ "${#wanted[@]}" -eq 0 ] || bodies "$object" "${wanted[@]}" >>"$work/copies"
        done
        : >"$work/kept"
        if [ -x "$program" ]; then
            mapfile -t wanted <"$work/shared"
            kept "$program" "${wanted[@]}" >"$work/kept"
        else
            echo "   (no program at $program: judging every copy, not the kept one)"
        fi

        # Verdict per symbol. Levels: 0 baseline, 1 SSE4.2, 2 AVX/AVX2, 3 AVX-512,
        # 4 AVX-512 with VNNI/VBMI2.
        awk -F'\t' '
            function object_level(o) {
                if (o ~ /\/sieve_dispatch\/.*_avx512vnni\.cpp\.o$/) return 4
                if (o ~ /\/sieve_dispatch\/.*_avx512\.cpp\.o$/) return 3
                if (o ~ /\/sieve_dispatch\/.*_avx2\.cpp\.o$/) return 2
                if (o ~ /\/sieve_dispatch\/.*_sse\.cpp\.o$/) return 1
                return 0
            }
            function code_level(body,    n, i, insn, level, ins) {
                level = 0
                n = split(body, ins, "; ")
                for (i = 1; i <= n; i++) {
                    insn = ins[i]; sub(/^[ \t]+/, "", insn)
                    if (insn ~ /^(vpdpbusd|vpdpwssd|vpexpand[bw]|vpcompress[bw]|vpshld|vpshrd)/) return 4
                    if (insn ~ /%zmm|%k[0-7]/) level = 3
                    if (level < 2 && insn ~ /^v|%ymm/) level = 2
                    else if (level < 1 && insn ~ /^(addsub|hadd|hsub|movs[hl]dup|movddup|lddqu|pabs|palignr|phadd|phsub|pmaddubsw|pmulhrsw|pshufb|psign|blend|pblend|dpp|extractps|insertps|movntdqa|mpsadbw|packusdw|pcmpeqq|pextr[bdq]|pinsr[bdq]|phminposuw|pmax[su][bdw]|pmin[su][bdw]|pmov[sz]x|pmuldq|pmulld|ptest|round[ps][sd]|pcmp[ei]str|pcmpgtq|crc32|popcnt)/) level = 1
                }
                return level
            }
            BEGIN { split("baseline SSE4.2 AVX/AVX2 AVX-512 AVX-512-VNNI", name, " ") }
            FILENAME ~ /kept$/ { kept[$1] = code_level($3); has_kept[$1] = 1; next }
            {
                s = $1
                if (!(s in low) || object_level($2) < low[s]) low[s] = object_level($2)
                l = code_level($3)
                if (!(s in high) || l > high[s]) { high[s] = l; high_obj[s] = $2 }
                if ((s in first) && first[s] != $3) differs[s] = 1
                if (!(s in first)) first[s] = $3
            }
            END {
                for (s in low) {
                    if (s in has_kept) {
                        if (kept[s] > low[s])
                            print "FAIL\t" s "\tthe linked copy needs " name[kept[s] + 1] " but " name[low[s] + 1] " code calls it"
                        else if ((s in differs) && high[s] > low[s])
                            print "LATENT\t" s "\tthis link kept a " name[kept[s] + 1] " copy; the one in " high_obj[s] " needs " name[high[s] + 1]
                    } else if ((s in differs) && high[s] > low[s]) {
                        print "FAIL\t" s "\tthe copy in " high_obj[s] " needs " name[high[s] + 1] " but " name[low[s] + 1] " code calls it"
                    }
                }
            }' "$work/copies" "$work/kept" | sort >"$work/verdicts"

        while IFS=$'\t' read -r verdict symbol why; do
            echo "   $verdict: $(echo "$symbol" | c++filt): ${why//"$build"\//}"
            if [ "$verdict" = FAIL ] || [ "$strict" = 1 ]; then
                failures=$((failures + 1))
            else
                latent=$((latent + 1))
            fi
        done <"$work/verdicts"
    done < <(targets_of "$build")
done

if [ "$checked" -eq 0 ]; then
    echo "check-odr: no target with per-ISA units under $*" >&2
    exit 1
fi
if [ "$failures" -ne 0 ]; then
    echo "check-odr: $failures shared symbol(s) with ISA-specific code (DESIGN.md, the ODR trap)"
    exit 1
fi
if [ "$latent" -ne 0 ]; then
    echo "check-odr: ok, with $latent latent case(s): safe in this link only (SIEVE_ODR_STRICT=1 fails them)"
else
    echo "check-odr: ok"
fi
