// CommonJS entry: loads the native addon built for this platform (see scripts/build.js).
'use strict'

const path = require('node:path')

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

function load() {
  const file = path.join(__dirname, `rocketmq-ons.${platformTag()}.node`)
  try {
    return require(file)
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e
    throw new Error(
      `rocketmq-ons: no native addon for ${platformTag()} (${file}); ` +
        'build it with `npm run build` in the package folder (needs Rust)',
      { cause: e },
    )
  }
}

// scripts/build.js only needs the naming; it must not need the addon itself.
if (require.main && require.main.filename === path.join(__dirname, 'scripts', 'build.js')) {
  module.exports = { __loader: { platformTag } }
} else {
  module.exports = load()
}
