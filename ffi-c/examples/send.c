/*
 * Synchronous and oneway sends with a Producer; the stored message is read back with the
 * admin API and compared byte for byte (the body holds NUL and non-UTF-8 bytes).
 */
#include "example_util.h"

int main(void) {
    char topic[96];
    unique_name(topic, sizeof topic, "ffi_send");
    create_topic(topic, 4);

    ons_properties_t *props = example_properties("GID_ffi_send");
    CHECK(ons_properties_set(props, ONS_PROPERTY_SEND_MSG_TIMEOUT_MILLIS, "5000"));
    ons_producer_t *producer = NULL;
    CHECK(ons_producer_new(props, &producer));
    CHECK(ons_producer_start(producer));

    static const uint8_t body[] = {'h', 'i', 0, 0xff, 0xfe, '\n', 0};
    ons_message_t *msg = NULL;
    CHECK(ons_message_new(topic, "TagA", body, sizeof body, &msg));
    CHECK(ons_message_set_key(msg, "ORDERID_100"));
    CHECK(ons_message_put_user_property(msg, "region", "hangzhou"));

    ons_send_result_t *result = NULL;
    CHECK(ons_producer_send(producer, msg, &result));
    const char *msg_id = NULL, *offset_id = NULL;
    CHECK(ons_send_result_message_id(result, &msg_id));
    CHECK(ons_send_result_offset_msg_id(result, &offset_id));
    printf("sent %s (stored as %s)\n", msg_id, offset_id);

    /* Oneway: no answer, no result. */
    CHECK(ons_producer_send_oneway(producer, msg));

    /*
     * Credential rotation (ONS updateCredential): a map without AccessKey is refused naming it;
     * with both keys, later requests are signed with them. The test cluster checks no
     * signature, so sends simply go on (the Rust suite covers rotation under ACL).
     */
    ons_properties_t *credentials = NULL;
    CHECK(ons_properties_new(&credentials));
    CHECK(ons_properties_set(credentials, ONS_PROPERTY_SECRET_KEY, "rotated-secret"));
    int32_t rc = ons_producer_update_credential(producer, credentials);
    int refused = rc == ONS_ERR_INVALID_CONFIG && strstr(ons_last_error_message(), "AccessKey") != NULL;
    printf("rotation without AccessKey: %s\n", refused ? ons_last_error_message() : "NOT REFUSED");
    CHECK(ons_properties_set(credentials, ONS_PROPERTY_ACCESS_KEY, "rotated-key"));
    CHECK(ons_producer_update_credential(producer, credentials));
    ons_send_result_t *rotated = NULL;
    CHECK(ons_producer_send(producer, msg, &rotated));
    ons_send_result_free(rotated);
    ons_properties_free(credentials);

    /* Read the stored message back. */
    ons_properties_t *admin_props = example_properties("GID_ffi_send");
    ons_admin_t *admin = NULL;
    CHECK(ons_admin_new(admin_props, &admin));
    ons_message_t *stored = NULL;
    CHECK(ons_admin_view_message(admin, topic, offset_id, &stored));
    const uint8_t *data = NULL;
    size_t len = 0;
    const char *tag = NULL, *key = NULL, *region = NULL, *stored_id = NULL;
    CHECK(ons_message_body(stored, &data, &len));
    CHECK(ons_message_tag(stored, &tag));
    CHECK(ons_message_key(stored, &key));
    CHECK(ons_message_user_property(stored, "region", &region));
    CHECK(ons_message_msg_id(stored, &stored_id));
    int ok = refused && len == sizeof body && memcmp(data, body, len) == 0 && strcmp(tag, "TagA") == 0 &&
             strcmp(key, "ORDERID_100") == 0 && region != NULL && strcmp(region, "hangzhou") == 0 &&
             strcmp(stored_id, msg_id) == 0;
    printf("read back: %zu bytes, tag %s, key %s, region %s: %s\n", len, tag, key, region,
           ok ? "identical" : "DIFFERENT");

    ons_message_free(stored);
    ons_admin_destroy(admin);
    ons_properties_free(admin_props);
    ons_send_result_free(result);
    ons_message_free(msg);
    CHECK(ons_producer_shutdown(producer));
    ons_producer_destroy(producer);
    ons_properties_free(props);
    return ok ? 0 : 1;
}
