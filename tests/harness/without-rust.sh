#!/usr/bin/env bash
# Runs a command as a machine without Rust would: every PATH entry that holds cargo, rustc or
# rustup is dropped, CARGO_HOME, RUSTUP_HOME, CARGO_TARGET_DIR and RUSTC are unset. The install
# tests of the release artifacts run under it, so an artifact that silently builds from source
# (or downloads a toolchain) fails instead of passing slowly.
#
#   tests/harness/without-rust.sh COMMAND [ARGS...]
set -euo pipefail
(($# > 0)) || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

kept=()
IFS=: read -r -a entries <<<"${PATH:-}"
for dir in "${entries[@]}"; do
  [[ -n $dir ]] || continue
  if [[ -e $dir/cargo || -e $dir/rustc || -e $dir/rustup ]]; then
    continue
  fi
  kept+=("$dir")
done
scrubbed=$(IFS=:; echo "${kept[*]}")
unset CARGO_HOME RUSTUP_HOME CARGO_TARGET_DIR RUSTC RUSTUP_TOOLCHAIN
export PATH=$scrubbed
if command -v cargo >/dev/null 2>&1 || command -v rustc >/dev/null 2>&1; then
  echo "without-rust.sh: cargo or rustc is still reachable on PATH=$PATH" >&2
  exit 1
fi
exec "$@"
