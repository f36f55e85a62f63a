// The README's Node.js examples as files a user would save, for run-tests.sh to type-check and
// run against a real cluster:
//
//   node test/readme.js DIR [NAMESRV_ADDR]
//
// writes each fenced `js` block of the README's "Node.js" section into DIR, as readme-N.mjs when
// it has `import` statements (an ES module) and as readme-N.js otherwise (a CommonJS script),
// with 127.0.0.1:9876 replaced by NAMESRV_ADDR when given, and prints the files' names.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const README = path.join(__dirname, '..', '..', 'README.md')
const SECTION = '## Node.js'

function snippets() {
  const found = []
  let inSection = false
  let block = null
  for (const line of fs.readFileSync(README, 'utf8').split('\n')) {
    if (block) {
      if (line === '```') {
        found.push(block.join('\n') + '\n')
        block = null
      } else {
        block.push(line)
      }
    } else if (line.startsWith('## ')) {
      inSection = line === SECTION
    } else if (inSection && line === '```js') {
      block = []
    }
  }
  if (found.length === 0) throw new Error(`README.md: no js block under "${SECTION}"`)
  return found.map((code, i) => ({ name: `readme-${i + 1}.${/^import /m.test(code) ? 'mjs' : 'js'}`, code }))
}

const [dir, namesrvAddr] = process.argv.slice(2)
if (!dir) {
  console.error('usage: node test/readme.js DIR [NAMESRV_ADDR]')
  process.exit(2)
}
for (const { name, code } of snippets()) {
  fs.writeFileSync(path.join(dir, name), namesrvAddr ? code.replaceAll('127.0.0.1:9876', namesrvAddr) : code)
  console.log(name)
}
