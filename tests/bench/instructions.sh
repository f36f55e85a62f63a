#!/usr/bin/env bash
# Instructions per message (not a test): the core's producer and consumer counted by valgrind
# (cachegrind, instruction reads only), so that a change can be judged without a quiet machine:
# the counts do not depend on load, core speed or the broker's timing the way CPU seconds do.
#
#   tests/bench/instructions.sh
#
# Starts a RocketMQ cluster with traceTopicEnable=true (tests/harness/rmq.sh). Each case runs its
# program twice under `valgrind --tool=cachegrind --cache-sim=no`, with BENCH_SMALL and BENCH_LARGE
# messages; instructions per message = (Ir of the large run - Ir of the small run) / (LARGE -
# SMALL), which cancels what does not grow with the messages (start-up, warm-up, route lookup,
# shutdown). Cases, each with MsgTraceSwitch off and on:
#   * sync: bench_producer (tests/src/bin/bench_producer.rs) sync sends, 1 in flight, 1 KiB;
#   * async: bench_producer async sends, 256 in flight;
#   * batch: bench_producer batch sends, 4 tasks sending batches of 32;
#   * drain: bench_consumer (tests/src/bin/bench_consumer.rs) drain of a 1 KiB backlog by a new group.
# What grows with the wall-clock time of a run (heartbeats every 30 s, the benchmark's own
# broker queries while it waits for the broker to settle) is not cancelled; it is small next to
# the messages' share, and two repetitions of the table show how much it moves the figures.
#
# Environment (defaults in brackets): RMQ_VERSION [5.3.3]  BENCH_SMALL [1000]  BENCH_LARGE [11000]
#   BENCH_OUT [<repo>/target/bench]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HARNESS=$REPO/tests/harness/rmq.sh
VERSION=${RMQ_VERSION:-5.3.3}
SMALL=${BENCH_SMALL:-1000}
LARGE=${BENCH_LARGE:-11000}
OUT=${BENCH_OUT:-$REPO/target/bench}
TOPIC=BenchInstructions DRAIN_TOPIC=BenchInstructionsDrain

log() { echo "instructions.sh: $*" >&2; }
die() { log "$*"; exit 1; }
((LARGE > SMALL)) || die "BENCH_LARGE ($LARGE) must be more than BENCH_SMALL ($SMALL)"
if ! command -v valgrind >/dev/null; then
  log "valgrind is missing; installing it (apt-get install valgrind)"
  sudo -n apt-get install -y -q valgrind >/dev/null 2>&1 || apt-get install -y -q valgrind >/dev/null ||
    die "could not install valgrind"
fi

RUN=$OUT/instructions-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN"
log "building bench_producer and bench_consumer (--release)"
(cd "$REPO" && cargo build -q --release -p ons-tests --bin bench_producer --bin bench_consumer)
BIN_DIR=${CARGO_TARGET_DIR:-$REPO/target}/release

CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rmq-instructions.XXXXXX")
trap '"$HARNESS" stop --dir "$CLUSTER_DIR" --purge >/dev/null 2>&1 || true' EXIT
log "starting RocketMQ $VERSION"
"$HARNESS" start --dir "$CLUSTER_DIR" --auto-ports --version "$VERSION" --broker-conf traceTopicEnable=true >/dev/null
NAMESRV_ADDR=$(. "$CLUSTER_DIR/env" && echo "$NAMESRV_ADDR")
for t in "$TOPIC" "$DRAIN_TOPIC"; do
  "$HARNESS" mqadmin --dir "$CLUSTER_DIR" -- updateTopic -c DefaultCluster -t "$t" -r 8 -w 8 >/dev/null
done
for i in $(seq 1 40); do
  if "$BIN_DIR/bench_producer" idle --namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --format rocketmq >/dev/null 2>&1; then
    break
  fi
  ((i < 40)) || die "topic $TOPIC never became usable"
  sleep 1
