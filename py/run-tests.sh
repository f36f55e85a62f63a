#!/usr/bin/env bash
# The Python package's checks: build and install the wheel into a fresh virtualenv
# (pip install ./py, as a user would), type-check the stubs, the package and the example with
# mypy, and run pytest against the cluster in NAMESRV_ADDR.
#
#   tests/harness/rmq.sh run --auto-ports --broker-conf transactionCheckInterval=3000 -- py/run-tests.sh
#
# PY_VENV (default /tmp/rocketmq-ons-py-venv) is reused between runs; PY_SKIP_INSTALL=1 skips
# the build when the venv already has the package. The wheel is built with the dev profile
# (PY_BUILD_PROFILE=release for an optimized one): the tests do not need speed, and the dev
# build reuses what `cargo test` already compiled in the same target directory. Extra arguments
# go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv=${PY_VENV:-/tmp/rocketmq-ons-py-venv}
python=${PYTHON:-python3}
step() { printf '\n=== %s ===\n' "$*" >&2; }

if [[ ! -x $venv/bin/python ]]; then
  step "virtualenv $venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
"$venv/bin/python" -m pip install -q pytest mypy

if [[ ${PY_SKIP_INSTALL:-0} != 1 ]]; then
  step "pip install ./py (builds the wheel with maturin)"
  start=$(date +%s)
  MATURIN_PEP517_ARGS="--profile ${PY_BUILD_PROFILE:-dev}" \
    "$venv/bin/python" -m pip install -q --force-reinstall "$here"
  echo "wheel built and installed in $(( $(date +%s) - start )) s" >&2
fi

step "mypy (stubs and package as installed, the example, the tests)"
# Run from py/, where python/ is not on the path: mypy sees the installed package (its .pyi and
# py.typed), as a user's type checker does.
cd "$here"
"$venv/bin/python" -m mypy --strict --no-incremental -p rocketmq_ons
"$venv/bin/python" -m mypy --strict --no-incremental examples/quickstart.py
(cd tests && "$venv/bin/python" -m mypy --no-incremental .)

step "pytest against NAMESRV_ADDR=${NAMESRV_ADDR:-unset}"
cd "$here/tests"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
