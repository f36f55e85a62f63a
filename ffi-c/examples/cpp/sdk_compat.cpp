// What a program moved from the ONS C++ SDK also uses: factory properties passed as
// temporaries, ONSChannel, Message's system properties (setMsgID, setReconsumeTimes,
// getSystemProperties(), getByteBody), batch sends, sends to a chosen queue (MessageQueueONS),
// SQL92 subscriptions (MessageSelector), and the failed message's id and topic on an exception.
#include "example_util.hpp"

#include <mutex>
#include <set>

using namespace ons;

static int failures = 0;
#define EXPECT(cond)                                                                        \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::cerr << __FILE__ << ":" << __LINE__ << ": expected " #cond << std::endl;   \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

// Runs `f`, which must throw ONSClientException with `code` and a message containing `needle`.
template <typename F>
static void expect_throws(F f, int code, const std::string& needle, int line) {
    try {
        f();
        std::cerr << "line " << line << ": no exception" << std::endl;
        failures++;
    } catch (ONSClientException& e) {
        if (e.GetError() != code || std::string(e.GetMsg()).find(needle) == std::string::npos) {
            std::cerr << "line " << line << ": got (" << e.GetError() << ") " << e.GetMsg() << "; wanted (" << code
                      << ") ..." << needle << "..." << std::endl;
            failures++;
        }
    }
}

static void channels() {
    ONSFactoryProperty props;
    EXPECT(props.getOnsChannel() == ALIYUN);  // the SDK's default
    props.setOnsChannel(CLOUD);
    EXPECT(props.getOnsChannel() == CLOUD);
    EXPECT(std::string(props.getChannel()) == "CLOUD");
    props.setOnsChannel(INNER);
    EXPECT(std::string(props.get(ONSFactoryProperty::OnsChannel)) == "INNER");
    props.setFactoryProperty(ONSFactoryProperty::OnsChannel, "MARS");
    expect_throws([&] { props.getOnsChannel(); }, ONS_ERR_INVALID_CONFIG, "\"MARS\"", __LINE__);
}

static void system_properties() {
    Message msg("T", "TagA", "K1", std::string("a\0b", 3));
    int len = -1;
    const char* body = msg.getByteBody(&len);
    EXPECT(len == 3 && body != nullptr && std::string(body, 3) == std::string("a\0b", 3));
    EXPECT(msg.getByteBody(nullptr) == nullptr);

    EXPECT(std::string(msg.getMsgID()).empty());
    msg.setMsgID("0A0B0C0D00002A9F0000000000000042");
    EXPECT(std::string(msg.getMsgID()) == "0A0B0C0D00002A9F0000000000000042");
    msg.setReconsumeTimes(2);
    EXPECT(msg.getReconsumeTimes() == 2);
    expect_throws([&] { msg.setReconsumeTimes(-1); }, ONS_ERR_INVALID_ARGUMENT, "reconsume_times is -1", __LINE__);

    std::map<std::string, std::string> sys = msg.getSystemProperties();
    EXPECT(sys.size() == 4);
    EXPECT(sys[SystemPropKey::TAG] == "TagA");
    EXPECT(sys[SystemPropKey::KEY] == "K1");
    EXPECT(sys[SystemPropKey::MSGID] == "0A0B0C0D00002A9F0000000000000042");
    EXPECT(sys[SystemPropKey::RECONSUMETIMES] == "2");
    EXPECT(std::string(msg.getSystemProperties(SystemPropKey::RECONSUMETIMES)) == "2");
    EXPECT(std::string(msg.getSystemProperties(SystemPropKey::TAG)) == "TagA");

    msg.putSystemProperties(SystemPropKey::STARTDELIVERTIME, "1700000000000");
    EXPECT(msg.getStartDeliverTime() == 1700000000000LL);
    EXPECT(msg.getSystemProperties()[SystemPropKey::STARTDELIVERTIME] == "1700000000000");
    msg.putSystemProperties(SystemPropKey::TAG, "TagB");
    EXPECT(std::string(msg.getTag()) == "TagB");
    expect_throws([&] { msg.putSystemProperties(SystemPropKey::RECONSUMETIMES, "two"); }, ONS_ERR_INVALID_ARGUMENT,
                  "\"two\"", __LINE__);
    expect_throws([&] { msg.putSystemProperties("region", "hz"); }, ONS_ERR_INVALID_ARGUMENT,
                  "\"region\" is not a system property", __LINE__);

    // A copy carries them too.
    Message copy = msg;
    EXPECT(copy.getSystemProperties() == msg.getSystemProperties());
}

