# Cross-compiles for aarch64 Linux with Debian's g++-aarch64-linux-gnu; ctest runs the
# results under qemu-aarch64 (Debian: qemu-user). Use:
#   cmake -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# The aarch64 libc and libstdc++ live under /usr/aarch64-linux-gnu (libc6-dev-arm64-cross).
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
# Build tools (qemu, ...) are host programs; libraries must be aarch64 ones.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
# Header-only dependencies (xsimd, Catch2 v2, fmt in header-only mode) are installed once,
# for the host, in /usr/include and /usr/lib/cmake: let the cross build see them too. The
# cross g++ already searches /usr/include last, after its own libc headers. Arch-specific
# packages (Google Benchmark, OpenBLAS, oneDNN, fmt's compiled library) have their configs
# under /usr/lib/x86_64-linux-gnu, which an aarch64 build does not search.
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# How CMake (add_test with a target, catch_discover_tests) runs an aarch64 program here.
# -L: where qemu finds the aarch64 dynamic loader and shared libraries.
find_program(SIEVE_QEMU_AARCH64 qemu-aarch64)
if(SIEVE_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${SIEVE_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu")
else()
    set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-aarch64;-L;/usr/aarch64-linux-gnu")
endif()
