#!/usr/bin/env bash
# README "command 1": with a cluster from tests/harness/rmq.sh (NAMESRV_ADDR set), send three
# messages with the `ons` CLI and receive them back with a consumer, printing both as JSON.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${NAMESRV_ADDR:?run me through tests/harness/rmq.sh run -- $0}"

cargo build -q -p ons-cli
ons=target/debug/ons
topic=QuickStart
echo "--- sending 3 messages to $topic" >&2
"$ons" send --topic "$topic" --tag TagA --key order-1 --body "hello from ons" --count 3
echo "--- receiving them (group GID_quickstart, from the first offset)" >&2
"$ons" consume --topic "$topic" --group GID_quickstart --expr TagA --from first --count 3 --json
