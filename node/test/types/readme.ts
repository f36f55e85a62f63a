// The README's Node.js examples written in TypeScript, and every consumer's async-iterator form:
// run-tests.sh checks this file with `tsc --noEmit --strict` against the package's index.d.ts
// (the README's own blocks are checked there too, as JavaScript). Nothing here runs.
import {
  Action,
  BatchConsumer,
  BatchMessageStream,
  ConsumeContext,
  Consumer,
  Message,
  MessageStream,
  ONSFactory,
  OrderConsumer,
  PropertyKeyConst,
  SendResult,
} from 'rocketmq-ons'

type Properties = Record<string, string | number | boolean | null | undefined>

// The README's CommonJS script.
export async function sendThenListen(): Promise<void> {
  const props: Properties = { [PropertyKeyConst.NAMESRV_ADDR]: '127.0.0.1:9876', [PropertyKeyConst.GROUP_ID]: 'GID_example' }
  const producer = ONSFactory.createProducer(props)
  producer.start()
  const sent: SendResult = await producer.send(new Message('TopicA', 'TagA', 'order-1', Buffer.from([0, 1, 2])))
  console.log(`sent ${sent.messageId} to queue ${sent.queueId}`)

  const consumer: Consumer = ONSFactory.createConsumer({ ...props, ConsumeThreadNums: 8, ConsumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' })
  const arrived = new Promise<Message>((resolve) => {
    consumer.subscribe('TopicA', 'TagA', async (message: Message, context: ConsumeContext): Promise<Action> => {
      const body: Buffer = message.body
      console.log(`received ${message.msgId} from queue ${context.queueId}:`, body)
      if (message.msgId === sent.messageId) resolve(message)
      return Action.CommitMessage
    })
  })
  consumer.start()
  await arrived
  await consumer.shutdown()
  await producer.shutdown()
}

// The README's ES module: the async-iterator form.
export async function sendThenIterate(): Promise<void> {
  const props: Properties = { [PropertyKeyConst.NAMESRV_ADDR]: '127.0.0.1:9876', [PropertyKeyConst.GROUP_ID]: 'GID_stream' }
  const producer = ONSFactory.createProducer(props)
  producer.start()
  const sent = await producer.send(new Message('TopicA', 'TagB', 'hello'))
  await producer.shutdown()

  const consumer = ONSFactory.createConsumer({ ...props, ConsumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' })
  const messages: MessageStream = consumer.messages('TopicA', 'TagB')
  consumer.start()
  for await (const message of messages) {
    const received: Message = message
    console.log(`received ${received.msgId}: ${received.body}`)
    if (message.msgId === sent.messageId) break
  }
  await consumer.shutdown()
}

// Each consumer kind's stream yields what its listener gets: a Message, or an array of them.
export async function iterateEveryKind(consumer: Consumer, order: OrderConsumer, batches: BatchConsumer): Promise<void> {
  for await (const message of consumer.messages('T', '*')) {
    const queueId: number | null = message.queueId
    console.log(queueId, message.body.length)
  }
  for await (const message of order.messages('T', { sql: 'a > 1' })) {
    const shardingKey: string | null = message.shardingKey
    console.log(shardingKey)
  }
  const batchStream: BatchMessageStream = batches.messages('T', null)
  for await (const batch of batchStream) {
    const first: Message | undefined = batch[0]
    console.log(batch.length, first?.tag)
  }

  // The iterator a stream hands out: next, return and throw, nothing more.
  const iterator = consumer.messages('T')[Symbol.asyncIterator]()
  const step = await iterator.next()
  if (!step.done) {
    const message: Message = step.value
    console.log(message.msgId)
  }
  await iterator.return?.()
  // @ts-expect-error the iterator is not itself async-iterable (napi's object has no [Symbol.asyncIterator])
  for await (const message of iterator) console.log(message)
  // @ts-expect-error a batch stream yields arrays, not messages
  for await (const message of batches.messages('T')) console.log(message.msgId)
}
