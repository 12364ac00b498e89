# toolchain-aarch64.cmake - cross-builds fluidtune for aarch64 Linux with Debian's gcc-aarch64-linux-gnu,
# linking the arm64 multiarch -dev packages (libprotobuf-c-dev:arm64, libsqlite3-dev:arm64,
# libcmocka-dev:arm64) and running test binaries under qemu-user.
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(FT_CROSS_TRIPLET aarch64-linux-gnu)
# -DCMAKE_C_COMPILER=clang works too: the target below makes it cross-compile, and it finds the
# cross gcc's libc, crt files and libgcc by itself.
if(NOT CMAKE_C_COMPILER)
  set(CMAKE_C_COMPILER ${FT_CROSS_TRIPLET}-gcc)
endif()
set(CMAKE_C_COMPILER_TARGET ${FT_CROSS_TRIPLET})
# Debian multiarch: the arm64 libraries live in /usr/lib/aarch64-linux-gnu beside the host's, and
# their headers in /usr/include (arch independent) and /usr/include/aarch64-linux-gnu, which the
# cross gcc already searches. The library architecture keeps find_library away from the host's
# x86_64-linux-gnu directory.
set(CMAKE_LIBRARY_ARCHITECTURE ${FT_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH /usr/${FT_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# Build tools such as protoc-c run on the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# ctest (and tests/CMakeLists.txt, for the command-line scripts) run target binaries through this.
# No -L /usr/aarch64-linux-gnu: the binaries run on the multiarch runtime (libc6:arm64, pulled in
# by the -dev:arm64 packages), whose /lib/ld-linux-aarch64.so.1 matches the libc.so.6 it then finds
# through /etc/ld.so.cache. With -L, qemu loads the cross package's older ld.so, which pairs with
# that newer libc and hangs every fork()ed child (Debian 12: 2.36-8cross1 against 2.36-9+deb12u*).
find_program(FT_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(FT_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${FT_QEMU_AARCH64}")
endif()
