/*
 * A push Consumer: sends messages with two tags, subscribes to one of them and checks that
 * exactly those arrive, with their bodies intact.
 */
#include "example_util.h"

#define PER_TAG 10

struct seen {
    atomic_int count;
    atomic_int wrong;
};

static int32_t on_message(void *user_data, const ons_message_t *msg, const ons_consume_context_t *ctx) {
    struct seen *seen = user_data;
    const char *tag = NULL, *id = NULL, *queue_topic = NULL;
    const uint8_t *body = NULL;
    size_t len = 0;
    int32_t queue_id = -1;
    if (ons_message_tag(msg, &tag) != ONS_OK || ons_message_msg_id(msg, &id) != ONS_OK ||
        ons_message_body(msg, &body, &len) != ONS_OK ||
        ons_consume_context_queue(ctx, &queue_topic, NULL, &queue_id) != ONS_OK) {
        /* Not consumed: the broker delivers it again later. */
        return ONS_ACTION_RECONSUME_LATER;
    }
    if (tag == NULL || strcmp(tag, "TagA") != 0 || len < 5 || memcmp(body, "body-", 5) != 0) {
        atomic_fetch_add(&seen->wrong, 1);
    }
    atomic_fetch_add(&seen->count, 1);
    return ONS_ACTION_COMMIT_MESSAGE;
}

int main(void) {
    char topic[96], group[96];
    unique_name(topic, sizeof topic, "ffi_consume");
    unique_name(group, sizeof group, "GID_ffi_consume");
    create_topic(topic, 4);

    /* Send first: a new group then starts from the first offset. */
    ons_properties_t *pprops = example_properties("GID_ffi_consume_producer");
    ons_producer_t *producer = NULL;
    CHECK(ons_producer_new(pprops, &producer));
    CHECK(ons_producer_start(producer));
    for (int i = 0; i < 2 * PER_TAG; i++) {
        char body[32];
        int n = snprintf(body, sizeof body, "body-%d", i);
        ons_message_t *msg = NULL;
        CHECK(ons_message_new(topic, i % 2 == 0 ? "TagA" : "TagB", (const uint8_t *)body, (size_t)n, &msg));
        ons_send_result_t *result = NULL;
        CHECK(ons_producer_send(producer, msg, &result));
        ons_send_result_free(result);
        ons_message_free(msg);
    }
    CHECK(ons_producer_destroy(producer));
    ons_properties_free(pprops);

    struct seen seen;
    atomic_init(&seen.count, 0);
    atomic_init(&seen.wrong, 0);
    ons_properties_t *props = example_properties(group);
    CHECK(ons_properties_set(props, ONS_PROPERTY_CONSUME_FROM_WHERE, ONS_CONSUME_FROM_FIRST_OFFSET));
    CHECK(ons_properties_set(props, ONS_PROPERTY_CONSUME_THREAD_NUMS, "4"));
    ons_consumer_t *consumer = NULL;
    CHECK(ons_consumer_new(props, &consumer));
    CHECK(ons_consumer_subscribe(consumer, topic, "TagA", on_message, &seen));
    CHECK(ons_consumer_start(consumer));
    int done = wait_for(&seen.count, PER_TAG, 60);
    /* Give a wrongly delivered TagB message a moment to show up. */
    sleep(1);
    /* After destroy returns no listener runs, so `seen` may go out of scope. */
    CHECK(ons_consumer_destroy(consumer));
    ons_properties_free(props);
    printf("consumed %d TagA messages (%d unexpected)\n", atomic_load(&seen.count), atomic_load(&seen.wrong));
    return done && atomic_load(&seen.count) == PER_TAG && atomic_load(&seen.wrong) == 0 ? 0 : 1;
}