class SqlListener : public MessageListener {
public:
    std::atomic<int> count{0};
    std::atomic<int> wrong{0};
    std::mutex mutex;
    std::set<std::string> ids;
    Action consume(Message& message, ConsumeContext& context) override {
        (void)context;
        if (std::string(message.getUserProperties("region")) != "hz") {
            std::cerr << "the SQL92 subscription delivered " << message.toString() << " (region "
                      << message.getUserProperties("region") << ")" << std::endl;
            wrong++;
        }
        {
            std::lock_guard<std::mutex> lock(mutex);
            ids.insert(message.getSystemProperties()[SystemPropKey::MSGID]);
        }
        count++;
        return CommitMessage;
    }
};

// Records what SendCallbackONS::onException is given.
class FailureRecorder : public SendCallbackONS {
public:
    std::atomic<int> calls{0};
    int error = 0;
    std::string msgId, topic;
    void onSuccess(SendResultONS& sendResult) override {
        std::cerr << "unexpected success: " << sendResult.toString() << std::endl;
        calls++;
    }
    void onException(ONSClientException& e) override {
        error = e.GetError();
        msgId = e.GetMsgId();
        topic = e.GetTopic();
        calls++;
    }
};

// Producer::send(Message&, const MessageQueueONS&), and the failed message's id and topic on
// the exceptions of sync and async sends.
static void queues_and_failures(Producer* producer, const std::string& topic) {
    Message first(topic, "TagQ", "first");
    std::string broker = producer->send(first).getBrokerName();
    for (int queueId = 3; queueId >= 0; queueId--) {
        Message m(topic, "TagQ", "to queue " + std::to_string(queueId));
        SendResultONS r = producer->send(m, MessageQueueONS(topic, broker, queueId));
        EXPECT(r.getQueueId() == queueId && std::string(r.getBrokerName()) == broker);
    }
    MessageQueueONS mq(topic, broker, 0);
    mq.setQueueId(4);
    EXPECT(mq.getQueueId() == 4 && mq.getBrokerName() == broker && mq.getTopic() == topic);
    EXPECT(MessageQueueONS(topic, broker, 1) < mq && !(mq == MessageQueueONS(topic, broker, 1)));
    Message m(topic, "TagQ", "to no queue");
    try {
        producer->send(m, mq);
        std::cerr << "a send to queue 4 of a 4-queue topic succeeded" << std::endl;
        failures++;
    } catch (ONSClientException& e) {
        EXPECT(e.GetError() == ONS_ERR_INVALID_ARGUMENT);
        EXPECT(std::string(e.GetMsg()).find("writable queues are 0, 1, 2, 3") != std::string::npos);
        EXPECT(std::string(e.GetMsgId()).size() == 32);
        EXPECT(std::string(e.GetTopic()) == topic);
    }
    expect_throws([&] { producer->send(m, MessageQueueONS("OtherTopic", broker, 0)); }, ONS_ERR_INVALID_ARGUMENT,
                  "must be the same", __LINE__);

    // An async send that fails after the message got its id.
    ONSFactoryProperty unreachable = example_properties("GID_ffi_cpp_sdk_compat_unreachable");
    unreachable.setFactoryProperty(ONSFactoryProperty::NAMESRV_ADDR, "127.0.0.1:1");
    unreachable.setFactoryProperty(ONSFactoryProperty::SendMsgTimeoutMillis, "300");
    Producer* lost = ONSFactory::getInstance()->createProducer(unreachable);
    lost->start();
    FailureRecorder recorder;
    lost->sendAsync(m, &recorder);
    wait_for(recorder.calls, 1, 30);
    EXPECT(recorder.calls == 1 && (recorder.error == ONS_ERR_NETWORK || recorder.error == ONS_ERR_TIMEOUT));
    EXPECT(recorder.msgId.size() == 32 && recorder.topic == topic);
    try {
        lost->send(m);
        failures++;
    } catch (ONSClientException& e) {
        EXPECT(std::string(e.GetMsgId()).size() == 32 && std::string(e.GetTopic()) == topic);
    }
    ONSFactory::getInstance()->destroy(lost);
    std::cout << "send to queue: 4 queues; async failure: id " << recorder.msgId << ", topic " << recorder.topic
              << std::endl;
}

