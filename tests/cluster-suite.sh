#!/usr/bin/env bash
# Everything that needs a running cluster; tests/run.sh runs it once per broker version inside
# `tests/harness/rmq.sh run`, which exports NAMESRV_ADDR and the ONS_TEST_* variables.
#
# The Rust integration tests and the README quickstart run against every version; the binding
# suites (C/C++, Python, Node) run where ONS_BINDING_SUITES=1 (tests/run.sh sets it for the
# first version only, to keep CI within its budget).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${NAMESRV_ADDR:?run me through tests/harness/rmq.sh run}"
step() { printf '\n=== [%s] %s ===\n' "${ONS_TEST_BROKER_VERSION:-?}" "$*" >&2; }

step "Rust integration tests"
cargo test -p ons-tests -- --test-threads=2

step "README quickstart"
tests/quickstart.sh >/dev/null

# Each passed on a clean clone (2026-11-28: with them the whole of .ci/run took about 16 min).
binding_suites=(ffi-c/run-tests.sh py/run-tests.sh node/run-tests.sh)
if [[ ${ONS_BINDING_SUITES:-0} == 1 ]]; then
  for suite in "${binding_suites[@]}"; do
    step "$suite"
    "$suite"
  done
fi
