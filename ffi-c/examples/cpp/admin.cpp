// ons::Admin (ons/ONSAdmin.h) end to end, as ../admin.c does with the C API: every operation on a
// throw-away topic and group, each result checked; exits non-zero on the first wrong one.
#include "example_util.hpp"

#include <ons/ONSAdmin.h>

#include <algorithm>

using namespace ons;

#define EXPECT(cond, what)                                                                     \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::cerr << __FILE__ << ":" << __LINE__ << ": expected " #cond ": " << what << std::endl; \
            std::exit(1);                                                                      \
        }                                                                                      \
    } while (0)

static const int kMessages = 3;

class Counting : public MessageListener {
public:
    std::atomic<int> count{0};
    Action consume(Message&, ConsumeContext&) override {
        count++;
        return CommitMessage;
    }
};

template <typename T>
static bool contains(const std::vector<T>& v, const T& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

static long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int main() {
    const std::string topic = unique_name("ffi_cpp_admin"), group = unique_name("GID_ffi_cpp_admin"),
                      key = unique_name("key");
    Admin admin(example_properties("GID_ffi_cpp_admin_tool"));

    // A 4.9.7 broker cannot report its runtime info for a short while after it started.
    std::vector<Admin::ClusterBroker> brokers = admin.clusterList();
    for (int attempt = 0; attempt < 60 && !brokers.empty() && !brokers[0].runtimeError.empty(); attempt++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        brokers = admin.clusterList();
    }
    EXPECT(!brokers.empty(), "no broker");
    const std::string cluster = brokers[0].cluster;
    size_t masters = 0;
    for (size_t i = 0; i < brokers.size(); i++) {
        masters += brokers[i].cluster == cluster && brokers[i].role == ONS_ADMIN_ROLE_MASTER;
    }
    EXPECT(admin.brokerRuntimeInfo(brokers[0].addr).count("brokerVersionDesc") == 1, "no version in runtime info");

    EXPECT(admin.updateTopic(cluster, topic, 2, 2).size() == masters, "topic not written to every master");
    EXPECT(contains(admin.listTopics(), topic), topic << " not listed");
    Admin::TopicRoute route = admin.topicRoute(topic);
    EXPECT(route.queues.size() == masters && route.queues[0].writeQueueNums == 2, "route of " << topic);
    EXPECT(route.brokers[0].addrs.count(0) == 1, "no master address in the route");

    std::vector<std::string> ids;
    {
        ONSFactoryProperty props = example_properties("GID_ffi_cpp_admin_p");
        Producer* producer = ONSFactory::getInstance()->createProducer(props);
        producer->start();
        for (int i = 0; i < kMessages; i++) {
            Message msg(topic, "TagA", key, "admin-body");
            ids.push_back(producer->send(msg).getMessageId());
        }
        producer->shutdown();
    }

    Admin::TopicStats stats = admin.topicStats(topic);
    long long stored = 0;
    size_t read = 0;
    for (size_t i = 0; i < stats.queues.size(); i++) {
        const Admin::QueueOffsets& q = stats.queues[i];
        stored += q.maxOffset - q.minOffset;
        read += admin.readQueue(topic, q.brokerName, q.queueId, q.minOffset, q.maxOffset).size();
    }
    EXPECT(stats.queues.size() == 2 * masters && stored == kMessages && read == kMessages,
           "stats: " << stats.queues.size() << " queues, " << stored << " stored, " << read << " read");
    long long maxSum = 0;
    std::vector<Admin::QueueOffset> max = admin.maxOffsets(topic);
    for (size_t i = 0; i < max.size(); i++) {
        maxSum += max[i].offset;
    }
    EXPECT(maxSum == kMessages, "max offsets sum to " << maxSum);

    Message found;
    bool hit = false;
    for (int attempt = 0; attempt < 50 && !hit; attempt++) {
        hit = admin.messageById(topic, ids[0], found);
        if (!hit) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    EXPECT(hit && key == found.getKey() && found.getMsgBody() == "admin-body", "message " << ids[0]);
    std::vector<Message> byKey;
    for (int attempt = 0; attempt < 50 && byKey.size() != kMessages; attempt++) {
        byKey = admin.queryMessages(topic, key, 0, now_ms() + 60000);
        if (byKey.size() != kMessages) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    EXPECT(byKey.size() == kMessages, byKey.size() << " messages with key " << key);

    Admin::SubscriptionGroup config;
    EXPECT(config.retryMaxTimes == 16 && config.consumeEnable, "Java defaults");
    config.groupName = group;
    config.retryMaxTimes = 4;
    EXPECT(admin.updateSubscriptionGroup(cluster, config).size() == masters, "group not written everywhere");
    std::vector<Admin::BrokerGroups> listed = admin.listSubscriptionGroups(cluster);
    for (size_t i = 0; i < listed.size(); i++) {
        bool ok = false;
        for (size_t k = 0; k < listed[i].groups.size(); k++) {
            ok |= listed[i].groups[k].groupName == group && listed[i].groups[k].retryMaxTimes == 4;
        }
        EXPECT(ok, group << " with 4 retries not on " << listed[i].brokerName);
    }

    Counting listener;
    std::string clientId;
    {
        ONSFactoryProperty props = example_properties(group);
        props.setFactoryProperty(ONS_PROPERTY_CONSUME_FROM_WHERE, ONS_CONSUME_FROM_FIRST_OFFSET);
        PushConsumer* consumer = ONSFactory::getInstance()->createPushConsumer(props);
        consumer->subscribe(topic.c_str(), "*", &listener);
        consumer->start();
        EXPECT(wait_for(listener.count, kMessages, 60), "consumed " << listener.count);

        Admin::ConsumerConnections connections = admin.consumerConnections(group);
        EXPECT(connections.clients.size() == 1 && connections.messageModel == "CLUSTERING",
               connections.clients.size() << " clients, model " << connections.messageModel);
        clientId = connections.clients[0].clientId;
        Admin::RunningInfo info = admin.consumerRunningInfo(group, clientId);
        EXPECT(info.properties["consumerGroup"] == group && !info.queues.empty(), "running info of " << clientId);
        Admin::DirectConsumeResult direct = admin.consumeMessageDirectly(group, clientId, topic, ids[1]);
        EXPECT(direct.result == ONS_ADMIN_CR_SUCCESS && direct.resultName == "CR_SUCCESS",
               direct.resultName << " " << direct.remark);
        EXPECT(listener.count == kMessages + 1, "listener ran " << listener.count << " times");
        consumer->shutdown();
    }

    Admin::ConsumeStats progress = admin.consumeStats(group, topic);
    EXPECT(progress.totalLag == 0 && !progress.queues.empty(), "lag " << progress.totalLag);
    std::vector<Admin::MessageTrack> tracks = admin.messageTrack(topic, ids[0]);
    bool tracked = false;
    for (size_t i = 0; i < tracks.size(); i++) {
        tracked |= tracks[i].group == group && tracks[i].trackType == ONS_ADMIN_TRACK_NOT_ONLINE;
    }
    EXPECT(tracked, group << " not NOT_ONLINE among " << tracks.size() << " tracks");
    EXPECT(contains(admin.groupsOfTopic(topic), group), group << " not among the groups of " << topic);

    std::vector<Admin::QueueOffset> reset = admin.resetOffsets(group, topic, ONS_ADMIN_RESET_TO_EARLIEST);
    EXPECT(reset.size() == 2 * masters, reset.size() << " queues reset");
    EXPECT(admin.consumeStats(group, topic).totalLag == kMessages, "lag after the reset");

    try {
        admin.resetOffsets(group, topic, 9);
        EXPECT(false, "position 9 accepted");
    } catch (ONSClientException& e) {
        EXPECT(e.GetError() == ONS_ERR_INVALID_ARGUMENT && std::string(e.GetMsg()).find("position") != std::string::npos,
               e.GetMsg());
    }

    EXPECT(admin.deleteSubscriptionGroup(cluster, group, true).size() == masters, "group deletion");
    admin.deleteTopic(cluster, topic);
    try {
        admin.topicRoute(topic);
        EXPECT(false, "a route after deletion");
    } catch (ONSClientException& e) {
        EXPECT(e.GetError() == ONS_ERR_TOPIC_NOT_FOUND, e.GetMsg());
    }
    std::cout << "C++ admin: every operation checked on " << masters << " master(s) of " << cluster << std::endl;
    return 0;
}
