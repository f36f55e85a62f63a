// OrderProducer and OrderConsumer: per sharding key, messages arrive in the order sent.
#include "example_util.hpp"

#include <map>
#include <mutex>

using namespace ons;

class Listener : public MessageOrderListener {
public:
    std::atomic<int> count{0};
    std::atomic<int> out_of_order{0};
    OrderAction consume(Message& message, ConsumeOrderContext& context) override {
        (void)context;
        std::lock_guard<std::mutex> lock(mutex_);
        int step = std::atoi(message.getUserProperties("step"));
        int& next = next_[message.getShardingKey()];
        if (step != next) {
            out_of_order++;
        }
        next = step + 1;
        count++;
        return Success;
    }

private:
    std::mutex mutex_;
    std::map<std::string, int> next_;
};

int main() {
    std::string topic = unique_name("ffi_cpp_order");
    create_topic(topic, 4);

    OrderProducer producer(example_properties("GID_ffi_cpp_order_producer"));
    producer.start();
    for (int step = 0; step < 5; step++) {
        for (int k = 0; k < 3; k++) {
            Message msg(topic, "TagA", "step " + std::to_string(step));
            msg.putUserProperties("step", std::to_string(step));
            producer.send(msg, "order-" + std::to_string(k));
        }
    }
    producer.shutdown();

    Listener listener;
    ONSFactoryProperty factoryInfo = example_properties(unique_name("GID_ffi_cpp_order"));
    factoryInfo.setFactoryProperty(ONSFactoryProperty::ConsumeFromWhere, ONS_CONSUME_FROM_FIRST_OFFSET);
    OrderConsumer* consumer = ONSFactory::getInstance()->createOrderConsumer(factoryInfo);
    consumer->subscribe(topic.c_str(), "*", &listener);
    consumer->start();
    bool done = wait_for(listener.count, 15, 60);
    consumer->shutdown();
    std::cout << "consumed " << listener.count << " messages, " << listener.out_of_order << " out of order"
              << std::endl;
    return done && listener.out_of_order == 0 ? 0 : 1;
}
