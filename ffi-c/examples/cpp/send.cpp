// Producer in the ONS C++ SDK style: sync, oneway and async sends.
#include "example_util.hpp"

using namespace ons;

class Callback : public SendCallbackONS {
public:
    std::atomic<int> ok{0}, failed{0};
    void onSuccess(SendResultONS& result) override {
        if (result.getMessageId()[0] != '\0') {
            ok++;
        }
    }
    void onException(ONSClientException& e) override {
        std::cerr << "async send failed: " << e.GetMsg() << " (" << e.GetError() << ")" << std::endl;
        failed++;
    }
};

int main() {
    std::string topic = unique_name("ffi_cpp_send");
    create_topic(topic, 4);

    ONSFactoryProperty factoryInfo = example_properties("GID_ffi_cpp_send");
    factoryInfo.setSendMsgTimeout(5000);
    Producer* producer = ONSFactory::getInstance()->createProducer(factoryInfo);
    producer->start();

    Message msg(topic, "TagA", "ORDERID_100", std::string("binary\0body", 11));
    msg.putUserProperties("region", "hangzhou");
    try {
        SendResultONS result = producer->send(msg);
        std::cout << "sent " << result.getMessageId() << std::endl;
        producer->sendOneway(msg);
    } catch (ONSClientException& e) {
        std::cerr << "send failed: " << e.GetMsg() << std::endl;
        return 1;
    }

    // The ONS SDK's updateCredential: AccessKey missing is refused naming it; with both keys
    // later requests are signed with them (the test cluster checks no signature).
    ONSFactoryProperty credentials;
    credentials.setFactoryProperty(ONSFactoryProperty::SecretKey, "rotated-secret");
    try {
        producer->updateCredential(credentials);
        std::cerr << "rotation without AccessKey was accepted" << std::endl;
        return 1;
    } catch (ONSClientException& e) {
        std::cout << "rotation without AccessKey: " << e.GetMsg() << std::endl;
        if (e.GetError() != ONS_ERR_INVALID_CONFIG || std::string(e.GetMsg()).find("AccessKey") == std::string::npos) {
            return 1;
        }
    }
    credentials.setFactoryProperty(ONSFactoryProperty::AccessKey, "rotated-key");
    producer->updateCredential(credentials);
    producer->send(msg);

    Callback callback;
    for (int i = 0; i < 10; i++) {
        Message m(topic, "TagB", "async " + std::to_string(i));
        producer->sendAsync(m, &callback);
    }
    wait_for(callback.ok, 10, 30);
    producer->shutdown();

    // Message traces are on by default: the record of each answered send (12; a oneway send
    // has none) was sent to the trace topic, dropped, or still queued when shutdown's flush
    // ended. The counts stay readable after shutdown.
    ons_trace_counts_t traces = producer->traceCounts();
    std::cout << "trace records: " << traces.sent << " sent, " << traces.dropped << " dropped" << std::endl;
    if (traces.traced != 1 || traces.sent + traces.dropped > 12) {
        return 1;
    }

    // Errors are exceptions carrying the ONS_ERR_* code.
    try {
        producer->send(msg);
        return 1;
    } catch (ONSClientException& e) {
        std::cout << "after shutdown: " << e.GetMsg() << " (code " << e.GetError() << ")" << std::endl;
        if (e.GetError() != ONS_ERR_NOT_STARTED) {
            return 1;
        }
    }
    std::cout << "async: " << callback.ok << " ok, " << callback.failed << " failed" << std::endl;
    return callback.ok == 10 ? 0 : 1;
}
