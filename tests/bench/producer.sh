#!/usr/bin/env bash
# Producer benchmark (not a test): rocketmq-ons against its peers, same broker, same topic, equal
# concurrency, 1 KiB bodies: the official Java benchmark producer (org.apache.rocketmq:rocketmq-example,
# started with `java -cp`), the same Java client driven by our own loop (`java-loop`:
# `bench-produce` of tests/java-oracle, measured as the other peers are, with per-call latency
# percentiles), the Go client (github.com/apache/rocketmq-client-go/v2, driven by
# tests/bench/go-peer), RocketMQ-Rust's client (crate rocketmq-client-rust, driven by
# tests/bench/rust-peer) and the C++ client (librocketmq of PyPI rocketmq==0.4.4, driven by
# tests/bench/cpp-peer). Prints one table with every client and our ratios to each.
#
#   tests/bench/producer.sh
#
# Starts a RocketMQ cluster with tests/harness/rmq.sh (or reuses NAMESRV_ADDR), pins the broker
# and the clients to separate cores with taskset where the machine has 2+ cores, runs
# bench_producer (tests/src/bin/bench_producer.rs, built --release) through every phase in both
# header formats, then the Java Producer / BatchProducer, java-loop, go-peer (built with `go build`
# into BENCH_OUT), rust-peer (built with `cargo build --release` into BENCH_OUT/rust-peer-target)
# and cpp-peer (built by its build.sh into BENCH_OUT) through the same phases (cpp-peer: no batch,
# see its source), and stops the cluster it started.
#
# Environment (defaults in brackets):
#   NAMESRV_ADDR             reuse a running cluster instead of starting one (not pinned)
#   RMQ_VERSION [5.3.3]      broker version; also the Java client's version
#   RMQ_CACHE [~/.cache/rocketmq-ons]   where the Java benchmark jars are cached
#   BENCH_MESSAGES [300000]  messages per phase of ours (a phase also stops after BENCH_MAX_SECS, so
#                            most phases measure the same 5 s window as the Java side)
#   BENCH_MAX_SECS [5]
#   BENCH_SWEEP [1,2,4,8,16,32]  sync in-flight counts (= Java -w threads)
#   BENCH_JAVA_SECS [5]      Java measurement window, after BENCH_JAVA_WARMUP_SECS [4] of sending (JIT)
#   BENCH_ROUNDS [2]         rounds; ours and the peers alternate phase by phase (their order flips
#                            each round) and the table keeps each side's best run of every phase
#   BENCH_PEERS [java,java-loop,go,rust,cpp]  peers to run; one whose tools are missing (java and
#                            mvn; go; cargo; python3 and cc) or whose build fails (go-peer: the
#                            script stops; rust-peer, cpp-peer: skipped) is skipped with a message
#   BENCH_JAVA_OPTS          JVM options for the Java benchmark (default: runclass.sh's heap sizing)
#   BENCH_EXAMPLE_FALLBACK [5.5.0]  rocketmq-example version to take the benchmark classes from
#                            when none is published for RMQ_VERSION (client jars stay RMQ_VERSION)
#   BENCH_OUT [<repo>/target/bench]  raw records, the printed table, the go-peer and cpp-peer
#                            binaries and rust-peer's target directory and build log
#   BENCH_RUN_DIR            where this run's records and table go [BENCH_OUT/producer-<time>]
#   BENCH_MSG_TRACE [false]  our client's MsgTraceSwitch (its default is on; the peers trace nothing)
#   BENCH_PACED [1:1000,8:5000]  paced sync phases, TASKS:RATE pairs (empty: none): ours (both header
#                            formats) and the Java loop send with TASKS threads/tasks at RATE messages a
#                            second in all, each call due when the ones before it are, so that their
#                            latency percentiles compare at one offered load (below every client's
#                            throughput); shown as `paced c=TASKS` rows
#   BENCH_BLOCKING [1,8]     ours only: sync sends by that many plain threads, each blocked on its call
#                            (bench_producer --blocking: how the C and Python bindings call the core),
#                            against the peers' sync sends at that concurrency; `blocking c=N` rows
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HARNESS=$REPO/tests/harness/rmq.sh
VERSION=${RMQ_VERSION:-5.3.3}
CACHE=${RMQ_CACHE:-$HOME/.cache/rocketmq-ons}
MESSAGES=${BENCH_MESSAGES:-300000}
MAX_SECS=${BENCH_MAX_SECS:-5}
SWEEP=${BENCH_SWEEP:-1,2,4,8,16,32}
JAVA_SECS=${BENCH_JAVA_SECS:-5}
ROUNDS=${BENCH_ROUNDS:-2}
JAVA_WARMUP=${BENCH_JAVA_WARMUP_SECS:-4}
EXAMPLE_FALLBACK=${BENCH_EXAMPLE_FALLBACK:-5.5.0}
OUT=${BENCH_OUT:-$REPO/target/bench}
PEERS=",${BENCH_PEERS:-java,java-loop,go,rust,cpp},"
# No peer traces its messages (the Java benchmark only with -m true), so ours does not either
# unless asked; tests/bench/trace-cost.sh measures what tracing costs.
export BENCH_MSG_TRACE=${BENCH_MSG_TRACE:-false}
TOPIC=BenchProducer
SIZE=1024 ASYNC_WINDOW=256 ONEWAY_TASKS=8 BATCH=32 BATCH_TASKS=4
PACED=${BENCH_PACED-1:1000,8:5000}
BLOCKING=${BENCH_BLOCKING-1,8}
# distribution/benchmark/runclass.sh sizes the heap like this; its CMS/PermSize options are
# rejected by JDK 17 and left out (the JVM then picks its own collector).
read -r -a JAVA_OPTS <<<"${BENCH_JAVA_OPTS:--server -Xms1g -Xmx1g -Xmn256m -XX:-OmitStackTraceInFastThrow -XX:+PerfDisableSharedMem}"
JDK17_FLAGS=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-exports=java.base/sun.nio.ch=ALL-UNNAMED)

