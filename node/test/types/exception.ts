// ONSClientException as a TypeScript user handles it: run-tests.sh checks this file with
// `tsc --noEmit --strict` against the package's index.d.ts (test/exception.test.js runs the same
// cases against a cluster). Nothing here runs.
import { ErrorCode, Message, ONSClientException, ONSFactory } from 'rocketmq-ons'

export async function sendOrExplain(topic: string): Promise<string> {
  const producer = ONSFactory.createProducer({ NAMESRV_ADDR: '127.0.0.1:9876', GROUP_ID: 'GID_types' })
  try {
    producer.start()
    const sent = await producer.send(new Message(topic, 'tag', 'body'))
    return sent.messageId
  } catch (e) {
    if (e instanceof ONSClientException) {
      const code: ErrorCode = e.code
      const responseCode: number | undefined = e.responseCode
      const apiCode: string | undefined = e.apiCode
      const messageId: string | undefined = e.messageId
      const failedTopic: string | undefined = e.topic
      const text: string = `${e.name} ${code} ${e.message} ${responseCode} ${apiCode} ${messageId} ${failedTopic}`
      if (code === ErrorCode.TOPIC_NOT_FOUND) return `no topic ${failedTopic}: ${text}`
      return text
    }
    if (e instanceof TypeError) return `bad argument: ${e.message}`
    throw e
  } finally {
    await producer.shutdown()
  }
}

export const made: Error = new ONSClientException('gone', ErrorCode.NETWORK, { cause: new Error('why') })
export const plain: ONSClientException = new ONSClientException()
