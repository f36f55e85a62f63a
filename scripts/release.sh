#!/usr/bin/env bash
# Builds every artifact of a release into OUT_DIR (default dist/), from a checkout, on Linux
# x86_64 with Rust and Python 3 (docs/releasing.md says what each artifact holds and why it is
# built this way):
#
#   rocketmq_ons-V-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl   Python ≥ 3.9
#   rocketmq_ons-V.tar.gz                                                     Python sdist
#   rocketmq-ons-V.tgz, rocketmq-ons-linux-x64-gnu-V.tgz                      npm packages
#   rocketmq_ons-V-linux-x86_64.tar.gz                                        C/C++ library
#   ons-V-linux-x86_64.tar.gz                                                 static `ons` CLI
#   SHA256SUMS
#
# The native code is linked by zig (cargo-zigbuild, and maturin's --zig for the wheel) against
# glibc 2.17's symbol versions, so the wheel is honestly manylinux2014 and the addon and the C
# library load on the same distributions; the CLI is linked statically against musl. The tools
# come from PyPI into a virtualenv under target/ (pinned below), and rustup adds the musl target.
#
# Usage: scripts/release.sh [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
[[ $target_dir == /* ]] || target_dir=$root/$target_dir
tools=$target_dir/release-tools
step() { printf '\n=== release: %s ===\n' "$*" >&2; }

# Pinned so that a release is reproducible from its tag; see docs/releasing.md to change them.
cargo_zigbuild_version=0.24.1
ziglang_version=0.17.1
maturin_version=1.16.0
gnu_target=x86_64-unknown-linux-gnu
glibc_baseline=2.17
musl_target=x86_64-unknown-linux-musl

step "versions agree"
scripts/check-versions.sh
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

step "tools: cargo-zigbuild $cargo_zigbuild_version, ziglang $ziglang_version, maturin $maturin_version, rust-std for $musl_target"
if [[ ! -x $tools/bin/python ]]; then
  python3 -m venv "$tools"
fi
"$tools/bin/python" -m pip install -q --disable-pip-version-check \
  "cargo-zigbuild==$cargo_zigbuild_version" "ziglang==$ziglang_version" "maturin==$maturin_version"
rustup target add "$musl_target" >/dev/null
export PATH=$tools/bin:$PATH

rm -f "$out"/rocketmq_ons-* "$out"/rocketmq-ons-* "$out"/ons-* "$out"/SHA256SUMS
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

step "C library and Node addon (glibc $glibc_baseline symbol versions)"
ROCKETMQ_ONS_SONAME=1 cargo zigbuild --profile dist --target "$gnu_target.$glibc_baseline" \
  -p rocketmq-ons-ffi -p rocketmq-ons-node
built=$target_dir/$gnu_target/dist

step "Python wheel (abi3, manylinux2014) and sdist"
(cd py && maturin build --profile dist --zig --compatibility manylinux2014 --target "$gnu_target" \
  --out "$out")
(cd py && maturin sdist --out "$out")

step "ons CLI (static, $musl_target)"
cargo zigbuild --profile dist --target "$musl_target" -p ons-cli

step "C tarball"
c_name=rocketmq_ons-$version-linux-x86_64
ffi-c/stage.sh "$built" "$staging/$c_name"
# The static library keeps the standard library's debug sections unless told otherwise.
strip --strip-debug "$staging/$c_name/lib/librocketmq_ons.a"
install -d "$staging/$c_name/share/doc/rocketmq_ons"
install -m 644 LICENSE README.md CHANGELOG.md "$staging/$c_name/share/doc/rocketmq_ons/"
tar -C "$staging" -czf "$out/$c_name.tar.gz" --owner=0 --group=0 "$c_name"

step "CLI tarball"
cli_name=ons-$version-linux-x86_64
install -d "$staging/$cli_name"
install -m 755 "$target_dir/$musl_target/dist/ons" "$staging/$cli_name/ons"
install -m 644 LICENSE README.md CHANGELOG.md "$staging/$cli_name/"
tar -C "$staging" -czf "$out/$cli_name.tar.gz" --owner=0 --group=0 "$cli_name"

step "npm packages"
node node/scripts/pack.js --addon "$built/librocketmq_ons_node.so" --out "$out"

step "checks and checksums"
scripts/check-release.sh "$out"
(cd "$out" && sha256sum -- *.whl *.tar.gz *.tgz >SHA256SUMS)
ls -l "$out" >&2
