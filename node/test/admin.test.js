// Admin against the real cluster: every method at least once with its result checked, and
// cross-checked with the official mqadmin (tests/harness/rmq.sh mqadmin) where its output can be
// compared row by row: clusterList, topicRoute, topicStatus, consumerProgress.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const { Admin, Message, ONSFactory, ResetPosition, TrackType, DirectConsumeResult, BrokerRole, Action, RetryPolicyType } =
  require('./package-under-test').binding
const { props, unique, getAdmin, until, sleep } = require('./helpers')

const CLUSTER = process.env.ONS_TEST_CLUSTER || 'DefaultCluster'
const RMQ_SH = path.join(__dirname, '..', '..', 'tests', 'harness', 'rmq.sh')

/** Runs the official mqadmin of the cluster's version against it and resolves with its stdout. */
async function mqadmin(...args) {
  const dir = process.env.RMQ_DIR
  if (!dir) throw new Error('RMQ_DIR is not set: run the tests under tests/harness/rmq.sh run')
  const { stdout } = await promisify(execFile)('bash', [RMQ_SH, 'mqadmin', '--dir', dir, '--', ...args], {
    maxBuffer: 16 << 20,
  })
  return stdout
}

/** The whitespace-separated cells of mqadmin's table rows whose first cell is `first`. */
function rowsStartingWith(out, first) {
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cells) => cells[0] === first)
}

/** Polls `check` (async) until it resolves truthy; rejects after `ms` naming `what`. */
async function eventually(check, ms, what) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(200)
  }
}

test('arguments of the wrong type throw TypeErrors naming the method and argument', () => {
  const admin = getAdmin()
  const typeError = (message) => ({ name: 'TypeError', code: 'INVALID_ARGUMENT', message })
  assert.throws(() => admin.topicRoute(5), typeError('topicRoute: topic must be a string; got number'))
  assert.throws(() => admin.deleteTopic(CLUSTER), typeError('deleteTopic: topic must be a string; got undefined'))
  assert.throws(() => admin.updateTopic(CLUSTER, 'T'), typeError('updateTopic: config must be a TopicConfig object; got string'))
  assert.throws(() => admin.updateTopic(CLUSTER, { readQueueNums: 1, writeQueueNums: 1 }), {
    name: 'TypeError',
    code: 'INVALID_ARGUMENT',
    message: /^updateTopic: config is not a valid TopicConfig: .*topicName/,
  })
  assert.throws(
    () => admin.updateTopic(CLUSTER, { topicName: 'T', readQueueNums: 1.5, writeQueueNums: 1 }),
    typeError('updateTopic: config.readQueueNums must be an integer in range; got 1.5'),
  )
  assert.throws(
    () => admin.updateTopic(CLUSTER, { topicName: 'T', readQueueNums: -1, writeQueueNums: 1 }),
    typeError('updateTopic: config.readQueueNums must be an integer in range; got -1'),
  )
  assert.throws(
    () => admin.updateSubscriptionGroup(CLUSTER, { groupName: 'G', retryMaxTimes: 2 ** 40 }),
    typeError(`updateSubscriptionGroup: settings.retryMaxTimes must be an integer in range; got ${2 ** 40}`),
  )
  assert.throws(() => admin.createTopic('T', '4'), typeError('createTopic: queueNums must be a number; got string'))
  assert.throws(() => admin.deleteSubscriptionGroup(CLUSTER, 'G', 'yes'), typeError('deleteSubscriptionGroup: cleanOffset must be a boolean; got string'))
  assert.throws(() => admin.queryMessages('T', 'k', '0', 1), typeError('queryMessages: beginMs must be a number; got string'))
  assert.throws(() => admin.readQueue('T', 'broker-a', 0, 0, NaN), typeError('readQueue: end must be an integer in range; got NaN'))
  const expected = 'a time in ms since the epoch, ResetPosition.Earliest or ResetPosition.Latest'
  assert.throws(() => admin.resetOffsets('G', 'T', 'soon'), typeError(`resetOffsets: to must be ${expected}; got "soon"`))
  assert.throws(() => admin.resetOffsets('G', 'T', null), typeError(`resetOffsets: to must be ${expected}; got null`))
})

