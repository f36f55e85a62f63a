#!/usr/bin/env bash
# The whole test suite (README "command 2"; .ci/run calls this).
#
# 1. formatting and lints, unit tests of codecs and signing (no broker needed);
# 2. tests/cluster-suite.sh against Apache RocketMQ 5.3.3, then 4.9.7, each cluster started
#    from Maven Central jars by tests/harness/rmq.sh and stopped afterwards: the Rust
#    integration tests, the README quickstart, and (first version only) the binding suites.
#
# RMQ_VERSIONS="5.3.3" limits the broker versions; ONS_SKIP_LINT=1 skips fmt/clippy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

versions=${RMQ_VERSIONS:-"5.3.3 4.9.7"}
step() { printf '\n=== %s ===\n' "$*" >&2; }

if [[ ${ONS_SKIP_LINT:-0} != 1 ]]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy"
  cargo clippy --workspace --all-targets -- -D warnings
fi

step "unit tests (codecs, signing, config)"
cargo test --lib --bins   # default members: core, cli, tests (and ffi-c); py/ and node/ have their own suites

step "core integration tests without a broker (Open API/ASAPI over local HTTPS, memory of hostile answers)"
cargo test -p rocketmq-ons --tests

step "building the integration tests"
cargo test -p ons-tests --no-run

first=1
for v in $versions; do
  step "tests against a real Apache RocketMQ $v cluster"
  tests/harness/rmq.sh fetch "$v" >/dev/null
  ONS_BINDING_SUITES=$first tests/harness/rmq.sh run --version "$v" --auto-ports \
    --broker-conf transactionCheckInterval=3000 -- tests/cluster-suite.sh
  first=0
done
step "all tests passed"
