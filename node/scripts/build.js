#!/usr/bin/env node
// Builds the native addon into ./rocketmq-ons.<platform>.node.
//
//   node scripts/build.js [--debug] [--if-missing]
//
// `npm install` runs this with --if-missing: when an addon is already there (native.js: a local
// build, or the prebuilt platform package a release installs) it exits at once, so users of the
// release need no Rust; otherwise it builds one, which needs the Rust sources (a checkout) and
// cargo. With @napi-rs/cli present (a development checkout: `npm install` in node/ installs
// devDependencies first) the build goes through `napi build`, which also regenerates
// index.d.ts; without it (installed as a dependency) plain `cargo build` makes the same addon.
// ROCKETMQ_ONS_NODE_PROFILE=debug|release overrides the profile (default release); the build
// honours CARGO_TARGET_DIR.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformTag, localAddonFile, addonPlaces, findAddon, remedy } = require('../native.js')

const root = path.join(__dirname, '..')
const args = process.argv.slice(2)
const target = localAddonFile()
const ifMissing = args.includes('--if-missing')

// ROCKETMQ_ONS_NODE_REBUILD=1 builds even then (run-tests.sh: never test a stale addon).
if (ifMissing && process.env.ROCKETMQ_ONS_NODE_REBUILD !== '1' && findAddon()) {
  process.exit(0)
}
refuseUnbuildable()

const profile = args.includes('--debug') ? 'debug' : process.env.ROCKETMQ_ONS_NODE_PROFILE || 'release'
if (!['debug', 'release'].includes(profile)) {
  fail(`ROCKETMQ_ONS_NODE_PROFILE must be debug or release, got ${profile}`)
}

function fail(message) {
  console.error(`rocketmq-ons: ${message}`)
  process.exit(1)
}

/** Fails, saying why and what to do instead, when this copy cannot build the addon. */
function refuseUnbuildable() {
  let problem = null
  if (!fs.existsSync(path.join(root, 'Cargo.toml'))) {
    problem = 'this copy of the package has no Rust sources (Cargo.toml) to build it from'
  } else if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).error?.code === 'ENOENT') {
    problem = 'cargo is not on PATH'
  }
  if (!problem) return
  const looked = addonPlaces()
    .map((place) => place.description)
    .join(' nor ')
  const what = ifMissing
    ? `no native addon for ${platformTag()} is installed (neither ${looked}), and none can be built here`
    : 'the addon cannot be built here'
  fail(`${what}: ${problem}. To fix it, ${remedy()}.`)
}

function run(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options })
  if (r.error && r.error.code === 'ENOENT') {
    fail(`${cmd} was not found: building the addon needs Rust (https://rustup.rs) on PATH`)
  }
  if (r.status !== 0) fail(`${cmd} ${cmdArgs.join(' ')} failed`)
  return r
}

/**
 * napi declares each stream's `[Symbol.asyncIterator]()` as returning its global
 * `__NapiRsAsyncGenerator`, which says the returned object is itself async-iterable. The object
 * napi makes has only next, return and throw (`for await` over it throws at run time), which is
 * what the standard `AsyncIterator` declares; using it also leaves the user's global scope alone.
 */
function declareAsyncIterators(file) {
  const generated = fs.readFileSync(file, 'utf8')
  const declared = generated
    .replace(/^declare global \{\n  interface __NapiRsAsyncGenerator<[^]*?\n\}\n\n/m, '')
    .replace(/globalThis\.__NapiRsAsyncGenerator<\w+, /g, 'globalThis.AsyncIterator<')
  if (declared.includes('__NapiRsAsyncGenerator')) {
    fail(`${path.basename(file)}: napi declared its async generators in an unknown way; update declareAsyncIterators()`)
  }
  fs.writeFileSync(file, declared)
}

function napiCli() {
  try {
    return require.resolve('@napi-rs/cli/package.json', { paths: [root] })
  } catch {
    return null
  }
}

const started = Date.now()
if (napiCli()) {
  const napiArgs = ['build', '--platform', '--no-js', '--dts', 'index.d.ts', '--no-const-enum', '--runtime-string-enum', '--manifest-path', 'Cargo.toml', '--output-dir', '.']
  if (profile === 'release') napiArgs.push('--release')
  run(process.execPath, [path.join(path.dirname(napiCli()), 'dist', 'cli.js'), ...napiArgs])
  declareAsyncIterators(path.join(root, 'index.d.ts'))
} else {
  const cargoArgs = ['build', '--manifest-path', 'Cargo.toml', '--lib', '--message-format=json-render-diagnostics']
  if (profile === 'release') cargoArgs.push('--release')
  const r = run('cargo', cargoArgs, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20 })
  let artifact = null
  for (const line of r.stdout.toString().split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line)
    if (msg.reason === 'compiler-artifact' && msg.target.name === 'rocketmq_ons_node') {
      artifact = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f))
    }
  }
  if (!artifact) fail('cargo built no rocketmq_ons_node library')
  // Copy to a temporary name first: a process that has the old addon loaded keeps its mapping.
  fs.copyFileSync(artifact, `${target}.tmp`)
  fs.renameSync(`${target}.tmp`, target)
}
if (!fs.existsSync(target)) fail(`the build did not produce ${path.basename(target)}`)
console.error(`rocketmq-ons: built ${path.basename(target)} (${profile}) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
