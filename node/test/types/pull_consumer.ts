// Every PullConsumer method with its declared argument and result types, as a TypeScript user
// writes them: run-tests.sh checks this file with `tsc --noEmit --strict` against the package's
// index.d.ts (test/pull_consumer.test.js runs the same calls against a cluster). Nothing here runs.
import { ConsumeContext, Message, MessageQueue, ONSFactory, PullConsumer } from 'rocketmq-ons'

export async function everyPullConsumerCall(namesrv: string, topic: string): Promise<void> {
  const consumer: PullConsumer = ONSFactory.createPullConsumer({
    NAMESRV_ADDR: namesrv,
    GROUP_ID: 'GID_types',
    autoCommit: false,
    pollTimeoutMillis: 1000,
  })
  consumer.registerTopicPartitionChangeListener(topic, (changed: string, queues: MessageQueue[]): void => {
    console.log(changed, queues.length)
  })
  consumer.start()
  const queues: MessageQueue[] = await consumer.topicPartitions(topic)
  // A MessageQueue is the push consumers' ConsumeContext object.
  const context: ConsumeContext = queues[0]
  consumer.assign([context, { topic, brokerName: 'broker-a', queueId: 1 }])
  const owned: MessageQueue[] = consumer.assignment()
  const batch: Message[] = await consumer.poll(500)
  const defaultWait: Message[] = await consumer.poll()
  console.log(owned.length, batch.length, defaultWait.length)
  await consumer.seek(queues[0], 0)
  await consumer.seekToBeginning(queues[0])
  await consumer.seekToEnd(queues[0])
  const at: number = await consumer.offsetForTimestamp(queues[0], Date.now())
  const committed: number | null = await consumer.committed(queues[0])
  console.log(at, committed)
  await consumer.commitSync()
  consumer.pause(queues)
  consumer.resume(queues)
  for await (const messages of consumer) {
    const first: Message = messages[0]
    console.log(first.msgId, first.queueOffset)
    break
  }
  const started: boolean = consumer.isStarted()
  await consumer.shutdown()
  const closed: boolean = consumer.isClosed()
  console.log(started, closed)

  const subscriber = ONSFactory.createPullConsumer({ NAMESRV_ADDR: namesrv, GROUP_ID: 'GID_types_sub' })
  subscriber.subscribe(topic, 'TagA || TagB')
  subscriber.subscribe(topic, { sql: 'a > 1' })
  subscriber.subscribe(topic)
  subscriber.unsubscribe(topic)
}
