'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { ONSFactory, Message, Action, OrderAction } = require('./package-under-test').binding
const { props, unique, freshTopic, until, sleep, binaryBody, runFixture } = require('./helpers')

const fromFirst = (extra = {}) => props({ GROUP_ID: unique('GID_c'), ConsumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', ...extra })

async function produce(topic, bodies, { sharding } = {}) {
  const producer = sharding
    ? ONSFactory.createOrderProducer(props({ GROUP_ID: unique('GID_p') }))
    : ONSFactory.createProducer(props({ GROUP_ID: unique('GID_p') }))
  producer.start()
  for (const [i, body] of bodies.entries()) {
    const m = new Message(topic, 'T', `k${i}`, body)
    await (sharding ? producer.send(m, sharding(i)) : producer.send(m))
  }
  await producer.shutdown()
}

test('consumer: async listeners get binary bodies, at most ConsumeThreadNums at a time', async () => {
  const topic = await freshTopic()
  await produce(topic, Array.from({ length: 12 }, (_, i) => binaryBody(`#${i}`)))
  const consumer = ONSFactory.createConsumer(fromFirst({ ConsumeThreadNums: 3 }))
  const bodies = new Map()
  let inFlight = 0
  let maxInFlight = 0
  consumer.subscribe(topic, 'T', async (msg, context) => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    assert.equal(context.topic, topic)
    assert.ok(msg instanceof Message)
    assert.equal(msg.queueId, context.queueId)
    // The event loop stays free while listeners wait: timers keep firing.
    await sleep(100)
    bodies.set(msg.key, msg.body)
    inFlight--
    return Action.CommitMessage
  })
  consumer.start()
  assert.equal(consumer.isStarted(), true)
  await until(() => bodies.size === 12, 30_000, '12 messages')
  assert.deepEqual(bodies.get('k7'), binaryBody('#7'))
  assert.ok(maxInFlight <= 3, `at most 3 listeners at once, saw ${maxInFlight}`)
  assert.ok(maxInFlight >= 2, `listeners ran concurrently (saw ${maxInFlight})`)
  await consumer.shutdown()
  assert.equal(consumer.isClosed(), true)
})

test('a throwing listener counts as ReconsumeLater: the message comes again', async () => {
  const topic = await freshTopic()
  await produce(topic, [Buffer.from('retry me')])
  const consumer = ONSFactory.createConsumer(fromFirst())
  const deliveries = []
  consumer.subscribe(topic, '*', (msg) => {
    deliveries.push(msg.reconsumeTimes)
    if (deliveries.length === 1) throw new Error('listener failed on purpose')
    return Action.CommitMessage
  })
  consumer.start()
  // The broker redelivers after its first retry delay (10 s).
  await until(() => deliveries.length >= 2, 40_000, 'the redelivery')
  assert.deepEqual(deliveries.slice(0, 2), [0, 1])
  await consumer.shutdown()
})

test('order consumer: one sharding key in order; Suspend redelivers the same message', async () => {
  const topic = await freshTopic('NodeOrder', true)
  await produce(topic, Array.from({ length: 6 }, (_, i) => Buffer.from(`${i}`)), { sharding: (i) => `key-${i % 2}` })
  const consumer = ONSFactory.createOrderedConsumer(fromFirst({ suspendTimeMillis: 100 }))
  const seen = { 'key-0': [], 'key-1': [] }
  let suspended = false
  consumer.subscribe(topic, '*', async (msg) => {
    if (msg.body.toString() === '2' && !suspended) {
      suspended = true
      return OrderAction.Suspend
    }
    seen[`key-${Number(msg.body.toString()) % 2}`].push(msg.body.toString())
    return OrderAction.Success
  })
  consumer.start()
  await until(() => seen['key-0'].length + seen['key-1'].length === 6, 30_000, '6 ordered messages')
  assert.deepEqual(seen['key-0'], ['0', '2', '4'])
  assert.deepEqual(seen['key-1'], ['1', '3', '5'])
  assert.equal(suspended, true)
  await consumer.shutdown()
})

test('batch consumer: listeners get arrays of up to ConsumeMessageBatchMaxSize', async () => {
  const topic = await freshTopic()
  await produce(topic, Array.from({ length: 10 }, (_, i) => Buffer.from([i])))
  const consumer = ONSFactory.createBatchConsumer(fromFirst({ ConsumeMessageBatchMaxSize: 4 }))
  const got = []
  let largest = 0
  consumer.subscribe(topic, '*', (msgs, context) => {
    assert.ok(Array.isArray(msgs))
    assert.equal(context.topic, topic)
    largest = Math.max(largest, msgs.length)
    assert.ok(msgs.every((m) => m instanceof Message && m.queueId === context.queueId))
    for (const m of msgs) got.push(m.body[0])
    return Action.CommitMessage
  })
  consumer.start()
  await until(() => got.length >= 10, 30_000, '10 messages in batches')
  assert.deepEqual([...new Set(got)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  assert.ok(largest <= 4 && largest >= 1)
  await consumer.shutdown()
})

test('received bodies: byte-exact at every size, each its own, 8-byte aligned', async () => {
  const topic = await freshTopic()
  // Small bodies share a pool ArrayBuffer on delivery, those over 4 KiB get their own.
  const sizes = [1, 7, 1000, 4095, 4096, 4097, 20_000, 300_000]
  const bodyOf = (size) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + size) % 256))
  await produce(topic, sizes.map(bodyOf))
  const consumer = ONSFactory.createConsumer(fromFirst())
  const got = new Map()
  consumer.subscribe(topic, '*', (msg) => {
    got.set(msg.body.length, msg.body)
    return Action.CommitMessage
  })
  consumer.start()
  await until(() => got.size === sizes.length, 30_000, `${sizes.length} bodies`)
  await consumer.shutdown()
  // Checked after every delivery: a later body copied into a shared pool overwrote none.
  for (const size of sizes) {
    const body = got.get(size)
    assert.ok(Buffer.isBuffer(body))
    assert.deepEqual(body, bodyOf(size), `body of ${size} bytes`)
    assert.equal(body.byteOffset % 8, 0, `body of ${size} bytes starts 8-byte aligned`)
  }
  got.get(1000).fill(0)
  for (const size of sizes.filter((s) => s !== 1000)) assert.deepEqual(got.get(size), bodyOf(size))
})

