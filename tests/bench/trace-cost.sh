#!/usr/bin/env bash
# Message-trace cost benchmark (not a test): what MsgTraceSwitch costs per message, measured in
# one run against one broker.
#
#   tests/bench/trace-cost.sh
#
# Starts a RocketMQ cluster with traceTopicEnable=true (tests/harness/rmq.sh), the broker on one
# core and the client alone on another where the machine has 2+ cores (taskset). Each phase is
# measured in pairs of segments within one process that holds an untraced and a traced client
# (`bench_producer trace-pairs`, `bench_consumer drain-pairs`; which goes first alternates): a
# segment's client CPU (getrusage, user and system) per message, a traced segment ending once
# its trace records are sent, so that their sending counts. Segments seconds apart see the VM in
# about the same state; separate runs minutes apart did not (their CPU per message moved by
# 15-20%, which made the cost of one run against another meaningless). The phases:
#   * bench_producer (tests/src/bin/bench_producer.rs): sync with 1 in flight, async with 256 in
#     flight, batches of 32 by 4 tasks; 1 KiB bodies, ROCKETMQ header format;
#   * the batch phase paced to BENCH_PACED_RATE messages a second: both sides at one offered
#     load. At full speed the broker, which also stores and indexes the traces, answers the
#     traced segment more slowly, so its writes carry fewer messages each and the kernel's share
#     per message grows; the paced phase leaves that out;
#   * bench_consumer drain (tests/src/bin/bench_consumer.rs) of a backlog of BENCH_DRAIN messages
#     by a new group per segment, on a cluster started afresh for it: after the producer phases
#     the broker holds some 2.6 million trace records, and drains on such a broker cost both
#     sides more (about 2.8k instructions and 1.5 us of system time more per message, traced or
#     not) and spread the pairs' costs over some 45 points (3-49% in two runs, docs/traces.md).
# Per phase: the medians of each side's CPU per message (and of their user and system parts),
# the median of the pairs' costs (traced / untraced - 1) and their range. Instructions per
# message, which the VM's state does not move, are tests/bench/instructions.sh's.
#
# Environment (defaults in brackets):
#   RMQ_VERSION [5.3.3]   BENCH_PAIRS [10]   BENCH_MESSAGES [20000] (per segment of the sync and
#   async phases; batch segments take 5x as many)   BENCH_DRAIN [100000]
#   BENCH_PACED_RATE [50000] (0 leaves the paced phase out)   BENCH_OUT [<repo>/target/bench]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HARNESS=$REPO/tests/harness/rmq.sh
VERSION=${RMQ_VERSION:-5.3.3}
PAIRS=${BENCH_PAIRS:-10}
MESSAGES=${BENCH_MESSAGES:-20000}
DRAIN=${BENCH_DRAIN:-100000}
PACED_RATE=${BENCH_PACED_RATE:-50000}
OUT=${BENCH_OUT:-$REPO/target/bench}
TOPIC=BenchTraceCost DRAIN_TOPIC=BenchTraceDrain

log() { echo "trace-cost.sh: $*" >&2; }
die() { log "$*"; exit 1; }

RUN=$OUT/trace-cost-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN"

log "building bench_producer and bench_consumer (--release)"
(cd "$REPO" && cargo build -q --release -p ons-tests --bin bench_producer --bin bench_consumer)
BIN_DIR=${CARGO_TARGET_DIR:-$REPO/target}/release

NCPU=$(nproc)
PIN_BROKER=() PIN_CLIENT=()
PINNING="not pinned (needs taskset and 2+ cores)"
if command -v taskset >/dev/null && ((NCPU >= 2)); then
  BROKER_CPUS=0
  ((NCPU > 2)) && BROKER_CPUS=0-$((NCPU - 2))
  PIN_BROKER=(taskset -c "$BROKER_CPUS") PIN_CLIENT=(taskset -c $((NCPU - 1)))
  PINNING="broker on core(s) $BROKER_CPUS, client alone on core $((NCPU - 1))"
fi

CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rmq-trace-bench.XXXXXX")
trap '"$HARNESS" stop --dir "$CLUSTER_DIR" --purge >/dev/null 2>&1 || true' EXIT
NAMESRV_ADDR=
# fresh_cluster TOPIC: (re)starts the cluster with no data, and TOPIC with 8 queues.
fresh_cluster() {
  "$HARNESS" stop --dir "$CLUSTER_DIR" --purge >/dev/null 2>&1 || true
  mkdir -p "$CLUSTER_DIR"
  log "starting RocketMQ $VERSION ($PINNING)"
  "${PIN_BROKER[@]}" "$HARNESS" start --dir "$CLUSTER_DIR" --auto-ports --version "$VERSION" \
    --broker-conf traceTopicEnable=true >/dev/null
  NAMESRV_ADDR=$(. "$CLUSTER_DIR/env" && echo "$NAMESRV_ADDR")
  "$HARNESS" mqadmin --dir "$CLUSTER_DIR" -- updateTopic -c DefaultCluster -t "$1" -r 8 -w 8 >/dev/null
  for i in $(seq 1 40); do
    if "$BIN_DIR/bench_producer" idle --namesrv "$NAMESRV_ADDR" --topic "$1" --size 1024 --format rocketmq \
      >/dev/null 2>&1; then
      return
    fi
    ((i < 40)) || die "topic $1 never became usable"
    sleep 1
  done
}

fresh_cluster "$TOPIC"
COMMON=(--namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --size 1024)
log "warming the broker up (not measured)"
"${PIN_CLIENT[@]}" "$BIN_DIR/bench_producer" ours "${COMMON[@]}" --formats rocketmq --sweep 8 --phases sync \
  --messages 50000 --max-secs 5 >/dev/null

pairs() { # LABEL PROGRAM ARGS... : one phase's pairs, its lines kept in pairs.tsv
  log "$1: $PAIRS pairs"
  "${PIN_CLIENT[@]}" "${@:2}" --pairs "$PAIRS" 2>>"$RUN/trace-records.log" | tee -a "$RUN/pairs.tsv" >/dev/null
}
pairs "sync and async" "$BIN_DIR/bench_producer" trace-pairs "${COMMON[@]}" --phases sync,async --messages "$MESSAGES"
pairs "batch" "$BIN_DIR/bench_producer" trace-pairs "${COMMON[@]}" --phases batch --messages $((MESSAGES * 5))
if ((PACED_RATE > 0)); then
  pairs "batch paced to $PACED_RATE msg/s" "$BIN_DIR/bench_producer" trace-pairs "${COMMON[@]}" --phases batch \
    --messages $((MESSAGES * 5)) --rate "$PACED_RATE"
fi
fresh_cluster "$DRAIN_TOPIC"
log "filling $DRAIN_TOPIC with $DRAIN messages"
"$BIN_DIR/bench_consumer" fill --namesrv "$NAMESRV_ADDR" --topic "$DRAIN_TOPIC" --messages "$DRAIN" --size 1024
pairs "drain" "$BIN_DIR/bench_consumer" drain-pairs --namesrv "$NAMESRV_ADDR" --topic "$DRAIN_TOPIC" \
  --messages "$DRAIN"

{
  echo "Message-trace cost, RocketMQ $VERSION, $PAIRS pairs per phase, $PINNING; load at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "client CPU per message, medians of the segments (untraced -> traced), and the median of the pairs' costs"
  awk -F'\t' '
    $2 == "medians" { split_of[$1] = $3 }
    $2 == "median" { order[++n] = $1; line[$1] = $0 }
    END {
      for (i = 1; i <= n; i++) {
        split(line[order[i]], f, "\t")
        printf "%-30s %7.3f -> %7.3f us  cost %5.1f%%  %s\n", order[i], f[3], f[4], f[5], f[6]
        printf "%-30s %s\n", "", split_of[order[i]]
      }
    }' "$RUN/pairs.tsv"
  # A traced segment that dropped records would understate the cost: say how many were.
  awk '/^trace records/ { sent += $(NF - 2) + 0; dropped += $NF + 0 }
    END { printf "trace records of the traced clients: %d sent, %d dropped\n", sent, dropped }' "$RUN/trace-records.log"
} | tee "$RUN/table.txt"
