/*
 * ons/ONSAdmin.h: ons::Admin, the cluster management calls of rocketmq_ons.h (ons_admin_*) for
 * C++11, with std::string / std::vector results. docs/admin.md describes each operation and the
 * mqadmin command it matches.
 *
 * Errors are thrown as ONSClientException (GetMsg(), GetError() = the ONS_ERR_* code), as in
 * ons/ONSFactory.h. Admin is RAII (the destructor releases the C handle), thread-safe,
 * non-copyable and movable. Results are plain values copied out of the C results, which are
 * freed before each call returns; strings the C API reports as NULL (absent) are "".
 */
#ifndef ONS_CPP_ONSADMIN_H
#define ONS_CPP_ONSADMIN_H

#include "ONSFactory.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ons {

class Admin {
public:
    /** A broker of clusterList. role is ONS_ADMIN_ROLE_MASTER or ONS_ADMIN_ROLE_SLAVE. */
    struct ClusterBroker {
        std::string cluster, brokerName, addr, version, runtimeError;
        long long brokerId;
        int role;
        std::map<std::string, std::string> runtime;
    };
    struct RouteBroker {
        std::string cluster, brokerName;
        std::map<long long, std::string> addrs; /* by broker id; 0 is the master */
    };
    struct RouteQueues {
        std::string brokerName;
        int readQueueNums, writeQueueNums, perm, topicSysFlag;
    };
    struct TopicRoute {
        std::vector<RouteBroker> brokers;
        std::vector<RouteQueues> queues;
        std::string orderTopicConf;
    };
    struct QueueOffsets {
        std::string topic, brokerName;
        int queueId;
        long long minOffset, maxOffset, lastUpdateTimestamp;
    };
    struct TopicStats {
        std::vector<QueueOffsets> queues;
        double putTps;
    };
    /** A subscription group config; a default-constructed one has the Java defaults. */
    struct SubscriptionGroup {
        std::string groupName;
        bool consumeEnable, consumeFromMinEnable, consumeBroadcastEnable, consumeMessageOrderly;
        int retryQueueNums, retryMaxTimes;
        int retryPolicy; /* ONS_ADMIN_RETRY_POLICY_* */
        long long exponentialInitial, exponentialMax, exponentialMultiplier;
        std::vector<long long> customizedNext;
        long long brokerId, whichBrokerWhenConsumeSlowly;
        bool notifyConsumerIdsChangedEnable;
        int groupSysFlag, consumeTimeoutMinute;
        std::map<std::string, std::string> attributes;

        SubscriptionGroup() {
            ons_admin_subscription_group_t c;
            detail::check(ons_admin_subscription_group_init(&c));
            *this = from(c);
        }
        static SubscriptionGroup from(const ons_admin_subscription_group_t& c) {
            SubscriptionGroup g(0);
            g.groupName = detail::or_empty(c.group_name);
            g.consumeEnable = c.consume_enable != 0;
            g.consumeFromMinEnable = c.consume_from_min_enable != 0;
            g.consumeBroadcastEnable = c.consume_broadcast_enable != 0;
            g.consumeMessageOrderly = c.consume_message_orderly != 0;
            g.retryQueueNums = c.retry_queue_nums;
            g.retryMaxTimes = c.retry_max_times;
            g.retryPolicy = c.retry_policy;
            g.exponentialInitial = c.exponential_initial;
            g.exponentialMax = c.exponential_max;
            g.exponentialMultiplier = c.exponential_multiplier;
            g.customizedNext.assign(c.customized_next, c.customized_next + c.customized_next_count);
            g.brokerId = c.broker_id;
            g.whichBrokerWhenConsumeSlowly = c.which_broker_when_consume_slowly;
            g.notifyConsumerIdsChangedEnable = c.notify_consumer_ids_changed_enable != 0;
            g.groupSysFlag = c.group_sys_flag;
            g.consumeTimeoutMinute = c.consume_timeout_minute;
            g.attributes = pairs(c.attributes, c.attribute_count);
            return g;
        }

