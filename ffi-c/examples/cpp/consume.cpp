// PushConsumer with a MessageListener subclass, in the ONS C++ SDK style.
#include "example_util.hpp"

#include <mutex>
#include <set>

using namespace ons;

class Listener : public MessageListener {
public:
    std::atomic<int> count{0};
    std::atomic<int> wrong{0};
    Action consume(Message& message, ConsumeContext& context) override {
        (void)context;
        std::string body = message.getMsgBody();
        if (std::string(message.getTag()) != "TagA" || body.compare(0, 5, "body-") != 0 ||
            std::string(message.getUserProperties("seq")).empty()) {
            wrong++;
        }
        count++;
        return CommitMessage;
    }
};

int main() {
    std::string topic = unique_name("ffi_cpp_consume");
    create_topic(topic, 4);

    {
        // RAII: the producer shuts down and is released at the end of this scope.
        Producer producer(example_properties("GID_ffi_cpp_consume_producer"));
        producer.start();
        for (int i = 0; i < 10; i++) {
            Message msg(topic, i % 2 == 0 ? "TagA" : "TagB", "body-" + std::to_string(i));
            msg.putUserProperties("seq", std::to_string(i));
            producer.send(msg);
        }
    }

    Listener listener;
    ONSFactoryProperty factoryInfo = example_properties(unique_name("GID_ffi_cpp_consume"));
    factoryInfo.setFactoryProperty(ONSFactoryProperty::ConsumeFromWhere, ONS_CONSUME_FROM_FIRST_OFFSET);
    PushConsumer* consumer = ONSFactory::getInstance()->createPushConsumer(factoryInfo);
    consumer->subscribe(topic.c_str(), "TagA", &listener);
    consumer->start();
    bool done = wait_for(listener.count, 5, 60);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    consumer->shutdown();  // no listener call after this returns
    std::cout << "consumed " << listener.count << " TagA messages (" << listener.wrong << " unexpected)"
              << std::endl;
    return done && listener.count == 5 && listener.wrong == 0 ? 0 : 1;
}
