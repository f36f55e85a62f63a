'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const underTest = require('./package-under-test')

test('ESM and CommonJS entries export the same API', async () => {
  const cjs = underTest.binding
  const esm = await import(underTest.esmEntry)
  const named = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(named, Object.keys(cjs).sort())
  assert.equal(esm.ONSFactory, cjs.ONSFactory)
  assert.equal(esm.default, cjs)
  assert.equal(cjs.Action.CommitMessage, 'CommitMessage')
  assert.equal(cjs.OrderAction.Suspend, 'Suspend')
  assert.equal(cjs.TransactionStatus.Unknow, 'Unknow')
  assert.equal(cjs.PropertyKeyConst.NAMESRV_ADDR, 'NAMESRV_ADDR')
  assert.equal(cjs.PropertyKeyConst.SuspendTimeMillis, 'suspendTimeMillis')
  assert.equal(cjs.PropertyKeyConst.MaxCachedMessageAmount, 'maxCachedMessageAmount')
})

test('Message: constructors, fields and binary bodies without a cluster', () => {
  const { Message } = underTest.binding
  const m = new Message('T', 'tag', Buffer.from([0, 255]))
  assert.deepEqual(m.body, Buffer.from([0, 255]))
  assert.equal(m.key, null)
  const k = new Message('T', 'tag', 'key-1', 'text body')
  assert.equal(k.key, 'key-1')
  assert.equal(k.body.toString(), 'text body')
  k.body = Buffer.from([1, 2, 3])
  k.shardingKey = 's'
  k.startDeliverTime = 1234
  assert.deepEqual([...k.body], [1, 2, 3])
  assert.equal(k.shardingKey, 's')
  assert.equal(k.startDeliverTime, 1234)
  assert.equal(k.queueId, null)
  assert.throws(() => new Message('T', 'a', Buffer.from('x'), Buffer.from('y')), { code: 'INVALID_ARGUMENT' })
})

test('an unknown property name is an error naming the closest known one', () => {
  const { ONSFactory, PropertyKeyConst } = underTest.binding
  const props = {
    [PropertyKeyConst.NAMESRV_ADDR]: '127.0.0.1:9876',
    [PropertyKeyConst.GROUP_ID]: 'GID_a',
    SendMsgTimeoutMilis: 100,
  }
  assert.throws(() => ONSFactory.createProducer(props), {
    code: 'INVALID_CONFIG',
    message: /unknown property 'SendMsgTimeoutMilis' \(did you mean 'SendMsgTimeoutMillis'\?\)/,
  })
  ONSFactory.createProducer({ ...props, [PropertyKeyConst.AllowUnknownProperties]: true })
})

test('without an addon, loading names the platform, both places tried and how to build one', () => {
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'rocketmq-ons-bare-'))
  try {
    for (const file of ['index.js', 'native.js']) fs.copyFileSync(path.join(underTest.dir, file), path.join(bare, file))
    const { platformTag } = require(path.join(bare, 'native.js'))
    const tag = platformTag()
    assert.throws(() => require(bare), (err) => {
      assert.match(err.message, new RegExp(`no native addon for ${tag}`))
      assert.ok(err.message.includes(path.join(bare, `rocketmq-ons.${tag}.node`)), err.message)
      assert.ok(err.message.includes(`the package rocketmq-ons-${tag}`), err.message)
      assert.match(err.message, /npm run build.*needs Rust/)
      return true
    })
  } finally {
    fs.rmSync(bare, { recursive: true, force: true })
  }
})