    private:
        explicit SubscriptionGroup(int) {}
    };
    struct BrokerGroups {
        std::string brokerName, addr;
        std::vector<SubscriptionGroup> groups;
    };
    struct ConsumerClient {
        std::string clientId, language;
        int version;
        std::map<std::string, std::string> addrs; /* by broker name */
    };
    struct Subscription {
        std::string topic, subString, expressionType;
        std::vector<std::string> tags;
        long long subVersion;
    };
    struct ConsumerConnections {
        std::vector<ConsumerClient> clients;
        std::vector<Subscription> subscriptions;
        std::string consumeType, messageModel, consumeFromWhere;
    };
    struct QueueConsumeStats {
        std::string topic, brokerName;
        int queueId;
        long long brokerOffset, consumerOffset, pullOffset /* -1: not reported */, lag, lastTimestamp;
    };
    struct ConsumeStats {
        std::vector<QueueConsumeStats> queues;
        double consumeTps;
        long long totalLag, totalInflight;
    };
    struct ProcessQueue {
        std::string topic, brokerName;
        int queueId;
        long long commitOffset, cachedMsgMinOffset, cachedMsgMaxOffset, cachedMsgCount, cachedMsgSizeMiB;
        bool locked, dropped;
        long long tryUnlockTimes, lastLockTimestamp, lastPullTimestamp, lastConsumeTimestamp;
    };
    struct ConsumeStatus {
        std::string topic;
        double pullRt, pullTps, consumeRt, consumeOkTps, consumeFailedTps;
        long long consumeFailedMsgs;
    };
    struct RunningInfo {
        std::map<std::string, std::string> properties;
        std::vector<Subscription> subscriptions;
        std::vector<ProcessQueue> queues;
        std::vector<ConsumeStatus> status;
        std::string jstack;
    };
    /** result is ONS_ADMIN_CR_*, resultName its Java name ("CR_SUCCESS"). */
    struct DirectConsumeResult {
        bool order, autoCommit;
        int result;
        std::string resultName, remark;
        long long spentTimeMs;
    };
    struct QueueOffset {
        std::string topic, brokerName;
        int queueId;
        long long offset;
    };
    /** trackType is ONS_ADMIN_TRACK_*, trackTypeName its Java name ("CONSUMED"). */
    struct MessageTrack {
        std::string group, trackTypeName, error;
        int trackType;
    };

