// Every Admin method with its declared argument and result types, as a TypeScript user writes
// them: run-tests.sh checks this file with `tsc --noEmit --strict` against the package's
// index.d.ts (test/admin.test.js runs the same calls against a cluster). Nothing here runs.
import {
  Admin,
  BrokerRole,
  BrokerSubscriptionGroups,
  ClusterBroker,
  ConsumeMessageDirectlyResult,
  ConsumeStats,
  ConsumerConnections,
  ConsumerRunningInfo,
  DirectConsumeResult,
  Message,
  MessageTrack,
  QueueOffset,
  ResetPosition,
  RetryPolicyType,
  SubscriptionGroupConfig,
  SubscriptionGroupSettings,
  TopicConfig,
  TopicRoute,
  TopicStats,
  TrackType,
} from 'rocketmq-ons'

export async function everyAdminCall(namesrv: string, cluster: string, topic: string, group: string): Promise<void> {
  const admin = new Admin({ NAMESRV_ADDR: namesrv })

  const brokers: ClusterBroker[] = await admin.clusterList()
  const masters: string[] = brokers.filter((b) => b.role === BrokerRole.Master).map((b) => b.addr)
  const version: string | undefined = brokers[0]?.version
  const runtimeError: string | undefined = brokers[0]?.runtimeError
  const runtime: Record<string, string> = await admin.brokerRuntimeInfo(masters[0] ?? '127.0.0.1:10911')
  console.log(version, runtimeError, runtime.brokerVersionDesc)

  const config: TopicConfig = { topicName: topic, readQueueNums: 4, writeQueueNums: 4, perm: 6, order: false }
  const updatedOn: string[] = await admin.updateTopic(cluster, config)
  await admin.createTopic(topic)
  await admin.createTopic(topic, 8, true)
  const topics: string[] = await admin.listTopics()
  const route: TopicRoute = await admin.topicRoute(topic)
  const masterAddr: string | undefined = route.brokers[0]?.addrs['0']
  const readQueues: number | undefined = route.queues[0]?.readQueueNums
  const stats: TopicStats = await admin.topicStats(topic)
  const maxOffset: number | undefined = stats.queues[0]?.maxOffset
  const offsets: QueueOffset[] = await admin.maxOffsets(topic)
  console.log(updatedOn, topics.length, masterAddr, readQueues, maxOffset, offsets[0]?.offset)

  const settings: SubscriptionGroupSettings = {
    groupName: group,
    retryMaxTimes: 5,
    groupRetryPolicy: { type: RetryPolicyType.CUSTOMIZED, customizedRetryPolicy: { next: [1000, 5000] } },
  }
  await admin.updateSubscriptionGroup(cluster, settings)
  const lists: BrokerSubscriptionGroups[] = await admin.listSubscriptionGroups(cluster)
  const found: SubscriptionGroupConfig | undefined = lists[0]?.groups.find((g) => g.groupName === group)
  const retries: number | undefined = found?.retryMaxTimes
  const deletedOn: string[] = await admin.deleteSubscriptionGroup(cluster, group, true)
  console.log(retries, deletedOn)

  const connections: ConsumerConnections = await admin.consumerConnections(group)
  const clientId: string = connections.clients[0]?.clientId ?? ''
  const consumeType: string | undefined = connections.consumeType
  const progress: ConsumeStats = await admin.consumeStats(group, topic)
  const everyTopic: ConsumeStats = await admin.consumeStats(group)
  const lag: number = progress.totalLag + everyTopic.totalInflight
  const pullOffset: number | undefined = progress.queues[0]?.pullOffset
  const info: ConsumerRunningInfo = await admin.consumerRunningInfo(group, clientId)
  const cached: number | undefined = info.queues[0]?.cachedMsgCount
  console.log(consumeType, lag, pullOffset, info.properties.PROP_CLIENT_VERSION, info.status[topic]?.pullTps, cached)

  const message: Message | null = await admin.messageById(topic, 'C0A8000100002A9F0000000000000000')
  const msgId: string = message?.msgId ?? ''
  const direct: ConsumeMessageDirectlyResult = await admin.consumeMessageDirectly(group, clientId, topic, msgId)
  const succeeded: boolean = direct.result === DirectConsumeResult.CR_SUCCESS
  const viewed: Message = await admin.viewMessage(topic, message?.offsetMsgId ?? '')
  const now = Date.now()
  const byKey: Message[] = await admin.queryMessages(topic, 'order-1', now - 3_600_000, now)
  const few: Message[] = await admin.queryMessages(topic, 'order-1', now - 3_600_000, now, 8)
  const read: Message[] = await admin.readQueue(topic, 'broker-a', 0, 0, 32)
  const tracks: MessageTrack[] = await admin.messageTrack(topic, msgId)
  const consumed: boolean = tracks.some((t) => t.trackType === TrackType.CONSUMED && t.error === undefined)
  const groups: string[] = await admin.groupsOfTopic(topic)
  console.log(succeeded, viewed.body.length, byKey.length + few.length + read.length, consumed, groups)

  const toEarliest: QueueOffset[] = await admin.resetOffsets(group, topic, ResetPosition.Earliest)
  const toLatest: QueueOffset[] = await admin.resetOffsets(group, topic, ResetPosition.Latest)
  const toTime: QueueOffset[] = await admin.resetOffsets(group, topic, now - 60_000)
  console.log(toEarliest.length, toLatest.length, toTime.length)
  await admin.deleteTopic(cluster, topic)
}
