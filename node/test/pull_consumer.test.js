// PullConsumer against the cluster: assign and subscribe modes, seeks, commits, pause, the
// async iterator, and the errors bad arguments throw.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { ONSFactory, Message } = require('./package-under-test').binding
const { props, unique, freshTopic, sleep } = require('./helpers')

const pullProps = (extra = {}) =>
  props({ GROUP_ID: unique('GID_pull'), ConsumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', autoCommit: false, ...extra })

/** Sends `count` messages with keys k0.. to `topic`; resolves with their message ids. */
async function produce(topic, count, from = 0) {
  const producer = ONSFactory.createProducer(props({ GROUP_ID: unique('GID_p') }))
  producer.start()
  const ids = []
  for (let i = from; i < from + count; i++) {
    ids.push((await producer.send(new Message(topic, 'T', `k${i}`, `body ${i}`))).messageId)
  }
  await producer.shutdown()
  return ids
}

/** Polls until `count` messages came or `ms` passed; resolves with all that came. */
async function pollUntil(consumer, count, ms = 30_000) {
  const got = []
  const deadline = Date.now() + ms
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await consumer.poll(500)))
  }
  return got
}

/** Runs `use(consumer)` with a new pull consumer, shut down afterwards even when `use` fails. */
async function withConsumer(extra, use) {
  const consumer = ONSFactory.createPullConsumer(pullProps(extra))
  try {
    await use(consumer)
  } finally {
    await consumer.shutdown()
  }
  return consumer
}

const sameQueue = (a, b) => a.topic === b.topic && a.brokerName === b.brokerName && a.queueId === b.queueId

test('assign: poll gets exactly the sent messages; seekToBeginning re-reads; commitSync is what committed() reads', async () => {
  const topic = await freshTopic('NodePull')
  const ids = await produce(topic, 8)
  const closed = await withConsumer({}, async (consumer) => {
    consumer.start()
    const queues = await consumer.topicPartitions(topic)
    assert.equal(queues.length, 4)
    for (const q of queues) assert.deepEqual(Object.keys(q).sort(), ['brokerName', 'queueId', 'topic'])
    consumer.assign(queues)
    assert.deepEqual(consumer.assignment().map((q) => q.queueId).sort(), [0, 1, 2, 3])

    const first = await pollUntil(consumer, 8)
    assert.ok(first.every((m) => m instanceof Message && m.topic === topic))
    assert.deepEqual(first.map((m) => m.msgId).sort(), [...ids].sort())
    assert.deepEqual(await consumer.poll(1000), [], 'no message beyond the sent ones')

    for (const q of queues) await consumer.seekToBeginning(q)
    const again = await pollUntil(consumer, 8)
    assert.deepEqual(again.map((m) => m.msgId).sort(), [...ids].sort())

    await consumer.commitSync()
    for (const q of queues) {
      const read = again.filter((m) => m.queueId === q.queueId && m.brokerName === q.brokerName)
      if (read.length === 0) continue
      const next = Math.max(...read.map((m) => m.queueOffset)) + 1
      assert.equal(await consumer.committed(q), next, `committed offset of queue ${q.queueId}`)
    }
    // A timestamp before every message is the queue's first offset.
    assert.equal(await consumer.offsetForTimestamp(queues[0], 0), 0)

    // seek to an offset: the queue's messages from there.
    const withMessages = queues.find((q) => again.some((m) => sameQueue(q, { topic: m.topic, brokerName: m.brokerName, queueId: m.queueId })))
    await consumer.seek(withMessages, 0)
    const reread = await pollUntil(consumer, 1)
    assert.ok(reread.length > 0 && reread.every((m) => m.queueId === withMessages.queueId))
    assert.equal(reread[0].queueOffset, 0)
  })
  assert.equal(closed.isClosed(), true)
})

test('pause stops pulling a queue until resume', async () => {
  const topic = await freshTopic('NodePullPause')
  await withConsumer({}, async (consumer) => {
    consumer.start()
    const queues = await consumer.topicPartitions(topic)
    consumer.assign(queues)
    assert.deepEqual(await consumer.poll(500), [])
    consumer.pause(queues)
    const ids = await produce(topic, 4)
    assert.deepEqual(await consumer.poll(2000), [], 'paused queues are not pulled')
    consumer.resume(queues)
    const got = await pollUntil(consumer, 4)
    assert.deepEqual(got.map((m) => m.msgId).sort(), [...ids].sort())
  })
})

