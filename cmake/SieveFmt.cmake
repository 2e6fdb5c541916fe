# fmt for sieve's tests, examples and benchmarks (never for the library itself).
#
#   sieve_find_fmt()  ->  SIEVE_FMT_FOUND, and target sieve_fmt (header-only fmt) when found
#
# Header-only fmt builds for any target, so the aarch64 cross build gets fmt too although
# Debian ships no aarch64 libfmt: Debian's fmt::fmt-header-only target when its config is
# found (host builds), else fmt's headers found directly with FMT_HEADER_ONLY=1 (cross
# builds: the x86-64 fmt config is not searched there). Benchmarks, host-only, may link the
# compiled fmt::fmt instead.
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/SieveXsimd.cmake)  # sieve_shim_include_dir()

function(sieve_find_fmt)
    if(TARGET sieve_fmt)
        set(SIEVE_FMT_FOUND TRUE PARENT_SCOPE)
        return()
    endif()
    find_package(fmt 8 CONFIG QUIET)
    if(TARGET fmt::fmt-header-only)
        add_library(sieve_fmt INTERFACE)
        target_link_libraries(sieve_fmt INTERFACE fmt::fmt-header-only)
        set(how "fmt ${fmt_VERSION} (fmt::fmt-header-only)")
    else()
        find_path(SIEVE_FMT_INCLUDE_DIR fmt/format.h DOC "Directory containing fmt/format.h")
        find_path(SIEVE_FMT_INCLUDE_DIR fmt/format.h NO_CMAKE_FIND_ROOT_PATH)
        if(NOT SIEVE_FMT_INCLUDE_DIR)
            set(SIEVE_FMT_FOUND FALSE PARENT_SCOPE)
            return()
        endif()
        # fmt 8 or newer: FMT_VERSION is major * 10000 + minor * 100 + patch.
        file(STRINGS "${SIEVE_FMT_INCLUDE_DIR}/fmt/core.h" line REGEX "^#define FMT_VERSION [0-9]+")
        string(REGEX MATCH "[0-9]+" version "${line}")
        if(NOT version OR version LESS 80000)
            message(STATUS "sieve: fmt in ${SIEVE_FMT_INCLUDE_DIR} is older than 8 (${version}): ignored")
            set(SIEVE_FMT_FOUND FALSE PARENT_SCOPE)
            return()
        endif()
        sieve_shim_include_dir(dir "${SIEVE_FMT_INCLUDE_DIR}" fmt)
        add_library(sieve_fmt INTERFACE)
        target_compile_definitions(sieve_fmt INTERFACE FMT_HEADER_ONLY=1)
        if(dir)
            target_include_directories(sieve_fmt SYSTEM INTERFACE "${dir}")
        endif()
        set(how "fmt headers in ${SIEVE_FMT_INCLUDE_DIR} (FMT_VERSION ${version}, header-only)")
    endif()
    message(STATUS "sieve: ${how}")
    set(SIEVE_FMT_FOUND TRUE PARENT_SCOPE)
endfunction()
