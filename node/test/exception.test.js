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

test('an argument of the wrong JS type is a TypeError with code INVALID_ARGUMENT naming it, everywhere', async () => {
  const { OpenApiClient, AsapiClient } = underTest.binding
  const typeError = (message) => (e) => {
    assert.ok(e instanceof TypeError, `${e?.constructor?.name}: ${e?.message} is not a TypeError`)
    assert.ok(!(e instanceof ONSClientException))
    assert.equal(e.code, 'INVALID_ARGUMENT')
    assert.match(e.message, message)
    return true
  }
  const m = new Message('T', 'a', 'b')
  assert.throws(() => new Message(5, 'a', 'b'), typeError(/^new Message: topic must be a string; got number$/))
  assert.throws(() => new Message('T', {}, 'b'), typeError(/^new Message: tag must be a string; got object$/))
  assert.throws(() => new Message('T', 'a', 5), typeError(/^new Message: keyOrBody must be a Buffer or a string; got number$/))
  assert.throws(() => new Message('T', 'a', 'k', 5), typeError(/^new Message: body must be a Buffer or a string; got number$/))
  assert.throws(() => new Message('T', 'a', Buffer.from('k'), 'b'), typeError(/key must be a string/))
  assert.throws(() => (m.topic = 5), typeError(/^Message.topic must be a string; got number$/))
  assert.throws(() => (m.tag = 5), typeError(/^Message.tag must be a string; got number$/))
  assert.throws(() => (m.key = true), typeError(/^Message.key must be a string; got boolean$/))
  assert.throws(() => (m.shardingKey = 5), typeError(/^Message.shardingKey must be a string; got number$/))
  assert.throws(() => (m.body = 5), typeError(/^Message.body must be a Buffer or a string; got number$/))
  assert.throws(() => (m.body = {}), typeError(/^Message.body must be a Buffer or a string; got an object$/))
  assert.throws(() => (m.startDeliverTime = 'soon'), typeError(/^Message.startDeliverTime must be a number; got string$/))
  assert.throws(() => (m.startDeliverTime = 1.5), typeError(/^Message.startDeliverTime must be an integer in range; got 1.5$/))
  assert.throws(() => m.putUserProperties(5, 'v'), typeError(/^putUserProperties: key must be a string; got number$/))
  assert.throws(() => m.putUserProperties('k', 5), typeError(/^putUserProperties: value must be a string; got number$/))
  assert.throws(() => m.getUserProperties(5), typeError(/^getUserProperties: key must be a string; got number$/))
  // null and undefined still clear the optional fields; Uint8Array bodies still work.
  m.tag = null
  m.startDeliverTime = undefined
  m.body = new Uint8Array([1, 2])
  assert.deepEqual([m.tag, m.startDeliverTime, [...m.body]], [null, null, [1, 2]])

  const noProperties = typeError(/^properties must be an object of property names and values; got (null|undefined|string|number)$/)
  for (const bad of [null, undefined, 'NAMESRV_ADDR=x', 5]) {
    assert.throws(() => ONSFactory.createProducer(bad), noProperties)
    assert.throws(() => ONSFactory.createConsumer(bad), noProperties)
    assert.throws(() => new Admin(bad), noProperties)
  }
  const producer = ONSFactory.createProducer(props({ GROUP_ID: unique('GID_args') }))
  assert.throws(() => producer.updateCredential(null), noProperties)
  assert.throws(() => producer.sendBatch(5), typeError(/^sendBatch: messages must be an array of Message \(new Message or received\); got number$/))
  assert.throws(() => producer.sendBatch([m, 'x']), typeError(/^sendBatch: messages must be .*; got an array holding something else$/))
  const consumer = ONSFactory.createConsumer(props({ GROUP_ID: unique('GID_args') }))
  assert.throws(() => consumer.unsubscribe(5), typeError(/^unsubscribe: topic must be a string; got number$/))

  assert.throws(() => new OpenApiClient(5), typeError(/^new OpenApiClient: options must be a OpenApiOptions object; got number$/))
  assert.throws(() => new OpenApiClient({}), typeError(/^new OpenApiClient: options is not a valid OpenApiOptions: .*endpoint/))
  assert.throws(() => new AsapiClient(null), typeError(/^new AsapiClient: options must be a AsapiOptions object; got null$/))
  const api = new OpenApiClient({ endpoint: 'http://127.0.0.1:1', accessKey: 'a', secretKey: 'b' })
  assert.throws(() => api.callRaw(5), typeError(/^callRaw: path must be a string; got number$/))
  assert.throws(() => api.callRaw('/x', 5), typeError(/^callRaw: params must be a Record<string, string> object; got number$/))
  const asapi = new AsapiClient({ endpoint: 'http://127.0.0.1:1', accessKey: 'a', secretKey: 'b', regionId: 'r' })
  assert.throws(() => asapi.call('p', 5, 'v'), typeError(/^call: action must be a string; got number$/))
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
