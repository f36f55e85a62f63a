#!/usr/bin/env bash
# Consumer benchmark (not a test): rocketmq-ons against its peers, the official Java push consumer
# (DefaultMQPushConsumer of rocketmq-client, as `Oracle bench-consume` in tests/java-oracle), the
# Go push consumer (github.com/apache/rocketmq-client-go/v2, `go-peer drain` of tests/bench/go-peer)
# RocketMQ-Rust's push consumer (crate rocketmq-client-rust, `rust-peer drain` of
# tests/bench/rust-peer) and the C++ push consumer (librocketmq of PyPI rocketmq==0.4.4,
# `cpp-peer drain` of tests/bench/cpp-peer), each draining the same backlog of 1 KiB messages with a new group from
# the first offset, same broker, equal listener threads and per-queue cache bound. Prints every
# client and our ratios to each.
#
#   tests/bench/consumer.sh
#
# Starts a RocketMQ cluster with tests/harness/rmq.sh (or reuses NAMESRV_ADDR), pins the broker
# and the consumers to separate cores with taskset where the machine has 2+ cores, fills the
# backlog with bench_consumer (tests/src/bin/bench_consumer.rs, built --release), then lets each
# side drain it, ROUNDS times with the order reversed every other round, and stops the cluster it
# started.
#
# Environment (defaults in brackets):
#   NAMESRV_ADDR             reuse a running cluster instead of starting one (not pinned)
#   RMQ_VERSION [5.3.3]      broker version; also the Java client's version
#   BENCH_MESSAGES [200000]  backlog size (each side drains all of it)
#   BENCH_THREADS [20]       listener threads: ConsumeThreadNums / consumeThreadMin=Max
#   BENCH_CACHE_PER_QUEUE [1000]  Java pullThresholdForQueue (its default); ours gets the same
#                            bound in total (MaxCachedMessageAmount = queues x this)
#   BENCH_ROUNDS [2]         each side's best round is compared
#   BENCH_PEERS [java,go,rust,cpp]  peers to run; one whose tool is missing (java; go; cargo) is
#                            skipped with a message, and so are rust-peer and cpp-peer when their
#                            build fails
#   BENCH_OUT [<repo>/target/bench]  where go-peer, cpp-peer and rust-peer
#                            (BENCH_OUT/rust-peer-target) are built
#   BENCH_RUN_DIR            keep this run's results (JSON lines) in BENCH_RUN_DIR/drain.jsonl
#   BENCH_JAVA_OPTS          JVM options of the Java consumer [-server -Xms1g -Xmx1g]
#   BENCH_MSG_TRACE [false]  our client's MsgTraceSwitch (its default is on; the peers trace nothing)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HARNESS=$REPO/tests/harness/rmq.sh
VERSION=${RMQ_VERSION:-5.3.3}
MESSAGES=${BENCH_MESSAGES:-200000}
THREADS=${BENCH_THREADS:-20}
PER_QUEUE=${BENCH_CACHE_PER_QUEUE:-1000}
ROUNDS=${BENCH_ROUNDS:-2}
PEERS=",${BENCH_PEERS:-java,go,rust,cpp},"
# No peer traces its messages (the Java benchmark only with -m true), so ours does not either
# unless asked; tests/bench/trace-cost.sh measures what tracing costs.
export BENCH_MSG_TRACE=${BENCH_MSG_TRACE:-false}
OUT=${BENCH_OUT:-$REPO/target/bench}
QUEUES=8
TOPIC=BenchConsumer_$$
export ORACLE_JAVA_OPTS=${BENCH_JAVA_OPTS:--server -Xms1g -Xmx1g}

