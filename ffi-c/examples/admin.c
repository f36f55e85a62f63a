/*
 * The admin calls (ons_admin_*) end to end on a throw-away topic and group: cluster and broker
 * runtime, topic create/list/route/stats, messages by id, by key and by queue offsets, the
 * group's config, its online consumer (connections, running info, consuming a message
 * directly), its progress, the message's delivery state, an offsets reset, and deleting the
 * group and the topic. Every result is checked against what was done; each result is freed
 * (run-tests.sh runs this under AddressSanitizer too).
 *
 *   admin                     the whole sequence
 *   admin --mqadmin TOPIC     for ffi-c/tests/admin_mqadmin.sh: prints "broker NAME ADDR
 *                             VERSION" lines, checks that TOPIC (made by mqadmin updateTopic
 *                             -r 3 -w 5) has 3 read and 5 write queues on every broker, deletes it
 */
#include "example_util.h"

#define MESSAGES 3

/* Exits non-zero with a message when a result is wrong. */
#define EXPECT(cond, ...)                                                                    \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: expected %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fprintf(stderr, "\n");                                                           \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int list_has(const ons_admin_string_list_t *list, const char *value) {
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], value) == 0) {
            return 1;
        }
    }
    return 0;
}

static const ons_admin_subscription_group_t *find_group(const ons_admin_broker_groups_t *b, const char *name) {
    for (size_t i = 0; i < b->count; i++) {
        if (strcmp(b->groups[i].group_name, name) == 0) {
            return &b->groups[i];
        }
    }
    return NULL;
}

/* Waits (up to 30 s) until every broker reports its runtime info: a 4.9.7 broker cannot for a
 * short while after it started (docs/admin.md, Cluster). */
static void wait_for_runtime_info(ons_admin_t *admin) {
    for (int attempt = 0; attempt < 60; attempt++) {
        ons_admin_cluster_list_t *brokers = NULL;
        CHECK(ons_admin_cluster_list(admin, &brokers));
        int missing = 0;
        for (size_t i = 0; i < brokers->count; i++) {
            missing |= brokers->brokers[i].runtime_error != NULL;
        }
        CHECK(ons_admin_cluster_list_free(brokers));
        if (!missing) {
            return;
        }
        pause_ms(500);
    }
}

/* The cluster of the first master, and how many masters it has. */
static size_t masters_of_first_cluster(ons_admin_t *admin, char *cluster, size_t size) {
    ons_admin_cluster_list_t *brokers = NULL;
    CHECK(ons_admin_cluster_list(admin, &brokers));
    EXPECT(brokers->count > 0, "no broker listed");
    snprintf(cluster, size, "%s", brokers->brokers[0].cluster);
    size_t masters = 0;
    for (size_t i = 0; i < brokers->count; i++) {
        const ons_admin_cluster_broker_t *b = &brokers->brokers[i];
        EXPECT(b->addr != NULL && strchr(b->addr, ':') != NULL, "broker %s has address %s", b->broker_name, b->addr);
        EXPECT(b->version != NULL || b->runtime_error != NULL, "broker %s: neither version nor error", b->broker_name);
        EXPECT((b->broker_id == 0) == (b->role == ONS_ADMIN_ROLE_MASTER), "broker %s id %lld role %d",
               b->broker_name, (long long)b->broker_id, b->role);
        if (strcmp(b->cluster, cluster) == 0 && b->role == ONS_ADMIN_ROLE_MASTER) {
            masters++;
        }
        printf("broker %s %s %s\n", b->broker_name, b->addr, b->version != NULL ? b->version : "-");
    }
    CHECK(ons_admin_cluster_list_free(brokers));
    return masters;
}

