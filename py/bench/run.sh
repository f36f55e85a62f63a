#!/usr/bin/env bash
# Python benchmark (not a test): this package against the Rust core (tests' bench_producer) in
# the same run, and against PyPI rocketmq==0.4.4 (the C++ client) in its own virtualenv, at equal
# concurrency. Needs a cluster: NAMESRV_ADDR, e.g.
#
#   tests/harness/rmq.sh run --auto-ports -- py/bench/run.sh
#
# BENCH_MESSAGES (default 20000) and BENCH_SECS (default 8) bound each phase.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
: "${NAMESRV_ADDR:?set NAMESRV_ADDR (run under tests/harness/rmq.sh run)}"
# Its own venv: the tests' venv holds a dev-profile build.
ours_venv=${PY_BENCH_VENV:-/tmp/rocketmq-ons-py-bench-venv}
legacy_venv=${LEGACY_VENV:-/tmp/rocketmq-legacy-venv}
msgs=${BENCH_MESSAGES:-20000}
secs=${BENCH_SECS:-8}
out=${BENCH_OUT:-/tmp/rocketmq-ons-py-bench.tsv}
topic=PyBench_$$
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
step "Rust core: sync c=1,8 and async w=256"
"$bench_producer" ours --namesrv "$NAMESRV_ADDR" --topic "$topic" --formats json --sweep 1,8 \
  --phases sync,async --async-window 256 --messages "$msgs" --max-secs "$secs" | tee -a "$out"
step "Python (this package): sync c=1,8 and async w=256"
"$ours_venv/bin/python" "$here/bench.py" ours "${common[@]}" --sync 1,8 --window 256 | tee -a "$out"
step "Python (rocketmq 0.4.4, C++ client): sync c=1,8"
"$legacy_venv/bin/python" "$here/bench.py" legacy "${common[@]}" --sync 1,8 | tee -a "$out" || true

step "consumers: $msgs messages each, 8 listener threads"
"$ours_venv/bin/python" "$here/bench.py" fill --namesrv "$NAMESRV_ADDR" --topic "${topic}_C" --messages "$msgs"
"$ours_venv/bin/python" "$here/bench.py" core-consume --namesrv "$NAMESRV_ADDR" --topic "${topic}_C" \
  --messages "$msgs" --threads 8 --max-secs 60 | tee -a "$out"
"$ours_venv/bin/python" "$here/bench.py" ours-consume --namesrv "$NAMESRV_ADDR" --topic "${topic}_C" \
  --messages "$msgs" --threads 8 --max-secs 60 | tee -a "$out"
"$legacy_venv/bin/python" "$here/bench.py" legacy-consume --namesrv "$NAMESRV_ADDR" --topic "${topic}_C" \
  --messages "$msgs" --threads 8 --max-secs 60 | tee -a "$out" || true

step "results"
"$ours_venv/bin/python" "$here/bench.py" table "$out"