log() { echo "producer.sh: $*" >&2; }
die() { log "$*"; exit 1; }
peer() { [[ $PEERS == *",$1,"* ]]; }
skip_peer() { log "$2: skipping the $1 peer"; PEERS=${PEERS//,$1,/,}; }

mkdir -p "$OUT"
RUN=${BENCH_RUN_DIR:-$OUT/producer-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RUN"

#################################################################### Java benchmark jars

# example_jars: lib dir with org.apache.rocketmq:rocketmq-example and its runtime dependencies.
# Maven Central has rocketmq-example only for some versions (none for 5.3.x); then the benchmark
# classes come from BENCH_EXAMPLE_FALLBACK while the client, remoting and common jars that do
# the work are pinned to the broker's VERSION.
example_jars() {
  local dir=$CACHE/bench-example-$VERSION
  if [[ -f $dir/lib/.complete ]]; then echo "$dir/lib"; return; fi
  mkdir -p "$dir"
  local example pins=""
  for example in "$VERSION" "$EXAMPLE_FALLBACK"; do
    if [[ $example != "$VERSION" ]]; then
      local a
      for a in rocketmq-client rocketmq-common rocketmq-remoting rocketmq-srvutil rocketmq-tools rocketmq-auth; do
        pins+="<dependency><groupId>org.apache.rocketmq</groupId><artifactId>$a</artifactId><version>$VERSION</version></dependency>"
      done
    fi
    cat >"$dir/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by tests/bench/producer.sh: throw-away pom for the Java benchmark producer -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.rocketmq-ons-bench</groupId>
  <artifactId>java-benchmark</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement><dependencies>$pins</dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-example</artifactId><version>$example</version></dependency>
  </dependencies>
</project>
EOF
    rm -rf "$dir/lib.tmp"
    if mvn -q -B -f "$dir/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$dir/lib.tmp" >"$dir/fetch.log" 2>&1; then
      echo "rocketmq-example $example (client jars $VERSION)" >"$dir/lib.tmp/.complete"
      rm -rf "${dir:?}/lib"
      mv "$dir/lib.tmp" "$dir/lib"
      echo "$dir/lib"
      return
    fi
    log "rocketmq-example $example not resolvable (see $dir/fetch.log)"
  done
  die "no rocketmq-example for $VERSION or $EXAMPLE_FALLBACK"
}

#################################################################### build, jars, pinning

log "building bench_producer (--release)"
(cd "$REPO" && cargo build -q --release -p ons-tests --bin bench_producer)
BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/bench_producer
[[ -x $BIN ]] || die "no $BIN"

if peer java; then
  if ! command -v java >/dev/null; then
    skip_peer java "no java"
  elif ! command -v mvn >/dev/null; then
    skip_peer java "no Maven (mvn) to fetch the Java benchmark"
  fi
fi
if peer java; then
  JLIB=$(example_jars)
  JNOTE=$(cat "$JLIB/.complete")
  LOGCONF=$CACHE/bench-example-$VERSION/logback-stderr.xml
  cat >"$LOGCONF" <<'EOF'
<configuration>
  <appender name="E" class="org.apache.rocketmq.logging.ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5p %c{0} - %m%n</pattern></encoder>
  </appender>
  <root level="ERROR"><appender-ref ref="E"/></root>
</configuration>
EOF
fi
if peer go; then
  if command -v go >/dev/null; then
    log "building tests/bench/go-peer (go build)"
    GO_PEER=$OUT/go-peer
    (cd "$REPO/tests/bench/go-peer" && go build -buildvcs=false -o "$GO_PEER" .) || die "go build of tests/bench/go-peer failed"
    GNOTE="github.com/apache/rocketmq-client-go/v2 $(sed -n 's|^require github.com/apache/rocketmq-client-go/v2 ||p' \
      "$REPO/tests/bench/go-peer/go.mod"), $(go version | cut -d' ' -f3)"
  else
    skip_peer go "no go"
  fi
fi

if peer java-loop; then
  if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    skip_peer java-loop "no java or no Maven (mvn) to build tests/java-oracle"
  else
    log "building the Java oracle (once; cached)"
    "$HARNESS" oracle --client-version "$VERSION" -- help >/dev/null
  fi
fi
if peer cpp; then
  CPP_PEER=$OUT/cpp-peer
  log "building tests/bench/cpp-peer (PyPI rocketmq==0.4.4's librocketmq; log $OUT/cpp-peer-build.log)"
  if "$REPO/tests/bench/cpp-peer/build.sh" "$CPP_PEER" >"$OUT/cpp-peer-build.log" 2>&1; then
    CPP_NOTE="librocketmq of PyPI rocketmq==0.4.4 (rocketmq-client-cpp 1.2.3 by its symbols)"
  else
    skip_peer cpp "the build of tests/bench/cpp-peer failed (see $OUT/cpp-peer-build.log)"
  fi
fi
if peer rust; then
  # shellcheck source=rust-peer/build.sh
  source "$REPO/tests/bench/rust-peer/build.sh"
  log "building tests/bench/rust-peer (cargo build --release, target $OUT/rust-peer-target)"
  build_rust_peer "$OUT" || skip_peer rust "no cargo, or the build of tests/bench/rust-peer failed (see $OUT/rust-peer-build.log)"
fi

NCPU=$(nproc)
PIN_BROKER=() PIN_CLIENT=()
if [[ -n ${NAMESRV_ADDR:-} ]]; then
  PINNING="cluster reused from NAMESRV_ADDR (broker not pinned by this script)"
  if command -v taskset >/dev/null && ((NCPU >= 2)); then
    PIN_CLIENT=(taskset -c $((NCPU - 1)))
    PINNING+="; clients on core $((NCPU - 1))"
  fi
elif command -v taskset >/dev/null && ((NCPU >= 2)); then
  BROKER_CPUS=0
  ((NCPU > 2)) && BROKER_CPUS=0-$((NCPU - 2))
  PIN_BROKER=(taskset -c "$BROKER_CPUS") PIN_CLIENT=(taskset -c $((NCPU - 1)))
  PINNING="pinned with taskset: name server + broker (and the Java sampler) on core(s) $BROKER_CPUS, each client (ours, then the peers) alone on core $((NCPU - 1))"
else
  PINNING="not pinned (needs taskset and 2+ cores; nproc=$NCPU)"
fi

#################################################################### cluster and topic

CLUSTER_DIR=
cleanup() {
  if [[ -n $CLUSTER_DIR ]]; then
    log "stopping the cluster"
    "$HARNESS" stop --dir "$CLUSTER_DIR" --purge >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if [[ -z ${NAMESRV_ADDR:-} ]]; then
  CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rmq-bench.XXXXXX")
  log "starting RocketMQ $VERSION in $CLUSTER_DIR (${PINNING})"
  "${PIN_BROKER[@]}" "$HARNESS" start --dir "$CLUSTER_DIR" --auto-ports --version "$VERSION" >/dev/null
  NAMESRV_ADDR=$(sed -n 's/^\(export \)\{0,1\}NAMESRV_ADDR=//p' "$CLUSTER_DIR/env")
  "$HARNESS" mqadmin --dir "$CLUSTER_DIR" -- updateTopic -c DefaultCluster -t "$TOPIC" -r 8 -w 8 >/dev/null
else
  "$HARNESS" mqadmin --version "$VERSION" -- updateTopic -n "$NAMESRV_ADDR" -c DefaultCluster -t "$TOPIC" -r 8 -w 8 >/dev/null
fi
log "name server $NAMESRV_ADDR, topic $TOPIC"

COMMON=(--namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --size "$SIZE")
# The topic reaches the name server with the broker's next registration; wait for a send to work.
for i in $(seq 1 40); do
  if "$BIN" idle "${COMMON[@]}" --format json >/dev/null 2>&1; then break; fi
  ((i < 40)) || die "topic $TOPIC never became usable"
  sleep 1
done

#################################################################### runs

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "warming the broker up (not measured)"
"${PIN_CLIENT[@]}" "$BIN" ours "${COMMON[@]}" --sweep 8 --phases sync --messages 20000 --max-secs 4 >/dev/null

log "idle producer RSS"
for f in json rocketmq; do "${PIN_CLIENT[@]}" "$BIN" idle "${COMMON[@]}" --format "$f"; done >"$RUN/idle.tsv"

BPID=()
if [[ -n $CLUSTER_DIR && -f $CLUSTER_DIR/broker-a.pid ]]; then BPID=(--broker-pid "$(cat "$CLUSTER_DIR/broker-a.pid")"); fi

ours_run() { # PHASES SWEEP: both header formats
  log "ours: $1 ${2:+(in flight $2)}, JSON and ROCKETMQ headers"
  "${PIN_CLIENT[@]}" "$BIN" ours "${COMMON[@]}" "${BPID[@]}" --phases "$1" --sweep "${2:-1}" \
    --messages "$MESSAGES" --max-secs "$MAX_SECS" --async-window "$ASYNC_WINDOW" \
    --oneway-tasks "$ONEWAY_TASKS" --batch "$BATCH" --batch-tasks "$BATCH_TASKS" | tee -a "$RUN/ours.tsv" >&2 || true
}
ours_paced() { # TASKS:RATE: both header formats
  log "ours: sync by ${1%%:*} tasks paced to ${1#*:} msg/s, JSON and ROCKETMQ headers"
  "${PIN_CLIENT[@]}" "$BIN" ours "${COMMON[@]}" "${BPID[@]}" --phases paced --paced "$1" \
    --messages "$MESSAGES" --max-secs "$MAX_SECS" | tee -a "$RUN/ours.tsv" >&2 || true
}
ours_blocking() { # THREADS,...: both header formats
  log "ours: sync from ${1//,/, } blocked threads, JSON and ROCKETMQ headers"
  "${PIN_CLIENT[@]}" "$BIN" ours "${COMMON[@]}" "${BPID[@]}" --phases blocking --blocking "$1" \
    --messages "$MESSAGES" --max-secs "$MAX_SECS" | tee -a "$RUN/ours.tsv" >&2 || true
}
peer_run() { # PEER BINARY MODE CONC ARGS...: go-peer and rust-peer take the same arguments
  local side=$1 binary=$2 mode=$3 conc=$4
  shift 4
  log "$side: $mode $conc $*"
  "${PIN_CLIENT[@]}" "$binary" produce "${COMMON[@]}" "${BPID[@]}" --mode "$mode" --conc "$conc" \
    --messages "$MESSAGES" --max-secs "$MAX_SECS" "$@" | tee -a "$RUN/$side.tsv" >&2 || true
}
go_run() { peer go && peer_run go "$GO_PEER" "$@" || true; }
rust_run() { peer rust && peer_run rust "$RUST_PEER" "$@" || true; }
cpp_run() { peer cpp && peer_run cpp "$CPP_PEER" "$@" || true; }
javaloop_run() { # MODE CONC ARGS...: the Java client in java-oracle's bench-produce loop
  peer java-loop || return 0
  local mode=$1 conc=$2
  shift 2
  log "java-loop: $mode $conc $* (${JAVA_WARMUP}s warm-up)"
  "${PIN_CLIENT[@]}" "$HARNESS" oracle --client-version "$VERSION" -- bench-produce "${COMMON[@]}" "${BPID[@]}" \
    --side java-loop --mode "$mode" --conc "$conc" --messages "$MESSAGES" --max-secs "$MAX_SECS" \
    --warmup-secs "$JAVA_WARMUP" "$@" 2>>"$RUN/java-loop.log" | tee -a "$RUN/java-loop.tsv" >&2 || true
}
JAVA_CMD=("${PIN_CLIENT[@]}" java "${JDK17_FLAGS[@]}" "${JAVA_OPTS[@]}" "-Drmq.logback.configurationFile=${LOGCONF:-}"
  -cp "${JLIB:-}/*") # used only when the java peer runs
JARGS=(-n "$NAMESRV_ADDR" -t "$TOPIC" -s "$SIZE" -k false -c false -ri 1000)
java_run() { # MODE CONC CLASS ARGS...
  peer java || return 0
  local mode=$1 conc=$2 class=$3
  shift 3
  log "Java $class $* (${JAVA_WARMUP}s warm-up, ${JAVA_SECS}s measured)"
  "${PIN_BROKER[@]}" "$BIN" java --namesrv "$NAMESRV_ADDR" --topic "$TOPIC" --mode "$mode" --conc "$conc" \
    "${BPID[@]}" --warmup-secs "$JAVA_WARMUP" --secs "$JAVA_SECS" --log "$RUN/java-$mode-$conc-$round.log" \
    -- "${JAVA_CMD[@]}" "org.apache.rocketmq.example.benchmark.$class" "${JARGS[@]}" "$@" | tee -a "$RUN/java.tsv" >&2 || true
}
# in_turn CMD...: run them all, in this order on odd rounds and reversed on even ones, so no
# side always meets the broker right after the same other one.
in_turn() {
  local cmds=("$@") i
  if ((round % 2)); then
    for ((i = 0; i < ${#cmds[@]}; i++)); do eval "${cmds[i]}"; done
  else
    for ((i = ${#cmds[@]} - 1; i >= 0; i--)); do eval "${cmds[i]}"; done
  fi
}
touch "$RUN/ours.tsv" "$RUN/java.tsv" "$RUN/java-loop.tsv" "$RUN/go.tsv" "$RUN/rust.tsv" "$RUN/cpp.tsv"
for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS"
  for c in ${SWEEP//,/ }; do
    in_turn "ours_run sync $c" "java_run sync $c Producer -w $c" "javaloop_run sync $c" "go_run sync $c" \
      "rust_run sync $c" "cpp_run sync $c"
  done
  in_turn "ours_run async" "java_run async 1 Producer -y true" "javaloop_run async $ASYNC_WINDOW" \
    "go_run async $ASYNC_WINDOW" "rust_run async $ASYNC_WINDOW" "cpp_run async $ASYNC_WINDOW"
  ours_run oneway
  # cpp-peer has no batch phase: the C++ client's batches are stored as one message each.
  in_turn "ours_run batch" "java_run batch $BATCH_TASKS BatchProducer -w $BATCH_TASKS -b $BATCH" \
    "javaloop_run batch $BATCH_TASKS --batch $BATCH" "go_run batch $BATCH_TASKS --batch $BATCH" \
    "rust_run batch $BATCH_TASKS --batch $BATCH"
  for pair in ${PACED//,/ }; do
    in_turn "ours_paced $pair" "javaloop_run sync ${pair%%:*} --rate ${pair#*:}"
  done
  if [[ -n $BLOCKING ]]; then ours_blocking "$BLOCKING"; fi
done

#################################################################### table

MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
MACHINE="nproc=$(nproc --all) ($MODEL), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
if peer java; then MACHINE+=", $(java -version 2>&1 | head -n1)"; fi
PEER_NOTES=
if peer java; then
  PEER_NOTES+="Java: $JNOTE, binary ROCKETMQ request headers; sync = Producer -w N; async = Producer -y true (1 thread, up to 10000 queued);
      batch = BatchProducer -w $BATCH_TASKS -b $BATCH; ${JAVA_SECS}s window after ${JAVA_WARMUP}s of sending, counted by the topic's max offsets;
      CPU = /proc/PID/stat utime+stime delta over the window; RSS = VmHWM; avg RT and errors from its own last report.
"
else
  PEER_NOTES+="Java: not run (BENCH_PEERS or missing tools).
"
fi
if peer go; then
  PEER_NOTES+="Go: $GNOTE, JSON request headers (the client's default), WithRetry(2), default GOGC;
      sync = N goroutines calling SendSync; async = SendAsync, at most $ASYNC_WINDOW in flight; batch = $BATCH_TASKS goroutines x SendSync of $BATCH messages
      (the Go client gives the messages of a batch no UNIQ_KEY message ids, which ours and Java's generate);
      same message cap, time limit and warm-up as ours and measured as ours (getrusage, latency per call, VmHWM reset per phase).
"
else
  PEER_NOTES+="Go: not run (BENCH_PEERS or no go).
"
fi
if peer rust; then
  PEER_NOTES+="Rust: RocketMQ-Rust's client, $RUST_NOTE, JSON request headers (the crate's default), retry_times_when_send_failed(2);
      sync = N tasks awaiting DefaultMQProducer::send; async = send_with_callback, at most $ASYNC_WINDOW in flight; batch = $BATCH_TASKS tasks x send_batch of $BATCH
      messages; same message cap, time limit and warm-up as ours and measured as ours (getrusage, latency per call, VmHWM reset per phase).
"
else
  PEER_NOTES+="Rust: not run (BENCH_PEERS, no cargo or a failed build of tests/bench/rust-peer).
"
fi
if peer java-loop; then
  PEER_NOTES+="Java loop: the same Java client (rocketmq-client $VERSION, JSON request headers, its default) in java-oracle's bench-produce:
      sync = N threads calling send(msg); async = send(msg, callback), at most $ASYNC_WINDOW in flight; batch = $BATCH_TASKS threads x send of $BATCH
      messages; ${JAVA_WARMUP}s of unmeasured sends (JIT) first, then measured as ours (process CPU time, latency per call, VmHWM reset).
"
fi
if [[ -n $PACED ]]; then
  PEER_NOTES+="Paced (${PACED//,/, } as tasks:msg/s): sync sends by that many tasks (ours) or threads (Java loop) at that rate in all, each call due
      when the ones before it are; latency per call from when it was made; p99 ratios there compare at one offered load.
"
fi
if [[ -n $BLOCKING ]]; then
  PEER_NOTES+="Blocking (${BLOCKING//,/, } threads): our sync sends made by plain threads, each blocked on its call (as the C and Python bindings
      call the core), against each peer's sync sends at that concurrency; the sync rows' tasks await on the thread that read the answer.
"
fi
if peer cpp; then
  PEER_NOTES+="C++: $CPP_NOTE, through its C API; sync = N threads calling SendMessageSync; async = SendMessageAsync, at most
      $ASYNC_WINDOW in flight; no batch phase (SendBatchMessage's batches are stored as one message each); measured as ours.
"
fi
NOTES="Broker: Apache RocketMQ $VERSION (tests/harness/rmq.sh), topic $TOPIC with 8 queues; ${PINNING}.
Load average at start/end: $LOAD_START / $(cut -d' ' -f1-3 /proc/loadavg) (anything else running on the machine shares these cores).
Ours: sync = N tasks each awaiting send(); async = send_with_callback, at most $ASYNC_WINDOW in flight; oneway = $ONEWAY_TASKS tasks (phase ends when the broker
      stored them; what it dropped counts as errors); batch = $BATCH_TASKS tasks x send_batch($BATCH). Up to $MESSAGES messages or ${MAX_SECS}s per phase after a warm-up;
      CPU = getrusage(RUSAGE_SELF) delta; peak RSS = VmHWM (reset per phase); allocs = heap allocations per message (counting allocator).
${PEER_NOTES}Broker CPU s per 100k messages (both sides) shows what each client's traffic costs the broker. Brokers answer with JSON headers either way.
$ROUNDS round(s), ours and the peers alternating phase by phase; each side's best run of every phase is shown.
Ratios: thr = our msg/s / the peer's; CPU = our CPU per message / the peer's; RSS = our peak RSS / the peer's."
"$BIN" table --machine "$MACHINE" --notes "$NOTES" "$RUN/idle.tsv" "$RUN/ours.tsv" "$RUN/java.tsv" \
  "$RUN/java-loop.tsv" "$RUN/go.tsv" "$RUN/rust.tsv" "$RUN/cpp.tsv" |
  tee "$RUN/table.txt"
log "records and table in $RUN"
