/*
 * A BatchConsumer: the listener gets up to ConsumeMessageBatchMaxSize messages of one queue at
 * a time. The messages are sent in one batch request (ons_producer_send_batch).
 */
#include "example_util.h"

#define COUNT 16

struct seen {
    atomic_int count;
    atomic_int largest_batch;
};

static int32_t on_batch(void *user_data, const ons_message_t *const *msgs, size_t count,
                        const ons_consume_context_t *ctx) {
    (void)ctx;
    struct seen *seen = user_data;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *body = NULL;
        size_t len = 0;
        if (ons_message_body(msgs[i], &body, &len) != ONS_OK || len < 6 || memcmp(body, "batch-", 6) != 0) {
            /* The whole batch comes again later. */
            return ONS_ACTION_RECONSUME_LATER;
        }
    }
    int largest = atomic_load(&seen->largest_batch);
    while ((int)count > largest && !atomic_compare_exchange_weak(&seen->largest_batch, &largest, (int)count)) {
    }
    atomic_fetch_add(&seen->count, (int)count);
    return ONS_ACTION_COMMIT_MESSAGE;
}

int main(void) {
    char topic[96], group[96];
    unique_name(topic, sizeof topic, "ffi_batch");
    unique_name(group, sizeof group, "GID_ffi_batch");
    create_topic(topic, 2);

    ons_properties_t *pprops = example_properties("GID_ffi_batch_producer");
    ons_producer_t *producer = NULL;
    CHECK(ons_producer_new(pprops, &producer));
    CHECK(ons_producer_start(producer));
    ons_message_t *msgs[COUNT];
    ons_send_result_t *results[COUNT];
    for (int i = 0; i < COUNT; i++) {
        char body[32];
        int n = snprintf(body, sizeof body, "batch-%d", i);
        CHECK(ons_message_new(topic, "TagA", (const uint8_t *)body, (size_t)n, &msgs[i]));
    }
    CHECK(ons_producer_send_batch(producer, (const ons_message_t *const *)msgs, COUNT, results));
    for (int i = 0; i < COUNT; i++) {
        ons_send_result_free(results[i]);
        ons_message_free(msgs[i]);
    }
    CHECK(ons_producer_destroy(producer));
    ons_properties_free(pprops);

    struct seen seen;
    atomic_init(&seen.count, 0);
    atomic_init(&seen.largest_batch, 0);
    ons_properties_t *props = example_properties(group);
    CHECK(ons_properties_set(props, ONS_PROPERTY_CONSUME_FROM_WHERE, ONS_CONSUME_FROM_FIRST_OFFSET));
    CHECK(ons_properties_set(props, ONS_PROPERTY_CONSUME_MESSAGE_BATCH_MAX_SIZE, "8"));
    ons_batch_consumer_t *consumer = NULL;
    CHECK(ons_batch_consumer_new(props, &consumer));
    CHECK(ons_batch_consumer_subscribe(consumer, topic, "TagA", on_batch, &seen));
    CHECK(ons_batch_consumer_start(consumer));
    int done = wait_for(&seen.count, COUNT, 60);
    CHECK(ons_batch_consumer_destroy(consumer));
    ons_properties_free(props);
    printf("consumed %d messages, at most %d per call\n", atomic_load(&seen.count),
           atomic_load(&seen.largest_batch));
    return done && atomic_load(&seen.largest_batch) <= 8 ? 0 : 1;
}
