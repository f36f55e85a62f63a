// Where the native addon comes from, for index.js (loading it) and scripts/build.js (deciding
// whether to build one). Two places, in this order:
//   1. rocketmq-ons.<platformTag>.node next to this file: a build from source (a checkout);
//   2. the package rocketmq-ons-<platformTag>: the prebuilt addon a release installs as an
//      optional dependency, so users need no Rust.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const PACKAGE_NAME = 'rocketmq-ons'

function isMusl() {
  if (process.platform !== 'linux') return false
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
  return !report?.header?.glibcVersionRuntime
}

// The same names `napi build --platform` gives: linux-x64-gnu, darwin-arm64, win32-x64-msvc, ...
function platformTag() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

const localAddonFile = () => path.join(__dirname, `${PACKAGE_NAME}.${platformTag()}.node`)
const platformPackageName = () => `${PACKAGE_NAME}-${platformTag()}`

/**
 * The places an addon may come from, in the order they are tried; `find()` returns what to pass
 * to `require` when the place holds an addon, or null.
 */
function addonPlaces() {
  const file = localAddonFile()
  const pkg = platformPackageName()
  return [
    { description: `${file} (a build from source)`, find: () => (fs.existsSync(file) ? file : null) },
    {
      description: `the package ${pkg} (the prebuilt addon, an optional dependency)`,
      find: () => {
        try {
          return require.resolve(pkg, { paths: [__dirname] })
        } catch (e) {
          if (e.code === 'MODULE_NOT_FOUND') return null
          throw e
        }
      },
    },
  ]
}

/** The first place that holds an addon (without loading it), or null. */
function findAddon() {
  for (const place of addonPlaces()) {
    const found = place.find()
    if (found) return { ...place, found }
  }
  return null
}

/** How to get an addon, for the errors of index.js and scripts/build.js. */
function remedy() {
  return (
    `install ${platformPackageName()} next to ${PACKAGE_NAME} (the release has it as a tarball; ` +
    `npm must not omit optional dependencies), or install ${PACKAGE_NAME} from a source checkout ` +
    '(`npm install path/to/rocketmq-ons/node`, or `npm run build` in that folder), which builds the ' +
    'addon and needs Rust (https://rustup.rs)'
  )
}

/** Loads the first addon that loads; the error names every place tried and why it failed. */
function loadAddon() {
  const tried = []
  for (const place of addonPlaces()) {
    const found = place.find()
    if (!found) {
      tried.push(`${place.description}: not there`)
      continue
    }
    try {
      return require(found)
    } catch (e) {
      tried.push(`${place.description}: ${e.message}`)
    }
  }
  throw new Error(
    `${PACKAGE_NAME}: no native addon for ${platformTag()} could be loaded. Tried:\n` +
      tried.map((line) => `  - ${line}\n`).join('') +
      `To fix it, ${remedy()}.`,
  )
}

module.exports = { platformTag, localAddonFile, addonPlaces, findAddon, loadAddon, remedy }
