'use strict'

// Issue #19: the addon's errors are ONSClientException (the ONS Java SDK's class), and a failed
// send carries the message id and topic (the ONS OnExceptionContext).
const test = require('node:test')
const assert = require('node:assert/strict')
const underTest = require('./package-under-test')
const { ONSClientException, ONSFactory, Message, ErrorCode, Admin } = underTest.binding
const { props, unique, freshTopic } = require('./helpers')

const CLUSTER = process.env.ONS_TEST_CLUSTER || 'DefaultCluster'

/** What `assert.throws`/`rejects` checks of an ONSClientException with `code`. */
function exception(code, extra = {}) {
  return (e) => {
    assert.ok(e instanceof ONSClientException, `${e?.constructor?.name}: ${e?.message} is not an ONSClientException`)
    assert.ok(e instanceof Error)
    assert.equal(e.name, 'ONSClientException')
    assert.equal(e.code, code, e.message)
    assert.match(e.stack, /^ONSClientException: /)
    for (const [key, want] of Object.entries(extra)) {
      if (want instanceof RegExp) assert.match(String(e[key]), want, `${key} of ${e.message}`)
      else assert.equal(e[key], want, `${key} of ${e.message}`)
    }
    return true
  }
}

test('ONSClientException: exported by both entries, a subclass of Error that users can make', async () => {
  const esm = await import(underTest.esmEntry)
  assert.equal(esm.ONSClientException, ONSClientException)
  assert.equal(typeof ONSClientException, 'function')
  assert.equal(ONSClientException.name, 'ONSClientException')
  const made = new ONSClientException('broker gone', ErrorCode.NETWORK, { cause: 'why' })
  assert.ok(made instanceof Error)
  assert.equal(made.name, 'ONSClientException')
  assert.equal(made.message, 'broker gone')
  assert.equal(made.code, 'NETWORK')
  assert.equal(made.cause, 'why')
  assert.equal(String(made), 'ONSClientException: broker gone')
  assert.equal(Object.keys(new ONSClientException('no code')).length, 0, 'no code given, no code property')
})

test('thrown and rejected errors are ONSClientException; arguments of the wrong JS type stay TypeError', async () => {
  assert.throws(() => ONSFactory.createProducer({ GROUP_ID: 'G' }), exception('INVALID_CONFIG', { message: /NAMESRV_ADDR/ }))
  assert.throws(() => new Message('T', 'a', 'key', 'body').putUserProperties('TAGS', 'x'), exception('INVALID_ARGUMENT'))
  assert.throws(() => new Message('T', 'a', Buffer.from('x'), Buffer.from('y')), exception('INVALID_ARGUMENT'))

  const producer = ONSFactory.createProducer(props({ GROUP_ID: unique('GID_exc') }))
  await assert.rejects(producer.send(new Message('T', 'a', 'x')), exception('NOT_STARTED'))
  producer.start()
  await assert.rejects(producer.send(new Message('bad topic!', 'a', 'x')), exception('INVALID_ARGUMENT', { message: /topic/ }))
  await producer.shutdown()

  const admin = new Admin(props())
  await assert.rejects(admin.topicRoute(unique('NodeMissing')), exception('TOPIC_NOT_FOUND'))

  const typeError = (e) => {
    assert.ok(e instanceof TypeError, `${e?.constructor?.name}: ${e?.message} is not a TypeError`)
    assert.ok(!(e instanceof ONSClientException))
    assert.equal(e.code, 'INVALID_ARGUMENT')
    return true
  }
  assert.throws(() => admin.createTopic(5), typeError)
  assert.throws(() => ONSFactory.createTransactionProducer(props({ GROUP_ID: 'G' }), null), typeError)
})

test('a failed send names the message id it was given and the topic (OnExceptionContext)', async () => {
  // A read-only topic: the route has no writable queue, so every send fails after the id is given.
  const topic = await freshTopic('NodeReadOnly')
  await new Admin(props()).updateTopic(CLUSTER, { topicName: topic, readQueueNums: 4, writeQueueNums: 4, perm: 4 })
  const producer = ONSFactory.createProducer(props({ GROUP_ID: unique('GID_ro'), SendMsgTimeoutMillis: 5000 }))
  producer.start()
  const ids = new Set()
  for (const send of ['send', 'sendAsync']) {
    await assert.rejects(
      producer[send](new Message(topic, 'a', 'x')),
      exception('TOPIC_NOT_FOUND', { topic, messageId: /^[0-9A-F]{32}$/ }),
    )
    await producer[send](new Message(topic, 'a', 'x')).catch((e) => ids.add(e.messageId))
  }
  assert.equal(ids.size, 2, 'each send has an id of its own')
  // Before the message has an id (an invalid message), the topic alone.
  await assert.rejects(producer.send(new Message(topic, 'a', Buffer.alloc(0))), (e) => {
    exception('INVALID_ARGUMENT', { topic })(e)
    assert.equal(e.messageId, undefined)
    return true
  })
  await producer.shutdown()

  // Oneway: nothing answers, so only a failure to reach a broker is seen.
  const offline = ONSFactory.createProducer({ NAMESRV_ADDR: '127.0.0.1:1', GROUP_ID: unique('GID_off'), SendMsgTimeoutMillis: 300 })
  offline.start()
  for (const send of ['send', 'sendAsync', 'sendOneway']) {
    await assert.rejects(offline[send](new Message('NodeOffline', 'a', 'x')), exception('NETWORK', { topic: 'NodeOffline', messageId: /^[0-9A-F]{32}$/ }))
  }
  await offline.shutdown()

  const order = ONSFactory.createOrderProducer(props({ GROUP_ID: unique('GID_ro_o') }))
  order.start()
  await assert.rejects(order.send(new Message(topic, 'a', 'x'), 'k'), exception('TOPIC_NOT_FOUND', { topic, messageId: /^[0-9A-F]{32}$/ }))
  await assert.rejects(order.send(new Message(topic, 'a', 'x'), ' '), (e) => {
    exception('INVALID_ARGUMENT', { topic })(e)
    assert.equal(e.messageId, undefined)
    return true
  })
  await order.shutdown()

  const tx = ONSFactory.createTransactionProducer(props({ GROUP_ID: unique('GID_ro_t') }), () => 'Unknow')
  tx.start()
  await assert.rejects(tx.send(new Message(topic, 'a', 'x'), () => 'CommitTransaction'), exception('TOPIC_NOT_FOUND', { topic, messageId: /^[0-9A-F]{32}$/ }))
  await tx.shutdown()
})
