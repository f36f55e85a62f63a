#!/usr/bin/env bash
# The Node package's checks, against the cluster in NAMESRV_ADDR. Run it under the harness:
#
#   tests/harness/rmq.sh run --auto-ports --broker-conf transactionCheckInterval=3000 -- node/run-tests.sh
#
# By default it tests this source tree: `npm ci` builds and installs the addon (the package's
# install script; debug profile unless ROCKETMQ_ONS_NODE_PROFILE says otherwise: it compiles in
# about half the CPU time, and the tests measure nothing), then the committed index.d.ts must
# equal the generated one.
#
# With ONS_NODE_DIST=DIR (a folder holding the release tarballs rocketmq-ons-VERSION.tgz and
# rocketmq-ons-linux-x64-gnu-VERSION.tgz, made by scripts/pack.js) it tests those instead: both
# are installed offline into a fresh folder with cargo and rustc off PATH
# (tests/harness/without-rust.sh), and everything after runs against that installed copy, also
# without Rust. The tarballs' index.d.ts must equal the committed one.
#
# Then, in both modes: `tsc --noEmit --strict` over test/types/*.ts and the README's Node.js
# examples, the examples run against the cluster, and `node --test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

: "${NAMESRV_ADDR:?run under tests/harness/rmq.sh run ... -- node/run-tests.sh}"
without_rust=$(cd .. && pwd)/tests/harness/without-rust.sh
max_installed_bytes=10000000
step() { printf '\n=== %s ===\n' "$*" >&2; }
die() {
  echo "run-tests.sh: $*" >&2
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A user's project: its node_modules holds the rocketmq-ons under test.
project=$(mktemp -d "${TMPDIR:-/tmp}/rocketmq-ons-node-project.XXXXXX")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rocketmq-ons-node-scratch.XXXXXX")
trap 'rm -rf "$project" "$scratch"' EXIT
# How the examples and the tests are run: as they are, or (testing the tarballs) without Rust.
run=()

if [[ -z ${ONS_NODE_DIST:-} ]]; then
  export ROCKETMQ_ONS_NODE_PROFILE=${ROCKETMQ_ONS_NODE_PROFILE:-debug}
  step "npm ci (builds the addon, $ROCKETMQ_ONS_NODE_PROFILE)"
  ROCKETMQ_ONS_NODE_REBUILD=1 npm ci --no-audit --no-fund

  step "index.d.ts drift"
  if ! git diff --exit-code -- index.d.ts; then
    die "node/index.d.ts differs from the generated one: run 'npm run build' in node/ and commit it"
  fi
  mkdir "$project/node_modules"
  ln -s "$PWD" "$project/node_modules/rocketmq-ons"
else
  dist=$(cd "$ONS_NODE_DIST" && pwd)
  shopt -s nullglob
  main_tarballs=("$dist"/rocketmq-ons-[0-9]*.tgz)
  platform_tarballs=("$dist"/rocketmq-ons-linux-x64-gnu-[0-9]*.tgz)
  shopt -u nullglob
  ((${#main_tarballs[@]} == 1 && ${#platform_tarballs[@]} == 1)) ||
    die "ONS_NODE_DIST=$dist must hold one rocketmq-ons-VERSION.tgz and one rocketmq-ons-linux-x64-gnu-VERSION.tgz"

  step "npm ci --ignore-scripts (the type checker; no addon is built)"
  npm ci --ignore-scripts --no-audit --no-fund

  step "npm install of the two tarballs into $project, offline, without Rust"
  started=$(now_ms)
  (cd "$project" && "$without_rust" npm install --no-audit --no-fund --offline "${main_tarballs[0]}" "${platform_tarballs[0]}")
  install_ms=$(($(now_ms) - started))
  installed_bytes=$(du -sb "$project/node_modules/rocketmq-ons" "$project/node_modules/rocketmq-ons-linux-x64-gnu" | awk '{ sum += $1 } END { print sum }')
  echo "install time: $((install_ms / 1000)).$(printf '%03d' $((install_ms % 1000))) s; installed size: $installed_bytes bytes ($(du -sh "$project/node_modules" | cut -f1) on disk)" >&2
  ((installed_bytes <= max_installed_bytes)) || die "installed size $installed_bytes bytes exceeds $max_installed_bytes"

  step "the installed copy: its addon is the platform package's, nothing was built, its index.d.ts is the committed one"
  loaded=$(cd "$project" && "$without_rust" node -e \
    "require('rocketmq-ons'); console.log(Object.keys(require.cache).filter((f) => f.endsWith('.node')).join(' '))")
  [[ $loaded == "$project/node_modules/rocketmq-ons-linux-x64-gnu/rocketmq-ons.linux-x64-gnu.node" ]] ||
    die "the installed package loaded '$loaded', not the platform package's addon"
  built=$(find "$project/node_modules/rocketmq-ons" -name '*.node')
  [[ -z $built ]] || die "the install built an addon: $built"
  cmp index.d.ts "$project/node_modules/rocketmq-ons/index.d.ts" ||
    die "the tarball's index.d.ts differs from node/index.d.ts"

  step "the package tarball alone (no prebuilt addon, no Rust): the install fails and says why"
  if (cd "$scratch" && "$without_rust" npm install --no-audit --no-fund --offline "${main_tarballs[0]}") >"$scratch/out.txt" 2>&1; then
    die "installing rocketmq-ons without its addon and without Rust succeeded"
  fi
  grep -E 'no native addon for linux-x64-gnu .*none can be built here' "$scratch/out.txt" >&2 ||
    { cat "$scratch/out.txt" >&2; die "the failed install did not say why"; }

  export ROCKETMQ_ONS_NODE_PACKAGE=$project/node_modules/rocketmq-ons
  run=("$without_rust")
fi

step "tsc --noEmit --strict: test/types/*.ts and the README's Node.js examples"
mapfile -t examples < <(node test/readme.js "$project" "$NAMESRV_ADDR")
cp test/types/*.ts "$project/"
cat >"$project/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "target": "es2022",
    "module": "nodenext",
    "allowJs": true,
    "checkJs": true,
    "types": ["node"],
    "typeRoots": ["$PWD/node_modules/@types"]
  },
  "include": ["*.ts", "*.js", "*.mjs"]
}
EOF
node node_modules/typescript/bin/tsc --noEmit --strict -p "$project/tsconfig.json"
echo "checked $(cd test/types && echo *.ts) ${examples[*]}" >&2

step "the README's Node.js examples against $NAMESRV_ADDR"
for example in "${examples[@]}"; do
  echo "--- $example" >&2
  (cd "$project" && timeout 120 "${run[@]}" node "$example")
done

step "node --test${ROCKETMQ_ONS_NODE_PACKAGE:+ (the package in $ROCKETMQ_ONS_NODE_PACKAGE)}"
"${run[@]}" node --test test/*.test.js