    /** Needs NAMESRV_ADDR (and credentials when the cluster checks them). */
    explicit Admin(const ONSFactoryProperty& properties) : handle_(nullptr) {
        detail::CProperties c(properties);
        detail::check(ons_admin_new(c.get(), &handle_));
    }
    ~Admin() { ons_admin_destroy(handle_); }
    Admin(Admin&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
    Admin& operator=(Admin&& other) noexcept {
        std::swap(handle_, other.handle_);
        return *this;
    }
    Admin(const Admin&) = delete;
    Admin& operator=(const Admin&) = delete;

    std::vector<ClusterBroker> clusterList() {
        Result<ons_admin_cluster_list_t> r(ons_admin_cluster_list_free);
        detail::check(ons_admin_cluster_list(handle_, r.out()));
        std::vector<ClusterBroker> brokers;
        for (size_t i = 0; i < r->count; i++) {
            const ons_admin_cluster_broker_t& c = r->brokers[i];
            ClusterBroker b;
            b.cluster = c.cluster;
            b.brokerName = c.broker_name;
            b.addr = c.addr;
            b.version = detail::or_empty(c.version);
            b.runtimeError = detail::or_empty(c.runtime_error);
            b.brokerId = c.broker_id;
            b.role = c.role;
            b.runtime = pairs(c.runtime, c.runtime_count);
            brokers.push_back(b);
        }
        return brokers;
    }

    std::map<std::string, std::string> brokerRuntimeInfo(const std::string& brokerAddr) {
        Result<ons_admin_key_value_list_t> r(ons_admin_key_value_list_free);
        detail::check(ons_admin_broker_runtime_info(handle_, brokerAddr.c_str(), r.out()));
        return pairs(r->items, r->count);
    }

    /** Returns the brokers written to. perm: 6 = read 4 | write 2. */
    std::vector<std::string> updateTopic(const std::string& cluster, const std::string& topic,
                                         unsigned readQueueNums, unsigned writeQueueNums, int perm = 6,
                                         bool order = false) {
        Result<ons_admin_string_list_t> r(ons_admin_string_list_free);
        detail::check(ons_admin_update_topic(handle_, cluster.c_str(), topic.c_str(), readQueueNums, writeQueueNums,
                                             perm, order ? 1 : 0, r.out()));
        return strings(r->items, r->count);
    }

    /** Creates the topic on the masters hosting TBW102, the call the examples use. */
    void createTopic(const std::string& topic, unsigned queueNums, bool order = false) {
        detail::check(ons_admin_create_topic(handle_, topic.c_str(), queueNums, order ? 1 : 0));
    }

    void deleteTopic(const std::string& cluster, const std::string& topic) {
        detail::check(ons_admin_delete_topic(handle_, cluster.c_str(), topic.c_str()));
    }

    std::vector<std::string> listTopics() {
        Result<ons_admin_string_list_t> r(ons_admin_string_list_free);
        detail::check(ons_admin_list_topics(handle_, r.out()));
        return strings(r->items, r->count);
    }

    TopicRoute topicRoute(const std::string& topic) {
        Result<ons_admin_topic_route_t> r(ons_admin_topic_route_free);
        detail::check(ons_admin_topic_route(handle_, topic.c_str(), r.out()));
        TopicRoute route;
        for (size_t i = 0; i < r->broker_count; i++) {
            const ons_admin_route_broker_t& c = r->brokers[i];
            RouteBroker b;
            b.cluster = c.cluster;
            b.brokerName = c.broker_name;
            for (size_t k = 0; k < c.addr_count; k++) {
                b.addrs[c.addrs[k].broker_id] = c.addrs[k].addr;
            }
            route.brokers.push_back(b);
        }
        for (size_t i = 0; i < r->queue_count; i++) {
            const ons_admin_route_queues_t& c = r->queues[i];
            RouteQueues q = {c.broker_name, c.read_queue_nums, c.write_queue_nums, c.perm, c.topic_sys_flag};
            route.queues.push_back(q);
        }
        route.orderTopicConf = detail::or_empty(r->order_topic_conf);
        return route;
    }

    TopicStats topicStats(const std::string& topic) {
        Result<ons_admin_topic_stats_t> r(ons_admin_topic_stats_free);
        detail::check(ons_admin_topic_stats(handle_, topic.c_str(), r.out()));
        TopicStats stats;
        stats.putTps = r->put_tps;
        for (size_t i = 0; i < r->count; i++) {
            const ons_admin_queue_offsets_t& c = r->queues[i];
            QueueOffsets q = {c.topic, c.broker_name, c.queue_id, c.min_offset, c.max_offset, c.last_update_timestamp};
            stats.queues.push_back(q);
        }
        return stats;
    }

    /** Returns the brokers written to. */
    std::vector<std::string> updateSubscriptionGroup(const std::string& cluster, const SubscriptionGroup& g) {
        ons_admin_subscription_group_t c;
        detail::check(ons_admin_subscription_group_init(&c));
        c.group_name = g.groupName.c_str();
        c.consume_enable = g.consumeEnable ? 1 : 0;
        c.consume_from_min_enable = g.consumeFromMinEnable ? 1 : 0;
        c.consume_broadcast_enable = g.consumeBroadcastEnable ? 1 : 0;
        c.consume_message_orderly = g.consumeMessageOrderly ? 1 : 0;
        c.retry_queue_nums = g.retryQueueNums;
        c.retry_max_times = g.retryMaxTimes;
        c.retry_policy = g.retryPolicy;
        c.exponential_initial = g.exponentialInitial;
        c.exponential_max = g.exponentialMax;
        c.exponential_multiplier = g.exponentialMultiplier;
        std::vector<int64_t> next(g.customizedNext.begin(), g.customizedNext.end());
        c.customized_next = next.empty() ? nullptr : next.data();
        c.customized_next_count = next.size();
        c.broker_id = g.brokerId;
        c.which_broker_when_consume_slowly = g.whichBrokerWhenConsumeSlowly;
        c.notify_consumer_ids_changed_enable = g.notifyConsumerIdsChangedEnable ? 1 : 0;
        c.group_sys_flag = g.groupSysFlag;
        c.consume_timeout_minute = g.consumeTimeoutMinute;
        std::vector<ons_admin_key_value_t> attributes;
        for (std::map<std::string, std::string>::const_iterator it = g.attributes.begin(); it != g.attributes.end();
             ++it) {
            ons_admin_key_value_t kv = {it->first.c_str(), it->second.c_str()};
            attributes.push_back(kv);
        }
        c.attributes = attributes.empty() ? nullptr : attributes.data();
        c.attribute_count = attributes.size();
        Result<ons_admin_string_list_t> r(ons_admin_string_list_free);
        detail::check(ons_admin_update_subscription_group(handle_, cluster.c_str(), &c, r.out()));
        return strings(r->items, r->count);
    }

    /** Returns the brokers told. */
    std::vector<std::string> deleteSubscriptionGroup(const std::string& cluster, const std::string& group,
                                                     bool cleanOffset) {
        Result<ons_admin_string_list_t> r(ons_admin_string_list_free);
        detail::check(ons_admin_delete_subscription_group(handle_, cluster.c_str(), group.c_str(), cleanOffset ? 1 : 0,
                                                          r.out()));
        return strings(r->items, r->count);
    }

    std::vector<BrokerGroups> listSubscriptionGroups(const std::string& cluster) {
        Result<ons_admin_subscription_group_list_t> r(ons_admin_subscription_group_list_free);
        detail::check(ons_admin_list_subscription_groups(handle_, cluster.c_str(), r.out()));
        std::vector<BrokerGroups> brokers;
        for (size_t i = 0; i < r->count; i++) {
            const ons_admin_broker_groups_t& c = r->brokers[i];
            BrokerGroups b;
            b.brokerName = c.broker_name;
            b.addr = c.addr;
            for (size_t k = 0; k < c.count; k++) {
                b.groups.push_back(SubscriptionGroup::from(c.groups[k]));
            }
            brokers.push_back(b);
        }
        return brokers;
    }

    ConsumerConnections consumerConnections(const std::string& group) {
        Result<ons_admin_consumer_connections_t> r(ons_admin_consumer_connections_free);
        detail::check(ons_admin_consumer_connections(handle_, group.c_str(), r.out()));
        ConsumerConnections out;
        for (size_t i = 0; i < r->client_count; i++) {
            const ons_admin_consumer_client_t& c = r->clients[i];
            ConsumerClient client;
            client.clientId = c.client_id;
            client.language = c.language;
            client.version = c.version;
            client.addrs = pairs(c.addrs, c.addr_count);
            out.clients.push_back(client);
        }
        out.subscriptions = subscriptions(r->subscriptions, r->subscription_count);
        out.consumeType = detail::or_empty(r->consume_type);
        out.messageModel = detail::or_empty(r->message_model);
        out.consumeFromWhere = detail::or_empty(r->consume_from_where);
        return out;
    }

    /** topic "" means every topic of the group. */
    ConsumeStats consumeStats(const std::string& group, const std::string& topic = "") {
        Result<ons_admin_consume_stats_t> r(ons_admin_consume_stats_free);
        detail::check(
            ons_admin_consume_stats(handle_, group.c_str(), topic.empty() ? nullptr : topic.c_str(), r.out()));
        ConsumeStats stats;
        stats.consumeTps = r->consume_tps;
        stats.totalLag = r->total_lag;
        stats.totalInflight = r->total_inflight;
        for (size_t i = 0; i < r->count; i++) {
            const ons_admin_queue_consume_stats_t& c = r->queues[i];
            QueueConsumeStats q = {c.topic, c.broker_name, c.queue_id, c.broker_offset, c.consumer_offset,
                                   c.pull_offset, c.lag, c.last_timestamp};
            stats.queues.push_back(q);
        }
        return stats;
    }

    RunningInfo consumerRunningInfo(const std::string& group, const std::string& clientId) {
        Result<ons_admin_running_info_t> r(ons_admin_running_info_free);
        detail::check(ons_admin_consumer_running_info(handle_, group.c_str(), clientId.c_str(), r.out()));
        RunningInfo info;
        info.properties = pairs(r->properties, r->property_count);
        info.subscriptions = subscriptions(r->subscriptions, r->subscription_count);
        for (size_t i = 0; i < r->queue_count; i++) {
            const ons_admin_process_queue_t& c = r->queues[i];
            ProcessQueue q = {c.topic, c.broker_name, c.queue_id, c.commit_offset, c.cached_msg_min_offset,
                              c.cached_msg_max_offset, c.cached_msg_count, c.cached_msg_size_mib, c.locked != 0,
                              c.dropped != 0, c.try_unlock_times, c.last_lock_timestamp, c.last_pull_timestamp,
                              c.last_consume_timestamp};
            info.queues.push_back(q);
        }
        for (size_t i = 0; i < r->status_count; i++) {
            const ons_admin_consume_status_t& c = r->status[i];
            ConsumeStatus s = {c.topic, c.pull_rt, c.pull_tps, c.consume_rt, c.consume_ok_tps, c.consume_failed_tps,
                               c.consume_failed_msgs};
            info.status.push_back(s);
        }
        info.jstack = detail::or_empty(r->jstack);
        return info;
    }

    DirectConsumeResult consumeMessageDirectly(const std::string& group, const std::string& clientId,
                                               const std::string& topic, const std::string& msgId) {
        Result<ons_admin_direct_consume_result_t> r(ons_admin_direct_consume_result_free);
        detail::check(ons_admin_consume_message_directly(handle_, group.c_str(), clientId.c_str(), topic.c_str(),
                                                         msgId.c_str(), r.out()));
        DirectConsumeResult d = {r->order != 0,
                                 r->auto_commit != 0,
                                 r->result,
                                 detail::or_empty(r->result_name),
                                 detail::or_empty(r->remark),
                                 r->spent_time_ms};
        return d;
    }

    /** position: ONS_ADMIN_RESET_TO_TIMESTAMP (with timestampMs), _EARLIEST or _LATEST. */
    std::vector<QueueOffset> resetOffsets(const std::string& group, const std::string& topic, int position,
                                          long long timestampMs = 0) {
        Result<ons_admin_queue_offset_list_t> r(ons_admin_queue_offset_list_free);
        detail::check(ons_admin_reset_offsets(handle_, group.c_str(), topic.c_str(), position, timestampMs, r.out()));
        return queueOffsets(*r);
    }

    std::vector<QueueOffset> maxOffsets(const std::string& topic) {
        Result<ons_admin_queue_offset_list_t> r(ons_admin_queue_offset_list_free);
        detail::check(ons_admin_max_offsets(handle_, topic.c_str(), r.out()));
        return queueOffsets(*r);
    }

    /** Either kind of message id; false (and `out` untouched) when no broker has it. */
    bool messageById(const std::string& topic, const std::string& msgId, Message& out) {
        ons_message_t* m = nullptr;
        detail::check(ons_admin_message_by_id(handle_, topic.c_str(), msgId.c_str(), &m));
        if (m == nullptr) {
            return false;
        }
        struct Free {
            ons_message_t* m;
            ~Free() { ons_message_free(m); }
        } release = {m};
        Message borrowed = detail::Access::lend(m);
        out = Message(borrowed);
        return true;
    }

    /** The messages with a key stored between two times (ms since the epoch). */
    std::vector<Message> queryMessages(const std::string& topic, const std::string& key, long long beginMs,
                                       long long endMs, int maxPerBroker = 32) {
        ons_message_t** msgs = nullptr;
        size_t count = 0;
        detail::check(
            ons_admin_query_messages(handle_, topic.c_str(), key.c_str(), beginMs, endMs, maxPerBroker, &msgs, &count));
        return adoptArray(msgs, count);
    }

    /** Offsets [begin, end) of one queue, at most 2048. */
    std::vector<Message> readQueue(const std::string& topic, const std::string& brokerName, int queueId,
                                   long long begin, long long end) {
        ons_message_t** msgs = nullptr;
        size_t count = 0;
        detail::check(
            ons_admin_read_queue(handle_, topic.c_str(), brokerName.c_str(), queueId, begin, end, &msgs, &count));
        return adoptArray(msgs, count);
    }

    std::vector<MessageTrack> messageTrack(const std::string& topic, const std::string& msgId) {
        Result<ons_admin_message_track_list_t> r(ons_admin_message_track_list_free);
        detail::check(ons_admin_message_track(handle_, topic.c_str(), msgId.c_str(), r.out()));
        std::vector<MessageTrack> tracks;
        for (size_t i = 0; i < r->count; i++) {
            const ons_admin_message_track_t& c = r->items[i];
            MessageTrack t = {c.group, c.track_type_name, detail::or_empty(c.error), c.track_type};
            tracks.push_back(t);
        }
        return tracks;
    }

    std::vector<std::string> groupsOfTopic(const std::string& topic) {
        Result<ons_admin_string_list_t> r(ons_admin_string_list_free);
        detail::check(ons_admin_groups_of_topic(handle_, topic.c_str(), r.out()));
        return strings(r->items, r->count);
    }

private:
    /* A C result, freed with its ons_admin_*_free when this goes out of scope (also when a
     * conversion throws). */
    template <typename T>
    class Result {
    public:
        explicit Result(int32_t (*release)(T*)) : ptr_(nullptr), release_(release) {}
        ~Result() { release_(ptr_); }
        T** out() { return &ptr_; }
        const T* operator->() const { return ptr_; }
        const T& operator*() const { return *ptr_; }
        Result(const Result&) = delete;
        Result& operator=(const Result&) = delete;

    private:
        T* ptr_;
        int32_t (*release_)(T*);
    };

    static std::vector<std::string> strings(const char* const* items, size_t count) {
        return std::vector<std::string>(items, items + count);
    }
    static std::map<std::string, std::string> pairs(const ons_admin_key_value_t* items, size_t count) {
        std::map<std::string, std::string> out;
        for (size_t i = 0; i < count; i++) {
            out[items[i].key] = items[i].value;
        }
        return out;
    }
    static std::vector<Subscription> subscriptions(const ons_admin_subscription_t* items, size_t count) {
        std::vector<Subscription> out;
        for (size_t i = 0; i < count; i++) {
            Subscription s = {items[i].topic, items[i].sub_string, items[i].expression_type,
                              strings(items[i].tags, items[i].tag_count), items[i].sub_version};
            out.push_back(s);
        }
        return out;
    }
    static std::vector<QueueOffset> queueOffsets(const ons_admin_queue_offset_list_t& list) {
        std::vector<QueueOffset> out;
        for (size_t i = 0; i < list.count; i++) {
            QueueOffset q = {list.items[i].topic, list.items[i].broker_name, list.items[i].queue_id,
                             list.items[i].offset};
            out.push_back(q);
        }
        return out;
    }
    /* Copies an array of C messages into owning Messages and frees it (also when a copy
     * throws). */
    static std::vector<Message> adoptArray(ons_message_t** msgs, size_t count) {
        struct Free {
            ons_message_t** m;
            size_t n;
            ~Free() { ons_message_array_free(m, n); }
        } release = {msgs, count};
        std::vector<Message> out;
        for (size_t i = 0; i < count; i++) {
            Message borrowed = detail::Access::lend(msgs[i]);
            Message owned(borrowed);
            out.push_back(std::move(owned));
        }
        return out;
    }

    ons_admin_t* handle_;
};

}  // namespace ons

#endif
