/*
 * A pull consumer: sends N messages, assigns every queue of the topic, polls until all N came
 * with their exact bodies, seeks every queue back to its beginning and reads them all again,
 * then commits and checks that each queue's committed offset is the offset after its last
 * message.
 */
#include "example_util.h"

#define N 20
#define QUEUES 2

/* Polls until `want` messages came (or 60 s passed); counts each body "pull-<i>" in seen[i]
 * and remembers the offset after the last message of each queue id in next_offset. Returns
 * how many came; a body of another form counts as wrong. */
static int poll_all(ons_pull_consumer_t *consumer, int want, int seen[N], int64_t next_offset[QUEUES],
                    int *wrong) {
    int got = 0;
    time_t deadline = time(NULL) + 60;
    while (got < want && time(NULL) < deadline) {
        ons_message_t **messages = NULL;
        size_t count = 0;
        CHECK(ons_pull_consumer_poll(consumer, 500, &messages, &count));
        for (size_t i = 0; i < count; i++) {
            const uint8_t *body = NULL;
            size_t len = 0;
            int32_t queue_id = -1;
            int64_t offset = -1;
            CHECK(ons_message_body(messages[i], &body, &len));
            CHECK(ons_message_queue_id(messages[i], &queue_id));
            CHECK(ons_message_queue_offset(messages[i], &offset));
            char text[32] = {0};
            int n = -1;
            if (len < sizeof text) {
                memcpy(text, body, len);
                if (sscanf(text, "pull-%d", &n) != 1 || n < 0 || n >= N) {
                    n = -1;
                }
            }
            if (n < 0 || queue_id < 0 || queue_id >= QUEUES) {
                (*wrong)++;
            } else {
                seen[n]++;
                if (offset + 1 > next_offset[queue_id]) {
                    next_offset[queue_id] = offset + 1;
                }
            }
            got++;
        }
        CHECK(ons_message_array_free(messages, count));
    }
    return got;
}

int main(void) {
    char topic[96], group[96];
    unique_name(topic, sizeof topic, "ffi_pull");
    unique_name(group, sizeof group, "GID_ffi_pull");
    create_topic(topic, QUEUES);

    ons_properties_t *pprops = example_properties("GID_ffi_pull_producer");
    ons_producer_t *producer = NULL;
    CHECK(ons_producer_new(pprops, &producer));
    CHECK(ons_producer_start(producer));
    for (int i = 0; i < N; i++) {
        char body[32];
        int n = snprintf(body, sizeof body, "pull-%d", i);
        ons_message_t *msg = NULL;
        CHECK(ons_message_new(topic, "TagA", (const uint8_t *)body, (size_t)n, &msg));
        ons_send_result_t *result = NULL;
        CHECK(ons_producer_send(producer, msg, &result));
        ons_send_result_free(result);
        ons_message_free(msg);
    }
    CHECK(ons_producer_destroy(producer));
    ons_properties_free(pprops);

    /* Commits only when asked (ons_pull_consumer_commit_sync). */
    ons_properties_t *props = example_properties(group);
    CHECK(ons_properties_set(props, ONS_PROPERTY_AUTO_COMMIT, "false"));
    CHECK(ons_properties_set(props, ONS_PROPERTY_CONSUME_FROM_WHERE, ONS_CONSUME_FROM_FIRST_OFFSET));
    ons_pull_consumer_t *consumer = NULL;
    CHECK(ons_pull_consumer_new(props, &consumer));
    ons_properties_free(props);
    CHECK(ons_pull_consumer_start(consumer));

    ons_message_queue_list_t *queues = NULL;
    CHECK(ons_pull_consumer_topic_partitions(consumer, topic, &queues));
    if (queues->count != QUEUES) {
        fprintf(stderr, "topic_partitions listed %zu queues, expected %d\n", queues->count, QUEUES);
        return 1;
    }
    CHECK(ons_pull_consumer_assign(consumer, queues->items, queues->count));

    int seen[N] = {0};
    int64_t next_offset[QUEUES] = {0};
    int wrong = 0;
    int first = poll_all(consumer, N, seen, next_offset, &wrong);
    int once = 1;
    for (int i = 0; i < N; i++) {
        once &= seen[i] == 1;
    }

    /* Every queue back to its start: the same N messages again. */
    for (size_t q = 0; q < queues->count; q++) {
        CHECK(ons_pull_consumer_seek_to_beginning(consumer, &queues->items[q]));
    }
    int again_seen[N] = {0};
    int64_t again_next[QUEUES] = {0};
    int again = poll_all(consumer, N, again_seen, again_next, &wrong);
    for (int i = 0; i < N; i++) {
        once &= again_seen[i] == 1;
    }

    /* What poll returned is committed: the next offset of every queue. */
    CHECK(ons_pull_consumer_commit_sync(consumer));
    int committed_ok = 1;
    int64_t total = 0;
    for (size_t q = 0; q < queues->count; q++) {
        int64_t committed = -2;
        int32_t id = queues->items[q].queue_id;
        CHECK(ons_pull_consumer_committed(consumer, &queues->items[q], &committed));
        if (id < 0 || id >= QUEUES || committed != next_offset[id]) {
            fprintf(stderr, "queue %d: committed %lld, expected %lld\n", id, (long long)committed,
                    (long long)(id >= 0 && id < QUEUES ? next_offset[id] : -1));
            committed_ok = 0;
        } else {
            total += committed;
        }
    }

    CHECK(ons_message_queue_list_free(queues));
    CHECK(ons_pull_consumer_destroy(consumer));
    printf("polled %d, again after seek_to_beginning %d (%d unexpected); committed %lld in all\n", first, again,
           wrong, (long long)total);
    return first == N && again == N && once && wrong == 0 && committed_ok && total == N ? 0 : 1;
}
