/*
 * An OrderConsumer: messages of each sharding key arrive one at a time, in the order sent.
 * The first delivery is suspended once to show that the queue waits for it.
 */
#include "example_util.h"

#include <pthread.h>

#define KEYS 3
#define PER_KEY 5

struct state {
    pthread_mutex_t lock;
    int next[KEYS]; /* the step expected next for each key */
    int out_of_order;
    int suspended;
    atomic_int done;
};

static int32_t on_message(void *user_data, const ons_message_t *msg, const ons_consume_context_t *ctx) {
    (void)ctx;
    struct state *st = user_data;
    const uint8_t *body = NULL;
    size_t len = 0;
    if (ons_message_body(msg, &body, &len) != ONS_OK) {
        return ONS_ORDER_ACTION_SUSPEND;
    }
    char text[64] = {0};
    memcpy(text, body, len < sizeof text - 1 ? len : sizeof text - 1);
    int key = -1, step = -1;
    if (sscanf(text, "order-%d step %d", &key, &step) != 2 || key < 0 || key >= KEYS) {
        return ONS_ORDER_ACTION_SUCCESS;
    }
    pthread_mutex_lock(&st->lock);
    int32_t action = ONS_ORDER_ACTION_SUCCESS;
    if (!st->suspended) {
        /* Not now: the same message comes again after suspendTimeMillis, before its successors. */
        st->suspended = 1;
        action = ONS_ORDER_ACTION_SUSPEND;
    } else {
        if (step != st->next[key]) {
            st->out_of_order++;
        }
        st->next[key] = step + 1;
        atomic_fetch_add(&st->done, 1);
    }
    pthread_mutex_unlock(&st->lock);
    return action;
}

int main(void) {
    char topic[96], group[96];
    unique_name(topic, sizeof topic, "ffi_order_consume");
    unique_name(group, sizeof group, "GID_ffi_order_consume");
    create_topic(topic, 4);

    ons_properties_t *pprops = example_properties("GID_ffi_order_consume_producer");
    ons_order_producer_t *producer = NULL;
    CHECK(ons_order_producer_new(pprops, &producer));
    CHECK(ons_order_producer_start(producer));
    for (int i = 0; i < PER_KEY; i++) {
        for (int k = 0; k < KEYS; k++) {
            char key[32], body[48];
            snprintf(key, sizeof key, "order-%d", k);
            int n = snprintf(body, sizeof body, "order-%d step %d", k, i);
            ons_message_t *msg = NULL;
            CHECK(ons_message_new(topic, "TagA", (const uint8_t *)body, (size_t)n, &msg));
            ons_send_result_t *result = NULL;
            CHECK(ons_order_producer_send(producer, msg, key, &result));
            ons_send_result_free(result);
            ons_message_free(msg);
        }
    }
    CHECK(ons_order_producer_destroy(producer));
    ons_properties_free(pprops);

    struct state st;
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.lock, NULL);
    atomic_init(&st.done, 0);
    ons_properties_t *props = example_properties(group);
    CHECK(ons_properties_set(props, ONS_PROPERTY_CONSUME_FROM_WHERE, ONS_CONSUME_FROM_FIRST_OFFSET));
    CHECK(ons_properties_set(props, ONS_PROPERTY_SUSPEND_TIME_MILLIS, "200"));
    ons_order_consumer_t *consumer = NULL;
    CHECK(ons_order_consumer_new(props, &consumer));
    CHECK(ons_order_consumer_subscribe(consumer, topic, "*", on_message, &st));
    CHECK(ons_order_consumer_start(consumer));
    int finished = wait_for(&st.done, KEYS * PER_KEY, 60);
    CHECK(ons_order_consumer_destroy(consumer));
    ons_properties_free(props);
    printf("consumed %d messages in order (%d out of order, suspended once: %s)\n", atomic_load(&st.done),
           st.out_of_order, st.suspended ? "yes" : "no");
    pthread_mutex_destroy(&st.lock);
    return finished && st.out_of_order == 0 ? 0 : 1;
}