/* --mqadmin TOPIC: see the file comment. */
static int check_mqadmin_topic(ons_admin_t *admin, const char *topic) {
    char cluster[128];
    wait_for_runtime_info(admin);
    masters_of_first_cluster(admin, cluster, sizeof cluster);
    ons_admin_topic_route_t *route = NULL;
    CHECK(ons_admin_topic_route(admin, topic, &route));
    EXPECT(route->queue_count > 0, "no queues in the route of %s", topic);
    for (size_t i = 0; i < route->queue_count; i++) {
        const ons_admin_route_queues_t *q = &route->queues[i];
        EXPECT(q->read_queue_nums == 3 && q->write_queue_nums == 5, "%s on %s: %d read, %d write queues", topic,
               q->broker_name, q->read_queue_nums, q->write_queue_nums);
    }
    CHECK(ons_admin_topic_route_free(route));
    CHECK(ons_admin_delete_topic(admin, cluster, topic));
    return 0;
}

static atomic_int consumed;

static int32_t on_message(void *user_data, const ons_message_t *msg, const ons_consume_context_t *ctx) {
    (void)user_data;
    (void)msg;
    (void)ctx;
    atomic_fetch_add(&consumed, 1);
    return ONS_ACTION_COMMIT_MESSAGE;
}

/* Arguments the library must refuse, with messages naming them. */
static void check_refusals(ons_admin_t *admin, const char *topic) {
    ons_admin_topic_route_t *route = NULL;
    EXPECT(ons_admin_topic_route(NULL, topic, &route) == ONS_ERR_INVALID_ARGUMENT && route == NULL, "NULL admin");
    EXPECT(strstr(ons_last_error_message(), "admin is NULL") != NULL, "message %s", ons_last_error_message());
    EXPECT(ons_admin_topic_route(admin, "\xff\xfe", &route) == ONS_ERR_INVALID_ARGUMENT, "bad UTF-8");
    EXPECT(strstr(ons_last_error_message(), "topic is not valid UTF-8") != NULL, "message %s",
           ons_last_error_message());
    EXPECT(ons_admin_topic_stats(admin, topic, NULL) == ONS_ERR_INVALID_ARGUMENT, "NULL out");
    ons_admin_queue_offset_list_t *offsets = NULL;
    EXPECT(ons_admin_reset_offsets(admin, "GID_x", topic, 7, 0, &offsets) == ONS_ERR_INVALID_ARGUMENT, "position 7");
    EXPECT(strstr(ons_last_error_message(), "position is 7") != NULL, "message %s", ons_last_error_message());
    ons_admin_subscription_group_t config;
    CHECK(ons_admin_subscription_group_init(&config));
    ons_admin_string_list_t *brokers = NULL;
    EXPECT(ons_admin_update_subscription_group(admin, "DefaultCluster", &config, &brokers) ==
               ONS_ERR_INVALID_ARGUMENT,
           "group without a name");
    EXPECT(strstr(ons_last_error_message(), "config->group_name is NULL") != NULL, "message %s",
           ons_last_error_message());
    EXPECT(ons_admin_topic_route(admin, "ffi_no_such_topic_at_all", &route) == ONS_ERR_TOPIC_NOT_FOUND,
           "a route for a topic nobody made");
}

