# Runtime ISA dispatch for a target that uses sieve (see include/sieve/dispatch/dispatch.hpp).
#
#   sieve_add_runtime_dispatch(<target> [ISAS <isa>...] [SHARED])
#
# The target's own sources stay baseline (x86-64 or armv8-a). For each ISA this generates
# one tiny unit that instantiates every fast kernel for that ISA's xsimd arch, adds it to
# the target and compiles just that file with the ISA's flags. The target gets
# SIEVE_RUNTIME_DISPATCH=1 and SIEVE_DISPATCH_<ISA>=1 (PUBLIC: every file of a process
# that includes sieve must agree on the dispatch mode, or the inline dispatcher differs
# between files).
#
# ISAS defaults to everything the target processor has: sse avx2 avx512 avx512vnni on
# x86-64, neon neondot on aarch64, nothing elsewhere (the scalar reference then runs).
# ISAS host keeps only those the CPU of the build machine runs (Linux: /proc/cpuinfo; a cross
# build keeps them all): for builds whose binaries run nowhere else, such as sieve's
# sanitizer CI, which need not compile what they can never execute. The cache variable
# SIEVE_DISPATCH_ISAS (empty, or a list, or host) is the default of calls that name no ISAS. The
# int8-only tiers avx512vnni and neondot (int8 kernels with VNNI + VBMI2 / the dot-product
# extension) bring in their base (avx512, neon), whose fp32 kernels they use. Call it from the directory
# that created the target when CMake is older than 3.18 (per-source flags are
# directory-scoped there).
#
# SHARED compiles the units once per build tree for every target that passes SHARED with
# the same ISAs (an object library, sieve_dispatch_<isas>, made by the first such call) and
# links them into each. The units then see sieve's usage requirements, the global flags and
# (if defined) sieve_target_warnings(), but not the target's own compile options or
# definitions: use it only for targets built alike (sieve's tests, benchmarks and tools).
# tools/check-odr.sh finds the targets through sieve_dispatch/<target>.shared.
include_guard(GLOBAL)

function(sieve_add_runtime_dispatch target)
    cmake_parse_arguments(PARSE_ARGV 1 arg "SHARED" "" "ISAS")

    if(DEFINED arg_ISAS)
        set(isas ${arg_ISAS})
    else()
        set(isas ${SIEVE_DISPATCH_ISAS})
    endif()
    if(NOT isas OR isas STREQUAL "host")
        set(only_host "${isas}")
        if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x64)$")
            set(isas sse avx2 avx512 avx512vnni)
        elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
            set(isas neon neondot)
        else()
            set(isas "")
        endif()
        if(only_host)
            _sieve_host_isas(isas)
        endif()
    endif()

    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang|IntelLLVM)$" AND isas)
        message(WARNING "sieve_add_runtime_dispatch(${target}): per-ISA flags are only known "
                        "for GCC and Clang; ${target} runs the scalar reference only.")
        set(isas "")
    endif()

    if("avx512vnni" IN_LIST isas AND NOT "avx512" IN_LIST isas)
        list(APPEND isas avx512)
    endif()
    if("neondot" IN_LIST isas AND NOT "neon" IN_LIST isas)
        list(APPEND isas neon)
    endif()

    target_compile_definitions(${target} PUBLIC SIEVE_RUNTIME_DISPATCH=1)
    set(dir "${CMAKE_CURRENT_BINARY_DIR}/sieve_dispatch")
    if(arg_SHARED AND isas)
        list(JOIN isas "_" key)
        set(units "sieve_dispatch_${key}")
        if(NOT TARGET ${units})
            add_library(${units} OBJECT)
            target_link_libraries(${units} PRIVATE sieve::sieve)
            if(COMMAND sieve_target_warnings)
                sieve_target_warnings(${units})
            endif()
            _sieve_add_dispatch_units(${units} "${dir}" ${isas})
        endif()
        target_sources(${target} PRIVATE $<TARGET_OBJECTS:${units}>)
        foreach(isa IN LISTS isas)
            string(TOUPPER "${isa}" upper)
            target_compile_definitions(${target} PUBLIC SIEVE_DISPATCH_${upper}=1)
        endforeach()
        # Where the program and its per-ISA objects are, for tools/check-odr.sh (the
        # target's own objects are in CMakeFiles/<target>.dir beside this folder).
        file(GENERATE OUTPUT "${dir}/${target}.shared"
             CONTENT "program=$<TARGET_FILE:${target}>\nunits=$<TARGET_OBJECTS:${units}>\n")
    else()
        _sieve_add_dispatch_units(${target} "${dir}" ${isas})
    endif()
endfunction()

