#!/usr/bin/env bash
# Builds tests/bench/cpp-peer (see the header of cpp-peer.c) against the librocketmq.so that the
# PyPI wheel rocketmq==0.4.4 bundles (the Apache rocketmq-client-cpp C API).
#
#   tests/bench/cpp-peer/build.sh OUT
#
# Installs rocketmq==0.4.4 into LEGACY_VENV (default /tmp/rocketmq-legacy-venv, the virtualenv
# py/bench/run.sh uses) when it is not there yet, finds librocketmq.so in it, and compiles
# cpp-peer.c with cc (CC to override) into OUT, linked to that library with an rpath to its
# directory (the library's own dependency, a bundled libz, is found through its own rpath).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($# == 1)) || { echo "usage: $0 OUT" >&2; exit 2; }
out=$1
venv=${LEGACY_VENV:-/tmp/rocketmq-legacy-venv}
if ! "$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("rocketmq") != "0.4.4")' 2>/dev/null; then
  echo "installing rocketmq==0.4.4 into $venv" >&2
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q rocketmq==0.4.4
fi
lib=$("$venv/bin/python" - <<'PY'
import importlib.metadata as m, pathlib
files = [f for f in m.files("rocketmq") if f.name == "librocketmq.so"]
print(pathlib.Path(files[0].locate()).resolve() if files else "")
PY
)
[[ -f $lib ]] || { echo "$0: no librocketmq.so in the rocketmq package of $venv" >&2; exit 1; }
libdir=$(dirname "$lib")
mkdir -p "$(dirname "$out")"
# The library's soname is its file name, so -l:librocketmq.so links it by that name.
"${CC:-cc}" -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread -o "$out" "$here/cpp-peer.c" \
  -L"$libdir" -l:librocketmq.so -Wl,-rpath,"$libdir"
echo "built $out against $lib" >&2
