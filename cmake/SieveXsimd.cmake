# Finds xsimd's headers and wraps them in an INTERFACE target, used both by sieve's own
# build and by the installed package config (so xsimd is re-found on the consumer's side).
#
#   sieve_define_xsimd_target(<name> [IMPORTED] [HINTS <dir>...])
#
# Sets SIEVE_XSIMD_FOUND in the caller's scope; <name> exists only when it is TRUE.
#
# Why not find_package(xsimd): Debian's xsimd 8.1 target lists `xtl` as a link library
# (`cannot find -lxtl`), and under an aarch64 toolchain file its config, which lives in the
# x86-64 lib dir, is not found at all. xsimd is header-only and arch-independent, so the
# host's headers serve every target.
#
# Set SIEVE_XSIMD_INCLUDE_DIR to the directory holding xsimd/xsimd.hpp to pick another copy.
include_guard(GLOBAL)

function(sieve_define_xsimd_target name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "IMPORTED" "" "HINTS")
    set(SIEVE_XSIMD_FOUND TRUE PARENT_SCOPE)
    if(TARGET ${name})
        return()
    endif()

    # First the normal search (honours a cross toolchain's sysroot), then the host's own
    # include directories, which a cross build of a header-only library may use too.
    find_path(SIEVE_XSIMD_INCLUDE_DIR xsimd/xsimd.hpp
        DOC "Directory containing xsimd/xsimd.hpp")
    find_path(SIEVE_XSIMD_INCLUDE_DIR xsimd/xsimd.hpp
        HINTS /usr/include /usr/local/include ${arg_HINTS}
        NO_CMAKE_FIND_ROOT_PATH)
    if(NOT SIEVE_XSIMD_INCLUDE_DIR)
        set(SIEVE_XSIMD_FOUND FALSE PARENT_SCOPE)
        return()
    endif()

    sieve_shim_include_dir(include_dir "${SIEVE_XSIMD_INCLUDE_DIR}" xsimd)

    if(arg_IMPORTED)
        add_library(${name} INTERFACE IMPORTED)
    else()
        add_library(${name} INTERFACE)
    endif()
    if(include_dir)
        # SYSTEM: xsimd's own warnings are not ours to fix (or to fail -Werror on).
        if(arg_IMPORTED)
            set_property(TARGET ${name} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${include_dir}")
        else()
            target_include_directories(${name} SYSTEM INTERFACE "${include_dir}")
        endif()
    endif()
endfunction()

# The include directory to give the compiler so that <dir>/<subdir> is found, holding
# nothing else. A compiler's implicit include directory (e.g. /usr/include) needs no flag at
# all (CMake would drop it anyway): the result is empty. Any other directory is exposed
# through a shim in the build tree holding only a link to <subdir>, so a prefix such as
# /usr/include can never shadow a cross compiler's own libc headers or bring in unrelated
# libraries.
function(sieve_shim_include_dir out_var dir subdir)
    get_filename_component(found "${dir}" REALPATH)
    foreach(implicit IN LISTS CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
        get_filename_component(implicit "${implicit}" REALPATH)
        if(implicit STREQUAL found)
            set(${out_var} "" PARENT_SCOPE)
            return()
        endif()
    endforeach()
    set(shim "${CMAKE_BINARY_DIR}/_sieve_include_${subdir}")
    set(link "${shim}/${subdir}")
    file(MAKE_DIRECTORY "${shim}")
    if(IS_SYMLINK "${link}")
        file(READ_SYMLINK "${link}" old)
        if(NOT old STREQUAL "${found}/${subdir}")
            file(REMOVE "${link}")  # the chosen copy changed since the last configure
        endif()
    endif()
    if(NOT EXISTS "${link}")
        file(CREATE_LINK "${found}/${subdir}" "${link}" SYMBOLIC)
    endif()
    set(${out_var} "${shim}" PARENT_SCOPE)
endfunction()
