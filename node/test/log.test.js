'use strict'

// The core's log in JS: WARN records as process warnings (type RocketMQWarning) by default, every
// record at a level through setLogHandler. A consumer of a topic that does not exist is what
// makes the core warn here: its first rebalance says the topic has no route.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ONSFactory, setLogHandler } = require('./package-under-test').binding
const { props, unique, until } = require('./helpers')

/** Starts a consumer of a topic nobody created; returns it and the topic. */
function consumeMissing() {
  const topic = unique('NodeNoSuchTopic')
  const consumer = ONSFactory.createConsumer(props({ GROUP_ID: unique('GID_log') }))
  consumer.subscribe(topic, '*', () => 'CommitMessage')
  consumer.start()
  return { consumer, topic }
}

test('log: a consumer of a missing topic is a RocketMQWarning naming it', async () => {
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  const { consumer, topic } = consumeMissing()
  try {
    await until(() => warnings.some((w) => w.name === 'RocketMQWarning' && w.message.includes(topic)), 40000, `a warning naming ${topic}`)
  } finally {
    await consumer.shutdown()
    process.off('warning', onWarning)
  }
  const w = warnings.find((w) => w.message.includes(topic))
  assert.match(w.message, /route lookup of topic .* failed, retrying/)
  assert.match(w.code, /^rocketmq_ons/)
})

test('log: setLogHandler takes the records at its level; null gives them back to process warnings', async () => {
  const records = []
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  setLogHandler((level, target, message) => records.push({ level, target, message }), 'info')
  let first
  try {
    first = consumeMissing()
    await until(() => records.some((r) => r.level === 'warn' && r.message.includes(first.topic)), 40000, 'the handler to get the warning')
    await first.consumer.shutdown()
    // With a handler set, the warning went to it, not to process warnings.
    assert.equal(warnings.filter((w) => w.message.includes(first.topic)).length, 0)
    assert.ok(records.every((r) => ['error', 'warn', 'info'].includes(r.level) && r.target.startsWith('rocketmq_ons')), JSON.stringify(records))
  } finally {
    setLogHandler(null)
  }
  const seen = records.length
  const second = consumeMissing()
  try {
    await until(() => warnings.some((w) => w.message.includes(second.topic)), 40000, 'the warning after setLogHandler(null)')
  } finally {
    await second.consumer.shutdown()
    process.off('warning', onWarning)
  }
  assert.equal(records.length, seen, 'the handler was called after setLogHandler(null)')
})

test('log: setLogHandler refuses what is not a function or a level', () => {
  assert.throws(() => setLogHandler(42), TypeError)
  assert.throws(() => setLogHandler(() => {}, 'loud'), /minLevel must be one of error, warn, info, debug, trace/)
  setLogHandler(null)
})
