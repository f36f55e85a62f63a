'use strict'

// The Open API client against a local HTTP server playing the console: the request carries the
// common parameters and a signature, the envelope is decoded, and an API error is an Error with
// code 'API' and the API's own code. (No console runs here; signing itself is unit-tested in core.)
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { OpenApiClient } = require('..')

test('OpenApiClient.callRaw: signed request, decoded envelope, coded API errors', async () => {
  const seen = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    seen.push(url)
    res.setHeader('content-type', 'application/json')
    if (url.pathname === '/topic/list') {
      res.end(JSON.stringify({ code: 200, success: true, requestId: 'r-1', data: [{ topic: 'T1' }], total: 1 }))
    } else {
      res.end(JSON.stringify({ code: 'BIZ_FIELD_CHECK_INVALID', success: false, message: 'no such topic', requestId: 'r-2' }))
    }
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  try {
    const client = new OpenApiClient({
      endpoint: `http://127.0.0.1:${server.address().port}`,
      accessKey: 'ak-node',
      secretKey: 'sk-node',
    })
    const ok = await client.callRaw('/topic/list', { topic: 'T1' })
    assert.deepEqual(ok.data, [{ topic: 'T1' }])
    assert.equal(ok.requestId, 'r-1')
    assert.equal(ok.total, 1)
    const q = seen[0].searchParams
    assert.equal(q.get('topic'), 'T1')
    assert.equal(q.get('_accesskey'), 'ak-node')
    assert.equal(q.get('_regionId'), 'mq-private')
    assert.ok(q.get('_signature'), 'the request is signed')

    await assert.rejects(client.callRaw('/topic/get', { topic: 'nope' }), (e) => {
      assert.ok(e instanceof Error)
      assert.equal(e.code, 'API')
      assert.equal(e.apiCode, 'BIZ_FIELD_CHECK_INVALID')
      assert.match(e.message, /no such topic/)
      return true
    })
    assert.throws(() => new OpenApiClient({ endpoint: 'http://127.0.0.1:1', accessKey: '', secretKey: 's' }), {
      code: 'INVALID_CONFIG',
    })
  } finally {
    server.close()
  }
})