test('async iterator: messages and batches in for await loops', async () => {
  const topic = await freshTopic()
  await produce(topic, ['a', 'b', 'c'].map((s) => Buffer.from(s)))
  const group = unique('GID_it')
  const consumer = ONSFactory.createConsumer(props({ GROUP_ID: group, ConsumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }))
  const stream = consumer.messages(topic, '*')
  consumer.start()
  const got = []
  for await (const msg of stream) {
    assert.ok(msg instanceof Message)
    got.push(msg.body.toString())
    if (got.length === 3) break
  }
  assert.deepEqual([...got].sort(), ['a', 'b', 'c'])
  await consumer.shutdown()

  // Batch form, on a second consumer.
  const batch = ONSFactory.createBatchConsumer(fromFirst({ ConsumeMessageBatchMaxSize: 8 }))
  const batches = batch.messages(topic)
  batch.start()
  const all = []
  for await (const msgs of batches) {
    all.push(...msgs.map((m) => m.body.toString()))
    if (all.length >= 3) break
  }
  assert.deepEqual(all.slice(0, 3).sort(), ['a', 'b', 'c'])
  await batch.shutdown()
})

test('the process exits by itself after shutdown (no handles left)', async () => {
  const topic = await freshTopic()
  const { code, out } = await runFixture('exit-after-shutdown.mjs', [topic])
  assert.equal(code, 0)
  assert.match(out, /received hello/)
  assert.match(out, /shut down/)
})

test('subscribe and messages: arguments of the wrong type are TypeErrors naming the argument', async () => {
  const typeError = (message) => ({ name: 'TypeError', code: 'INVALID_ARGUMENT', message })
  const fn = () => Action.CommitMessage
  for (const create of ['createConsumer', 'createOrderedConsumer', 'createBatchConsumer']) {
    const consumer = ONSFactory[create](props({ GROUP_ID: unique('GID_args') }))
    for (const [listener, got] of [[null, 'null'], [undefined, 'undefined'], [42, 'number'], [{}, 'object']]) {
      assert.throws(() => consumer.subscribe('T', '*', listener), typeError(`subscribe: listener must be a function; got ${got}`), create)
    }
    assert.throws(() => consumer.subscribe('T', '*'), typeError('subscribe: listener must be a function; got undefined'))
    assert.throws(() => consumer.subscribe(null, '*', fn), typeError('subscribe: topic must be a string; got null'))
    assert.throws(() => consumer.subscribe(undefined, '*', fn), typeError('subscribe: topic must be a string; got undefined'))
    assert.throws(
      () => consumer.subscribe('T', 42, fn),
      typeError('subscribe: expression must be a tag expression string, { sql }, null or undefined; got number'),
    )
    assert.throws(() => consumer.messages(null), typeError('messages: topic must be a string; got null'))
    assert.throws(
      () => consumer.messages('T', true),
      typeError('messages: expression must be a tag expression string, { sql }, null or undefined; got boolean'),
    )
    // null and undefined expressions still mean every tag.
    consumer.subscribe('T', null, fn)
    consumer.subscribe('T', undefined, fn)
    await consumer.shutdown()
  }
})