test('subscribe mode receives the topic; the partition change listener is told its queues', async () => {
  const topic = await freshTopic('NodePullSub')
  const ids = await produce(topic, 6)
  await withConsumer({}, async (consumer) => {
    consumer.subscribe(topic, '*')
    let tell
    const told = new Promise((resolve) => (tell = resolve))
    // Registered before start: told the queues at the first check, 10 s after start.
    await consumer.registerTopicPartitionChangeListener(topic, (t, queues) => tell({ t, queues }))
    consumer.start()
    const got = await pollUntil(consumer, 6)
    assert.deepEqual(got.map((m) => m.msgId).sort(), [...ids].sort())
    assert.equal(consumer.assignment().length, 4, 'the only instance of the group owns every queue')
    const { t, queues } = await told
    assert.equal(t, topic)
    assert.deepEqual(queues.map((q) => q.queueId).sort(), [0, 1, 2, 3])
    consumer.unsubscribe(topic)
  })
})

test('for await yields non-empty batches while the event loop keeps running, and ends at shutdown', async () => {
  const topic = await freshTopic('NodePullIter')
  const consumer = ONSFactory.createPullConsumer(pullProps({ pollTimeoutMillis: 300 }))
  consumer.start()
  consumer.assign(await consumer.topicPartitions(topic))
  let ticks = 0
  const ticker = setInterval(() => ticks++, 10)
  const sending = sleep(1000).then(() => produce(topic, 10))
  const got = []
  let batches = 0
  try {
    for await (const batch of consumer) {
      assert.ok(Array.isArray(batch) && batch.length > 0, 'a batch holds at least one message')
      batches++
      got.push(...batch)
      if (got.length >= 10) await consumer.shutdown()
    }
  } finally {
    clearInterval(ticker)
    await consumer.shutdown()
  }
  const ids = await sending
  assert.deepEqual(got.map((m) => m.msgId).sort(), [...ids].sort())
  assert.ok(batches >= 1)
  assert.ok(ticks >= 50, `the ticker kept ticking while the loop waited (${ticks} ticks)`)
})

test('bad arguments throw errors naming the problem', async () => {
  const typeError = (message) => ({ name: 'TypeError', code: 'INVALID_ARGUMENT', message })
  const consumer = ONSFactory.createPullConsumer(pullProps())
  const q = { topic: 'T', brokerName: 'b', queueId: 0 }
  assert.throws(() => consumer.assign(null), typeError('assign: queues must be an array of MessageQueue objects; got null'))
  assert.throws(() => consumer.assign(q), typeError('assign: queues must be an array of MessageQueue objects; got a non-array object'))
  assert.throws(() => consumer.assign([q, 7]), typeError('assign: queues[1] must be a MessageQueue object; got number'))
  assert.throws(() => consumer.assign([{ topic: 'T' }]), { name: 'TypeError', message: /^assign: queues\[0\] is not a valid MessageQueue: / })
  assert.throws(() => consumer.pause('x'), typeError('pause: queues must be an array of MessageQueue objects; got string'))
  assert.throws(() => consumer.subscribe(null, '*'), typeError('subscribe: topic must be a string; got null'))
  assert.throws(() => consumer.poll('1000'), typeError('poll: timeoutMs must be a number; got string'))
  assert.throws(() => consumer.poll(1.5), typeError('poll: timeoutMs must be an integer in range; got 1.5'))
  assert.throws(() => consumer.seek(q, 0.5), typeError('seek: offset must be an integer in range; got 0.5'))
  assert.throws(() => consumer.seekToEnd(undefined), typeError('seekToEnd: queue must be a MessageQueue object; got undefined'))
  assert.throws(
    () => consumer.registerTopicPartitionChangeListener('T', 42),
    typeError('registerTopicPartitionChangeListener: listener must be a function; got number'),
  )
  await assert.rejects(consumer.poll(10), { code: 'NOT_STARTED', message: /not started; call start\(\) first/ })
  await assert.rejects(consumer.committed(q), { code: 'NOT_STARTED' })
  consumer.assign([q])
  assert.throws(() => consumer.subscribe('T', '*'), {
    code: 'INVALID_ARGUMENT',
    message: 'subscribe: this consumer was assigned queues; a consumer either subscribes or is assigned queues',
  })
  assert.throws(() => ONSFactory.createPullConsumer(pullProps({ MessageModel: 'BROADCAST' })), {
    code: 'INVALID_CONFIG',
    message: /property MessageModel must be CLUSTERING or BROADCASTING, got "BROADCAST"/,
  })
  assert.throws(() => ONSFactory.createPullConsumer({ NAMESRV_ADDR: 'x:1' }), { code: 'INVALID_CONFIG', message: /GROUP_ID/ })
  await consumer.shutdown()
})
