#!/usr/bin/env bash
# Benchmark (not a test): Node producer and consumer throughput of this package against the
# Rust core (examples/core_bench.rs) and against ali-ons (pure JS, from npm), in one run, same
# broker, same concurrency, SIZE-byte bodies. Prints one JSON line per run and a ratio table.
#
#   node/bench/run.sh
#
# Uses the cluster in NAMESRV_ADDR, or starts one with tests/harness/rmq.sh (and stops it). A
# cluster it starts itself runs on core 0 and every client alone on the last core (taskset, on
# 2+ cores), so a client's throughput is its own and not its share of a core with the broker.
# The broker is warmed up first (its JIT would otherwise slow whichever side runs first), then
# BENCH_ROUNDS rounds run core, ours, ali in turn; the table shows each side's best round, and
# the addon's CPU per message over the core's paired by round (the median of the rounds' ratios).
# Each round also sends BENCH_SINGLE_MESSAGES one at a time (`await send()` in a loop), where the
# cost of starting a send and settling its promise is not shared with other sends.
# Environment: BENCH_MESSAGES [100000], BENCH_WARMUP [200000], BENCH_CONCURRENCY [16], BENCH_SIZE [1024],
# BENCH_SINGLE_MESSAGES [20000], BENCH_ROUNDS [2], CARGO_TARGET_DIR (where the release addon and
# core_bench are built).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_DIR=$(dirname "$HERE")
REPO=$(dirname "$NODE_DIR")
MESSAGES=${BENCH_MESSAGES:-100000}
# The broker needs a few hundred thousand messages before its JIT and its commit log files stop
# slowing it down.
WARMUP=${BENCH_WARMUP:-200000}
CONC=${BENCH_CONCURRENCY:-16}
SIZE=${BENCH_SIZE:-1024}
ROUNDS=${BENCH_ROUNDS:-2}
SINGLE=${BENCH_SINGLE_MESSAGES:-20000}

# shellcheck source=../../tests/harness/bench-cluster.sh
source "$REPO/tests/harness/bench-cluster.sh"
bench_cluster "${BASH_SOURCE[0]}"
PIN=("${BENCH_PIN[@]}")

log() { echo "bench: $*" >&2; }
log "building the release addon and core_bench"
(cd "$NODE_DIR" && ROCKETMQ_ONS_NODE_PROFILE=release npm run --silent build)
cargo build -q --release --manifest-path "$NODE_DIR/Cargo.toml" --example core_bench
CORE_BENCH=${CARGO_TARGET_DIR:-$REPO/target}/release/examples/core_bench
(cd "$HERE" && npm install --silent --no-audit --no-fund)

create_topic() {
  (cd "$NODE_DIR" && node -e "new (require('.').Admin)({NAMESRV_ADDR: process.env.NAMESRV_ADDR}).createTopic('$1', 4)")
}
log "${PIN[*]:-not pinned}; warming the broker up (not measured)"
create_topic "Bench_warm_$$"
for mode in produce consume; do
  "${PIN[@]}" "$CORE_BENCH" "$mode" "$NAMESRV_ADDR" "Bench_warm_$$" "$WARMUP" "$CONC" "$SIZE" >/dev/null
done

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
for round in $(seq 1 "$ROUNDS"); do
  for side in core ours ali; do
    topic="Bench_${side}_${round}_$$"
    create_topic "$topic"
    for run in "produce $MESSAGES $CONC" "consume $MESSAGES $CONC" "produce $SINGLE 1"; do
      read -r mode count conc <<<"$run"
      log "round $round, $side $mode: $count messages, concurrency $conc, $SIZE bytes"
      if [[ $side == core ]]; then
        "${PIN[@]}" "$CORE_BENCH" "$mode" "$NAMESRV_ADDR" "$topic" "$count" "$conc" "$SIZE" | tee -a "$RESULTS"
      else
        (cd "$HERE" && "${PIN[@]}" node bench.js "$side" "$mode" "$NAMESRV_ADDR" "$topic" "$count" "$conc" "$SIZE" \
          2>/dev/null) | grep '^{' | tee -a "$RESULTS"
      fi
    done
  done
done

ROUNDS=$ROUNDS PINNING="${PIN[*]:-not pinned}" node - "$RESULTS" <<'JS'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse)
// Each side's best round: its highest rate and its lowest CPU per message.
const get = (side, mode, conc) => {
  const mine = rows.filter((r) => r.side === side && r.mode === mode && r.concurrency === conc)
  return { rate: Math.max(...mine.map((r) => r.rate)), cpuUsPerMsg: Math.min(...mine.map((r) => r.cpuUsPerMsg)) }
}
console.log(`\nbest of ${process.env.ROUNDS} rounds; ${process.env.PINNING}`)
console.log('mode      conc side   msg/s      CPU us/msg')
const runs = [...new Set(rows.map((r) => `${r.mode} ${r.concurrency}`))].map((k) => k.split(' '))
for (const [mode, concText] of runs) {
  const conc = Number(concText)
  for (const side of ['core', 'ours', 'ali']) {
    const r = get(side, mode, conc)
    console.log(`${mode.padEnd(9)} ${String(conc).padStart(4)} ${side.padEnd(6)} ${String(r.rate).padStart(9)} ` +
      `${String(r.cpuUsPerMsg).padStart(12)}`)
  }
  const [core, ours, ali] = ['core', 'ours', 'ali'].map((s) => get(s, mode, conc))
  console.log(`${mode} at ${conc} in flight: node/ali-ons throughput ${(ours.rate / ali.rate).toFixed(2)}x ` +
    `(target >= 3x); node/core CPU per message ${(ours.cpuUsPerMsg / core.cpuUsPerMsg).toFixed(2)}x (target <= 1.5x)`)
}
// The best rounds of two sides may come from different states of the VM; a round's core and
// addon runs are a minute or two apart. So the ratios of each round's pair too, and their
// median (rows are recorded round by round, so a side's n-th row of a run is from round n).
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}
// A side's CPU per message falls as its rate rises (more messages per socket call and per
// wake-up), and the broker's pace moves the rate between rounds: each round's ratio is listed
// with both sides' rates, in thousands of messages a second.
console.log('\nnode/core CPU per message, paired by round (each round\'s addon over that round\'s core;')
console.log('in brackets the addon\'s and the core\'s msg/s that round, in thousands):')
for (const [mode, concText] of runs) {
  const conc = Number(concText)
  const of = (side) => rows.filter((r) => r.side === side && r.mode === mode && r.concurrency === conc)
  const [core, ours] = [of('core'), of('ours')]
  const ratios = ours.slice(0, core.length).map((r, i) => r.cpuUsPerMsg / core[i].cpuUsPerMsg)
  if (ratios.length > 0) {
    console.log(`  ${mode} at ${conc} in flight: median ${median(ratios).toFixed(2)}x over ${ratios.length} rounds: ` +
      ratios.map((r, i) => `${r.toFixed(2)} (${(ours[i].rate / 1e3).toFixed(0)}/${(core[i].rate / 1e3).toFixed(0)})`).join(' '))
  }
}
JS
