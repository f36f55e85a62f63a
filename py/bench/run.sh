#!/usr/bin/env bash
# Python benchmark (not a test): this package against the Rust core (tests' bench_producer) in
# the same run, and against PyPI rocketmq==0.4.4 (the C++ client) in its own virtualenv, at equal
# concurrency.
#
#   py/bench/run.sh
#
# Uses the cluster in NAMESRV_ADDR, or starts one with tests/harness/rmq.sh (and stops it). A
# cluster it starts itself runs on core 0 and every client alone on the last core (taskset, on
# 2+ cores). The broker is warmed up first (BENCH_WARMUP messages; its JIT and fresh commit log
# files would otherwise slow whichever client runs first), then BENCH_ROUNDS rounds run every
# client in turn; the table shows each client's best round. The core's sync sends run twice: as
# runtime tasks (`rust`, what the targets compare with) and from plain threads each blocked on
# its call (`rust-threads`, bench_producer's blocking phase), as a Python thread calls it.
# BENCH_MESSAGES (default 20000) and BENCH_SECS (default 8) bound each send phase;
# BENCH_CONSUME_MESSAGES (default 100000) per consumer; BENCH_ROUNDS (default 2), BENCH_WARMUP
# (default 200000).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=../../tests/harness/bench-cluster.sh
source "$repo/tests/harness/bench-cluster.sh"
bench_cluster "${BASH_SOURCE[0]}"
pin=("${BENCH_PIN[@]}")
rounds=${BENCH_ROUNDS:-2}
warmup=${BENCH_WARMUP:-200000}
# Its own venv: the tests' venv holds a dev-profile build.
ours_venv=${PY_BENCH_VENV:-/tmp/rocketmq-ons-py-bench-venv}
legacy_venv=${LEGACY_VENV:-/tmp/rocketmq-legacy-venv}
msgs=${BENCH_MESSAGES:-20000}
consume_msgs=${BENCH_CONSUME_MESSAGES:-100000}
secs=${BENCH_SECS:-8}
out=${BENCH_OUT:-/tmp/rocketmq-ons-py-bench.tsv}
topic=PyBench_$$
# Our clients run untraced (MsgTraceSwitch=false, here for the core's bench_producer, in bench.py
# for this package), as rocketmq 0.4.4 traces nothing.
export BENCH_MSG_TRACE=false
step() { printf '\n=== %s ===\n' "$*" >&2; }

[[ -x $ours_venv/bin/python ]] || python3 -m venv "$ours_venv"
# Reinstalled every run (an optimized build of the current sources; cargo keeps it incremental).
step "pip install ./py (release build) into $ours_venv"
MATURIN_PEP517_ARGS="--profile release" "$ours_venv/bin/pip" install -q --force-reinstall "$repo/py"
if [[ ! -x $legacy_venv/bin/python ]]; then
  step "installing rocketmq==0.4.4 into $legacy_venv"
  python3 -m venv "$legacy_venv"
  "$legacy_venv/bin/pip" install -q rocketmq==0.4.4
fi
step "building bench_producer (the Rust core's benchmark)"
(cd "$repo" && cargo build -q --release -p ons-tests --bin bench_producer)
bench_producer=$(cd "$repo" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/bench_producer

common=(--namesrv "$NAMESRV_ADDR" --topic "$topic" --messages "$msgs" --max-secs "$secs")
: > "$out"
for t in "$topic" "${topic}_C"; do
  "$ours_venv/bin/python" "$here/bench.py" topic --namesrv "$NAMESRV_ADDR" --topic "$t"
done
step "warming the broker up: $warmup messages (not measured)"
"${pin[@]}" "$bench_producer" ours --namesrv "$NAMESRV_ADDR" --topic "$topic" --formats json --sweep 16 \
  --phases sync --messages "$warmup" --max-secs 120 >/dev/null
"$ours_venv/bin/python" "$here/bench.py" fill --namesrv "$NAMESRV_ADDR" --topic "${topic}_C" --messages "$consume_msgs"

for round in $(seq 1 "$rounds"); do
  step "round $round: Rust core: sync c=1,8 (tasks, then blocked threads) and async w=1,256"
  "${pin[@]}" "$bench_producer" ours --namesrv "$NAMESRV_ADDR" --topic "$topic" --formats json --sweep 1,8 \
    --blocking 1,8 --phases sync,blocking,async --async-window 1,256 --messages "$msgs" --max-secs "$secs" | tee -a "$out"
  step "round $round: Python (this package): sync c=1,8 and async w=1,256"
  "${pin[@]}" "$ours_venv/bin/python" "$here/bench.py" ours "${common[@]}" --sync 1,8 --window 1,256 | tee -a "$out"
  step "round $round: Python (rocketmq 0.4.4, C++ client): sync c=1,8"
  "${pin[@]}" "$legacy_venv/bin/python" "$here/bench.py" legacy "${common[@]}" --sync 1,8 | tee -a "$out" || true

  step "round $round: consumers: $consume_msgs messages each (a new group from the first offset), 8 listener threads"
  "${pin[@]}" "$ours_venv/bin/python" "$here/bench.py" core-consume --namesrv "$NAMESRV_ADDR" --topic "${topic}_C" \
    --messages "$consume_msgs" --threads 8 --max-secs 60 | tee -a "$out"
  "${pin[@]}" "$ours_venv/bin/python" "$here/bench.py" ours-consume --namesrv "$NAMESRV_ADDR" --topic "${topic}_C" \
    --messages "$consume_msgs" --threads 8 --max-secs 60 | tee -a "$out"
  "${pin[@]}" "$legacy_venv/bin/python" "$here/bench.py" legacy-consume --namesrv "$NAMESRV_ADDR" --topic "${topic}_C" \
    --messages "$consume_msgs" --threads 8 --max-secs 60 | tee -a "$out" || true
done

step "results (${pin[*]:-not pinned}; best of $rounds rounds)"
"$ours_venv/bin/python" "$here/bench.py" table "$out"
