/*
 * ons_set_log_handler against the real cluster: a push consumer of a topic that does not exist
 * is said to the handler as a WARN naming the topic, on the library's log thread (never a
 * network thread); an invalid level is refused; after ons_set_log_handler(NULL, ...) the
 * handler is not called again, and the next such warning goes to stderr (the default), unless
 * the environment says ONS_LOG=off.
 */
#define _GNU_SOURCE /* pthread_getname_np */
#include <pthread.h>

#include "example_util.h"

struct seen {
    char topic[96];
    atomic_int calls;
    atomic_int warned;      /* WARN records naming the topic */
    atomic_int wrong_level; /* records below the level asked for */
    atomic_int wrong_thread;
};

static void on_log(void *user_data, int32_t level, const char *target, const char *message) {
    struct seen *seen = user_data;
    char thread[32] = "";
    pthread_getname_np(pthread_self(), thread, sizeof thread);
    if (strcmp(thread, "ons-log") != 0) {
        atomic_fetch_add(&seen->wrong_thread, 1);
    }
    if (level < ONS_LOG_ERROR || level > ONS_LOG_WARN) {
        atomic_fetch_add(&seen->wrong_level, 1);
    }
    if (level == ONS_LOG_WARN && strstr(message, seen->topic) != NULL && strncmp(target, "rocketmq_ons", 12) == 0) {
        printf("handler got: %s: %s\n", target, message);
        atomic_fetch_add(&seen->warned, 1);
    }
    atomic_fetch_add(&seen->calls, 1);
}

static int32_t never_called(void *user_data, const ons_message_t *msg, const ons_consume_context_t *ctx) {
    (void)user_data, (void)msg, (void)ctx;
    return ONS_ACTION_COMMIT_MESSAGE;
}

/* A started consumer of TOPIC (which does not exist) in a new group. The name server answers
 * (with "no route"), so start succeeds; the first rebalance warns. */
static ons_consumer_t *consume_missing(const char *topic, ons_properties_t **props) {
    char group[96];
    unique_name(group, sizeof group, "GID_ffi_log");
    *props = example_properties(group);
    ons_consumer_t *consumer = NULL;
    CHECK(ons_consumer_new(*props, &consumer));
    CHECK(ons_consumer_subscribe(consumer, topic, "*", never_called, NULL));
    CHECK(ons_consumer_start(consumer));
    return consumer;
}

/* Whether FILE holds a line with WARN and NEEDLE, polling up to timeout_s. */
static int file_has_warning(FILE *file, const char *needle, int timeout_s) {
    struct timespec tick = {0, 100 * 1000 * 1000};
    char line[4096];
    for (int i = 0; i < timeout_s * 10; i++) {
        rewind(file);
        while (fgets(line, sizeof line, file) != NULL) {
            if (strstr(line, "WARN") != NULL && strstr(line, needle) != NULL) {
                return 1;
            }
        }
        nanosleep(&tick, NULL);
    }
    return 0;
}

int main(void) {
    static struct seen seen;
    unique_name(seen.topic, sizeof seen.topic, "ffi_no_such_topic");
    atomic_init(&seen.calls, 0);
    atomic_init(&seen.warned, 0);
    atomic_init(&seen.wrong_level, 0);
    atomic_init(&seen.wrong_thread, 0);

    if (ons_set_log_handler(on_log, &seen, 0) != ONS_ERR_INVALID_ARGUMENT ||
        ons_set_log_handler(on_log, &seen, ONS_LOG_TRACE + 1) != ONS_ERR_INVALID_ARGUMENT) {
        fprintf(stderr, "a level outside ONS_LOG_ERROR..ONS_LOG_TRACE was accepted\n");
        return 1;
    }
    CHECK(ons_set_log_handler(on_log, &seen, ONS_LOG_WARN));

    ons_properties_t *props = NULL;
    ons_consumer_t *consumer = consume_missing(seen.topic, &props);
    int warned = wait_for(&seen.warned, 1, 40);
    CHECK(ons_consumer_destroy(consumer));
    ons_properties_free(props);
    if (!warned) {
        fprintf(stderr, "no WARN naming %s reached the handler within 40 s (%d calls)\n", seen.topic,
                atomic_load(&seen.calls));
        return 1;
    }

    /* Back to the default: the same warning of another consumer goes to stderr (captured in a
     * file here), and the handler is not called any more. */
    CHECK(ons_set_log_handler(NULL, NULL, 0));
    int calls = atomic_load(&seen.calls);
    FILE *captured = tmpfile();
    int saved_stderr = dup(STDERR_FILENO);
    if (captured == NULL || saved_stderr < 0 || dup2(fileno(captured), STDERR_FILENO) < 0) {
        perror("capturing stderr");
        return 1;
    }
    char other[96];
    unique_name(other, sizeof other, "ffi_no_such_topic_either");
    consumer = consume_missing(other, &props);
    /* ONS_LOG=off (run-tests.sh runs this program with it too) silences the default: the
     * warning, which otherwise comes within a second or two, must not reach stderr in 5 s. */
    const char *ons_log = getenv("ONS_LOG");
    int silenced = ons_log != NULL && strcmp(ons_log, "off") == 0;
    int on_stderr = file_has_warning(captured, other, silenced ? 5 : 40);
    CHECK(ons_consumer_destroy(consumer));
    ons_properties_free(props);
    dup2(saved_stderr, STDERR_FILENO);
    if (on_stderr == silenced) {
        fprintf(stderr, silenced ? "with ONS_LOG=off, a WARN naming %s reached stderr\n"
                                 : "with the default restored, no WARN naming %s reached stderr within 40 s\n",
                other);
        return 1;
    }

    printf("handler: %d calls, %d WARN naming the topic, %d after it was removed, %d below WARN, %d off the log "
           "thread\n",
           calls, atomic_load(&seen.warned), atomic_load(&seen.calls) - calls, atomic_load(&seen.wrong_level),
           atomic_load(&seen.wrong_thread));
    return atomic_load(&seen.calls) == calls && atomic_load(&seen.wrong_level) == 0 &&
                   atomic_load(&seen.wrong_thread) == 0
               ? 0
               : 1;
}
