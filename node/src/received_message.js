// Received messages in JS; compiled once per JS thread by message.rs (`Received`).
//
// A message a consumer, a transaction check-back or `Admin.viewMessage` delivers is an instance
// of this class, not of the native `Message`: its fields are JS values made once at delivery, so
// it owns no native memory and the garbage collector frees it like any small object. (A native
// `Message` per delivery kept the whole pulled batch it came in alive until a full collection,
// since V8 does not free wrapped objects in its young-generation collections: the heap grew
// by every message consumed and the finalizers cost more than the listener call.)
//
// Its prototype chain includes `Message.prototype`, so `msg instanceof Message` holds; it has
// every member of `Message` with the same meaning (node/test/producer.test.js checks none is
// missing), and the producers accept it, so a received message can be changed and sent again.
// Differences, documented on `Message`: `body` is the message's own Buffer, not a copy per read.
//
// The function below is called once with `Message.prototype` and `checkUserProperty`
// (the core's check of a user property, which throws its INVALID_ARGUMENT error) and returns
// [ReceivedMessage, fieldsToSend] (message.rs constructs it with the fields in constructor order).
;(function (messagePrototype, checkUserProperty) {
  'use strict'

  // A value of the wrong JS type: a TypeError with the code the native Message gives it.
  function typeError(message) {
    const error = new TypeError(message)
    error.code = 'INVALID_ARGUMENT'
    return error
  }

  function text(name, value, optional) {
    if (typeof value === 'string' || (optional && value == null)) return value ?? null
    throw typeError(`Message.${name} must be a string${optional ? ', null or undefined' : ''}`)
  }

  function time(name, value) {
    if (value == null || Number.isSafeInteger(value)) return value ?? null
    throw typeError(`Message.${name} must be an integer (ms since the epoch), null or undefined`)
  }

  function bytes(value) {
    if (typeof value === 'string') return Buffer.from(value, 'utf8')
    if (Buffer.isBuffer(value)) return Buffer.from(value)
    throw typeError('Message.body must be a Buffer or a string')
  }

  class ReceivedMessage {
    #topic
    #tag
    #key
    #body
    #msgId
    #reconsumeTimes
    #bornTimestamp
    #bornHost
    #startDeliverTime
    #shardingKey
    #queueId
    #queueOffset
    #storeTimestamp
    #brokerName
    #offsetMsgId
    /** User properties as [key, value, key, value, ...], or null when there are none. */
    #properties

    constructor(
      topic,
      tag,
      key,
      bodyMemory,
      bodyOffset,
      bodyLength,
      msgId,
      reconsumeTimes,
      bornTimestamp,
      bornHost,
      startDeliverTime,
      shardingKey,
      queueId,
      queueOffset,
      storeTimestamp,
      brokerName,
      offsetMsgId,
      properties,
    ) {
      this.#topic = topic
      this.#tag = tag
      this.#key = key
      // A view of the bytes copied at delivery, often into an ArrayBuffer shared by several
      // bodies (as Node's Buffer pool shares one between small Buffers).
      this.#body = Buffer.from(bodyMemory, bodyOffset, bodyLength)
      this.#msgId = msgId
      this.#reconsumeTimes = reconsumeTimes
      this.#bornTimestamp = bornTimestamp
      this.#bornHost = bornHost
      this.#startDeliverTime = startDeliverTime
      this.#shardingKey = shardingKey
      this.#queueId = queueId
      this.#queueOffset = queueOffset
      this.#storeTimestamp = storeTimestamp
      this.#brokerName = brokerName
      this.#offsetMsgId = offsetMsgId
      this.#properties = properties
    }

    get topic() {
      return this.#topic
    }
    set topic(value) {
      this.#topic = text('topic', value, false)
    }
    get tag() {
      return this.#tag
    }
    set tag(value) {
      this.#tag = text('tag', value, true)
    }
    get key() {
      return this.#key
    }
    set key(value) {
      this.#key = text('key', value, true)
    }
    get body() {
      return this.#body
    }
    set body(value) {
      this.#body = bytes(value)
    }
    get msgId() {
      return this.#msgId
    }
    get reconsumeTimes() {
      return this.#reconsumeTimes
    }
    get bornTimestamp() {
      return this.#bornTimestamp
    }
    get bornHost() {
      return this.#bornHost
    }
    get startDeliverTime() {
      return this.#startDeliverTime
    }
    set startDeliverTime(value) {
      this.#startDeliverTime = time('startDeliverTime', value)
    }
    get shardingKey() {
      return this.#shardingKey
    }
    set shardingKey(value) {
      this.#shardingKey = text('shardingKey', value, true)
    }
    get queueId() {
      return this.#queueId
    }
    get queueOffset() {
      return this.#queueOffset
    }
    get storeTimestamp() {
      return this.#storeTimestamp
    }
    get brokerName() {
      return this.#brokerName
    }
    get offsetMsgId() {
      return this.#offsetMsgId
    }

    putUserProperties(key, value) {
      checkUserProperty(key, value)
      const list = (this.#properties ??= [])
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === key) {
          list[i + 1] = value
          return
        }
      }
      list.push(key, value)
    }

    getUserProperties(key) {
      const list = this.#properties
      if (list === null) return null
      for (let i = 0; i < list.length; i += 2) if (list[i] === key) return list[i + 1]
      return null
    }

    get userProperties() {
      const all = {}
      const list = this.#properties
      if (list !== null) for (let i = 0; i < list.length; i += 2) all[list[i]] = list[i + 1]
      return all
    }

    toString() {
      return (
        `Message[topic=${this.#topic}, tag=${this.#tag ?? ''}, key=${this.#key ?? ''}, ` +
        `msgId=${this.#msgId ?? ''}, body=${this.#body.length} bytes]`
      )
    }

    /** What a producer sends of it, or undefined when `m` is not a received message. */
    static fieldsToSend(m) {
      if (!(m instanceof ReceivedMessage)) return undefined
      return [m.#topic, m.#tag, m.#key, m.#body, m.#startDeliverTime, m.#shardingKey, m.#properties]
    }
  }
  Object.setPrototypeOf(ReceivedMessage.prototype, messagePrototype)

  return [ReceivedMessage, ReceivedMessage.fieldsToSend]
})
