/*
 * An OrderProducer: messages with the same sharding key go to the same queue, so they are
 * stored (and consumed) in the order they were sent.
 */
#include "example_util.h"

#define KEYS 3
#define PER_KEY 5

int main(void) {
    char topic[96];
    unique_name(topic, sizeof topic, "ffi_order");
    create_topic(topic, 8);

    ons_properties_t *props = example_properties("GID_ffi_order");
    ons_order_producer_t *producer = NULL;
    CHECK(ons_order_producer_new(props, &producer));
    CHECK(ons_order_producer_start(producer));

    int ok = 1;
    for (int k = 0; k < KEYS; k++) {
        char key[32];
        snprintf(key, sizeof key, "order-%d", k);
        int32_t first_queue = -1;
        for (int i = 0; i < PER_KEY; i++) {
            char body[48];
            int n = snprintf(body, sizeof body, "%s step %d", key, i);
            ons_message_t *msg = NULL;
            CHECK(ons_message_new(topic, "TagA", (const uint8_t *)body, (size_t)n, &msg));
            ons_send_result_t *result = NULL;
            CHECK(ons_order_producer_send(producer, msg, key, &result));
            int32_t queue = -1;
            CHECK(ons_send_result_queue_id(result, &queue));
            if (first_queue < 0) {
                first_queue = queue;
            } else if (queue != first_queue) {
                ok = 0;
            }
            ons_send_result_free(result);
            ons_message_free(msg);
        }
        printf("%s: %d messages, all in queue %d\n", key, PER_KEY, first_queue);
    }

    ons_order_producer_destroy(producer);
    ons_properties_free(props);
    return ok ? 0 : 1;
}
