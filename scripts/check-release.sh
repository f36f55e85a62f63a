#!/usr/bin/env bash
# Checks the artifacts scripts/release.sh left in DIST (it runs this last; the install tests in
# tests/release-install.sh then use them): names and versions, glibc symbol versions no newer
# than the baseline, no debug sections, the C library's SONAME, symlinks and exported symbols
# (ons_* only), the CLI statically linked, the size limits of docs/releasing.md. Prints one line
# per artifact with its size.
#
# Usage: scripts/check-release.sh DIST
set -euo pipefail
dist=$(cd "${1:?usage: scripts/check-release.sh DIST}" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
glibc_baseline=2.17
shared_library_limit=$((8 * 1024 * 1024))
problems=0
fail() { echo "check-release: $*" >&2; problems=$((problems + 1)); }
size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ELF checks shared by every native file: newest glibc symbol version, debug sections.
check_elf() { # FILE LABEL
  local file=$1 label=$2 newest
  newest=$(objdump -T "$file" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  if [[ -n $newest && $(printf '%s\n%s\n' "$newest" "$glibc_baseline" | sort -V | tail -1) != "$glibc_baseline" ]]; then
    fail "$label needs GLIBC_$newest (baseline $glibc_baseline)"
  fi
  if readelf -S "$file" | grep -q '\.debug_'; then
    fail "$label has debug sections"
  fi
}

expect_one() { # VAR GLOB...: sets VAR to the one file matching, counts a problem otherwise
  local var=$1
  shift
  if (($# != 1)) || [[ ! -e $1 ]]; then
    fail "expected one file matching $*"
    return 1
  fi
  printf -v "$var" '%s' "$1"
}

report() { printf '%-70s %s\n' "$(basename "$1")" "$(mib "$(size "$1")")"; }

# Python: abi3, manylinux2014, the workspace version; the extension inside is checked as ELF.
if expect_one wheel "$dist"/rocketmq_ons-"$version"-cp39-abi3-manylinux2014_x86_64*.whl; then
  report "$wheel"
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2])' "$wheel" "$work/wheel"
  expect_one ext "$work"/wheel/rocketmq_ons/_native*.so && check_elf "$ext" "wheel: $(basename "$ext")"
  grep -qx "Version: $version" "$work"/wheel/rocketmq_ons-*.dist-info/METADATA || fail "wheel METADATA is not version $version"
fi
if expect_one sdist "$dist/rocketmq_ons-$version.tar.gz"; then
  report "$sdist"
fi

# C/C++: SONAME and symlinks, exports, size.
c_name=rocketmq_ons-$version-linux-x86_64
if expect_one tarball "$dist/$c_name.tar.gz"; then
  report "$tarball"
  tar -C "$work" -xzf "$tarball"
  lib=$work/$c_name/lib
  abi=$version
  [[ $version == 0.* ]] && abi=$(cut -d. -f1-2 <<<"$version") || abi=${version%%.*}
  real=$lib/librocketmq_ons.so.$version
  if [[ -f $real && ! -L $real ]]; then
    check_elf "$real" "librocketmq_ons.so.$version"
    soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [[ $soname == "librocketmq_ons.so.$abi" ]] || fail "SONAME is '$soname', expected librocketmq_ons.so.$abi"
    [[ $(readlink "$lib/librocketmq_ons.so.$abi") == "librocketmq_ons.so.$version" ]] || fail "librocketmq_ons.so.$abi does not link to the library"
    [[ $(readlink "$lib/librocketmq_ons.so") == "librocketmq_ons.so.$abi" ]] || fail "librocketmq_ons.so does not link to the SONAME"
    others=$(nm -D --defined-only "$real" | awk '{print $3}' | grep -v '^ons_' || true)
    [[ -z $others ]] || fail "exports besides ons_*: $(head -5 <<<"$others" | tr '\n' ' ')"
    (($(size "$real") <= shared_library_limit)) || fail "librocketmq_ons.so is $(mib "$(size "$real")") (limit $(mib $shared_library_limit))"
    printf '  %-68s %s, %s exported ons_* functions\n' "lib/librocketmq_ons.so.$version" "$(mib "$(size "$real")")" \
      "$(nm -D --defined-only "$real" | grep -c ' ons_')"
    printf '  %-68s %s\n' "lib/librocketmq_ons.a" "$(mib "$(size "$lib/librocketmq_ons.a")")"
  else
    fail "$c_name.tar.gz has no lib/librocketmq_ons.so.$version"
  fi
  for f in include/rocketmq_ons.h include/ons/ONSFactory.h lib/pkgconfig/rocketmq_ons.pc \
    lib/cmake/rocketmq_ons/rocketmq_onsConfig.cmake share/doc/rocketmq_ons/LICENSE; do
    [[ -f $work/$c_name/$f ]] || fail "$c_name.tar.gz has no $f"
  done
fi

# CLI: one static executable.
cli_name=ons-$version-linux-x86_64
if expect_one tarball "$dist/$cli_name.tar.gz"; then
  report "$tarball"
  tar -C "$work" -xzf "$tarball"
  ons=$work/$cli_name/ons
  if [[ -x $ons ]]; then
    readelf -d "$ons" 2>/dev/null | grep -q NEEDED && fail "ons is dynamically linked"
    readelf -S "$ons" | grep -q '\.debug_' && fail "ons has debug sections"
    printf '  %-68s %s\n' "ons" "$(mib "$(size "$ons")")"
  else
    fail "$cli_name.tar.gz has no executable ons"
  fi
fi

# npm: the main package holds no addon; the platform package holds exactly one.
if expect_one main "$dist/rocketmq-ons-$version.tgz"; then
  report "$main"
  ! tar -tzf "$main" | grep -q '\.node$' || fail "$(basename "$main") contains a .node file"
fi
if expect_one platform "$dist/rocketmq-ons-linux-x64-gnu-$version.tgz"; then
  report "$platform"
  mkdir -p "$work/npm" && tar -C "$work/npm" -xzf "$platform"
  expect_one addon "$work"/npm/package/*.node && check_elf "$addon" "npm addon"
fi

if ((problems > 0)); then
  echo "check-release: $problems problem(s) in $dist" >&2
  exit 1
fi
echo "check-release: every artifact of $version in $dist passed"
