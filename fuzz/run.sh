#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) under libFuzzer's memory limits: an
# input whose decoding takes more than 512 MB resident, or asks for one allocation over
# 256 MB, is a failure (its input is saved under fuzz/artifacts/). Needs a nightly toolchain
# and cargo-fuzz (`cargo install cargo-fuzz`). Not part of tests/run.sh: the same decoders are
# covered there by property tests with a counting allocator (core/tests/hostile_memory.rs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
secs=${1:-60}
for target in route pull_reply frame; do
  corpus=corpus/$target
  mkdir -p "$corpus"
  [[ -d seeds/$target ]] && cp -n seeds/$target/* "$corpus"/ 2>/dev/null || true
  cargo +nightly fuzz run "$target" "$corpus" -- \
    -max_total_time="$secs" -rss_limit_mb=512 -malloc_limit_mb=256 -max_len=65536
done