int main(int argc, char **argv) {
    ons_properties_t *props = example_properties("GID_ffi_admin_tool");
    ons_admin_t *admin = NULL;
    CHECK(ons_admin_new(props, &admin));
    if (argc == 3 && strcmp(argv[1], "--mqadmin") == 0) {
        int rc = check_mqadmin_topic(admin, argv[2]);
        CHECK(ons_admin_destroy(admin));
        ons_properties_free(props);
        return rc;
    }

    char topic[96], group[96], key[96], cluster[128];
    unique_name(topic, sizeof topic, "ffi_admin");
    unique_name(group, sizeof group, "GID_ffi_admin");
    unique_name(key, sizeof key, "key");
    wait_for_runtime_info(admin);
    size_t masters = masters_of_first_cluster(admin, cluster, sizeof cluster);
    EXPECT(masters > 0, "no master in cluster %s", cluster);
    check_refusals(admin, topic);

    /* The runtime table of one broker carries its version. */
    {
        ons_admin_cluster_list_t *brokers = NULL;
        CHECK(ons_admin_cluster_list(admin, &brokers));
        ons_admin_key_value_list_t *runtime = NULL;
        CHECK(ons_admin_broker_runtime_info(admin, brokers->brokers[0].addr, &runtime));
        int has_version = 0;
        for (size_t i = 0; i < runtime->count; i++) {
            has_version |= strcmp(runtime->items[i].key, "brokerVersionDesc") == 0;
        }
        EXPECT(has_version, "no brokerVersionDesc among %zu runtime entries", runtime->count);
        CHECK(ons_admin_key_value_list_free(runtime));
        CHECK(ons_admin_cluster_list_free(brokers));
    }

    /* Topic: created with 4 queues on every master, listed, routed. */
    ons_admin_string_list_t *written = NULL;
    CHECK(ons_admin_update_topic(admin, cluster, topic, 4, 4, 6, 0, &written));
    EXPECT(written->count == masters, "written to %zu brokers of %zu", written->count, masters);
    CHECK(ons_admin_string_list_free(written));
    ons_admin_string_list_t *topics = NULL;
    CHECK(ons_admin_list_topics(admin, &topics));
    EXPECT(list_has(topics, topic), "%s not among %zu topics", topic, topics->count);
    CHECK(ons_admin_string_list_free(topics));
    ons_admin_topic_route_t *route = NULL;
    CHECK(ons_admin_topic_route(admin, topic, &route));
    EXPECT(route->queue_count == masters && route->broker_count == masters, "route: %zu queue entries, %zu brokers",
           route->queue_count, route->broker_count);
    for (size_t i = 0; i < route->queue_count; i++) {
        const ons_admin_route_queues_t *q = &route->queues[i];
        EXPECT(q->read_queue_nums == 4 && q->write_queue_nums == 4 && q->perm == 6, "%s: %d/%d perm %d",
               q->broker_name, q->read_queue_nums, q->write_queue_nums, q->perm);
    }
    for (size_t i = 0; i < route->broker_count; i++) {
        EXPECT(route->brokers[i].addr_count > 0 && route->brokers[i].addrs[0].broker_id == 0, "no master address");
    }
    CHECK(ons_admin_topic_route_free(route));

    /* Three messages with one key. */
    char ids[MESSAGES][64], offset_ids[MESSAGES][64];
    {
        ons_properties_t *pprops = example_properties("GID_ffi_admin_producer");
        ons_producer_t *producer = NULL;
        CHECK(ons_producer_new(pprops, &producer));
        CHECK(ons_producer_start(producer));
        for (int i = 0; i < MESSAGES; i++) {
            ons_message_t *msg = NULL;
            CHECK(ons_message_new(topic, "TagA", (const uint8_t *)"admin-body", 10, &msg));
            CHECK(ons_message_set_key(msg, key));
            ons_send_result_t *result = NULL;
            CHECK(ons_producer_send(producer, msg, &result));
            const char *id = NULL, *offset_id = NULL;
            CHECK(ons_send_result_message_id(result, &id));
            CHECK(ons_send_result_offset_msg_id(result, &offset_id));
            snprintf(ids[i], sizeof ids[i], "%s", id);
            snprintf(offset_ids[i], sizeof offset_ids[i], "%s", offset_id);
            ons_send_result_free(result);
            ons_message_free(msg);
        }
        CHECK(ons_producer_destroy(producer));
        ons_properties_free(pprops);
    }

    /* Stats and max offsets count the three; reading every queue returns them. */
    ons_admin_topic_stats_t *stats = NULL;
    CHECK(ons_admin_topic_stats(admin, topic, &stats));
    EXPECT(stats->count == 4 * masters, "%zu queues", stats->count);
    int64_t stored = 0;
    size_t read_back = 0;
    for (size_t i = 0; i < stats->count; i++) {
        const ons_admin_queue_offsets_t *q = &stats->queues[i];
        stored += q->max_offset - q->min_offset;
        ons_message_t **msgs = NULL;
        size_t n = 0;
        CHECK(ons_admin_read_queue(admin, topic, q->broker_name, q->queue_id, q->min_offset, q->max_offset, &msgs, &n));
        EXPECT((int64_t)n == q->max_offset - q->min_offset, "read %zu of %s:%d", n, q->broker_name, q->queue_id);
        read_back += n;
        CHECK(ons_message_array_free(msgs, n));
    }
    CHECK(ons_admin_topic_stats_free(stats));
    EXPECT(stored == MESSAGES && read_back == MESSAGES, "stored %lld, read %zu", (long long)stored, read_back);
    ons_admin_queue_offset_list_t *max = NULL;
    CHECK(ons_admin_max_offsets(admin, topic, &max));
    int64_t max_sum = 0;
    for (size_t i = 0; i < max->count; i++) {
        EXPECT(strcmp(max->items[i].topic, topic) == 0, "max offset of topic %s", max->items[i].topic);
        max_sum += max->items[i].offset;
    }
    EXPECT(max->count == 4 * masters && max_sum == MESSAGES, "%zu queues, sum %lld", max->count, (long long)max_sum);
    CHECK(ons_admin_queue_offset_list_free(max));

    /* By either kind of id, and by key (the index lags the store a little). */
    for (int i = 0; i < MESSAGES; i++) {
        const char *both[2] = {ids[i], offset_ids[i]};
        for (int k = 0; k < 2; k++) {
            ons_message_t *found = NULL;
            for (int attempt = 0; attempt < 50 && found == NULL; attempt++) {
                CHECK(ons_admin_message_by_id(admin, topic, both[k], &found));
                if (found == NULL) {
                    pause_ms(100);
                }
            }
            EXPECT(found != NULL, "no message with id %s", both[k]);
            const char *found_key = NULL;
            CHECK(ons_message_key(found, &found_key));
            EXPECT(found_key != NULL && strcmp(found_key, key) == 0, "key %s", found_key);
            ons_message_free(found);
        }
    }
    {
        ons_message_t **msgs = NULL;
        size_t n = 0;
        for (int attempt = 0; attempt < 50; attempt++) {
            CHECK(ons_admin_query_messages(admin, topic, key, 0, now_ms() + 60000, 32, &msgs, &n));
            if (n == MESSAGES) {
                break;
            }
            CHECK(ons_message_array_free(msgs, n));
            msgs = NULL;
            pause_ms(100);
        }
        EXPECT(n == MESSAGES, "%zu messages with key %s", n, key);
        CHECK(ons_message_array_free(msgs, n));
        CHECK(ons_admin_query_messages(admin, topic, key, 1, 2, 32, &msgs, &n));
        EXPECT(n == 0, "%zu messages stored in 1970", n);
        CHECK(ons_message_array_free(msgs, n));
    }

    /* The group: created with 5 retries and no broadcast, listed so on every master. */
    ons_admin_subscription_group_t config;
    CHECK(ons_admin_subscription_group_init(&config));
    EXPECT(config.consume_enable == 1 && config.retry_max_times == 16, "defaults %d %d", config.consume_enable,
           config.retry_max_times);
    config.group_name = group;
    config.retry_max_times = 5;
    config.consume_broadcast_enable = 0;
    CHECK(ons_admin_update_subscription_group(admin, cluster, &config, &written));
    EXPECT(written->count == masters, "group written to %zu brokers", written->count);
    CHECK(ons_admin_string_list_free(written));
    ons_admin_subscription_group_list_t *groups = NULL;
    CHECK(ons_admin_list_subscription_groups(admin, cluster, &groups));
    EXPECT(groups->count == masters, "groups of %zu brokers", groups->count);
    for (size_t i = 0; i < groups->count; i++) {
        const ons_admin_subscription_group_t *g = find_group(&groups->brokers[i], group);
        EXPECT(g != NULL, "%s not on %s", group, groups->brokers[i].broker_name);
        EXPECT(g->retry_max_times == 5 && g->consume_broadcast_enable == 0 && g->consume_enable == 1,
               "%s on %s: %d retries, broadcast %d", group, groups->brokers[i].broker_name, g->retry_max_times,
               g->consume_broadcast_enable);
    }
    CHECK(ons_admin_subscription_group_list_free(groups));

    /* A consumer of the group consumes the three. */
    atomic_init(&consumed, 0);
    ons_properties_t *cprops = example_properties(group);
    CHECK(ons_properties_set(cprops, ONS_PROPERTY_CONSUME_FROM_WHERE, ONS_CONSUME_FROM_FIRST_OFFSET));
    ons_consumer_t *consumer = NULL;
    CHECK(ons_consumer_new(cprops, &consumer));
    CHECK(ons_consumer_subscribe(consumer, topic, "*", on_message, NULL));
    CHECK(ons_consumer_start(consumer));
    EXPECT(wait_for(&consumed, MESSAGES, 60), "consumed %d", atomic_load(&consumed));

    /* Online: its connection, its running info, and a message consumed directly. */
    ons_admin_consumer_connections_t *connections = NULL;
    CHECK(ons_admin_consumer_connections(admin, group, &connections));
    EXPECT(connections->client_count == 1, "%zu clients", connections->client_count);
    EXPECT(connections->subscription_count >= 1 && connections->consume_type != NULL &&
               strcmp(connections->consume_type, "CONSUME_PASSIVELY") == 0 && connections->message_model != NULL &&
               strcmp(connections->message_model, "CLUSTERING") == 0,
           "subscriptions %zu, type %s", connections->subscription_count, connections->consume_type);
    int subscribed = 0;
    for (size_t i = 0; i < connections->subscription_count; i++) {
        subscribed |= strcmp(connections->subscriptions[i].topic, topic) == 0 &&
                      strcmp(connections->subscriptions[i].sub_string, "*") == 0;
    }
    EXPECT(subscribed, "no subscription of %s", topic);
    char client_id[256];
    snprintf(client_id, sizeof client_id, "%s", connections->clients[0].client_id);
    EXPECT(connections->clients[0].addr_count >= 1, "client seen by %zu brokers", connections->clients[0].addr_count);
    CHECK(ons_admin_consumer_connections_free(connections));

    ons_admin_running_info_t *info = NULL;
    CHECK(ons_admin_consumer_running_info(admin, group, client_id, &info));
    int has_topic = 0, has_group_property = 0;
    for (size_t i = 0; i < info->subscription_count; i++) {
        has_topic |= strcmp(info->subscriptions[i].topic, topic) == 0;
    }
    for (size_t i = 0; i < info->property_count; i++) {
        has_group_property |= strcmp(info->properties[i].key, "consumerGroup") == 0 &&
                              strcmp(info->properties[i].value, group) == 0;
    }
    EXPECT(has_topic && has_group_property && info->queue_count > 0, "running info: topic %d, group %d, %zu queues",
           has_topic, has_group_property, info->queue_count);
    CHECK(ons_admin_running_info_free(info));

    ons_admin_direct_consume_result_t *direct = NULL;
    CHECK(ons_admin_consume_message_directly(admin, group, client_id, topic, ids[0], &direct));
    EXPECT(direct->result == ONS_ADMIN_CR_SUCCESS && strcmp(direct->result_name, "CR_SUCCESS") == 0,
           "directly: %d %s (%s)", direct->result, direct->result_name, direct->remark);
    CHECK(ons_admin_direct_consume_result_free(direct));
    EXPECT(atomic_load(&consumed) == MESSAGES + 1, "listener ran %d times", atomic_load(&consumed));

    /* Offline (destroy commits the offsets): nothing left to consume, the message consumed. */
    CHECK(ons_consumer_destroy(consumer));
    ons_properties_free(cprops);
    ons_admin_consume_stats_t *progress = NULL;
    CHECK(ons_admin_consume_stats(admin, group, topic, &progress));
    int64_t committed = 0;
    for (size_t i = 0; i < progress->count; i++) {
        committed += progress->queues[i].consumer_offset;
    }
    EXPECT(progress->total_lag == 0 && committed == MESSAGES, "lag %lld, committed %lld",
           (long long)progress->total_lag, (long long)committed);
    CHECK(ons_admin_consume_stats_free(progress));

    ons_admin_message_track_list_t *tracks = NULL;
    CHECK(ons_admin_message_track(admin, topic, ids[0], &tracks));
    int tracked = 0;
    for (size_t i = 0; i < tracks->count; i++) {
        if (strcmp(tracks->items[i].group, group) == 0) {
            tracked = 1;
            EXPECT(tracks->items[i].track_type == ONS_ADMIN_TRACK_NOT_ONLINE &&
                       strcmp(tracks->items[i].track_type_name, "NOT_ONLINE") == 0,
                   "track %s (%s)", tracks->items[i].track_type_name, tracks->items[i].error);
        }
    }
    EXPECT(tracked, "%s not among %zu tracks", group, tracks->count);
    CHECK(ons_admin_message_track_list_free(tracks));
    ons_admin_string_list_t *consumers = NULL;
    CHECK(ons_admin_groups_of_topic(admin, topic, &consumers));
    EXPECT(list_has(consumers, group), "%s not among %zu groups of the topic", group, consumers->count);
    CHECK(ons_admin_string_list_free(consumers));

    /* Back to the earliest: every message is to be consumed again. */
    ons_admin_queue_offset_list_t *reset = NULL;
    CHECK(ons_admin_reset_offsets(admin, group, topic, ONS_ADMIN_RESET_TO_EARLIEST, 0, &reset));
    EXPECT(reset->count == 4 * masters, "reset %zu queues", reset->count);
    for (size_t i = 0; i < reset->count; i++) {
        EXPECT(reset->items[i].offset == 0, "%s:%d reset to %lld", reset->items[i].broker_name,
               reset->items[i].queue_id, (long long)reset->items[i].offset);
    }
    CHECK(ons_admin_queue_offset_list_free(reset));
    CHECK(ons_admin_consume_stats(admin, group, topic, &progress));
    EXPECT(progress->total_lag == MESSAGES, "lag %lld after the reset", (long long)progress->total_lag);
    CHECK(ons_admin_consume_stats_free(progress));

    /* Deleting the group and the topic. */
    ons_admin_string_list_t *told = NULL;
    CHECK(ons_admin_delete_subscription_group(admin, cluster, group, 1, &told));
    EXPECT(told->count == masters, "group deleted on %zu brokers", told->count);
    CHECK(ons_admin_string_list_free(told));
    CHECK(ons_admin_list_subscription_groups(admin, cluster, &groups));
    for (size_t i = 0; i < groups->count; i++) {
        EXPECT(find_group(&groups->brokers[i], group) == NULL, "%s still on %s", group,
               groups->brokers[i].broker_name);
    }
    CHECK(ons_admin_subscription_group_list_free(groups));
    CHECK(ons_admin_delete_topic(admin, cluster, topic));
    EXPECT(ons_admin_topic_route(admin, topic, &route) == ONS_ERR_TOPIC_NOT_FOUND, "a route after deletion: %s",
           ons_last_error_message());

    CHECK(ons_admin_destroy(admin));
    ons_properties_free(props);
    printf("admin: every operation checked on %zu master(s) of %s\n", masters, cluster);
    return 0;
}