int main() {
    channels();
    system_properties();

    std::string topic = unique_name("ffi_cpp_sdk_compat");
    create_topic(topic, 4);

    // The factory takes its properties by const reference: a temporary compiles.
    Producer* producer = ONSFactory::getInstance()->createProducer(example_properties("GID_ffi_cpp_sdk_compat"));
    producer->start();

    const int count = 6;
    std::vector<Message> batch;
    for (int i = 0; i < count; i++) {
        Message m(topic, "TagA", "batch-" + std::to_string(i));
        m.putUserProperties("region", i % 2 == 0 ? "hz" : "sh");
        m.putUserProperties("n", std::to_string(i));
        batch.push_back(m);
    }
    std::vector<SendResultONS> results = producer->sendBatch(batch);
    EXPECT(results.size() == static_cast<size_t>(count));
    std::set<std::string> sent_ids, hz_ids;
    for (size_t i = 0; i < results.size(); i++) {
        EXPECT(std::string(results[i].getTopic()) == topic);
        sent_ids.insert(results[i].getMessageId());
        if (i % 2 == 0) {
            hz_ids.insert(results[i].getMessageId());
        }
    }
    EXPECT(sent_ids.size() == static_cast<size_t>(count) && sent_ids.count("") == 0);
    std::cout << "batch: " << results.size() << " results, " << sent_ids.size() << " distinct ids" << std::endl;
    expect_throws([&] { producer->sendBatch(std::vector<Message>()); }, ONS_ERR_INVALID_ARGUMENT, "empty", __LINE__);

    // Only region = 'hz' (3 of the 6) comes through the SQL92 subscription.
    SqlListener listener;
    ONSFactoryProperty consumerInfo = example_properties(unique_name("GID_ffi_cpp_sdk_compat_sql"));
    consumerInfo.setFactoryProperty(ONSFactoryProperty::ConsumeFromWhere, ONS_CONSUME_FROM_FIRST_OFFSET);
    consumerInfo.setOnsChannel(CLOUD);  // accepted, changes nothing against a RocketMQ cluster
    PushConsumer* consumer = ONSFactory::getInstance()->createPushConsumer(consumerInfo);
    consumer->subscribe(topic.c_str(), MessageSelector::bySql("region = 'hz' AND n >= 0"), &listener);
    consumer->start();
    bool done = wait_for(listener.count, count / 2, 60);
    std::this_thread::sleep_for(std::chrono::seconds(3));  // anything wrongly let through arrives by now
    consumer->shutdown();
    std::cout << "SQL92: consumed " << listener.count << " of " << count << " (" << listener.wrong
              << " not matching)" << std::endl;
    EXPECT(done && listener.count == count / 2 && listener.wrong == 0);
    EXPECT(listener.ids == hz_ids);

    queues_and_failures(producer, topic);

    // The tag selector is the plain subscribe.
    SqlListener tags;
    PushConsumer* by_tag = ONSFactory::getInstance()->createPushConsumer(
        example_properties(unique_name("GID_ffi_cpp_sdk_compat_tag")));
    by_tag->subscribe(topic.c_str(), MessageSelector::byTag("TagA || TagB"), &tags);
    EXPECT(!MessageSelector::byTag("TagA").isSql() && MessageSelector::bySql("a > 1").isSql());
    EXPECT(std::string(MessageSelector::bySql("a > 1").getExpression()) == "a > 1");
    ONSFactory::getInstance()->destroy(by_tag);

    producer->shutdown();
    std::cout << (failures == 0 ? "all checks passed" : "FAILED") << " (" << failures << " failures)" << std::endl;
    return failures == 0 ? 0 : 1;
}
