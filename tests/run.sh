#!/usr/bin/env bash
# The whole test suite (README "command 2"; .ci/run calls this).
#
# 1. formatting and lints, then every test that needs no broker (unit tests of codecs and
#    signing, core's tests against local HTTPS servers and fake brokers, doctests) and the
#    Node declarations generated from the Rust sources against the committed index.d.ts;
# 2. the release artifacts (scripts/release.sh into dist/: wheel, sdist, npm tarballs, C and
#    CLI tarballs), checked by scripts/check-release.sh;
# 3. tests/cluster-suite.sh against Apache RocketMQ 5.3.3, then 4.9.7, each cluster started
#    from Maven Central jars by tests/harness/rmq.sh and stopped afterwards: the Rust
#    integration tests, the README quickstart, and (first version only) the C/C++ suite and the
#    install tests of the release artifacts, which run the Python and Node suites against the
#    installed wheel and npm packages (tests/release-install.sh).
#
# RMQ_VERSIONS="5.3.3" limits the broker versions; ONS_SKIP_LINT=1 skips fmt/clippy and the
# version check; ONS_RELEASE_DIST=DIR uses artifacts already built there instead of building.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

versions=${RMQ_VERSIONS:-"5.3.3 4.9.7"}
# Each step says when it started (seconds since the suite began), to keep an eye on CI's budget.
step() { printf '\n=== %s (at %d s) ===\n' "$*" "$SECONDS" >&2; }

if [[ ${ONS_SKIP_LINT:-0} != 1 ]]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "versions agree"
  scripts/check-versions.sh
  step "cargo clippy"
  cargo clippy --workspace --all-targets -- -D warnings
fi

step "unit and integration tests that need no broker, doctests, the README's Rust example"
# Every target of every crate but the cluster suite (ons-tests) and the Python extension (its
# tests are pytest's, against the built wheel): core's tests/ include the Open API/ASAPI calls
# against local HTTPS servers and the memory bounds of hostile answers.
cargo test --workspace --exclude ons-tests --exclude rocketmq-ons-py --all-targets
cargo test -p ons-tests --lib
cargo test --doc -p rocketmq-ons -p ons-binding-support

step "node/index.d.ts is what the Rust sources generate"
# The install tests use the released tarballs, whose addon is built without napi's type
# generator; this builds the addon the development way (debug, `napi build --dts`) to check the
# committed declarations.
(cd node && ROCKETMQ_ONS_NODE_PROFILE=debug ROCKETMQ_ONS_NODE_REBUILD=1 npm ci --no-audit --no-fund)
git diff --exit-code -- node/index.d.ts ||
  { echo "node/index.d.ts differs from the generated one: run 'npm run build' in node/ and commit it" >&2; exit 1; }

step "building the integration tests"
cargo test -p ons-tests --no-run

dist=${ONS_RELEASE_DIST:-}
if [[ -z $dist ]]; then
  step "release artifacts (scripts/release.sh dist)"
  dist=$PWD/dist
  scripts/release.sh "$dist"
fi
export ONS_RELEASE_DIST=$dist

first=1
for v in $versions; do
  step "tests against a real Apache RocketMQ $v cluster"
  tests/harness/rmq.sh fetch "$v" >/dev/null
  ONS_BINDING_SUITES=$first tests/harness/rmq.sh run --version "$v" --auto-ports \
    --broker-conf transactionCheckInterval=3000 --broker-conf enablePropertyFilter=true \
    --broker-conf traceTopicEnable=true -- tests/cluster-suite.sh
  first=0
done
step "all tests passed"