log() { echo "consumer.sh: $*" >&2; }
die() { log "$*"; exit 1; }
peer() { [[ $PEERS == *",$1,"* ]]; }
skip_peer() { log "$2: skipping the $1 peer"; PEERS=${PEERS//,$1,/,}; }

log "building bench_consumer (--release)"
(cd "$REPO" && cargo build -q --release -p ons-tests --bin bench_consumer)
BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/bench_consumer
[[ -x $BIN ]] || die "no $BIN"
if peer java && ! command -v java >/dev/null; then skip_peer java "no java"; fi
if peer java; then
  log "building the Java oracle (once; cached)"
  "$HARNESS" oracle --client-version "$VERSION" -- help >/dev/null
fi
if peer go && ! command -v go >/dev/null; then skip_peer go "no go"; fi
if peer go; then
  log "building tests/bench/go-peer (go build)"
  mkdir -p "$OUT"
  GO_PEER=$OUT/go-peer
  (cd "$REPO/tests/bench/go-peer" && go build -buildvcs=false -o "$GO_PEER" .) || die "go build of tests/bench/go-peer failed"
fi
if peer cpp; then
  mkdir -p "$OUT"
  CPP_PEER=$OUT/cpp-peer
  log "building tests/bench/cpp-peer (PyPI rocketmq==0.4.4's librocketmq; log $OUT/cpp-peer-build.log)"
  "$REPO/tests/bench/cpp-peer/build.sh" "$CPP_PEER" >"$OUT/cpp-peer-build.log" 2>&1 ||
    skip_peer cpp "the build of tests/bench/cpp-peer failed (see $OUT/cpp-peer-build.log)"
fi
if peer rust; then
  # shellcheck source=rust-peer/build.sh
  source "$REPO/tests/bench/rust-peer/build.sh"
  log "building tests/bench/rust-peer (cargo build --release, target $OUT/rust-peer-target)"
  build_rust_peer "$OUT" || skip_peer rust "no cargo, or the build of tests/bench/rust-peer failed (see $OUT/rust-peer-build.log)"
fi

NCPU=$(nproc)
PIN_BROKER=() PIN_CLIENT=()
if command -v taskset >/dev/null && ((NCPU >= 2)); then
  PIN_CLIENT=(taskset -c $((NCPU - 1)))
  PINNING="consumers alone on core $((NCPU - 1))"
  if [[ -n ${NAMESRV_ADDR:-} ]]; then
    PINNING+="; broker from NAMESRV_ADDR not pinned"
  else
    BROKER_CPUS=0
    ((NCPU > 2)) && BROKER_CPUS=0-$((NCPU - 2))
    PIN_BROKER=(taskset -c "$BROKER_CPUS")
    PINNING+="; name server + broker on core(s) $BROKER_CPUS"
  fi
else
  PINNING="not pinned (needs taskset and 2+ cores; nproc=$NCPU)"
fi

CLUSTER_DIR=
if [[ -n ${BENCH_RUN_DIR:-} ]]; then
  mkdir -p "$BENCH_RUN_DIR"
  RESULTS=$BENCH_RUN_DIR/drain.jsonl
  : >"$RESULTS"
else
  RESULTS=$(mktemp)
fi
cleanup() {
  [[ -n ${BENCH_RUN_DIR:-} ]] || rm -f "$RESULTS"
  if [[ -n $CLUSTER_DIR ]]; then
    log "stopping the cluster"
    "$HARNESS" stop --dir "$CLUSTER_DIR" --purge >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if [[ -z ${NAMESRV_ADDR:-} ]]; then
  CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rmq-bench.XXXXXX")
  log "starting RocketMQ $VERSION in $CLUSTER_DIR ($PINNING)"
  "${PIN_BROKER[@]}" "$HARNESS" start --dir "$CLUSTER_DIR" --auto-ports --version "$VERSION" >/dev/null
  NAMESRV_ADDR=$(sed -n 's/^\(export \)\{0,1\}NAMESRV_ADDR=//p' "$CLUSTER_DIR/env")
  "$HARNESS" mqadmin --dir "$CLUSTER_DIR" -- updateTopic -c DefaultCluster -t "$TOPIC" -r $QUEUES -w $QUEUES >/dev/null
else
  "$HARNESS" mqadmin --version "$VERSION" -- updateTopic -n "$NAMESRV_ADDR" -c DefaultCluster -t "$TOPIC" \
    -r $QUEUES -w $QUEUES >/dev/null
fi
log "name server $NAMESRV_ADDR, topic $TOPIC ($QUEUES queues)"

# The topic reaches the name server with the broker's next registration; a one-message fill
# succeeds once it is usable (that message is part of the backlog, which is then MESSAGES + 1).
for i in $(seq 1 40); do
  if "$BIN" fill --namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --messages 1 2>/dev/null; then break; fi
  ((i < 40)) || die "topic $TOPIC never became usable"
  sleep 1
done
log "filling a backlog of $MESSAGES messages of 1024 bytes"
"$BIN" fill --namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --messages "$MESSAGES" --size 1024

ours() {
  log "round $round: ours drains $MESSAGES"
  "${PIN_CLIENT[@]}" "$BIN" drain --namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --group "GID_bench_ours_${round}_$$" \
    --messages "$MESSAGES" --threads "$THREADS" --cache-per-queue "$PER_QUEUE" | tee -a "$RESULTS" >&2
}
java() {
  peer java || return 0
  log "round $round: Java drains $MESSAGES"
  "${PIN_CLIENT[@]}" "$HARNESS" oracle --client-version "$VERSION" -- bench-consume --namesrv "$NAMESRV_ADDR" \
    --topic "$TOPIC" --group "GID_bench_java_${round}_$$" --count "$MESSAGES" --threads "$THREADS" \
    --pull-threshold-queue "$PER_QUEUE" 2>/dev/null | tee -a "$RESULTS" >&2
}
peer_drain() { # PEER BINARY: go-peer, rust-peer and cpp-peer take the same arguments
  log "round $round: $1 drains $MESSAGES"
  "${PIN_CLIENT[@]}" "$2" drain --namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --group "GID_bench_$1_${round}_$$" \
    --messages "$MESSAGES" --threads "$THREADS" --cache-per-queue "$PER_QUEUE" | tee -a "$RESULTS" >&2 ||
    log "round $round: $1 did not drain (the table says which side has no result)"
}
go_drain() { if peer go; then peer_drain go "$GO_PEER"; fi; }
rust_drain() { if peer rust; then peer_drain rust "$RUST_PEER"; fi; }
cpp_drain() { if peer cpp; then peer_drain cpp "$CPP_PEER"; fi; }
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
  if ((round % 2)); then ours; java; go_drain; rust_drain; cpp_drain; else cpp_drain; rust_drain; go_drain; java; ours; fi
done

MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
PEER_LIST=${PEERS#,}
PEER_LIST=${PEER_LIST%,}
python3 - "$RESULTS" <<PY
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
best = {}
for r in rows:
    if r["side"] not in best or r["rate"] > best[r["side"]]["rate"]:
        best[r["side"]] = r
print()
print("Consumer benchmark: drain $MESSAGES x 1 KiB from the first offset, $THREADS listener threads,")
print("$PER_QUEUE messages cached per queue at most, topic of $QUEUES queues, Apache RocketMQ $VERSION.")
print("Machine: $(nproc --all) x $MODEL; $PINNING; load average at start $LOAD_START.")
print("Window: first delivery to the last; CPU = the client process's user+system time in it; best of $ROUNDS rounds.")
print("Peers run: ${PEER_LIST:-none}.")
if "go" in "$PEER_LIST".split(","):
    print("Go: github.com/apache/rocketmq-client-go/v2 push consumer, ConsumeGoroutineNums = threads,")
    print("    PullThresholdForQueue = the per-queue bound, one message per listener call (as Java).")
if "rust" in "$PEER_LIST".split(","):
    print("Rust: RocketMQ-Rust's DefaultMQPushConsumer, ${RUST_NOTE:-}, consume_thread_min = max = threads,")
    print("    pull_threshold_for_queue = the per-queue bound, one message per listener call (as Java).")
if "cpp" in "$PEER_LIST".split(","):
    print("C++: librocketmq of PyPI rocketmq==0.4.4 (rocketmq-client-cpp 1.2.3), CPushConsumer through its C API,")
    print("    thread count = threads, max cache per queue = the per-queue bound, from the first offset.")
print()
print(f"{'side':<6} {'msg/s':>10} {'CPU s/100k':>11} {'peak RSS MiB':>13}")
for side in ("ours", "java", "go", "rust", "cpp"):
    r = best.get(side)
    if r:
        print(f"{side:<6} {r['rate']:>10.0f} {r['cpuSecsPer100k']:>11.2f} {r['peakRssKiB'] / 1024:>13.1f}")
expected = ["ours"] + [p for p in "$PEER_LIST".split(",") if p]
missing = [side for side in expected if side not in best]
if "ours" in best:
    o = best["ours"]
    print()
    for side, name, target in (("java", "Java", True), ("go", "Go", False), ("rust", "Rust", False), ("cpp", "C++", False)):
        p = best.get(side)
        if p:
            print(f"ours/{name}: throughput {o['rate'] / p['rate']:.2f}x{' (target >= 1)' if target else ''}, "
                  f"CPU per message {o['cpuSecsPer100k'] / p['cpuSecsPer100k']:.2f}x"
                  f"{' (target <= 0.25)' if target else ''}, peak RSS {o['peakRssKiB'] / p['peakRssKiB']:.2f}x")
if missing:
    sys.exit("no result from: " + ", ".join(missing))
PY
