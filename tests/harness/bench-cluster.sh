# Sourced by the binding benchmarks (py/bench/run.sh, node/bench/run.sh): gives the benchmark a
# cluster and keeps the broker and the measured client off each other's cores.
#
#   source tests/harness/bench-cluster.sh; bench_cluster "${BASH_SOURCE[0]}"; "${BENCH_PIN[@]}" client ...
#
# Without NAMESRV_ADDR, bench_cluster re-runs the script under rmq.sh (which starts a cluster,
# runs it and stops the cluster): with 2+ cores and taskset the cluster runs on every core but
# the last, and BENCH_CLIENT_CPU names the last one for the clients. With NAMESRV_ADDR set (a
# cluster of the caller's, or the re-run) it only sets BENCH_PIN: the command prefix that pins a
# client to BENCH_CLIENT_CPU, or nothing.

bench_cluster() {
  local script=$1 rmq
  rmq="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rmq.sh"
  if [[ -z ${NAMESRV_ADDR:-} ]]; then
    local ncpu
    ncpu=$(nproc)
    if command -v taskset >/dev/null && ((ncpu >= 2)); then
      export BENCH_CLIENT_CPU=$((ncpu - 1))
      exec taskset -c 0-$((ncpu - 2)) "$rmq" run --auto-ports -- "$script"
    fi
    exec "$rmq" run --auto-ports -- "$script"
  fi
  BENCH_PIN=()
  [[ -z ${BENCH_CLIENT_CPU:-} ]] || BENCH_PIN=(taskset -c "$BENCH_CLIENT_CPU")
}
