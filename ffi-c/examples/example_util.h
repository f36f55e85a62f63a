/*
 * Helpers shared by the C examples: error exits, the cluster address from the environment,
 * unique names so runs do not see each other's messages, and waiting on a counter.
 *
 * Environment: NAMESRV_ADDR (required), ONS_ACCESS_KEY / ONS_SECRET_KEY (when the cluster
 * checks credentials).
 */
#ifndef ONS_EXAMPLE_UTIL_H
#define ONS_EXAMPLE_UTIL_H

/* nanosleep and getpid under -std=c11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rocketmq_ons.h>

/* Exits with the library's error message when a call fails. */
#define CHECK(call)                                                                          \
    do {                                                                                     \
        int32_t rc_ = (call);                                                                \
        if (rc_ != ONS_OK) {                                                                 \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call,        \
                    ons_last_error_message(), ons_error_name(rc_));                          \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

/* A name unique to this run: PREFIX_<pid>_<seconds>. */
static inline void unique_name(char *buf, size_t size, const char *prefix) {
    snprintf(buf, size, "%s_%ld_%ld", prefix, (long)getpid(), (long)time(NULL));
}

/* Properties with the cluster address (and credentials) from the environment, and GROUP_ID. */
static inline ons_properties_t *example_properties(const char *group_id) {
    const char *addr = getenv("NAMESRV_ADDR");
    if (addr == NULL || addr[0] == '\0') {
        fprintf(stderr, "set NAMESRV_ADDR to the name server address (host:port)\n");
        exit(2);
    }
    ons_properties_t *props = NULL;
    CHECK(ons_properties_new(&props));
    CHECK(ons_properties_set(props, ONS_PROPERTY_NAMESRV_ADDR, addr));
    CHECK(ons_properties_set(props, ONS_PROPERTY_GROUP_ID, group_id));
    const char *ak = getenv("ONS_ACCESS_KEY");
    const char *sk = getenv("ONS_SECRET_KEY");
    if (ak != NULL && sk != NULL) {
        CHECK(ons_properties_set(props, ONS_PROPERTY_ACCESS_KEY, ak));
        CHECK(ons_properties_set(props, ONS_PROPERTY_SECRET_KEY, sk));
    }
    return props;
}

/* Creates TOPIC with QUEUES queues, so consumers find its route at once. */
static inline void create_topic(const char *topic, uint32_t queues) {
    ons_properties_t *props = example_properties("GID_ffi_example_admin");
    ons_admin_t *admin = NULL;
    CHECK(ons_admin_new(props, &admin));
    CHECK(ons_admin_create_topic(admin, topic, queues, 0));
    ons_admin_destroy(admin);
    ons_properties_free(props);
}

/* Waits until *counter reaches target or timeout_s passes; returns whether it did. */
static inline int wait_for(atomic_int *counter, int target, int timeout_s) {
    struct timespec tick = {0, 50 * 1000 * 1000};
    for (int i = 0; i < timeout_s * 20; i++) {
        if (atomic_load(counter) >= target) {
            return 1;
        }
        nanosleep(&tick, NULL);
    }
    return atomic_load(counter) >= target;
}

#endif
