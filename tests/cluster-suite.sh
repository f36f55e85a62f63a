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

if [[ ${ONS_BINDING_SUITES:-0} == 1 ]]; then
  step "ffi-c/run-tests.sh"
  ffi-c/run-tests.sh
  if [[ -n ${ONS_RELEASE_DIST:-} ]]; then
    step "tests/release-install.sh $ONS_RELEASE_DIST"
    tests/release-install.sh "$ONS_RELEASE_DIST"
  else
    for suite in py/run-tests.sh node/run-tests.sh; do
      step "$suite"
      "$suite"
    done
  fi
fi
