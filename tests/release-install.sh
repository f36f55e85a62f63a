#!/usr/bin/env bash
# Install tests of the release artifacts that scripts/release.sh put in DIST. Each is installed
# into a fresh directory the way a user would, on a PATH without cargo or rustc
# (tests/harness/without-rust.sh), and used against the cluster in NAMESRV_ADDR:
#
#   C/C++   unpack the tarball; build the README's C and C++ programs with pkg-config (shared
#           library) and with CMake (C shared, C++ static); run them
#   CLI     unpack; send three messages and consume them back
#   Python  py/run-tests.sh with PY_WHEEL: a fresh virtualenv, the README's snippet, an asyncio
#           consumer, mypy and the package's pytest suite against the installed wheel
#   Node    node/run-tests.sh with ONS_NODE_DIST: the two npm tarballs installed into a fresh
#           directory, the README's snippet, tsc, the node --test suite against that install
#
# Run it under the harness:  tests/harness/rmq.sh run -- tests/release-install.sh dist
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ ${ONS_WITHOUT_RUST:-0} != 1 ]]; then
  exec "$root/tests/harness/without-rust.sh" env ONS_WITHOUT_RUST=1 "$0" "$@"
fi
dist=$(cd "${1:?usage: tests/release-install.sh DIST}" && pwd)
: "${NAMESRV_ADDR:?run me through tests/harness/rmq.sh run}"
cd "$root"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
work=$(mktemp -d "${TMPDIR:-/tmp}/rocketmq-ons-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '\n=== release install: %s ===\n' "$*" >&2; }
seconds_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f s", e - s }'; }
mib() { du -sb "$1" | awk '{ printf "%.1f MiB", $1 / 1048576 }'; }

step "C/C++: unpack rocketmq_ons-$version-linux-x86_64.tar.gz"
started=$(date +%s.%N)
tar -C "$work" -xzf "$dist/rocketmq_ons-$version-linux-x86_64.tar.gz"
prefix=$work/rocketmq_ons-$version-linux-x86_64
echo "unpacked in $(seconds_since "$started"): $(mib "$prefix")" >&2
c_build=$work/c
mkdir -p "$c_build"
tests/harness/readme-blocks.sh "C and C++" c >"$c_build/readme.c"
tests/harness/readme-blocks.sh "C and C++" cpp >"$c_build/readme.cpp"

step "C/C++: the README's programs with pkg-config"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046 # word splitting of the flags is the point
gcc -std=c11 -Wall -Wextra -Werror -x c "$c_build/readme.c" -o "$c_build/readme_c" \
  $(pkg-config --cflags --libs rocketmq_ons)
# shellcheck disable=SC2046
g++ -std=c++11 -Wall -Wextra -Werror -x c++ "$c_build/readme.cpp" -o "$c_build/readme_cpp" \
  $(pkg-config --cflags --libs rocketmq_ons)
soname=$(readelf -d "$prefix/lib/librocketmq_ons.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
readelf -d "$c_build/readme_c" | grep NEEDED | grep -qF "[$soname]" ||
  { echo "readme_c does not ask for the library by its SONAME ($soname)" >&2; exit 1; }
timeout 60 "$c_build/readme_c"
timeout 60 "$c_build/readme_cpp"

step "C/C++: the README's programs with CMake (C shared, C++ static)"
cmake -S ffi-c/tests/cmake -B "$c_build/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DONS_C_SOURCE="$c_build/readme.c" -DONS_CXX_SOURCE="$c_build/readme.cpp" >/dev/null
cmake --build "$c_build/cmake" >/dev/null
timeout 60 "$c_build/cmake/send_c"
timeout 60 "$c_build/cmake/send_cpp_static"
echo "statically linked C++ program: $(mib "$c_build/cmake/send_cpp_static") (not stripped)" >&2

step "CLI: unpack ons-$version-linux-x86_64.tar.gz, send and consume"
tar -C "$work" -xzf "$dist/ons-$version-linux-x86_64.tar.gz"
ons=$work/ons-$version-linux-x86_64/ons
topic=ReleaseCli$RANDOM$RANDOM
sent=$(timeout 60 "$ons" send --topic "$topic" --body "from the released CLI" --count 3 | grep -c '"msgId"' || true)
[[ $sent == 3 ]] || { echo "ons send printed $sent results, expected 3" >&2; exit 1; }
consumed=$(timeout 90 "$ons" consume --topic "$topic" --group "GID_release_cli_$RANDOM" --from first --count 3 --json |
  grep -c '"bodyUtf8":"from the released CLI"' || true)
[[ $consumed == 3 ]] || { echo "ons consume printed $consumed of the 3 messages" >&2; exit 1; }
echo "ons sent and consumed 3 messages on $topic" >&2

step "Python: the wheel"
PY_WHEEL=$(echo "$dist"/rocketmq_ons-"$version"-*.whl) py/run-tests.sh

step "Node: the npm tarballs"
ONS_NODE_DIST=$dist node/run-tests.sh

step "every release artifact installed and worked without Rust"