# Drops from the list in `var` each ISA this machine's CPU lacks a feature of (the flags
# each ISA's units are compiled with, by their /proc/cpuinfo names).
function(_sieve_host_isas var)
    if(CMAKE_CROSSCOMPILING OR NOT EXISTS /proc/cpuinfo)
        message(STATUS "sieve: dispatch ISAS host: this CPU's features are unknown here, every ISA kept")
        return()
    endif()
    file(STRINGS /proc/cpuinfo line REGEX "^(flags|Features)[ \t]*:" LIMIT_COUNT 1)
    string(REGEX REPLACE "^[^:]*:" "" line "${line}")
    separate_arguments(features UNIX_COMMAND "${line}")
    set(needs_sse sse4_2 popcnt)
    set(needs_avx2 ${needs_sse} avx2 fma)
    set(needs_avx512 ${needs_avx2} avx512f avx512cd avx512dq avx512bw)
    set(needs_avx512vnni ${needs_avx512} avx512vl avx512_vnni avx512_vbmi2)
    set(needs_neon "")  # part of armv8-a
    set(needs_neondot asimddp)
    set(kept "")
    foreach(isa IN LISTS ${var})
        set(has ON)
        foreach(feature IN LISTS needs_${isa})
            if(NOT feature IN_LIST features)
                set(has OFF)
            endif()
        endforeach()
        if(has)
            list(APPEND kept ${isa})
        endif()
    endforeach()
    message(STATUS "sieve: dispatch ISAS host: ${kept} (of ${${var}})")
    set(${var} ${kept} PARENT_SCOPE)
endfunction()

# The per-ISA units of `target` (sources, flags, SIEVE_DISPATCH_<ISA> definitions).
function(_sieve_add_dispatch_units target dir)
    set(isas ${ARGN})
    target_compile_definitions(${target} PUBLIC SIEVE_RUNTIME_DISPATCH=1)
    foreach(isa IN LISTS isas)
        # xsimd arch and compiler flags per ISA. avx512bw needs F/CD/DQ/BW together.
        # POPCNT comes with each level (x86-64-v2 = SSE4.2 + POPCNT, v3 = AVX2 + FMA + ...):
        # the N:M kernels count mask bits with __builtin_popcount in the inner loop. The
        # AVX-512 levels add BMI1 (every AVX-512 core has it): the 2:4 GEMM clears each
        # metadata bit it walks with one blsr.
        set(int8_only "")
        if(isa STREQUAL "sse")
            set(arch "xsimd::sse4_2")
            set(flags -msse4.2 -mpopcnt)
        elseif(isa STREQUAL "avx2")
            set(arch "xsimd::fma3<xsimd::avx2>")
            set(flags -mavx2 -mfma -mpopcnt)
        elseif(isa MATCHES "^avx512(vnni)?$")
            if(isa STREQUAL "avx512vnni")
                set(arch "sieve::kernels::avx512vnni")
                set(flags -mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl -mavx512vnni -mavx512vbmi2
                          -mfma -mpopcnt -mbmi)
                set(int8_only "#define SIEVE_INSTANTIATE_INT8_ONLY 1\n")
            else()
                set(arch "xsimd::avx512bw")
                set(flags -mavx512f -mavx512cd -mavx512dq -mavx512bw -mfma -mpopcnt -mbmi)
            endif()
            # GCC 12's own AVX-512 intrinsics trip -W(maybe-)uninitialized once inlined
            # (`__m512 __Y = __Y;` in _mm512_undefined_ps; GCC bug 105593), which breaks
            # -Werror builds. The same kernels keep the warning in the other ISA units.
            if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
                list(APPEND flags -Wno-maybe-uninitialized -Wno-uninitialized)
            endif()
        elseif(isa STREQUAL "neon")
            set(arch "xsimd::neon64")
            set(flags "")  # Advanced SIMD is part of armv8-a
        elseif(isa STREQUAL "neondot")
            set(arch "sieve::kernels::neondot")
            set(flags -march=armv8.2-a+dotprod)
            set(int8_only "#define SIEVE_INSTANTIATE_INT8_ONLY 1\n")
        else()
            message(FATAL_ERROR "sieve_add_runtime_dispatch: unknown ISA '${isa}' "
                                "(expected sse, avx2, avx512, avx512vnni, neon or neondot)")
        endif()

        # Optimise the per-ISA units even in Debug builds: at -O0 GCC emits xsimd's small
        # helpers (bit_cast, math constants) as shared weak symbols compiled with this ISA's
        # flags, which the linker may then hand to a baseline caller (tools/check-odr.sh).
        if(isa MATCHES "^(sse|avx2|avx512|avx512vnni)$")
            list(APPEND flags $<$<CONFIG:Debug>:-O1>)
        endif()

        # Written through configure_file so an unchanged unit keeps its timestamp.
        set(unit "${dir}/${target}_${isa}.cpp")
        file(WRITE "${unit}.in"
            "// Generated by sieve_add_runtime_dispatch(): the ${isa} kernels of ${target}.\n"
            "#define SIEVE_INSTANTIATE_ARCH ${arch}\n"
            "${int8_only}"
            "#include <sieve/dispatch/instantiate.hpp>\n")
        configure_file("${unit}.in" "${unit}" COPYONLY)

        target_sources(${target} PRIVATE "${unit}")
        if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.18)
            set_source_files_properties("${unit}" TARGET_DIRECTORY ${target}
                PROPERTIES COMPILE_OPTIONS "${flags}")
        else()
            set_source_files_properties("${unit}" PROPERTIES COMPILE_OPTIONS "${flags}")
        endif()
        string(TOUPPER "${isa}" upper)
        target_compile_definitions(${target} PUBLIC SIEVE_DISPATCH_${upper}=1)
    endforeach()
endfunction()
