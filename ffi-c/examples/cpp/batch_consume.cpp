// BatchConsumer with a BatchMessageListener subclass.
#include "example_util.hpp"

using namespace ons;

class Listener : public BatchMessageListener {
public:
    std::atomic<int> count{0};
    std::atomic<int> largest{0};
    Action consume(std::vector<Message>& messages, ConsumeContext& context) override {
        (void)context;
        int n = static_cast<int>(messages.size());
        int seen = largest.load();
        while (n > seen && !largest.compare_exchange_weak(seen, n)) {
        }
        count += n;
        return CommitMessage;
    }
};

int main() {
    std::string topic = unique_name("ffi_cpp_batch");
    create_topic(topic, 2);
    {
        Producer producer(example_properties("GID_ffi_cpp_batch_producer"));
        producer.start();
        for (int i = 0; i < 16; i++) {
            Message msg(topic, "TagA", "batch-" + std::to_string(i));
            producer.send(msg);
        }
    }
    Listener listener;
    ONSFactoryProperty factoryInfo = example_properties(unique_name("GID_ffi_cpp_batch"));
    factoryInfo.setFactoryProperty(ONSFactoryProperty::ConsumeFromWhere, ONS_CONSUME_FROM_FIRST_OFFSET);
    factoryInfo.setFactoryProperty(ONSFactoryProperty::ConsumeMessageBatchMaxSize, "8");
    BatchConsumer consumer(factoryInfo);
    consumer.subscribe(topic.c_str(), "*", &listener);
    consumer.start();
    bool done = wait_for(listener.count, 16, 60);
    consumer.shutdown();
    std::cout << "consumed " << listener.count << " messages, at most " << listener.largest << " per call"
              << std::endl;
    return done && listener.largest <= 8 ? 0 : 1;
}
