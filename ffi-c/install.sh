#!/usr/bin/env bash
# Builds the C library from source and installs it under PREFIX with ffi-c/stage.sh (lib/,
# include/, pkg-config and CMake files; see there). The release tarball made by
# scripts/release.sh has the same layout and needs no Rust.
# Then: PKG_CONFIG_PATH=PREFIX/lib/pkgconfig gcc app.c $(pkg-config --cflags --libs rocketmq_ons)
#
# Usage: ffi-c/install.sh PREFIX    (the `dist` profile; ONS_FFI_PROFILE=dev for an unoptimised one)
set -euo pipefail
prefix=${1:?usage: ffi-c/install.sh PREFIX}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
profile=${ONS_FFI_PROFILE:-dist}
case $profile in
  dev) out=debug ;;
  *) out=$profile ;;
esac
target=${CARGO_TARGET_DIR:-$root/target}
[[ $target == /* ]] || target=$root/$target

# Optimised builds get the SONAME of a release (ffi-c/build.rs); the dev build stays without one,
# because ffi-c/run-tests.sh also links programs against target/debug directly.
soname=1
[[ $profile != dev ]] || soname=0
(cd "$root" && ROCKETMQ_ONS_SONAME=$soname cargo build -p rocketmq-ons-ffi --profile "$profile" >&2)
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

"$root/ffi-c/stage.sh" "$target/$out" "$prefix"
echo "installed rocketmq_ons ($profile build) under $prefix" >&2
