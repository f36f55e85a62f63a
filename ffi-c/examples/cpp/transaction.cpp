// TransactionProducer with LocalTransactionExecuter / LocalTransactionChecker subclasses.
#include "example_util.hpp"

#include <stdexcept>

using namespace ons;

class Executer : public LocalTransactionExecuter {
public:
    TransactionStatus execute(Message& value) override {
        std::string key = value.getKey();
        if (key == "tx-0") {
            return CommitTransaction;
        }
        if (key == "tx-1") {
            return RollbackTransaction;
        }
        throw std::runtime_error("not sure yet");  // counts as Unknow: the checker decides
    }
};

class Checker : public LocalTransactionChecker {
public:
    std::atomic<int> checks{0};
    TransactionStatus check(Message& value) override {
        checks++;
        return std::string(value.getKey()) == "tx-1" ? RollbackTransaction : CommitTransaction;
    }
};

class Listener : public MessageListener {
public:
    std::atomic<int> committed{0}, rolled_back{0};
    Action consume(Message& message, ConsumeContext&) override {
        (std::string(message.getKey()) == "tx-1" ? rolled_back : committed)++;
        return CommitMessage;
    }
};

int main() {
    std::string topic = unique_name("ffi_cpp_tx");
    create_topic(topic, 4);

    Checker checker;
    Executer executer;
    ONSFactoryProperty factoryInfo = example_properties(unique_name("GID_ffi_cpp_tx"));
    TransactionProducer* producer = ONSFactory::getInstance()->createTransactionProducer(factoryInfo, &checker);
    producer->start();
    for (int i = 0; i < 3; i++) {
        Message msg(topic, "TagA", "tx-" + std::to_string(i), "transfer " + std::to_string(i));
        SendResultONS result = producer->send(msg, &executer);
        std::cout << "half message " << msg.getKey() << " sent as " << result.getMessageId() << std::endl;
    }

    Listener listener;
    ONSFactoryProperty consumerInfo = example_properties(unique_name("GID_ffi_cpp_tx_consumer"));
    consumerInfo.setFactoryProperty(ONSFactoryProperty::ConsumeFromWhere, ONS_CONSUME_FROM_FIRST_OFFSET);
    PushConsumer consumer(consumerInfo);
    consumer.subscribe(topic.c_str(), "*", &listener);
    consumer.start();
    bool done = wait_for(listener.committed, 2, 100);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    consumer.shutdown();
    ONSFactory::getInstance()->destroy(producer);  // the checker may go after this
    std::cout << "committed " << listener.committed << ", rolled back but delivered " << listener.rolled_back
              << ", checks " << checker.checks << std::endl;
    return done && listener.rolled_back == 0 ? 0 : 1;
}
