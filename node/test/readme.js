// The README examples as files a user would save, for run-tests.sh to type-check and run against
// a real cluster:
//
//   node test/readme.js DIR [NAMESRV_ADDR]
//
// writes each fenced `js` block of the project README's "Node.js" section (readme-N) and of the
// npm package's own README, node/README.md, "Use" section (package-readme-N) and of
// docs/admin.md's "Node" section (admin-doc-N) into DIR, as .mjs
// when it has `import` statements (an ES module) and as .js otherwise (a CommonJS script), with
// 127.0.0.1:9876 replaced by NAMESRV_ADDR when given, and prints the files' names.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const SOURCES = [
  { readme: path.join(__dirname, '..', '..', 'README.md'), section: '## Node.js', prefix: 'readme' },
  { readme: path.join(__dirname, '..', 'README.md'), section: '## Use', prefix: 'package-readme' },
  { readme: path.join(__dirname, '..', '..', 'docs', 'admin.md'), section: '### Node', prefix: 'admin-doc' },
]

function headingLevel(line) {
  return line.match(/^#+/)[0].length
}

function snippets({ readme, section, prefix }) {
  const found = []
  let inSection = false
  let block = null
  for (const line of fs.readFileSync(readme, 'utf8').split('\n')) {
    if (block) {
      if (line === '```') {
        found.push(block.join('\n') + '\n')
        block = null
      } else {
        block.push(line)
      }
    } else if (/^#+ /.test(line) && headingLevel(line) <= headingLevel(section)) {
      // A heading at the section's level or above ends it; its own subsections do not.
      inSection = line === section
    } else if (inSection && line === '```js') {
      block = []
    }
  }
  if (found.length === 0) throw new Error(`${readme}: no js block under "${section}"`)
  return found.map((code, i) => ({ name: `${prefix}-${i + 1}.${/^import /m.test(code) ? 'mjs' : 'js'}`, code }))
}

const [dir, namesrvAddr] = process.argv.slice(2)
if (!dir) {
  console.error('usage: node test/readme.js DIR [NAMESRV_ADDR]')
  process.exit(2)
}
for (const { name, code } of SOURCES.flatMap(snippets)) {
  fs.writeFileSync(path.join(dir, name), namesrvAddr ? code.replaceAll('127.0.0.1:9876', namesrvAddr) : code)
  console.log(name)
}
