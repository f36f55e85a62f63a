/*
 * Bad input through the C ABI: every case must come back as its status code and a message,
 * never as a crash. Needs a cluster (NAMESRV_ADDR) for the lifecycle and callback cases.
 * Prints "N passed, M failed" and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rocketmq_ons.h>

static int passed, failed;

/* Expects `call` to return `want`; when it is an error, also that the message contains `needle`. */
#define EXPECT(call, want, needle) expect_status((call), (want), (needle), #call, __LINE__)

static void expect_status(int32_t got, int32_t want, const char *needle, const char *text, int line) {
    const char *msg = ons_last_error_message();
    int ok = got == want && ons_last_error_code() == got;
    if (ok && want != ONS_OK && needle != NULL && strstr(msg, needle) == NULL) {
        ok = 0;
    }
    if (ok && want == ONS_OK && msg[0] != '\0') {
        ok = 0; /* a success leaves no stale error behind */
    }
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: %s -> %s (%d), want %s; message: \"%s\"%s%s\n", line, text,
                ons_error_name(got), got, ons_error_name(want), msg, needle ? ", expected to contain " : "",
                needle ? needle : "");
    }
}

#define EXPECT_TRUE(cond) expect_true((cond), #cond, __LINE__)

static void expect_true(int cond, const char *text, int line) {
    if (cond) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: %s\n", line, text);
    }
}

static const char *namesrv(void) {
    const char *addr = getenv("NAMESRV_ADDR");
    if (addr == NULL || addr[0] == '\0') {
        fprintf(stderr, "set NAMESRV_ADDR\n");
        exit(2);
    }
    return addr;
}

