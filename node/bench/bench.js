// One side of the benchmark in its own process (so CPU time is that side's alone):
//
//   node bench.js ours|ali produce|consume NAMESRV_ADDR TOPIC MESSAGES CONCURRENCY SIZE
//
// produce: CONCURRENCY loops of awaited sends of SIZE-byte bodies until MESSAGES are sent.
// consume: a new group reads TOPIC from its first offset; rate and CPU are measured from the
// first message to the last, so group start-up is not counted. Prints one JSON line.
'use strict'

const [side, mode, nameSrv, topic, messagesArg, concurrencyArg, sizeArg] = process.argv.slice(2)
const messages = Number(messagesArg)
const concurrency = Number(concurrencyArg)
const size = Number(sizeArg)
const group = `GID_bench_${side}_${mode}_${process.pid}`

function report(count, secs, cpuMicros) {
  const out = { side, mode, messages: count, concurrency, secs: +secs.toFixed(3) }
  out.rate = +(count / secs).toFixed(1)
  out.cpuUsPerMsg = +(cpuMicros / count).toFixed(2)
  console.log(JSON.stringify(out))
}

const cpu = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

async function produce(send) {
  const body = Buffer.alloc(size, 'x')
  await send(body) // route and connection warm-up, as on every side
  let next = 0
  const t0 = process.hrtime.bigint()
  const c0 = cpu()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < messages) await send(body)
    }),
  )
  report(messages, Number(process.hrtime.bigint() - t0) / 1e9, cpu() - c0)
}

function consumeCounter(done) {
  let seen = 0
  let first = null
  return () => {
    seen++
    if (seen === 1) first = [process.hrtime.bigint(), cpu()]
    if (seen === messages) {
      report(messages - 1, Number(process.hrtime.bigint() - first[0]) / 1e9, cpu() - first[1])
      done()
    }
  }
}

async function ours() {
  const { ONSFactory, Message, Action } = require('..')
  // Untraced, as ali-ons (which traces nothing) and core_bench.
  const props = { NAMESRV_ADDR: nameSrv, GROUP_ID: group, MsgTraceSwitch: false }
  if (mode === 'produce') {
    const producer = ONSFactory.createProducer(props)
    producer.start()
    await produce((body) => producer.send(new Message(topic, 'bench', body)))
    await producer.shutdown()
    return
  }
  const consumer = ONSFactory.createConsumer({
    ...props,
    ConsumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    ConsumeThreadNums: concurrency,
  })
  await new Promise((resolve) => {
    const count = consumeCounter(resolve)
    consumer.subscribe(topic, 'bench', () => {
      count()
      return Action.CommitMessage
    })
    consumer.start()
  })
  await consumer.shutdown()
}

async function ali() {
  const httpclient = require('urllib')
  const { Producer, Consumer, Message } = require('ali-ons')
  // ali-ons requires credentials; the benchmark cluster does not check them.
  const common = { httpclient, nameSrv, accessKeyId: 'bench', accessKeySecret: 'bench' }
  if (mode === 'produce') {
    const producer = new Producer({ ...common, producerGroup: group })
    await producer.ready()
    await produce((body) => producer.send(new Message(topic, 'bench', body)))
    await producer.close()
    return
  }
  // ali-ons bounds concurrency per queue; the topics have 4 queues.
  const consumer = new Consumer({
    ...common,
    consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    parallelConsumeLimit: Math.max(1, Math.floor(concurrency / 4)),
  })
  await consumer.ready()
  await new Promise((resolve) => {
    const count = consumeCounter(resolve)
    consumer.subscribe(topic, 'bench', async () => count())
  })
  await consumer.close()
}

;(side === 'ours' ? ours : ali)().then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  },
)
