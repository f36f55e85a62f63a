//! Request signing as pure functions with fixed test vectors: the remoting ACL signature
//! (broker AccessKey/SecretKey), the RocketMQ Open API `_signature`, and the POP-style ASAPI
//! gateway signature.
//!
//! Nothing here does I/O. The only inputs that are not plain arguments are the clock and the
//! random nonce of the ASAPI signature, and both have injectable variants so that every
//! signature can be reproduced in a test.
//!
//! This module owns the [`Credentials`] type shared by all three schemes and the two rules they
//! have in common: HMAC over UTF-8 bytes with a standard, padded Base64 result, and sorting
//! parameter names the way the Java servers do ([`java_string_cmp`]).

pub mod acl;
pub mod open_api;
pub mod pop;

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};

/// An access key pair, optionally with an STS security token.
///
/// The same pair signs remoting requests (`AccessKey` / `SecretKey` in ACL terms), Open API
/// calls (`_accesskey`) and ASAPI calls (`AccessKeyId` / `AccessKeySecret`).
///
/// `Debug` prints the access key but never the secret key or the token, so a credentials value
/// can sit inside a logged configuration struct without leaking.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub security_token: Option<String>,
    /// The `OnsChannel` ext field the ONS Java SDK adds to every signed request (its
    /// `ClientRPCHook` sends `ONSChannel.name()`, `ALIYUN` unless the `OnsChannel` property
    /// says otherwise); `None` sends no such field, as Apache's `AclClientRPCHook` does.
    pub ons_channel: Option<String>,
}

impl Credentials {
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: None,
            ons_channel: None,
        }
    }

    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    pub fn with_ons_channel(mut self, channel: impl Into<String>) -> Self {
        self.ons_channel = Some(channel.into());
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field("security_token", &self.security_token.as_ref().map(|_| "***"))
            .field("ons_channel", &self.ons_channel)
            .finish()
    }
}

/// Every server that checks these signatures is Java and sorts names with a `TreeMap` or
/// `Arrays.sort`, i.e. by UTF-16 code units; the same order the protocol code uses for queues.
pub use crate::protocol::java_hash::java_string_cmp;

/// One name/value pair of a request (an ext field, a query parameter).
///
/// Implemented for `(K, V)` and `&(K, V)` with string-like `K` and `V`, so the signing
/// functions take arrays and `Vec`s of pairs by value or by reference, and maps by reference
/// (`&BTreeMap<String, String>` yields `(&String, &String)`).
pub trait Param {
    fn name(&self) -> &str;
    fn value(&self) -> &str;
}

impl<K: AsRef<str>, V: AsRef<str>> Param for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }
    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Param for &(K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }
    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

/// Collects parameters and sorts them by name in Java order (stable, so equal names keep their
/// input order).
fn sorted_pairs<I>(params: I) -> Vec<I::Item>
where
    I: IntoIterator,
    I::Item: Param,
{
    let mut params: Vec<I::Item> = params.into_iter().collect();
    params.sort_by(|a, b| java_string_cmp(a.name(), b.name()));
    params
}

pub(crate) fn hmac_sha1_base64(key: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    BASE64.encode(mac.finalize().into_bytes())
}

pub(crate) fn hmac_sha256_base64(key: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    BASE64.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret_and_token() {
        let creds = Credentials::new("rocketmq2", "12345678").with_security_token("tok-secret");
        let printed = format!("{creds:?}");
        assert!(printed.contains("rocketmq2"), "{printed}");
        assert!(!printed.contains("12345678"), "{printed}");
        assert!(!printed.contains("tok-secret"), "{printed}");
        assert_eq!(
            printed,
            r#"Credentials { access_key: "rocketmq2", secret_key: "***", security_token: Some("***"), ons_channel: None }"#
        );
        let pretty = format!("{creds:#?}");
        assert!(!pretty.contains("12345678") && !pretty.contains("tok-secret"));

        let without = format!("{:?}", Credentials::new("ak", "sk-value"));
        assert!(without.ends_with(r#"secret_key: "***", security_token: None, ons_channel: None }"#));
        assert!(!without.contains("sk-value"));
    }

    #[test]
    fn java_order_is_utf16_order() {
        use std::cmp::Ordering;
        // ASCII: byte order, uppercase before lowercase, '_' between them.
        assert_eq!(java_string_cmp("AccessKey", "SecurityToken"), Ordering::Less);
        assert_eq!(java_string_cmp("SecurityToken", "consumerGroup"), Ordering::Less);
        assert_eq!(java_string_cmp("__preventCache", "_accesskey"), Ordering::Less);
        assert_eq!(java_string_cmp("a", "ab"), Ordering::Less);
        // U+FF21 (fullwidth A) is one code unit 0xFF21; U+1F600 is the pair D83D DE00, so Java
        // puts the emoji first even though its code point (and UTF-8 bytes) are larger.
        assert_eq!(java_string_cmp("\u{1F600}", "\u{FF21}"), Ordering::Less);
        assert_eq!("\u{1F600}".cmp("\u{FF21}"), Ordering::Greater);
    }

    #[test]
    fn hmac_known_answers() {
        // RFC 2202 test case 2 and RFC 4231 test case 2.
        assert_eq!(hmac_sha1_base64(b"Jefe", b"what do ya want for nothing?"), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
        assert_eq!(
            hmac_sha256_base64(b"Jefe", b"what do ya want for nothing?"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
    }
}