test('bad values reject with INVALID_ARGUMENT before anything is sent', async () => {
  // Nothing listens on port 1: any request would fail with NETWORK.
  const offline = new Admin(props({ NAMESRV_ADDR: '127.0.0.1:1' }))
  const invalid = (message) => ({ code: 'INVALID_ARGUMENT', message })
  await assert.rejects(offline.updateTopic(CLUSTER, { topicName: 'bad topic!', readQueueNums: 1, writeQueueNums: 1 }), invalid(/topic name "bad topic!" contains ' '/))
  await assert.rejects(offline.updateTopic(CLUSTER, { topicName: 'T', readQueueNums: 0, writeQueueNums: 1 }), invalid(/at least one read and one write queue/))
  await assert.rejects(offline.deleteTopic(CLUSTER, ''), invalid(/topic name "" must have 1 to 127 characters/))
  await assert.rejects(offline.updateSubscriptionGroup(CLUSTER, { groupName: 'a.b' }), invalid(/group name "a.b" contains '.'/))
  await assert.rejects(offline.deleteSubscriptionGroup(CLUSTER, 'g'.repeat(256)), invalid(/1 to 255 characters/))
  await assert.rejects(offline.consumeStats('bad group'), invalid(/group name/))
  await assert.rejects(offline.consumerConnections(''), invalid(/group name/))
  await assert.rejects(offline.resetOffsets('G', 'bad topic', ResetPosition.Earliest), invalid(/topic name/))
  await assert.rejects(offline.queryMessages('T', 'k', 2, 1), invalid(/a begin no later than its end/))
  await assert.rejects(offline.queryMessages('T', '', 1, 2), invalid(/needs a key/))
  await assert.rejects(offline.readQueue('T', 'broker-a', 0, 5, 1), invalid(/queue offsets 5\.\.1/))
  await assert.rejects(offline.readQueue('T', 'broker-a', 0, 0, 5000), invalid(/at most 2048 offsets/))
  await assert.rejects(offline.groupsOfTopic('a b'), invalid(/topic name/))
  // And a request that does go out fails as a network error, so the ones above never left.
  await assert.rejects(offline.listTopics(), { code: 'NETWORK' })
})

test('clusterList and brokerRuntimeInfo match mqadmin clusterList', async () => {
  const admin = getAdmin()
  const listed = mqadmin('clusterList')
  // A 4.9.7 broker cannot give its runtime info for a moment after it started.
  const brokers = await eventually(async () => {
    const all = await admin.clusterList()
    return all.every((b) => b.runtimeError === undefined) && all
  }, 30_000, 'every broker to give its runtime info')
  assert.ok(brokers.length >= 1)
  const version = `V${process.env.RMQ_VERSION.replaceAll('.', '_')}`
  for (const b of brokers) {
    assert.equal(b.cluster, CLUSTER)
    assert.equal(b.role, b.brokerId === 0 ? BrokerRole.Master : BrokerRole.Slave)
    assert.equal(b.version, version)
    assert.equal(b.runtime.brokerVersionDesc, version)
  }
  const ours = brokers.map((b) => [b.cluster, b.brokerName, String(b.brokerId), b.addr, b.version].join(' '))
  const theirs = rowsStartingWith(await listed, CLUSTER).map((c) => c.slice(0, 5).join(' '))
  assert.deepEqual(ours.sort(), theirs.sort())
  const runtime = await admin.brokerRuntimeInfo(brokers[0].addr)
  assert.equal(runtime.brokerVersionDesc, version)
  await assert.rejects(admin.brokerRuntimeInfo('127.0.0.1:1'), { message: /127\.0\.0\.1:1/ })
})

