#!/usr/bin/env bash
# The Node package's checks: build and install the addon (`npm ci`, which runs the package's
# install script), fail if the committed index.d.ts differs from what the build generated, then
# run node's test runner against the cluster in NAMESRV_ADDR. Run it under the harness:
#
#   tests/harness/rmq.sh run --auto-ports --broker-conf transactionCheckInterval=3000 -- node/run-tests.sh
#
# The addon is built in the debug profile by default (ROCKETMQ_ONS_NODE_PROFILE=release to
# change it): it compiles in about half the CPU time, and the tests measure nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

: "${NAMESRV_ADDR:?run under tests/harness/rmq.sh run ... -- node/run-tests.sh}"
export ROCKETMQ_ONS_NODE_PROFILE=${ROCKETMQ_ONS_NODE_PROFILE:-debug}
export ROCKETMQ_ONS_NODE_REBUILD=1
step() { printf '\n=== %s ===\n' "$*" >&2; }

step "npm ci (builds the addon, $ROCKETMQ_ONS_NODE_PROFILE)"
npm ci --no-audit --no-fund

step "index.d.ts drift"
if ! git diff --exit-code -- index.d.ts; then
  echo "node/index.d.ts differs from the generated one: run 'npm run build' in node/ and commit it" >&2
  exit 1
fi

step "node --test"
node --test test/*.test.js
