#!/usr/bin/env bash
# Lays out a built C library under PREFIX (install.sh and scripts/release.sh both use it):
#   PREFIX/lib/librocketmq_ons.so[.ABI[.PATCH]], PREFIX/lib/librocketmq_ons.a
#   PREFIX/include/rocketmq_ons.h, PREFIX/include/ons/*.h (the C++ wrapper)
#   PREFIX/lib/pkgconfig/rocketmq_ons.pc
#   PREFIX/lib/cmake/rocketmq_ons/rocketmq_onsConfig.cmake (+ ConfigVersion)
# The pkg-config and CMake files locate the prefix from their own path, so the tree works
# wherever it is moved or unpacked.
#
# When the shared library carries a SONAME (release builds, see ffi-c/build.rs), the real file
# is librocketmq_ons.so.VERSION with the SONAME and the plain .so as symlinks, as distributions
# install libraries.
#
# Usage: ffi-c/stage.sh LIB_DIR PREFIX     (LIB_DIR holds librocketmq_ons.so and .a)
set -euo pipefail
lib_dir=${1:?usage: ffi-c/stage.sh LIB_DIR PREFIX}
prefix=${2:?usage: ffi-c/stage.sh LIB_DIR PREFIX}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
[[ -n $version ]] || { echo "stage.sh: no version in $root/Cargo.toml" >&2; exit 1; }

install -d "$prefix/lib/pkgconfig" "$prefix/lib/cmake/rocketmq_ons" "$prefix/include/ons"
soname=$(readelf -d "$lib_dir/librocketmq_ons.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [[ -n $soname ]]; then
  install -m 755 "$lib_dir/librocketmq_ons.so" "$prefix/lib/librocketmq_ons.so.$version"
  [[ $soname == "librocketmq_ons.so.$version" ]] || ln -sfn "librocketmq_ons.so.$version" "$prefix/lib/$soname"
  ln -sfn "$soname" "$prefix/lib/librocketmq_ons.so"
else
  install -m 755 "$lib_dir/librocketmq_ons.so" "$prefix/lib/librocketmq_ons.so"
fi
install -m 644 "$lib_dir/librocketmq_ons.a" "$prefix/lib/"
install -m 644 "$root/include/rocketmq_ons.h" "$prefix/include/"
install -m 644 "$root/include/ons/"*.h "$prefix/include/ons/"
sed -e "s|@VERSION@|$version|g" "$root/ffi-c/rocketmq_ons.pc.in" >"$prefix/lib/pkgconfig/rocketmq_ons.pc"
sed -e "s|@VERSION@|$version|g" "$root/ffi-c/rocketmq_onsConfig.cmake.in" \
  >"$prefix/lib/cmake/rocketmq_ons/rocketmq_onsConfig.cmake"
cat >"$prefix/lib/cmake/rocketmq_ons/rocketmq_onsConfigVersion.cmake" <<CMAKE
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
CMAKE
