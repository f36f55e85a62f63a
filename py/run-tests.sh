#!/usr/bin/env bash
# The Python package's checks, against the cluster in NAMESRV_ADDR:
#
#   tests/harness/rmq.sh run --auto-ports --broker-conf transactionCheckInterval=3000 -- py/run-tests.sh
#
# Two ways to get the package into a virtualenv:
#
# * From source (default): build and install the wheel (pip install ./py, as a user of a clone
#   would). PY_VENV (default /tmp/rocketmq-ons-py-venv) is reused between runs;
#   PY_SKIP_INSTALL=1 skips the build when the venv already has the package. The wheel is built
#   with the dev profile (PY_BUILD_PROFILE=release for an optimized one): the tests do not need
#   speed, and the dev build reuses what `cargo test` already compiled in the same target dir.
# * PY_WHEEL=/path/to/rocketmq_ons-*.whl: the install test of a released wheel. A fresh venv
#   (deleted afterwards), `pip install --no-index --no-deps` of that file, and every step from
#   there on runs through tests/harness/without-rust.sh, so a wheel that needs a build fails.
#   Its `rocketmq_ons.__version__` must be the version in the file name; the install time is
#   printed. (pytest and mypy come from PyPI.)
#
# Then, in both: the README's Python section and py/examples/asyncio_consumer.py run against
# the cluster, mypy checks the stubs, the package as installed, the examples and the tests,
# and pytest runs the package's suite against the installed package (never py/python: the
# package's path is printed and checked). Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
python=${PYTHON:-python3}
step() { printf '\n=== %s ===\n' "$*" >&2; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Nothing from this clone may reach the interpreter but what is installed.
unset PYTHONPATH
: "${NAMESRV_ADDR:?NAMESRV_ADDR is not set: run through tests/harness/rmq.sh run (see above)}"

if [[ -n ${PY_WHEEL:-} ]]; then
  wheel=$(cd "$(dirname "$PY_WHEEL")" && pwd)/$(basename "$PY_WHEEL")
  [[ -f $wheel && $wheel == *.whl ]] || { echo "PY_WHEEL=$PY_WHEEL is not a wheel file" >&2; exit 2; }
  # rocketmq_ons-VERSION-TAGS.whl (the wheel file name convention)
  wheel_version=$(basename "$wheel" | cut -d- -f2)
  run=("$repo/tests/harness/without-rust.sh")
  venv=$(mktemp -d "${TMPDIR:-/tmp}/rocketmq-ons-wheel-venv.XXXXXX")
  trap 'rm -rf "$venv"' EXIT
  step "fresh virtualenv $venv; pip install $(basename "$wheel") (no index, no dependencies, no Rust on PATH)"
  "${run[@]}" "$python" -m venv "$venv"
  started=$(now_ms)
  "${run[@]}" "$venv/bin/python" -m pip install -q --no-index --no-deps "$wheel"
  echo "wheel installed in $(($(now_ms) - started)) ms" >&2
  "${run[@]}" "$venv/bin/python" -m pip check >&2
  installed_version=$("${run[@]}" "$venv/bin/python" -c 'import rocketmq_ons; print(rocketmq_ons.__version__)')
  if [[ $installed_version != "$wheel_version" ]]; then
    echo "rocketmq_ons.__version__ is $installed_version, the wheel's file name says $wheel_version" >&2
    exit 1
  fi
  echo "rocketmq_ons.__version__ $installed_version = the wheel's version" >&2
  "${run[@]}" "$venv/bin/python" -m pip install -q pytest mypy
else
  run=(env)
  venv=${PY_VENV:-/tmp/rocketmq-ons-py-venv}
  if [[ ! -x $venv/bin/python ]]; then
    step "virtualenv $venv"
    "$python" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$venv/bin/python" -m pip install -q pytest mypy
  if [[ ${PY_SKIP_INSTALL:-0} != 1 ]]; then
    step "pip install ./py (builds the wheel with maturin)"
    started=$(now_ms)
    MATURIN_PEP517_ARGS="--profile ${PY_BUILD_PROFILE:-dev}" \
      "$venv/bin/python" -m pip install -q --force-reinstall "$here"
    echo "wheel built and installed in $(($(now_ms) - started)) ms" >&2
  fi
fi
py=("${run[@]}" "$venv/bin/python")

# The user-like steps run in a scratch directory, away from py/python.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rocketmq-ons-py-scratch.XXXXXX")
trap 'rm -rf "$scratch" ${PY_WHEEL:+"$venv"}' EXIT

step "the installed package"
package_file=$(cd "$here/tests" && "${py[@]}" -c 'import rocketmq_ons; print(rocketmq_ons.__file__)')
echo "rocketmq_ons imported from $package_file" >&2
case $package_file in
  "$venv"/*/site-packages/rocketmq_ons/__init__.py) ;;
  *) echo "rocketmq_ons is not the one installed in $venv" >&2; exit 1 ;;
esac

step "the README's Python section and py/examples/asyncio_consumer.py against $NAMESRV_ADDR"
# The fenced python blocks of the README's "Python" section, pointed at this cluster.
"$repo/tests/harness/readme-blocks.sh" Python python >"$scratch/readme.py"
[[ -s $scratch/readme.py ]] || { echo "no python block in the README's Python section" >&2; exit 1; }
(cd "$scratch" && timeout 120 "${py[@]}" readme.py)
cp "$here/examples/asyncio_consumer.py" "$scratch/"
(cd "$scratch" && timeout 120 "${py[@]}" asyncio_consumer.py --timeout 60)

step "mypy (stubs and package as installed, the examples, the tests)"
# Run from py/, where python/ is not on the path: mypy sees the installed package (its .pyi and
# py.typed), as a user's type checker does.
cd "$here"
"${py[@]}" -m mypy --strict --no-incremental -p rocketmq_ons
"${py[@]}" -m mypy --strict --no-incremental examples/quickstart.py examples/asyncio_consumer.py
(cd tests && "${py[@]}" -m mypy --no-incremental .)

step "pytest against NAMESRV_ADDR=$NAMESRV_ADDR"
# From py/tests: pytest puts that directory (no __init__.py) on sys.path for conftest, nothing
# else of the clone; conftest refuses to run unless it imported the package checked above.
cd "$here/tests"
status=0
ROCKETMQ_ONS_EXPECT_FILE=$package_file "${py[@]}" -m pytest -q -p no:cacheprovider "$@" || status=$?
exit "$status"
