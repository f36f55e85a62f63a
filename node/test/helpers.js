// Shared by the tests: the cluster from the environment (NAMESRV_ADDR, as tests/harness/rmq.sh
// exports it), unique names, topics created through the binding's Admin.
'use strict'

const { randomBytes } = require('node:crypto')
const { Admin } = require('..')

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

module.exports = { NAMESRV_ADDR, unique, props, freshTopic, getAdmin, until, sleep, binaryBody }
