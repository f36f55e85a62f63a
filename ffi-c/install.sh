#!/usr/bin/env bash
# Builds the C library and installs it under PREFIX:
#   PREFIX/lib/librocketmq_ons.so, PREFIX/lib/librocketmq_ons.a
#   PREFIX/include/rocketmq_ons.h, PREFIX/include/ons/ONSFactory.h (C++ wrapper)
#   PREFIX/lib/pkgconfig/rocketmq_ons.pc
#   PREFIX/lib/cmake/rocketmq_ons/rocketmq_onsConfig.cmake (+ ConfigVersion)
# Then: PKG_CONFIG_PATH=PREFIX/lib/pkgconfig gcc app.c $(pkg-config --cflags --libs rocketmq_ons)
#
# Usage: ffi-c/install.sh PREFIX        (ONS_FFI_PROFILE=dev installs an unoptimised build)
set -euo pipefail
prefix=${1:?usage: ffi-c/install.sh PREFIX}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
profile=${ONS_FFI_PROFILE:-release}
case $profile in
  dev) out=debug ;;
  *) out=$profile ;;
esac
target=${CARGO_TARGET_DIR:-$root/target}
[[ $target == /* ]] || target=$root/$target

(cd "$root" && cargo build -p rocketmq-ons-ffi --profile "$profile" >&2)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

install -d "$prefix/lib/pkgconfig" "$prefix/lib/cmake/rocketmq_ons" "$prefix/include/ons"
install -m 755 "$target/$out/librocketmq_ons.so" "$prefix/lib/"
install -m 644 "$target/$out/librocketmq_ons.a" "$prefix/lib/"
install -m 644 "$root/include/rocketmq_ons.h" "$prefix/include/"
install -m 644 "$root/include/ons/"*.h "$prefix/include/ons/"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" "$root/ffi-c/rocketmq_ons.pc.in" \
  >"$prefix/lib/pkgconfig/rocketmq_ons.pc"
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
echo "installed rocketmq_ons $version ($profile) under $prefix" >&2
