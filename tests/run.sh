#!/usr/bin/env bash
# The whole test suite (README "command 2"; .ci/run calls this).
#
# 1. formatting and lints, unit tests of codecs and signing (no broker needed);
# 2. the real-cluster tests against Apache RocketMQ 5.3.x, then 4.9.x, each cluster started
#    from Maven Central jars by tests/harness/rmq.sh and stopped afterwards.
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
cargo test --workspace --lib --bins

step "building the integration tests"
cargo test -p ons-tests --no-run

for v in $versions; do
  step "integration tests against Apache RocketMQ $v"
  tests/harness/rmq.sh fetch "$v" >/dev/null
  tests/harness/rmq.sh run --version "$v" --auto-ports --broker-conf transactionCheckInterval=3000 \
    -- cargo test -p ons-tests -- --test-threads=2
done
step "all tests passed"
