//! The remoting ACL signature (Apache `AclClientRPCHook`; ACL 1.0 and 2.0 verify it the same
//! way), computed over a request's finished ext fields and body.
//!
//! Rule (docs/remoting-protocol.md §8): add `AccessKey` (and `SecurityToken` with STS
//! credentials, and `OnsChannel` when set, as the ONS Java SDK's `ClientRPCHook` does), take every ext field except `Signature`, sort by name in Java `String` order,
//! concatenate the values only, UTF-8 encode, append the raw body, HMAC-SHA1 with the secret key,
//! standard padded Base64. The result goes into `Signature`.
//!
//! The broker recomputes the content from every field it receives, so signing must be the last
//! change to the ext fields. The one documented exception is `_UNIQUE_KEY_QUERY` on
//! QUERY_MESSAGE, which the caller adds after signing (and sends with version 399).

use super::{hmac_sha1_base64, sorted_pairs, Credentials, Param};
use crate::protocol::ext_fields::ExtFields;

/// Ext field carrying the access key.
pub const ACCESS_KEY: &str = "AccessKey";
/// Ext field carrying the STS security token, present only with STS credentials.
pub const SECURITY_TOKEN: &str = "SecurityToken";
/// Ext field the ONS Java SDK adds (and signs) on every signed request; see
/// [`Credentials::ons_channel`](super::Credentials::ons_channel).
pub const ONS_CHANNEL: &str = "OnsChannel";
/// Ext field carrying the signature; it is never part of the signed content.
pub const SIGNATURE: &str = "Signature";

/// The bytes that are signed: the values of all fields except `Signature`, in Java order of
/// their names, then the body. `ext_fields` is used as given (it should already contain
/// `AccessKey`); names are expected to be unique, as in a map.
pub fn content<I>(ext_fields: I, body: &[u8]) -> Vec<u8>
where
    I: IntoIterator,
    I::Item: Param,
{
    let mut data = Vec::new();
    for param in sorted_pairs(ext_fields) {
        if param.name() != SIGNATURE {
            data.extend_from_slice(param.value().as_bytes());
        }
    }
    data.extend_from_slice(body);
    data
}

/// The signature over `ext_fields` exactly as given (no `AccessKey` is added).
pub fn signature_over<I>(ext_fields: I, body: &[u8], secret_key: &str) -> String
where
    I: IntoIterator,
    I::Item: Param,
{
    hmac_sha1_base64(secret_key.as_bytes(), &content(ext_fields, body))
}

/// The signature of a request whose ext fields are `ext_fields`, as if `AccessKey` (and
/// `SecurityToken` and `OnsChannel`, when the credentials have them) had been set from
/// `credentials` first.
/// Fields of those names in `ext_fields` are replaced, matching Java's `addExtField`; a
/// `SecurityToken` already present is kept when the credentials have none, as Java does.
pub fn signature<I>(ext_fields: I, body: &[u8], credentials: &Credentials) -> String
where
    I: IntoIterator,
    I::Item: Param,
{
    let fields: Vec<I::Item> = ext_fields.into_iter().collect();
    let token = credentials.security_token.as_deref();
    let channel = credentials.ons_channel.as_deref();
    let mut effective: Vec<(&str, &str)> = fields
        .iter()
        .map(|p| (p.name(), p.value()))
        .filter(|(k, _)| {
            *k != ACCESS_KEY && !(token.is_some() && *k == SECURITY_TOKEN) && !(channel.is_some() && *k == ONS_CHANNEL)
        })
        .collect();
    effective.push((ACCESS_KEY, &credentials.access_key));
    if let Some(token) = token {
        effective.push((SECURITY_TOKEN, token));
    }
    if let Some(channel) = channel {
        effective.push((ONS_CHANNEL, channel));
    }
    signature_over(effective, body, &credentials.secret_key)
}

