'use strict'

// Issue #19: a listener that resolves undefined (an `async msg => { ... }` without a return)
// counts as ReconsumeLater, as the ONS Java SDK counts null; the warning names the group, the
// message and the fix, and is rate-limited. Its own file: the limiter is per process.
const test = require('node:test')
const assert = require('node:assert/strict')
const { ONSFactory, Message, Action } = require('./package-under-test').binding
const { props, unique, freshTopic, until, sleep } = require('./helpers')

test('a listener returning undefined: ReconsumeLater, one warning naming group, message and fix per interval', async () => {
  const topic = await freshTopic('NodeUndef')
  const producer = ONSFactory.createProducer(props({ GROUP_ID: unique('GID_p') }))
  producer.start()
  const ids = []
  for (let i = 0; i < 5; i++) ids.push((await producer.send(new Message(topic, 'T', `body ${i}`))).messageId)
  await producer.shutdown()

  const warnings = []
  const onWarning = (w) => {
    if (w.name === 'RocketMQWarning') warnings.push(w.message)
  }
  process.on('warning', onWarning)
  const group = unique('GID_undef')
  const consumer = ONSFactory.createConsumer(props({ GROUP_ID: group, ConsumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }))
  const first = []
  const again = []
  consumer.subscribe(topic, '*', async (msg) => {
    if (msg.reconsumeTimes === 0) {
      first.push(msg.msgId)
      return // undefined: counted as ReconsumeLater
    }
    again.push(msg.msgId)
    return again.length === 1 ? null : Action.CommitMessage
  })
  consumer.start()
  try {
    await until(() => first.length === 5 && warnings.length >= 1, 30_000, 'five first deliveries and a warning')
    await sleep(500)
    assert.equal(warnings.length, 1, `one warning for five failures within the interval:\n${warnings.join('\n')}`)
    const [text] = warnings
    const shown = ids.find((id) => text.includes(`for message ${id} (topic ${topic})`))
    assert.ok(shown, `the warning names one of the messages: ${text}`)
    assert.equal(
      text,
      `message listener of group ${group} returned undefined for message ${shown} (topic ${topic}): ` +
        'counted as ReconsumeLater; return Action.CommitMessage to acknowledge it',
    )

    // ReconsumeLater: all five come again (after the broker's first retry delay, 10 s); the
    // first of them answers null, the next warning says how many were left out.
    await until(() => again.length === 5 && warnings.length >= 2, 40_000, 'five redeliveries and a second warning')
    assert.deepEqual([...again].sort(), [...ids].sort())
    assert.match(
      warnings[1],
      new RegExp(
        `^message listener of group ${group} returned null for message ${again[0]} \\(topic ${topic}\\): ` +
          'counted as ReconsumeLater; return Action.CommitMessage to acknowledge it ' +
          '\\(4 more warnings of failing message listeners left out since the previous one\\)$',
      ),
    )
  } finally {
    process.off('warning', onWarning)
    await consumer.shutdown()
  }
})
