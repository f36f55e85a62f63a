// Shared by the tests: the cluster from the environment (NAMESRV_ADDR, as tests/harness/rmq.sh
// exports it), unique names, topics created through the binding's Admin.
'use strict'

const { randomBytes } = require('node:crypto')
const { Admin } = require('./package-under-test').binding

const NAMESRV_ADDR = process.env.NAMESRV_ADDR
if (!NAMESRV_ADDR) throw new Error('NAMESRV_ADDR is not set: run the tests under tests/harness/rmq.sh run')

function unique(prefix) {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
}

function props(extra = {}) {
  return { NAMESRV_ADDR, ...extra }
}

let admin = null
/** Creates a fresh topic with 4 queues and returns its name. */
async function freshTopic(prefix = 'NodeT', order = false) {
  admin ??= new Admin(props())
  const topic = unique(prefix)
  await admin.createTopic(topic, 4, order)
  return topic
}

function getAdmin() {
  admin ??= new Admin(props())
  return admin
}

/** Resolves when `predicate()` holds, polling; rejects after `ms`. */
async function until(predicate, ms, what) {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Every byte value, so a body that is not binary-safe shows. */
function binaryBody(extra = '') {
  return Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(extra)])
}

/**
 * Runs `test/fixtures/<name>` in a child Node process with `args`; resolves with its exit code
 * and what it printed once it exits by itself, rejects (and kills it) after 60 s.
 */
async function runFixture(name, args) {
  const { spawn } = require('node:child_process')
  const path = require('node:path')
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', name), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const code = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not exit within 60 s; it printed: ${out}`))
    }, 60_000)
    child.on('exit', (c) => {
      clearTimeout(timer)
      resolve(c)
    })
  })
  return { code, out }
}

module.exports = { NAMESRV_ADDR, unique, props, freshTopic, getAdmin, until, sleep, binaryBody, runFixture }