test('topics: update, list, route, stats and delete, against mqadmin topicRoute and topicStatus', async () => {
  const admin = getAdmin()
  const masters = (await admin.clusterList()).filter((b) => b.role === BrokerRole.Master).map((b) => b.brokerName)
  const topic = unique('NodeAdmT')
  const updated = await admin.updateTopic(CLUSTER, { topicName: topic, readQueueNums: 3, writeQueueNums: 3 })
  assert.deepEqual(updated, masters)
  const route = await eventually(
    () => admin.topicRoute(topic).then((r) => r.queues.length === masters.length && r, () => null),
    30_000,
    `the route of ${topic} on every master`,
  )
  assert.deepEqual(route.brokers.map((b) => b.brokerName), masters)
  for (const b of route.brokers) assert.equal(b.cluster, CLUSTER)
  for (const q of route.queues) {
    assert.deepEqual([q.readQueueNums, q.writeQueueNums, q.perm], [3, 3, 6])
  }
  assert.ok((await admin.listTopics()).includes(topic))

  const producer = ONSFactory.createProducer(props({ GROUP_ID: unique('GID_adm') }))
  producer.start()
  const sent = await producer.send(new Message(topic, 'a', 'stats'))
  await producer.shutdown()
  // A queue counts a message once the broker's dispatch (asynchronous to the send's answer) has
  // written it to the consume queue.
  const stats = await eventually(async () => {
    const s = await admin.topicStats(topic)
    return s.queues.reduce((n, q) => n + q.maxOffset, 0) === 1 && s
  }, 15000, 'the sent message in the topic stats')
  assert.equal(stats.queues.length, 3 * masters.length)
  assert.equal(stats.queues.reduce((n, q) => n + q.maxOffset, 0), 1)
  const stored = stats.queues.find((q) => q.brokerName === sent.brokerName && q.queueId === sent.queueId)
  assert.equal(stored.maxOffset, 1)
  assert.ok(stored.lastUpdateTimestamp > 0)
  assert.equal(typeof stats.putTps, 'number')
  const maxOffsets = await admin.maxOffsets(topic)
  assert.deepEqual(
    maxOffsets.map((q) => [q.brokerName, q.queueId, q.offset]),
    stats.queues.map((q) => [q.brokerName, q.queueId, q.maxOffset]),
  )

  const [routeOut, statusOut] = await Promise.all([mqadmin('topicRoute', '-t', topic), mqadmin('topicStatus', '-t', topic)])
  // topicRoute prints the route as fastjson, broker ids as bare keys (`{0:"addr"}`).
  const theirRoute = JSON.parse(routeOut.slice(routeOut.indexOf('{'), routeOut.lastIndexOf('}') + 1).replace(/([{,]\s*)(\d+)\s*:/g, '$1"$2":'))
  const routeRow = (q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm].join(' ')
  assert.deepEqual(theirRoute.queueDatas.map(routeRow).sort(), route.queues.map(routeRow), routeOut)
  assert.deepEqual(theirRoute.brokerDatas.map((b) => b.brokerAddrs['0']).sort(), route.brokers.map((b) => b.addrs['0']).sort())
  // topicStatus rows: #Broker Name #QID #Min Offset #Max Offset #Last Updated.
  const theirStats = masters.flatMap((m) => rowsStartingWith(statusOut, m).map((c) => [c[0], +c[1], +c[2], +c[3]]))
  assert.deepEqual(stats.queues.map((q) => [q.brokerName, q.queueId, q.minOffset, q.maxOffset]), theirStats, statusOut)

  await admin.deleteTopic(CLUSTER, topic)
  await assert.rejects(admin.topicRoute(topic), { code: 'TOPIC_NOT_FOUND' })
  assert.ok(!(await admin.listTopics()).includes(topic))
})

test('subscription groups: update, list and delete on every master', async () => {
  const admin = getAdmin()
  const group = unique('GID_adm_sub')
  const settings = { groupName: group, retryMaxTimes: 5, consumeBroadcastEnable: false }
  if (!process.env.RMQ_VERSION.startsWith('4.')) {
    settings.groupRetryPolicy = { type: RetryPolicyType.EXPONENTIAL, exponentialRetryPolicy: { initial: 1000, max: 60000, multiplier: 3 } }
  }
  const masters = await admin.updateSubscriptionGroup(CLUSTER, settings)
  assert.ok(masters.length >= 1)
  const lists = await admin.listSubscriptionGroups(CLUSTER)
  assert.deepEqual(lists.map((l) => l.brokerName), masters)
  for (const list of lists) {
    const g = list.groups.find((c) => c.groupName === group)
    assert.ok(g, `${group} on ${list.brokerName}`)
    assert.deepEqual([g.retryMaxTimes, g.consumeBroadcastEnable, g.consumeEnable, g.retryQueueNums], [5, false, true, 1])
    if (settings.groupRetryPolicy) assert.deepEqual(g.groupRetryPolicy, settings.groupRetryPolicy)
    assert.ok(list.groups.some((c) => c.groupName === 'TOOLS_CONSUMER'))
  }
  assert.deepEqual(await admin.deleteSubscriptionGroup(CLUSTER, group, true), masters)
  for (const list of await admin.listSubscriptionGroups(CLUSTER)) {
    assert.ok(!list.groups.some((c) => c.groupName === group), `${group} still on ${list.brokerName}`)
  }
})

test('a consumer group: connections, progress, running info, messages, track, direct consumption, resets', async () => {
  const admin = getAdmin()
  const topic = unique('NodeAdmC')
  await admin.createTopic(topic, 2)
  const group = unique('GID_adm_c')
  const key = unique('key')
  const consumed = new Set()
  const direct = []
  const consumer = ONSFactory.createConsumer(props({ GROUP_ID: group, ConsumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }))
  consumer.subscribe(topic, 'a', (message) => {
    if (message.tag === 'b') direct.push(message.msgId)
    else consumed.add(message.msgId)
    return Action.CommitMessage
  })
  consumer.start()
  const producer = ONSFactory.createProducer(props({ GROUP_ID: unique('GID_adm_p') }))
  producer.start()
  try {
    // A broker records a heartbeat's channel before its subscriptions (ConsumerManager.registerConsumer:
    // updateChannel, then updateSubscription), so a query racing the first heartbeat can see the
    // client without them: wait for both.
    const connections = await eventually(async () => {
      const c = await admin.consumerConnections(group)
      return c.clients.length === 1 && c.subscriptions.some((s) => s.topic === topic) && c
    }, 30_000, `${group} online with its subscription`)
    const client = connections.clients[0]
    assert.equal(client.language, 'RUST')
    assert.ok(Object.keys(client.clientAddrs).length >= 1)
    assert.deepEqual([connections.consumeType, connections.messageModel], ['CONSUME_PASSIVELY', 'CLUSTERING'])
    const subscription = connections.subscriptions.find((s) => s.topic === topic)
    assert.deepEqual([subscription.subString, subscription.expressionType, subscription.tags], ['a', 'TAG', ['a']])

    const sent = []
    for (let i = 0; i < 4; i++) sent.push(await producer.send(new Message(topic, 'a', key, `m${i}`)))
    const untaken = await producer.send(new Message(topic, 'b', 'not subscribed'))
    await until(() => sent.every((s) => consumed.has(s.messageId)), 30_000, 'every message consumed')
    // Offsets reach the brokers with the consumer's next periodic commit.
    const stats = await eventually(async () => {
      const s = await admin.consumeStats(group, topic)
      return s.queues.reduce((n, q) => n + q.consumerOffset, 0) === 5 && s.totalLag === 0 && s
    }, 30_000, `${group}'s offsets committed`)
    assert.ok(stats.queues.every((q) => q.topic === topic && q.lag === 0))
    // consumerProgress (no -t: 4.9.7 lacks it) rows: #Topic #Broker Name #QID #Broker Offset #Consumer Offset ...
    const progressOut = await mqadmin('consumerProgress', '-g', group)
    assert.deepEqual(
      rowsStartingWith(progressOut, topic).map((c) => [c[1], +c[2], +c[3], +c[4]]),
      stats.queues.map((q) => [q.brokerName, q.queueId, q.brokerOffset, q.consumerOffset]),
      progressOut,
    )
    assert.ok((await admin.consumeStats(group)).queues.some((q) => q.topic === topic))

    const info = await admin.consumerRunningInfo(group, client.clientId)
    assert.equal(info.consumeType, 'CONSUME_PASSIVELY')
    assert.equal(info.orderly, false)
    assert.equal(info.properties.PROP_CONSUME_TYPE, 'CONSUME_PASSIVELY')
    assert.ok(info.subscriptions.some((s) => s.topic === topic && s.subString === 'a'))
    const owned = info.queues.filter((q) => q.topic === topic)
    assert.equal(owned.length, stats.queues.length)
    assert.equal(owned.reduce((n, q) => n + q.commitOffset, 0), 5)
    await assert.rejects(admin.consumerRunningInfo(group, 'nobody@0'), { code: 'INVALID_ARGUMENT', message: /not online/ })

    // The untaken message (tag b) straight to the client's listener: nothing else happens to it.
    const result = await admin.consumeMessageDirectly(group, client.clientId, topic, untaken.messageId)
    assert.equal(result.result, DirectConsumeResult.CR_SUCCESS)
    assert.equal(result.order, false)
    assert.deepEqual(direct, [untaken.messageId])

    // Messages: by either id, by key within a time range, by queue offsets.
    const first = sent[0]
    const byUniqueKey = await eventually(() => admin.messageById(topic, first.messageId), 30_000, 'the index to have the message')
    const byOffsetId = await admin.messageById(topic, first.offsetMsgId)
    for (const m of [byUniqueKey, byOffsetId]) {
      assert.ok(m instanceof Message)
      assert.deepEqual([m.msgId, m.queueId, m.queueOffset, m.body.toString()], [first.messageId, first.queueId, first.queueOffset, 'm0'])
    }
    assert.equal(await admin.messageById(topic, '0A0B0C0D00002A9F0000000000000000'), null)
    const now = Date.now()
    const byKey = await eventually(async () => {
      const found = await admin.queryMessages(topic, key, now - 3_600_000, now + 60_000)
      return found.length === sent.length && found
    }, 30_000, 'every message of the key indexed')
    assert.deepEqual(byKey.map((m) => m.msgId).sort(), sent.map((s) => s.messageId).sort())
    assert.deepEqual(await admin.queryMessages(topic, key, now - 7_200_000, now - 3_600_000, 8), [])
    const queue = stats.queues.find((q) => q.brokerName === first.brokerName && q.queueId === first.queueId)
    const read = await admin.readQueue(topic, first.brokerName, first.queueId, 0, queue.brokerOffset)
    assert.deepEqual(read.map((m) => m.queueOffset), Array.from({ length: queue.brokerOffset }, (_, i) => i))
    assert.ok(read.some((m) => m.msgId === first.messageId))

    // Delivery status: the group is online and past the message.
    assert.ok((await admin.groupsOfTopic(topic)).includes(group))
    const tracks = await admin.messageTrack(topic, first.messageId)
    const track = tracks.find((t) => t.group === group)
    assert.deepEqual([track?.trackType, track?.error], [TrackType.CONSUMED, undefined], JSON.stringify(tracks))
  } finally {
    await producer.shutdown()
    await consumer.shutdown()
  }

  // Resets of the group, offline now: to the earliest, then the latest message of each queue.
  const earliest = await admin.resetOffsets(group, topic, ResetPosition.Earliest)
  assert.ok(earliest.length >= 2 && earliest.every((q) => q.offset === 0), JSON.stringify(earliest))
  const afterEarliest = await admin.consumeStats(group, topic)
  assert.equal(afterEarliest.totalLag, 5)
  const latest = await admin.resetOffsets(group, topic, ResetPosition.Latest)
  const max = await admin.maxOffsets(topic)
  const key2 = (q) => `${q.brokerName}/${q.queueId}`
  assert.deepEqual(
    new Map(latest.map((q) => [key2(q), q.offset])),
    new Map(max.map((q) => [key2(q), q.offset])),
  )
  const byTime = await admin.resetOffsets(group, topic, 0)
  assert.ok(byTime.every((q) => q.offset === 0))
  assert.equal((await admin.consumeStats(group, topic)).totalLag, 5)
})
