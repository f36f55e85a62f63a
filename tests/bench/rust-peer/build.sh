# Sourced by tests/bench/producer.sh and tests/bench/consumer.sh (not run on its own).
#
# build_rust_peer OUT: builds tests/bench/rust-peer with `cargo build --release` into its own
# target directory OUT/rust-peer-target (its dependency tree is the rocketmq-client-rust crate's,
# unrelated to the root workspace's), logging to OUT/rust-peer-build.log. On success sets
# RUST_PEER (the binary) and RUST_NOTE (the crate's version from the peer's Cargo.lock, rustc's
# version and how long the build took); returns 1 when cargo is missing or the build fails.
build_rust_peer() {
  local out=$1 dir started
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  command -v cargo >/dev/null || return 1
  mkdir -p "$out"
  started=$SECONDS
  if ! cargo build --release --locked --manifest-path "$dir/Cargo.toml" --target-dir "$out/rust-peer-target" \
    >"$out/rust-peer-build.log" 2>&1; then
    tail -n 5 "$out/rust-peer-build.log" >&2
    return 1
  fi
  RUST_PEER=$out/rust-peer-target/release/rust-peer
  RUST_NOTE="rocketmq-client-rust $(sed -n '/^name = "rocketmq-client-rust"$/{n;s/^version = "\(.*\)"$/\1/p;}' \
    "$dir/Cargo.lock"), $(rustc --version | cut -d' ' -f1-2); this run's cargo build: $((SECONDS - started)) s"
}
