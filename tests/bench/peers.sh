#!/usr/bin/env bash
# Every client in one run (not a test): tests/bench/producer.sh and tests/bench/consumer.sh with
# all their peers (the official Java benchmark and the Java client in our own loop, Go, RocketMQ-
# Rust, the C++ client), then one table of every client x phase: msg/s, CPU s per 100k messages,
# p50/p99/p99.9 latency per call, peak RSS, and our ratios to each (tests/bench/peers_table.py).
#
#   tests/bench/peers.sh
#
# Each of the two scripts starts its own cluster (tests/harness/rmq.sh), pinned away from the
# clients where the machine has 2+ cores. Environment: what producer.sh and consumer.sh read
# (BENCH_PEERS, BENCH_ROUNDS, BENCH_SWEEP, BENCH_MESSAGES is not passed on: use
# BENCH_PRODUCER_MESSAGES [300000] and BENCH_CONSUMER_MESSAGES [200000]); BENCH_OUT
# [<repo>/target/bench]. Everything of the run (both scripts' tables and logs, the records, the
# table) goes to BENCH_OUT/peers-<time>/.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${BENCH_OUT:-$REPO/target/bench}
RUN=$OUT/peers-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN"
log() { echo "peers.sh: $*" >&2; }

log "producer phases (tests/bench/producer.sh; log $RUN/producer.log)"
BENCH_RUN_DIR=$RUN/producer BENCH_MESSAGES=${BENCH_PRODUCER_MESSAGES:-300000} \
  "$REPO/tests/bench/producer.sh" >"$RUN/producer-table.txt" 2>"$RUN/producer.log" ||
  { tail -n 20 "$RUN/producer.log" >&2; exit 1; }
log "drain (tests/bench/consumer.sh; log $RUN/consumer.log)"
BENCH_RUN_DIR=$RUN/consumer BENCH_MESSAGES=${BENCH_CONSUMER_MESSAGES:-200000} \
  "$REPO/tests/bench/consumer.sh" >"$RUN/consumer-table.txt" 2>"$RUN/consumer.log" ||
  log "consumer.sh did not finish cleanly (see $RUN/consumer.log); its results so far are in the table"

{
  echo "Every client x phase, $(date -u +%Y-%m-%d), Apache RocketMQ ${RMQ_VERSION:-5.3.3}, 1 KiB bodies;"
  echo "machine: nproc=$(nproc --all) ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1));"
  echo "peer notes and pinning: $RUN/producer-table.txt and $RUN/consumer-table.txt."
  echo
  python3 "$REPO/tests/bench/peers_table.py" "$RUN"
} | tee "$RUN/table.txt"
log "records and tables in $RUN"
