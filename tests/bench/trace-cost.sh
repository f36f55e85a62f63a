#!/usr/bin/env bash
# Message-trace cost benchmark (not a test): the producer and consumer benchmarks with
# MsgTraceSwitch off and on, in one run against one broker, and the cost of tracing per message.
#
#   tests/bench/trace-cost.sh
#
# Starts a RocketMQ cluster with traceTopicEnable=true (tests/harness/rmq.sh), the broker on one
# core and the client alone on another where the machine has 2+ cores (taskset). Then, for each
# of BENCH_ROUNDS rounds, untraced and traced runs alternate (their order flips each round):
#   * bench_producer (tests/src/bin/bench_producer.rs) phases sync with 1 and 8 in flight, async
#     with 256 in flight, batches of 32 by 4 tasks; 1 KiB bodies, ROCKETMQ header format;
#   * the batch phase again, paced to BENCH_PACED_RATE messages a second (row "batch@<rate>"):
#     both sides at one offered load. At full speed the broker, which also stores and indexes
#     the traces, answers the traced run more slowly, so its writes carry fewer messages each
#     and the kernel's share per message grows; the paced row leaves that out (the table prints
#     each paced run's achieved rate: one below the pace means the pace was too high);
#   * bench_consumer drain (tests/src/bin/bench_consumer.rs) of a backlog of BENCH_DRAIN
#     messages by a new group.
# Client CPU is getrusage of the client process, trace producer included. The table keeps each
# side's lowest CPU per message of every phase and prints the cost: traced / untraced - 1. Below
# it, the traced runs' trace records, sent and dropped (a run that dropped some understates the
# cost; the clients' stderr is in the run's trace-records.log).
#
# Environment (defaults in brackets):
#   RMQ_VERSION [5.3.3]   BENCH_ROUNDS [3]   BENCH_MESSAGES [150000] (per producer phase, which also
#   stops after BENCH_MAX_SECS [6]; a shorter batch phase measures too little CPU)   BENCH_DRAIN [100000]
#   BENCH_PACED_RATE [50000] (0 leaves the paced phase out)
#   BENCH_OUT [<repo>/target/bench]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HARNESS=$REPO/tests/harness/rmq.sh
VERSION=${RMQ_VERSION:-5.3.3}
ROUNDS=${BENCH_ROUNDS:-3}
MESSAGES=${BENCH_MESSAGES:-150000}
MAX_SECS=${BENCH_MAX_SECS:-6}
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
log "starting RocketMQ $VERSION ($PINNING)"
"${PIN_BROKER[@]}" "$HARNESS" start --dir "$CLUSTER_DIR" --auto-ports --version "$VERSION" \
  --broker-conf traceTopicEnable=true >/dev/null
NAMESRV_ADDR=$(. "$CLUSTER_DIR/env" && echo "$NAMESRV_ADDR")
for t in "$TOPIC" "$DRAIN_TOPIC"; do
  "$HARNESS" mqadmin --dir "$CLUSTER_DIR" -- updateTopic -c DefaultCluster -t "$t" -r 8 -w 8 >/dev/null
done
COMMON=(--namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --size 1024)
for i in $(seq 1 40); do
  if "$BIN_DIR/bench_producer" idle "${COMMON[@]}" --format rocketmq >/dev/null 2>&1; then break; fi
  ((i < 40)) || die "topic $TOPIC never became usable"
  sleep 1
done

log "filling $DRAIN_TOPIC with $DRAIN messages"
"$BIN_DIR/bench_consumer" fill --namesrv "$NAMESRV_ADDR" --topic "$DRAIN_TOPIC" --messages "$DRAIN" --size 1024
log "warming the broker up (not measured)"
"${PIN_CLIENT[@]}" "$BIN_DIR/bench_producer" ours "${COMMON[@]}" --formats rocketmq --sweep 8 --phases sync \
  --messages 20000 --max-secs 3 >/dev/null