/// Signs a request in place: inserts `AccessKey`, `SecurityToken` (STS only), `OnsChannel`
/// (when set) and `Signature`
/// into `ext_fields` and returns the signature. Any old `Signature` is ignored and replaced.
pub fn sign(ext_fields: &mut ExtFields, body: &[u8], credentials: &Credentials) -> String {
    ext_fields.insert(ACCESS_KEY, &credentials.access_key);
    if let Some(token) = &credentials.security_token {
        ext_fields.insert(SECURITY_TOKEN, token);
    }
    if let Some(channel) = &credentials.ons_channel {
        ext_fields.insert(ONS_CHANNEL, channel);
    }
    let signature = signature_over(&*ext_fields, body, &credentials.secret_key);
    ext_fields.insert(SIGNATURE, &signature);
    signature
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> ExtFields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    // The examples of docs/remoting-protocol.md §8, re-derived with Python's hmac/hashlib/base64.
    const VECTOR1: &str = "GeeGoP9mRvDhoVp4PD5omX0prgE=";
    const VECTOR2: &str = "kUhrtpVsGNrGuX+7uEqnAZ94i7w=";

    #[test]
    fn vector_without_body() {
        let ext = map(&[("topic", "TopicTest"), (ACCESS_KEY, "rocketmq2")]);
        assert_eq!(content(&ext, b""), b"rocketmq2TopicTest");
        assert_eq!(signature_over(&ext, b"", "12345678"), VECTOR1);
    }

    #[test]
    fn vector_with_token_and_body() {
        let ext = map(&[(ACCESS_KEY, "rocketmq2"), (SECURITY_TOKEN, "tok"), ("consumerGroup", "G1")]);
        let body = br#"{"a":1}"#;
        assert_eq!(content(&ext, body), br#"rocketmq2tokG1{"a":1}"#);
        assert_eq!(signature_over(&ext, body, "12345678"), VECTOR2);
    }

    #[test]
    fn signature_adds_access_key_and_token() {
        let creds = Credentials::new("rocketmq2", "12345678");
        assert_eq!(signature([("topic", "TopicTest")], b"", &creds), VECTOR1);
        // A stale AccessKey in the input is replaced, not signed twice.
        assert_eq!(signature([("topic", "TopicTest"), (ACCESS_KEY, "old")], b"", &creds), VECTOR1);

        let sts = creds.with_security_token("tok");
        let ext = [("consumerGroup", "G1"), (SECURITY_TOKEN, "stale")];
        assert_eq!(signature(ext, br#"{"a":1}"#, &sts), VECTOR2);
    }

    #[test]
    fn sign_inserts_three_fields() {
        let creds = Credentials::new("rocketmq2", "12345678").with_security_token("tok");
        let mut ext = map(&[("consumerGroup", "G1"), (SIGNATURE, "leftover")]);
        let sig = sign(&mut ext, br#"{"a":1}"#, &creds);
        assert_eq!(sig, VECTOR2);
        assert_eq!(
            ext,
            map(&[(ACCESS_KEY, "rocketmq2"), (SECURITY_TOKEN, "tok"), ("consumerGroup", "G1"), (SIGNATURE, VECTOR2),])
        );
        // Re-signing a signed map is stable: the Signature field is never signed.
        assert_eq!(sign(&mut ext, br#"{"a":1}"#, &creds), VECTOR2);
    }

    // `OnsChannel` is signed like any other field (sorted between `AccessKey` and
    // `SecurityToken`); vectors re-derived with Python's hmac/hashlib/base64 over the content shown.
    const VECTOR_CHANNEL: &str = "0XYycYsYUNjJTDiq5JgUg/P0VC4=";
    const VECTOR_CHANNEL_TOKEN: &str = "7CDBJdA8WPmdnnU+6WGtM/2G4bI=";

    #[test]
    fn ons_channel_is_added_and_signed() {
        let creds = Credentials::new("rocketmq2", "12345678").with_ons_channel("ALIYUN");
        let mut ext = map(&[("topic", "TopicTest")]);
        assert_eq!(sign(&mut ext, b"", &creds), VECTOR_CHANNEL);
        assert_eq!(content(&ext, b""), b"rocketmq2ALIYUNTopicTest");
        assert_eq!(ext.get(ONS_CHANNEL), Some("ALIYUN"));
        // A stale OnsChannel in the input is replaced by the credentials' one.
        assert_eq!(signature([("topic", "TopicTest"), (ONS_CHANNEL, "ALL")], b"", &creds), VECTOR_CHANNEL);

        let sts = Credentials::new("rocketmq2", "12345678").with_security_token("tok").with_ons_channel("CLOUD");
        let mut ext = map(&[("consumerGroup", "G1")]);
        let body = br#"{"a":1}"#;
        assert_eq!(sign(&mut ext, body, &sts), VECTOR_CHANNEL_TOKEN);
        assert_eq!(content(&ext, body), br#"rocketmq2CLOUDtokG1{"a":1}"#);
        assert_eq!(signature([("consumerGroup", "G1")], body, &sts), VECTOR_CHANNEL_TOKEN);
    }

    #[test]
    fn sort_is_by_name_not_value_and_uppercase_first() {
        let ext = [("b", "1"), ("B", "2"), ("a", "3"), ("_x", "4")];
        // B (0x42) < _x (0x5F) < a (0x61) < b (0x62); the body is appended raw.
        assert_eq!(content(ext, b"\x00\xff"), b"2431\x00\xff");
    }
}
