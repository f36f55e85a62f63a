'use strict'

// The HTTP management clients against a local HTTP server playing the console or the ASAPI
// gateway: each request carries the common parameters and a signature, the answer is decoded,
// and an API error is an Error with code 'API' and the API's own code. (No console or gateway
// runs here; signing is unit-tested in core against the examples of docs/open-api.md §4 and
// docs/asapi.md §3.4.)
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { OpenApiClient, AsapiClient } = require('./package-under-test').binding

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

// The ASAPI gateway's POP signature, written out here from docs/asapi.md §3 as an independent
// check of the core's: Base64(HMAC(secret + '&', METHOD & enc('/') & enc(sorted query))).
function popSignature(method, params, secret, algorithm) {
  const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  const query = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${enc(k)}=${enc(params[k])}`)
    .join('&')
  const { createHmac } = require('node:crypto')
  return createHmac(algorithm, `${secret}&`).update(`${method}&${enc('/')}&${enc(query)}`).digest('base64')
}

test('AsapiClient.call: POP-signed POST and GET, decoded answer, coded gateway errors', async () => {
  const seen = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const url = new URL(req.url, 'http://x')
      const params = Object.fromEntries(new URLSearchParams(req.method === 'POST' ? body : url.search))
      seen.push({ method: req.method, params })
      res.setHeader('content-type', 'application/json')
      if (params.Action === 'OnsRegionList') {
        res.end(JSON.stringify({ asapiSuccess: true, RequestId: 'r-1', eagleEyeTraceId: 't-1', Data: { Regions: ['cn-test'] } }))
      } else {
        res.statusCode = 404
        res.end(JSON.stringify({ asapiSuccess: false, asapiErrorCode: 'asapi.server.api.notfound', asapiErrorMessage: 'no such api', RequestId: 'r-2' }))
      }
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const endpoint = `http://127.0.0.1:${server.address().port}/asapi/v3`
  try {
    const client = new AsapiClient({ endpoint, accessKey: 'ak-node', secretKey: 'sk-node', regionId: 'cn-test' })
    const ok = await client.call('Ons', 'OnsRegionList', '2019-02-14', { PageSize: '10', 'Name with space': 'a*b~' })
    assert.equal(ok.httpStatus, 200)
    assert.equal(ok.requestId, 'r-1')
    assert.equal(ok.eagleEyeTraceId, 't-1')
    assert.deepEqual(ok.body.Data, { Regions: ['cn-test'] })
    const post = seen[0]
    assert.equal(post.method, 'POST')
    assert.equal(post.params.Product, 'Ons')
    assert.equal(post.params.Version, '2019-02-14')
    assert.equal(post.params.AccessKeyId, 'ak-node')
    assert.equal(post.params.RegionId, 'cn-test')
    assert.equal(post.params.PageSize, '10')
    assert.equal(post.params.SignatureMethod, 'HMAC-SHA1')
    assert.equal(post.params.Signature, popSignature('POST', post.params, 'sk-node', 'sha1'))

    const get = new AsapiClient({ endpoint, accessKey: 'ak-node', secretKey: 'sk-node', regionId: 'cn-test', method: 'GET', signatureMethod: 'HMAC-SHA256' })
    await get.call('Ons', 'OnsRegionList', '2019-02-14')
    assert.equal(seen[1].method, 'GET')
    assert.equal(seen[1].params.SignatureMethod, 'HMAC-SHA256')
    assert.equal(seen[1].params.Signature, popSignature('GET', seen[1].params, 'sk-node', 'sha256'))

    await assert.rejects(client.call('Ons', 'NoSuchAction', '2019-02-14'), (e) => {
      assert.ok(e instanceof Error)
      assert.equal(e.code, 'API')
      assert.equal(e.apiCode, 'asapi.server.api.notfound')
      assert.match(e.message, /no such api/)
      return true
    })
    const options = { endpoint, accessKey: 'ak', secretKey: 'sk', regionId: 'cn-test' }
    assert.throws(() => new AsapiClient({ ...options, regionId: ' ' }), { code: 'INVALID_CONFIG', message: /region/ })
    assert.throws(() => new AsapiClient({ ...options, signatureMethod: 'MD5' }), { code: 'INVALID_CONFIG', message: /signatureMethod/ })
    assert.throws(() => new AsapiClient({ ...options, method: 'PUT' }), { code: 'INVALID_CONFIG', message: /method/ })
  } finally {
    server.close()
  }
})