producer_run() { # TRACE ROUND
  log "round $2: producer, MsgTraceSwitch=$1"
  BENCH_MSG_TRACE=$1 "${PIN_CLIENT[@]}" "$BIN_DIR/bench_producer" ours "${COMMON[@]}" --formats rocketmq \
    --phases sync,async,batch --sweep 1,8 --async-window 256 --batch 32 --batch-tasks 4 \
    --messages "$MESSAGES" --max-secs "$MAX_SECS" 2>>"$RUN/trace-records.log" | sed "s/^/$1\t/" >>"$RUN/producer.tsv"
  ((PACED_RATE > 0)) || return 0
  log "round $2: batches paced to $PACED_RATE msg/s, MsgTraceSwitch=$1"
  # The phase's mode column becomes batch@<rate>: its own row of the table.
  BENCH_MSG_TRACE=$1 "${PIN_CLIENT[@]}" "$BIN_DIR/bench_producer" ours "${COMMON[@]}" --formats rocketmq \
    --phases batch --batch 32 --batch-tasks 4 --rate "$PACED_RATE" \
    --messages "$MESSAGES" --max-secs "$MAX_SECS" 2>>"$RUN/trace-records.log" |
    awk -F'\t' -v OFS='\t' -v mode="batch@$PACED_RATE" -v trace="$1" '$3 == "batch" { $3 = mode } { print trace, $0 }' \
      >>"$RUN/producer.tsv"
}
drain_run() { # TRACE ROUND
  log "round $2: drain of $DRAIN, MsgTraceSwitch=$1"
  BENCH_MSG_TRACE=$1 "${PIN_CLIENT[@]}" "$BIN_DIR/bench_consumer" drain --namesrv "$NAMESRV_ADDR" \
    --topic "$DRAIN_TOPIC" --group "GID_trace_drain_$1_$2_$RANDOM" --messages "$DRAIN" 2>>"$RUN/trace-records.log" |
    sed "s/^/$1\t/" >>"$RUN/drain.tsv"
}
for round in $(seq 1 "$ROUNDS"); do
  order=(false true)
  ((round % 2 == 0)) && order=(true false)
  for trace in "${order[@]}"; do producer_run "$trace" "$round"; done
  for trace in "${order[@]}"; do drain_run "$trace" "$round"; done
done

# producer.tsv: trace, "ours", format, mode, conc, ok, secs, cpu, p50, p99, p99.9, hwm, errors,
# busy, broker cpu, allocations per message. drain.tsv: trace, JSON line.
{
  awk -F'\t' '$7 > 0 { printf "%s\t%s %s\t%.3f\t%.1f\t%.0f\n", $1, $4, $5, $8 / $6 * 1e6, $16, $6 / $7 }' "$RUN/producer.tsv"
  sed -E 's/^(true|false)\t.*"cpuSecsPer100k":([0-9.e+-]+).*/\1\tdrain\t\2/' "$RUN/drain.tsv" |
    awk -F'\t' '{ printf "%s\t%s\t%.3f\t-\t-\n", $1, $2, $3 * 10 }'
} >"$RUN/cpu.tsv"
{
  echo "Message-trace cost, RocketMQ $VERSION, $ROUNDS rounds, $PINNING; load at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "client CPU per message (lowest of the rounds); allocations per message and msg/s of that run"
  awk -F'\t' '
    { key = $2; if (!(key in order)) { order[key] = ++n; names[n] = key }
      if (!((key, $1) in best) || $3 < best[key, $1]) { best[key, $1] = $3; allocs[key, $1] = $4; rate[key, $1] = $5 } }
    END {
      printf "%-18s %12s %12s %8s %16s %18s\n", "phase", "untraced µs", "traced µs", "cost", "allocs off → on", "msg/s off → on"
      for (i = 1; i <= n; i++) {
        k = names[i]; off = best[k, "false"]; on = best[k, "true"]
        printf "%-18s %12.2f %12.2f %7.1f%% %7s → %-7s %8s → %-8s\n", k, off, on, (on / off - 1) * 100,
          allocs[k, "false"], allocs[k, "true"], rate[k, "false"], rate[k, "true"]
      }
    }' "$RUN/cpu.tsv"
  echo "(drain: µs per message = CPU s per 100k × 10; the batch phase counts messages, not batches)"
  # A traced run that dropped records would understate the cost: say how many were.
  awk '/^trace records of/ { sent += $(NF - 2) + 0; dropped += $NF + 0 }
    END { printf "trace records of the traced runs: %d sent, %d dropped\n", sent, dropped }' "$RUN/trace-records.log"
} | tee "$RUN/table.txt"