done
# More than the large run drains, so that both runs pull past their count alike (what a consumer
# caches beyond the messages it is asked for, kept small with --cache-per-queue).
BACKLOG=$((LARGE + 2000))
log "filling $DRAIN_TOPIC with $BACKLOG messages"
"$BIN_DIR/bench_consumer" fill --namesrv "$NAMESRV_ADDR" --topic "$DRAIN_TOPIC" --messages "$BACKLOG" --size 1024

# instructions NAME TRACE CMD...: runs CMD under cachegrind, prints its instruction count.
instructions() {
  local name=$1 trace=$2
  shift 2
  local out=$RUN/$name.cachegrind
  BENCH_MSG_TRACE=$trace valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$out" "$@" \
    >"$RUN/$name.stdout" 2>"$RUN/$name.stderr" || die "$name failed (see $RUN/$name.stderr)"
  awk '/^summary:/ { print $2 }' "$out"
}

producer_case() { # MODE TRACE REP: sync 1 in flight, async 256 in flight, or batches of 32 by 4 tasks
  local mode=$1 trace=$2 rep=$3 n small large
  for n in "$SMALL" "$LARGE"; do
    local ir
    ir=$(instructions "$mode-$trace-$rep-$n" "$trace" "$BIN_DIR/bench_producer" ours --namesrv "$NAMESRV_ADDR" \
      --topic "$TOPIC" --formats rocketmq --phases "$mode" --sweep 1 --async-window 256 --batch 32 --batch-tasks 4 \
      --messages "$n" --max-secs 3600)
    if [[ $n == "$SMALL" ]]; then small=$ir; else large=$ir; fi
  done
  printf '%s\t%s\t%s\t%s\n' "$mode" "$trace" "$rep" $(((large - small) / (LARGE - SMALL)))
}

drain_case() { # TRACE REP
  local trace=$1 rep=$2 n small large
  for n in "$SMALL" "$LARGE"; do
    local ir
    ir=$(instructions "drain-$trace-$rep-$n" "$trace" "$BIN_DIR/bench_consumer" drain --namesrv "$NAMESRV_ADDR" \
      --topic "$DRAIN_TOPIC" --group "GID_instructions_${trace}_${rep}_${n}_$RANDOM" --messages "$n" --cache-per-queue 16 --max-secs 3600)
    if [[ $n == "$SMALL" ]]; then small=$ir; else large=$ir; fi
  done
  printf 'drain\t%s\t%s\t%s\n' "$trace" "$rep" $(((large - small) / (LARGE - SMALL)))
}

for rep in 1 2; do
  for trace in false true; do
    log "repetition $rep, MsgTraceSwitch=$trace: sync, async, batch, drain ($SMALL and $LARGE messages each)"
    producer_case sync "$trace" "$rep"
    producer_case async "$trace" "$rep"
    producer_case batch "$trace" "$rep"
    drain_case "$trace" "$rep"
  done
done | tee "$RUN/per-message.tsv" >&2

{
  echo "Instructions per message (valgrind cachegrind Ir; ($LARGE-message run - $SMALL-message run) / $((LARGE - SMALL))), RocketMQ $VERSION, 1 KiB bodies"
  awk -F'\t' '
    { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }; v[$1, $2, $3] = $4 }
    END {
      printf "%-7s %22s %22s %12s\n", "case", "untraced (rep 1, 2)", "traced (rep 1, 2)", "trace cost"
      for (i = 1; i <= n; i++) {
        c = order[i]
        off = (v[c, "false", 1] + v[c, "false", 2]) / 2; on = (v[c, "true", 1] + v[c, "true", 2]) / 2
        printf "%-7s %10d %10d  %10d %10d  %10.1f%%\n", c, v[c, "false", 1], v[c, "false", 2], v[c, "true", 1], v[c, "true", 2], (on / off - 1) * 100
      }
    }' "$RUN/per-message.tsv"
  echo "(sync: 1 in flight; async: 256 in flight; batch: 4 tasks x 32 messages; drain: a new group consuming a backlog; the cost compares the means)"
} | tee "$RUN/table.txt"