static ons_properties_t *props_for(const char *group) {
    ons_properties_t *p = NULL;
    ons_properties_new(&p);
    ons_properties_set(p, ONS_PROPERTY_NAMESRV_ADDR, namesrv());
    ons_properties_set(p, ONS_PROPERTY_GROUP_ID, group);
    return p;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static char topic[96];

static ons_message_t *text_message(const char *text) {
    ons_message_t *m = NULL;
    ons_message_new(topic, "TagA", (const uint8_t *)text, strlen(text), &m);
    return m;
}

/* ------------------------------------------------------------------ errors and NULLs */

static void test_last_error(void) {
    EXPECT(ons_properties_new(NULL), ONS_ERR_INVALID_ARGUMENT, "out");
    EXPECT_TRUE(ons_last_error_response_code() == -1);
    char buf[8];
    size_t full = ons_last_error_copy(buf, sizeof buf);
    EXPECT_TRUE(full == strlen(ons_last_error_message()) && strlen(buf) == sizeof buf - 1);
    EXPECT_TRUE(ons_last_error_copy(NULL, 0) == full);
    ons_properties_t *p = NULL;
    EXPECT(ons_properties_new(&p), ONS_OK, NULL);
    EXPECT_TRUE(ons_last_error_code() == ONS_OK && ons_last_error_message()[0] == '\0');
    ons_properties_free(p);
    EXPECT_TRUE(strcmp(ons_error_name(ONS_ERR_NOT_STARTED), "NOT_STARTED") == 0);
    EXPECT_TRUE(strcmp(ons_error_name(4242), "UNKNOWN") == 0);
    EXPECT_TRUE(ons_error_is_retryable(ONS_ERR_NETWORK) == 1 && ons_error_is_retryable(ONS_ERR_INVALID_CONFIG) == 0);
    EXPECT_TRUE(strlen(ons_version()) > 0);
}

static void test_nulls(void) {
    ons_properties_t *p = NULL;
    ons_properties_new(&p);
    const char *s = NULL;
    EXPECT(ons_properties_set(NULL, "k", "v"), ONS_ERR_INVALID_ARGUMENT, "properties is NULL");
    EXPECT(ons_properties_set(p, NULL, "v"), ONS_ERR_INVALID_ARGUMENT, "key is NULL");
    EXPECT(ons_properties_set(p, "k", NULL), ONS_ERR_INVALID_ARGUMENT, "value is NULL");
    EXPECT(ons_properties_get(p, "k", NULL), ONS_ERR_INVALID_ARGUMENT, "out");
    EXPECT(ons_properties_get(p, "absent", &s), ONS_OK, NULL);
    EXPECT_TRUE(s == NULL);

    ons_message_t *m = NULL;
    EXPECT(ons_message_new(NULL, NULL, NULL, 0, &m), ONS_ERR_INVALID_ARGUMENT, "topic is NULL");
    EXPECT_TRUE(m == NULL);
    EXPECT(ons_message_new("T", NULL, NULL, 3, &m), ONS_ERR_INVALID_ARGUMENT, "body is NULL");
    EXPECT(ons_message_new("T", NULL, NULL, 0, &m), ONS_OK, NULL);
    EXPECT(ons_message_topic(NULL, &s), ONS_ERR_INVALID_ARGUMENT, "message is NULL");
    EXPECT(ons_message_topic(m, NULL), ONS_ERR_INVALID_ARGUMENT, "out");
    EXPECT(ons_message_tag(m, &s), ONS_OK, NULL);
    EXPECT_TRUE(s == NULL);
    EXPECT(ons_message_set_body(m, NULL, 1), ONS_ERR_INVALID_ARGUMENT, "body");
    EXPECT(ons_message_put_user_property(m, "TAGS", "x"), ONS_ERR_INVALID_ARGUMENT, "reserved");
    EXPECT(ons_message_put_user_property(m, "k", ""), ONS_ERR_INVALID_ARGUMENT, "empty");
    EXPECT(ons_message_put_user_property(m, "k", "v"), ONS_OK, NULL);
    const char *k = NULL, *v = NULL;
    EXPECT(ons_message_user_property_at(m, 0, &k, &v), ONS_OK, NULL);
    EXPECT_TRUE(k != NULL && strcmp(k, "k") == 0 && strcmp(v, "v") == 0);
    EXPECT(ons_message_user_property_at(m, 1, &k, &v), ONS_ERR_INVALID_ARGUMENT, "out of range");
    EXPECT(ons_message_set_msg_id(m, "C0A8000100002A9F0000000000000001"), ONS_OK, NULL);
    EXPECT(ons_message_msg_id(m, &s), ONS_OK, NULL);
    EXPECT_TRUE(s != NULL && strcmp(s, "C0A8000100002A9F0000000000000001") == 0);
    EXPECT(ons_message_set_msg_id(m, NULL), ONS_OK, NULL);
    EXPECT(ons_message_msg_id(m, &s), ONS_OK, NULL);
    EXPECT_TRUE(s == NULL);
    EXPECT(ons_message_set_reconsume_times(m, -1), ONS_ERR_INVALID_ARGUMENT, "reconsume_times is -1");
    EXPECT(ons_message_set_reconsume_times(m, 3), ONS_OK, NULL);
    int32_t reconsume = 0;
    EXPECT(ons_message_reconsume_times(m, &reconsume), ONS_OK, NULL);
    EXPECT_TRUE(reconsume == 3);
    EXPECT(ons_message_set_reconsume_times(m, 0), ONS_OK, NULL);
    int32_t queue_id = 0;
    EXPECT(ons_message_queue_id(m, &queue_id), ONS_OK, NULL);
    EXPECT_TRUE(queue_id == -1);

    EXPECT(ons_producer_start(NULL), ONS_ERR_INVALID_ARGUMENT, "producer is NULL");
    EXPECT(ons_producer_send(NULL, m, NULL), ONS_ERR_INVALID_ARGUMENT, "result");
    EXPECT(ons_order_producer_send(NULL, m, "k", NULL), ONS_ERR_INVALID_ARGUMENT, NULL);
    EXPECT(ons_consumer_subscribe(NULL, "T", "*", NULL, NULL), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_consumer_start(NULL), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_batch_consumer_shutdown(NULL), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_send_result_message_id(NULL, &s), ONS_ERR_INVALID_ARGUMENT, "result is NULL");
    EXPECT(ons_consume_context_queue(NULL, NULL, NULL, NULL), ONS_ERR_INVALID_ARGUMENT, "context is NULL");
    EXPECT(ons_producer_new(NULL, NULL), ONS_ERR_INVALID_ARGUMENT, "out");

    /* Every _free and _destroy accepts NULL. */
    EXPECT(ons_properties_free(NULL), ONS_OK, NULL);
    EXPECT(ons_message_free(NULL), ONS_OK, NULL);
    EXPECT(ons_send_result_free(NULL), ONS_OK, NULL);
    EXPECT(ons_message_array_free(NULL, 3), ONS_OK, NULL);
    EXPECT(ons_producer_destroy(NULL), ONS_OK, NULL);
    EXPECT(ons_order_producer_destroy(NULL), ONS_OK, NULL);
    EXPECT(ons_transaction_producer_destroy(NULL), ONS_OK, NULL);
    EXPECT(ons_consumer_destroy(NULL), ONS_OK, NULL);
    EXPECT(ons_order_consumer_destroy(NULL), ONS_OK, NULL);
    EXPECT(ons_batch_consumer_destroy(NULL), ONS_OK, NULL);
    EXPECT(ons_admin_destroy(NULL), ONS_OK, NULL);
    ons_message_free(m);
    ons_properties_free(p);
}

static void test_utf8(void) {
    ons_properties_t *p = NULL;
    ons_properties_new(&p);
    EXPECT(ons_properties_set(p, "GROUP_ID", "G\xff\xfe"), ONS_ERR_INVALID_ARGUMENT, "UTF-8");
    ons_message_t *m = NULL;
    EXPECT(ons_message_new("T\xc3", NULL, NULL, 0, &m), ONS_ERR_INVALID_ARGUMENT, "topic is not valid UTF-8");
    EXPECT(ons_message_new("T", "\x80", NULL, 0, &m), ONS_ERR_INVALID_ARGUMENT, "tag is not valid UTF-8");
    /* Bodies are bytes, not text. */
    static const uint8_t binary[] = {0xff, 0, 0xc3};
    EXPECT(ons_message_new("T", NULL, binary, sizeof binary, &m), ONS_OK, NULL);
    const uint8_t *data = NULL;
    size_t len = 0;
    EXPECT(ons_message_body(m, &data, &len), ONS_OK, NULL);
    EXPECT_TRUE(len == 3 && memcmp(data, binary, 3) == 0);
    ons_message_free(m);
    ons_properties_free(p);
}

static void test_invalid_properties(void) {
    ons_producer_t *producer = NULL;
    ons_properties_t *p = NULL;
    ons_properties_new(&p);
    ons_properties_set(p, ONS_PROPERTY_GROUP_ID, "GID_x");
    EXPECT(ons_producer_new(p, &producer), ONS_ERR_INVALID_CONFIG, "NAMESRV_ADDR");
    EXPECT_TRUE(producer == NULL);
    ons_properties_set(p, ONS_PROPERTY_NAMESRV_ADDR, "not-an-address");
    EXPECT(ons_producer_new(p, &producer), ONS_ERR_INVALID_CONFIG, "NAMESRV_ADDR");
    ons_properties_set(p, ONS_PROPERTY_NAMESRV_ADDR, namesrv());
    ons_properties_set(p, ONS_PROPERTY_SEND_MSG_TIMEOUT_MILLIS, "soon");
    EXPECT(ons_producer_new(p, &producer), ONS_ERR_INVALID_CONFIG, "SendMsgTimeoutMillis");
    ons_properties_free(p);

    p = props_for("GID_x");
    ons_properties_set(p, "SendMsgTimeoutMilis", "100");
    EXPECT(ons_producer_new(p, &producer), ONS_ERR_INVALID_CONFIG,
           "unknown property 'SendMsgTimeoutMilis' (did you mean 'SendMsgTimeoutMillis'?)");
    ons_properties_free(p);

    p = props_for("GID with spaces");
    EXPECT(ons_producer_new(p, &producer), ONS_ERR_INVALID_CONFIG, "GROUP_ID");
    ons_properties_free(p);

    p = props_for("GID_x");
    ons_properties_set(p, ONS_PROPERTY_ACCESS_KEY, "ak");
    EXPECT(ons_producer_new(p, &producer), ONS_ERR_INVALID_CONFIG, "SecretKey");
    ons_properties_free(p);

    ons_consumer_t *consumer = NULL;
    p = props_for("GID_x");
    ons_properties_set(p, ONS_PROPERTY_MESSAGE_MODEL, "SOMETIMES");
    EXPECT(ons_consumer_new(p, &consumer), ONS_ERR_INVALID_CONFIG, "MessageModel");
    ons_properties_free(p);

    ons_batch_consumer_t *batch = NULL;
    p = props_for("GID_x");
    ons_properties_set(p, ONS_PROPERTY_CONSUME_MESSAGE_BATCH_MAX_SIZE, "100");
    EXPECT(ons_batch_consumer_new(p, &batch), ONS_ERR_INVALID_CONFIG, "ConsumeMessageBatchMaxSize");
    ons_properties_free(p);
}

/* ------------------------------------------------------------------------- lifecycle */

static atomic_int async_calls;

static void count_callback(void *user_data, int32_t status, const ons_send_result_t *r, const char *e) {
    (void)user_data, (void)status, (void)r, (void)e;
    atomic_fetch_add(&async_calls, 1);
}

static void test_producer_lifecycle(void) {
    ons_properties_t *p = props_for("GID_ffi_abi_lifecycle");
    ons_producer_t *producer = NULL;
    EXPECT(ons_producer_new(p, &producer), ONS_OK, NULL);
    ons_message_t *m = text_message("hello");
    ons_send_result_t *r = NULL;
    EXPECT(ons_producer_send(producer, m, &r), ONS_ERR_NOT_STARTED, "not started");
    EXPECT(ons_producer_send_async(producer, m, count_callback, NULL), ONS_ERR_NOT_STARTED, "not started");
    EXPECT(ons_producer_start(producer), ONS_OK, NULL);
    EXPECT(ons_producer_start(producer), ONS_OK, NULL);
    int32_t flag = -1;
    EXPECT(ons_producer_is_started(producer, &flag), ONS_OK, NULL);
    EXPECT_TRUE(flag == 1);
    EXPECT(ons_producer_send_async(producer, m, NULL, NULL), ONS_ERR_INVALID_ARGUMENT, "callback is NULL");

    /* Oversized and empty bodies, a bad topic: refused before anything goes on the wire. */
    size_t big_len = 4 * 1024 * 1024 + 1;
    uint8_t *big = calloc(big_len, 1);
    ons_message_t *huge = NULL;
    EXPECT(ons_message_new(topic, NULL, big, big_len, &huge), ONS_OK, NULL);
    free(big);
    EXPECT(ons_producer_send(producer, huge, &r), ONS_ERR_INVALID_ARGUMENT, "4 MiB");
    EXPECT_TRUE(r == NULL);
    EXPECT(ons_producer_send_oneway(producer, huge), ONS_ERR_INVALID_ARGUMENT, "4 MiB");
    atomic_store(&async_calls, 0);
    EXPECT(ons_producer_send_async(producer, huge, count_callback, NULL), ONS_ERR_INVALID_ARGUMENT, "4 MiB");
    ons_message_free(huge);
    ons_message_t *empty = NULL;
    ons_message_new(topic, NULL, NULL, 0, &empty);
    EXPECT(ons_producer_send(producer, empty, &r), ONS_ERR_INVALID_ARGUMENT, "empty");
    ons_message_free(empty);
    ons_message_t *bad_topic = NULL;
    ons_message_new("bad topic!", NULL, (const uint8_t *)"x", 1, &bad_topic);
    EXPECT(ons_producer_send(producer, bad_topic, &r), ONS_ERR_INVALID_ARGUMENT, "topic");
    ons_message_free(bad_topic);
    ons_send_result_t *results[1] = {NULL};
    EXPECT(ons_producer_send_batch(producer, NULL, 0, results), ONS_ERR_INVALID_ARGUMENT, "count is 0");

    EXPECT(ons_producer_send(producer, m, &r), ONS_OK, NULL);
    ons_send_result_free(r);
    r = NULL;

    /* Traces are on by default: the send's trace record is sent (or, on a cluster without the
     * trace topic, dropped) and counted either way. */
    ons_trace_counts_t tc;
    EXPECT(ons_producer_trace_counts(NULL, &tc), ONS_ERR_INVALID_ARGUMENT, "producer");
    EXPECT(ons_producer_trace_counts(producer, NULL), ONS_ERR_INVALID_ARGUMENT, "out");
    for (int i = 0; i < 200; i++) {
        EXPECT(ons_producer_trace_counts(producer, &tc), ONS_OK, NULL);
        if (tc.sent + tc.dropped >= 1) break;
        sleep_ms(50);
    }
    EXPECT_TRUE(tc.traced == 1 && tc.sent + tc.dropped == 1);

    EXPECT(ons_producer_shutdown(producer), ONS_OK, NULL);
    EXPECT(ons_producer_trace_counts(producer, &tc), ONS_OK, NULL); /* kept after shutdown */
    EXPECT_TRUE(tc.traced == 1 && tc.sent + tc.dropped == 1);
    EXPECT(ons_producer_shutdown(producer), ONS_ERR_NOT_STARTED, "already shut down");
    EXPECT(ons_producer_send(producer, m, &r), ONS_ERR_NOT_STARTED, "shut down");
    EXPECT(ons_producer_send_oneway(producer, m), ONS_ERR_NOT_STARTED, "shut down");
    EXPECT(ons_producer_send_async(producer, m, count_callback, NULL), ONS_ERR_NOT_STARTED, "shut down");
    EXPECT(ons_producer_start(producer), ONS_ERR_NOT_STARTED, "shut down");
    EXPECT(ons_producer_is_closed(producer, &flag), ONS_OK, NULL);
    EXPECT_TRUE(flag == 1);
    EXPECT(ons_producer_destroy(producer), ONS_OK, NULL);
    EXPECT_TRUE(atomic_load(&async_calls) == 0); /* refused sends never call back */

    /* Shutdown of a producer that never started, then again. */
    EXPECT(ons_producer_new(p, &producer), ONS_OK, NULL);
    EXPECT(ons_producer_trace_counts(producer, &tc), ONS_OK, NULL); /* never traced */
    EXPECT_TRUE(tc.traced == 0 && tc.sent == 0 && tc.dropped == 0);
    EXPECT(ons_producer_shutdown(producer), ONS_OK, NULL);
    EXPECT(ons_producer_shutdown(producer), ONS_ERR_NOT_STARTED, "already shut down");
    EXPECT(ons_producer_destroy(producer), ONS_OK, NULL);

    ons_order_producer_t *order = NULL;
    EXPECT(ons_order_producer_new(p, &order), ONS_OK, NULL);
    EXPECT(ons_order_producer_start(order), ONS_OK, NULL);
    EXPECT(ons_order_producer_send(order, m, "", &r), ONS_ERR_INVALID_ARGUMENT, "sharding key");
    /* Blank keys are refused as the ONS SDK refuses them ("'shardingKey' is blank"). */
    EXPECT(ons_order_producer_send(order, m, " ", &r), ONS_ERR_INVALID_ARGUMENT, "shardingKey \" \" is blank");
    EXPECT(ons_order_producer_send(order, m, "\t", &r), ONS_ERR_INVALID_ARGUMENT, "shardingKey \"\\t\" is blank");
    EXPECT(ons_order_producer_send(order, m, NULL, &r), ONS_ERR_INVALID_ARGUMENT, "sharding_key is NULL");
    EXPECT(ons_order_producer_shutdown(order), ONS_OK, NULL);
    EXPECT(ons_order_producer_shutdown(order), ONS_ERR_NOT_STARTED, "already shut down");
    EXPECT(ons_order_producer_destroy(order), ONS_OK, NULL);

    ons_message_free(m);
    ons_properties_free(p);
}

/* --------------------------------------------------------------- inside callbacks */

struct self_ref {
    ons_producer_t *producer;
    ons_transaction_producer_t *tx;
    atomic_int destroy_rc;
    atomic_int shutdown_rc;
    atomic_int nested_send_rc;
    atomic_int done;
};

static void destroy_from_send_callback(void *user_data, int32_t status, const ons_send_result_t *r, const char *e) {
    (void)status, (void)r, (void)e;
    struct self_ref *s = user_data;
    atomic_store(&s->destroy_rc, ons_producer_destroy(s->producer));
    atomic_store(&s->shutdown_rc, ons_producer_shutdown(s->producer));
    /* Synchronous calls are allowed in callbacks: send again, from this library thread. */
    ons_message_t *m = text_message("from a callback");
    ons_send_result_t *again = NULL;
    atomic_store(&s->nested_send_rc, ons_producer_send(s->producer, m, &again));
    ons_send_result_free(again);
    ons_message_free(m);
    atomic_store(&s->done, 1);
}

static int32_t destroy_from_executor(void *user_data, const ons_message_t *msg) {
    (void)msg;
    struct self_ref *s = user_data;
    atomic_store(&s->destroy_rc, ons_transaction_producer_destroy(s->tx));
    return ONS_TRANSACTION_ROLLBACK;
}

static int32_t never_checked(void *user_data, const ons_message_t *msg) {
    (void)user_data, (void)msg;
    return ONS_TRANSACTION_ROLLBACK;
}

struct consumer_ref {
    ons_consumer_t *consumer;
    atomic_int destroy_rc;
    atomic_int shutdown_rc;
    atomic_int set_rc;
    atomic_int clone_rc;
    atomic_int calls;
};

static int32_t destroy_from_listener(void *user_data, const ons_message_t *msg, const ons_consume_context_t *ctx) {
    (void)ctx;
    struct consumer_ref *c = user_data;
    if (atomic_fetch_add(&c->calls, 1) == 0) {
        atomic_store(&c->destroy_rc, ons_consumer_destroy(c->consumer));
        atomic_store(&c->shutdown_rc, ons_consumer_shutdown(c->consumer));
        /* A lent message is read-only; a clone is the caller's to change. */
        atomic_store(&c->set_rc, ons_message_set_tag((ons_message_t *)msg, "changed"));
        ons_message_t *copy = NULL;
        int32_t rc = ons_message_clone(msg, &copy);
        if (rc == ONS_OK) {
            rc = ons_message_set_tag(copy, "changed");
        }
        atomic_store(&c->clone_rc, rc);
        ons_message_free(copy);
    }
    return ONS_ACTION_COMMIT_MESSAGE;
}

/* ------------------------------------------- sends to a chosen queue; a failure's context */

struct failure_seen {
    atomic_int done;
    int status;
    char message_id[64];
    char topic[128];
};

static void record_failure(void *user_data, int32_t status, const ons_send_result_t *r, const char *e) {
    (void)r, (void)e;
    struct failure_seen *seen = user_data;
    const char *id = ons_last_error_message_id();
    const char *t = ons_last_error_topic();
    seen->status = status;
    snprintf(seen->message_id, sizeof seen->message_id, "%s", id != NULL ? id : "(null)");
    snprintf(seen->topic, sizeof seen->topic, "%s", t != NULL ? t : "(null)");
    atomic_store(&seen->done, 1);
}

static void test_send_to_queue_and_failure_context(void) {
    ons_properties_t *p = props_for("GID_ffi_abi_to_queue");
    ons_producer_t *producer = NULL;
    EXPECT(ons_producer_new(p, &producer), ONS_OK, NULL);
    EXPECT(ons_producer_start(producer), ONS_OK, NULL);
    ons_message_t *m = text_message("to a queue");
    ons_send_result_t *r = NULL;
    EXPECT(ons_producer_send(producer, m, &r), ONS_OK, NULL);
    char broker[128] = "";
    const char *s = NULL;
    EXPECT(ons_send_result_broker_name(r, &s), ONS_OK, NULL);
    snprintf(broker, sizeof broker, "%s", s);
    ons_send_result_free(r);
    r = NULL;

    ons_message_queue_t queue = {topic, broker, 1};
    EXPECT(ons_producer_send_to_queue(producer, m, &queue, &r), ONS_OK, NULL);
    int32_t queue_id = -1;
    EXPECT(ons_send_result_queue_id(r, &queue_id), ONS_OK, NULL);
    EXPECT_TRUE(queue_id == 1);
    ons_send_result_free(r);
    r = NULL;
    EXPECT(ons_producer_send_to_queue(producer, m, NULL, &r), ONS_ERR_INVALID_ARGUMENT, "queue is NULL");
    EXPECT_TRUE(ons_last_error_message_id() == NULL && ons_last_error_topic() == NULL);
    ons_message_queue_t no_broker = {topic, NULL, 0};
    EXPECT(ons_producer_send_to_queue(producer, m, &no_broker, &r), ONS_ERR_INVALID_ARGUMENT,
           "queue->broker_name is NULL");
    ons_message_queue_t other_topic = {"ffi_abi_other", broker, 0};
    EXPECT(ons_producer_send_to_queue(producer, m, &other_topic, &r), ONS_ERR_INVALID_ARGUMENT, "must be the same");
    /* Refused before the message got an id: the topic only. */
    EXPECT_TRUE(ons_last_error_message_id() == NULL && ons_last_error_topic() != NULL &&
                strcmp(ons_last_error_topic(), topic) == 0);
    /* The topic was made with 2 queues: queue 2 is refused after the message got its id. */
    queue.queue_id = 2;
    EXPECT(ons_producer_send_to_queue(producer, m, &queue, &r), ONS_ERR_INVALID_ARGUMENT, "writable queues are 0, 1");
    EXPECT_TRUE(r == NULL);
    EXPECT_TRUE(ons_last_error_message_id() != NULL && strlen(ons_last_error_message_id()) == 32);
    EXPECT_TRUE(ons_last_error_topic() != NULL && strcmp(ons_last_error_topic(), topic) == 0);
    /* The next call clears them. */
    EXPECT(ons_producer_send_to_queue(producer, m, &queue, NULL), ONS_ERR_INVALID_ARGUMENT, "result (the out-parameter) is NULL");
    EXPECT_TRUE(ons_last_error_message_id() == NULL && ons_last_error_topic() == NULL);
    EXPECT(ons_producer_destroy(producer), ONS_OK, NULL);
    ons_properties_free(p);

    /* Sends that fail on the network after the id was assigned: sync, then async. */
    ons_properties_t *unreachable = NULL;
    ons_properties_new(&unreachable);
    ons_properties_set(unreachable, ONS_PROPERTY_NAMESRV_ADDR, "127.0.0.1:1");
    ons_properties_set(unreachable, ONS_PROPERTY_GROUP_ID, "GID_ffi_abi_unreachable");
    ons_properties_set(unreachable, ONS_PROPERTY_SEND_MSG_TIMEOUT_MILLIS, "300");
    EXPECT(ons_producer_new(unreachable, &producer), ONS_OK, NULL);
    EXPECT(ons_producer_start(producer), ONS_OK, NULL);
    int32_t rc = ons_producer_send(producer, m, &r);
    EXPECT_TRUE(rc == ONS_ERR_NETWORK || rc == ONS_ERR_TIMEOUT);
    EXPECT_TRUE(ons_last_error_message_id() != NULL && strlen(ons_last_error_message_id()) == 32);
    EXPECT_TRUE(ons_last_error_topic() != NULL && strcmp(ons_last_error_topic(), topic) == 0);
    struct failure_seen seen;
    memset(&seen, 0, sizeof seen);
    atomic_init(&seen.done, 0);
    EXPECT(ons_producer_send_async(producer, m, record_failure, &seen), ONS_OK, NULL);
    for (int i = 0; i < 200 && !atomic_load(&seen.done); i++) {
        sleep_ms(25);
    }
    EXPECT_TRUE(atomic_load(&seen.done) == 1);
    EXPECT_TRUE(seen.status == ONS_ERR_NETWORK || seen.status == ONS_ERR_TIMEOUT);
    EXPECT_TRUE(strlen(seen.message_id) == 32);
    EXPECT_TRUE(strcmp(seen.topic, topic) == 0);
    if (strlen(seen.message_id) != 32 || strcmp(seen.topic, topic) != 0) {
        fprintf(stderr, "async failure context: id %s, topic %s\n", seen.message_id, seen.topic);
    }
    EXPECT(ons_producer_destroy(producer), ONS_OK, NULL);
    ons_properties_free(unreachable);
    ons_message_free(m);
}

/* ---------------------------------------------------------------------- pull consumer */

static void test_pull_consumer(void) {
    char group[128];
    snprintf(group, sizeof group, "GID_%s_pull", topic); /* a new group every run */
    ons_properties_t *p = props_for(group);
    ons_pull_consumer_t *c = NULL;
    EXPECT(ons_pull_consumer_new(NULL, &c), ONS_ERR_INVALID_ARGUMENT, "properties is NULL");
    EXPECT(ons_pull_consumer_new(p, NULL), ONS_ERR_INVALID_ARGUMENT, "out");
    ons_properties_set(p, ONS_PROPERTY_MESSAGE_MODEL, "BROADCAST");
    EXPECT(ons_pull_consumer_new(p, &c), ONS_ERR_INVALID_CONFIG, "MessageModel must be CLUSTERING or BROADCASTING");
    EXPECT_TRUE(c == NULL);
    ons_properties_set(p, ONS_PROPERTY_MESSAGE_MODEL, ONS_CLUSTERING);
    EXPECT(ons_pull_consumer_new(p, &c), ONS_OK, NULL);
    ons_properties_free(p);

    /* NULL handle, NULL arguments, NULL out-parameters. */
    ons_message_queue_t q0 = {topic, "no-such-broker", 0};
    ons_message_t **msgs = NULL;
    size_t count = 7;
    int64_t offset = 0;
    ons_message_queue_list_t *list = NULL;
    EXPECT(ons_pull_consumer_start(NULL), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_pull_consumer_shutdown(NULL), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_pull_consumer_destroy(NULL), ONS_OK, NULL);
    EXPECT(ons_pull_consumer_update_credential(NULL, NULL), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_pull_consumer_update_credential(c, NULL), ONS_ERR_INVALID_ARGUMENT, "properties is NULL");
    EXPECT(ons_pull_consumer_subscribe(NULL, topic, "*"), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_pull_consumer_subscribe(c, NULL, "*"), ONS_ERR_INVALID_ARGUMENT, "topic is NULL");
    EXPECT(ons_pull_consumer_unsubscribe(c, NULL), ONS_ERR_INVALID_ARGUMENT, "topic is NULL");
    EXPECT(ons_pull_consumer_assign(NULL, &q0, 1), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_pull_consumer_assign(c, NULL, 2), ONS_ERR_INVALID_ARGUMENT, "queues is NULL but count is 2");
    EXPECT(ons_pull_consumer_topic_partitions(c, NULL, &list), ONS_ERR_INVALID_ARGUMENT, "topic is NULL");
    EXPECT(ons_pull_consumer_topic_partitions(c, topic, NULL), ONS_ERR_INVALID_ARGUMENT, "out");
    EXPECT(ons_pull_consumer_poll(c, 10, NULL, &count), ONS_ERR_INVALID_ARGUMENT, "out");
    EXPECT(ons_pull_consumer_poll(c, 10, &msgs, NULL), ONS_ERR_INVALID_ARGUMENT, "count");
    EXPECT(ons_pull_consumer_poll(NULL, 10, &msgs, &count), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT_TRUE(msgs == NULL && count == 0);
    EXPECT(ons_pull_consumer_poll(c, -1, &msgs, &count), ONS_ERR_INVALID_ARGUMENT, "timeout_ms");
    EXPECT(ons_pull_consumer_seek(c, NULL, 0), ONS_ERR_INVALID_ARGUMENT, "queue is NULL");
    EXPECT(ons_pull_consumer_seek_to_beginning(c, NULL), ONS_ERR_INVALID_ARGUMENT, "queue is NULL");
    EXPECT(ons_pull_consumer_seek_to_end(c, NULL), ONS_ERR_INVALID_ARGUMENT, "queue is NULL");
    EXPECT(ons_pull_consumer_offset_for_timestamp(c, NULL, 0, &offset), ONS_ERR_INVALID_ARGUMENT, "queue is NULL");
    EXPECT(ons_pull_consumer_offset_for_timestamp(c, &q0, 0, NULL), ONS_ERR_INVALID_ARGUMENT, "out");
    EXPECT(ons_pull_consumer_committed(c, NULL, &offset), ONS_ERR_INVALID_ARGUMENT, "queue is NULL");
    EXPECT(ons_pull_consumer_committed(c, &q0, NULL), ONS_ERR_INVALID_ARGUMENT, "out");
    EXPECT(ons_pull_consumer_commit_sync(NULL), ONS_ERR_INVALID_ARGUMENT, "consumer is NULL");
    EXPECT(ons_pull_consumer_pause(c, NULL, 1), ONS_ERR_INVALID_ARGUMENT, "queues is NULL");
    EXPECT(ons_pull_consumer_resume(c, NULL, 1), ONS_ERR_INVALID_ARGUMENT, "queues is NULL");
    EXPECT(ons_message_queue_list_free(NULL), ONS_OK, NULL);

    /* Bad queues, named by their place in the array. */
    ons_message_queue_t bad[2] = {{topic, "b", 0}, {NULL, "b", 1}};
    EXPECT(ons_pull_consumer_assign(c, bad, 2), ONS_ERR_INVALID_ARGUMENT, "queues[1].topic is NULL");
    bad[1].topic = topic;
    bad[1].broker_name = NULL;
    EXPECT(ons_pull_consumer_assign(c, bad, 2), ONS_ERR_INVALID_ARGUMENT, "queues[1].broker_name is NULL");
    bad[1].broker_name = "b";
    bad[1].queue_id = -1;
    EXPECT(ons_pull_consumer_assign(c, bad, 2), ONS_ERR_INVALID_ARGUMENT, "negative queue id");
    bad[1].topic = "bad topic!";
    bad[1].queue_id = 1;
    EXPECT(ons_pull_consumer_assign(c, bad, 2), ONS_ERR_INVALID_ARGUMENT, "topic");
    ons_message_queue_t no_topic = {NULL, "b", 0};
    EXPECT(ons_pull_consumer_seek(c, &no_topic, 0), ONS_ERR_INVALID_ARGUMENT, "queue->topic is NULL");
    EXPECT(ons_pull_consumer_committed(c, &no_topic, &offset), ONS_ERR_INVALID_ARGUMENT, "queue->topic is NULL");

    /* Not started: calls that talk to the brokers are refused. */
    EXPECT(ons_pull_consumer_poll(c, 10, &msgs, &count), ONS_ERR_NOT_STARTED, NULL);
    EXPECT(ons_pull_consumer_topic_partitions(c, topic, &list), ONS_ERR_NOT_STARTED, NULL);

    EXPECT(ons_pull_consumer_start(c), ONS_OK, NULL);
    int32_t flag = -1;
    EXPECT(ons_pull_consumer_is_started(c, &flag), ONS_OK, NULL);
    EXPECT_TRUE(flag == 1);
    EXPECT(ons_pull_consumer_topic_partitions(c, topic, &list), ONS_OK, NULL);
    EXPECT_TRUE(list != NULL && list->count == 2 && list->items != NULL);
    if (list != NULL && list->count > 0) {
        EXPECT(ons_pull_consumer_assign(c, list->items, 1), ONS_OK, NULL);
        /* A queue this consumer does not own, an offset outside the stored range. */
        ons_message_queue_t other = {topic, list->items[0].broker_name, 99};
        EXPECT(ons_pull_consumer_seek(c, &other, 0), ONS_ERR_INVALID_ARGUMENT, "not one this consumer owns");
        EXPECT(ons_pull_consumer_seek_to_end(c, &other), ONS_ERR_INVALID_ARGUMENT, "not one this consumer owns");
        EXPECT(ons_pull_consumer_pause(c, &other, 1), ONS_ERR_INVALID_ARGUMENT, NULL);
        EXPECT(ons_pull_consumer_seek(c, &list->items[0], 1000000), ONS_ERR_INVALID_ARGUMENT, "stored range");
        EXPECT(ons_pull_consumer_seek(c, &list->items[0], -1), ONS_ERR_INVALID_ARGUMENT, "negative");
        EXPECT(ons_pull_consumer_offset_for_timestamp(c, &list->items[0], -5, &offset), ONS_ERR_INVALID_ARGUMENT,
               "negative");
        /* Assign and subscribe do not mix. */
        EXPECT(ons_pull_consumer_subscribe(c, topic, "*"), ONS_ERR_INVALID_ARGUMENT, NULL);
        /* A queue this new group never consumed (the assigned one may have its start offset
         * committed by now): -1, or 0 when the queue's first message is still in the broker's
         * memory (apache/rocketmq ConsumerManageProcessor answers 0 then, setZeroIfNotFound). */
        offset = -2;
        EXPECT(ons_pull_consumer_committed(c, &list->items[list->count - 1], &offset), ONS_OK, NULL);
        EXPECT_TRUE(list->count < 2 || offset == -1 || offset == 0);
        EXPECT(ons_pull_consumer_pause(c, list->items, 1), ONS_OK, NULL);
        EXPECT(ons_pull_consumer_resume(c, list->items, 1), ONS_OK, NULL);
        EXPECT(ons_pull_consumer_poll(c, 0, &msgs, &count), ONS_OK, NULL);
        EXPECT(ons_message_array_free(msgs, count), ONS_OK, NULL);
    }
    EXPECT(ons_message_queue_list_free(list), ONS_OK, NULL);
    EXPECT(ons_pull_consumer_shutdown(c), ONS_OK, NULL);
    EXPECT(ons_pull_consumer_shutdown(c), ONS_ERR_NOT_STARTED, "already shut down");
    EXPECT(ons_pull_consumer_is_closed(c, &flag), ONS_OK, NULL);
    EXPECT_TRUE(flag == 1);
    EXPECT(ons_pull_consumer_poll(c, 10, &msgs, &count), ONS_ERR_NOT_STARTED, NULL);
    EXPECT(ons_pull_consumer_destroy(c), ONS_OK, NULL);
}

static void test_inside_callbacks(void) {
    ons_properties_t *p = props_for("GID_ffi_abi_callbacks");
    struct self_ref s;
    memset(&s, 0, sizeof s);
    atomic_init(&s.destroy_rc, -1);
    atomic_init(&s.shutdown_rc, -1);
    atomic_init(&s.nested_send_rc, -1);
    atomic_init(&s.done, 0);
    EXPECT(ons_producer_new(p, &s.producer), ONS_OK, NULL);
    EXPECT(ons_producer_start(s.producer), ONS_OK, NULL);
    ons_message_t *m = text_message("callback test");
    EXPECT(ons_producer_send_async(s.producer, m, destroy_from_send_callback, &s), ONS_OK, NULL);
    for (int i = 0; i < 200 && !atomic_load(&s.done); i++) {
        sleep_ms(50);
    }
    EXPECT_TRUE(atomic_load(&s.done) == 1);
    EXPECT_TRUE(atomic_load(&s.destroy_rc) == ONS_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(atomic_load(&s.shutdown_rc) == ONS_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(atomic_load(&s.nested_send_rc) == ONS_OK);
    EXPECT(ons_producer_destroy(s.producer), ONS_OK, NULL); /* still intact: destroy works outside */

    EXPECT(ons_transaction_producer_new(p, NULL, NULL, &s.tx), ONS_ERR_INVALID_ARGUMENT, "checker is NULL");
    EXPECT(ons_transaction_producer_new(p, never_checked, NULL, &s.tx), ONS_OK, NULL);
    EXPECT(ons_transaction_producer_start(s.tx), ONS_OK, NULL);
    ons_send_result_t *r = NULL;
    EXPECT(ons_transaction_producer_send(s.tx, m, NULL, NULL, &r), ONS_ERR_INVALID_ARGUMENT, "executor is NULL");
    atomic_store(&s.destroy_rc, -1);
    EXPECT(ons_transaction_producer_send(s.tx, m, destroy_from_executor, &s, &r), ONS_OK, NULL);
    EXPECT_TRUE(atomic_load(&s.destroy_rc) == ONS_ERR_INVALID_ARGUMENT);
    ons_send_result_free(r);
    EXPECT(ons_transaction_producer_shutdown(s.tx), ONS_OK, NULL);
    EXPECT(ons_transaction_producer_shutdown(s.tx), ONS_ERR_NOT_STARTED, "already shut down");
    EXPECT(ons_transaction_producer_destroy(s.tx), ONS_OK, NULL);

    /* A consumer destroying itself from its listener. */
    char group[96];
    snprintf(group, sizeof group, "GID_ffi_abi_self_%ld", (long)getpid());
    ons_properties_t *cp = props_for(group);
    ons_properties_set(cp, ONS_PROPERTY_CONSUME_FROM_WHERE, ONS_CONSUME_FROM_FIRST_OFFSET);
    struct consumer_ref c;
    memset(&c, 0, sizeof c);
    atomic_init(&c.calls, 0);
    EXPECT(ons_consumer_new(cp, &c.consumer), ONS_OK, NULL);
    EXPECT(ons_consumer_subscribe(c.consumer, topic, "*", NULL, NULL), ONS_ERR_INVALID_ARGUMENT, "listener is NULL");
    EXPECT(ons_consumer_subscribe(c.consumer, NULL, "*", destroy_from_listener, &c), ONS_ERR_INVALID_ARGUMENT,
           "topic is NULL");
    EXPECT(ons_consumer_subscribe(c.consumer, topic, "*", destroy_from_listener, &c), ONS_OK, NULL);
    EXPECT(ons_consumer_start(c.consumer), ONS_OK, NULL);
    for (int i = 0; i < 600 && atomic_load(&c.calls) == 0; i++) {
        sleep_ms(50);
    }
    EXPECT_TRUE(atomic_load(&c.calls) > 0);
    EXPECT_TRUE(atomic_load(&c.destroy_rc) == ONS_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(atomic_load(&c.shutdown_rc) == ONS_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(atomic_load(&c.set_rc) == ONS_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(atomic_load(&c.clone_rc) == ONS_OK);
    EXPECT(ons_consumer_shutdown(c.consumer), ONS_OK, NULL);
    EXPECT(ons_consumer_shutdown(c.consumer), ONS_ERR_NOT_STARTED, "already shut down");
    EXPECT(ons_consumer_start(c.consumer), ONS_ERR_NOT_STARTED, NULL);
    EXPECT(ons_consumer_destroy(c.consumer), ONS_OK, NULL);

    ons_message_free(m);
    ons_properties_free(cp);
    ons_properties_free(p);
}

/* ------------------------------------------------------------------------------ fork */

static void test_fork(void) {
    ons_properties_t *p = props_for("GID_ffi_abi_fork");
    ons_producer_t *parent = NULL;
    EXPECT(ons_producer_new(p, &parent), ONS_OK, NULL);
    EXPECT(ons_producer_start(parent), ONS_OK, NULL);
    ons_message_t *m = text_message("fork");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: the inherited producer fails fast; a new one works. */
        ons_send_result_t *r = NULL;
        int bad = ons_producer_send(parent, m, &r) != ONS_ERR_NOT_STARTED ||
                  strstr(ons_last_error_message(), "fork") == NULL;
        bad |= ons_producer_destroy(parent) != ONS_OK;
        ons_producer_t *own = NULL;
        bad |= ons_producer_new(p, &own) != ONS_OK || ons_producer_start(own) != ONS_OK;
        bad |= ons_producer_send(own, m, &r) != ONS_OK;
        if (bad) {
            fprintf(stderr, "child: %s\n", ons_last_error_message());
        }
        ons_send_result_free(r);
        ons_producer_destroy(own);
        _exit(bad);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ons_send_result_t *r = NULL;
    EXPECT(ons_producer_send(parent, m, &r), ONS_OK, NULL); /* the parent is unaffected */
    ons_send_result_free(r);
    EXPECT(ons_producer_destroy(parent), ONS_OK, NULL);
    ons_message_free(m);
    ons_properties_free(p);
}

/* ------------------------------------------------------------------------- Open API */

/* A one-shot HTTP server on 127.0.0.1: answers one request with `answer` and keeps the
 * request line, so the test sees what the client sent. */
struct one_shot {
    int listener;
    const char *answer;
    char request[4096];
};

static void *serve_once(void *arg) {
    struct one_shot *srv = arg;
    int conn = accept(srv->listener, NULL, NULL);
    if (conn < 0) {
        return NULL;
    }
    ssize_t n = recv(conn, srv->request, sizeof srv->request - 1, 0);
    srv->request[n > 0 ? n : 0] = 0;
    char head[256];
    int len = snprintf(head, sizeof head,
                       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                       "Connection: close\r\n\r\n",
                       strlen(srv->answer));
    if (send(conn, head, (size_t)len, 0) < 0 || send(conn, srv->answer, strlen(srv->answer), 0) < 0) {
        perror("send");
    }
    close(conn);
    return NULL;
}

static int start_server(struct one_shot *srv, pthread_t *thread) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    srv->listener = socket(AF_INET, SOCK_STREAM, 0);
    if (srv->listener < 0 || bind(srv->listener, (struct sockaddr *)&addr, size) != 0 ||
        listen(srv->listener, 1) != 0 || getsockname(srv->listener, (struct sockaddr *)&addr, &size) != 0) {
        return -1;
    }
    pthread_create(thread, NULL, serve_once, srv);
    return ntohs(addr.sin_port);
}

static void test_open_api(void) {
    ons_open_api_t *api = NULL;
    EXPECT(ons_open_api_new(NULL, "ak", "sk", NULL, &api), ONS_ERR_INVALID_ARGUMENT, "endpoint is NULL");
    EXPECT(ons_open_api_new("http://127.0.0.1:1", "ak", "", NULL, &api), ONS_ERR_INVALID_CONFIG, NULL);
    EXPECT(ons_open_api_new("http://127.0.0.1:1", "ak", "sk", NULL, &api), ONS_OK, NULL);
    char *json = NULL;
    EXPECT(ons_open_api_call(api, "json/topic/list", NULL, NULL, 0, &json), ONS_ERR_INVALID_ARGUMENT, "path");
    EXPECT(ons_open_api_call(api, "/json/topic/list", NULL, NULL, 1, &json), ONS_ERR_INVALID_ARGUMENT, "NULL");
    EXPECT(ons_open_api_call(api, "/json/topic/list", NULL, NULL, 0, &json), ONS_ERR_NETWORK, NULL);
    EXPECT_TRUE(json == NULL);
    EXPECT(ons_open_api_destroy(api), ONS_OK, NULL);
    EXPECT(ons_open_api_destroy(NULL), ONS_OK, NULL);
    EXPECT(ons_string_free(NULL), ONS_OK, NULL);

    /* A successful call: the envelope's data comes back as JSON; the request is signed. */
    struct one_shot srv;
    memset(&srv, 0, sizeof srv);
    srv.answer = "{\"code\":200,\"success\":true,\"requestId\":\"req-1\",\"data\":[{\"topic\":\"T1\"}]}";
    pthread_t thread;
    int port = start_server(&srv, &thread);
    EXPECT_TRUE(port > 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    EXPECT(ons_open_api_new(endpoint, "test-ak", "test-sk", "cn-test", &api), ONS_OK, NULL);
    const char *keys[] = {"instanceId"};
    const char *values[] = {"MQ_INST_1"};
    EXPECT(ons_open_api_call(api, "/json/topic/list", keys, values, 1, &json), ONS_OK, NULL);
    pthread_join(thread, NULL);
    close(srv.listener);
    EXPECT_TRUE(json != NULL && strstr(json, "\"requestId\":\"req-1\"") != NULL && strstr(json, "\"T1\"") != NULL);
    EXPECT_TRUE(strstr(srv.request, "GET /json/topic/list?") == srv.request);
    EXPECT_TRUE(strstr(srv.request, "instanceId=MQ_INST_1") != NULL && strstr(srv.request, "_signature=") != NULL &&
                strstr(srv.request, "_accesskey=test-ak") != NULL && strstr(srv.request, "_regionId=cn-test") != NULL);
    EXPECT(ons_string_free(json), ONS_OK, NULL);

    /* An error envelope: ONS_ERR_API with the API's code. */
    memset(&srv, 0, sizeof srv);
    srv.answer = "{\"code\":\"Topic.NotFound\",\"success\":false,\"message\":\"no such topic\"}";
    port = start_server(&srv, &thread);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    ons_open_api_destroy(api);
    EXPECT(ons_open_api_new(endpoint, "test-ak", "test-sk", NULL, &api), ONS_OK, NULL);
    json = NULL;
    EXPECT(ons_open_api_call(api, "/json/topic/get", NULL, NULL, 0, &json), ONS_ERR_API, "no such topic");
    EXPECT_TRUE(ons_last_error_api_code() != NULL && strcmp(ons_last_error_api_code(), "Topic.NotFound") == 0);
    pthread_join(thread, NULL);
    close(srv.listener);
    ons_open_api_destroy(api);
}

static void test_asapi(void) {
    ons_asapi_t *api = NULL;
    EXPECT(ons_asapi_new("http://127.0.0.1:1", "ak", "sk", NULL, &api), ONS_ERR_INVALID_ARGUMENT, "region_id is NULL");
    struct one_shot srv;
    memset(&srv, 0, sizeof srv);
    srv.answer = "{\"asapiSuccess\":true,\"asapiRequestId\":\"r-9\",\"data\":{\"InstanceId\":\"MQ_INST_1\"}}";
    pthread_t thread;
    int port = start_server(&srv, &thread);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    EXPECT(ons_asapi_new(endpoint, "test-ak", "test-sk", "cn-test", &api), ONS_OK, NULL);
    char *json = NULL;
    EXPECT(ons_asapi_call(api, NULL, "ListInstances", "2019-02-14", NULL, NULL, 0, &json), ONS_ERR_INVALID_ARGUMENT,
           "product is NULL");
    const char *keys[] = {"PageSize"};
    const char *values[] = {"10"};
    EXPECT(ons_asapi_call(api, "Ons", "OnsInstanceInServiceList", "2019-02-14", keys, values, 1, &json), ONS_OK, NULL);
    pthread_join(thread, NULL);
    close(srv.listener);
    EXPECT_TRUE(json != NULL && strstr(json, "MQ_INST_1") != NULL && strstr(json, "\"httpStatus\":200") != NULL);
    EXPECT_TRUE(strstr(srv.request, "POST / ") == srv.request && strstr(srv.request, "x-acs-regionid: cn-test") != NULL);
    ons_string_free(json);

    memset(&srv, 0, sizeof srv);
    srv.answer = "{\"asapiSuccess\":false,\"asapiErrorCode\":\"Forbidden.RAM\",\"asapiErrorMessage\":\"denied\"}";
    port = start_server(&srv, &thread);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    ons_asapi_destroy(api);
    EXPECT(ons_asapi_new(endpoint, "test-ak", "test-sk", "cn-test", &api), ONS_OK, NULL);
    json = NULL;
    EXPECT(ons_asapi_call(api, "Ons", "OnsTopicList", "2019-02-14", NULL, NULL, 0, &json), ONS_ERR_API, NULL);
    EXPECT_TRUE(ons_last_error_api_code() != NULL && strcmp(ons_last_error_api_code(), "Forbidden.RAM") == 0);
    EXPECT_TRUE(json == NULL);
    pthread_join(thread, NULL);
    close(srv.listener);
    EXPECT(ons_asapi_destroy(api), ONS_OK, NULL);
    EXPECT(ons_asapi_destroy(NULL), ONS_OK, NULL);
}

int main(void) {
    snprintf(topic, sizeof topic, "ffi_abi_%ld_%ld", (long)getpid(), (long)time(NULL));
    test_last_error();
    test_nulls();
    test_utf8();
    test_invalid_properties();
    test_open_api();
    test_asapi();

    ons_properties_t *p = props_for("GID_ffi_abi_admin");
    ons_admin_t *admin = NULL;
    EXPECT(ons_admin_new(p, &admin), ONS_OK, NULL);
    EXPECT(ons_admin_create_topic(admin, topic, 0, 0), ONS_ERR_INVALID_ARGUMENT, "queue_nums");
    EXPECT(ons_admin_create_topic(admin, topic, 2, 0), ONS_OK, NULL);
    ons_message_t *none = NULL;
    EXPECT(ons_admin_view_message(admin, topic, "not-an-id", &none), ONS_ERR_INVALID_ARGUMENT, NULL);
    ons_admin_destroy(admin);
    ons_properties_free(p);

    test_producer_lifecycle();
    test_send_to_queue_and_failure_context();
    test_pull_consumer();
    test_inside_callbacks();
    test_fork();

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
