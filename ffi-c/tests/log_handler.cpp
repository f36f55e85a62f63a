// ons::ONSFactory::setLogHandler against the real cluster: a PushConsumer of a topic that does
// not exist is said to the handler as a WARN naming the topic; a bad level throws; an empty
// handler restores the default.
#include "example_util.hpp"

#include <mutex>

using namespace ons;

class NoListener : public MessageListener {
public:
    Action consume(Message&, ConsumeContext&) override { return CommitMessage; }
};

int main() {
    std::string topic = unique_name("ffi_cpp_no_such_topic");
    std::atomic<int> warned{0};
    std::mutex mutex;
    std::string seen;
    try {
        ONSFactory::setLogHandler([](int, const std::string&, const std::string&) {}, ONS_LOG_TRACE + 1);
        std::cerr << "a level above ONS_LOG_TRACE was accepted" << std::endl;
        return 1;
    } catch (const ONSClientException& e) {
        if (e.GetError() != ONS_ERR_INVALID_ARGUMENT) {
            std::cerr << "unexpected error " << e.GetError() << ": " << e.GetMsg() << std::endl;
            return 1;
        }
    }
    ONSFactory::setLogHandler([&](int level, const std::string& target, const std::string& message) {
        if (level == ONS_LOG_WARN && message.find(topic) != std::string::npos) {
            std::lock_guard<std::mutex> lock(mutex);
            seen = target + ": " + message;
            warned++;
        }
    });

    NoListener listener;
    bool done;
    {
        PushConsumer consumer(example_properties(unique_name("GID_ffi_cpp_log")));
        consumer.subscribe(topic.c_str(), "*", &listener);
        consumer.start();
        done = wait_for(warned, 1, 40);
    }
    // Back to the default before `warned` and `seen` go out of scope.
    ONSFactory::setLogHandler(nullptr);
    std::lock_guard<std::mutex> lock(mutex);
    std::cout << (done ? "handler got: " + seen : "no WARN naming " + topic + " within 40 s") << std::endl;
    return done ? 0 : 1;
}
