/*
 * Async sends: each completes through the callback, on a library thread, exactly once.
 * Destroying the producer waits for callbacks still pending.
 */
#include "example_util.h"

#define COUNT 20

struct progress {
    atomic_int ok;
    atomic_int failed;
};

static void on_sent(void *user_data, int32_t status, const ons_send_result_t *result,
                    const char *error_message) {
    struct progress *p = user_data;
    if (status == ONS_OK) {
        const char *id = NULL;
        if (ons_send_result_message_id(result, &id) == ONS_OK) {
            atomic_fetch_add(&p->ok, 1);
        }
    } else {
        fprintf(stderr, "async send failed: %s (%s)\n", error_message, ons_error_name(status));
        atomic_fetch_add(&p->failed, 1);
    }
}

int main(void) {
    char topic[96];
    unique_name(topic, sizeof topic, "ffi_async");
    create_topic(topic, 4);

    ons_properties_t *props = example_properties("GID_ffi_async");
    ons_producer_t *producer = NULL;
    CHECK(ons_producer_new(props, &producer));
    CHECK(ons_producer_start(producer));

    struct progress progress;
    atomic_init(&progress.ok, 0);
    atomic_init(&progress.failed, 0);
    for (int i = 0; i < COUNT; i++) {
        char body[32];
        int n = snprintf(body, sizeof body, "async %d", i);
        ons_message_t *msg = NULL;
        CHECK(ons_message_new(topic, "TagA", (const uint8_t *)body, (size_t)n, &msg));
        /* The message is copied: it may be freed right after the call. */
        CHECK(ons_producer_send_async(producer, msg, on_sent, &progress));
        ons_message_free(msg);
    }
    /* Destroy waits for the callbacks still pending, so `progress` is final afterwards. */
    CHECK(ons_producer_destroy(producer));
    ons_properties_free(props);
    printf("async sends: %d ok, %d failed\n", atomic_load(&progress.ok), atomic_load(&progress.failed));
    return atomic_load(&progress.ok) == COUNT ? 0 : 1;
}
