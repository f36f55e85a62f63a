/*
 * A TransactionProducer: the executor runs the local transaction on the sending thread and
 * commits, rolls back, or answers "unknown", in which case the broker asks the checker later.
 * A consumer then sees the two committed messages and never the rolled-back one.
 *
 * The check-back comes after the broker's transactionCheckInterval (60 s by default; the
 * test cluster uses 3 s).
 */
#include "example_util.h"

#include <pthread.h>

/* What the local transactions decided, by message key; the checker reads it. */
struct ledger {
    pthread_t sender;
    atomic_int executed_on_sender;
    atomic_int checks;
};

static int key_index(const ons_message_t *msg) {
    const char *key = NULL;
    if (ons_message_key(msg, &key) != ONS_OK || key == NULL) {
        return -1;
    }
    return atoi(key + strlen("tx-"));
}

/* 0: commit now, 1: roll back, 2: not sure yet (the checker commits it). */
static int32_t execute(void *user_data, const ons_message_t *msg) {
    struct ledger *ledger = user_data;
    if (pthread_equal(pthread_self(), ledger->sender)) {
        atomic_fetch_add(&ledger->executed_on_sender, 1);
    }
    switch (key_index(msg)) {
    case 0:
        return ONS_TRANSACTION_COMMIT;
    case 1:
        return ONS_TRANSACTION_ROLLBACK;
    default:
        return ONS_TRANSACTION_UNKNOWN;
    }
}

static int32_t check(void *user_data, const ons_message_t *msg) {
    struct ledger *ledger = user_data;
    atomic_fetch_add(&ledger->checks, 1);
    return key_index(msg) == 1 ? ONS_TRANSACTION_ROLLBACK : ONS_TRANSACTION_COMMIT;
}

struct seen {
    atomic_int committed;
    atomic_int rolled_back;
};

static int32_t on_message(void *user_data, const ons_message_t *msg, const ons_consume_context_t *ctx) {
    (void)ctx;
    struct seen *seen = user_data;
    atomic_fetch_add(key_index(msg) == 1 ? &seen->rolled_back : &seen->committed, 1);
    return ONS_ACTION_COMMIT_MESSAGE;
}

int main(void) {
    char topic[96], group[96], consumer_group[96];
    unique_name(topic, sizeof topic, "ffi_tx");
    unique_name(group, sizeof group, "GID_ffi_tx");
    unique_name(consumer_group, sizeof consumer_group, "GID_ffi_tx_consumer");
    create_topic(topic, 4);

    struct ledger ledger;
    ledger.sender = pthread_self();
    atomic_init(&ledger.executed_on_sender, 0);
    atomic_init(&ledger.checks, 0);
    ons_properties_t *props = example_properties(group);
    ons_transaction_producer_t *producer = NULL;
    CHECK(ons_transaction_producer_new(props, check, &ledger, &producer));
    CHECK(ons_transaction_producer_start(producer));

    for (int i = 0; i < 3; i++) {
        char key[16], body[32];
        snprintf(key, sizeof key, "tx-%d", i);
        int n = snprintf(body, sizeof body, "transfer %d", i);
        ons_message_t *msg = NULL;
        CHECK(ons_message_new(topic, "TagA", (const uint8_t *)body, (size_t)n, &msg));
        CHECK(ons_message_set_key(msg, key));
        ons_send_result_t *result = NULL;
        CHECK(ons_transaction_producer_send(producer, msg, execute, &ledger, &result));
        const char *id = NULL;
        CHECK(ons_send_result_message_id(result, &id));
        printf("half message %s sent as %s\n", key, id);
        ons_send_result_free(result);
        ons_message_free(msg);
    }

    struct seen seen;
    atomic_init(&seen.committed, 0);
    atomic_init(&seen.rolled_back, 0);
    ons_properties_t *cprops = example_properties(consumer_group);
    CHECK(ons_properties_set(cprops, ONS_PROPERTY_CONSUME_FROM_WHERE, ONS_CONSUME_FROM_FIRST_OFFSET));
    ons_consumer_t *consumer = NULL;
    CHECK(ons_consumer_new(cprops, &consumer));
    CHECK(ons_consumer_subscribe(consumer, topic, "*", on_message, &seen));
    CHECK(ons_consumer_start(consumer));
    /* The third message needs the broker's check-back: allow a few check intervals. */
    int done = wait_for(&seen.committed, 2, 100);
    sleep(1);
    CHECK(ons_consumer_destroy(consumer));
    /* The checker is not called once destroy returned, so `ledger` may go now. */
    CHECK(ons_transaction_producer_destroy(producer));
    ons_properties_free(cprops);
    ons_properties_free(props);
    printf("committed %d, rolled back but delivered %d, checks %d, executor on the sending thread %d/3\n",
           atomic_load(&seen.committed), atomic_load(&seen.rolled_back), atomic_load(&ledger.checks),
           atomic_load(&ledger.executed_on_sender));
    return done && atomic_load(&seen.rolled_back) == 0 && atomic_load(&ledger.executed_on_sender) == 3 ? 0 : 1;
}
