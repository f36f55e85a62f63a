// PullConsumer in the ONS C++ SDK style: send N messages, assign every queue, poll until all
// N came with their exact bodies, seekToBeginning reads them again, and after commitSync each
// queue's committed offset is the one after its last message.
#include "example_util.hpp"

#include <map>
#include <vector>

using namespace ons;

static const int N = 20;

// Polls until `want` messages came or 60 s passed; counts each body in `seen` and keeps the
// offset after the last message of each queue in `next`.
static int pollAll(PullConsumer& consumer, int want, std::map<std::string, int>& seen,
                   std::map<int, long long>& next) {
    int got = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (got < want && std::chrono::steady_clock::now() < deadline) {
        std::vector<Message> messages = consumer.poll(500);
        for (size_t i = 0; i < messages.size(); i++) {
            seen[messages[i].getMsgBody()]++;
            long long after = messages[i].getQueueOffset() + 1;
            if (after > next[messages[i].getQueueId()]) {
                next[messages[i].getQueueId()] = after;
            }
            got++;
        }
    }
    return got;
}

int main() {
    std::string topic = unique_name("ffi_cpp_pull");
    create_topic(topic, 2);

    std::map<std::string, int> expected;
    {
        Producer producer(example_properties("GID_ffi_cpp_pull_producer"));
        producer.start();
        for (int i = 0; i < N; i++) {
            // Binary bodies: a NUL byte in the middle must come back too.
            std::string body = "pull-" + std::to_string(i) + std::string(1, '\0') + "end";
            Message msg(topic, "TagA", body);
            producer.send(msg);
            expected[body] = 1;
        }
    }

    ONSFactoryProperty factoryInfo = example_properties(unique_name("GID_ffi_cpp_pull"));
    factoryInfo.setFactoryProperty(ONSFactoryProperty::ConsumeFromWhere, ONS_CONSUME_FROM_FIRST_OFFSET);
    factoryInfo.setFactoryProperty("autoCommit", "false");
    PullConsumer* consumer = ONSFactory::getInstance()->createPullConsumer(factoryInfo);
    consumer->start();
    std::vector<MessageQueueONS> queues = consumer->topicPartitions(topic);
    consumer->assign(queues);

    std::map<std::string, int> seen;
    std::map<int, long long> next;
    int first = pollAll(*consumer, N, seen, next);
    bool exact = seen == expected;

    for (size_t i = 0; i < queues.size(); i++) {
        consumer->seekToBeginning(queues[i]);
    }
    std::map<std::string, int> seenAgain;
    std::map<int, long long> nextAgain;
    int again = pollAll(*consumer, N, seenAgain, nextAgain);
    exact = exact && seenAgain == expected && nextAgain == next;

    consumer->commitSync();
    bool committedOk = true;
    long long total = 0;
    for (size_t i = 0; i < queues.size(); i++) {
        long long committed = consumer->committed(queues[i]);
        if (committed != next[queues[i].getQueueId()]) {
            std::cerr << queues[i].toString() << ": committed " << committed << ", expected "
                      << next[queues[i].getQueueId()] << std::endl;
            committedOk = false;
        }
        total += committed;
    }

    // A queue this consumer does not own cannot be sought.
    bool refused = false;
    try {
        consumer->seek(MessageQueueONS(topic, queues[0].getBrokerName(), 99), 0);
    } catch (const ONSClientException& e) {
        refused = e.GetError() == ONS_ERR_INVALID_ARGUMENT;
    }

    consumer->shutdown();
    std::cout << "polled " << first << ", again after seekToBeginning " << again << "; committed " << total
              << " in all over " << queues.size() << " queues" << std::endl;
    return queues.size() == 2 && first == N && again == N && exact && committedOk && total == N && refused ? 0 : 1;
}
