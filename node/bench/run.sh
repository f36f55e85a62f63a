#!/usr/bin/env bash
# Benchmark (not a test): Node producer and consumer throughput of this package against the
# Rust core (examples/core_bench.rs) and against ali-ons (pure JS, from npm), in one run, same
# broker, same concurrency, SIZE-byte bodies. Prints one JSON line per run and a ratio table.
#
#   node/bench/run.sh
#
# Uses the cluster in NAMESRV_ADDR, or starts one with tests/harness/rmq.sh (and stops it).
# Environment: BENCH_MESSAGES [20000], BENCH_CONCURRENCY [16], BENCH_SIZE [1024],
# CARGO_TARGET_DIR (where the release addon and core_bench are built).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_DIR=$(dirname "$HERE")
REPO=$(dirname "$NODE_DIR")
MESSAGES=${BENCH_MESSAGES:-20000}
CONC=${BENCH_CONCURRENCY:-16}
SIZE=${BENCH_SIZE:-1024}

if [[ -z ${NAMESRV_ADDR:-} ]]; then
  exec "$REPO/tests/harness/rmq.sh" run --auto-ports -- "${BASH_SOURCE[0]}"
fi

log() { echo "bench: $*" >&2; }
log "building the release addon and core_bench"
(cd "$NODE_DIR" && ROCKETMQ_ONS_NODE_PROFILE=release npm run --silent build)
cargo build -q --release --manifest-path "$NODE_DIR/Cargo.toml" --example core_bench
CORE_BENCH=${CARGO_TARGET_DIR:-$REPO/target}/release/examples/core_bench
(cd "$HERE" && npm install --silent --no-audit --no-fund)

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
for side in core ours ali; do
  topic="Bench_${side}_$$"
  (cd "$NODE_DIR" && node -e "new (require('.').Admin)({NAMESRV_ADDR: process.env.NAMESRV_ADDR}).createTopic('$topic', 4)")
  for mode in produce consume; do
    log "$side $mode: $MESSAGES messages, concurrency $CONC, $SIZE bytes"
    if [[ $side == core ]]; then
      "$CORE_BENCH" "$mode" "$NAMESRV_ADDR" "$topic" "$MESSAGES" "$CONC" "$SIZE" | tee -a "$RESULTS"
    else
      (cd "$HERE" && node bench.js "$side" "$mode" "$NAMESRV_ADDR" "$topic" "$MESSAGES" "$CONC" "$SIZE" 2>/dev/null) |
        grep '^{' | tee -a "$RESULTS"
    fi
  done
done

node - "$RESULTS" <<'JS'
const rows = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').map(JSON.parse)
const get = (side, mode) => rows.find((r) => r.side === side && r.mode === mode)
console.log('\nmode      side   msg/s      CPU us/msg')
for (const mode of ['produce', 'consume']) {
  for (const side of ['core', 'ours', 'ali']) {
    const r = get(side, mode)
    console.log(`${mode.padEnd(9)} ${side.padEnd(6)} ${String(r.rate).padStart(9)} ${String(r.cpuUsPerMsg).padStart(12)}`)
  }
  const [core, ours, ali] = ['core', 'ours', 'ali'].map((s) => get(s, mode))
  console.log(`${mode}: node/ali-ons throughput ${(ours.rate / ali.rate).toFixed(2)}x (target >= 3x); ` +
    `node/core CPU per message ${(ours.cpuUsPerMsg / core.cpuUsPerMsg).toFixed(2)}x (target <= 1.5x)`)
}
JS
