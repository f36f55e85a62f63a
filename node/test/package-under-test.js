// The package the tests exercise: this source tree, or the directory ROCKETMQ_ONS_NODE_PACKAGE
// names (run-tests.sh points it at a copy installed from the release tarballs).
'use strict'

const path = require('node:path')
const { pathToFileURL } = require('node:url')

const dir = path.resolve(process.env.ROCKETMQ_ONS_NODE_PACKAGE || path.join(__dirname, '..'))

module.exports = {
  dir,
  /** The ES module entry, for `import()`. */
  esmEntry: pathToFileURL(path.join(dir, 'index.mjs')).href,
  /** The CommonJS entry's exports. */
  get binding() {
    return require(dir)
  },
}
