#!/usr/bin/env node
// Makes the Node package's release tarballs, in the layout of napi-rs projects: the main package
// (JS and types, no addon) and a platform package holding a prebuilt addon, which the main one
// lists as an optional dependency, so users install without Rust.
//
//   node scripts/pack.js --addon PATH_TO_STRIPPED_NODE --out DIR [--platform TAG]
//
// Leaves rocketmq-ons-VERSION.tgz and rocketmq-ons-TAG-VERSION.tgz in DIR; TAG defaults to this
// machine's (native.js), and node/npm/TAG/package.json is the platform package's template. The
// optional dependency is written into the packed package.json only, as `napi pre-publish` does:
// listed in node/package.json, it would make `npm ci` in a checkout demand a package that is
// not on the registry.
'use strict'

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { platformTag } = require('../native.js')

const nodeDir = path.join(__dirname, '..')
const repoRoot = path.join(nodeDir, '..')

/** Stops packing: thrown, so that the staging folder is still removed. */
class PackError extends Error {}

function fail(message) {
  throw new PackError(message)
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'))
const writeJson = (file, value) => fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`)

function options() {
  const { values } = parseArgs({
    options: { addon: { type: 'string' }, out: { type: 'string' }, platform: { type: 'string' } },
  })
  if (!values.addon || !values.out) fail('usage: node scripts/pack.js --addon PATH_TO_STRIPPED_NODE --out DIR [--platform TAG]')
  if (!fs.statSync(values.addon, { throwIfNoEntry: false })?.isFile()) fail(`--addon ${values.addon} is not a file`)
  return { addon: path.resolve(values.addon), out: path.resolve(values.out), tag: values.platform ?? platformTag() }
}

function workspaceVersion() {
  const manifest = fs.readFileSync(path.join(repoRoot, 'Cargo.toml'), 'utf8')
  const section = manifest.split(/^\[/m).find((s) => s.startsWith('workspace.package]'))
  const version = section && /^version\s*=\s*"([^"]+)"/m.exec(section)
  if (!version) fail('Cargo.toml has no version in [workspace.package]')
  return version[1]
}

/** The one version every manifest states; fails naming each one when they differ. */
function agreedVersion(stated) {
  const distinct = new Set(Object.values(stated))
  if (distinct.size !== 1) {
    fail(`the versions differ: ${Object.entries(stated).map(([where, v]) => `${where} ${v}`).join(', ')}`)
  }
  return [...distinct][0]
}

function copyInto(dir, from, name = path.basename(from)) {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
  fs.copyFileSync(from, path.join(dir, name))
}

/** `npm pack` of `dir` into `out`: npm's report (filename, size, unpackedSize, files). */
function npmPack(dir, out) {
  const json = execFileSync('npm', ['pack', '--json', '--loglevel=warn', '--pack-destination', out], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return JSON.parse(json)[0]
}

/** The package.json inside a tarball: what actually ships. */
function packedManifest(tarball) {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }))
}

const humanSize = (bytes) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`)

function main() {
  const { addon, out, tag } = options()
  const mainManifest = readJson(path.join(nodeDir, 'package.json'))
  const templateDir = path.join(nodeDir, 'npm', tag)
  if (!fs.existsSync(path.join(templateDir, 'package.json'))) {
    fail(`no platform package template for ${tag} (${path.relative(repoRoot, templateDir)}/package.json)`)
  }
  const platformManifest = readJson(path.join(templateDir, 'package.json'))
  const addonName = `${mainManifest.name}.${tag}.node`
  if (platformManifest.main !== addonName) fail(`node/npm/${tag}/package.json: main should be ${addonName}`)

  const version = agreedVersion({
    'node/package.json': mainManifest.version,
    [`node/npm/${tag}/package.json`]: platformManifest.version,
    'Cargo.toml [workspace.package]': workspaceVersion(),
  })
  const license = path.join(repoRoot, 'LICENSE')

  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'rocketmq-ons-pack-'))
  try {
    const mainDir = path.join(stage, 'main')
    for (const entry of mainManifest.files) {
      if (/[*?[{]/.test(entry)) fail(`node/package.json files: ${entry}: only plain paths are staged`)
      copyInto(mainDir, path.join(nodeDir, entry), entry)
    }
    copyInto(mainDir, license)
    writeJson(path.join(mainDir, 'package.json'), {
      ...mainManifest,
      optionalDependencies: { ...mainManifest.optionalDependencies, [platformManifest.name]: version },
    })

    const platformDir = path.join(stage, 'platform')
    copyInto(platformDir, path.join(templateDir, 'package.json'))
    copyInto(platformDir, addon, addonName)
    copyInto(platformDir, license)
    // A file that is not a loadable addon for this platform must not ship.
    let exported
    try {
      exported = require(platformDir)
    } catch (e) {
      fail(`${addon} does not load as an addon here: ${e.message}`)
    }
    if (typeof exported.ONSFactory !== 'function') fail(`${addon} is not the rocketmq-ons addon`)

    fs.mkdirSync(out, { recursive: true })
    const packed = [npmPack(mainDir, out), npmPack(platformDir, out)]
    const [mainPacked, platformPacked] = packed
    const nodeFiles = mainPacked.files.filter((f) => f.path.endsWith('.node'))
    if (nodeFiles.length > 0) fail(`${mainPacked.filename} contains ${nodeFiles.map((f) => f.path).join(', ')}`)
    if (!platformPacked.files.some((f) => f.path === addonName)) fail(`${platformPacked.filename} lacks ${addonName}`)
    const shipped = packedManifest(path.join(out, mainPacked.filename))
    agreedVersion({
      [`${mainPacked.filename} version`]: shipped.version,
      [`${mainPacked.filename} optionalDependencies`]: shipped.optionalDependencies?.[platformManifest.name],
      [`${platformPacked.filename} version`]: packedManifest(path.join(out, platformPacked.filename)).version,
      'the sources': version,
    })

    for (const p of packed) {
      console.log(
        `${path.join(out, p.filename)}: ${humanSize(p.size)} (${p.size} bytes), ` +
          `unpacked ${humanSize(p.unpackedSize)} (${p.unpackedSize} bytes), ${p.files.length} files`,
      )
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true })
  }
}

try {
  main()
} catch (e) {
  console.error(e instanceof PackError ? `pack.js: ${e.message}` : e)
  process.exitCode = 1
}
